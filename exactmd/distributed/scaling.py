"""A model of the sharded run's time on R devices, from one device's measured throughput.

The exact work is the masked enumeration: ``Π_i (q_i + 1)`` cells (``3^N`` for a binary
law), each produced, logged and reduced a few times in memory. Cut into ``B`` blocks over the
shard axes (:mod:`exactmd.distributed.plan`), every block holds ``Π_{i>=s} (q_i + 1)`` of
those cells and rank ``b mod R`` enumerates block ``b``, so the busiest rank does
``⌈B/R⌉`` blocks. The collectives move, per rank, the blocks it receives while the masked
blocks are summed (counted exactly for the owner rule) and one all-gather of the per-block
rows at the end. :func:`scaling_model` adds the three:

``T(R) = ⌈B/R⌉ · cells_per_block / cells_per_s + max_r recv_bytes(r) / link_bytes_per_s
+ gather_bytes / link_bytes_per_s + messages · latency_s + startup_s``

with ``cells_per_s`` one device's throughput in masked cells per second (measure it with one
process: ``Π (q_i + 1) / time`` of :func:`exactmd.information_profile`), ``link_bytes_per_s``
the bandwidth between two ranks and ``startup_s`` the launch and group set-up. It ignores
the overlap of transfers with compute (transfers come first, then the blocks) and any
slowdown of a device shared by several ranks: on one 2-core CPU, two ranks split the same two
cores, and the model, given the 1-rank throughput, is optimistic by that factor.

Examples
--------
>>> est = scaling_model((2,) * 32, 8, cells_per_s=5e10, link_bytes_per_s=1.5e11)
>>> est.shard_axes, est.blocks_per_rank
(4, 11)
>>> round(est.compute_s / 3600, 2), round(est.transfer_s, 1)
(1.4, 0.3)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil, prod

from exactmd._validate import check_choice, check_int, check_real
from exactmd.distributed.plan import OPERATIONS, _default_axes, _grid
from exactmd.errors import ValidationError

__all__ = ["ScalingEstimate", "scaling_model", "receive_bytes"]


@dataclass(frozen=True)
class ScalingEstimate:
    """The predicted time of a sharded run (seconds).

    Attributes
    ----------
    ranks, shard_axes, blocks, blocks_per_rank : int
        R, s, B and ``⌈B/R⌉``.
    compute_s, transfer_s, gather_s, startup_s : float
        The busiest rank's enumeration, its receives of the masked sums, the final
        all-gather (with the messages' latency), and the fixed start-up.
    total_s : float
        Their sum.
    single_s : float
        One device's time on the whole law (``Π (q_i+1) / cells_per_s``), for the speed-up.
    """

    ranks: int
    shard_axes: int
    blocks: int
    blocks_per_rank: int
    compute_s: float
    transfer_s: float
    gather_s: float
    startup_s: float
    total_s: float
    single_s: float

    @property
    def speedup(self) -> float:
        """``single_s / total_s``."""
        return self.single_s / self.total_s

    @property
    def efficiency(self) -> float:
        """``speedup / ranks``."""
        return self.speedup / self.ranks


def receive_bytes(
    shape: Sequence[int], shard_axes: int, ranks: int, itemsize: int = 8
) -> tuple[list[int], int]:
    """Bytes each rank receives while the masked blocks are summed, and the number of sends.

    Examples
    --------
    >>> receive_bytes((2, 2, 2), 1, 2)  # block 2 (x_0 masked, rank 0) gets block 1 (rank 1)
    ([32, 0], 1)
    """
    head = tuple(int(q) for q in shape[:shard_axes])
    cells = prod(int(q) for q in shape[shard_axes:])
    grid = _grid(head)
    flat = {y: b for b, y in enumerate(grid)}
    recv = [0] * ranks
    sends = 0
    for b, y in enumerate(grid):
        masked = [i for i, v in enumerate(y) if v == head[i]]
        if not masked:
            continue
        j = masked[0]
        for v in range(head[j]):
            c = flat[tuple(v if i == j else y[i] for i in range(len(y)))]
            if c % ranks != b % ranks:
                recv[b % ranks] += cells * itemsize
                sends += 1
    return recv, sends


def scaling_model(
    shape: Sequence[int],
    ranks: int,
    cells_per_s: float,
    *,
    link_bytes_per_s: float = 1.5e11,
    latency_s: float = 2e-5,
    startup_s: float = 0.0,
    shard_axes: int | None = None,
    operation: str = "profile",
    itemsize: int = 8,
) -> ScalingEstimate:
    """Predict the time of a sharded run on ``ranks`` devices (see the module docstring).

    Parameters
    ----------
    shape
        ``(q_0, …, q_{N-1})``.
    ranks
        R.
    cells_per_s
        One device's measured throughput, masked cells per second.
    link_bytes_per_s
        Bandwidth between two ranks (default 1.5e11: NVLink between GPUs of one node, as
        NCCL's point-to-point reaches it; about 2.5e10 for InfiniBand NDR between nodes).
    latency_s
        Per message.
    startup_s
        Launch and process-group set-up (measured: a few seconds for gloo on a CPU).
    shard_axes
        As in :func:`~exactmd.distributed.plan_shards` (default: the same rule).
    operation
        One of :data:`~exactmd.distributed.plan.OPERATIONS` (what the final all-gather
        carries).
    itemsize
        Bytes per cell (8: float64).

    Examples
    --------
    >>> est = scaling_model((2,) * 20, 1, cells_per_s=5e8)
    >>> est.shard_axes, round(est.total_s, 2), round(est.speedup, 2)
    (1, 6.97, 1.0)
    """
    shape = tuple(int(q) for q in shape)
    n = len(shape)
    if n == 0 or any(q < 1 for q in shape):
        raise ValidationError(f"shape: must have axes of size >= 1; received {shape!r}")
    r = check_int(ranks, "ranks", minimum=1)
    theta = check_real(cells_per_s, "cells_per_s", minimum=0, open_min=True)
    link = check_real(link_bytes_per_s, "link_bytes_per_s", minimum=0, open_min=True)
    lat = check_real(latency_s, "latency_s", minimum=0)
    start = check_real(startup_s, "startup_s", minimum=0)
    check_choice(operation, "operation", OPERATIONS)
    size = check_int(itemsize, "itemsize", minimum=1)
    s = _default_axes(shape, r) if shard_axes is None else check_int(shard_axes, "shard_axes")
    if not 0 <= s < n:
        raise ValidationError(f"shard_axes: must lie in range({n}); received {shard_axes!r}")
    blocks = prod(q + 1 for q in shape[:s])
    per_rank = ceil(blocks / r)
    block_cells = prod(q + 1 for q in shape[s:])
    compute = per_rank * block_cells / theta
    recv, sends = receive_bytes(shape, s, r, size) if r > 1 else ([0], 0)
    width = n + 1 if operation == "profile" else 2 ** (n - s)
    gather_bytes = (r - 1) * per_rank * width * 8 if r > 1 else 0
    transfer = max(recv) / link + sends * lat / r
    gather = gather_bytes / link + (3 * lat if r > 1 else 0.0)
    single = prod(q + 1 for q in shape) / theta
    total = compute + transfer + gather + start
    return ScalingEstimate(r, s, blocks, per_rank, compute, transfer, gather, start, total, single)
