"""The sampler's exact output law p_alg and the learning error E_learn.

**p_alg without permutations** (DESIGN §4). After k steps the sampler's state is the revealed
set S and its values x_S. Its law is carried level by level (see :mod:`exactmd.levels`): a step
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

import itertools
from functools import lru_cache
from math import comb
from typing import Any

import numpy as np

from exactmd.backends import Backend
from exactmd.denoisers import evaluate_denoiser
from exactmd.distribution import Distribution, as_distribution
from exactmd.errors import MemoryPlanError
from exactmd.learning import learning_error
from exactmd.levels import (
    Group,
    Level,
    exact_table,
    full_level,
    group_tokens,
    level_states,
    single_level,
)
from exactmd.schedules import (
    DeterministicSchedule,
    ExchangeableSchedule,
    RandomRevealSchedule,
    Schedule,
    as_schedule,
)

__all__ = ["output_distribution", "learning_error", "plan_sampler", "PROGRESS_DELAY_S"]

# E_learn lives in its own module; it is exported here as well (its historical home).

#: Seconds a computation runs before its progress bar appears (``progress=None``).
PROGRESS_DELAY_S = 3.0
_ROW_CHUNK = 2**20  # elements per chunk of conditional rows
_CACHE_ELEMENTS = 2**16  # target states per chunk of the recursion (512 KiB of float64)


@lru_cache(maxsize=4096)
def _perm_plan(
    sig_t: tuple[int, ...], r: tuple[int, ...]
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """How the product, laid out ``(x_{z_s}, …, x_{z_1}, x_S)``, maps onto the order of T.

    Contiguous runs are merged. Returns the merged source shape, the permutation taking
    source axes to T order, and the merged shape in T order.
    """
    s = len(r)
    rest = [t for t in range(len(sig_t)) if t not in r]
    src_axis = {t: s + i for i, t in enumerate(rest)} | {t: s - 1 - j for j, t in enumerate(r)}
    runs: list[list[int]] = []
    for t in range(len(sig_t)):
        if runs and src_axis[t] == src_axis[runs[-1][-1]] + 1:
            runs[-1].append(t)
        else:
            runs.append([t])
    sizes = [int(np.prod([sig_t[t] for t in run])) for run in runs]
    by_source = sorted(range(len(runs)), key=lambda i: src_axis[runs[i][0]])
    perm = tuple(by_source.index(i) for i in range(len(runs)))
    return tuple(sizes[i] for i in by_source), perm, tuple(sizes)


class _Conditionals:
    """The denoiser's rows at a level group's states, for row gathers.

    ``table`` has shape ``(n_sets * m, q * size)`` (see :func:`exactmd.levels.exact_table`).
    For a user denoiser, rows are computed once per reachable state and kept compactly
    (``compact``, with ``rowmap`` giving each state's row, 0 for a zero row), then spread.
    """

    def __init__(self, be: Backend, rows: int, m: int, q: int) -> None:
        self.rowmap = np.zeros(rows, dtype=np.int64)
        self.compact: Any = be.zeros((1, m * q))
        self.count = 1
        self.table: Any = None


class _Engine:
    """Runs the level recursion for one law, denoiser and backend."""

    def __init__(self, dist: Distribution, denoiser: Any, progress: Any) -> None:
        self.d = dist
        self.be = dist.backend
        self.den = denoiser
        self.bar = progress
        self.cache: dict[tuple[int, int], tuple[Level, _Conditionals]] = {}

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
        key = (id(level), gid)  # the cache keeps ``level`` alive, so its id is not reused
        m, q = self.d.n - level.a, self.d.q
        if key not in self.cache:
            self.cache[key] = (level, _Conditionals(be, group.rows, m, q))
        c = self.cache[key][1]
        if self.den is None:
            if c.table is None:
                c.table = exact_table(self.d, group)
            return c.table
        need = np.nonzero((be.to_numpy(probs) > 0) & (c.rowmap == 0))[0]
        if need.size or c.table is None:
            step = max(1, _ROW_CHUNK // max(1, m * q))
            parts = [self.rows_of(group, need[i : i + step]) for i in range(0, need.size, step)]
            c.compact = be.concat([c.compact, *parts], axis=0)
            c.rowmap[need] = c.count + np.arange(need.size)
            c.count += need.size
            spread = be.reshape(be.take_rows(c.compact, c.rowmap), (-1, group.size, m, q))
            c.table = be.reshape(be.transpose(spread, (0, 2, 3, 1)), (-1, q * group.size))
        return c.table

    def advance(
        self,
        src: Level,
        p_src: list[Any],
        tgt: Level,
        acc: list[Any],
        patterns: Any,
        weight: float,
    ) -> None:
        """Add to ``acc`` (per target group) the mass moving from level ``src`` to ``tgt``.

        Target sets are processed in chunks of about :data:`_CACHE_ELEMENTS` states, every
        pattern of new positions in turn, so the partial sums stay in the CPU cache.
        """
        be, m = self.be, self.d.n - src.a
        tables = {g: self.conditionals(src, g, p) for g, p in enumerate(p_src) if p is not None}
        for gt, group in enumerate(tgt.groups):
            plans = []
            for r in patterns(tgt.a):
                gs, loc = src.locate(np.delete(group.sets, list(r), axis=1))
                g = int(gs[0])
                if p_src[g] is not None:
                    rows = [loc * m + (group.sets[:, t] - t + j) for j, t in enumerate(r)]
                    plans.append((tuple(r), g, loc, rows, _perm_plan(group.signature, tuple(r))))
            if not plans:
                continue
            n_t, size_t = group.sets.shape[0], group.size
            if acc[gt] is None:
                acc[gt] = be.zeros((n_t * size_t,))
            step = max(1, _CACHE_ELEMENTS // size_t)
            for lo in range(0, n_t, step):
                hi = min(lo + step, n_t)
                part = be.zeros((hi - lo, size_t))
                for plan in plans:
                    self._add_pattern(part, plan, src, p_src, tables, group, lo, hi)
                chunk = be.reshape(acc[gt], (n_t, size_t))[lo:hi]
                chunk += part * weight
                if self.bar is not None:
                    self.bar.update((hi - lo) * size_t * len(plans))

    def _add_pattern(
        self,
        part: Any,
        plan: Any,
        src: Level,
        p_src: list[Any],
        tables: dict[int, Any],
        group: Group,
        lo: int,
        hi: int,
    ) -> None:
        """Add one pattern's products for target sets ``lo:hi`` into ``part``."""
        be, q = self.be, self.d.q
        r, g, loc, rows, (src_shape, perm, tgt_shape) = plan
        n_t, size_s = hi - lo, src.groups[g].size
        p2 = be.reshape(p_src[g], (-1, size_s))
        term = be.reshape(be.take_rows(p2, loc[lo:hi]), (n_t, 1, size_s))
        prev = 1
        for j, t in enumerate(r):
            # value axes go in front of x_S so that the broadcast's inner loop is long
            qn = group.signature[t]
            factor = be.reshape(be.take_rows(tables[g], rows[j][lo:hi]), (n_t, q, 1, size_s))
            if qn < q:
                factor = factor[:, :qn]
            term = be.reshape(term, (n_t, 1, prev, size_s)) * factor
            prev *= qn
        view = be.permute(be.reshape(term, (n_t, *src_shape)), (0, *(1 + i for i in perm)))
        target = be.reshape(part, (n_t, *tgt_shape))
        target += view


def _all_patterns(s: int) -> Any:
    return lambda b: itertools.combinations(range(b), s)


def plan_sampler(d: Distribution, sched: Schedule) -> tuple[int, int]:
    """``(peak bytes, work)`` of :func:`output_distribution`; raise if it cannot fit.

    ``work`` counts the products formed (one per target state and choice of new positions).
    """
    e = level_states(d.shape)
    n, q, item = d.n, d.q, d.backend.itemsize
    if isinstance(sched, DeterministicSchedule):
        sizes: list[int] = [1]
        done: tuple[int, ...] = ()
        for block in sched.partition:
            done = done + block
            sizes.append(int(np.prod([d.shape[i] for i in done], dtype=np.float64)))
        work = sum(sizes[1:])
        peak = max(
            item * (sa * (1 + n * q) + 4 * sb) + 24 * sb for sa, sb in itertools.pairwise(sizes)
        )
    elif isinstance(sched, ExchangeableSchedule):
        bounds = sched.boundaries
        steps = list(itertools.pairwise(bounds))
        work = sum(e[b] * comb(b, b - a) for a, b in steps)
        peak = max(item * (e[a] * (1 + (n - a) * q) + 4 * e[b]) + 24 * e[b] for a, b in steps)
    else:
        assert isinstance(sched, RandomRevealSchedule)
        work = 0
        for k, rk in enumerate(sched.reveal_probabilities):
            sources = range(1) if k == 0 else range(n)  # before step 1 only level 0 is occupied
            targets = (lambda a: [n]) if rk >= 1 else (lambda a: range(a + 1, n + 1))
            work += sum(e[b] * comb(b, b - a) for a in sources for b in targets(a))
        peak = item * sum(e[a] * (3 + (n - a) * q) for a in range(n + 1)) + 24 * max(e)
    available = d.backend.available_memory()
    if peak > available:
        raise MemoryPlanError(
            f"p: the exact sampler law needs about {peak / 2**30:.2f} GiB ({peak} bytes) but only "
            f"{available / 2**30:.2f} GiB ({available} bytes) are available on {d.backend!r}"
        )
    return int(peak), int(work)


def _progress_bar(progress: Any, work: int) -> Any:
    if progress is False or (progress is None and work < 10**7):
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        if progress is True:
            raise ImportError("progress=True needs tqdm: pip install 'exactmd[progress]'") from None
        return None
    delay = 0.0 if progress is True else PROGRESS_DELAY_S
    return tqdm(total=work, unit="state", unit_scale=True, delay=delay, desc="p_alg", leave=False)


def _run(d: Distribution, sched: Schedule, denoiser: Any, bar: Any) -> Any:
    eng = _Engine(d, denoiser, bar)
    be, n = d.backend, d.n
    start = full_level(d.shape, 0)
    one = be.asarray(np.ones(1))
    if isinstance(sched, DeterministicSchedule):
        level, probs = start, [one]
        done: tuple[int, ...] = ()
        for block in sched.partition:
            target = single_level(d.shape, tuple(sorted(done + block)))
            new_at = tuple(int(np.searchsorted(target.groups[0].sets[0], i)) for i in sorted(block))
            acc: list[Any] = [None]
            eng.advance(level, probs, target, acc, lambda b, r=new_at: [r], 1.0)
            level, probs, done = target, acc, done + block
        return probs[0]
    if isinstance(sched, ExchangeableSchedule):
        level, probs = start, [one]
        for a, b in itertools.pairwise(sched.boundaries):
            target = full_level(d.shape, b)
            acc = [None] * len(target.groups)
            eng.advance(level, probs, target, acc, _all_patterns(b - a), 1.0 / comb(n - a, b - a))
            level, probs = target, acc
        return probs[0]
    assert isinstance(sched, RandomRevealSchedule)
    levels = [full_level(d.shape, a) for a in range(n + 1)]
    state: list[list[Any]] = [[one]] + [[None] * len(lv.groups) for lv in levels[1:]]
    for rk in sched.reveal_probabilities:
        new: list[list[Any]] = [[None] * len(lv.groups) for lv in levels]
        for a in range(n + 1):
            if all(p is None for p in state[a]):
                continue
            stay = (1.0 - rk) ** (n - a)
            if stay > 0:
                for g, p in enumerate(state[a]):
                    if p is not None:
                        new[a][g] = p * stay if new[a][g] is None else new[a][g] + p * stay
            for b in range(a + 1, n + 1):
                w = rk ** (b - a) * (1.0 - rk) ** (n - b)
                if w > 0:
                    eng.advance(levels[a], state[a], levels[b], new[b], _all_patterns(b - a), w)
        state = new
    return state[n][0] if state[n][0] is not None else be.zeros((d.size,))


def output_distribution(
    p: Any,
    schedule: Any,
    denoiser: Any = None,
    *,
    backend: str | None = None,
    device: Any = None,
    native: bool = False,
    progress: Any = None,
) -> Any:
    """p_alg, the exact law of the factorized sampler's output, same shape as ``p``.

    Parameters
    ----------
    p
        The law π (any accepted form).
    schedule
        Sizes (exchangeable), an ordered partition (deterministic) or a
        :class:`~exactmd.schedules.Schedule` (random reveal included).
    denoiser
        None for π's exact conditionals, else a contract denoiser (numpy or torch callable,
        or :func:`~exactmd.denoisers.as_denoiser`); it is called once per reachable context.
    backend, device
        Where to compute (default: the backend of ``p``); float64 in every case.
    native
        Return the backend's native array (e.g. a torch tensor) instead of numpy.
    progress
        ``None`` shows a tqdm bar when the work is large and lasts over
        :data:`PROGRESS_DELAY_S` seconds; ``True`` always; ``False`` never.

    Returns
    -------
    numpy.ndarray
        float64 of shape ``p.shape``, summing to 1 (a native array when ``native``).

    Raises
    ------
    MemoryPlanError
        Before allocating, when the states of two levels would not fit in memory.

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
    if d.backend.name == "symbolic":  # exact expressions (issue 7)
        from exactmd.symbolic import symbolic_output_distribution

        return symbolic_output_distribution(d, schedule, denoiser)
    sched = as_schedule(schedule, d.n)
    _, work = plan_sampler(d, sched)
    bar = _progress_bar(progress, work)
    try:
        flat = _run(d, sched, denoiser, bar)
    finally:
        if bar is not None:
            bar.close()
    out = d.backend.reshape(flat, d.shape)
    return out if native else np.asarray(d.backend.to_numpy(out), dtype=np.float64)
