"""Goodness of fit of samples to an exact law: the statistics behind the sampler assertions.

The test, in order:

1. **The law** is validated (:func:`exactmd.as_distribution`, as ``law``: no NaN, inf or
   negative entries, total 1). A law with a single possible outcome is refused
   (:class:`~exactmd.errors.NoPowerError`): no test of fit has anything to test
   once the impossible outcomes are checked (compare the samples with that outcome).
2. **Impossible outcomes.** A sample whose exact probability is 0 (below ``zero_atol``), or
   that holds a value outside its alphabet (for example the mask id left in place), fails at
   once: no p-value is needed, and the report names the outcomes and their counts.
3. **Level.** With M samples and c outcomes of positive probability, the full joint table is
   tested when ``M >= min_expected * c`` (on average enough samples per cell). Otherwise the
   outcome space is large for the sample, and ``order="auto"`` tests every pairwise marginal
   **and** the joint (by the exact test, since its expected counts are small): the pairs
   have the power against spread-out deviations, the joint against samples piled on
   outcomes whose pairs look ordinary (the same improbable outcome M times). An int
   ``order=k`` tests the k-variable marginals only. A **Bonferroni** correction runs over
   the tables that have at least 2 possible cells: the family rejects when
   ``min p * tables <= alpha`` (for the global null this is also Holm's first step).
4. **Test of one table** (:func:`exactmd.testing.multinomial.table_test`): Pearson's X² with
   the chi-square tail when every expected count is at least ``min_expected`` (Cochran's
   rule); an **exact** multinomial test of X² when every expected count is below it
   (enumerated, or a seeded **Monte Carlo** p-value from ``mc_draws`` tables drawn from the
   exact law when there are too many tables to enumerate); in between, the small cells are
   pooled for the chi-square test and the counts inside the pooled cell get the exact test,
   the two combined by Šidák's rule. A test is never reported with df = 0: every table
   tested has at least 2 cells, and the smallest p-value it can return at this M is recorded
   (``min_pvalue``), so that the assertions refuse a test that cannot reject at alpha.

The p-values are deterministic functions of the samples (the Monte Carlo draws are seeded).
The false-alarm rate of this procedure, measured over many seeds, is recorded in
``docs/oracle.md``; it is close to ``alpha`` (at most alpha for the exact tests).

Examples
--------
>>> import numpy as np
>>> law = np.array([[0.5, 0.0], [0.25, 0.25]])
>>> rng = np.random.default_rng(0)
>>> flat = rng.choice(4, size=2000, p=law.reshape(-1))
>>> samples = np.stack(np.unravel_index(flat, law.shape), axis=1)
>>> result = goodness_of_fit(samples, law)
>>> result.level, result.method, result.pvalue > 1e-3
('joint', 'chi-square', True)
>>> few = goodness_of_fit(np.tile([1, 1], (6, 1)), law)  # 6 x an outcome of probability 1/4
>>> few.method, few.df, round(few.pvalue, 6)  # exact multinomial test: P[X2 >= observed]
('exact', 2, 0.000488)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from exactmd._validate import check_int, check_order, check_real
from exactmd.backends import to_host
from exactmd.errors import NoPowerError, ValidationError, describe
from exactmd.testing.multinomial import MC_DRAWS, smallest_pvalue, table_test

__all__ = [
    "GoodnessOfFit",
    "goodness_of_fit",
    "as_samples",
    "as_law",
    "plan_tables",
    "family_smallest_pvalue",
    "pooled_chi2",
    "chi2_sf",
]

_SHOW = 5  # outcomes listed on each side in a report
ZERO_ATOL = 1e-15


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
    try:
        arr = to_host(samples)
    except (TypeError, ValueError) as exc:  # ragged lists, objects numpy cannot read
        raise ValidationError(
            f"{name}: must be an int array of shape (M, {n}) with M >= 1; received "
            f"{describe(samples)}, which is not an array ({type(exc).__name__}: {exc})"
        ) from exc
    if arr.ndim != 2 or arr.shape[1] != n or arr.shape[0] == 0:
        raise ValidationError(
            f"{name}: must be an int array of shape (M, {n}) with M >= 1; "
            f"received shape {arr.shape}"
        )
    if not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool):
        raise ValidationError(f"{name}: must hold integers; received dtype {arr.dtype}")
    return arr.astype(np.int64)


def as_law(law: Any, name: str = "law") -> np.ndarray:
    """Validate ``law`` with :func:`exactmd.as_distribution` (naming ``name``) and return it as
    a float64 numpy table divided by its total (a float32 law is checked at its tolerance).

    Raises
    ------
    DistributionError
        For NaN, inf or negative entries, a total that is not 1, an empty axis...

    Examples
    --------
    >>> as_law([[0.5, 0.5], [0.5, 0.5]])
    Traceback (most recent call last):
    ...
    exactmd.errors.DistributionError: law: entries must sum to 1 within 1e-08; received a total of 2
    """
    from exactmd.law.distribution import as_distribution

    table = np.asarray(
        as_distribution(law, backend="numpy", dtype="float64", name=name).numpy(),
        dtype=np.float64,
    )
    return table / table.sum()


@dataclass
class GoodnessOfFit:
    """The outcome of :func:`goodness_of_fit`.

    Attributes
    ----------
    pvalue : float
        The (Bonferroni-adjusted, for marginals) p-value; 0 when an impossible outcome appeared.
    statistic : float
        Pearson's X² of the table reported (of the worst marginal, for marginals): the pooled
        table when cells were pooled, every cell for the exact test.
    df : int
        ``cells − 1`` of that table (at least 1; 0 only for impossible outcomes).
    level : str
        ``"joint"``, ``"marginals of order k"`` (``"... and the joint"`` in ``"auto"`` mode) or
        ``"impossible outcomes"``.
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
    method : str
        The test of the table reported: ``"chi-square"``, ``"exact"``, ``"monte carlo"``,
        ``"pooled chi-square + exact"`` or ``"pooled chi-square + monte carlo"`` (see
        :mod:`exactmd.testing.multinomial`).
    pool_cells, pool_count : int
        Cells pooled in that table and the samples in the pooled cell (0: no pooling).
    pool_statistic, pool_pvalue, chi2_pvalue : float or None
        X² and p-value of the exact test inside the pooled cell, and the chi-square p-value of
        the pooled table (``None`` where not computed).
    mc_draws : int
        Monte Carlo tables drawn for the table reported (0: none).
    seed : int
        The seed of those draws.
    min_pvalue : float
        The smallest p-value this test could return with these M samples (for marginals, with
        the Bonferroni factor). When it exceeds alpha the test cannot reject, and the
        assertions refuse it (:class:`~exactmd.errors.NoPowerError`).
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
    method: str = "chi-square"
    pool_cells: int = 0
    pool_count: int = 0
    pool_statistic: float | None = None
    pool_pvalue: float | None = None
    chi2_pvalue: float | None = None
    mc_draws: int = 0
    seed: int = 0
    min_pvalue: float = 0.0

    def rejects(self, alpha: float) -> bool:
        """Whether the test rejects at level ``alpha``."""
        return bool(self.impossible) or self.pvalue <= alpha

    def describe_method(self) -> str:
        """One phrase saying how the p-value of the table reported was computed."""
        mc = (
            f"Monte Carlo p-value from {self.mc_draws} tables drawn from the exact law, "
            f"seed {self.seed}"
        )
        if self.method == "chi-square":
            return "chi-square"
        if self.method in ("exact", "monte carlo"):
            how = "exact multinomial test" if self.method == "exact" else mc
            return f"{how}: expected counts too small for the chi-square approximation"
        inner = "exact multinomial test" if self.method.endswith("exact") else mc
        return (
            f"chi-square on the table with {self.pool_cells} cells of small expected count "
            f"pooled (p={self.chi2_pvalue:.3g}); inside the pooled cell ({self.pool_count} "
            f"samples) X2={self.pool_statistic:.4g}, {inner} (p={self.pool_pvalue:.3g}); "
            "combined by Sidak's rule"
        )

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
        head += f"; {self.describe_method()})"
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


def plan_tables(
    table: np.ndarray, m: int, order: Any = "auto", min_expected: float = 5.0
) -> tuple[str, list[tuple[tuple[int, ...], np.ndarray]]]:
    """The tables the test uses with ``m`` samples: ``(level, [(subset, marginal), ...])``.

    ``marginal`` is the flat marginal law of ``subset`` (the joint: every variable). Tables with
    fewer than 2 cells of positive probability are left out: they cannot reject.

    Examples
    --------
    >>> law = np.full((2, 2, 2), 1 / 8)
    >>> level, tables = plan_tables(law, 10)
    >>> level, [s for s, _ in tables]
    ('marginals of order 2 and the joint', [(0, 1), (0, 2), (1, 2), (0, 1, 2)])
    >>> plan_tables(law, 10, order=1)[0]
    'marginals of order 1'
    """
    shape = table.shape
    n = len(shape)
    support = int(np.count_nonzero(table > ZERO_ATOL))
    joint = (tuple(range(n)), table.reshape(-1))
    with_joint = order == "auto" and n > 2
    if order == "auto":
        order = None if (n == 1 or m >= min_expected * support) else 2
    if order in (None, "joint") or order == n:
        return "joint", [joint]
    if not isinstance(order, int) or isinstance(order, bool) or not 1 <= order <= n:
        raise ValidationError(
            f"order: must be 'auto', None/'joint' or an int in 1..N={n}; received {describe(order)}"
        )
    out = []
    for subset in itertools.combinations(range(n), order):
        drop = tuple(i for i in range(n) if i not in subset)
        marg = (table.sum(axis=drop) if drop else table).reshape(-1)
        if np.count_nonzero(marg > ZERO_ATOL) >= 2:
            out.append((subset, marg))
    if with_joint:  # the exact joint test sees what no marginal shows
        return f"marginals of order {order} and the joint", [*out, joint]
    return f"marginals of order {order}", out


def family_smallest_pvalue(
    table: np.ndarray,
    m: int,
    order: Any = "auto",
    min_expected: float = 5.0,
    mc_draws: int = MC_DRAWS,
) -> float:
    """The smallest p-value :func:`goodness_of_fit` can return with ``m`` samples of ``table``.

    Examples
    --------
    >>> family_smallest_pvalue(np.full(2, 0.5), 3)  # all 3 samples on one side: 2 / 8
    0.25
    """
    _, tables = plan_tables(table, m, order, min_expected)
    low = min(
        smallest_pvalue(marg[marg > ZERO_ATOL], m, min_expected, mc_draws=mc_draws)
        for _, marg in tables
    )
    return min(1.0, low * len(tables))


def goodness_of_fit(
    samples: Any,
    law: Any,
    *,
    order: int | str | None = "auto",
    min_expected: float = 5.0,
    zero_atol: float = ZERO_ATOL,
    mc_draws: int = MC_DRAWS,
    seed: int = 0,
) -> GoodnessOfFit:
    """Test samples against an exact law (see the module docstring for the procedure).

    Parameters
    ----------
    samples
        Int array ``(M, N)``.
    law
        The exact law, an array of shape ``(q_0, …, q_{N-1})`` summing to 1 (validated by
        :func:`exactmd.as_distribution` under the name ``law``).
    order
        ``"auto"`` (the joint when ``M >= min_expected * c``, else all pairs and the joint),
        ``None`` or ``"joint"`` for the joint, or an int k for all marginals on k variables.
    min_expected
        Cells with a smaller expected count are pooled, or tested exactly.
    zero_atol
        Outcomes with exact probability at most this are impossible.
    mc_draws
        Tables drawn for a Monte Carlo p-value, when the exact test has too many tables to
        enumerate; the p-value is then at least ``1 / (mc_draws + 1)``.
    seed
        Seed of those draws.

    Raises
    ------
    DistributionError
        When ``law`` is not a law (NaN, inf, negative entries, a total that is not 1...).
    NoPowerError
        When ``law`` has a single outcome of positive probability (and no sample is
        impossible): there is nothing left to test.
    ValidationError
        For ``min_expected`` not finite and > 0, ``zero_atol`` not finite and >= 0,
        ``mc_draws`` not an integer >= 1, a bad ``order``, or samples not an int array
        ``(M, N)``.

    Returns
    -------
    GoodnessOfFit
    """
    order = check_order(order)
    min_expected = check_real(min_expected, "min_expected", minimum=0.0, open_min=True)
    zero_atol = check_real(zero_atol, "zero_atol", minimum=0.0)
    mc_draws = check_int(mc_draws, "mc_draws")
    seed = check_int(seed, "seed", minimum=0)
    table = as_law(law)
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
    positive = flat_law > zero_atol
    if np.count_nonzero(positive) < 2:
        only = tuple(int(v) for v in np.unravel_index(int(np.argmax(flat_law)), shape))
        raise NoPowerError(
            f"law: must have at least 2 outcomes of positive probability for a test of fit "
            f"(with a single one, every sample must equal it, which all {m} samples do); "
            f"received a law whose only possible outcome is {only}"
        )
    table = np.where(table > zero_atol, table, 0.0)
    level, tables = plan_tables(table, m, order, min_expected)
    worst: tuple[Any, ...] | None = None
    low = 1.0
    for subset, marg in tables:
        sub_shape = tuple(shape[i] for i in subset)
        sub_codes = np.ravel_multi_index(tuple(x[:, list(subset)].T), sub_shape)
        counts = np.bincount(sub_codes, minlength=marg.size)
        pos = np.flatnonzero(marg > 0)
        res = table_test(counts[pos], marg[pos], min_expected, mc_draws=mc_draws, seed=seed)
        low = min(low, smallest_pvalue(marg[pos], m, min_expected, mc_draws=mc_draws))
        key = (res.pvalue, -res.statistic)
        if worst is None or key < worst[0]:
            worst = (key, res, subset, counts, marg, sub_shape)
    assert worst is not None
    _, res, subset, counts, marg, sub_shape = worst
    over, under = _residual_lists(counts, marg * m, sub_shape)
    t = len(tables)
    return GoodnessOfFit(
        min(1.0, res.pvalue * t),
        res.statistic,
        res.df,
        level,
        m,
        t,
        subset,
        [],
        over,
        under,
        res.method,
        res.pool_cells,
        res.pool_count,
        res.pool_statistic,
        res.pool_pvalue,
        res.chi2_pvalue,
        res.mc_draws,
        seed,
        min(1.0, low * t),
    )
