"""The memory plan and the chunk sizes of the exact sampler law p_alg
(:mod:`exactmd.sampler.p_alg`).

:func:`sampler_plan` counts, before anything is allocated, the bytes that
:func:`~exactmd.sampler.p_alg.output_distribution` needs and the products it forms, and fixes its
two
chunk sizes, both inspectable on the returned :class:`SamplerPlan`:

- ``chunk_states``: target states per chunk of the level recursion
  (``be.tuning.recursion_chunk_states``, see ``exactmd.backends._tuning.Tuning``). Each
  chunk is one batch of kernels per pattern of new positions, so on the CPU small chunks keep
  the partial sums in cache (2**16 states, 512 KiB of float64), while on CUDA large ones
  (2**23 states) cut the kernel launches: at N = 16, K = 4 (binary, constant sizes) the
  recursion is 2,386 pattern-chunks instead of 61,821, at N = 18 10,579 instead of 941,198
  (about ten kernels each);
- ``table_entries``: entries per chunk of the exact conditional tables
  (``be.tuning.table_chunk_entries``, 2**19 on the CPU, 2**24 on CUDA).

The larger CUDA chunks are counted in the plan (``"chunk temporaries"``: about
:data:`CHUNK_ARRAYS` arrays of a chunk alive at once), so a plan that fits is one that runs.

Examples
--------
>>> import numpy as np
>>> from exactmd.law.distribution import as_distribution
>>> from exactmd.schedules.kinds import as_schedule
>>> d = as_distribution(np.full((2, 2, 2), 1 / 8))
>>> plan = sampler_plan(d, as_schedule([2, 1], 3))
>>> plan.work, plan.chunk_states, plan.table_entries
(36, 65536, 524288)
>>> plan_sampler(d, as_schedule([2, 1], 3)) == (plan.bytes_needed, plan.work)
True
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from math import comb, prod
from typing import Any

from exactmd.errors import ValidationError
from exactmd.law.distribution import Distribution
from exactmd.sampler._levels import check_fits, level_states, masked_bytes
from exactmd.schedules.custom import schedule_method
from exactmd.schedules.kinds import Schedule
from exactmd.schedules.program import LevelProgram, revealed_count

__all__ = [
    "SamplerPlan",
    "sampler_plan",
    "plan_sampler",
    "CHUNK_ARRAYS",
]

#: Arrays of one recursion chunk alive at once: the chunk's partial sums, the running product,
#: a gathered factor and the new product (one more for a factor wider than the product, when
#: the alphabets are mixed).
CHUNK_ARRAYS = 5
_TMP_ARRAYS = 8  # arrays of one exact-table chunk alive at once
_TMP_DENOISER = 12  # arrays of one denoiser batch alive at once


@dataclass(frozen=True)
class SamplerPlan:
    """What :func:`~exactmd.sampler.p_alg.output_distribution` will need and how it will chunk.

    Attributes
    ----------
    bytes_needed : int
        Peak bytes, the sum of ``parts``.
    work : int
        Products formed (one per target state and choice of new positions).
    chunk_states : int
        Target states per chunk of the recursion (a chunk holds whole sets, so it is at least
        one set's value vectors).
    table_entries : int
        Entries per chunk of an exact conditional table.
    parts : dict
        The bytes by part (level states and conditionals, masked tensor, temporaries...).
    """

    bytes_needed: int
    work: int
    chunk_states: int
    table_entries: int
    parts: dict[str, int] = field(default_factory=dict)


def _largest_group(shape: tuple[int, ...], b: int) -> int:
    """An upper bound on the value vectors of one revealed set of size ``b``."""
    return prod(sorted(shape, reverse=True)[:b])


def sampler_plan(
    d: Distribution,
    sched: Schedule,
    denoiser: Any = None,
    *,
    chunk_states: int | None = None,
    table_entries: int | None = None,
) -> SamplerPlan:
    """The :class:`SamplerPlan` of p_alg for ``d`` and ``sched``; raise if it cannot fit.

    The bytes count the state and conditional tensors of the levels alive at once, the
    temporaries of one recursion chunk, the masked-marginal tensor when the exact denoiser
    reads it (``denoiser`` None) and is not cached yet, and the gather plans (for random
    reveal those kept between steps, otherwise those of one step). ``chunk_states`` and
    ``table_entries`` default to the backend's (``be.tuning.recursion_chunk_states`` and
    ``be.tuning.table_chunk_entries``).

    Raises
    ------
    MemoryPlanError
        Naming the bytes needed (with their parts) and the bytes available.
    """
    be = d.backend
    chunk = be.tuning.recursion_chunk_states if chunk_states is None else int(chunk_states)
    entries = be.tuning.table_chunk_entries if table_entries is None else int(table_entries)
    for name, value in (("chunk_states", chunk), ("table_entries", entries)):
        if value < 1:
            raise ValidationError(f"{name}: must be a positive int; received {value}")
    e = level_states(d.shape)
    n, q, item = d.n, d.q, be.itemsize
    plans = 0
    program: LevelProgram = schedule_method(sched, "level_program")(n)
    fixed = isinstance(program.final, tuple)  # one fixed revealed set per step (a partition)
    if fixed:
        sizes: list[int] = [1]
        for (move,) in program.steps:
            assert isinstance(move.target, tuple)  # a fixed set (see LevelProgram)
            sizes.append(prod(d.shape[i] for i in move.target))
        work = sum(sizes[1:])
        peak = max(
            item * (sa * (1 + n * q) + 4 * sb) + 24 * sb for sa, sb in itertools.pairwise(sizes)
        )
        targets = [(len(d.shape), sb) for sb in sizes[1:]]  # a bound on each target's size
        plans = 2 * 8 * (1 + n * n)  # one location and at most n x n offsets
    elif not program.keeps_levels:  # all the mass moves from one full level to the next
        steps = [(revealed_count(m.source), revealed_count(m.target)) for (m,) in program.steps]
        work = sum(e[b] * comb(b, b - a) for a, b in steps)
        peak = max(item * (e[a] * (1 + (n - a) * q) + 4 * e[b]) + 24 * e[b] for a, b in steps)
        targets = [(b, e[b]) for _, b in steps]
        # int64 gather plans of one step (one location per set and pattern, and b x s
        # offset columns), built on the host and copied to the device
        plans = max(2 * 8 * comb(n, b) * (comb(b, b - a) + b * (b - a)) for a, b in steps)
    else:  # the state spreads over every level (random reveal)
        work = 0
        for k, moves in enumerate(program.steps):
            work += sum(
                e[revealed_count(move.target)]
                * comb(revealed_count(move.target), revealed_count(move.new))
                for move in moves
                # the moves the engine makes: before step 1 only level 0 is occupied
                if move.new and move.weight > 0 and (k > 0 or move.source == 0)
            )
        peak = item * sum(e[a] * (3 + (n - a) * q) for a in range(n + 1)) + 24 * max(e)
        # int64 gather plans (one location per set and pattern, and the target columns) for
        # every level pair, kept between steps, plus the host copy of the largest
        sizes_rr = [comb(n, b) * (comb(b, a) + b * (b - a)) for b in range(n + 1) for a in range(b)]
        plans = 8 * (sum(sizes_rr) + max(sizes_rr, default=0))
        targets = [(b, e[b]) for b in range(1, n + 1)]
    parts = {"level states and conditionals": int(peak)}
    if plans:
        parts["gather plans"] = plans
    # one recursion chunk: whole sets of about ``chunk`` states, at most the whole level
    widest_chunk = max(min(total, max(chunk, _largest_group(d.shape, b))) for b, total in targets)
    arrays = CHUNK_ARRAYS + (1 if q > min(d.shape) else 0)
    parts["chunk temporaries"] = arrays * item * widest_chunk
    if fixed:
        widest = max(sa * n * q for sa in sizes[:-1])
    else:
        widest = max(e[a] * (n - a) * q for a in range(n))  # entries of the largest row table
    if denoiser is None:
        parts["masked tensor"] = masked_bytes(d)
        # exact_table's chunk (index, gathered, conditional and mask arrays) and its per-group
        # constants (uniform rows and valid-value mask, one entry per set, position and value)
        sets = 1 if fixed else max(comb(n, a) for a in range(n))
        parts["temporaries"] = _TMP_ARRAYS * 8 * min(entries, widest) + 2 * 8 * sets * n * q
    else:
        # a batch of denoiser output (denoiser_batch_elements entries), with room for the
        # denoiser's own temporaries, the checked copy and the gathered rows
        parts["temporaries"] = (
            _TMP_DENOISER * 8 * min(be.tuning.denoiser_batch_elements, widest * n)
        )
    needed = check_fits(d, "the exact sampler law", parts)
    return SamplerPlan(needed, int(work), chunk, entries, parts)


def plan_sampler(d: Distribution, sched: Schedule, denoiser: Any = None) -> tuple[int, int]:
    """``(peak bytes, work)`` of :func:`~exactmd.sampler.p_alg.output_distribution`; raise if it
    cannot fit. The short form of :func:`sampler_plan` (see there).

    Raises
    ------
    MemoryPlanError
        Naming the bytes needed (with their parts) and the bytes available.
    """
    plan = sampler_plan(d, sched, denoiser)
    return plan.bytes_needed, plan.work
