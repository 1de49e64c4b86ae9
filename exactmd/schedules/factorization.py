"""The factorization error E_fact and its bounds.

- Exchangeable sizes: ``E_fact = Σ_{i<N} f(i) − Σ_k s_{k+1} f(a_k)`` (docs/design.md, "Exchangeable
  identity and bounds").
- Deterministic partition: ``E_fact = Σ_k [Σ_{i∈z_k} H(X_i | X_{z<k}) − H(X_{z_k} | X_{z<k})]``.
- Random reveal: the exchangeable formula averaged over the Binomial law of the revealed counts,
  ``E_fact = −H − Σ_k Σ_a P[a_k = a] (N − a) r_{k+1} f(a)``.

Examples
--------
>>> import math
>>> import numpy as np
>>> p = np.zeros((2, 2, 2)); p[0, 0, 0] = p[1, 1, 1] = 0.5
>>> round(factorization_error(p, [3]) / math.log(2), 12)  # K = 1 gives TC = 2 log 2
2.0
>>> factorization_error(p, [1, 1, 1])  # K = N gives 0
0.0
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exactmd._validate import as_float_array, check_steps
from exactmd.enumeration.masked import subset_entropy
from exactmd.errors import ScheduleError, describe
from exactmd.law.distribution import Distribution, as_distribution
from exactmd.measures.information import complexity, information_profile, nonnegative
from exactmd.schedules.custom import schedule_method
from exactmd.schedules.kinds import (
    DeterministicSchedule,
    ExchangeableSchedule,
    RandomRevealSchedule,
    as_schedule,
)

__all__ = [
    "factorization_error",
    "factorization_error_from_profile",
    "exchangeable_bound",
    "worst_case_bound",
    "worst_case_log_bound",
]

_PROFILE_RULE = "a non-empty 1-D array of finite floats"


def factorization_error_from_profile(profile: Any, schedule: Any) -> float:
    """E_fact of an exchangeable or random-reveal schedule from the profile f alone.

    Parameters
    ----------
    profile
        f as a 1-D float array of length N.
    schedule
        Sizes, an :class:`ExchangeableSchedule` or a :class:`RandomRevealSchedule`.

    Examples
    --------
    >>> factorization_error_from_profile([-1.0, -1.0, 0.0], [3])
    1.0
    """
    f = as_float_array(profile, "profile", _PROFILE_RULE, ScheduleError)
    if f.ndim != 1 or f.size == 0 or not np.all(np.isfinite(f)):
        raise ScheduleError(f"profile: must be {_PROFILE_RULE}; received {describe(f)}")
    return float(_profile_error(f, as_schedule(schedule, f.size)))


def _profile_error(f: np.ndarray, sched: Any) -> Any:
    """E_fact from the profile ``f``: float64, or an object array of exact expressions (then
    the schedule's probabilities are exact as well and so is the result)."""
    n, exact = f.size, f.dtype == object
    if isinstance(sched, ExchangeableSchedule):
        a = np.asarray(sched.boundaries[:-1])
        return f.sum() - np.dot(np.asarray(sched.sizes, dtype=f.dtype), f[a])
    if isinstance(sched, RandomRevealSchedule):
        law = sched.revealed_count_law(n, exact=exact)
        r = np.asarray(sched._rates(exact), dtype=f.dtype)
        remaining = n - np.arange(n + 1)
        # a_k = N contributes nothing (no position left); f is indexed 0..N-1
        weights = law[:-1, :n] * remaining[None, :n] * r[:, None]
        return f.sum() - np.sum(weights @ f)
    raise ScheduleError(
        f"schedule: E_fact from a profile needs an exchangeable schedule; received {sched!r}"
    )


def _deterministic_error(d: Distribution, sched: DeterministicSchedule) -> Any:
    be = d.backend
    total: Any = 0  # a float once added to (exact expressions on the symbolic backend)
    context: list[int] = []
    h_context: Any = 0
    for block in sched.partition:
        h_union = be.to_float(subset_entropy(d, sorted(context + list(block))))
        singles = sum(
            be.to_float(subset_entropy(d, sorted([*context, i]))) - h_context for i in block
        )
        total += singles - (h_union - h_context)
        context.extend(block)
        h_context = h_union
    return nonnegative(be.to_float(total))


def factorization_error(p: Any, schedule: Any) -> Any:
    """The factorization error E_fact = E[Σ_k TC_π(z_k | x_{z<k})], in nats.

    Parameters
    ----------
    p
        The law π (any accepted form).
    schedule
        Sizes (exchangeable), an ordered partition (deterministic), or a
        :class:`~exactmd.schedules.kinds.Schedule` (including random reveal).

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> p = np.full((2, 2), 0.25)
    >>> factorization_error(p, [2])
    0.0
    """
    return schedule_factorization_error(as_distribution(p), schedule)


def schedule_factorization_error(d: Distribution, schedule: Any, denoiser: Any = None) -> Any:
    """E_fact of a validated law: :func:`factorization_error`, with the sampler's denoiser.

    The three kinds of :mod:`exactmd.schedules.kinds` do not depend on ``denoiser``; any other kind
    computes its own E_fact (its ``factorization_error(d)`` method, or
    ``factorization_error(d, denoiser)`` when ``denoiser`` is not None, see
    :mod:`exactmd.schedules.custom`), e.g. an adaptive planner seeing ``denoiser``'s
    probabilities, as :func:`~exactmd.sampler.bound.check_bound` needs.

    Examples
    --------
    >>> import numpy as np
    >>> schedule_factorization_error(as_distribution(np.full((2, 2), 0.25)), [1, 1])
    0.0
    """
    sched = as_schedule(schedule, d.n)
    if isinstance(sched, DeterministicSchedule):
        return _deterministic_error(d, sched)
    if isinstance(sched, ExchangeableSchedule | RandomRevealSchedule):
        f = information_profile(d)
        if d.backend.exact:  # exact expressions: the same formula, never rounded
            return d.backend.to_float(_profile_error(np.asarray(f, dtype=object), sched))
        # >= 0 by theory (f is non-decreasing): only rounding can take it below 0
        return nonnegative(factorization_error_from_profile(f, sched))
    method = schedule_method(sched, "factorization_error")  # e.g. an adaptive planner
    return nonnegative(float(method(d) if denoiser is None else method(d, denoiser)))


def _times(d: Distribution, factor: int, value: Any) -> Any:
    """``factor · value`` as a float, or as an exact expression for a symbolic law."""
    return d.backend.to_float(factor * value)


def exchangeable_bound(p: Any, schedule: Any) -> Any:
    """The exchangeable bound ``(max_k s_k − 1) · D(π)`` on E_fact of an exchangeable schedule.

    Only exchangeable schedules (sizes) are accepted: for a fixed partition or an adaptive
    planner the bound does not hold in general (use :func:`worst_case_bound` for constant sizes).

    A float, or an exact sympy expression for a symbolic law (as :func:`complexity`).

    Examples
    --------
    >>> import numpy as np
    >>> round(exchangeable_bound(np.full((2, 2), 0.25), [2]), 12)
    0.0
    >>> import sympy
    >>> half = sympy.Rational(1, 2)
    >>> exchangeable_bound(sympy.Array([[[half, 0], [0, 0]], [[0, 0], [0, half]]]), [3])
    2*log(2)
    """
    d = as_distribution(p)
    sched = as_schedule(schedule, d.n)
    if not isinstance(sched, ExchangeableSchedule):
        # it does not hold for a fixed partition or an adaptive planner in general
        raise ScheduleError(
            "schedule: the exchangeable bound needs an exchangeable schedule with fixed sizes "
            f"(for any planner with constant sizes, use worst_case_bound); received {sched!r}"
        )
    return _times(d, max(sched.sizes) - 1, complexity(d))


def worst_case_bound(p: Any, steps: int) -> Any:
    """The any-planner bound ``(N − K) · D(π)`` for a K-step constant-size schedule.

    A float, or an exact sympy expression for a symbolic law.

    Examples
    --------
    >>> import math
    >>> p = [[0.5, 0.0], [0.0, 0.5]]  # a copy pair: D = log 2
    >>> round(worst_case_bound(p, 1) / math.log(2), 12)
    1.0
    """
    d = as_distribution(p)
    k = _check_steps(steps, d.n)
    return _times(d, d.n - k, complexity(d))


def worst_case_log_bound(p: Any, steps: int) -> Any:
    """The law-free bound ``(N − K) · log max q_i``.

    A float, or the exact ``(N − K)·log(q)`` (a sympy expression) for a symbolic law.

    Examples
    --------
    >>> import sympy
    >>> worst_case_log_bound(sympy.Array([[sympy.Rational(1, 6)] * 3] * 2), 1)
    log(3)
    """
    d = as_distribution(p)
    k = _check_steps(steps, d.n)
    return _times(d, d.n - k, d.backend.log(np.array([d.q]))[0])


def _check_steps(steps: Any, n: int) -> int:
    return check_steps(steps, n, "steps", ScheduleError)
