"""The power of the sample test: how many samples it needs to see a given wrong law.

:func:`samples_needed` answers "my sampler's law is ``alternative`` instead of ``law``: from
how many samples does :func:`~exactmd.testing.assert_samples_match` catch it?". It uses the
test's own tables (the joint or the marginals, as ``order`` chooses at each M) and pooling,
and the **noncentral chi-square approximation** of Pearson's X² under the alternative: on a
table with cells (or pooled groups) g, X² is approximately noncentral chi-square with
``df = cells − 1`` and noncentrality

    λ = M · Σ_g (a_g − p_g)² / p_g            (M times the chi-square divergence),

so the power at level α is ``P[χ²_df(λ) > χ²_{df, 1−α}]`` (:data:`scipy.stats.ncx2`).
Approximations, all on the cautious side except the first:

- the approximation itself is asymptotic (many samples per cell); it is close where the test
  is a chi-square test, and is not used where it would be wrong: a table whose every cell is
  below ``min_expected`` (the exact test) counts for no power at all;
- where cells are pooled, only the chi-square part is counted, at its Šidák share of α (the
  exact test inside the pooled cell adds power that is not counted);
- for marginals the power of the family is taken as that of its best table, at α / tables
  (Bonferroni): the family rejects at least that often.

An alternative that puts mass ``m0`` on outcomes of probability 0 under ``law`` is caught by
a single such sample: the power is then ``1 − (1 − m0)^M · (1 − π_M)``, where π_M is the
power above for the alternative conditioned on the support of ``law`` (the M samples follow
it when none is impossible); where that conditional law is ``law`` itself, the answer is the
smallest M with ``1 − (1 − m0)^M >= power``.

Examples
--------
>>> import numpy as np
>>> law = np.array([0.25, 0.25, 0.25, 0.25])
>>> samples_needed(law, [0.3, 0.2, 0.25, 0.25], alpha=1e-3, power=0.9)  # divergence 0.02
1297
>>> samples_needed([0.5, 0.5, 0.0], [0.45, 0.45, 0.1], power=0.9)  # 1 − 0.9^M >= 0.9
22
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from exactmd._validate import check_level, check_order, check_real
from exactmd.errors import NoPowerError, ValidationError
from exactmd.testing.goodness import ZERO_ATOL, as_law, plan_tables
from exactmd.testing.multinomial import pool_cells

__all__ = ["samples_needed", "power_at"]

_MAX_M = 2**62


def _power(groups_p: np.ndarray, groups_a: np.ndarray, m: int, level: float) -> float:
    from scipy.stats import chi2, ncx2

    df = groups_p.size - 1
    lam = m * float(np.sum((groups_a - groups_p) ** 2 / groups_p))
    if df < 1 or lam <= 0:
        return 0.0
    return float(ncx2.sf(chi2.isf(level, df), df, lam))


def power_at(
    law: np.ndarray,
    alternative: np.ndarray,
    m: int,
    alpha: float,
    order: Any = "auto",
    min_expected: float = 5.0,
) -> float:
    """The approximate power at ``m`` samples (validated float64 tables of the same shape, no
    alternative mass outside the support of ``law``); see the module docstring.

    Examples
    --------
    >>> p = np.array([0.5, 0.5])
    >>> round(power_at(p, np.array([0.6, 0.4]), 1000, 1e-3), 3)  # λ = 1000 · 0.04 = 40
    0.999
    """
    _, tables = plan_tables(law, m, order, min_expected)
    shape = law.shape
    n = len(shape)
    best = 0.0
    alpha_t = alpha / len(tables)
    for subset, marg in tables:
        drop = tuple(i for i in range(n) if i not in subset)
        alt = (alternative.sum(axis=drop) if drop else alternative).reshape(-1)
        pos = np.flatnonzero(marg > ZERO_ATOL)
        p, a = marg[pos] / marg[pos].sum(), alt[pos]
        pooled, rest = pool_cells(m * p, min_expected)
        if pooled.size == 0:  # the chi-square test
            best = max(best, _power(p, a, m, alpha_t))
        elif rest.size == 0:  # the exact test on every cell: not counted (see above)
            continue
        else:
            gp = np.concatenate([[p[pooled].sum()], p[rest]])
            ga = np.concatenate([[a[pooled].sum()], a[rest]])
            share = -math.expm1(0.5 * math.log1p(-alpha_t))  # Šidák: 1 − sqrt(1 − α_t)
            best = max(best, _power(gp, ga, m, share))
    return best


def samples_needed(
    law: Any,
    alternative: Any,
    alpha: float = 1e-3,
    power: float = 0.9,
    *,
    order: int | str | None = "auto",
    min_expected: float = 5.0,
) -> int:
    """The number of samples M at which the sample test catches ``alternative``.

    Samples drawn from ``alternative`` and tested against ``law`` by
    :func:`~exactmd.testing.assert_samples_match` (same tables, pooling, ``alpha``, ``order``
    and ``min_expected``) fail with probability at least ``power`` from M samples on, under
    the noncentral chi-square approximation of the module docstring. M is found by doubling,
    then bisection (the power grows with M, up to the steps where pooling or the level of
    the test changes).

    Parameters
    ----------
    law
        The exact law the samples are tested against (validated as ``law``).
    alternative
        The law the samples actually come from, same shape (validated as ``alternative``).
    alpha
        The level of the test, in (0, 1).
    power
        The probability of detection wanted, in (0, 1).
    order, min_expected
        As in :func:`~exactmd.testing.goodness.goodness_of_fit`.

    Returns
    -------
    int
        M. When ``alternative`` puts mass ``m0`` where ``law`` is 0, a single such sample
        fails the test: M is at most the smallest with ``1 − (1 − m0)^M >= power``, less
        when the test of fit also sees the alternative on the support of ``law``.

    Raises
    ------
    DistributionError
        When ``law`` or ``alternative`` is not a law.
    ValidationError
        For shapes that differ, ``alpha`` or ``power`` outside (0, 1), a bad ``order`` or
        ``min_expected``.
    NoPowerError
        When ``alternative`` equals ``law`` (to rounding): no number of samples tells
        identical laws apart.

    Examples
    --------
    A denoiser tempered at T = 1.05 on a small law changes p_alg by a chi-square divergence
    of ~5e-4; the sample test needs ~10^5 samples, where a direct check of the denoiser
    (:func:`~exactmd.testing.assert_denoiser_matches`) needs none:

    >>> import exactmd
    >>> p = exactmd.models.random_joint((2, 2, 2, 2), alpha=0.5, seed=0)
    >>> exact = exactmd.output_distribution(p, [2, 2])
    >>> tempered = exactmd.output_distribution(
    ...     p, [2, 2], exactmd.perturbed_denoiser(p, temperature=1.05))
    >>> samples_needed(exact, tempered) > 50_000
    True
    """
    alpha = check_level(alpha, "alpha")
    power = check_level(power, "power")
    min_expected = check_real(min_expected, "min_expected", minimum=0.0, open_min=True)
    order = check_order(order)
    p = as_law(law, "law")
    a = as_law(alternative, "alternative")
    if a.shape != p.shape:
        raise ValidationError(
            f"alternative: must have the shape of law, {p.shape}; received shape {a.shape}"
        )
    zero = p <= ZERO_ATOL
    outside = float(a[zero].sum())
    if outside >= 1.0:
        return 1
    if outside <= ZERO_ATOL:
        outside = 0.0
    p = np.where(zero, 0.0, p)
    a = np.where(zero, 0.0, a) / (1.0 - outside)  # the alternative given no impossible sample
    pos = ~zero
    divergence = float(np.sum((a[pos] - p[pos]) ** 2 / p[pos]))
    if divergence <= 1e-15 and outside == 0.0:
        raise NoPowerError(
            "alternative: must differ from law, since no number of samples detects an "
            "identical law; received an alternative whose chi-square divergence from law is "
            f"{divergence:.3g} (identical up to rounding)"
        )
    plan_tables(p, 1, order, min_expected)  # validates order

    def enough(m: int) -> bool:
        if outside == 0.0:
            return power_at(p, a, m, alpha, order, min_expected) >= power
        # caught by an impossible sample, or else (all M samples then follow the
        # alternative given the support of law) by the test of fit
        none = math.exp(m * math.log1p(-outside))
        if 1.0 - none >= power or divergence <= 1e-15:
            return 1.0 - none >= power
        return 1.0 - none * (1.0 - power_at(p, a, m, alpha, order, min_expected)) >= power

    hi = 1
    while not enough(hi):
        if hi >= _MAX_M:
            raise NoPowerError(
                f"alternative: must be detectable by at most {_MAX_M} samples; received one "
                f"at chi-square divergence {divergence:.3g} from law"
            )
        hi *= 2
    lo = hi // 2
    if lo < 1:
        return 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if enough(mid) else (mid, hi)
    return int(hi)
