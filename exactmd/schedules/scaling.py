"""The scaling theory of optimal schedules (docs/design.md, "Scaling limit and the square-root
rule"), computed from a discrete profile f.

**Normalisation.** A profile f of length N is written ``f(i) = f(0) + D f̄(i/N)`` with
``D = f(N−1) − f(0)`` (= D(π) for a law's profile), so that ``f̄(0) = 0`` and ``f̄(1) = 1``:
f̄ is the piecewise-linear interpolation of the points ``(i/N, (f(i) − f(0))/D)`` for
``i = 0..N−1``, continued by the constant 1 on the last cell ``[(N−1)/N, 1]`` (f(N) does not
exist, so the last cell carries no increment). Its derivative f̄′ is piecewise constant:
``N Δf(j)/D`` on ``[j/N, (j+1)/N)`` with ``Δf(j) = f(j+1) − f(j)``, and ``∫₀¹ f̄′ = 1``.

**Theory** (a_k = ⌈N α(k/K)⌉):

- regime N/K → ∞: ``E_fact ≈ (D/2)(N/K) ∫₀¹ f̄′(α_t) α̇_t² dt``;
- regime N/K → s̄: ``E_fact → (D/2)(s̄ ∫₀¹ f̄′(α_t) h_s̄(α̇_t) dt − 1)``, where h_s̄ is the
  linear interpolation of z ↦ z² at the points z = m/s̄ (integer sizes s̄α̇ rounded up and down
  in the right proportions: the mean of s² is s̄² h_s̄(α̇));
- the optimal α is ``α_t = G⁻¹(t G(1))`` with ``G(y) = ∫₀^y √f̄′``; its value of the integral
  is ``(∫√f̄′)²``, so the gain over the constant schedule (α_t = t) is
  ``E_opt / E_const ≈ (∫√f̄′)² / ∫f̄′ ≤ 1`` (Cauchy–Schwarz; smaller is better).

Empty steps (``a_{k+1} = a_k``, where ``s̄ α̇_t < 1``) are part of this theory: they cost
nothing, and h_s̄ on ``[0, 1/s̄]`` mixes sizes 0 and 1. Compare the predictions with the exact
E_fact of ``from_alpha(α, N, K, collisions="drop")``; the default ``"push"`` repair agrees
wherever ``s̄ α̇ ≥ 1``. Tests show both formulas converging to the exact values (relative error
O(1/K) for smooth f̄ and α).

The integrals over t are computed on a grid ``t_m`` of M ≥ 4096 points, integrating f̄′ exactly
between grid points and letting α cross any stretch where f̄′ = 0 at once (that costs nothing):

- ``∫ f̄′(α) α̇² dt ≈ Σ_m (G(α_{m+1}) − G(α_m))² / Δt``, the least cost of moving from α_m to
  α_{m+1} in time Δt (Cauchy–Schwarz); it is exact for α* and converges for any smooth α;
- ``∫ f̄′(α) h_s̄(α̇) dt ≈ Σ_m (Δf̄_m / Δℓ_m) h_s̄(Δℓ_m / Δt) Δt``, with Δℓ_m the length of
  ``[α_m, α_{m+1}]`` where f̄′ > 0 (α moving at constant speed there).

An α with a jump where f̄′ > 0 therefore gets an (correctly) enormous value.

Examples
--------
f(i) = (i/N)²: the gain tends to 4p/(p+1)² = 8/9.

>>> import numpy as np
>>> f = (np.arange(10_000) / 10_000) ** 2
>>> round(predicted_gain(f), 4), round(8 / 9, 4)
(0.8888, 0.8889)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from exactmd._validate import check_choice, check_int
from exactmd.errors import ScheduleError, describe
from exactmd.schedules.factorization import factorization_error_from_profile
from exactmd.schedules.families import cosine, from_alpha, linear
from exactmd.schedules.kinds import ExchangeableSchedule
from exactmd.schedules.optimum import as_profile, optimal_table
from exactmd.typing import FloatArray

__all__ = [
    "ProfileShape",
    "profile_shape",
    "optimal_alpha",
    "optimal_value",
    "predicted_gain",
    "sqrt_rule_schedule",
    "predicted_error",
    "predicted_optimal_error",
    "ScheduleComparison",
    "compare_schedules",
]

REGIMES = ("large", "finite")


@dataclass(frozen=True)
class ProfileShape:
    """``f(i) = f0 + D f̄(i/N)``: the normalised shape f̄ of a profile (module notes).

    Attributes
    ----------
    f0, scale
        f(0) and D = f(N−1) − f(0) > 0.
    density
        f̄′ on the cells ``[j/N, (j+1)/N)``, j = 0..N−1 (the last is 0).
    """

    f0: float
    scale: float
    density: FloatArray

    @property
    def n(self) -> int:
        """N."""
        return int(self.density.size)

    @property
    def grid(self) -> FloatArray:
        """The knots ``0, 1/N, …, 1`` (N + 1 of them)."""
        return np.arange(self.n + 1, dtype=np.float64) / self.n

    @property
    def knots(self) -> FloatArray:
        """f̄ at the knots: ``(f(i) − f(0))/D`` for i < N, then 1."""
        return np.concatenate([[0.0], np.cumsum(self.density) / self.n])

    def fbar(self, x: Any) -> FloatArray:
        """f̄(x), piecewise linear, for x in [0, 1]."""
        return np.interp(np.asarray(x, dtype=np.float64), self.grid, self.knots)

    def fbar_prime(self, x: Any) -> FloatArray:
        """f̄′(x), piecewise constant and right-continuous (0 at x = 1)."""
        j = np.clip(np.floor(np.asarray(x, dtype=np.float64) * self.n), 0, self.n - 1)
        return self.density[j.astype(np.int64)]

    def g_knots(self) -> FloatArray:
        """``G(j/N) = ∫₀^{j/N} √f̄′`` at the knots; G(1) is the last entry."""
        return np.concatenate([[0.0], np.cumsum(np.sqrt(self.density)) / self.n])

    def support_knots(self) -> FloatArray:
        """``P(j/N) = |{x <= j/N : f̄′(x) > 0}|`` at the knots."""
        return np.concatenate([[0.0], np.cumsum(self.density > 0) / self.n])


def profile_shape(profile: Any) -> ProfileShape:
    """Normalise a non-decreasing profile: ``f(i) = f(0) + D f̄(i/N)`` (module notes).

    Decreases within ``1e-12 · D`` (rounding) are set to 0; larger ones, and D = 0 (a law
    with E_fact = 0 for every schedule), raise :class:`~exactmd.errors.ScheduleError`.

    Examples
    --------
    >>> s = profile_shape([-2.0, -1.5, -1.0, 0.0])
    >>> s.f0, s.scale, s.knots.tolist()
    (-2.0, 2.0, [0.0, 0.25, 0.5, 1.0, 1.0])
    """
    f = as_profile(profile)
    if f.size < 2 or not f[-1] - f[0] > 1e-12 * max(1.0, float(np.max(np.abs(f)))):
        raise ScheduleError(
            f"profile: the scaling theory needs N >= 2 and D = f(N-1) - f(0) > 0 (beyond "
            f"rounding, 1e-12 max(1, max|f|)); received {describe(f)}"
        )
    scale = float(f[-1] - f[0])
    inc = np.diff(f)
    if np.any(inc < -1e-12 * scale):
        j = int(np.argmin(inc))
        raise ScheduleError(
            f"profile: must be non-decreasing for the scaling theory; received f({j + 1}) - "
            f"f({j}) = {inc[j]!r}"
        )
    density = np.concatenate([np.maximum(inc, 0.0) * f.size / scale, [0.0]])
    return ProfileShape(f0=float(f[0]), scale=scale, density=density)


def _shape(profile: Any) -> ProfileShape:
    return profile if isinstance(profile, ProfileShape) else profile_shape(profile)


def optimal_alpha(profile: Any) -> Callable[[Any], Any]:
    """The continuous optimum ``α_t = G⁻¹(t G(1))``, ``G(y) = ∫₀^y √f̄′``, as a vectorised
    function (the left inverse where G is flat; ``α(1) = 1``).

    Examples
    --------
    >>> alpha = optimal_alpha([0.0, 1.0, 2.0, 3.0])  # linear f: α_t = 3t/4 for t < 1
    >>> [round(float(alpha(t)), 4) for t in (0.0, 0.5, 1.0)]
    [0.0, 0.375, 1.0]
    """
    shape = _shape(profile)
    g = shape.g_knots()
    root = np.sqrt(shape.density)
    total, n = float(g[-1]), shape.n

    def alpha(t: Any) -> Any:
        tt = np.clip(np.asarray(t, dtype=np.float64), 0.0, 1.0)
        u = tt * total
        j = np.clip(np.searchsorted(g, u, side="left"), 1, n)
        slope = root[j - 1]
        step = np.divide(u - g[j - 1], slope, out=np.zeros_like(u), where=slope > 0)
        y = np.where(u <= 0, 0.0, (j - 1) / n + step)
        y = np.where(tt >= 1.0, 1.0, np.minimum(y, 1.0))
        return float(y) if np.ndim(y) == 0 else y

    return alpha


def optimal_value(profile: Any) -> float:
    """``(∫₀¹ √f̄′)²``, the least value of ``∫ f̄′(α_t) α̇_t² dt`` over α.

    Examples
    --------
    >>> round(optimal_value([0.0, 1.0, 2.0]), 12)  # f̄′ = 3/2 on [0, 2/3]: (2/3 · √1.5)²
    0.666666666667
    """
    return float(_shape(profile).g_knots()[-1] ** 2)


def predicted_gain(profile: Any) -> float:
    """``(∫√f̄′)² / ∫f̄′``: the predicted ``E_opt / E_const`` as N/K → ∞ (≤ 1).

    Examples
    --------
    >>> round(predicted_gain([0.0, 1.0, 2.0, 3.0, 4.0]), 12)
    0.8
    """
    shape = _shape(profile)
    return optimal_value(shape) / float(np.sum(shape.density) / shape.n)


def sqrt_rule_schedule(profile: Any, steps: int) -> ExchangeableSchedule:
    """The practical rule ``s_{k+1} ∝ 1/√Δf(a_k)``, in integers: ``a_k = ⌈N α*(k/K)⌉`` with
    α* = :func:`optimal_alpha`.

    Each step then covers an equal share ``G(1)/K`` of ``Σ_i √Δf(i)/√(N D)``, which is the
    rule where Δf varies slowly. Empty steps are pushed right as in
    :func:`~exactmd.schedules.families.alpha_boundaries`, so there are exactly K steps.

    Examples
    --------
    >>> sqrt_rule_schedule([0.0, 0.0, 0.0, 1.0, 5.0, 9.0, 13.0, 17.0], 3)
    ExchangeableSchedule(sizes=(4, 2, 2), label='sqrt rule')
    """
    shape = _shape(profile)
    return from_alpha(optimal_alpha(shape), shape.n, steps, label="sqrt rule")


def _evaluate(alpha: Callable[[Any], Any], t: FloatArray) -> FloatArray:
    """α on the grid: one vectorised call when α accepts arrays, else point by point."""
    try:
        with np.errstate(all="ignore"):
            out = np.asarray(alpha(t), dtype=np.float64)
        if out.shape == t.shape:
            return out
    except (TypeError, ValueError, ArithmeticError):
        pass
    return np.array([float(alpha(float(x))) for x in t])


def _alpha_on_grid(alpha: Any, n: int, steps: int) -> tuple[FloatArray, FloatArray]:
    points = int(steps * math.ceil(4096 / steps))
    t = np.arange(points + 1, dtype=np.float64) / points
    if isinstance(alpha, ExchangeableSchedule):
        if alpha.n != n or alpha.num_steps != steps:
            raise ScheduleError(
                f"alpha: a schedule must have N={n} and K={steps}; received {alpha!r}"
            )
        knots = np.asarray(alpha.boundaries, dtype=np.float64) / n
        a = np.interp(t, np.arange(steps + 1) / steps, knots)
    elif callable(alpha):
        a = _evaluate(alpha, t)
    else:
        raise ScheduleError(
            f"alpha: must be a function [0, 1] -> [0, 1] or an ExchangeableSchedule; "
            f"received {describe(alpha)}"
        )
    if not np.all(np.isfinite(a)) or np.any(np.diff(a) < -1e-12):
        raise ScheduleError("alpha: must be finite and non-decreasing on [0, 1]")
    return t, np.clip(a, 0.0, 1.0)


def _h(z: FloatArray, sbar: float) -> FloatArray:
    """Linear interpolation of z² at the points m/s̄."""
    u = z * sbar
    m = np.floor(u)
    return (m * m + (u - m) * (2 * m + 1)) / (sbar * sbar)


def predicted_error(profile: Any, alpha: Any, steps: int, regime: str = "finite") -> float:
    """The theory's E_fact for ``a_k = ⌈N α(k/K)⌉`` (module notes for both formulas).

    Parameters
    ----------
    profile
        f (non-decreasing, D > 0) or a law.
    alpha
        The reveal curve, or an :class:`~exactmd.schedules.kinds.ExchangeableSchedule` (its α is
        the piecewise-linear curve through ``(k/K, a_k/N)``). A curve is called once on the
        array of grid times when it accepts arrays (returning their shape), else point by
        point.
    steps
        K.
    regime
        ``"large"`` for ``(D/2)(N/K) ∫ f̄′ α̇²``; ``"finite"`` (default) for
        ``(D/2)(s̄ ∫ f̄′ h_s̄(α̇) − 1)`` with ``s̄ = N/K``, which also includes the O(1)
        correction and the integer rounding of the sizes.

    Examples
    --------
    Constant sizes s̄ on a linear profile: exactly D(s̄ − 1)/2 per unit of f̄.

    >>> f = np.arange(64.0)
    >>> round(predicted_error(f, lambda t: t, 16), 6)
    94.5
    >>> from exactmd.schedules.factorization import factorization_error_from_profile
    >>> factorization_error_from_profile(f, [4] * 16)
    96.0
    """
    check_choice(regime, "regime", REGIMES, ScheduleError)
    shape = _shape(profile)
    n = shape.n
    steps = check_int(steps, "steps", error=ScheduleError, noun="an integer K")
    t, a = _alpha_on_grid(alpha, n, steps)
    dt = float(t[1] - t[0])
    sbar = n / steps
    if regime == "large":
        dg = np.diff(np.interp(a, shape.grid, shape.g_knots()))
        integral = float(np.sum(dg * dg) / dt)
        return 0.5 * shape.scale * sbar * integral
    dl = np.diff(np.interp(a, shape.grid, shape.support_knots()))
    dfbar = np.diff(shape.fbar(a))
    mean_density = np.divide(dfbar, dl, out=np.zeros_like(dl), where=dl > 0)
    integral = float(np.sum(mean_density * _h(dl / dt, sbar)) * dt)
    return 0.5 * shape.scale * (sbar * integral - 1.0)


def predicted_optimal_error(profile: Any, steps: int) -> float:
    """The theory's least E_fact as N/K → ∞: ``(D/2)(N/K)(∫√f̄′)²``.

    Examples
    --------
    >>> round(predicted_optimal_error(np.arange(64.0), 16), 9)  # (D/2)(N/K)(63/64)
    124.03125
    """
    shape = _shape(profile)
    return 0.5 * shape.scale * shape.n / steps * optimal_value(shape)


@dataclass(frozen=True)
class ScheduleComparison:
    """The exact optimum beside named schedules and the theory (:func:`compare_schedules`).

    ``errors`` maps a label to the exact E_fact; ``gains`` maps it to ``E_opt / E_label``
    (≤ 1; 1 when E_label = 0, since then E_opt = 0 too: never NaN); ``predicted_gain`` is
    ``(∫√f̄′)²/∫f̄′`` and
    ``predicted_optimal_error`` is ``(D/2)(N/K)(∫√f̄′)²`` (both None when D = 0).
    """

    n: int
    steps: int
    optimal_sizes: tuple[int, ...]
    optimal_error: float
    errors: dict[str, float]
    gains: dict[str, float]
    predicted_gain: float | None
    predicted_optimal_error: float | None


def compare_schedules(p_or_profile: Any, steps: int) -> ScheduleComparison:
    """The exact optimal schedule, its E_fact, and its gain over the constant, cosine and
    square-root-rule schedules, with the theory's predictions.

    Examples
    --------
    >>> c = compare_schedules((np.arange(12) / 12) ** 3, 3)
    >>> c.optimal_sizes, sorted(c.errors)
    ((7, 3, 2), ['constant', 'cosine', 'optimal', 'sqrt rule'])
    >>> round(c.gains["constant"], 3), round(c.predicted_gain, 3)
    (0.647, 0.691)
    """
    f = as_profile(p_or_profile)
    k = int(steps)
    table = optimal_table(f, k)
    sizes = table.sizes(k)
    e_opt = table.error(k)
    schedules = {"constant": linear(f.size, k), "cosine": cosine(f.size, k)}
    theory: tuple[float | None, float | None] = (None, None)
    try:
        shape: ProfileShape | None = profile_shape(f)
    except ScheduleError:  # D = 0 or f not monotone: no theory, only exact values
        shape = None
    if shape is not None:
        schedules["sqrt rule"] = sqrt_rule_schedule(shape, k)
        theory = (predicted_gain(shape), predicted_optimal_error(shape, k))
    errors = {"optimal": e_opt}
    errors.update({name: factorization_error_from_profile(f, s) for name, s in schedules.items()})
    # E_opt <= E_label: a schedule with E_label = 0 leaves the optimum nothing to gain (1, not NaN)
    gains = {name: (e_opt / e if e > 0 else 1.0) for name, e in errors.items()}
    return ScheduleComparison(f.size, k, sizes, e_opt, errors, gains, *theory)
