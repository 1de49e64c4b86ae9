"""Fast-dLLM's LLaDA-side ``generate`` (NVlabs/Fast-dLLM ``llada/generate.py`` at f6b35ec3;
SAMPLERS.md §3), exactly.

The N positions are the generation region, cut into blocks of ``block_length`` (one block by
default) as in LLaDA. Unlike LLaDA, a block's loop runs **until the block has no mask** (one
denoiser call per round, even for a block the prompt fills), so the number of calls is random.
Each round draws a value at every position by LLaDA's Gumbel draw at temperature ``T``
(``T = 0``: the argmax, first index), scores it by the **untempered** probability ``p_j(x0_j)``,
and writes a subset ``S`` of the candidates (the masked positions before the block's end):

- ``threshold=τ`` (``get_transfer_index``): ``S = {c_j >= τ} ∪ {the best}`` (the code drops
  the ranks after the first whose score is ``< τ``, so ``c = τ`` is kept);
- ``factor=f`` (``get_transfer_index_dynamic``): the scores sorted ``c_(1) >= … >= c_(m)``
  meet the thresholds ``th_n = 1 − f/(n+1)`` with ``th_1 := −1``; the walk stops at the first
  ``n`` with ``c_(n) < th_n`` and the ``n − 1`` best are written, **except** that a walk
  stopping at the last rank ``n = m`` (or not stopping) writes all ``m`` (the code's
  off-by-one: with ``m = 2`` both are always written). A block that starts with no mask makes
  the code index an empty list (``IndexError``); this schedule refuses it;
- neither: LLaDA's top-k sizes (the block's masks over ``steps / num_blocks`` steps, remainder
  first), the loop ending as soon as the block is full.

The exact step laws: the threshold rule by the formulas of SAMPLERS.md §1.1 (members of ``S``
above ``τ`` and the others below it, or a single best below ``τ`` beating every other
candidate), the top-k rule by ``_select.top_k_moves``, and the factor
rule by enumerating the candidates' joint values. Ties of positive probability in a selection
raise :class:`~exactmd.errors.TieError` (``ties="error"``) or are split uniformly
(``ties="split"``). Fast-dLLM is sample-then-select: E_fact and E_learn are refused.

Scores are compared **within rounding** (``_select.near``, relative tolerance ``SCORE_RTOL``):
the real code compares ``softmax(logits.to(float64))``, which differs from exactmd's
conditionals by a few ulp (``softmax(log 0.9)`` can be ``0.8999999999999999``). Two
candidates' scores that close are a tie (as above). A score of positive probability that
close to ``τ`` (unless it is surely the best, kept on either side), or to a factor threshold
``th_n`` the walk compares it with, is on a side the real code's float64 softmax decides: a
:class:`~exactmd.errors.TieError` (whatever ``ties``) names the position, its score and the
threshold; move ``τ`` (or ``f``) slightly.

Examples
--------
>>> import numpy as np, exactmd
>>> from exactmd.samplers import exact_run
>>> from exactmd.law.distribution import as_distribution
>>> p = np.array([[0.4, 0.2], [0.1, 0.3]])
>>> run = exact_run(as_distribution(p), fast_dllm(threshold=0.45, temperature=1.0), None)
>>> run.law.round(4).tolist(), {k: round(v, 4) for k, v in run.calls.items()}
([[0.46, 0.38], [0.04, 0.12]], {1: 0.6, 2: 0.4})
>>> exactmd.output_distribution(p, fast_dllm(factor=1.0)).tolist()  # m = 2: both at once
[[1.0, 0.0], [0.0, 0.0]]
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from math import comb
from typing import Any

import numpy as np

from exactmd._validate import check_int, check_real
from exactmd.errors import ScheduleError, TieError
from exactmd.samplers._records import STS, Draw, Moves, StepBatch
from exactmd.samplers._select import (
    SCORE_RTOL,
    check_ties,
    draw_top_k,
    draw_values,
    near,
    remainder_first,
    snap,
    tempered,
    threshold_tie,
    top_k_moves,
)
from exactmd.samplers._select import (
    below as clearly_below,
)
from exactmd.samplers.base import SamplerSchedule

__all__ = ["FastDLLM", "fast_dllm"]

_SHIFT = 20  # the memory keeps the blocks left below bit 20
_LOW = (1 << _SHIFT) - 1


@dataclass(frozen=True, repr=False)
class FastDLLM(SamplerSchedule):
    """Fast-dLLM's sampler; build it with :func:`fast_dllm`."""

    threshold: float | None = None
    factor: float | None = None
    block_length: int | None = None
    steps: int | None = None
    temperature: float = 0.0
    ties: str = "error"

    name = "fast_dllm"

    def __post_init__(self) -> None:
        if self.threshold is not None:
            object.__setattr__(
                self, "threshold", check_real(self.threshold, "threshold", error=ScheduleError)
            )
        if self.factor is not None:
            object.__setattr__(
                self, "factor", check_real(self.factor, "factor", error=ScheduleError)
            )
        if self.threshold is not None and self.factor is not None:
            raise ScheduleError(
                "threshold, factor: give at most one of them (Fast-dLLM's generate would "
                f"silently use factor); received threshold={self.threshold!r}, "
                f"factor={self.factor!r}"
            )
        if self.block_length is not None:
            object.__setattr__(
                self,
                "block_length",
                check_int(self.block_length, "block_length", error=ScheduleError),
            )
        if self.steps is not None:
            object.__setattr__(self, "steps", check_int(self.steps, "steps", error=ScheduleError))
        elif self.mode == "topk":
            raise ScheduleError(
                "steps: required when neither threshold nor factor is given (LLaDA's top-k "
                "sizes spread each block's masks over steps / num_blocks steps); received None"
            )
        t = check_real(self.temperature, "temperature", minimum=0.0)
        object.__setattr__(self, "temperature", t)
        check_ties(self.ties)

    def __repr__(self) -> str:
        parts = []
        if self.threshold is not None:
            parts.append(f"threshold={self.threshold!r}")
        if self.factor is not None:
            parts.append(f"factor={self.factor!r}")
        if self.block_length is not None:
            parts.append(f"block_length={self.block_length}")
        if self.steps is not None:
            parts.append(f"steps={self.steps}")
        parts.append(f"temperature={self.temperature!r}")
        if self.ties != "error":
            parts.append(f"ties={self.ties!r}")
        return f"fast_dllm({', '.join(parts)})"

    @property
    def mode(self) -> str:
        """``"threshold"``, ``"factor"`` or ``"topk"`` (neither given)."""
        if self.threshold is not None:
            return "threshold"
        if self.factor is not None:
            return "factor"
        return "topk"

    @property
    def family(self) -> str:
        return STS

    # -- blocks and the memory ----------------------------------------------------------------
    def _layout(self, n: int) -> tuple[int, int, int]:
        """(block length, number of blocks, steps per block; 0 without steps), as asserted."""
        length = n if self.block_length is None else self.block_length
        if n % length:
            raise ScheduleError(
                f"block_length: must divide the generation length N = {n} (Fast-dLLM asserts "
                f"gen_length % block_length == 0); received {length}"
            )
        blocks = n // length
        if self.steps is None:
            return length, blocks, 0
        if self.steps % blocks:
            raise ScheduleError(
                f"steps: must be a multiple of the number of blocks {blocks} (Fast-dLLM asserts "
                f"steps % num_blocks == 0); received {self.steps}"
            )
        return length, blocks, self.steps // blocks

    def _encode(self, block: Any, i: Any, m: Any, n: int) -> Any:
        """The memory: the blocks left (the current one included) in the low bits, and in
        top-k mode the block's round ``i`` and mask count ``m`` above them."""
        left = self._layout(n)[1] - block
        if self.mode != "topk":
            return left
        return left + ((i * (n + 1) + m) << _SHIFT)

    def _decode(self, memory: Any, n: int) -> tuple[Any, Any, Any]:
        """(block, round in the block, the block's mask count) from the memory."""
        block = self._layout(n)[1] - (memory & _LOW)
        i, m = divmod(memory >> _SHIFT, n + 1)
        return block, i, m

    def max_steps(self, n: int) -> int:
        _, blocks, per = self._layout(n)
        # a block takes at most its steps (top-k) or max(1, its masks) rounds
        return blocks * per if self.mode == "topk" else n

    def start_memory(self, n: int) -> int:
        return int(self._encode(0, 0, 0, n))

    def trailing_calls(self, step: int, memory: int) -> int:
        return int(memory) & _LOW  # one call for each block left: each is already full

    # -- the exact step -----------------------------------------------------------------------
    def moves(self, batch: StepBatch) -> Moves:
        n, mask = batch.n, batch.mask
        length, _, per = self._layout(n)
        b, i, m = (int(v) for v in self._decode(batch.memory, n))
        lo, end = b * length, (b + 1) * length
        cand = batch.masked[batch.masked < end]
        values = tempered(batch.probs, self.temperature)
        what = repr(self)
        if self.mode == "topk":
            if i == 0:  # the block starts: count its masks
                m = int(np.sum((batch.masked >= lo) & (batch.masked < end)))
            self._check_round(i, per, batch.tokens[0], b)
            k = min(remainder_first(m, per)[i], len(cand))
            mv = top_k_moves(batch, cand, k, values, batch.probs, self.ties, what)
        elif self.mode == "threshold":
            assert self.threshold is not None
            mv = _threshold_moves(batch, cand, self.threshold, values, self.ties, what)
        else:
            assert self.factor is not None
            if len(cand) == 0:
                raise self._empty_block(b, batch.tokens[0])
            mv = _factor_moves(batch, cand, self.factor, values, self.ties, what)
        tok = np.asarray(mv.tokens)
        done = ~np.any(tok[:, lo:end] == mask, axis=1)
        mem = np.where(done, self._encode(b + 1, 0, 0, n), self._encode(b, i + 1, m, n))
        return Moves(mv.source, tok, mv.weight, mem.astype(np.int64), 1)

    def _check_round(self, i: Any, per: int, tokens: np.ndarray, block: Any) -> None:
        if np.any(np.asarray(i) >= per):
            raise ScheduleError(
                f"schedule: {self!r}: block {int(np.max(block))} still has masks after its "
                f"{per} steps (tokens {tokens.tolist()}); Fast-dLLM would index past its size "
                "schedule"
            )

    def _empty_block(self, block: int, tokens: np.ndarray) -> ScheduleError:
        return ScheduleError(
            f"schedule: {self!r}: block {block} starts with no masked position (tokens "
            f"{tokens.tolist()}); Fast-dLLM's get_transfer_index_dynamic indexes an empty list "
            "there (IndexError), so the run is not defined; use a prompt that leaves a mask in "
            "every block, or threshold="
        )

    # -- the drawn step -----------------------------------------------------------------------
    def draw(
        self,
        step: int,
        memory: np.ndarray,
        tokens: np.ndarray,
        probs: np.ndarray,
        shape: tuple[int, ...],
        rng: np.random.Generator,
    ) -> Draw:
        rows, n = tokens.shape
        mask = max(shape)
        length, _, per = self._layout(n)
        b, i, m = self._decode(np.asarray(memory, dtype=np.int64), n)
        pos = np.arange(n)[None, :]
        lo, end = (b * length)[:, None], ((b + 1) * length)[:, None]
        in_block = (pos >= lo) & (pos < end)
        masked = tokens == mask
        cand = masked & (pos < end)
        ncand = cand.sum(axis=1)
        x0 = draw_values(probs, self.temperature, rng)
        conf = np.take_along_axis(probs, x0[:, :, None], axis=2)[:, :, 0]
        conf = np.where(cand, conf, -np.inf)
        what = repr(self)
        if self.mode == "topk":
            m = np.where(i == 0, np.sum(masked & in_block, axis=1), m)
            self._check_round(i, per, tokens[0], b)
            k = m // per + (i < m % per)
            keep = draw_top_k(conf, np.minimum(k, ncand), self.ties, rng, what)
        elif self.mode == "threshold":
            assert self.threshold is not None
            # the best is kept whatever its side of τ
            reach = cand & ~clearly_below(conf, self.threshold)
            close = cand & near(conf, self.threshold) & (reach.sum(axis=1) >= 2)[:, None]
            if np.any(close):
                r, j = (int(v) for v in np.argwhere(close)[0])
                where = f"a drawn step {step}, tokens {tokens[r].tolist()}, position {j}"
                raise threshold_tie(what, where, float(conf[r, j]), self.threshold, SCORE_RTOL)
            keep = cand & (conf >= self.threshold)
            need = ~keep.any(axis=1) & (ncand > 0)  # nobody reaches τ: the best alone
            if need.any():
                keep[need] = draw_top_k(
                    conf[need], np.ones(need.sum(), np.int64), self.ties, rng, what
                )
        else:
            if np.any(ncand == 0):
                r = int(np.flatnonzero(ncand == 0)[0])
                raise self._empty_block(int(b[r]), tokens[r])
            assert self.factor is not None
            ranked = -np.sort(-conf, axis=1)
            th = _factor_thresholds(self.factor, n)[None, :]
            fail = (pos < ncand[:, None]) & (ranked < th)
            stop = np.where(fail.any(axis=1), np.argmax(fail, axis=1), ncand - 1)
            close = (pos <= stop[:, None]) & near(ranked, th)
            if np.any(close):
                r, j = (int(v) for v in np.argwhere(close)[0])
                where = f"a drawn step {step}, tokens {tokens[r].tolist()}, rank {j + 1}"
                raise threshold_tie(what, where, float(ranked[r, j]), float(th[0, j]), SCORE_RTOL)
            size = np.where((stop == 0) | (stop == ncand - 1), stop + 1, stop)
            keep = draw_top_k(conf, size, self.ties, rng, what)
        new = np.where(keep, x0, tokens)
        done = ~np.any((new == mask) & in_block, axis=1)
        mem = np.where(done, self._encode(b + 1, 0, 0, n), self._encode(b, i + 1, m, n))
        return Draw(new, mem.astype(np.int64), np.ones(rows, dtype=np.int64))


def _identity(batch: StepBatch) -> Moves:
    rows = len(batch.tokens)
    return Moves(np.arange(rows), batch.tokens.copy(), np.ones(rows))


def _factor_thresholds(factor: float, m: int) -> np.ndarray:
    """``th`` by 0-based rank: ``1 − factor / (n + 1)`` for rank ``n = 1..m`` (1-based), the
    first replaced by −1, computed as the code does (Python floats)."""
    th = [1 - factor / (n + 1) for n in range(1, m + 1)]
    if th:
        th[0] = -1.0
    return np.array(th, dtype=np.float64)


def _threshold_moves(
    batch: StepBatch, cand: np.ndarray, tau: float, values: np.ndarray, ties: str, what: str
) -> Moves:
    """``S = {c >= τ} ∪ {best}``, ``c_j = p_j(v_j)`` (SAMPLERS.md §1.1):

    - every ``S`` whose members all score ``>= τ``: ``Π_S q_i(v_i) · Π_{j∉S} P(c_j < τ)``;
    - a single best ``{i}`` below ``τ``: ``q_i(v_i) · Π_{j≠i} P(c_j < c_i)`` (ties at the best
      refused or split).
    """
    rows, n = batch.tokens.shape
    m = len(cand)
    if m == 0:
        return _identity(batch)
    sizes = [batch.shape[j] for j in cand]
    width = max(sizes)
    valid = np.arange(width)[None, :] < np.asarray(sizes)[:, None]  # (m, V)
    q_c = np.where(valid[None], values[:, cand, :width], 0.0)  # (B, m, V)
    g_c = batch.probs[:, cand, :width]
    live = q_c > 0
    # a score near τ matters unless it is the best for sure: another candidate may reach τ
    reach = np.any(live & ~clearly_below(g_c, tau), axis=2)  # (B, m)
    others = (np.sum(reach, axis=1)[:, None] - reach) > 0  # (B, m)
    close = live & near(g_c, tau) & others[:, :, None]
    if np.any(close):
        r, a, v = (int(x) for x in np.argwhere(close)[0])
        where = (
            f"step {batch.step}, tokens {batch.tokens[r].tolist()}, position {int(cand[a])} "
            f"with value {v}"
        )
        raise threshold_tie(what, where, float(g_c[r, a, v]), tau, SCORE_RTOL)
    g_c = snap(g_c.reshape(rows, -1), live.reshape(rows, -1)).reshape(g_c.shape)  # near = tie
    below_tau = np.sum(q_c * (g_c < tau), axis=2)  # (B, m): P(c_j < τ)
    src, tok, wts = [], [], []
    # S with every member >= τ (any non-empty subset)
    for k in range(1, m + 1):
        combos = [
            (a, v)
            for a in itertools.combinations(range(m), k)
            for v in itertools.product(*(range(sizes[i]) for i in a))
        ]
        idx = np.array([c[0] for c in combos], dtype=np.int64)  # (C, k)
        val = np.array([c[1] for c in combos], dtype=np.int64)
        keep = q_c[:, idx, val] * (g_c[:, idx, val] >= tau)  # (B, C, k)
        in_s = np.zeros((len(combos), m), dtype=bool)
        np.put_along_axis(in_s, idx, True, axis=1)
        rest = np.prod(np.where(in_s[None], 1.0, below_tau[:, None, :]), axis=2)  # (B, C)
        w = np.prod(keep, axis=2) * rest
        t = np.repeat(batch.tokens[:, None, :], len(combos), axis=1).copy()
        pos = cand[idx]
        np.put_along_axis(
            t,
            np.broadcast_to(pos[None], (rows, *pos.shape)),
            np.broadcast_to(val[None], (rows, *val.shape)),
            axis=2,
        )
        src.append(np.repeat(np.arange(rows), len(combos)))
        tok.append(t.reshape(-1, n))
        wts.append(w.reshape(-1))
    # a single best below τ
    for a in range(m):
        others = [j for j in range(m) if j != a]
        for v in range(sizes[a]):
            c = g_c[:, a, v]  # (B,)
            base = q_c[:, a, v] * (c < tau)
            below = np.sum(q_c[:, others] * (g_c[:, others] < c[:, None, None]), axis=2)
            equal = np.sum(q_c[:, others] * (g_c[:, others] == c[:, None, None]), axis=2)
            if ties == "error":
                tied = (base > 0) & (np.prod(below + equal, axis=1) > np.prod(below, axis=1))
                if np.any(tied):
                    r = int(np.flatnonzero(tied)[0])
                    raise TieError(
                        f"{what}: a tie of positive probability for the best candidate below "
                        f"the threshold at step {batch.step}, tokens {batch.tokens[r].tolist()} "
                        f"(position {int(cand[a])} with value {v} ties with another candidate "
                        f"at score {float(c[r])!r}); pass ties='split' to split ties uniformly"
                    )
                lose = np.prod(below, axis=1)
            else:  # Σ_b P(exactly b others tie at c, the rest below) / (b + 1)
                poly = np.zeros((rows, m))
                poly[:, 0] = 1.0
                for j in range(len(others)):
                    shifted = np.concatenate([np.zeros((rows, 1)), poly[:, :-1]], axis=1)
                    poly = poly * below[:, j, None] + shifted * equal[:, j, None]
                lose = poly @ (1.0 / np.arange(1, m + 1))
            t = batch.tokens.copy()
            t[:, cand[a]] = v
            src.append(np.arange(rows))
            tok.append(t)
            wts.append(base * lose)
    return Moves(np.concatenate(src), np.concatenate(tok), np.concatenate(wts))


def _factor_moves(
    batch: StepBatch, cand: np.ndarray, factor: float, values: np.ndarray, ties: str, what: str
) -> Moves:
    """The factor rule on every joint value of the candidates (SAMPLERS.md §1.1, prefix rule)."""
    m = len(cand)
    sizes = [batch.shape[j] for j in cand]
    grid = np.indices(sizes).reshape(m, -1).T  # (T, m)
    cols = np.arange(m)[None, :]
    prob = np.prod(values[:, cand[None, :], grid], axis=2)  # (B, T)
    score = batch.probs[:, cand[None, :], grid]  # (B, T, m)
    rb, rt = np.nonzero(prob > 0)
    sc = score[rb, rt]  # (P, m)
    order = np.argsort(-sc, axis=1, kind="stable")
    ranked = np.take_along_axis(sc, order, axis=1)
    th = _factor_thresholds(factor, m)[None, :]
    fail = ranked < th
    stop = np.where(fail.any(axis=1), np.argmax(fail, axis=1), m - 1)
    close = (cols <= stop[:, None]) & near(ranked, th)  # the ranks the walk compares
    if np.any(close):
        r, j = (int(x) for x in np.argwhere(close)[0])
        where = (
            f"step {batch.step}, tokens {batch.tokens[rb[r]].tolist()}, rank {j + 1} of the "
            f"candidates {cand.tolist()} with values {grid[rt[r]].tolist()}"
        )
        raise threshold_tie(what, where, float(ranked[r, j]), float(th[0, j]), SCORE_RTOL)
    size = np.where((stop == 0) | (stop == m - 1), stop + 1, stop)  # the last-rank quirk
    sc = snap(sc)  # scores within rounding are ties
    ranked = -np.sort(-sc, axis=1)
    cut = np.take_along_axis(ranked, (size - 1)[:, None], axis=1)[:, 0]
    nxt = np.take_along_axis(ranked, np.minimum(size, m - 1)[:, None], axis=1)[:, 0]
    tied = (size < m) & (cut == nxt)
    if ties == "error" and np.any(tied):
        r = int(np.flatnonzero(tied)[0])
        raise TieError(
            f"{what}: a tie of positive probability in the factor rule's top-{int(size[r])} at "
            f"step {batch.step}, tokens {batch.tokens[rb[r]].tolist()} (candidates "
            f"{cand.tolist()} with values {grid[rt[r]].tolist()} score {sc[r].tolist()}); pass "
            "ties='split' to split ties uniformly"
        )
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(cols, order.shape), axis=1)
    chosen = [rank < size[:, None]]
    sources, weights, pick = [rb], [prob[rb, rt]], [rt]
    if np.any(tied):  # split: every way to fill the cut from the tied group, equally likely
        plain = ~tied
        chosen, sources, weights, pick = (
            [chosen[0][plain]],
            [rb[plain]],
            [weights[0][plain]],
            [rt[plain]],
        )
        for row in np.flatnonzero(tied).tolist():
            above = sc[row] > cut[row]
            group = np.flatnonzero(sc[row] == cut[row])
            need = int(size[row]) - int(above.sum())
            share = prob[rb[row], rt[row]] / comb(len(group), need)
            for sub in itertools.combinations(group.tolist(), need):
                sel = above.copy()
                sel[list(sub)] = True
                chosen.append(sel[None])
                sources.append(rb[row : row + 1])
                weights.append(np.array([share]))
                pick.append(rt[row : row + 1])
    sel = np.concatenate(chosen)
    src = np.concatenate(sources)
    pick_t = np.concatenate(pick)
    tok = batch.tokens[src].copy()
    tok[:, cand] = np.where(sel, grid[pick_t], tok[:, cand])
    return Moves(src, tok, np.concatenate(weights))


def fast_dllm(
    threshold: Any = None,
    factor: Any = None,
    block_length: Any = None,
    steps: Any = None,
    temperature: Any = 0.0,
    *,
    ties: str = "error",
) -> FastDLLM:
    """Fast-dLLM's ``generate`` (no cache, ``remasking="low_confidence"``) as a schedule.

    See the module notes for the rules.

    Parameters
    ----------
    threshold
        ``τ`` of the threshold rule (every candidate scoring ``>= τ``, and the best one).
    factor
        ``f`` of the factor rule. At most one of ``threshold`` and ``factor`` may be given.
    block_length
        Semi-autoregressive block length (dividing N); None for one block.
    steps
        Total steps of LLaDA's top-k sizes, required when neither rule is given; otherwise
        only checked to be a multiple of the number of blocks (as the code asserts).
    temperature
        ``T >= 0`` of the value draw (the score stays untempered); 0 is the argmax.
    ties
        ``"error"`` raises :class:`~exactmd.errors.TieError` on a tie of positive probability
        in a selection; ``"split"`` splits it uniformly (``torch.topk`` does not document its
        choice).

    Examples
    --------
    >>> fast_dllm(threshold=0.9, block_length=2)
    fast_dllm(threshold=0.9, block_length=2, temperature=0.0)
    >>> fast_dllm(steps=4).mode
    'topk'
    """
    return FastDLLM(threshold, factor, block_length, steps, temperature, ties)
