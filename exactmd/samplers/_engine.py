"""The engine behind every sampler schedule: exact law, calls, E_fact / E_learn, Monte Carlo.

**The exact run** carries the mass of the reachable states ``(tokens, memory, calls so far)``
round by round (every state of a round has made the same number of rounds, so the step index
is the round). Each round, the denoiser is called once per state (in batches), the states are
grouped by (memory, masked set), and the rule's :meth:`~exactmd.samplers.base.SamplerSchedule.moves`
gives the successors. Moves are checked (weights finite, non-negative and summing to 1 per
state; revealed values kept; new values in range), finished states (no mask) go to the law, and
the others are merged by key. Cost: the reachable states, at most ``Π (q_i + 1)`` per round.

**Under π** (value-independent rules only), the revealed values follow π instead: a state's
mass moves by the plan's weight times ``π(x_z | x_S)``, adding ``TC_π(z | x_S)`` (E_fact) and
``Σ_{i∈z} KL(π(x_i | x_S) ‖ q_i)`` (E_learn, ``q`` the rule's value law).

**The Monte Carlo run** applies the rule's :meth:`~exactmd.samplers.base.SamplerSchedule.draw`
to every row that still has masks, with the denoiser called once per round on those rows.

Examples
--------
>>> import numpy as np
>>> from exactmd.law.distribution import as_distribution
>>> from exactmd.samplers import llada
>>> d = as_distribution(np.full((2, 2), 0.25))
>>> run = exact_run(d, llada(steps=2, temperature=1, ties="split"), None)
>>> run.law.tolist(), run.calls
([[0.25, 0.25], [0.25, 0.25]], {2: 1.0})
>>> exact_run(as_distribution(np.full((2, 2), 0.25)), llada(steps=1), None).law.tolist()
[[1.0, 0.0], [0.0, 0.0]]
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from exactmd.denoisers.calls import check_denoiser_law, denoiser_rows
from exactmd.denoisers.exact import ExactDenoiser
from exactmd.errors import DenoiserError, MemoryPlanError, ScheduleError, ValidationError
from exactmd.law.distribution import Distribution
from exactmd.law.prompt import Prompt, as_prompt, prompt_mass, prompt_tokens
from exactmd.sampler._pi_terms import pi_terms
from exactmd.samplers._records import VALUE_INDEPENDENT, Moves, Plan, StepBatch

__all__ = [
    "RunLaw",
    "exact_run",
    "expand_plan",
    "walk_under_pi",
    "monte_carlo_run",
    "MAX_STATES",
    "WEIGHT_ATOL",
]

#: Most states one round of the exact run may hold.
MAX_STATES = 4_000_000
#: How far the weights of one state's moves may sum from 1.
WEIGHT_ATOL = 1e-9
#: Token entries per chunk of the round's checks (a cache-sized piece of the moves).
_CHECK_CHUNK_ENTRIES = 2**16


@dataclass(frozen=True)
class RunLaw:
    """The exact result of a sampler run: its output law and the law of its denoiser calls.

    Attributes
    ----------
    law
        float64 array of the law's shape, summing to 1: p_alg (zero off the prompt).
    calls
        ``{number of denoiser calls: probability}``, sorted by the number of calls.
    """

    law: np.ndarray
    calls: dict[int, float]

    @property
    def expected_calls(self) -> float:
        """The expected number of denoiser calls."""
        return float(sum(k * w for k, w in self.calls.items()))


def _setup(
    d: Distribution, sched: Any, denoiser: Any, prompt: Any
) -> tuple[Any, Prompt, np.ndarray]:
    if d.backend.exact:  # Monte Carlo and planners read float probabilities
        raise ValidationError(
            f"p: the samplers of exactmd.samplers are numeric only; received a symbolic law {d!r}"
        )
    if denoiser is not None:
        check_denoiser_law(denoiser, d.shape)  # before any work: a denoiser for another law
    den = denoiser if denoiser is not None else ExactDenoiser(d)
    pr = as_prompt(prompt, d.shape)
    if pr and prompt_mass(d.numpy(), pr) <= 0.0:
        raise ValidationError(
            f"prompt: has probability 0 under p, so no run is defined; received {dict(pr)}"
        )
    return den, pr, prompt_tokens(pr, d.shape)


def _radix(shape: tuple[int, ...]) -> np.ndarray:
    q = max(shape)
    if (q + 1) ** len(shape) >= 2**62:
        raise MemoryPlanError(
            f"p: the sampler states are indexed by (q + 1)^N = {(q + 1) ** len(shape)} codes, "
            f"above 2**62; received shape {shape}"
        )
    return np.array([(q + 1) ** (len(shape) - 1 - i) for i in range(len(shape))], dtype=np.int64)


def _read_only(a: np.ndarray) -> np.ndarray:
    view = a.view()
    view.flags.writeable = False
    return view


def _as_column(value: Any, rows: int, what: str, sched: Any) -> np.ndarray:
    out = np.broadcast_to(np.asarray(value), (rows,))
    if not np.issubdtype(out.dtype, np.integer):
        raise ScheduleError(f"schedule: {sched!r} returned non-integer {what}: {out.dtype}")
    return out.astype(np.int64)


def _move_arrays(mv: Moves, batch: StepBatch, sched: Any) -> tuple[np.ndarray, ...]:
    """The moves as arrays (source, tokens, weight, memory, calls), their shapes checked; the
    values are checked for a whole round at once by :func:`_check_round`."""
    src = np.asarray(mv.source, dtype=np.int64).reshape(-1)
    tok = np.asarray(mv.tokens)
    w = np.asarray(mv.weight, dtype=np.float64).reshape(-1)
    rows, n = len(src), batch.n
    if tok.shape != (rows, n) or w.shape != (rows,):
        raise ScheduleError(
            f"schedule: {sched!r} returned moves of inconsistent shapes: source {src.shape}, "
            f"tokens {tok.shape}, weight {w.shape} (N = {n})"
        )
    if rows and (src.min() < 0 or src.max() >= len(batch.tokens)):
        raise ScheduleError(f"schedule: {sched!r} returned a move from a row out of range")
    return (
        src,
        tok.astype(np.int64, copy=False),
        w,
        _as_column(mv.memory, rows, "memory", sched),
        _as_column(mv.calls, rows, "calls", sched),
    )


def _check_round(
    tokens: np.ndarray,
    src: np.ndarray,
    tok: np.ndarray,
    w: np.ndarray,
    shape: tuple[int, ...],
    step: int,
    sched: Any,
) -> None:
    """Every state's moves: finite non-negative weights summing to 1 (within
    :data:`WEIGHT_ATOL`), revealed values kept, new values in range; else a ScheduleError."""
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ScheduleError(f"schedule: {sched!r} returned a negative or non-finite weight")
    total = np.bincount(src, weights=w, minlength=len(tokens))
    if np.any(np.abs(total - 1.0) > WEIGHT_ATOL):
        bad = int(np.argmax(np.abs(total - 1.0)))
        raise ScheduleError(
            f"schedule: {sched!r}: the moves of a state must have weights summing to 1; "
            f"received {float(total[bad])!r} at step {step}, tokens {tokens[bad].tolist()}"
        )
    mask = max(shape)
    top = np.where(np.asarray(shape) == mask, mask, np.asarray(shape) - 1)  # largest allowed
    step_rows = max(1, _CHECK_CHUNK_ENTRIES // max(1, tok.shape[1]))
    for lo in range(0, len(src), step_rows):  # in chunks that stay in cache
        t, old = tok[lo : lo + step_rows], tokens[src[lo : lo + step_rows]]
        bad = (t < 0) | ((t > top) & (t != mask)) | ((old != mask) & (t != old))
        if np.any(bad):
            raise ScheduleError(
                f"schedule: {sched!r} changed a revealed value or wrote a value out of range"
            )


def _unique_rows(keys: np.ndarray) -> tuple[int, np.ndarray]:
    """(number of distinct rows, inverse) of an int64 ``(R, C)`` array, grouped as
    ``np.unique(keys, axis=0, return_inverse=True)`` groups them (numbered in the lexicographic
    order of the rows): one int64 code per row when the columns' ranges allow it, which sorts
    many times faster than rows."""
    if len(keys) == 0:
        return 0, np.zeros(0, dtype=np.int64)
    lo = keys.min(axis=0)
    span = keys.max(axis=0) - lo + 1
    if math.prod(int(s) for s in span) < 2**62:
        code = np.zeros(len(keys), dtype=np.int64)
        for c in range(keys.shape[1]):
            code = code * int(span[c]) + (keys[:, c] - lo[c])
        uniq, inverse = np.unique(code, return_inverse=True)
    else:
        uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    return len(uniq), inverse.reshape(-1)


def _groups(tokens: np.ndarray, memory: np.ndarray, mask: int, shared: bool) -> list[np.ndarray]:
    """Row indices of the states sharing the memory and the masked set (``shared``) or the
    number of masks."""
    masked = tokens == mask
    if shared:
        bits = masked.astype(np.int64) @ (1 << np.arange(tokens.shape[1], dtype=np.int64))
    else:
        bits = masked.sum(axis=1).astype(np.int64)
    keys = np.stack([memory, bits], axis=1)
    _, inverse = _unique_rows(keys)
    order = np.argsort(inverse.reshape(-1), kind="stable")
    cuts = np.flatnonzero(np.diff(inverse.reshape(-1)[order])) + 1
    return np.split(order, cuts)


def _batches(
    step: int,
    tokens: np.ndarray,
    memory: np.ndarray,
    probs: np.ndarray,
    shape: tuple[int, ...],
    shared: bool = True,
) -> Iterator[tuple[np.ndarray, StepBatch]]:
    """The round's states as :class:`StepBatch` es sharing the memory and the masked set (or,
    ``shared`` False, the number of masks), each with its rows in ``tokens``."""
    mask = max(shape)
    for rows in _groups(tokens, memory, mask, shared):
        yield (
            rows,
            StepBatch(
                step,
                int(memory[rows[0]]),
                _read_only(tokens[rows]),
                _read_only(probs[rows]),
                _read_only(np.flatnonzero(np.all(tokens[rows] == mask, axis=0))),
                shape,
            ),
        )


def _merge(
    keys: np.ndarray, w: np.ndarray, max_states: int, subject: str, where: str = ""
) -> tuple[np.ndarray, np.ndarray]:
    """The distinct states of ``keys`` (the first row of each) and their summed mass ``w``;
    past ``max_states`` a MemoryPlanError ("``subject`` reaches ... states``where``")."""
    count, inverse = _unique_rows(keys)
    if count > max_states:
        raise MemoryPlanError(
            f"schedule: {subject} reaches {count:,} states{where} "
            f"(limit max_states = {max_states:,}); use a smaller law"
        )
    first = np.zeros(count, dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(keys))[::-1]
    return first, np.bincount(inverse, weights=w, minlength=count)


def _rows(den: Any, tokens: np.ndarray, d: Distribution) -> np.ndarray:
    step = d.backend.tuning.planner_chunk_states  # states per denoiser call (one tuning table)
    out = [denoiser_rows(den, tokens[lo : lo + step], d) for lo in range(0, len(tokens), step)]
    return np.concatenate(out, axis=0) if out else np.zeros((0, d.n, d.q))


def exact_run(
    d: Distribution,
    sched: Any,
    denoiser: Any,
    prompt: Any = None,
    *,
    max_states: int = MAX_STATES,
) -> RunLaw:
    """The exact output law and call law of ``sched`` on ``d`` (see the module notes)."""
    den, _, start = _setup(d, sched, denoiser, prompt)
    shape, n, mask = d.shape, d.n, d.q
    radix = _radix(shape)
    limit = sched.max_steps(n)
    tokens: np.ndarray = start
    memory: np.ndarray = np.array([sched.start_memory(n)], dtype=np.int64)
    calls: np.ndarray = np.zeros(1, dtype=np.int64)
    mass: np.ndarray = np.ones(1)
    law = np.zeros(d.size)
    call_law: dict[int, float] = {}

    def finish(tok: np.ndarray, mem: np.ndarray, cl: np.ndarray, w: np.ndarray, step: int) -> None:
        np.add.at(law, np.ravel_multi_index(tuple(tok.T), shape), w)
        for m in np.unique(mem):
            extra = int(sched.trailing_calls(step, int(m)))
            pick = mem == m
            for c, wc in zip(*_sum_by(cl[pick] + extra, w[pick])):
                call_law[int(c)] = call_law.get(int(c), 0.0) + float(wc)

    done = ~np.any(tokens == mask, axis=1)
    if done.all():
        finish(tokens, memory, calls, mass, 0)
        tokens = tokens[:0]
    for step in range(limit + 1):
        if len(tokens) == 0:
            break
        if step == limit:
            raise ScheduleError(
                f"schedule: {sched!r} leaves masks after its {limit} rounds with probability "
                f"{float(mass.sum()):.3g}; the law over the shape is not defined"
            )
        probs = _rows(den, tokens, d)
        out: list[tuple[np.ndarray, ...]] = []
        shared = bool(getattr(sched, "shared_masked", True))
        for rows, batch in _batches(step, tokens, memory, probs, shape, shared):
            src, tok, w, mem, cl = _move_arrays(sched.moves(batch), batch, sched)
            out.append((rows[src], tok, w, mem, cl))
        src = np.concatenate([o[0] for o in out])
        tok = np.concatenate([o[1] for o in out])
        w = np.concatenate([o[2] for o in out])
        _check_round(tokens, src, tok, w, shape, step, sched)  # every state's moves at once
        w = w * mass[src]
        mem = np.concatenate([o[3] for o in out])
        cl = np.concatenate([o[4] for o in out])
        keep = w > 0
        if not keep.all():  # drop the moves of zero mass (a copy only when some are)
            tok, w, src, mem, cl = tok[keep], w[keep], src[keep], mem[keep], cl[keep]
        cl = calls[src] + cl
        done = ~np.any(tok == mask, axis=1)
        if done.any():
            finish(tok[done], mem[done], cl[done], w[done], step + 1)
        tok, mem, cl, w = tok[~done], mem[~done], cl[~done], w[~done]
        keys = np.stack([tok @ radix, mem, cl], axis=1)
        first, mass = _merge(
            keys,
            w,
            max_states,
            f"the exact run of {sched!r}",
            f" after round {step + 1}",
        )
        tokens, memory, calls = tok[first], mem[first], cl[first]
    total = law.sum()
    if not math.isfinite(total) or abs(total - 1.0) > 1e-6:
        raise DenoiserError(f"denoiser: the run's law sums to {total!r}, not 1")
    return RunLaw(law.reshape(shape) / total, dict(sorted(call_law.items())))


def _sum_by(keys: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniq, inverse = np.unique(keys, return_inverse=True)
    return uniq, np.bincount(inverse.reshape(-1), weights=w, minlength=len(uniq))


def _plan_arrays(plan: Plan, batch: StepBatch, sched: Any) -> tuple[np.ndarray, ...]:
    src = np.asarray(plan.source, dtype=np.int64).reshape(-1)
    rev = np.asarray(plan.reveal, dtype=bool)
    w = np.asarray(plan.weight, dtype=np.float64).reshape(-1)
    if rev.shape != (len(src), batch.n) or w.shape != src.shape:
        raise ScheduleError(f"schedule: {sched!r} returned a plan of inconsistent shapes")
    if np.any(rev & (batch.tokens[src] != batch.mask)):
        raise ScheduleError(f"schedule: {sched!r} planned to reveal an unmasked position")
    rows = len(src)
    return (
        src,
        rev,
        w,
        _as_column(plan.memory, rows, "memory", sched),
        _as_column(plan.calls, rows, "calls", sched),
    )


def _subset_values(shape: tuple[int, ...], z: np.ndarray) -> np.ndarray:
    """Every assignment of the positions ``z``: int ``(C, |z|)``."""
    if len(z) == 0:
        return np.zeros((1, 0), dtype=np.int64)
    return np.indices([shape[i] for i in z]).reshape(len(z), -1).T.astype(np.int64)


def expand_plan(batch: StepBatch, plan: Plan, values: np.ndarray) -> Moves:
    """The moves of a value-independent step: each planned subset with every assignment,
    weighted by the plan's weight times ``Π_{i∈z} values[b, i, x_i]``."""
    src, rev, w, mem, cl = _plan_arrays(plan, batch, "plan")
    out_src, out_tok, out_w, out_mem, out_cl = [], [], [], [], []
    bits = rev.astype(np.int64) @ (1 << np.arange(batch.n, dtype=np.int64))
    for b in np.unique(bits):
        rows = np.flatnonzero(bits == b)
        z = np.flatnonzero(rev[rows[0]])
        grid = _subset_values(batch.shape, z)  # (C, |z|)
        weight = np.repeat(w[rows][:, None], len(grid), axis=1)
        for j, i in enumerate(z):
            weight = weight * values[src[rows]][:, i, :][:, grid[:, j]]
        tok = np.repeat(batch.tokens[src[rows]][:, None, :], len(grid), axis=1)
        tok[:, :, z] = grid[None, :, :]
        out_src.append(np.repeat(src[rows], len(grid)))
        out_tok.append(tok.reshape(-1, batch.n))
        out_w.append(weight.reshape(-1))
        out_mem.append(np.repeat(mem[rows], len(grid)))
        out_cl.append(np.repeat(cl[rows], len(grid)))
    if not out_src:
        return Moves(np.zeros(0, np.int64), np.zeros((0, batch.n), np.int64), np.zeros(0))
    return Moves(
        np.concatenate(out_src),
        np.concatenate(out_tok),
        np.concatenate(out_w),
        np.concatenate(out_mem),
        np.concatenate(out_cl),
    )


def walk_under_pi(
    d: Distribution, sched: Any, denoiser: Any, *, max_states: int = MAX_STATES
) -> tuple[float, float]:
    """(E_fact, E_learn) of a value-independent sampler, in nats (see the module notes).

    The plan sees ``denoiser``'s rows (π's exact ones when None); E_learn compares π's
    conditionals with the rule's value law at those rows.
    """
    if sched.family != VALUE_INDEPENDENT:
        raise ScheduleError(f"schedule: {sched!r} is not value-independent")
    den, _, start = _setup(d, sched, denoiser, None)
    table, shape, n, mask = d.numpy(), d.shape, d.n, d.q
    radix = _radix(shape)
    limit = sched.max_steps(n)
    tokens: np.ndarray = start
    memory: np.ndarray = np.array([sched.start_memory(n)], dtype=np.int64)
    mass: np.ndarray = np.ones(1)
    e_fact = e_learn = 0.0
    for step in range(limit + 1):
        live = np.any(tokens == mask, axis=1)
        tokens, memory, mass = tokens[live], memory[live], mass[live]
        if len(tokens) == 0:
            break
        if step == limit:
            raise ScheduleError(f"schedule: {sched!r} leaves masks after its {limit} rounds")
        probs = _rows(den, tokens, d)
        nxt_tok, nxt_mem, nxt_w = [], [], []
        for rows, batch in _batches(step, tokens, memory, probs, shape):
            plan = sched.plan(batch)
            src, rev, w, mem, _ = _plan_arrays(plan, batch, sched)
            vals = sched.values(batch)
            share = w * mass[rows][src]
            moving = np.flatnonzero(share > 0)  # rows of no mass move nothing
            for g in pi_terms(table, batch.tokens, src[moving], rev[moving], vals):
                r = moving[g.rows]
                e_fact += float(np.sum(share[r] * g.tc))
                e_learn += float(np.sum(share[r] * g.kl))
                grid = _subset_values(shape, np.array(g.z, dtype=np.int64))
                tok = np.repeat(batch.tokens[src[r]][:, None, :], len(grid), axis=1)
                tok[:, :, list(g.z)] = grid[None, :, :]
                nxt_tok.append(tok.reshape(-1, n))
                nxt_mem.append(np.repeat(mem[r], len(grid)))
                nxt_w.append((share[r][:, None] * g.joint).reshape(-1))
        tok = np.concatenate(nxt_tok)
        keys = np.stack([tok @ radix, np.concatenate(nxt_mem)], axis=1)
        first, mass = _merge(
            keys,
            np.concatenate(nxt_w),
            max_states,
            f"the walk of {sched!r} under π",
        )
        tokens, memory = tok[first], keys[first, 1]
    return max(e_fact, 0.0), max(e_learn, 0.0)


def monte_carlo_run(
    d: Distribution,
    sched: Any,
    denoiser: Any,
    count: int,
    rng: np.random.Generator,
    prompt: Any = None,
) -> np.ndarray:
    """``count`` outputs (int64 ``(count, N)``) of the rule's real algorithm, drawn with ``rng``."""
    den, _, start = _setup(d, sched, denoiser, prompt)
    shape, n, mask = d.shape, d.n, d.q
    limit = sched.max_steps(n)
    tokens = np.repeat(start, count, axis=0)
    memory = np.full(count, sched.start_memory(n), dtype=np.int64)
    for step in range(limit):
        live = np.flatnonzero(np.any(tokens == mask, axis=1))
        if live.size == 0:
            break
        probs = _read_only(denoiser_rows(den, tokens[live], d))
        ctx = _read_only(tokens[live])
        out = sched.draw(step, memory[live].copy(), ctx, probs, shape, rng)
        new = np.asarray(out.tokens, dtype=np.int64)
        if new.shape != ctx.shape or np.any((ctx != mask) & (new != ctx)):
            raise ScheduleError(f"schedule: {sched!r} drew tokens that change revealed values")
        tokens[live] = new
        memory[live] = out.memory
    if np.any(tokens == mask):
        raise ScheduleError(f"schedule: {sched!r} left masks after its {limit} rounds")
    return tokens
