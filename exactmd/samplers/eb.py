"""The EB-sampler (entropy-bounded unmasking, Ben-Hamu et al. 2025) as UNI-D2's ``EBSampler``
implements it (nkalyanv99/UNI-D2 ``src/discrete_diffusion/sampling/eb_sampler.py`` at
b630127a; SAMPLERS.md §8), exactly.

Each step, with ``q_j = softmax(log p_j / T)`` at every masked position (UNI-D2's
``log_softmax(logits / T)``, the mask column at zero mass; ``T > 0``):

- the error proxy ``e_j`` is the entropy ``H(q_j)`` (``proxy="entropy"``), ``−max q_j``
  (``"confidence"``) or ``−(top1 − top2)`` of ``q_j`` (``"margin"``);
- the masked positions are sorted by increasing ``e_j``, and with the entropies ``h`` in that
  order, ``k`` is the number of prefixes whose ``Σ h − max h`` is at most ``gamma`` (at least
  1: every step reveals);
- the first ``k`` positions get values drawn independently from ``q``.

The revealed set is a deterministic function of the denoiser's rows, so the sampler is
value-independent (a :class:`~exactmd.samplers.base.Plan` with one subset per state): E_fact and
E_learn are defined. A tie in the sort (``torch.argsort`` does not document its order) matters
only when it changes the revealed set; then ``ties="error"`` raises
:class:`~exactmd.errors.TieError` naming the state, and ``ties="split"`` takes every order of
the tied positions as equally likely (the set's law is the share of orders giving it).

Comparisons are **within rounding** (``_select.near``): two proxies within
``1e-12 · max(1, |e|)`` of each other (``SCORE_RTOL``, absolute since the proxies are sums and
differences of probabilities) are tied as above; a prefix's ``Σ h − max h`` within
``1e-12 · max(1, Σ h)`` of ``gamma`` (and not exactly 0, which a zero-entropy prefix gives in
any arithmetic) is on a side the real code's rounding decides, and raises a
:class:`~exactmd.errors.TieError` whatever ``ties``: move ``gamma`` slightly.

UNI-D2 runs at most ``num_steps`` rounds, ``L`` by default; every round reveals at least one
position, so ``N`` rounds always finish (``EB.max_steps``). One denoiser call per round.
Not modelled: UNI-D2's optional nucleus filtering (``p_nucleus``) and float64 switch; the
entropies are computed in float64 with ``0 · log 0 = 0``.

Examples
--------
>>> import numpy as np, exactmd
>>> p = np.array([[0.5, 0.0], [0.1, 0.4]])
>>> s = eb(gamma=0.0)  # one position per step: sequential sampling, π itself
>>> bool(np.allclose(exactmd.output_distribution(p, s), p))
True
>>> exactmd.factorization_error(p, s)
0.0
>>> exactmd.output_distribution(p, eb(gamma=10.0)).round(4).tolist()  # both at once
[[0.3, 0.2], [0.3, 0.2]]
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from math import factorial
from typing import Any

import numpy as np

from exactmd._validate import check_choice, check_real
from exactmd.errors import MemoryPlanError, ScheduleError, TieError
from exactmd.samplers._records import VALUE_INDEPENDENT, Draw, Plan, StepBatch
from exactmd.samplers._select import (
    SCORE_RTOL,
    carry_over,
    check_ties,
    near,
    snap,
    tempered,
    threshold_tie,
)
from exactmd.samplers.base import SamplerSchedule

__all__ = ["EB", "eb", "PROXIES", "MAX_ORDERS"]

#: The error proxies of UNI-D2's ``EBSampler``.
PROXIES = ("entropy", "confidence", "margin")
#: Most orders of tied positions one state may enumerate (``ties="split"`` or the tie check).
MAX_ORDERS = 100_000


def _proxies(q: np.ndarray, proxy: str) -> tuple[np.ndarray, np.ndarray]:
    """(error proxy, entropy) of the value laws ``q`` ``(..., V)``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.sum(np.where(q > 0, q * np.log(q), 0.0), axis=-1)
    if proxy == "entropy":
        return h, h
    if proxy == "confidence":
        return -np.max(q, axis=-1), h
    top = -np.sort(-q, axis=-1)
    second = top[..., 1] if q.shape[-1] > 1 else np.zeros(q.shape[:-1])
    return -(top[..., 0] - second), h


def _budget(h_sorted: np.ndarray, gamma: float) -> np.ndarray:
    """``k`` per row: prefixes with cumulative − running-max entropy <= gamma, at least 1."""
    acc = np.cumsum(h_sorted, axis=-1)
    top = np.maximum.accumulate(h_sorted, axis=-1)
    return np.maximum(np.sum(acc - top <= gamma, axis=-1), 1)


def _budget_tie(h_sorted: np.ndarray, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """Per row: whether a prefix's ``Σ h − max h`` is within rounding of ``gamma`` (the first
    prefix, and exact zeros, excepted: both codes give exactly 0 there), and that value."""
    acc = np.cumsum(h_sorted, axis=-1)
    spend = acc - np.maximum.accumulate(h_sorted, axis=-1)
    close = near(spend, gamma, np.maximum(acc, 1.0)) & (spend != 0)
    close[..., :1] = False
    first = np.argmax(close, axis=-1)
    return np.any(close, axis=-1), np.take_along_axis(spend, first[..., None], axis=-1)[..., 0]


def _tied_orders(err: np.ndarray) -> list[np.ndarray]:
    """Every order of the positions consistent with sorting ``err`` (one row) ascending."""
    order = np.argsort(err, kind="stable")
    values = err[order]
    groups = np.split(order, np.flatnonzero(np.diff(values) != 0) + 1)
    count = 1
    for g in groups:
        count *= factorial(len(g))
    if count > MAX_ORDERS:
        raise MemoryPlanError(
            f"schedule: a state of the EB-sampler has {count:,} orders of tied positions to "
            f"weigh (limit MAX_ORDERS = {MAX_ORDERS:,}); use ties='error' or a smaller law"
        )
    return [
        np.concatenate(choice)
        for choice in itertools.product(*(itertools.permutations(g) for g in groups))
    ]


def _sets(
    err: np.ndarray, h: np.ndarray, gamma: float, ties: str, what: str, where: str
) -> list[tuple[frozenset[int], float]]:
    """The revealed subsets (indices into the row) of one row with ties, and their weights."""
    found: dict[frozenset[int], int] = {}
    orders = _tied_orders(err)
    for order in orders:
        close, spend = _budget_tie(h[order][None, :], gamma)
        if close[0]:
            raise threshold_tie(what, where, float(spend[0]), gamma, SCORE_RTOL)
        k = int(_budget(h[order][None, :], gamma)[0])
        key = frozenset(int(i) for i in order[:k])
        found[key] = found.get(key, 0) + 1
    if ties == "error" and len(found) > 1:
        raise TieError(
            f"{what}: a tie of positive probability in the proxy's order changes the revealed "
            f"set at {where}; pass ties='split' to split ties uniformly"
        )
    return [(z, c / len(orders)) for z, c in found.items()]


@dataclass(frozen=True, repr=False)
class EB(SamplerSchedule):
    """UNI-D2's EB-sampler; build it with :func:`eb`."""

    gamma: float
    proxy: str = "entropy"
    temperature: float = 1.0
    ties: str = "error"

    name = "eb"

    def __post_init__(self) -> None:
        g = check_real(self.gamma, "gamma", minimum=0.0, finite=False, error=ScheduleError)
        object.__setattr__(self, "gamma", g)
        check_choice(self.proxy, "proxy", PROXIES, error=ScheduleError)
        t = check_real(
            self.temperature, "temperature", minimum=0.0, open_min=True, error=ScheduleError
        )
        object.__setattr__(self, "temperature", t)
        check_ties(self.ties)

    def __repr__(self) -> str:
        tie = "" if self.ties == "error" else f", ties={self.ties!r}"
        return (
            f"eb(gamma={self.gamma!r}, proxy={self.proxy!r}, temperature={self.temperature!r}{tie})"
        )

    @property
    def family(self) -> str:
        return VALUE_INDEPENDENT

    def max_steps(self, n: int) -> int:
        return max(n, 1)  # UNI-D2's default num_steps = L; each round reveals >= 1

    def values(self, batch: StepBatch) -> np.ndarray:
        return tempered(carry_over(batch.tokens, batch.probs, batch.mask), self.temperature)

    def _rows_sets(
        self, q: np.ndarray, masked: np.ndarray, where: Any
    ) -> list[list[tuple[frozenset[int], float]]]:
        """Per row: the revealed subsets (positions) with weights, from the value laws."""
        err, h = _proxies(q[:, masked, :], self.proxy)
        err = snap(err, scale=1.0)  # proxies within rounding are tied
        order = np.argsort(err, axis=1, kind="stable")
        h_sorted = np.take_along_axis(h, order, axis=1)
        close, spend = _budget_tie(h_sorted, self.gamma)
        if np.any(close):
            r = int(np.flatnonzero(close)[0])
            raise threshold_tie(repr(self), where(r), float(spend[r]), self.gamma, SCORE_RTOL)
        k = _budget(h_sorted, self.gamma)
        ranked = np.take_along_axis(err, order, axis=1)
        tied = np.any(np.diff(ranked, axis=1) == 0, axis=1)
        out = []
        for b in range(len(q)):
            if tied[b]:
                sets = _sets(err[b], h[b], self.gamma, self.ties, repr(self), where(b))
                out.append([(frozenset(int(masked[i]) for i in z), w) for z, w in sets])
            else:
                out.append([(frozenset(int(masked[i]) for i in order[b, : k[b]]), 1.0)])
        return out

    def plan(self, batch: StepBatch) -> Plan:
        q = self.values(batch)

        def where(b: int) -> str:
            return f"step {batch.step}, tokens {batch.tokens[b].tolist()}"

        src, reveal, weight = [], [], []
        for b, sets in enumerate(self._rows_sets(q, batch.masked, where)):
            for z, w in sets:
                row = np.zeros(batch.n, dtype=bool)
                row[list(z)] = True
                src.append(b)
                reveal.append(row)
                weight.append(w)
        return Plan(np.array(src, dtype=np.int64), np.array(reveal), np.array(weight))

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
        masked = tokens == max(shape)
        q = tempered(carry_over(tokens, probs, max(shape)), self.temperature)
        err, h = _proxies(q, self.proxy)
        err = np.where(masked, err, np.inf)  # only masked positions are planned
        h = np.where(masked, h, 0.0)  # SUBS: a revealed position is one-hot (entropy 0)
        err = snap(err, masked, scale=1.0)  # proxies within rounding are tied
        if self.ties == "split":  # argsort with ties in a uniformly random order
            order = np.lexsort((rng.random(err.shape), err), axis=1)
        else:
            order = np.argsort(err, axis=1, kind="stable")
            ranked = np.take_along_axis(err, order, axis=1)
            same = (ranked[:, 1:] == ranked[:, :-1]) & np.isfinite(ranked[:, 1:])
            for b in np.flatnonzero(np.any(same, axis=1)):
                live = np.flatnonzero(masked[b])
                where = f"step {step}, tokens {tokens[b].tolist()}"
                _sets(err[b, live], h[b, live], self.gamma, "error", repr(self), where)
        h_sorted = np.take_along_axis(h, order, axis=1)
        close, spend = _budget_tie(h_sorted, self.gamma)
        for b in np.flatnonzero(close):
            where = f"a drawn step {step}, tokens {tokens[b].tolist()}"
            raise threshold_tie(repr(self), where, float(spend[b]), self.gamma, SCORE_RTOL)
        k = _budget(h_sorted, self.gamma)
        k = np.maximum(np.minimum(k, masked.sum(axis=1)), 1)
        ranks = np.empty_like(order)
        np.put_along_axis(ranks, order, np.arange(n)[None, :].repeat(rows, axis=0), axis=1)
        reveal = (ranks < k[:, None]) & masked
        with np.errstate(divide="ignore"):
            x = np.argmax(np.log(q) - np.log(-np.log(rng.random(q.shape))), axis=-1)
        return Draw(
            np.where(reveal, x, tokens),
            np.zeros(rows, dtype=np.int64),
            np.ones(rows, dtype=np.int64),
        )


def eb(gamma: Any, proxy: str = "entropy", temperature: Any = 1.0, *, ties: str = "error") -> EB:
    """UNI-D2's EB-sampler as a schedule (see the module notes).

    Parameters
    ----------
    gamma
        The entropy budget ``>= 0`` (``inf`` allowed: every mask in one step); ``0`` reveals
        the zero-entropy prefix plus one position.
    proxy
        ``"entropy"``, ``"confidence"`` or ``"margin"``: the order of the masked positions.
    temperature
        ``T > 0`` of the value law and of the proxies (UNI-D2 refuses 0).
    ties
        ``"error"`` or ``"split"`` (see the module notes).

    Examples
    --------
    >>> eb(0.5, proxy="margin")
    eb(gamma=0.5, proxy='margin', temperature=1.0)
    """
    return EB(gamma, proxy, temperature, ties)
