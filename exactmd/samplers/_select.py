"""Shared parts of the samplers: value laws, size rules, and the exact top-k selection law.

- :func:`tempered`: the value law ``softmax(log p / T)`` of every position (``T = 0``: the
  one-hot of ``torch.argmax``, the first maximal index, values equal within rounding counted
  as equal: :func:`first_argmax`), computed in log space;
- :func:`remainder_first`: LLaDA's ``get_num_transfer_tokens`` (``m // s`` per step, the
  remainder on the earliest steps);
- :func:`top_k_moves`: the exact law of "draw a value at every candidate, keep the ``k`` best
  scores" by the loser-CDF factorisation (SAMPLERS.md §1.1):
  ``P(A, v_A) = Π_{i∈A} q_i(v_i) · Π_{j∈C∖A} P(c_j < min_{i∈A} g_i(v_i))``, with ties of
  positive probability refused (:class:`~exactmd.errors.TieError`) or split uniformly;
- :func:`draw_top_k`: the same selection on drawn scores, for the Monte Carlo run;
- :func:`near`, :func:`below`, :func:`snap`, :func:`threshold_tie`: the one rule for comparing
  scores (below).

**Scores are compared within rounding.** exactmd's scores are its own conditionals (sums of
the table), the real code's are ``softmax(logits)`` computed by torch: the same number up to a
few ulp, not bit for bit. So two scores count as equal when
``|a − b| <= rtol · max(|a|, |b|, scale) + SCORE_ATOL`` (:func:`near`), with
``rtol = SCORE_RTOL = 1e-12`` for float64 scores: about 4500 ulp, far above the few ulp of a
float64 softmax of float64 logits (and of exactmd's sums of up to thousands of table entries),
far below any difference a law means. ``scale`` is the magnitude of the terms a score is built
from: 0 for a probability (its error is relative), 1 for a margin ``p1 − p2`` or a (negative)
entropy ``Σ p log p`` (their error is absolute, a few ulp of the probabilities). Codes that
score in float32 (diffusers' block refinement) use ``SCORE_RTOL32 = 1e-6`` (about 8 float32
ulp). Then:

- near-equal candidates are **ties**: :func:`snap` replaces every cluster of near-equal scores
  of a state (single linkage over the sorted scores) by its largest member, so that the exact
  law's "equal" and "below" are those of the snapped scores: ``ties="error"`` refuses them,
  ``ties="split"`` splits them uniformly, and the split weights still sum to 1; the drawn
  (Monte Carlo) selections snap their drawn scores the same way;
- a score near a **threshold** is a boundary whose side the real code's rounding decides:
  :func:`threshold_tie` builds the :class:`~exactmd.errors.TieError` every sampler raises then,
  whatever ``ties`` (a split does not apply to a threshold).

Away from the band nothing changes: :func:`snap` returns its input itself when no two scores
are near but unequal, so laws are bit-identical there.

Examples
--------
>>> import numpy as np
>>> tempered(np.array([[[0.2, 0.8]]]), 0.0).tolist()
[[[0.0, 1.0]]]
>>> remainder_first(5, 3)
(2, 2, 1)
"""

from __future__ import annotations

import functools
import itertools
from math import comb
from typing import Any

import numpy as np

from exactmd._validate import check_int, check_real
from exactmd.backends._tuning import TUNINGS
from exactmd.errors import ScheduleError, TieError, ValidationError, describe
from exactmd.samplers._records import Moves, StepBatch

__all__ = [
    "TIES",
    "check_ties",
    "tempered",
    "argmax_onehot",
    "first_argmax",
    "remainder_first",
    "top_k_moves",
    "draw_values",
    "draw_top_k",
    "carry_over",
    "SCORE_RTOL",
    "SCORE_RTOL32",
    "SCORE_ATOL",
    "near",
    "below",
    "snap",
    "threshold_tie",
]

#: How a selection treats ties of positive probability.
TIES = ("error", "split")

#: Relative tolerance within which two float64 scores (or a score and a threshold) are equal.
SCORE_RTOL = 1e-12
#: The same for scores the real code computes in float32 (diffusers' block refinement).
SCORE_RTOL32 = 1e-6
#: Absolute floor: scores below the smallest normal float64 are equal to 0.
SCORE_ATOL = float(np.finfo(np.float64).tiny)


def near(a: object, b: object, scale: float = 0.0, rtol: float = SCORE_RTOL) -> np.ndarray:
    """Bool: ``a == b`` or, both finite, ``|a − b| <= rtol · max(|a|, |b|, scale) + SCORE_ATOL``.

    >>> near(0.9, 0.8999999999999999).tolist(), near(0.9, 0.9 + 1e-6).tolist()
    (True, False)
    """
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        size = np.maximum(np.maximum(np.abs(x), np.abs(y)), scale)
        close = np.isfinite(x) & np.isfinite(y) & (np.abs(x - y) <= rtol * size + SCORE_ATOL)
    return np.asarray((x == y) | close)


def below(a: object, b: object, scale: float = 0.0, rtol: float = SCORE_RTOL) -> np.ndarray:
    """Bool: ``a < b`` and not :func:`near` (``a`` is below ``b`` whatever the rounding)."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.asarray((x < y) & ~near(x, y, scale, rtol))


def snap(
    x: np.ndarray,
    live: np.ndarray | None = None,
    scale: float = 0.0,
    rtol: float = SCORE_RTOL,
) -> np.ndarray:
    """``x`` with every cluster of :func:`near` entries along the last axis (single linkage over
    the sorted ``live`` entries) replaced by its largest member; other entries unchanged.

    Returns ``x`` itself when no two live entries are near but unequal (the common case), so
    exact comparisons of the result are those of ``x`` there.

    >>> snap(np.array([0.4242424242424242, 0.42424242424242425, 0.2])).tolist()
    [0.42424242424242425, 0.42424242424242425, 0.2]
    """
    x = np.asarray(x, dtype=np.float64)
    width = x.shape[-1] if x.ndim else 0
    if width < 2 or rtol == 0 or x.size == 0:
        return x
    flat = x.reshape(-1, width)
    alive = np.ones(flat.shape, dtype=bool) if live is None else np.broadcast_to(live, x.shape)
    alive = alive.reshape(-1, width)
    key = np.where(alive, flat, np.nan)  # NaN sorts last and links to nothing
    order = np.argsort(key, axis=1, kind="stable")
    s = np.take_along_axis(key, order, axis=1)
    link = near(s[:, 1:], s[:, :-1], scale, rtol)
    if not np.any(link & (s[:, 1:] != s[:, :-1])):
        return x
    is_end = np.concatenate([~link, np.ones((len(s), 1), dtype=bool)], axis=1)
    ends = np.where(is_end, np.arange(width)[None, :], width)
    last = np.minimum.accumulate(ends[:, ::-1], axis=1)[:, ::-1]  # the end of each cluster
    out = np.empty_like(flat)
    np.put_along_axis(out, order, np.take_along_axis(s, last, axis=1), axis=1)
    return np.where(alive, out, flat).reshape(x.shape)


def threshold_tie(what: str, where: str, score: float, tau: float, rtol: float) -> TieError:
    """The :class:`~exactmd.errors.TieError` of a score within rounding of a threshold."""
    return TieError(
        f"{what}: a score within rounding of the threshold at {where}: score {score!r} against "
        f"threshold {tau!r} (relative tolerance {rtol:g}); which side it falls on is decided "
        "by the real code's floating-point softmax of its logits, not by the law, so the "
        "run's law is not defined there (ties='split' does not apply to a threshold); move "
        "the threshold slightly (e.g. by 1e-6)"
    )


def check_filters(top_p: Any, top_k: Any) -> tuple[float | None, int | None]:
    """Validate the value filters ``top_p`` (None or in (0, 1]) and ``top_k`` (None or an
    integer >= 1) of Dream and diffusers; a :class:`~exactmd.errors.ScheduleError` names the
    argument."""
    tp = None
    if top_p is not None:
        tp = check_real(
            top_p, "top_p", minimum=0.0, maximum=1.0, open_min=True, error=ScheduleError
        )
    tk = None if top_k is None else check_int(top_k, "top_k", error=ScheduleError)
    return tp, tk


def check_ties(ties: object) -> str:
    """Validate the ``ties`` argument."""
    if ties not in TIES:
        raise ValidationError(f"ties: must be 'error' or 'split'; received {describe(ties)}")
    return str(ties)


def first_argmax(x: np.ndarray, rtol: float = SCORE_RTOL) -> np.ndarray:
    """The index of the first entry along the last axis within rounding (:func:`near`, scale
    0) of the largest: ``torch.argmax``'s first-index rule, with entries equal within
    rounding counted as equal (``rtol = 0``: exactly ``np.argmax``).

    >>> x = np.array([0.3, 0.1 + 0.2, 0.2])  # 0.3 < 0.30000000000000004
    >>> int(np.argmax(x)), int(first_argmax(x)), int(first_argmax(x, rtol=0))
    (1, 0, 1)
    """
    x = np.asarray(x, dtype=np.float64)
    top = np.argmax(x, axis=-1)
    if rtol == 0 or x.shape[-1] < 2:
        return top
    best = np.take_along_axis(x, top[..., None], axis=-1)
    return np.argmax(near(x, best, 0.0, rtol), axis=-1)


def argmax_onehot(probs: np.ndarray, rtol: float = SCORE_RTOL) -> np.ndarray:
    """The one-hot of :func:`first_argmax` along the last axis (``torch.argmax``'s rule on
    values equal within rounding)."""
    out = np.zeros_like(probs)
    np.put_along_axis(out, first_argmax(probs, rtol)[..., None], 1.0, axis=-1)
    return out


def tempered(probs: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log probs / T)`` along the last axis, zeros kept; ``T = 0``: the argmax.

    A row of zeros (a user denoiser's row at a revealed position) stays zeros."""
    if temperature == 0:
        return argmax_onehot(probs)
    if temperature == 1:  # softmax(log p) is p normalised (a faster, exact form)
        total = np.sum(probs, axis=-1, keepdims=True)
        return np.divide(probs, total, out=np.zeros_like(probs), where=total > 0)
    with np.errstate(divide="ignore"):
        logp = np.log(probs) / temperature
    top = np.max(logp, axis=-1, keepdims=True)
    w = np.exp(logp - np.where(np.isfinite(top), top, 0.0))
    total = np.sum(w, axis=-1, keepdims=True)
    if np.all(total > 0):
        return w / total
    return np.divide(w, total, out=np.zeros_like(w), where=total > 0)


def remainder_first(m: int, s: int) -> tuple[int, ...]:
    """``m`` tokens over ``s`` steps: ``m // s`` each, the remainder on the earliest steps."""
    base, rem = divmod(int(m), int(s))
    return tuple(base + (1 if i < rem else 0) for i in range(int(s)))


def top_k_moves(
    batch: StepBatch,
    cand: np.ndarray,
    k: int,
    values: np.ndarray,
    scores: np.ndarray,
    ties: str,
    what: str,
    memory: int = 0,
    scale: float = 0.0,
    rtol: float = SCORE_RTOL,
) -> Moves:
    """The exact moves of "keep the ``k`` highest scores among the candidates".

    Scores within rounding of each other (:func:`near`) are ties (:func:`snap`).

    Parameters
    ----------
    batch
        The states.
    cand
        The candidates: int ``(m,)`` positions common to the batch, or bool ``(B, N)``, each
        row's own (its rows are then grouped by their candidates' count and alphabet sizes and
        computed group by group, vectorised over the states of a group).
    k
        How many are kept, ``k >= 0``; a row with fewer candidates keeps them all.
    values
        ``(B, N, q)`` value law of the draws.
    scores
        ``(B, N, q)``: the score ``g_j(u)`` of drawing ``u`` at ``j``.
    ties
        ``"error"`` or ``"split"`` (see the module notes).
    what
        The sampler, named in a :class:`~exactmd.errors.TieError`.
    memory
        The memory of every move.
    scale, rtol
        The tolerance of :func:`near` (see the module notes).
    """
    rows, n = batch.tokens.shape
    c = np.asarray(cand)
    if c.ndim == 1:
        groups = [(np.arange(rows), np.broadcast_to(c.astype(np.int64), (rows, len(c))))]
    else:
        if c.shape != (rows, n) or c.dtype != bool:
            raise ValueError(f"cand: must be int (m,) or bool (B, N); received {c.shape}")
        groups = _candidate_groups(c, batch.shape)
    src_out, tok_out, w_out = [], [], []
    chunk = TUNINGS["numpy"].selection_chunk_entries
    for members, cand_rows in groups:
        m = cand_rows.shape[1]
        kk = min(int(k), m)
        if kk == 0 or m == 0:
            src_out.append(members)
            tok_out.append(batch.tokens[members])
            w_out.append(np.ones(len(members)))
            continue
        sizes = tuple(batch.shape[j] for j in cand_rows[0])
        per_row = len(_combos(kk, sizes)[0]) * m
        step = max(1, chunk // per_row)
        for lo in range(0, len(members), step):
            part = members[lo : lo + step]
            tok, w = _top_k_rows(
                batch,
                part,
                cand_rows[lo : lo + step],
                kk,
                sizes,
                values,
                scores,
                ties,
                what,
                scale,
                rtol,
            )
            src_out.append(np.repeat(part, tok.shape[1]))
            tok_out.append(tok.reshape(-1, n))
            w_out.append(w.reshape(-1))
    if not src_out:
        return Moves(np.zeros(0, np.int64), np.zeros((0, n), np.int64), np.zeros(0), memory)
    if len(src_out) == 1:
        return Moves(src_out[0], tok_out[0], w_out[0], memory)
    return Moves(np.concatenate(src_out), np.concatenate(tok_out), np.concatenate(w_out), memory)


def _candidate_groups(
    cand: np.ndarray, shape: tuple[int, ...]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The rows of a bool ``(B, N)`` candidate mask grouped by their candidates' count and
    alphabet sizes (in position order): ``(rows, positions (R, m))`` per group."""
    count = cand.sum(axis=1)
    out = []
    for m in np.unique(count).tolist():
        members = np.flatnonzero(count == m)
        pos = np.nonzero(cand[members])[1].reshape(len(members), m)  # sorted per row
        sig = np.asarray(shape, dtype=np.int64)[pos]
        if m == 0 or np.all(sig == sig[:1]):
            out.append((members, pos))
            continue
        _, inverse = np.unique(sig, axis=0, return_inverse=True)  # mixed alphabets
        inverse = inverse.reshape(-1)
        out.extend((members[inverse == g], pos[inverse == g]) for g in np.unique(inverse))
    return out


def _top_k_rows(
    batch: StepBatch,
    part: np.ndarray,
    cand: np.ndarray,
    k: int,
    sizes: tuple[int, ...],
    values: np.ndarray,
    scores: np.ndarray,
    ties: str,
    what: str,
    scale: float,
    rtol: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The loser-CDF law of the rows ``part`` of the batch, whose candidates are ``cand``
    (int ``(P, m)``, alphabet sizes ``sizes``), keeping ``1 <= k <= m``: successor tokens
    ``(P, C, N)`` and weights ``(P, C)``, one column per (kept set, kept values)."""
    rows, m = cand.shape
    width = max(sizes)
    r = part[:, None]
    q_c = values[r, cand, :width]  # (P, m, V)
    valid = np.arange(width)[None, :] < np.asarray(sizes)[:, None]  # (m, V)
    live = (valid[None] & (q_c > 0)).reshape(rows, -1)
    g_c = snap(scores[r, cand, :width].reshape(rows, -1), live, scale, rtol).reshape(q_c.shape)
    idx, val, in_a = _combos(k, sizes)  # (C, k), (C, k), (C, m)
    combos = idx  # one row per (kept set, kept values)
    prodq = np.prod(q_c[:, idx, val], axis=2)  # (P, C)
    g_sel = g_c[:, idx, val]  # (P, C, k)
    low = np.min(g_sel, axis=2)  # (P, C)
    # per loser j: P(c_j < low) and P(c_j == low)
    qv = (q_c if valid.all() else np.where(valid[None], q_c, 0.0))[:, None, :, :]  # (P,1,m,V)
    gv = g_c[:, None, :, :]
    if width < 8:
        # the sum over values, value by value: the order np.sum uses below 8 terms, without
        # its (P, C, m, V) temporaries and slow reduction over a short last axis
        lo = low[:, :, None]
        below = np.where(gv[..., 0] < lo, qv[..., 0], 0.0)
        equal = np.where(gv[..., 0] == lo, qv[..., 0], 0.0)
        for v in range(1, width):
            below += np.where(gv[..., v] < lo, qv[..., v], 0.0)
            equal += np.where(gv[..., v] == lo, qv[..., v], 0.0)
    else:
        lo = low[:, :, None, None]
        below = np.sum(qv * (gv < lo), axis=3)  # (P, C, m)
        equal = np.sum(qv * (gv == lo), axis=3)
    below = np.where(in_a[None], 1.0, below)
    equal = np.where(in_a[None], 0.0, equal)
    if ties == "error":
        lose = np.prod(below, axis=2)
        tied = (prodq > 0) & (np.prod(below + equal, axis=2) > lose)
        if np.any(tied):
            b, c = np.argwhere(tied)[0]
            raise TieError(
                f"{what}: a tie of positive probability in the top-{k} selection at step "
                f"{batch.step}, tokens {batch.tokens[part[b]].tolist()} (candidates "
                f"{cand[b].tolist()}, positions {cand[b, idx[c]].tolist()} with values "
                f"{val[c].tolist()} tie with another candidate at score {float(low[b, c])!r}, "
                "equal within rounding: see SCORE_RTOL); pass ties='split' to split ties "
                "uniformly"
            )
    else:
        # Σ_b P(exactly b losers tie at the lowest kept score, the rest below) / C(a + b, a)
        poly = np.zeros((rows, len(combos), m + 1))
        poly[:, :, 0] = 1.0
        for j in range(m):
            shifted = np.concatenate([np.zeros_like(poly[:, :, :1]), poly[:, :, :-1]], axis=2)
            poly = poly * below[:, :, j, None] + shifted * equal[:, :, j, None]
        a = np.sum(g_sel == low[:, :, None], axis=2)  # kept members at the lowest score
        share = np.array([[1.0 / comb(aa + bb, aa) for bb in range(m + 1)] for aa in range(k + 1)])
        lose = np.sum(poly * share[a], axis=2)
    weight = prodq * lose  # (P, C)
    tok = np.repeat(batch.tokens[part][:, None, :], len(combos), axis=1)
    kept = np.take_along_axis(cand[:, None, :], np.broadcast_to(idx[None], (rows, *idx.shape)), 2)
    np.put_along_axis(tok, kept, np.broadcast_to(val[None], kept.shape), axis=2)
    return tok, weight


@functools.lru_cache(maxsize=1024)
def _combos(k: int, sizes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every kept set of ``k`` candidates (ranks) with every assignment of their values, in
    the order of ``itertools`` (sets, then values): ranks ``(C, k)``, values ``(C, k)`` and
    membership ``(C, m)``, read-only."""
    combos = [
        (a, v)
        for a in itertools.combinations(range(len(sizes)), k)
        for v in itertools.product(*(range(sizes[i]) for i in a))
    ]
    idx = np.array([c[0] for c in combos], dtype=np.int64).reshape(len(combos), k)
    val = np.array([c[1] for c in combos], dtype=np.int64).reshape(len(combos), k)
    in_a = np.zeros((len(combos), len(sizes)), dtype=bool)
    np.put_along_axis(in_a, idx, True, axis=1)
    for a in (idx, val, in_a):
        a.flags.writeable = False
    return idx, val, in_a


def draw_values(probs: np.ndarray, temperature: float, rng: np.random.Generator) -> np.ndarray:
    """LLaDA's ``add_gumbel_noise`` then argmax: ``argmax p / (−log U)^T`` (float64 U); the
    argmax of ``p`` at ``T = 0``. Draws a value at every position: int ``(B, N)``."""
    if temperature == 0:
        return first_argmax(probs)
    u = rng.random(probs.shape)
    return np.argmax(probs / (-np.log(u)) ** temperature, axis=-1)


def draw_top_k(
    conf: np.ndarray,
    k: np.ndarray,
    ties: str,
    rng: np.random.Generator,
    what: str,
    scale: float = 0.0,
    rtol: float = SCORE_RTOL,
) -> np.ndarray:
    """Bool ``(B, N)``: the ``k[b]`` highest finite ``conf[b]`` of each row (``-inf`` never).

    A tie (within rounding, :func:`snap`; ``rtol = 0``: exact) between the last kept and the
    first dropped score raises a :class:`~exactmd.errors.TieError` (``ties="error"``) or is
    broken uniformly at random.
    """
    rows, n = conf.shape
    conf = snap(conf, np.isfinite(conf), scale, rtol)
    jitter = rng.random(conf.shape) if ties == "split" else np.zeros(conf.shape)
    order = np.lexsort((jitter, -conf), axis=1) if rows else np.zeros((0, n), dtype=np.int64)
    ranked = np.take_along_axis(conf, order, axis=1)
    keep = np.arange(n)[None, :] < k[:, None]
    if ties == "error":
        inner = (k > 0) & (k < n)
        kk = np.clip(k, 1, n - 1)
        last = np.take_along_axis(ranked, (kk - 1)[:, None], axis=1)[:, 0]
        nxt = np.take_along_axis(ranked, kk[:, None], axis=1)[:, 0]
        bad = inner & (last == nxt) & np.isfinite(nxt)
        if np.any(bad):
            raise TieError(
                f"{what}: a tie in a drawn top-k selection; pass ties='split' (scores equal "
                "within rounding, see SCORE_RTOL, are ties)"
            )
    out = np.zeros((rows, n), dtype=bool)
    np.put_along_axis(out, order, keep, axis=1)
    return out


def carry_over(tokens: np.ndarray, probs: np.ndarray, mask: int) -> np.ndarray:
    """``probs`` with every revealed position replaced by the one-hot of its value (the SUBS
    carry-over of MDLM-style models), so that a value law computed at every position is
    defined whatever a denoiser returns there."""
    out = np.array(probs, dtype=np.float64)
    revealed = tokens != mask
    if np.any(revealed):
        rows, cols = np.nonzero(revealed)
        out[rows, cols, :] = 0.0
        out[rows, cols, tokens[rows, cols]] = 1.0
    return out
