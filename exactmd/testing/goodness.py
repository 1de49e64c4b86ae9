"""Goodness of fit of samples to an exact law: the statistics behind the sampler assertions.

The test, in order:

1. **Impossible outcomes.** A sample whose exact probability is 0 (below ``zero_atol``), or
   that holds a value outside its alphabet (for example the mask id left in place), fails at
   once: no p-value is needed, and the report names the outcomes and their counts.
2. **Level.** With M samples and c outcomes of positive probability, the full joint table is
   tested when ``M >= min_expected * c`` (on average enough samples per cell). Otherwise the
   outcome space is too large for the sample, and every marginal on ``order`` variables is
   tested instead (all pairs by default), with a **Bonferroni** correction over the
   ``C(N, order)`` tables: the family rejects when ``min p * C(N, order) <= alpha`` (for the
   global null this is also Holm's first step, so Holm rejects exactly when Bonferroni does).
3. **Statistic on one table.** Pearson's X² with **pooling**: the cells whose expected count
   is below ``min_expected`` (default 5, Cochran's rule) are merged into one pooled cell,
   smallest first; if that cell is still below ``min_expected`` the next smallest cells join
   it. The p-value is the chi-square tail with ``cells − 1`` degrees of freedom. No random
   numbers are used, so an assertion is a deterministic function of the samples.

The false-alarm rate of this procedure, measured over many seeds, is recorded in
``docs/oracle.md``; it is close to ``alpha``.

Examples
--------
>>> import numpy as np
>>> law = np.array([[0.5, 0.0], [0.25, 0.25]])
>>> rng = np.random.default_rng(0)
>>> flat = rng.choice(4, size=2000, p=law.reshape(-1))
>>> samples = np.stack(np.unravel_index(flat, law.shape), axis=1)
>>> result = goodness_of_fit(samples, law)
>>> result.level, result.pvalue > 1e-3
('joint', True)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from math import comb
from typing import Any

import numpy as np

from exactmd.backends import is_torch_tensor, to_host
from exactmd.errors import ValidationError, describe
from exactmd.testing._checks import check_real

__all__ = ["GoodnessOfFit", "goodness_of_fit", "as_samples", "pooled_chi2", "chi2_sf"]

_SHOW = 5  # outcomes listed on each side in a report


def chi2_sf(statistic: float, df: int) -> float:
    """The chi-square survival function ``P[χ²_df >= statistic]`` (scipy, imported lazily).

    Examples
    --------
    >>> round(chi2_sf(3.841458820694124, 1), 6)
    0.05
    """
    from scipy.stats import chi2

    if df <= 0:
        return 1.0
    return float(chi2.sf(statistic, df))


def as_samples(samples: Any, n: int, name: str = "samples") -> np.ndarray:
    """Validate samples as an int64 array ``(M, N)`` (numpy, torch or nested lists).

    Raises
    ------
    ValidationError
        When the array is not 2-D with N columns, is empty, or does not hold integers.
    """
    arr = to_host(samples)
    if arr.ndim != 2 or arr.shape[1] != n or arr.shape[0] == 0:
        raise ValidationError(
            f"{name}: must be an int array of shape (M, {n}) with M >= 1; "
            f"received shape {arr.shape}"
        )
    if not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool):
        raise ValidationError(f"{name}: must hold integers; received dtype {arr.dtype}")
    return arr.astype(np.int64)


@dataclass
class GoodnessOfFit:
    """The outcome of :func:`goodness_of_fit`.

    Attributes
    ----------
    pvalue : float
        The (Bonferroni-adjusted, for marginals) p-value; 0 when an impossible outcome appeared.
    statistic : float
        Pearson's X² on the pooled table (of the worst marginal, for marginals).
    df : int
        Degrees of freedom of that table.
    level : str
        ``"joint"``, ``"marginals of order k"`` or ``"impossible outcomes"``.
    samples : int
        M, the number of samples.
    tables : int
        Number of tables tested (1 for the joint).
    subset : tuple of int
        The variables of the table reported (all of them for the joint).
    impossible : list
        ``(outcome, count)`` for observed outcomes of exact probability 0.
    over, under : list
        ``(outcome, observed, expected)`` for the most over- and under-represented outcomes.
    """

    pvalue: float
    statistic: float
    df: int
    level: str
    samples: int
    tables: int = 1
    subset: tuple[int, ...] = ()
    impossible: list[tuple[tuple[int, ...], int]] = field(default_factory=list)
    over: list[tuple[tuple[int, ...], int, float]] = field(default_factory=list)
    under: list[tuple[tuple[int, ...], int, float]] = field(default_factory=list)

    def rejects(self, alpha: float) -> bool:
        """Whether the test rejects at level ``alpha``."""
        return bool(self.impossible) or self.pvalue <= alpha

    def message(self, alpha: float, what: str = "samples") -> str:
        """A human-readable report, used as the assertion message."""
        if self.impossible:
            shown = ", ".join(f"{o} x{c}" for o, c in self.impossible[:10])
            more = len(self.impossible) - 10
            tail = f" (and {more} more)" if more > 0 else ""
            total = sum(c for _, c in self.impossible)
            return (
                f"{what}: {total} of {self.samples} samples are outcomes of exact probability 0 "
                f"(or hold values outside the alphabets, e.g. a mask id left in place): "
                f"{shown}{tail}"
            )
        verdict = "inconsistent" if self.rejects(alpha) else "consistent"
        head = (
            f"{what} are {verdict} with the exact law at alpha={alpha:g}: "
            f"Pearson X2={self.statistic:.4g}, df={self.df}, p-value={self.pvalue:.3g} "
            f"(M={self.samples}, test on {self.level}"
        )
        if self.tables > 1:
            head += f", {self.tables} tables, Bonferroni-adjusted; worst table {self.subset}"
        head += ")"
        lines = [head]
        names = "x"
        if self.level != "joint":
            names = "(" + ", ".join(f"X{i}" for i in self.subset) + ")"
        for title, rows in (("over-represented", self.over), ("under-represented", self.under)):
            if rows:
                lines.append(f"  most {title} {names}: observed vs expected count")
                lines += [f"    {o}: {c} vs {e:.1f}" for o, c, e in rows]
        return "\n".join(lines)


def pooled_chi2(
    observed: np.ndarray, expected: np.ndarray, min_expected: float
) -> tuple[float, int]:
    """Pearson's X² after pooling cells with expected count below ``min_expected``.

    Parameters
    ----------
    observed, expected
        Counts per cell (1-D, same length); cells with ``expected == 0`` must have
        ``observed == 0`` and are dropped.
    min_expected
        The pooling threshold.

    Returns
    -------
    (statistic, df)

    Examples
    --------
    >>> stat, df = pooled_chi2(np.array([8, 2, 90]), np.array([3.0, 3.0, 94.0]), 5.0)
    >>> round(stat, 4), df  # cells (10 vs 6) and (90 vs 94)
    (2.8369, 1)
    """
    keep = expected > 0
    obs = observed[keep].astype(np.float64)
    exp = expected[keep].astype(np.float64)
    order = np.argsort(exp, kind="stable")
    obs, exp = obs[order], exp[order]
    cut = int(np.searchsorted(exp, min_expected, side="left"))  # cells [0, cut) are small
    if cut > 0:
        pooled_e = float(exp[:cut].sum())
        while pooled_e < min_expected and cut < exp.size:
            pooled_e += float(exp[cut])
            cut += 1
        obs = np.concatenate([[obs[:cut].sum()], obs[cut:]])
        exp = np.concatenate([[pooled_e], exp[cut:]])
    if exp.size < 2:
        return 0.0, 0
    return float(np.sum((obs - exp) ** 2 / exp)), int(exp.size - 1)


def _residual_lists(
    counts: np.ndarray, expected: np.ndarray, shape: tuple[int, ...]
) -> tuple[list[tuple[tuple[int, ...], int, float]], list[tuple[tuple[int, ...], int, float]]]:
    pos = np.flatnonzero(expected > 0)
    resid = (counts[pos] - expected[pos]) / np.sqrt(expected[pos])
    order = np.argsort(resid, kind="stable")

    def row(j: int) -> tuple[tuple[int, ...], int, float]:
        cell = int(pos[j])
        outcome = tuple(int(v) for v in np.unravel_index(cell, shape))
        return outcome, int(counts[cell]), float(expected[cell])

    over = [row(int(j)) for j in order[::-1][:_SHOW] if resid[j] > 0]
    under = [row(int(j)) for j in order[:_SHOW] if resid[j] < 0]
    return over, under


def goodness_of_fit(
    samples: Any,
    law: Any,
    *,
    order: int | str | None = "auto",
    min_expected: float = 5.0,
    zero_atol: float = 1e-15,
) -> GoodnessOfFit:
    """Test samples against an exact law (see the module docstring for the procedure).

    Parameters
    ----------
    samples
        Int array ``(M, N)``.
    law
        The exact law, an array of shape ``(q_0, …, q_{N-1})`` summing to 1.
    order
        ``"auto"`` (the joint when ``M >= min_expected * c``, else all pairs), ``None`` or
        ``"joint"`` for the joint, or an int k for all marginals on k variables.
    min_expected
        Cells with a smaller expected count are pooled.
    zero_atol
        Outcomes with exact probability at most this are impossible.

    Raises
    ------
    ValidationError
        For ``min_expected`` not finite and > 0, ``zero_atol`` not finite and >= 0, a bad
        ``order``, or samples not an int array ``(M, N)``.

    Returns
    -------
    GoodnessOfFit
    """
    min_expected = check_real(min_expected, "min_expected", positive=True)
    zero_atol = check_real(zero_atol, "zero_atol")
    if hasattr(law, "numpy") and not is_torch_tensor(law):  # a Distribution
        law = law.numpy()
    table = to_host(law, dtype=np.float64)
    shape = tuple(int(s) for s in table.shape)
    n = len(shape)
    x = as_samples(samples, n)
    m = x.shape[0]
    qs = np.asarray(shape, dtype=np.int64)
    outside = np.any((x < 0) | (x >= qs[None, :]), axis=1)
    flat_law = table.reshape(-1)
    codes = np.full(m, -1, dtype=np.int64)
    if np.any(~outside):
        codes[~outside] = np.ravel_multi_index(tuple(x[~outside].T), shape)
    impossible_rows = outside.copy()
    impossible_rows[~outside] = flat_law[codes[~outside]] <= zero_atol
    if impossible_rows.any():
        outcomes, counts = np.unique(x[impossible_rows], axis=0, return_counts=True)
        rank = np.argsort(-counts, kind="stable")
        bad = [(tuple(int(v) for v in outcomes[j]), int(counts[j])) for j in rank]
        return GoodnessOfFit(0.0, float("inf"), 0, "impossible outcomes", m, 1, (), bad)
    support = int(np.count_nonzero(flat_law > zero_atol))
    if order == "auto":
        order = None if (n == 1 or m >= min_expected * support) else 2
    if order in (None, "joint") or order == n:
        counts_all = np.bincount(codes, minlength=flat_law.size)
        expected = np.where(flat_law > zero_atol, flat_law, 0.0) * m
        stat, df = pooled_chi2(counts_all, expected, min_expected)
        over, under = _residual_lists(counts_all, expected, shape)
        return GoodnessOfFit(
            chi2_sf(stat, df), stat, df, "joint", m, 1, tuple(range(n)), [], over, under
        )
    if not isinstance(order, int) or isinstance(order, bool) or not 1 <= order <= n:
        raise ValidationError(
            f"order: must be 'auto', None/'joint' or an int in 1..N={n}; received {describe(order)}"
        )
    tables = comb(n, order)
    worst: tuple[float, float, int, tuple[int, ...]] | None = None
    for subset in itertools.combinations(range(n), order):
        drop = tuple(i for i in range(n) if i not in subset)
        marg = table.sum(axis=drop) if drop else table
        sub_shape = tuple(shape[i] for i in subset)
        sub_codes = np.ravel_multi_index(tuple(x[:, list(subset)].T), sub_shape)
        counts = np.bincount(sub_codes, minlength=marg.size)
        stat, df = pooled_chi2(counts, marg.reshape(-1) * m, min_expected)
        pval = chi2_sf(stat, df)
        if worst is None or pval < worst[0] or (pval == worst[0] and stat > worst[1]):
            worst = (pval, stat, df, subset)
    assert worst is not None
    pval, stat, df, subset = worst
    sub_shape = tuple(shape[i] for i in subset)
    drop = tuple(i for i in range(n) if i not in subset)
    marg = (table.sum(axis=drop) if drop else table).reshape(-1)
    counts = np.bincount(
        np.ravel_multi_index(tuple(x[:, list(subset)].T), sub_shape), minlength=marg.size
    )
    over, under = _residual_lists(counts, marg * m, sub_shape)
    return GoodnessOfFit(
        min(1.0, pval * tables),
        stat,
        df,
        f"marginals of order {order}",
        m,
        tables,
        subset,
        [],
        over,
        under,
    )
