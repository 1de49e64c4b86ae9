"""Past one machine: the exact enumeration sharded over processes and GPUs (torch.distributed).

The same computations as :func:`exactmd.information_profile` and
:func:`exactmd.enumeration.subset_entropies`, run by every rank of a process group (NCCL on
GPUs, gloo on CPUs), launched with ``torchrun``. The masked enumeration is cut into blocks
over leading axes; each rank builds its own blocks (from a model's factors where the model
has them, so no rank holds the joint), sums the masked blocks with point-to-point sends, and
one all-gather of per-block rows gives the result on every rank, in a fixed reduction order
(bit-identical for any number of ranks).

- :class:`Distributed` — join the process group (and leave it), with a finite timeout;
  :class:`DistributedError` when a collective fails;
- :func:`information_profile`, :func:`mean_subset_entropies`, :func:`subset_entropies` — the
  sharded calls (:mod:`exactmd.distributed.engine`);
- :class:`FactorSource`, :class:`TableSource`, :func:`source_from_spec`,
  :func:`source_from_pgmpy` — where a rank's slices come from
  (:mod:`exactmd.distributed.sources`);
- :class:`ShardPlan`, :func:`plan_shards` — the memory plan per rank, before any allocation
  (:mod:`exactmd.distributed.plan`);
- :func:`scaling_model`, :class:`ScalingEstimate` — the time on R devices from one device's
  measured throughput and the collectives' volume (:mod:`exactmd.distributed.scaling`).

Command line: ``torchrun --nproc-per-node R -m exactmd.distributed profile MODEL --out
f.json`` (``exactmd.distributed.__main__``). torch.distributed is imported only when a
group is joined.
"""

from exactmd.distributed._group import DEFAULT_TIMEOUT_S as DEFAULT_TIMEOUT_S
from exactmd.distributed._group import Distributed as Distributed
from exactmd.distributed._group import DistributedError as DistributedError
from exactmd.distributed.engine import information_profile as information_profile
from exactmd.distributed.engine import mean_subset_entropies as mean_subset_entropies
from exactmd.distributed.engine import subset_entropies as subset_entropies
from exactmd.distributed.plan import ShardPlan as ShardPlan
from exactmd.distributed.plan import plan_shards as plan_shards
from exactmd.distributed.scaling import ScalingEstimate as ScalingEstimate
from exactmd.distributed.scaling import scaling_model as scaling_model
from exactmd.distributed.sources import FactorSource as FactorSource
from exactmd.distributed.sources import TableSource as TableSource
from exactmd.distributed.sources import source_from_pgmpy as source_from_pgmpy
from exactmd.distributed.sources import source_from_spec as source_from_spec

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "Distributed",
    "DistributedError",
    "FactorSource",
    "ScalingEstimate",
    "ShardPlan",
    "TableSource",
    "information_profile",
    "mean_subset_entropies",
    "plan_shards",
    "scaling_model",
    "source_from_pgmpy",
    "source_from_spec",
    "subset_entropies",
]
