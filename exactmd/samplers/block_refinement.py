"""diffusers' ``BlockRefinementScheduler`` (diffusers 0.42.1,
``schedulers/scheduling_block_refinement.py``) as ``LLaDA2Pipeline`` drives it
(``pipelines/llada2/pipeline_llada2.py``; SAMPLERS.md §9), exactly.

The N positions are the prompt and the generated sequence, cut from position 0 into blocks of
``block_length`` (which must divide N; the pipeline would pad a short last block with
positions outside the law): under ``prompt=`` the prompt's positions stay inside the blocks,
pre-filled, as ``LLaDA2Pipeline`` lays them out (a block the prompt fills is prefilled; one it
fills partly has fewer masks than its quotas). The
pipeline caps the steps per block at ``min(steps, N // minimal_topk)`` (``minimal_topk = 1``,
its default) and ``set_timesteps(steps, block_length)`` spreads ``block_length`` commits over
them, the remainder on the earliest steps (from ``block_length``, not from the block's mask
count; step indices past the schedule would reuse the last quota). Blocks are refined in order;
within a block, step ``i`` with quota ``k_i``:

- a value is drawn at every position: the argmax of the logits at ``T = 0`` (first index) with
  score the **untempered** probability ``p(v)``; otherwise a multinomial draw from
  ``softmax(log p / T)`` filtered by ``top_k`` (ties with the k-th kept) then ``top_p`` (the
  smallest prefix of the sorted law whose mass exceeds ``top_p``), with score that filtered
  probability;
- among the block's masked positions, if at least ``k_i`` scores exceed ``threshold``
  (strictly) all of those are committed; otherwise the ``min(k_i, #masked)`` best. So the set
  is ``top-k_i ∪ {c > threshold}``, a sample-then-select rule whose exact law is the
  "quota ∪ threshold" formula of SAMPLERS.md §1.1:
  ``|S| >= k``, all of ``S`` above ``τ``: ``Π_S q · Π_{C∖S} P(c_j <= τ)``; ``|S| = k`` with
  ``min_S g <= τ``: ``Π_S q · Π_{C∖S} P(c_j < min_S g)``; ``S = C`` when fewer than ``k``
  masks remain.

A block ends when its masks are all committed (every step commits at least
``min(k_i, #masked)``, and the quotas sum to ``block_length``, so its steps always suffice).
The rule's memory is the step index within the current block (the first block with a mask).

**Denoiser calls**, as the pipeline makes them: one per step; when a block is complete before
its last step, the loop makes one more call (it notices the block is done only at the top of
the next iteration); a block with no mask after a block that had some (a prompt covering it)
costs one call; leading blocks without masks are prefilled (no call).

Ties of positive probability in the top-k commit (``torch.topk``'s order is undocumented), and
in the top-p cut (two equal probabilities on either side of it; ``torch.sort`` is not stable by
default), raise :class:`~exactmd.errors.TieError` with ``ties="error"``, or are split uniformly
with ``ties="split"``. diffusers scores in float32 (the scheduler compares a float32
probability with ``τ``); the exact law uses float64, and compares its scores **within float32
rounding** (``_select.near`` with relative tolerance ``SCORE_RTOL32 = 1e-6``, about 8 float32
ulp): two candidates' scores that close are a tie (as above), and a score of positive
probability that close to ``threshold`` is on a side the float32 rounding decides, so it raises
a :class:`~exactmd.errors.TieError` naming the position, its score and the threshold, whatever
``ties`` (move ``threshold`` slightly, e.g. by 1e-5). A score exactly at ``τ`` in float64
(``p = τ = 0.6``) is refused too: its float32 value may sit on either side. The same holds for
the filters: a top-p cumulative mass within float32 rounding of ``top_p`` before a value of
positive probability raises a :class:`~exactmd.errors.TieError`, and probabilities within float32
rounding of the ``top_k``-th are kept as equal ones are.

Not modelled: editing (``editing_threshold``: committed tokens re-written when a new draw
differs with score above it, a non-monotone rule; the scheduler's default is None, the
pipeline's 0.5 — pass ``editing_threshold=None`` to compare), EOS early stopping, and the
uniform-corruption mode (``mask_token_id=None``).

Examples
--------
>>> import numpy as np, exactmd
>>> p = np.array([[0.4, 0.2], [0.1, 0.3]])
>>> s = block_refinement(steps=2, block_length=2, temperature=1.0)
>>> exactmd.output_distribution(p, s).round(4).tolist()
[[0.56, 0.28], [0.04, 0.12]]
>>> exactmd.output_distribution(p, block_refinement(2, 2)).tolist()  # T = 0: the argmax path
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
from exactmd.samplers._engine import RunLaw, exact_run, monte_carlo_run
from exactmd.samplers._records import STS, Draw, Moves, StepBatch
from exactmd.samplers._select import (
    SCORE_RTOL32,
    argmax_onehot,
    carry_over,
    check_filters,
    check_ties,
    draw_top_k,
    first_argmax,
    near,
    remainder_first,
    snap,
    tempered,
    threshold_tie,
)
from exactmd.samplers.base import SamplerSchedule

__all__ = ["BlockRefinement", "block_refinement", "filtered_law"]


def _top_k_filter(q: np.ndarray, top_k: int | None) -> np.ndarray:
    """Keep the values at least as likely as the k-th (ties, within float32 rounding too,
    kept), renormalised."""
    if top_k is None or top_k >= q.shape[-1]:
        return q
    kth = -np.sort(-q, axis=-1)[..., top_k - 1 : top_k]
    out = np.where((q >= kth) | near(q, kth, rtol=SCORE_RTOL32), q, 0.0)
    return out / np.sum(out, axis=-1, keepdims=True)


def _top_p_kept(
    q: np.ndarray, top_p: float, order: np.ndarray, what: str = "block_refinement"
) -> np.ndarray:
    """diffusers' nucleus cut along a descending ``order``: a sorted entry is dropped when
    the mass before it already exceeds ``top_p`` (the first is always kept). Bool, sorted.

    A mass before an entry of positive probability within float32 rounding of ``top_p``
    (absolute ``SCORE_RTOL32``) raises :class:`~exactmd.errors.TieError`: diffusers' float32
    cumulative sum decides that entry's side."""
    sv = np.take_along_axis(q, order, axis=-1)
    cum = np.cumsum(sv, axis=-1)
    close = near(cum[..., :-1], top_p, 1.0, SCORE_RTOL32) & (sv[..., 1:] > 0)
    if np.any(close):
        at = np.argwhere(close)[0]
        raise threshold_tie(
            what,
            f"the top-p cut of the row {q[tuple(at[:-1])].tolist()}",
            float(cum[tuple(at)]),
            top_p,
            SCORE_RTOL32,
        )
    drop = np.zeros(q.shape, dtype=bool)
    drop[..., 1:] = cum[..., :-1] > top_p
    return ~drop


def _straddles(q: np.ndarray, kept_sorted: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Bool ``q.shape[:-1]``: equal positive probabilities on either side of the cut."""
    sv = np.take_along_axis(q, order, axis=-1)
    c = np.sum(kept_sorted, axis=-1, keepdims=True)  # a prefix of the sorted entries
    if q.shape[-1] < 2:
        return np.zeros(q.shape[:-1], dtype=bool)
    last = np.take_along_axis(sv, np.clip(c - 1, 0, q.shape[-1] - 1), axis=-1)[..., 0]
    nxt = np.take_along_axis(sv, np.clip(c, 0, q.shape[-1] - 1), axis=-1)[..., 0]
    return (c[..., 0] < q.shape[-1]) & (last == nxt) & (nxt > 0)


def filtered_law(
    probs: np.ndarray,
    temperature: float,
    top_k: int | None = None,
    top_p: float | None = None,
    *,
    ties: str = "error",
    what: str = "block_refinement",
) -> tuple[np.ndarray, np.ndarray]:
    """The value law and the score of the block-refinement draw at every position.

    Returns ``(law, score)``, float64 arrays of the shape of ``probs`` ``(..., V)``: the
    probability of drawing each value and the confidence the scheduler gives it. At ``T = 0``
    the law is the one-hot of the first maximal ``p`` and the score ``p``; otherwise the law is
    ``softmax(log p / T)`` after the top-k and top-p filters, and the score is that law's
    probability. A top-p cut through equal probabilities raises
    :class:`~exactmd.errors.TieError` (``ties="error"``) or keeps each tied value with the
    share of the cut it gets under a uniformly random order (``ties="split"``; the score of a
    kept value does not depend on the order).

    Examples
    --------
    >>> law, score = filtered_law(np.array([[0.5, 0.3, 0.2]]), 1.0, top_p=0.6)
    >>> law.round(4).tolist(), score.round(4).tolist()
    ([[0.625, 0.375, 0.0]], [[0.625, 0.375, 0.0]])
    """
    if temperature == 0:
        return argmax_onehot(probs, SCORE_RTOL32), np.array(probs, dtype=np.float64)
    q = _top_k_filter(tempered(probs, temperature), top_k)
    if top_p is None or top_p >= 1.0:
        return q, q
    order = np.argsort(-q, axis=-1, kind="stable")
    kept_sorted = _top_p_kept(q, top_p, order, what)
    if ties == "error" and np.any(_straddles(q, kept_sorted, order)):
        raise TieError(
            f"{what}: the top-p cut at {top_p!r} falls between equal probabilities (of "
            "positive probability); pass ties='split' to split ties uniformly"
        )
    sv = np.take_along_axis(q, order, axis=-1)
    c = np.sum(kept_sorted, axis=-1, keepdims=True)
    tie = np.take_along_axis(sv, c - 1, axis=-1)  # the smallest kept probability
    inside = np.sum(np.where(kept_sorted, sv == tie, False), axis=-1, keepdims=True)
    group = np.sum(q == tie, axis=-1, keepdims=True)
    keep = np.where(q > tie, 1.0, np.where(q == tie, inside / group, 0.0))
    z = np.sum(np.where(kept_sorted, sv, 0.0), axis=-1, keepdims=True)
    score = np.where(keep > 0, q / z, 0.0)
    return q * keep / z, score


@dataclass(frozen=True, repr=False)
class BlockRefinement(SamplerSchedule):
    """diffusers' block-refinement sampler; build it with :func:`block_refinement`."""

    steps: int
    block_length: int
    threshold: float = 0.95
    temperature: float = 0.0
    top_p: float | None = None
    top_k: int | None = None
    ties: str = "error"

    name = "block_refinement"

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", check_int(self.steps, "steps", error=ScheduleError))
        object.__setattr__(
            self,
            "block_length",
            check_int(self.block_length, "block_length", error=ScheduleError),
        )
        tau = check_real(self.threshold, "threshold", minimum=0.0, error=ScheduleError)
        object.__setattr__(self, "threshold", tau)
        t = check_real(self.temperature, "temperature", minimum=0.0, error=ScheduleError)
        object.__setattr__(self, "temperature", t)
        tp, tk = check_filters(self.top_p, self.top_k)
        object.__setattr__(self, "top_p", tp)
        object.__setattr__(self, "top_k", tk)
        check_ties(self.ties)

    def __repr__(self) -> str:
        extra = "" if self.top_p is None else f", top_p={self.top_p!r}"
        extra += "" if self.top_k is None else f", top_k={self.top_k!r}"
        extra += "" if self.ties == "error" else f", ties={self.ties!r}"
        return (
            f"block_refinement(steps={self.steps}, block_length={self.block_length}, "
            f"threshold={self.threshold!r}, temperature={self.temperature!r}{extra})"
        )

    @property
    def family(self) -> str:
        return STS

    # -- the schedule ------------------------------------------------------------------------
    def _layout(self, n: int) -> tuple[int, tuple[int, ...]]:
        """(steps per block, quotas) for N = ``n``, with the pipeline's checks."""
        if n % self.block_length:
            raise ScheduleError(
                f"block_length: must divide the generation length N = {n} (LLaDA2Pipeline "
                f"pads a short last block with positions outside the law); received "
                f"{self.block_length}"
            )
        per_block = min(self.steps, n)  # num_inference_steps = min(steps, gen_length // 1)
        return per_block, remainder_first(self.block_length, per_block)

    def _reduction(self, d: Any, prompt: Any) -> None:
        """No reduction under a prompt: ``LLaDA2Pipeline`` aligns its blocks from position 0
        of prompt + generation (``current_window_end = (b + 1) · block_length``; blocks the
        prompt fills are prefilled), so the prompt stays inside the N positions the blocks
        tile, as the engine's own ``prompt`` puts it (unlike LLaDA and Fast-dLLM, whose blocks
        start after the prompt)."""
        return None

    def run_law(self, d: Any, denoiser: Any = None, prompt: Any = None) -> RunLaw:
        """The exact law and call law; a prompt pre-fills positions inside the blocks, as the
        pipeline runs it (see ``_reduction``)."""
        return exact_run(d, self, denoiser, prompt)

    def sample_run(
        self,
        d: Any,
        denoiser: Any,
        count: int,
        rng: np.random.Generator,
        prompt: Any = None,
    ) -> np.ndarray:
        """``count`` runs of the pipeline's loop; a prompt pre-fills positions in the blocks."""
        return monte_carlo_run(d, self, denoiser, count, rng, prompt)

    def max_steps(self, n: int) -> int:
        per_block, _ = self._layout(n)
        return per_block * (n // self.block_length)

    def _quota(self, memory: np.ndarray, n: int) -> np.ndarray:
        _, quotas = self._layout(n)
        return np.asarray(quotas, dtype=np.int64)[np.minimum(memory, len(quotas) - 1)]

    def _done_calls(self, masked: np.ndarray, block: np.ndarray, memory: np.ndarray) -> np.ndarray:
        """Calls of a step that completes its block: itself, the loop's extra call when the
        block ends early, and one per following block without masks (up to the next with)."""
        n = masked.shape[1]
        per_block, _ = self._layout(n)
        blocks = n // self.block_length
        has = masked.reshape(len(masked), blocks, self.block_length).any(axis=2)
        later = np.arange(blocks)[None, :] > block[:, None]
        first_next = np.where(later & has, np.arange(blocks)[None, :], blocks).min(axis=1)
        empty = first_next - block - 1
        return 1 + (memory + 1 < per_block).astype(np.int64) + empty

    def _laws(self, tokens: np.ndarray, probs: np.ndarray, mask: int) -> tuple[np.ndarray, ...]:
        return filtered_law(
            carry_over(tokens, probs, mask),
            self.temperature,
            self.top_k,
            self.top_p,
            ties=self.ties,
            what=repr(self),
        )

    # -- exact -------------------------------------------------------------------------------
    def moves(self, batch: StepBatch) -> Moves:
        rows, n = batch.tokens.shape
        length, tau = self.block_length, self.threshold
        block = int(batch.masked[0]) // length
        cand = batch.masked[
            (batch.masked >= block * length) & (batch.masked < (block + 1) * length)
        ]
        m = len(cand)
        k = int(self._quota(np.array([batch.memory]), n)[0])
        kk = min(k, m)
        law, score = self._laws(batch.tokens, batch.probs, batch.mask)
        sizes = [batch.shape[j] for j in cand]
        width = max(sizes)
        q_c, g_c = law[:, cand, :width], score[:, cand, :width]  # (B, m, V)
        valid = np.arange(width)[None, :] < np.asarray(sizes)[:, None]
        q_c = np.where(valid[None], q_c, 0.0)
        live = q_c > 0
        close = live & near(g_c, tau, rtol=SCORE_RTOL32)
        if np.any(close):
            r, a, v = (int(x) for x in np.argwhere(close)[0])
            where = (
                f"step {batch.step}, tokens {batch.tokens[r].tolist()}, position "
                f"{int(cand[a])} with value {v}"
            )
            raise threshold_tie(repr(self), where, float(g_c[r, a, v]), tau, SCORE_RTOL32)
        # scores within float32 rounding of each other are ties
        g_c = snap(g_c.reshape(rows, -1), live.reshape(rows, -1), rtol=SCORE_RTOL32)
        g_c = g_c.reshape(q_c.shape)
        le_tau = np.sum(q_c * (g_c <= tau), axis=2)  # P(c_j <= τ), (B, m)
        done_calls = int(
            self._done_calls(
                (batch.tokens[:1] == batch.mask), np.array([block]), np.array([batch.memory])
            )[0]
        )
        out_src, out_tok, out_w, out_mem, out_cl = [], [], [], [], []
        sizes_set = sorted(set(range(k, m + 1)) | ({kk} if k >= 1 else set()))
        for s in sizes_set:
            combos = [
                (a, v)
                for a in itertools.combinations(range(m), s)
                for v in itertools.product(*(range(sizes[i]) for i in a))
            ]
            idx = np.array([c[0] for c in combos], dtype=np.int64).reshape(len(combos), s)
            val = np.array([c[1] for c in combos], dtype=np.int64).reshape(len(combos), s)
            prodq = np.prod(q_c[:, idx, val], axis=2)  # (B, C)
            g_sel = g_c[:, idx, val]  # (B, C, s)
            in_a = np.zeros((len(combos), m), dtype=bool)
            np.put_along_axis(in_a, idx, True, axis=1)
            above = np.all(g_sel > tau, axis=2)  # (B, C)
            case_a = above & (s >= k)
            w_a = prodq * np.prod(np.where(in_a[None], 1.0, le_tau[:, None, :]), axis=2)
            weight = np.where(case_a, w_a, 0.0)
            if k >= 1 and s == kk:
                case_b = ~case_a
                w_b = prodq * self._losers(g_c, q_c, g_sel, in_a, case_b & (prodq > 0), batch)
                weight = np.where(case_b, w_b, weight)
            src = np.repeat(np.arange(rows), len(combos))
            tok = np.repeat(batch.tokens[:, None, :], len(combos), axis=1).copy()
            if s:
                pos = cand[idx]
                np.put_along_axis(
                    tok,
                    np.broadcast_to(pos[None], (rows, *pos.shape)),
                    np.broadcast_to(val[None], (rows, *val.shape)),
                    axis=2,
                )
            w = weight.reshape(-1)
            keep = w > 0
            done = s == m
            out_src.append(src[keep])
            out_tok.append(tok.reshape(-1, n)[keep])
            out_w.append(w[keep])
            out_mem.append(np.full(keep.sum(), 0 if done else batch.memory + 1, dtype=np.int64))
            out_cl.append(np.full(keep.sum(), done_calls if done else 1, dtype=np.int64))
        return Moves(
            np.concatenate(out_src),
            np.concatenate(out_tok),
            np.concatenate(out_w),
            np.concatenate(out_mem),
            np.concatenate(out_cl),
        )

    def _losers(
        self,
        g_c: np.ndarray,
        q_c: np.ndarray,
        g_sel: np.ndarray,
        in_a: np.ndarray,
        live: np.ndarray,
        batch: StepBatch,
    ) -> np.ndarray:
        """P(every loser scores below the lowest kept score), ties refused or split (B, C)."""
        low = np.min(g_sel, axis=2)  # (B, C)
        qv = q_c[:, None, :, :]
        gv = g_c[:, None, :, :]
        lo = low[:, :, None, None]
        below = np.where(in_a[None], 1.0, np.sum(qv * (gv < lo), axis=3))  # (B, C, m)
        equal = np.where(in_a[None], 0.0, np.sum(qv * (gv == lo), axis=3))
        if self.ties == "error":
            tied = live & (np.prod(below + equal, axis=2) > np.prod(below, axis=2))
            if np.any(tied):
                b, c = np.argwhere(tied)[0]
                raise TieError(
                    f"{self!r}: a tie of positive probability in the top-k commit at step "
                    f"{batch.step}, tokens {batch.tokens[b].tolist()} (a loser ties with the "
                    f"lowest committed score {float(low[b, c])!r}); pass ties='split' to "
                    "split ties uniformly"
                )
            return np.asarray(np.prod(below, axis=2))
        m = below.shape[2]
        k = g_sel.shape[2]
        poly = np.zeros((*below.shape[:2], m + 1))
        poly[:, :, 0] = 1.0
        for j in range(m):
            shifted = np.concatenate([np.zeros_like(poly[:, :, :1]), poly[:, :, :-1]], axis=2)
            poly = poly * below[:, :, j, None] + shifted * equal[:, :, j, None]
        a = np.sum(g_sel == low[:, :, None], axis=2)
        share = np.array([[1.0 / comb(aa + bb, aa) for bb in range(m + 1)] for aa in range(k + 1)])
        return np.asarray(np.sum(poly * share[a], axis=2))

    # -- drawn -------------------------------------------------------------------------------
    def _sample(
        self, tokens: np.ndarray, probs: np.ndarray, mask: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """diffusers' ``_sample_from_logits``: the drawn values and their scores."""
        probs = carry_over(tokens, probs, mask)
        if self.temperature == 0:
            x = first_argmax(probs, SCORE_RTOL32)
            return x, np.take_along_axis(probs, x[..., None], axis=-1)[..., 0]
        q = _top_k_filter(tempered(probs, self.temperature), self.top_k)
        if self.top_p is not None and self.top_p < 1.0:
            if self.ties == "split":  # a sort that orders equal entries at random
                order = np.lexsort((rng.random(q.shape), -q), axis=-1)
            else:
                order = np.argsort(-q, axis=-1, kind="stable")
            kept_sorted = _top_p_kept(q, self.top_p, order, repr(self))
            if self.ties == "error" and np.any(_straddles(q, kept_sorted, order)):
                raise TieError(f"{self!r}: a tie at the top-p cut in a drawn step")
            kept = np.zeros(q.shape, dtype=bool)
            np.put_along_axis(kept, order, kept_sorted, axis=-1)
            q = np.where(kept, q, 0.0)
            q = q / np.sum(q, axis=-1, keepdims=True)
        u = rng.random(q.shape[:-1])[..., None]
        x = np.minimum(np.sum(np.cumsum(q, axis=-1) <= u, axis=-1), q.shape[-1] - 1)
        x = np.where(np.take_along_axis(q, x[..., None], axis=-1)[..., 0] > 0, x, np.argmax(q, -1))
        return x, np.take_along_axis(q, x[..., None], axis=-1)[..., 0]

    def draw(
        self,
        step: int,
        memory: np.ndarray,
        tokens: np.ndarray,
        probs: np.ndarray,
        shape: tuple[int, ...],
        rng: np.random.Generator,
    ) -> Draw:
        n = tokens.shape[1]
        mask, length = max(shape), self.block_length
        masked = tokens == mask
        block = np.argmax(masked, axis=1) // length  # the first block with a mask
        cand = masked & ((np.arange(n)[None, :] // length) == block[:, None])
        m = cand.sum(axis=1)
        k = self._quota(memory, n)
        x0, score = self._sample(tokens, probs, mask, rng)
        conf = np.where(cand, score, -np.inf)
        close = cand & near(conf, self.threshold, rtol=SCORE_RTOL32)
        if np.any(close):
            r, j = (int(v) for v in np.argwhere(close)[0])
            where = f"a drawn step {step}, tokens {tokens[r].tolist()}, position {j}"
            raise threshold_tie(repr(self), where, float(conf[r, j]), self.threshold, SCORE_RTOL32)
        high = conf > self.threshold
        by_threshold = high.sum(axis=1) >= k
        commit = high.copy()
        rest = np.flatnonzero(~by_threshold)
        if rest.size:
            commit[rest] = draw_top_k(
                conf[rest],
                np.minimum(k[rest], m[rest]),
                self.ties,
                rng,
                repr(self),
                rtol=SCORE_RTOL32,
            )
        new = np.where(commit, x0, tokens)
        done = ~np.any(cand & ~commit, axis=1)
        calls = np.where(done, self._done_calls(masked, block, memory), 1)
        return Draw(new, np.where(done, 0, memory + 1), calls.astype(np.int64))


def block_refinement(
    steps: Any,
    block_length: Any,
    threshold: Any = 0.95,
    temperature: Any = 0.0,
    top_p: Any = None,
    top_k: Any = None,
    *,
    ties: str = "error",
) -> BlockRefinement:
    """diffusers' ``BlockRefinementScheduler`` driven as ``LLaDA2Pipeline`` does (module notes).

    Parameters
    ----------
    steps
        ``num_inference_steps``: steps per block (capped at N, as the pipeline does).
    block_length
        The block size (dividing N).
    threshold
        ``τ >= 0``: scores strictly above it are committed with the quota (the scheduler's
        default 0.95; the pipeline's is 0.7).
    temperature
        ``T >= 0``; 0 is the argmax (``top_p`` and ``top_k`` then unused, as in diffusers).
    top_p, top_k
        The nucleus mass in (0, 1] and the top-k size ``>= 1`` of the value draw (None: off).
    ties
        ``"error"`` or ``"split"`` (see the module notes).

    Examples
    --------
    >>> block_refinement(4, 2, threshold=0.7, temperature=1.0, top_p=0.9)
    block_refinement(steps=4, block_length=2, threshold=0.7, temperature=1.0, top_p=0.9)
    """
    return BlockRefinement(steps, block_length, threshold, temperature, top_p, top_k, ties)
