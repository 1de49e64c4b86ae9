"""Dream's ``DreamGenerationMixin._sample`` (``generation_utils.py``, as vendored in ZHZisZZ/dllm
at ca176752 and NVlabs/Fast-dLLM at 24cc59e7; SAMPLERS.md §4), exactly.

Dream runs ``steps`` rounds (one denoiser call each, always) on the time grid
``t_i = linspace(1, eps, steps + 1)`` in float32 (``dream_timesteps`` reproduces
``torch.linspace`` bit for bit), ``t = t_i``, ``s = t_{i+1}``, over every masked position (no
blocks). Each round, every masked position's row goes through ``sample_tokens``: ``log p``
divided by ``T`` when ``T > 0``, top-p (the token whose sorted cumulative mass crosses ``top_p``
is kept; removed logits set to the dtype's minimum), top-k (ties at the k-th logit kept), a
softmax, then a draw (``T > 0``) or the argmax (``T = 0``, first index). Then:

- ``alg="origin"``: each masked position is revealed independently with probability
  ``1 − s/t`` (float32 arithmetic; 1 at the last round) with its drawn value;
- ``"maskgit_plus"`` / ``"topk_margin"`` / ``"entropy"``: ``k = int(masks · (1 − s/t))`` in
  float32 (all the masks at the last round, so the remainder piles on the last round:
  ``dream_sizes``) positions are revealed, those with the ``k`` highest confidences
  (``alg_temp`` None or 0), or drawn by ``torch.multinomial`` without replacement from
  ``softmax(confidence / alg_temp)`` (Plackett–Luce). The confidence is the drawn value's
  filtered probability (``maskgit_plus``: sample-then-select, at the tempered law), the margin
  top1 − top2 of the filtered law (``topk_margin``) or ``Σ_v q(v) log(q(v) + 1e-10)``
  (``entropy``); the last two do not depend on the drawn value, so those samplers are
  value-independent and have E_fact and E_learn (against the filtered, tempered value law).

Exact laws: ``origin`` is a plan over subsets with Bernoulli weights; ``topk_margin`` and
``entropy`` a deterministic top-k subset or the Plackett–Luce law of the ``k``-subsets (a sum
over orderings, by a recursion over subsets); ``maskgit_plus`` the loser-CDF top-k law
(``_select.top_k_moves``), or with ``alg_temp > 0`` every joint value
of the masked positions times the Plackett–Luce law of its confidences.

Ties of positive probability in a top-k selection raise :class:`~exactmd.errors.TieError`
(``ties="error"``) or are split uniformly (``ties="split"``). A tie at the top-p boundary
(tokens of equal probability of which only some are kept, as ``torch.sort`` orders them) is
always refused: ``ties="split"`` covers the selections only.

Scores are compared **within rounding** (``_select.near``): the real code's confidences are
computed from torch's softmax, exactmd's from its own conditionals, equal to a few ulp. Two
probabilities (``maskgit_plus``) within relative ``SCORE_RTOL = 1e-12`` of each other, or two
margins or negative entropies (differences and sums of probabilities, whose error is absolute)
within ``1e-12 · max(1, |c|)``, are a tie as above; so are two log-probabilities at the top-p
boundary. A cumulative mass within rounding of ``top_p`` (absolute, ``1e-12``) before a token
of positive probability raises :class:`~exactmd.errors.TieError` (which side the crossing token
falls on is decided by the real code's rounding); log-probabilities equal within rounding to
the ``top_k``-th are kept as equal ones are. At the ``T = 0`` argmax of a position,
probabilities equal within ``SCORE_RTOL`` count as equal, and the first of them is taken
(``torch.argmax``'s rule on equal values: ``_select.first_argmax``).

Notes: the exact law takes the float32 value of ``1 − s/t`` as the reveal probability of
``origin`` (``torch.rand``'s float32 grid moves it by at most 2^-24); Dream right-shifts the
model's logits (position ``j`` reads the output at ``j − 1``), a convention of the model's
call, not of the law: the denoiser here gives each position's own row.

Examples
--------
>>> import numpy as np, exactmd
>>> p = np.array([[0.4, 0.2], [0.1, 0.3]])
>>> exactmd.output_distribution(p, dream(steps=2, temperature=1.0)).round(4).tolist()
[[0.35, 0.25], [0.15, 0.25]]
>>> dream_sizes(2, steps=2), dream_sizes(2, steps=2, eps=0.0)
((0, 2), (1, 1))
>>> s = dream(steps=2, alg="entropy", temperature=1.0, eps=0.0)  # the surer position first
>>> exactmd.output_distribution(p, s).round(12).tolist()
[[0.4, 0.2], [0.1, 0.3]]
>>> dream_sizes(8, steps=8), dream_sizes(6, steps=4)
((0, 1, 1, 1, 1, 1, 1, 2), (1, 1, 1, 3))
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from math import comb
from typing import Any

import numpy as np

from exactmd._validate import check_choice, check_int, check_real
from exactmd.errors import ScheduleError, TieError
from exactmd.samplers._records import STS, VALUE_INDEPENDENT, Draw, Moves, Plan, StepBatch
from exactmd.samplers._select import (
    SCORE_RTOL,
    argmax_onehot,
    check_filters,
    check_ties,
    draw_top_k,
    first_argmax,
    near,
    snap,
    threshold_tie,
    top_k_moves,
)
from exactmd.samplers.base import SamplerSchedule

__all__ = ["Dream", "dream", "dream_timesteps", "dream_sizes", "ALGS"]

#: Dream's ``alg`` values.
ALGS = ("origin", "maskgit_plus", "topk_margin", "entropy")
_F32 = np.float32
_MIN = float(np.finfo(np.float64).min)  # masked_fill's value for the removed logits


# -- the float32 time grid ----------------------------------------------------------------------


def _round32(x: Fraction) -> np.float32:
    """``x`` rounded once to float32 (nearest, ties to even)."""
    c = _F32(float(x))
    best = c
    for cand in (np.nextafter(c, _F32(-np.inf)), np.nextafter(c, _F32(np.inf))):
        d, e = abs(Fraction(float(cand)) - x), abs(Fraction(float(best)) - x)
        if d < e or (d == e and int(cand.view(np.int32)) % 2 == 0):
            best = cand
    return _F32(best)


@lru_cache(maxsize=256)
def _grid(steps: int, eps: float) -> tuple[float, ...]:
    n = steps + 1
    start, end = _F32(1.0), _F32(eps)
    step = _F32(_F32(end - start) / _F32(n - 1))
    fs, fe, fd = Fraction(float(start)), Fraction(float(end)), Fraction(float(step))
    out = []
    for i in range(n):  # torch's CPU kernel: two halves, each one fused multiply-add
        if i < n // 2:
            out.append(_round32(fs + fd * Fraction(float(_F32(i)))))
        else:
            out.append(_round32(fe - fd * Fraction(float(_F32(n - 1 - i)))))
    return tuple(float(v) for v in out)


def dream_timesteps(steps: Any, eps: Any = 1e-3) -> np.ndarray:
    """``torch.linspace(1, eps, steps + 1)`` in float32, bit for bit.

    torch's kernel computes ``step = (end − start) / (steps − 1)`` in float32, then
    ``start + step · i`` for the first half of the indices and ``end − step · (steps − 1 − i)``
    for the second, each rounded once (a fused multiply-add); this reproduces it exactly.

    Parameters
    ----------
    steps
        Dream's number of steps (the grid has ``steps + 1`` points).
    eps
        The last time, in ``[0, 1)``.

    Returns
    -------
    numpy.ndarray
        float32 ``(steps + 1,)``.

    Examples
    --------
    >>> dream_timesteps(4, 0.0).tolist()
    [1.0, 0.75, 0.5, 0.25, 0.0]
    """
    steps = check_int(steps, "steps", error=ScheduleError)
    eps = check_real(eps, "eps", minimum=0.0, maximum=1.0, open_max=True, error=ScheduleError)
    return np.array(_grid(steps, eps), dtype=np.float32)


def _ratio(i: int, steps: int, eps: float) -> np.float32:
    """``1 − s/t`` in float32 at round ``i`` (the last round excluded)."""
    g = _grid(steps, eps)
    return _F32(_F32(1.0) - _F32(_F32(g[i + 1]) / _F32(g[i])))


def _reveal_probability(i: int, steps: int, eps: float) -> float:
    return 1.0 if i >= steps - 1 else float(_ratio(i, steps, eps))


def _transfer_count(masks: int, i: int, steps: int, eps: float) -> int:
    """``int(masks · (1 − s/t))`` in float32; all the masks at the last round."""
    if i >= steps - 1:
        return int(masks)
    return int(_F32(_F32(masks) * _ratio(i, steps, eps)))


def dream_sizes(n: Any, steps: Any, eps: Any = 1e-3) -> tuple[int, ...]:
    """How many positions each round of the non-origin algorithms reveals, from ``n`` masks.

    Examples
    --------
    >>> dream_sizes(4, steps=2)  # int(4 · 0.4995) = 1, then the rest
    (1, 3)
    """
    n = check_int(n, "n", minimum=0)
    steps = check_int(steps, "steps", error=ScheduleError)
    eps = check_real(eps, "eps", minimum=0.0, maximum=1.0, open_max=True, error=ScheduleError)
    out, left = [], n
    for i in range(steps):
        k = _transfer_count(left, i, steps, eps)
        out.append(k)
        left -= k
    return tuple(out)


# -- sample_tokens' value law -------------------------------------------------------------------


def _filtered(
    probs: np.ndarray,
    temperature: float,
    top_p: float | None,
    top_k: int | None,
    what: str,
    where: str,
) -> np.ndarray:
    """``softmax`` of ``log probs`` (``/ T`` when ``T > 0``) after top-p and top-k, on rows
    ``(R, q)``; a tie at the top-p boundary raises :class:`~exactmd.errors.TieError`."""
    with np.errstate(divide="ignore"):
        logits = np.log(probs)
    if temperature > 0:
        logits = logits / temperature
    rows, width = logits.shape
    if top_p is not None and top_p < 1 and rows:
        order = np.argsort(-logits, axis=1, kind="stable")
        ranked = np.take_along_axis(logits, order, axis=1)
        e = np.exp(ranked - ranked[:, :1])
        cum = np.cumsum(e / e.sum(axis=1, keepdims=True), axis=1)
        # a cumulative mass within rounding of top_p before a token of positive probability:
        # whether that token is cut is decided by the real code's rounding
        close = near(cum[:, :-1], top_p, 1.0) & np.isfinite(ranked[:, 1:])
        if np.any(close):
            b, j = (int(v) for v in np.argwhere(close)[0])
            at = f"{where}, the top-p cut of the row {probs[b].tolist()}"
            raise threshold_tie(what, at, float(cum[b, j]), top_p, SCORE_RTOL)
        remove = np.zeros_like(cum, dtype=bool)
        remove[:, 1:] = cum[:, :-1] > top_p  # the token that crosses top_p stays
        kept = width - remove.sum(axis=1)
        if np.any(kept < width):
            r = np.flatnonzero(kept < width)
            last = ranked[r, kept[r] - 1]
            nxt = ranked[r, np.minimum(kept[r], width - 1)]
            tied = near(last, nxt, 1.0) & np.isfinite(last)  # equal within rounding
            if np.any(tied):
                b = int(r[np.flatnonzero(tied)[0]])
                raise TieError(
                    f"{what}: top_p={top_p!r} keeps some but not all of several tokens of equal "
                    f"probability ({probs[b].tolist()}) {where}; which ones depends on "
                    "torch.sort's order of equal logits (ties='split' covers selections only)"
                )
        drop = np.zeros_like(remove)
        np.put_along_axis(drop, order, remove, axis=1)
        logits = np.where(drop, _MIN, logits)
    if top_k is not None and rows:
        kth = -np.sort(-logits, axis=1)[:, min(top_k, width) - 1 : min(top_k, width)]
        # values equal to the k-th are kept (torch's `logits < kth`), within rounding too
        logits = np.where((logits < kth) & ~near(logits, kth, 1.0), _MIN, logits)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def _pl_subsets(w: np.ndarray, k: int) -> dict[tuple[int, ...], np.ndarray]:
    """The Plackett–Luce probability that the first ``k`` draws without replacement from the
    weights ``w (..., m)`` form each ``k``-subset: ``P(S) = Σ_{j∈S} P(S∖j) w_j / (W − w(S∖j))``
    (the sum over the orderings of S)."""
    m = w.shape[-1]
    total = w.sum(axis=-1)
    law: dict[tuple[int, ...], np.ndarray] = {(): np.ones(w.shape[:-1])}
    for size in range(1, k + 1):
        nxt: dict[tuple[int, ...], np.ndarray] = {}
        for sub in itertools.combinations(range(m), size):
            acc = np.zeros(w.shape[:-1])
            for j in sub:
                rest = tuple(x for x in sub if x != j)
                left = total - (w[..., list(rest)].sum(axis=-1) if rest else 0.0)
                with np.errstate(divide="ignore", invalid="ignore"):
                    term = np.where(left > 0, law[rest] * w[..., j] / left, 0.0)
                acc = acc + term
            nxt[sub] = acc
        law = nxt
    return law


# -- the schedule -------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class Dream(SamplerSchedule):
    """Dream's sampler; build it with :func:`dream`."""

    steps: int
    alg: str = "origin"
    temperature: float = 0.0
    eps: float = 1e-3
    alg_temp: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    ties: str = "error"

    name = "dream"

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", check_int(self.steps, "steps", error=ScheduleError))
        check_choice(self.alg, "alg", ALGS, error=ScheduleError)
        t = check_real(self.temperature, "temperature", minimum=0.0)
        object.__setattr__(self, "temperature", t)
        eps = check_real(
            self.eps, "eps", minimum=0.0, maximum=1.0, open_max=True, error=ScheduleError
        )
        object.__setattr__(self, "eps", eps)
        if self.alg_temp is not None:
            a = check_real(self.alg_temp, "alg_temp", minimum=0.0, error=ScheduleError)
            object.__setattr__(self, "alg_temp", a)
        tp, tk = check_filters(self.top_p, self.top_k)
        object.__setattr__(self, "top_p", tp)
        object.__setattr__(self, "top_k", tk)
        check_ties(self.ties)

    def __repr__(self) -> str:
        parts = [f"steps={self.steps}", f"alg={self.alg!r}", f"temperature={self.temperature!r}"]
        if self.eps != 1e-3:
            parts.append(f"eps={self.eps!r}")
        for key in ("alg_temp", "top_p", "top_k"):
            if getattr(self, key) is not None:
                parts.append(f"{key}={getattr(self, key)!r}")
        if self.ties != "error":
            parts.append(f"ties={self.ties!r}")
        return f"dream({', '.join(parts)})"

    @property
    def family(self) -> str:
        return STS if self.alg == "maskgit_plus" else VALUE_INDEPENDENT

    @property
    def _plackett_luce(self) -> bool:
        return self.alg != "origin" and self.alg_temp is not None and self.alg_temp > 0

    def max_steps(self, n: int) -> int:
        return self.steps

    def trailing_calls(self, step: int, memory: int) -> int:
        return self.steps - step  # Dream always runs its steps

    # -- the laws of one round ---------------------------------------------------------------
    def _law(self, probs: np.ndarray, temperature: float, where: str) -> np.ndarray:
        """The filtered law of rows ``(..., q)`` at ``temperature``."""
        flat = probs.reshape(-1, probs.shape[-1])
        out = _filtered(flat, temperature, self.top_p, self.top_k, repr(self), where)
        return out.reshape(probs.shape)

    def _batch_law(self, batch: StepBatch, temperature: float) -> np.ndarray:
        """(B, N, q): the filtered law at the masked positions, zeros elsewhere."""
        out = np.zeros(batch.probs.shape)
        where = f"at step {batch.step}, tokens {batch.tokens[0].tolist()} (or a state like it)"
        out[:, batch.masked] = self._law(batch.probs[:, batch.masked], temperature, where)
        return out

    def values(self, batch: StepBatch) -> np.ndarray:
        law = self._batch_law(batch, self.temperature)
        if self.temperature > 0:
            return law
        return np.where(batch.tokens[:, :, None] == batch.mask, argmax_onehot(law), 0.0)

    def _confidence(self, law: np.ndarray) -> np.ndarray:
        """The value-independent confidences (margin or negative entropy) of rows ``(..., q)``."""
        if self.alg == "topk_margin":
            ranked = -np.sort(-law, axis=-1)
            second = ranked[..., 1] if law.shape[-1] > 1 else 0.0
            return ranked[..., 0] - second
        return np.sum(law * np.log(law + 1e-10), axis=-1)

    def _check_weights(self, w: np.ndarray, k: int, batch: StepBatch) -> None:
        """Refuse ``k`` draws from fewer positive weights, unless every position is taken."""
        positive = np.sum(w > 0, axis=-1)
        if k < batch.n and np.any(positive < k):
            raise ScheduleError(
                f"schedule: {self!r}: softmax(confidence / alg_temp) has only "
                f"{int(positive.min())} positive weights for {k} draws at step {batch.step}, "
                f"tokens {batch.tokens[0].tolist()} (or a state like it); torch.multinomial "
                "would then pick among zero-weight positions, revealed ones included"
            )

    def plan(self, batch: StepBatch) -> Plan | None:
        if self.alg == "maskgit_plus":
            return None
        rows, m = len(batch.tokens), len(batch.masked)
        if self.alg == "origin":
            r = _reveal_probability(batch.step, self.steps, self.eps)
            subsets = [s for k in range(m + 1) for s in itertools.combinations(range(m), k)]
            weights = [r ** len(s) * (1.0 - r) ** (m - len(s)) for s in subsets]
            return self._plan_rows(batch, [subsets] * rows, [weights] * rows)
        k = _transfer_count(m, batch.step, self.steps, self.eps)
        if k == 0:
            return self._plan_rows(batch, [[()]] * rows, [[1.0]] * rows)
        conf = self._confidence(self._batch_law(batch, self.temperature)[:, batch.masked])
        if self._plackett_luce:
            assert self.alg_temp is not None
            w = _softmax(conf / self.alg_temp)
            self._check_weights(w, k, batch)
            if k >= m:  # every masked position
                return self._plan_rows(batch, [[tuple(range(m))]] * rows, [[1.0]] * rows)
            law = _pl_subsets(w, k)
            subs = list(law)
            return self._plan_rows(
                batch, [subs] * rows, [[float(law[s][b]) for s in subs] for b in range(rows)]
            )
        all_subs, all_w = [], []
        for b in range(rows):
            subs, ws = _top_k_subsets(conf[b], k, self.ties, repr(self), batch, b)
            all_subs.append(subs)
            all_w.append(ws)
        return self._plan_rows(batch, all_subs, all_w)

    def _plan_rows(
        self, batch: StepBatch, subsets: list[list[tuple[int, ...]]], weights: list[list[float]]
    ) -> Plan:
        src, rev, w = [], [], []
        for b, (subs, ws) in enumerate(zip(subsets, weights)):
            for sub, wt in zip(subs, ws):
                row = np.zeros(batch.n, dtype=bool)
                row[batch.masked[list(sub)]] = True
                src.append(b)
                rev.append(row)
                w.append(wt)
        return Plan(np.array(src, dtype=np.int64), np.array(rev), np.array(w))

    def moves(self, batch: StepBatch) -> Moves:
        if self.alg != "maskgit_plus":
            return super().moves(batch)
        m = len(batch.masked)
        k = _transfer_count(m, batch.step, self.steps, self.eps)
        law = self._batch_law(batch, self.temperature)  # the score: the filtered probability
        values = self.values(batch)
        if not self._plackett_luce:
            return top_k_moves(batch, batch.masked, k, values, law, self.ties, repr(self))
        return self._pl_value_moves(batch, k, values, law)

    def _pl_value_moves(
        self, batch: StepBatch, k: int, values: np.ndarray, law: np.ndarray
    ) -> Moves:
        """maskgit_plus with ``alg_temp > 0``: every joint value of the masked positions, times
        the Plackett–Luce law of the ``k``-subsets under its confidences."""
        assert self.alg_temp is not None
        rows, n = batch.tokens.shape
        cand = batch.masked
        if k == 0:
            return Moves(np.arange(rows), batch.tokens.copy(), np.ones(rows))
        sizes = [batch.shape[j] for j in cand]
        grid = np.indices(sizes).reshape(len(cand), -1).T  # (T, m)
        prob = np.prod(values[:, cand[None, :], grid], axis=2)  # (B, T)
        w = _softmax(law[:, cand[None, :], grid] / self.alg_temp)  # (B, T, m)
        self._check_weights(np.where(prob[..., None] > 0, w, 1.0), k, batch)
        if k >= len(cand):  # every masked position: the values' law alone
            return top_k_moves(batch, cand, k, values, law, self.ties, repr(self))
        pl = _pl_subsets(w, k)
        src, tok, wts = [], [], []
        for sub, p_sub in pl.items():
            sub_sizes = [sizes[j] for j in sub]
            codes = np.ravel_multi_index(tuple(grid[:, list(sub)].T), sub_sizes)  # (T,)
            kk = int(np.prod(sub_sizes))
            onehot = np.zeros((len(grid), kk))
            onehot[np.arange(len(grid)), codes] = 1.0
            agg = (prob * p_sub) @ onehot  # (B, K)
            vals = np.array(np.unravel_index(np.arange(kk), sub_sizes)).T  # (K, |S|)
            t = np.repeat(batch.tokens[:, None, :], kk, axis=1).copy()
            t[:, :, cand[list(sub)]] = vals[None]
            src.append(np.repeat(np.arange(rows), kk))
            tok.append(t.reshape(-1, n))
            wts.append(agg.reshape(-1))
        return Moves(np.concatenate(src), np.concatenate(tok), np.concatenate(wts))

    # -- the drawn round -----------------------------------------------------------------------
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
        masked = tokens == mask
        safe = np.where(masked[:, :, None], probs, np.eye(probs.shape[2])[0])
        law = self._law(safe, self.temperature, f"at step {step} of a drawn run")
        if self.temperature > 0:  # Categorical(probs).sample()
            cum = np.cumsum(law, axis=2)
            u = rng.random((rows, n, 1)) * cum[:, :, -1:]
            x0 = np.minimum(np.sum(cum <= u, axis=2), law.shape[2] - 1)
            conf = np.take_along_axis(law, x0[:, :, None], axis=2)[:, :, 0]
        else:
            x0 = first_argmax(law)
            conf = np.max(law, axis=2)
        if self.alg == "origin":
            r = _reveal_probability(step, self.steps, self.eps)
            moved = masked & (rng.random((rows, n)) < r) if r < 1 else masked
            return Draw(np.where(moved, x0, tokens), memory, np.ones(rows, dtype=np.int64))
        if self.alg != "maskgit_plus":
            conf = self._confidence(law)
        conf = np.where(masked, conf, -np.inf)
        k = np.array(
            [_transfer_count(int(c), step, self.steps, self.eps) for c in masked.sum(axis=1)],
            dtype=np.int64,
        )
        if not self._plackett_luce:
            scale = 0.0 if self.alg == "maskgit_plus" else 1.0  # margins, entropies: absolute
            keep = draw_top_k(conf, k, self.ties, rng, repr(self), scale=scale)
        else:
            assert self.alg_temp is not None
            w = _softmax(conf / self.alg_temp)
            if np.any((np.sum(w > 0, axis=1) < k) & (k < n)):
                raise ScheduleError(
                    f"schedule: {self!r}: softmax(confidence / alg_temp) has fewer positive "
                    f"weights than the {int(k.max())} draws at step {step}; torch.multinomial "
                    "would then pick among zero-weight positions, revealed ones included"
                )
            # torch.multinomial without replacement: the top k of w / Exp(1)
            keys = np.where(w > 0, w / rng.exponential(size=w.shape), -np.inf)
            keep = draw_top_k(keys, k, "split", rng, repr(self), rtol=0.0)  # exact: random keys
            keep |= masked & (k >= masked.sum(axis=1))[:, None]
        return Draw(np.where(keep, x0, tokens), memory, np.ones(rows, dtype=np.int64))


def _top_k_subsets(
    conf: np.ndarray, k: int, ties: str, what: str, batch: StepBatch, row: int
) -> tuple[list[tuple[int, ...]], list[float]]:
    """The ``k`` highest of ``conf (m,)`` as index tuples with weights (a tie at the cut split
    uniformly, or a :class:`~exactmd.errors.TieError`)."""
    m = len(conf)
    conf = snap(conf, scale=1.0)  # margins, entropies: equal within absolute rounding
    ranked = np.sort(conf)[::-1]
    if k >= m:
        return [tuple(range(m))], [1.0]
    cut = ranked[k - 1]
    if cut != ranked[k]:
        return [tuple(sorted(np.argsort(-conf, kind="stable")[:k].tolist()))], [1.0]
    if ties == "error":
        raise TieError(
            f"{what}: a tie in the top-{k} selection at step {batch.step}, tokens "
            f"{batch.tokens[row].tolist()} (masked positions {batch.masked.tolist()} with "
            f"confidences {conf.tolist()}); pass ties='split' to split ties uniformly"
        )
    above = [int(j) for j in np.flatnonzero(conf > cut)]
    group = [int(j) for j in np.flatnonzero(conf == cut)]
    need = k - len(above)
    subs = [tuple(sorted(above + list(c))) for c in itertools.combinations(group, need)]
    return subs, [1.0 / comb(len(group), need)] * len(subs)


def dream(
    steps: Any,
    alg: str = "origin",
    temperature: Any = 0.0,
    eps: Any = 1e-3,
    alg_temp: Any = None,
    top_p: Any = None,
    top_k: Any = None,
    *,
    ties: str = "error",
) -> Dream:
    """Dream's ``diffusion_generate`` (``_sample``) as a schedule (see the module notes).

    Parameters
    ----------
    steps
        Number of rounds (each one denoiser call).
    alg
        ``"origin"``, ``"maskgit_plus"``, ``"topk_margin"`` or ``"entropy"``.
    temperature
        ``T >= 0`` of ``sample_tokens``; 0 is the argmax.
    eps
        The last time of the grid, in ``[0, 1)``.
    alg_temp
        None or 0: the top-k confidences; ``> 0``: Plackett–Luce on
        ``softmax(confidence / alg_temp)``. Not used by ``origin``.
    top_p
        Nucleus filtering, in ``(0, 1]`` (1 or None: none).
    top_k
        Keep the logits at least the k-th largest (an integer ``>= 1``; None: none).
    ties
        ``"error"`` raises :class:`~exactmd.errors.TieError` on a tie of positive
        probability in a top-k selection; ``"split"`` splits it uniformly.

    Examples
    --------
    >>> dream(4, alg="entropy", top_k=2)
    dream(steps=4, alg='entropy', temperature=0.0, top_k=2)
    >>> dream(4, alg="topk_margin").family
    'value-independent'
    """
    return Dream(steps, alg, temperature, eps, alg_temp, top_p, top_k, ties)
