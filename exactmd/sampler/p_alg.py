"""The sampler's exact output law p_alg and the learning error E_learn.

**p_alg without permutations** (docs/design.md, "p_alg as a recursion over levels"). After k steps
the sampler's state is the revealed
set S and its values x_S. Its law is carried level by level (see :mod:`exactmd.sampler._levels`): a
step
adding ``s`` positions sends state ``(S, x_S)`` to ``(S ∪ z, x_{S∪z})`` with probability
``w(S, z) · Π_{i∈z} p(x_i | x_S)``, where

- exchangeable sizes: ``w = 1 / C(N − |S|, s)`` for every s-subset z of the masked positions;
- a deterministic partition: ``w = 1`` for the planned block only;
- random reveal (MDLM) with probability ``r_k``: ``w = r_k^{|z|} (1 − r_k)^{N − |S| − |z|}`` for
  every subset z, the empty one included.

Each target state gathers from its ``C(|T|, s)`` possible predecessors, one vectorised product
per choice of which positions of T are new, so no sum over orderings is ever formed. The
denoiser is called once per reachable context, in batches.

Examples
--------
XOR of two fair bits revealed all at once gives the product of its (uniform) marginals:

>>> import numpy as np
>>> p = np.zeros((2, 2, 2))
>>> for a in (0, 1):
...     for b in (0, 1):
...         p[a, b, a ^ b] = 0.25
>>> bool(np.allclose(output_distribution(p, [3]), 1 / 8))
True
>>> bool(np.allclose(output_distribution(p, [1, 1, 1]), p))
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exactmd._progress import ProgressBar, progress_bar
from exactmd.backends import Backend
from exactmd.denoisers.calls import check_denoiser_law, evaluate_denoiser
from exactmd.law.distribution import Distribution, as_distribution
from exactmd.sampler._gather import GatherPlan, Patterns, gather_plans
from exactmd.sampler._levels import (
    Group,
    Level,
    exact_table,
    full_level,
    group_tokens,
    single_level,
)
from exactmd.sampler._plan import SamplerPlan, sampler_plan
from exactmd.sampler.prompted import prompted_output_distribution, takes_prompt
from exactmd.schedules.custom import is_core_schedule, schedule_method
from exactmd.schedules.kinds import Schedule, as_schedule
from exactmd.schedules.program import LevelProgram, Revealed

__all__ = [
    "output_distribution",
    "SAMPLER_LONG_RUN",
]


#: Products formed from which p_alg counts as a long run (its bar may appear, ``progress=None``).
SAMPLER_LONG_RUN = 10**7


class _Conditionals:
    """The denoiser's rows at a level group's states, for row gathers.

    ``table`` has shape ``(n_sets * m, q * size)`` (see
    :func:`exactmd.sampler._levels.exact_table`).
    For a user denoiser, rows are computed once per reachable state and kept compactly
    (``compact``, with ``rowmap`` giving each state's row, 0 for a zero row), then spread.
    """

    def __init__(self, be: Backend, rows: int, m: int, q: int) -> None:
        self.rowmap = np.zeros(rows, dtype=np.int64)
        self.compact: Any = be.zeros((1, m * q))
        self.count = 1
        self.table: Any = None
        self.checked: Any = None  # the probs whose reachable states the table covers


class _Engine:
    """Runs the level recursion for one law, denoiser and backend."""

    def __init__(
        self,
        dist: Distribution,
        denoiser: Any,
        progress: ProgressBar,
        plan: SamplerPlan,
        keep_plans: bool = False,
    ) -> None:
        self.d = dist
        self.plan = plan
        self.be = dist.backend
        self.den = denoiser
        self.bar = progress
        # keyed by the levels' program keys (Level.key) and the group / pattern
        self.cache: dict[tuple[Revealed, int], _Conditionals] = {}
        self.keep_plans = keep_plans
        self.plan_cache: dict[tuple[Revealed, Revealed, int, Patterns], list[GatherPlan]] = {}

    def rows_of(self, group: Group, rows: np.ndarray) -> Any:
        """The denoiser's rows ``(R, m * q)`` at the group's states ``rows``."""
        be, n, q = self.be, self.d.n, self.d.q
        out = evaluate_denoiser(self.den, group_tokens(self.d.shape, group, rows), self.d, be)
        m = group.comps.shape[1]
        local = rows // group.size
        idx = (np.arange(len(rows))[:, None, None] * n + group.comps[local][:, :, None]) * q
        idx = idx + np.arange(q)[None, None, :]
        return be.reshape(be.take_flat(out, idx.reshape(-1)), (len(rows), m * q))

    def conditionals(self, level: Level, gid: int, probs: Any) -> Any:
        """The conditional table of a group, covering every state where ``probs > 0``."""
        be, group = self.be, level.groups[gid]
        key = (level.key, gid)
        m, q = self.d.n - level.a, self.d.q
        if key not in self.cache:
            self.cache[key] = _Conditionals(be, group.rows, m, q)
        c = self.cache[key]
        if self.den is None:
            if c.table is None:
                c.table = exact_table(self.d, group, self.plan.table_entries)
            return c.table
        if probs is c.checked:  # random reveal: the same source level, once per target level
            return c.table
        c.checked = probs
        need = np.nonzero(be.positive(be.to_numpy(probs)) & (c.rowmap == 0))[0]
        if need.size or c.table is None:
            step = max(1, be.tuning.conditional_row_elements // max(1, m * q))
            parts = [self.rows_of(group, need[i : i + step]) for i in range(0, need.size, step)]
            c.compact = be.concat([c.compact, *parts], axis=0)
            c.rowmap[need] = c.count + np.arange(need.size)
            c.count += need.size
            spread = be.reshape(be.take_rows(c.compact, c.rowmap), (-1, group.size, m, q))
            c.table = be.reshape(be.transpose(spread, (0, 2, 3, 1)), (-1, q * group.size))
        return c.table

    def plans_of(self, src: Level, tgt: Level, gt: int, patterns: Patterns) -> list[GatherPlan]:
        """The gather plans from ``src`` into target group ``gt``, one per pattern.

        ``patterns`` is an int ``s`` (every choice of ``s`` new positions among the target's)
        or one tuple of new positions. Plans are kept for reuse when ``keep_plans`` is set
        (random reveal visits the same pair of levels at every step).
        """
        key = (src.key, tgt.key, gt, patterns)
        if key in self.plan_cache:
            return self.plan_cache[key]
        plans = gather_plans(self.be, self.d.n, src, tgt, gt, patterns)
        if self.keep_plans:
            self.plan_cache[key] = plans
        return plans

    def advance(
        self,
        src: Level,
        p_src: list[Any],
        tgt: Level,
        acc: list[Any],
        patterns: Patterns,
        weight: float,
    ) -> None:
        """Add to ``acc`` (per target group) the mass moving from level ``src`` to ``tgt``.

        Target sets are processed in chunks of about ``plan.chunk_states`` states (whole
        sets), every pattern of new positions in turn: on the CPU the partial sums stay in
        cache, on CUDA a chunk is large enough to keep the kernel launches few (see
        :mod:`exactmd.sampler._plan`).
        """
        be = self.be
        tables = {g: self.conditionals(src, g, p) for g, p in enumerate(p_src) if p is not None}
        for gt, group in enumerate(tgt.groups):
            plans = [
                pl for pl in self.plans_of(src, tgt, gt, patterns) if pl.source_group in tables
            ]
            if not plans:
                continue
            n_t, size_t = group.sets.shape[0], group.size
            if acc[gt] is None:
                acc[gt] = be.zeros((n_t * size_t,))
            step = max(1, self.plan.chunk_states // size_t)
            for lo in range(0, n_t, step):
                hi = min(lo + step, n_t)
                part = be.zeros((hi - lo, size_t))
                for plan in plans:
                    self._add_pattern(part, plan, src, p_src, tables, group, lo, hi)
                chunk = be.reshape(acc[gt], (n_t, size_t))[lo:hi]
                chunk += part * weight
                self.bar.update((hi - lo) * size_t * len(plans))

    def _add_pattern(
        self,
        part: Any,
        plan: GatherPlan,
        src: Level,
        p_src: list[Any],
        tables: dict[int, Any],
        group: Group,
        lo: int,
        hi: int,
    ) -> None:
        """Add one pattern's products for target sets ``lo:hi`` into ``part``."""
        be, q = self.be, self.d.q
        r, g, loc, base, m = plan.pattern, plan.source_group, plan.locations, plan.base, plan.masked
        src_shape, perm, tgt_shape = plan.layout
        n_t, size_s = hi - lo, src.groups[g].size
        p2 = be.reshape(p_src[g], (-1, size_s))
        here = loc[lo:hi]
        term = be.reshape(be.take_rows(p2, here), (n_t, 1, size_s))
        row0 = here * m
        prev = 1
        for j, t in enumerate(r):
            # value axes go in front of x_S so that the broadcast's inner loop is long
            qn = group.signature[t]
            rows = row0 + base[t, j, lo:hi]
            factor = be.reshape(be.take_rows(tables[g], rows), (n_t, q, 1, size_s))
            if qn < q:
                factor = factor[:, :qn]
            term = be.reshape(term, (n_t, 1, prev, size_s)) * factor
            prev *= qn
        view = be.permute(be.reshape(term, (n_t, *src_shape)), (0, *(1 + i for i in perm)))
        target = be.reshape(part, (n_t, *tgt_shape))
        target += view


def _level(shape: tuple[int, ...], revealed: Revealed) -> Level:
    """The level of a program's revealed sets: all sets of a size, or one fixed set (the
    empty set is level 0 either way)."""
    if isinstance(revealed, tuple):
        return single_level(shape, revealed) if revealed else full_level(shape, 0)
    return full_level(shape, revealed)


def _patterns(target: Level, new: int | tuple[int, ...]) -> Patterns:
    """The engine's patterns of a move: a count, or the new positions' ranks in the target."""
    if isinstance(new, tuple):
        return tuple(int(np.searchsorted(target.groups[0].sets[0], i)) for i in new)
    return new


def _run(
    d: Distribution, sched: Schedule, denoiser: Any, bar: ProgressBar, plan: SamplerPlan
) -> Any:
    """Run the schedule's level program (:meth:`level_program` of the kind)."""
    get_program = schedule_method(sched, "level_program")
    # exact backends get the kind's exact probabilities (fractions, not floats)
    program: LevelProgram = get_program(d.n, exact=True) if d.backend.exact else get_program(d.n)
    eng = _Engine(d, denoiser, bar, plan, keep_plans=program.keeps_levels)
    be = d.backend
    levels: dict[Revealed, Level] = {}

    def level(revealed: Revealed) -> Level:
        if revealed not in levels:
            levels[revealed] = _level(d.shape, revealed)
        return levels[revealed]

    start: Revealed = () if isinstance(program.final, tuple) else 0
    state: dict[Revealed, list[Any]] = {start: [be.asarray(np.ones(1))]}
    for moves in program.steps:
        new: dict[Revealed, list[Any]] = {}
        for move in moves:
            source = state.get(move.source)
            if source is None or all(p is None for p in source) or move.weight <= 0:
                continue
            target = level(move.target)
            acc = new.setdefault(move.target, [None] * len(target.groups))
            if move.new == 0:  # the mass stays on its level, scaled
                for g, p in enumerate(source):
                    if p is not None:
                        acc[g] = p * move.weight if acc[g] is None else acc[g] + p * move.weight
                continue
            patterns = _patterns(target, move.new)
            eng.advance(level(move.source), source, target, acc, patterns, move.weight)
        if program.keeps_levels:
            for cond in eng.cache.values():
                cond.checked = None  # drop the reference to this step's state
        else:
            eng.cache.clear()  # each level is a source once: free its conditional tables
        state = new
    final = state.get(program.final)
    return final[0] if final is not None and final[0] is not None else be.zeros((d.size,))


def output_distribution(
    p: Any,
    schedule: Any,
    denoiser: Any = None,
    *,
    backend: str | None = None,
    device: Any = None,
    native: bool = False,
    progress: Any = None,
    prompt: Any = None,
) -> Any:
    """p_alg, the exact law of the factorized sampler's output, same shape as ``p``.

    Parameters
    ----------
    p
        The law π (any accepted form).
    schedule
        Sizes (exchangeable), an ordered partition (deterministic) or a
        :class:`~exactmd.schedules.kinds.Schedule` (random reveal included).
    denoiser
        None for π's exact conditionals, else a contract denoiser (numpy or torch callable,
        or :func:`~exactmd.denoisers.exact.as_denoiser`); it is called once per reachable context.
    backend, device
        Where to compute (default: the backend and dtype of ``p``: float64 unless a float32
        law is passed, e.g. ``as_distribution(p, dtype="float32")``).
    native
        Return the backend's native array (e.g. a torch tensor) instead of numpy.
    progress
        ``None`` shows a tqdm bar for a long run (:data:`SAMPLER_LONG_RUN` products) once
        it has lasted :data:`~exactmd._progress.PROGRESS_DELAY_S` seconds; ``True`` at once;
        ``False`` never (see :mod:`exactmd._progress`).
    prompt
        ``{position: value}`` fixed as revealed before the run (None: no prompt); the law is
        then over the full shape, zero off the prompt, and its target is
        :func:`~exactmd.law.conditional.conditional_law`. The samplers of
        :mod:`exactmd.samplers` take it themselves; for the other kinds the schedule covers the
        free positions (sizes summing to ``N − |prompt|``, a partition of the free positions,
        random reveal of the free positions; see :mod:`exactmd.sampler.prompted`). A prompt of
        probability 0 under π raises :class:`~exactmd.errors.ValidationError`.

    Returns
    -------
    numpy.ndarray
        Of shape ``p.shape``, summing to 1 (a native array when ``native``): float64, or
        float32 when computed in float32. A float32 result carries float32 rounding and is
        validated downstream (e.g. by :func:`~exactmd.measures.information.kl`) at the float32
        tolerance
        :data:`~exactmd.law.tables.TOTAL_ATOL_FLOAT32`. Measured against float64 (random
        laws with zeros, N <= 12, numpy and torch, exact and perturbed denoisers): entries
        within 2e-8 (1.5e-6 relative on entries above 1e-6), total within 2.4e-7 of 1;
        ``tests/test_sampler.py::test_float32_output`` asserts 5e-8 and 1e-6.

    Raises
    ------
    MemoryPlanError
        Before allocating, when the states of two levels would not fit in memory.
    DenoiserError
        Before any work, for a denoiser built for a law of another shape
        (:func:`~exactmd.denoisers.calls.check_denoiser_law`); during the run, for a denoiser that
        rejects valid tokens or breaks the output contract.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([[0.5, 0.0], [0.0, 0.5]])
    >>> output_distribution(p, [2]).tolist()  # one step: product of the marginals
    [[0.25, 0.25], [0.25, 0.25]]
    >>> output_distribution(p, [[1], [0]]).tolist()
    [[0.5, 0.0], [0.0, 0.5]]
    """
    d = as_distribution(p, backend=backend, device=device)
    if prompt is not None and not takes_prompt(schedule, "output_distribution"):
        return prompted_output_distribution(
            d, schedule, denoiser, prompt, output_distribution, native=native, progress=progress
        )
    if prompt is not None:  # a kind that takes the prompt itself (takes_prompt) checks it
        return schedule.output_distribution(d, denoiser, native=native, prompt=prompt)
    sched = as_schedule(schedule, d.n)
    if not is_core_schedule(sched):  # a kind with its own computation, e.g. an adaptive planner
        hook = schedule_method(sched, "output_distribution")
        return hook(d, denoiser, native=native)
    if denoiser is not None:
        check_denoiser_law(denoiser, d.shape)  # before planning: a denoiser for another law
    plan = sampler_plan(d, sched, denoiser)
    work = plan.work
    with progress_bar(
        work, progress=progress, cells=work, long_run=SAMPLER_LONG_RUN, desc="p_alg", unit="state"
    ) as bar:
        flat = _run(d, sched, denoiser, bar, plan)
    out = d.backend.reshape(flat, d.shape)
    if native:
        return out
    # computed in float32, returned in float32: its rounding stays visible to the validation
    # downstream (float32 tolerance), instead of posing as a float64 table
    # (an exact backend returns an object array of exact expressions)
    dtype = {"float32": np.float32, "object": object}.get(d.backend.dtype, np.float64)
    return np.asarray(d.backend.to_numpy(out), dtype=dtype)
