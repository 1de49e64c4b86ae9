"""The samplers the field runs (LLaDA, Fast-dLLM, Dream, MDLM, the EB-sampler, diffusers'
block refinement) as schedules with exact laws.

Each builder returns a :class:`~exactmd.samplers.base.SamplerSchedule` that works unchanged
with :func:`exactmd.output_distribution` (the exact law), :func:`exactmd.sample` (a Monte Carlo
run of the real algorithm), :func:`exactmd.kl`, :func:`exactmd.check_bound` and the testing
asserts. Value-independent samplers also have E_fact and E_learn; sample-then-select samplers
refuse them with a clear :class:`~exactmd.errors.ScheduleError`. The semantics follow
``SAMPLERS.md`` (sources, commits and quirks), summarised in each module.

- :mod:`exactmd.samplers.base` — the interface a sampler implements (its records in
  ``_records``), the engine in ``_engine``;
- :mod:`exactmd.samplers.llada` — LLaDA (``low_confidence`` and ``random`` remasking);
- :mod:`exactmd.samplers.fast_dllm` — Fast-dLLM's ``generate`` (``threshold``, ``factor``, or
  LLaDA's top-k sizes; rounds until each block is full, so a random number of calls);
- :mod:`exactmd.samplers.dream` — Dream's ``_sample`` (``origin``, ``maskgit_plus``,
  ``topk_margin``, ``entropy``; top-p/top-k filtering, Plackett–Luce ``alg_temp``);
- :mod:`exactmd.samplers.mdlm` — MDLM's ``ddpm_cache`` sampler (Bernoulli reveals on its float32
  time grid, noise removal, cached calls);
- :mod:`exactmd.samplers.eb` — the EB-sampler (entropy-bounded unmasking, UNI-D2);
- :mod:`exactmd.samplers.block_refinement` — diffusers' ``BlockRefinementScheduler`` as
  ``LLaDA2Pipeline`` drives it (quota ∪ threshold);
- :mod:`exactmd.samplers.compare` — :func:`nfe_distribution` (the exact law of the number of
  denoiser calls) and :func:`compare` (schedules side by side: KL, calls, E_fact, the optimum);
- :mod:`exactmd.samplers.spec` — samplers written as text (``llada:steps=4``), for the CLI.

Examples
--------
>>> import numpy as np, exactmd
>>> from exactmd.samplers import llada
>>> p = np.array([[0.4, 0.2], [0.1, 0.3]])
>>> exactmd.output_distribution(p, llada(steps=2, temperature=1.0)).round(4).tolist()
[[0.56, 0.28], [0.04, 0.12]]
"""

from exactmd.samplers._engine import RunLaw as RunLaw
from exactmd.samplers._engine import exact_run as exact_run
from exactmd.samplers.base import SamplerSchedule as SamplerSchedule
from exactmd.samplers.block_refinement import BlockRefinement as BlockRefinement
from exactmd.samplers.block_refinement import block_refinement as block_refinement
from exactmd.samplers.compare import Comparison as Comparison
from exactmd.samplers.compare import ComparisonRow as ComparisonRow
from exactmd.samplers.compare import compare as compare
from exactmd.samplers.compare import nfe_distribution as nfe_distribution
from exactmd.samplers.dream import Dream as Dream
from exactmd.samplers.dream import dream as dream
from exactmd.samplers.eb import EB as EB
from exactmd.samplers.eb import eb as eb
from exactmd.samplers.fast_dllm import FastDLLM as FastDLLM
from exactmd.samplers.fast_dllm import fast_dllm as fast_dllm
from exactmd.samplers.llada import LLaDA as LLaDA
from exactmd.samplers.llada import llada as llada
from exactmd.samplers.mdlm import MDLM as MDLM
from exactmd.samplers.mdlm import mdlm as mdlm
from exactmd.samplers.spec import parse_sampler as parse_sampler

__all__ = [
    "SamplerSchedule",
    "RunLaw",
    "exact_run",
    "llada",
    "fast_dllm",
    "dream",
    "mdlm",
    "eb",
    "block_refinement",
    "nfe_distribution",
    "compare",
    "Comparison",
    "ComparisonRow",
    "parse_sampler",
    # the schedule classes the builders return
    "LLaDA",
    "FastDLLM",
    "Dream",
    "MDLM",
    "EB",
    "BlockRefinement",
]
