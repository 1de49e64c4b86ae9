"""Assertions for pytest: samplers, denoisers and profile estimators against exact answers.

Each ``assert_*`` raises :class:`AssertionError` with a report (test statistic, p-value, the
outcomes or contexts that disagree most, with observed vs expected values) and returns the
underlying result object when it passes, so a test can also inspect it. Their parameters are
checked before any work: ``alpha`` in (0, 1), tolerances ``atol``/``rtol`` finite and >= 0,
``min_expected`` finite and > 0, ``max_contexts`` an integer >= 1; a bad one raises
:class:`~exactmd.errors.ValidationError` naming it (an assertion that could never pass, such
as ``atol=-1``, is a mistake in the test, not a finding about the code under test).

Examples
--------
Draws from a product of Bernoulli(1/2) laws pass against it and fail against a correlated law:

>>> import numpy as np
>>> x = np.random.default_rng(1).integers(0, 2, size=(3000, 2))
>>> assert_samples_match(x, np.full((2, 2), 0.25)).level
'joint'
>>> assert_samples_match(x, np.array([[0.4, 0.1], [0.1, 0.4]]))
Traceback (most recent call last):
...
AssertionError: samples are inconsistent with the exact law at alpha=0.001: ...
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exactmd._validate import (
    check_flag,
    check_int,
    check_level,
    check_order,
    check_real,
    check_seed,
)
from exactmd.backends import to_host
from exactmd.errors import NoPowerError, ValidationError, describe
from exactmd.testing.denoiser_checks import DenoiserReport, denoiser_report
from exactmd.testing.goodness import (
    GoodnessOfFit,
    as_law,
    family_smallest_pvalue,
    goodness_of_fit,
)
from exactmd.testing.multinomial import MC_DRAWS

__all__ = [
    "assert_samples_match",
    "assert_sampler_matches",
    "assert_denoiser_matches",
    "assert_profile_close",
    "PROFILE_STDERR_FLOOR",
]

#: Absolute tolerance always added in the statistical mode of :func:`assert_profile_close`:
#: where a standard error is 0 (e.g. ``f(0)``, or every ``f(i)`` of a law whose marginals are
#: all equal) the estimate and f differ only by floating-point rounding (~1e-16).
PROFILE_STDERR_FLOOR = 1e-12


def _check_alpha(alpha: float) -> float:
    return check_level(alpha, "alpha")


def _real_array(value: Any, name: str, n: int) -> np.ndarray:
    """``value`` (numpy, torch or lists) as a float64 array of real numbers, else a
    :class:`~exactmd.errors.ValidationError` naming ``name`` (strings, complex numbers,
    bools, ragged lists and objects are refused; the shape is checked by the caller)."""
    rule = f"a vector of N={n} real numbers"
    try:
        arr = to_host(value)
    except (TypeError, ValueError) as exc:  # ragged lists, objects numpy cannot read
        raise ValidationError(f"{name}: must be {rule}; received {describe(value)}") from exc
    if arr.dtype.kind not in "iuf":
        raise ValidationError(
            f"{name}: must be {rule}; received {describe(value)} (dtype {arr.dtype})"
        )
    return arr.astype(np.float64)


def assert_samples_match(
    samples: Any,
    law: Any,
    alpha: float = 1e-3,
    *,
    order: int | str | None = "auto",
    min_expected: float = 5.0,
    mc_draws: int = MC_DRAWS,
    seed: int = 0,
) -> GoodnessOfFit:
    """Assert that ``samples`` ``(M, N)`` are consistent with the exact ``law`` at level alpha.

    The test (see :mod:`exactmd.testing.goodness`): an outcome of probability 0 that appears
    fails at once, naming it; otherwise Pearson's X², with the chi-square tail where every
    expected count is at least ``min_expected`` and an exact multinomial test (or a seeded
    Monte Carlo one) for the cells below it, on the joint when
    ``M >= min_expected · |support|`` and on all pairwise marginals (Bonferroni-corrected)
    when the outcome space is too large.

    A test that cannot fail is refused rather than passed: when even the most extreme
    samples (all M at the least likely outcome) would not reach ``alpha``, or ``law`` has a
    single possible outcome, :class:`~exactmd.errors.NoPowerError` says so and how
    many samples would be needed. The power against a given wrong law is
    :func:`~exactmd.testing.power.samples_needed`.

    Parameters
    ----------
    samples
        Int array ``(M, N)`` (numpy, torch or lists).
    law
        The exact law, an array of shape ``(q_0, …, q_{N-1})`` (validated as ``law``).
    alpha
        The false-alarm probability of the test.
    order, min_expected, mc_draws, seed
        See :func:`~exactmd.testing.goodness.goodness_of_fit`.

    Returns
    -------
    GoodnessOfFit
        When the samples pass.

    Raises
    ------
    AssertionError
        When the samples are inconsistent with ``law``, with the report.
    NoPowerError
        When no sample of this size could fail the test at ``alpha``.
    """
    return _assert_fit(samples, law, alpha, order, min_expected, "samples", mc_draws, seed)


def _needed_for_power(
    table: np.ndarray, m: int, alpha: float, order: Any, min_expected: float, mc_draws: int
) -> int | None:
    """The smallest M' >= m at which the test can reject at ``alpha`` (None: none <= 2^40)."""

    def can(k: int) -> bool:
        return family_smallest_pvalue(table, k, order, min_expected, mc_draws) <= alpha

    hi = m
    while not can(hi):
        if hi > 2**40:
            return None
        hi *= 2
    lo = max(m, hi // 2)  # can(lo) is False unless lo == hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if can(mid) else (mid, hi)
    return hi


def _assert_fit(
    samples: Any,
    law: Any,
    alpha: float,
    order: int | str | None,
    min_expected: float,
    what: str,
    mc_draws: int = MC_DRAWS,
    seed: int = 0,
) -> GoodnessOfFit:
    """Run the goodness-of-fit test; raise its report when it rejects at ``alpha``, and
    :class:`NoPowerError` when it passes only because it could not reject."""
    alpha = _check_alpha(alpha)
    min_expected = check_real(min_expected, "min_expected", minimum=0.0, open_min=True)
    result = goodness_of_fit(
        samples, law, order=order, min_expected=min_expected, mc_draws=mc_draws, seed=seed
    )
    if result.rejects(alpha):
        raise AssertionError(result.message(alpha, what=what))
    if result.min_pvalue > alpha:
        table = as_law(law)
        need = _needed_for_power(table, result.samples, alpha, order, min_expected, mc_draws)
        hint = (
            f"at least M={need} samples are needed"
            if need is not None
            else f"raise mc_draws (now {mc_draws}) or alpha"
        )
        raise NoPowerError(
            f"samples: must be enough for the test to be able to reject at alpha={alpha:g}; "
            f"received M={result.samples}, with which the smallest p-value the test can "
            f"return is {result.min_pvalue:.3g} (every sample at the least likely outcome, "
            f"test on {result.level}), so it would pass whatever the samples: {hint}"
        )
    return result


def assert_sampler_matches(
    samples: Any,
    p: Any,
    schedule: Any,
    denoiser: Any = None,
    alpha: float = 1e-3,
    *,
    order: int | str | None = "auto",
    min_expected: float = 5.0,
    mc_draws: int = MC_DRAWS,
    seed: int = 0,
) -> GoodnessOfFit:
    """Assert that ``samples`` come from the factorized sampler on π with ``schedule``.

    The exact law is ``p_alg = exactmd.output_distribution(p, schedule, denoiser)`` (the
    exact denoiser when ``denoiser`` is None); the test is :func:`assert_samples_match`,
    refusals included (:class:`~exactmd.errors.NoPowerError` when no sample of this
    size could fail). When you have the denoiser itself, :func:`assert_denoiser_matches` is
    the stronger test: it needs no samples (see ``docs/oracle.md``, "Power").

    Examples
    --------
    >>> import numpy as np
    >>> from exactmd.testing.examples import factorized_sample
    >>> from exactmd.enumeration.conditionals import exact_conditionals
    >>> from exactmd.law.distribution import as_distribution
    >>> p = np.array([[0.4, 0.1], [0.1, 0.4]])
    >>> d = as_distribution(p)
    >>> x = factorized_sample(lambda t: exact_conditionals(d, t), p.shape, [1, 1], 3000, seed=0)
    >>> assert_sampler_matches(x, p, [1, 1]).pvalue > 1e-3
    True
    """
    from exactmd.sampler.p_alg import output_distribution

    _check_alpha(alpha)  # before the exact computation
    check_real(min_expected, "min_expected", minimum=0.0, open_min=True)
    order = check_order(order)
    check_int(mc_draws, "mc_draws")
    check_int(seed, "seed", minimum=0)
    law = np.asarray(output_distribution(p, schedule, denoiser))  # its dtype sets the tolerance
    what = f"samples (schedule {schedule!r})"
    return _assert_fit(samples, law, alpha, order, min_expected, what, mc_draws, seed)


def assert_denoiser_matches(
    denoiser: Any,
    p: Any,
    atol: float = 1e-6,
    *,
    max_contexts: int = 20_000,
    seed: int = 0,
    check_zero_contexts: bool = False,
) -> DenoiserReport:
    """Assert that ``denoiser`` returns π's conditionals within ``atol`` on every context.

    All contexts of positive probability with at least one masked position are checked when
    there are at most ``max_contexts`` of them; otherwise ``max_contexts`` contexts drawn from
    π with a uniform number of masked positions (see
    :func:`~exactmd.testing.denoiser_checks.denoiser_report`).

    Contexts of probability 0 have no conditional under π, so by default they are not
    checked (a trained model may return anything there). With ``check_zero_contexts=True``
    they are checked against the documented policy
    :data:`~exactmd.enumeration.ZERO_CONTEXT_POLICY`
    (the uniform law on ``X_i``), which :func:`~exactmd.denoisers.exact.exact_denoiser` and
    :class:`~exactmd.denoisers.torch_module.ExactDenoiserModule` follow: use it to test an exact
    denoiser of your own.

    Examples
    --------
    >>> from exactmd.enumeration.conditionals import exact_conditionals
    >>> from exactmd.law.distribution import as_distribution
    >>> p = [[0.5, 0.5], [0.0, 0.0]]  # the context x_0 = 1 has probability 0
    >>> d = as_distribution(p)
    >>> exact = lambda t: exact_conditionals(d, t)
    >>> report = assert_denoiser_matches(exact, p, check_zero_contexts=True)
    >>> report.contexts, report.zero_contexts, report.max_abs_error
    (5, 1, 0.0)
    """
    atol = check_real(atol, "atol", minimum=0.0)
    check_int(max_contexts, "max_contexts")
    check_seed(seed)
    check_zero_contexts = check_flag(check_zero_contexts, "check_zero_contexts")
    report = denoiser_report(
        denoiser, p, max_contexts=max_contexts, seed=seed, check_zero_contexts=check_zero_contexts
    )
    if report.max_abs_error > atol:
        raise AssertionError(report.message(atol))
    return report


def assert_profile_close(
    estimate: Any,
    p: Any,
    atol: float | None = None,
    rtol: float = 0.0,
    *,
    stderr: Any = None,
    alpha: float = 1e-3,
) -> np.ndarray:
    """Assert that an estimate of the information profile f is close to the exact one.

    Two modes:

    - tolerance: ``|estimate_i − f_i| <= atol + rtol · |f_i|`` for every i (``atol`` defaults
      to 1e-6 when neither ``atol`` nor ``stderr`` is given);
    - statistical, with ``stderr`` (standard errors of a Monte Carlo estimator): the
      estimate fails when some ``|estimate_i − f_i|`` exceeds
      ``z · stderr_i + atol + rtol · |f_i| + PROFILE_STDERR_FLOOR``, with ``z`` the two-sided
      normal quantile at ``alpha / N`` (Bonferroni over the N entries), ``atol`` 0 by
      default, and the absolute floor :data:`PROFILE_STDERR_FLOOR` (1e-12) so that entries
      whose standard error is 0 tolerate floating-point rounding.

    Returns
    -------
    numpy.ndarray
        The exact profile f, when the estimate passes.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([[0.5, 0.0], [0.0, 0.5]])
    >>> assert_profile_close([-0.6931, 0.0], p, atol=1e-3).round(4).tolist()
    [-0.6931, 0.0]
    >>> assert_profile_close([-0.5, 0.0], p, stderr=[0.01, 0.01])
    Traceback (most recent call last):
    ...
    AssertionError: information profile estimate is not close to the exact f ...
    """
    from exactmd.measures.information import information_profile

    if atol is not None:
        atol = check_real(atol, "atol", minimum=0.0)
    rtol = check_real(rtol, "rtol", minimum=0.0)
    _check_alpha(alpha)
    exact = information_profile(p)
    n = exact.size
    est = _real_array(estimate, "estimate", n)
    if est.shape != (n,):
        raise ValidationError(
            f"estimate: must be a vector of length N={n}; received shape {est.shape}"
        )
    base = atol if atol is not None else (0.0 if stderr is not None else 1e-6)
    tol = base + rtol * np.abs(exact)
    rule = f"atol={base:g}, rtol={rtol:g}"
    if stderr is not None:
        from scipy.stats import norm

        se = _real_array(stderr, "stderr", n)
        if se.shape not in ((), (1,), (n,)):
            raise ValidationError(
                f"stderr: must be a number or a vector of length N={n}; received shape {se.shape}"
            )
        se = np.broadcast_to(se, (n,))
        if np.any(~np.isfinite(se)) or np.any(se < 0):
            raise ValidationError(
                f"stderr: must be finite and >= 0; received {describe(se.tolist())}"
            )
        z = float(norm.isf(_check_alpha(alpha) / (2 * n)))
        tol = tol + z * se + PROFILE_STDERR_FLOOR
        rule += (
            f", {z:.3g} standard errors (alpha={alpha:g}, Bonferroni over N={n}), "
            f"floor {PROFILE_STDERR_FLOOR:g}"
        )
    diff = est - exact
    bad = np.flatnonzero(~(np.abs(diff) <= tol))
    if bad.size:
        lines = [
            f"information profile estimate is not close to the exact f ({rule}); "
            f"{bad.size} of {n} entries fail:",
            "    i  estimate      exact         diff          tolerance",
        ]
        lines += [
            f"  {i:3d}  {est[i]: .6e} {exact[i]: .6e} {diff[i]: .3e}  {tol[i]:.3e}"
            + ("  <-- fails" if i in set(bad.tolist()) else "")
            for i in range(n)
        ]
        raise AssertionError("\n".join(lines))
    return exact
