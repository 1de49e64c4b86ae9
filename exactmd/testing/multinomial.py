"""Goodness of fit of one table of counts: chi-square where it holds, exact tests where not.

:func:`table_test` is the test :func:`~exactmd.testing.goodness.goodness_of_fit` runs on each
table (the joint, or one marginal). With M samples, cell probabilities ``p`` (all > 0) and
expected counts ``e = M p``:

- **chi-square** — every ``e_i >= min_expected`` (Cochran's rule): Pearson's X² with the
  chi-square tail on ``cells − 1`` degrees of freedom;
- **exact** — every ``e_i < min_expected`` (too few samples for any asymptotic test):
  Pearson's X² on all the cells, its p-value ``P[X² >= observed]`` under the exact
  Multinomial(M, p) law, by enumeration when there are at most :data:`EXACT_LIMIT` tables
  (``C(M + c − 1, c − 1)``), else a **Monte Carlo** p-value ``(1 + #{X²_b >= X²}) / (B + 1)``
  from B tables drawn from that law (``mc_draws``, seeded: the same samples always give the
  same p-value);
- **pooled + exact within the pool** — some cells are small: they are merged into one pooled
  cell (smallest first, growing until it reaches ``min_expected``), the pooled table gets the
  chi-square test, and the counts *inside* the pooled cell get the exact (or Monte Carlo)
  test above, conditional on their total (under the null they are Multinomial(n_pool,
  p_pool / Σ p_pool), independent of the pooled table). The two p-values are combined by
  Šidák's rule ``1 − (1 − min)²``, exact for independent tests. Pooling alone would hide
  where inside the pooled cell the samples fall: ten samples at one outcome of probability
  0.015 would be one pooled cell and df = 0.

:func:`smallest_pvalue` is the smallest p-value a table's test can return at M (all samples
at its least likely cell); the assertions refuse to run a test that cannot reject.

Examples
--------
>>> import numpy as np
>>> probs = np.array([0.5, 0.3, 0.2])
>>> table_test(np.array([4, 3, 1]), probs).method  # e = (4, 2.4, 1.6): all below 5
'exact'
>>> round(table_test(np.array([0, 0, 8]), probs).pvalue, 12)  # the most extreme: 0.2 ** 8
2.56e-06
>>> table_test(np.array([60, 31, 9]), probs).method  # e = (50, 30, 20)
'chi-square'
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "EXACT_LIMIT",
    "MC_DRAWS",
    "TableTest",
    "compositions",
    "multinomial_pvalue",
    "pool_cells",
    "sidak",
    "smallest_pvalue",
    "table_test",
]

#: Largest number of count tables ``C(n + c − 1, c − 1)`` enumerated by the exact test.
EXACT_LIMIT = 100_000
#: Default number of Monte Carlo tables when the exact test cannot enumerate.
MC_DRAWS = 20_000
_CHUNK = 2_000_000  # entries per Monte Carlo block


def compositions(n: int, k: int) -> np.ndarray:
    """All count tables of ``n`` samples in ``k`` cells, as an int array ``(C(n+k−1, k−1), k)``.

    Examples
    --------
    >>> compositions(2, 2).tolist()
    [[0, 2], [1, 1], [2, 0]]
    """
    rows = np.zeros((1, 0), dtype=np.int64)
    rem = np.array([n], dtype=np.int64)
    for _ in range(k - 1):
        reps = rem + 1
        idx = np.repeat(np.arange(rows.shape[0]), reps)
        vals = np.arange(int(reps.sum())) - np.repeat(np.cumsum(reps) - reps, reps)
        rows = np.column_stack([rows[idx], vals])
        rem = rem[idx] - vals
    return np.column_stack([rows, rem])


def _x2(counts: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Pearson's X² along the last axis: ``Σ o² / e − n`` (``Σ e = n``)."""
    return np.sum(counts.astype(np.float64) ** 2 / expected, axis=-1) - expected.sum()


@functools.lru_cache(maxsize=64)
def _null_law(n: int, key: bytes, draws: int, seed: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """The null distribution of X² for ``n`` samples on the cells of ``key``: sorted values and
    their upper-tail masses (exact), or ``draws`` sorted Monte Carlo values (seeded)."""
    w = np.frombuffer(key, dtype=np.float64)
    k = w.size
    if math.comb(n + k - 1, k - 1) <= EXACT_LIMIT:
        tables = compositions(n, k)
        logpmf = (
            math.lgamma(n + 1)
            + np.sum(tables * np.log(w), axis=1)
            - np.sum(_lgamma_table(n)[tables], axis=1)
        )
        stat = _x2(tables, n * w)
        order = np.argsort(stat, kind="stable")
        stat, pmf = stat[order], np.exp(logpmf[order])
        tail = np.cumsum(pmf[::-1])[::-1]  # tail[j] = P[X² >= stat[j]]
        return stat, tail, True
    rng = np.random.default_rng(seed)
    out = np.empty(draws)
    per = max(1, _CHUNK // max(min(n, k), 1))
    cdf = np.cumsum(w)
    for start in range(0, draws, per):
        b = min(per, draws - start)
        if n < k:  # draw the n samples, then count them
            codes = np.minimum(np.searchsorted(cdf, rng.random((b, n)) * cdf[-1]), k - 1)
            flat = (codes + k * np.arange(b)[:, None]).reshape(-1)
            counts = np.bincount(flat, minlength=b * k).reshape(b, k)
        else:
            counts = rng.multinomial(n, w, size=b)
        out[start : start + b] = _x2(counts, n * w)
    return np.sort(out), np.empty(0), False


@functools.lru_cache(maxsize=8)
def _lgamma_table(n: int) -> np.ndarray:
    return np.array([math.lgamma(v + 1) for v in range(n + 1)])


def multinomial_pvalue(
    counts: np.ndarray, probs: np.ndarray, *, mc_draws: int = MC_DRAWS, seed: int = 0
) -> tuple[float, float, int]:
    """``P[X² >= observed]`` under Multinomial(n, probs), ``n = counts.sum() >= 1``.

    Returns ``(pvalue, statistic, draws)``: ``draws`` is 0 for the exact enumeration, else the
    number of Monte Carlo tables.

    Examples
    --------
    >>> p, stat, draws = multinomial_pvalue(np.array([2, 0]), np.array([0.5, 0.5]))
    >>> p, stat, draws  # X² = 2 for (2, 0) and (0, 2): probability 1/2
    (0.5, 2.0, 0)
    """
    n = int(counts.sum())
    w = np.ascontiguousarray(probs / probs.sum(), dtype=np.float64)
    stat = float(_x2(counts, n * w))
    values, tail, exact = _null_law(n, w.tobytes(), int(mc_draws), int(seed))
    cut = stat - 1e-9 * max(1.0, abs(stat))  # ties within rounding count as >=
    j = int(np.searchsorted(values, cut, side="left"))
    if exact:
        return (float(min(1.0, tail[j])) if j < values.size else 0.0), stat, 0
    return (1.0 + (values.size - j)) / (values.size + 1.0), stat, values.size


def sidak(p: float, tests: int = 2) -> float:
    """The family p-value of ``tests`` independent tests whose smallest p-value is ``p``.

    Examples
    --------
    >>> round(sidak(0.01), 6)
    0.0199
    """
    return float(-math.expm1(tests * math.log1p(-p))) if p < 1 else 1.0


def pool_cells(expected: np.ndarray, min_expected: float) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the pooled cells and of the others (Cochran pooling, smallest first).

    The cells of expected count below ``min_expected`` are pooled; while the pooled cell is
    still below ``min_expected`` the next smallest cell joins it. No pool: ``pooled`` is empty.

    Examples
    --------
    >>> [a.tolist() for a in pool_cells(np.array([3.0, 30.0, 1.5, 2.0]), 5.0)]
    [[2, 3, 0], [1]]
    """
    order = np.argsort(expected, kind="stable")
    e = expected[order]
    cut = int(np.searchsorted(e, min_expected, side="left"))
    if cut > 0:
        total = float(e[:cut].sum())
        while total < min_expected and cut < e.size:
            total += float(e[cut])
            cut += 1
    return order[:cut], np.sort(order[cut:])


@dataclass
class TableTest:
    """The test of one table (see the module docstring).

    Attributes
    ----------
    pvalue, statistic, df
        The table's p-value; Pearson's X² of the table tested by chi-square (the pooled one
        when cells are pooled, all cells for the exact test) and its ``cells − 1``.
    method : str
        ``"chi-square"``, ``"exact"``, ``"monte carlo"`` or ``"pooled chi-square + exact"``
        / ``"pooled chi-square + monte carlo"``.
    pool_cells, pool_count : int
        Cells merged into the pooled cell and the samples that fell in it (0: no pool).
    pool_statistic, pool_pvalue
        X² and p-value of the test inside the pooled cell (``None``: no such test).
    chi2_pvalue
        The chi-square p-value of the pooled table (``None`` for the exact test).
    mc_draws : int
        Monte Carlo tables used (0: none).
    """

    pvalue: float
    statistic: float
    df: int
    method: str
    pool_cells: int = 0
    pool_count: int = 0
    pool_statistic: float | None = None
    pool_pvalue: float | None = None
    chi2_pvalue: float | None = None
    mc_draws: int = 0


def _chi2_sf(stat: float, df: int) -> float:
    from scipy.stats import chi2

    return float(chi2.sf(stat, df))


def table_test(
    counts: np.ndarray,
    probs: np.ndarray,
    min_expected: float = 5.0,
    *,
    mc_draws: int = MC_DRAWS,
    seed: int = 0,
) -> TableTest:
    """Test the counts of one table against ``probs`` (at least 2 cells, all > 0, sum 1)."""
    m = int(counts.sum())
    probs = probs / probs.sum()
    expected = m * probs
    pooled, rest = pool_cells(expected, min_expected)
    c = probs.size
    if pooled.size == 0:
        stat = float(_x2(counts, expected))
        return TableTest(_chi2_sf(stat, c - 1), stat, c - 1, "chi-square")
    if rest.size == 0:
        p, stat, draws = multinomial_pvalue(counts, probs, mc_draws=mc_draws, seed=seed)
        return TableTest(p, stat, c - 1, "monte carlo" if draws else "exact", mc_draws=draws)
    obs = np.concatenate([[counts[pooled].sum()], counts[rest]])
    exp = np.concatenate([[expected[pooled].sum()], expected[rest]])
    stat = float(_x2(obs, exp))
    p_chi2 = _chi2_sf(stat, rest.size)
    n_pool = int(obs[0])
    if n_pool == 0:
        p_in, s_in, draws = 1.0, 0.0, 0
    else:
        p_in, s_in, draws = multinomial_pvalue(
            counts[pooled], probs[pooled], mc_draws=mc_draws, seed=seed
        )
    method = "pooled chi-square + " + ("monte carlo" if draws else "exact")
    return TableTest(
        sidak(min(p_chi2, p_in)),
        stat,
        int(rest.size),
        method,
        int(pooled.size),
        n_pool,
        s_in,
        p_in,
        p_chi2,
        draws,
    )


def _extreme_exact(probs: np.ndarray, n: int, mc_draws: int) -> float:
    """The smallest p-value of the exact (or Monte Carlo) test with ``n`` samples."""
    w = probs / probs.sum()
    low = float(w.min())
    ties = int(np.count_nonzero(w <= low * (1 + 1e-12)))
    exact = min(1.0, ties * low**n)
    if math.comb(n + w.size - 1, w.size - 1) <= EXACT_LIMIT:
        return exact
    return max(exact, 1.0 / (mc_draws + 1.0))


def smallest_pvalue(
    probs: np.ndarray, m: int, min_expected: float = 5.0, *, mc_draws: int = MC_DRAWS
) -> float:
    """The smallest p-value :func:`table_test` can return with ``m`` samples.

    It is the p-value of every sample at the least likely cell (for the chi-square test, the
    X² of every sample at the least likely cell, or pooled group).

    Examples
    --------
    >>> smallest_pvalue(np.array([0.5, 0.5]), 3)  # (0, 3) or (3, 0): probability 1/4
    0.25
    """
    probs = probs / probs.sum()
    expected = m * probs
    pooled, rest = pool_cells(expected, min_expected)
    if pooled.size == 0:
        low = float(probs.min())
        return _chi2_sf(m * (1 - low) / low, probs.size - 1)
    if rest.size == 0:
        return _extreme_exact(probs, m, mc_draws)
    groups = np.concatenate([[probs[pooled].sum()], probs[rest]])
    low = float(groups.min())
    p_chi2 = _chi2_sf(m * (1 - low) / low, rest.size)
    return sidak(min(p_chi2, _extreme_exact(probs[pooled], m, mc_draws)))
