"""The scaling theory (exactmd.schedules.scaling) against exact E_fact, with its convergence."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import pytest
from helpers import random_law
from hypothesis import given, settings
from hypothesis import strategies as st

from exactmd.errors import ScheduleError
from exactmd.measures.information import complexity, information_profile
from exactmd.schedules.factorization import factorization_error, factorization_error_from_profile
from exactmd.schedules.families import from_alpha, linear
from exactmd.schedules.optimum import optimal_schedule, optimal_table
from exactmd.schedules.scaling import (
    compare_schedules,
    optimal_alpha,
    optimal_value,
    predicted_error,
    predicted_gain,
    predicted_optimal_error,
    profile_shape,
    sqrt_rule_schedule,
)

SHAPES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "x^2": lambda x: x**2,
    "x^3": lambda x: x**3,
    "1-(1-x)^2": lambda x: 1 - (1 - x) ** 2,
    "1-(1-x)^3": lambda x: 1 - (1 - x) ** 3,
}
POWER = {"x^2": 2, "x^3": 3, "1-(1-x)^2": 2, "1-(1-x)^3": 3}
ALPHAS: dict[str, Callable[[float], float]] = {
    "linear": lambda t: t,
    "cosine": lambda t: 1 - math.cos(math.pi * t / 2),
    "square": lambda t: t * t,
}


def random_profile(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    inc = rng.exponential(size=n - 1) * (rng.random(n - 1) < 0.8)
    inc[rng.integers(n - 1)] += 0.1  # D > 0
    return -2.0 + np.concatenate([[0.0], np.cumsum(inc)])


@settings(deadline=None, max_examples=40)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(2, 60))
def test_normalisation(seed: int, n: int) -> None:
    f = random_profile(seed, n)
    shape = profile_shape(f)
    assert shape.f0 == f[0] and shape.scale == pytest.approx(f[-1] - f[0])
    i = np.arange(n)
    # f(i) = f(0) + D f̄(i/N), f̄(0) = 0, f̄(1) = 1
    assert f == pytest.approx(shape.f0 + shape.scale * shape.fbar(i / n), abs=1e-12)
    assert shape.fbar(0.0) == 0.0 and shape.fbar(1.0) == pytest.approx(1.0)
    # f̄′ integrates to f̄: midpoint sums on a fine grid
    x = (np.arange(n * 50) + 0.5) / (n * 50)
    assert np.mean(shape.fbar_prime(x)) == pytest.approx(1.0)
    # α* is a non-decreasing map of [0, 1] onto [0, 1] with G(α*(t)) = t G(1)
    alpha = optimal_alpha(shape)
    t = np.linspace(0, 1, 257)
    a = alpha(t)
    assert a[0] == 0.0 and a[-1] == 1.0 and np.all(np.diff(a) >= -1e-15)
    g = shape.g_knots()
    assert np.interp(a[:-1], shape.grid, g) == pytest.approx(t[:-1] * g[-1], abs=1e-12)
    # Cauchy–Schwarz: the optimum is at most the constant schedule's value
    assert optimal_value(shape) <= 1.0 + 1e-12
    assert predicted_gain(shape) == pytest.approx(optimal_value(shape))


@settings(deadline=None, max_examples=25)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(4, 200), power=st.floats(0.3, 4.0))
def test_optimal_alpha_minimises_the_functional(seed: int, n: int, power: float) -> None:
    f = random_profile(seed, n)
    k = 8
    best = predicted_error(f, optimal_alpha(f), k, "large")
    assert best == pytest.approx(predicted_optimal_error(f, k), rel=1e-3)
    for alpha in (lambda t: t, lambda t: t**power, ALPHAS["cosine"]):
        assert predicted_error(f, alpha, k, "large") >= best * (1 - 1e-3)


def test_gain_of_power_profiles_converges() -> None:
    """f(i) = f̄(i/N) with f̄ = x^p or 1 − (1 − x)^p: E_opt / E_const → 4p/(p+1)² as
    N/K → ∞ (here N = K²); also E_opt → (D/2)(N/K)(∫√f̄′)² and the √ rule → the optimum."""
    for name, fbar in SHAPES.items():
        p = POWER[name]
        target = 4 * p / (p + 1) ** 2
        gain_err, pred_err, rule_err = [], [], []
        for k in (8, 16, 32):
            n = k * k
            f = fbar(np.arange(n) / n)
            e_opt = optimal_table(f, k).error(k)
            e_const = factorization_error_from_profile(f, linear(n, k))
            gain_err.append(abs(e_opt / e_const - target))
            pred_err.append(abs(e_opt / predicted_optimal_error(f, k) - 1))
            rule_err.append(
                factorization_error_from_profile(f, sqrt_rule_schedule(f, k)) / e_opt - 1
            )
        assert gain_err[0] > gain_err[1] > gain_err[2], (name, gain_err)
        assert gain_err[2] < 0.025, (name, gain_err)
        assert pred_err[0] > pred_err[1] > pred_err[2] and pred_err[2] < 0.08, (name, pred_err)
        assert all(e >= -1e-12 for e in rule_err)  # the DP is optimal
        assert rule_err[0] > rule_err[2] and rule_err[2] < 0.015, (name, rule_err)
        assert predicted_gain(fbar(np.arange(100_000) / 100_000)) == pytest.approx(target, abs=1e-3)


@pytest.mark.parametrize("alpha_name", sorted(ALPHAS))
@pytest.mark.parametrize("sbar", [2.5, 1.5])
def test_finite_regime_converges(alpha_name: str, sbar: float) -> None:
    """N/K → s̄: E_fact → (D/2)(s̄ ∫ f̄′ h_s̄(α̇) − 1); the error shrinks as K grows."""
    alpha = ALPHAS[alpha_name]
    for fbar in (SHAPES["x^2"], SHAPES["1-(1-x)^3"]):
        errs, large = [], []
        for k in (16, 64, 256):
            n = int(sbar * k)
            f = fbar(np.arange(n) / n)
            exact = factorization_error_from_profile(f, from_alpha(alpha, n, k, collisions="drop"))
            errs.append(abs(predicted_error(f, alpha, k, "finite") / exact - 1))
            large.append(abs(predicted_error(f, alpha, k, "large") / exact - 1))
        assert errs[2] < errs[0] and errs[2] < 0.012, errs
        assert min(large) > 0.1  # the N/K → ∞ formula is not this regime's limit


def test_large_regime_formula_at_fixed_schedule() -> None:
    """Constant sizes s on a linear profile: both formulas agree with the exact value."""
    n, k = 4096, 64
    f = np.arange(n, dtype=np.float64)
    exact = factorization_error_from_profile(f, linear(n, k))  # = K s(s − 1)/2
    assert exact == k * 64 * 63 / 2
    assert predicted_error(f, lambda t: t, k, "finite") == pytest.approx(exact, rel=1e-3)
    assert predicted_error(f, lambda t: t, k, "large") == pytest.approx(exact, rel=0.02)
    sched = linear(n, k)
    assert predicted_error(f, sched, k) == pytest.approx(predicted_error(f, lambda t: t, k))


def test_h_interpolation_matters_for_non_integer_rates() -> None:
    """Sizes alternating 2, 3 (s̄ = 2.5, α = t): mean s(s − 1) is 4, not s̄(s̄ − 1) = 3.75."""
    k = 400
    n = int(2.5 * k)
    f = np.arange(n, dtype=np.float64)
    exact = factorization_error_from_profile(f, linear(n, k))
    assert exact == pytest.approx(k * 4 / 2)
    shape_d = float(f[-1] - f[0])
    assert predicted_error(f, lambda t: t, k) == pytest.approx(exact, rel=2e-3)
    assert 0.5 * shape_d * (2.5 - 1) / exact < 0.95  # without h: 3.75 / 4


def test_compare_schedules_on_laws() -> None:
    p = random_law((2, 3, 2, 2, 2), seed=3, zeros=0.3)
    f = information_profile(p)
    c = compare_schedules(p, 3)
    assert c.optimal_sizes == optimal_schedule(p, 3)
    assert c.optimal_error == pytest.approx(factorization_error(p, list(c.optimal_sizes)))
    for name in ("constant", "cosine", "sqrt rule"):
        assert c.errors[name] >= c.optimal_error - 1e-12
        assert c.gains[name] <= 1 + 1e-12
    assert c.predicted_gain == pytest.approx(predicted_gain(f))
    d = complexity(p)
    assert profile_shape(f).scale == pytest.approx(d, abs=1e-10)  # D of the profile is D(π)
    indep = np.full((2, 2, 2), 1 / 8)
    c0 = compare_schedules(indep, 2)
    assert c0.predicted_gain is None and c0.errors["optimal"] == pytest.approx(0.0, abs=1e-12)
    assert c0.gains["constant"] == 1.0  # nothing to gain over a zero error: 1, never NaN


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: profile_shape([1.0, 1.0]), "D = f\\(N-1\\) - f\\(0\\) > 0"),
        (lambda: profile_shape([1.0]), "N >= 2"),
        (lambda: profile_shape([0.0, 2.0, 1.0, 3.0]), "non-decreasing"),
        (lambda: predicted_error([0.0, 1.0], lambda t: t, 1, "medium"), "regime: must be one of"),
        (lambda: predicted_error([0.0, 1.0], 3, 1), "alpha: must be a function"),
        (lambda: predicted_error([0.0, 1.0], lambda t: t, 0), "steps: must be an integer K >= 1"),
        (lambda: predicted_error([0.0, 1.0, 2.0], linear(3, 2), 3), "must have N=3 and K=3"),
        (lambda: predicted_error([0.0, 1.0], lambda t: 1 - t, 1), "non-decreasing"),
    ],
)
def test_bad_input(call: Callable[[], object], match: str) -> None:
    with pytest.raises(ScheduleError, match=match):
        call()


def test_flat_regions_are_jumped() -> None:
    """Where f̄′ = 0 the optimal α jumps: revealing a flat stretch costs nothing."""
    f = np.concatenate([np.zeros(50), np.linspace(0, 1, 50)])
    alpha = optimal_alpha(f)
    assert alpha(1e-9) == pytest.approx(0.49, abs=0.011)
    sched = sqrt_rule_schedule(f, 5)
    assert sched.sizes[0] >= 50
    ks = list(itertools.accumulate(sched.sizes))
    assert ks[-1] == 100
