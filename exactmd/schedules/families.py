"""α-schedules: exchangeable schedules from a reveal curve α: [0, 1] → [0, 1].

A function α, non-decreasing with ``α(0) = 0`` and ``α(1) = 1``, gives the K-step exchangeable
schedule with boundaries ``a_k = ⌈N α(k/K)⌉`` (docs/design.md, "Scaling limit and the square-root
rule"): α(t) is the fraction of
positions revealed after a fraction t of the steps. The named families:

=================  =====================================  ===========================
name               α(t)                                   sizes
=================  =====================================  ===========================
``linear``         t                                      constant (``constant``)
``cosine``         1 − cos(πt/2)  (MaskGIT)               small first, large last
``loglinear``      ε + (1 − ε)t for t > 0  (MDLM)          linear; ε N extra at step 1
``geometric``      (c^t − 1)/(c − 1), c = r^(K/(K−1))      s_K / s_1 ≈ r
``polynomial``     t^p                                    p > 1: small first
=================  =====================================  ===========================

MDLM's log-linear noise ``σ(t) = −log(1 − (1 − ε)t)`` masks each position with probability
``(1 − ε)t``; run on the uniform grid ``t_k = 1 − k/K`` its expected revealed fraction after k
steps is ``1 − (1 − ε)(1 − k/K)``, which is what :func:`loglinear` rounds. MDLM's own sampler
reveals at random (Binomial sizes): that is
``RandomRevealSchedule.from_noise(lambda t: t, K)`` in :mod:`exactmd.schedules.kinds`.

**Collisions.** Rounding can give ``a_k = a_{k−1}`` (an empty step) where ``N α̇/K < 1``. The
``collisions`` argument chooses what happens:

- ``"push"`` (default): repaired, deterministically and minimally, by pushing boundaries to the
  right, ``a_k = max(a_{k−1} + 1, min(⌈N α(k/K)⌉, N − K + k))``. The result has exactly K steps
  of size ≥ 1 and is the pointwise least valid boundary sequence above
  ``min(⌈N α(k/K)⌉, N − K + k)``; it equals the unrepaired boundaries when those are already
  strictly increasing, and otherwise a pushed boundary may push the ones after it.
- ``"drop"``: empty steps are removed (fewer than K steps). An empty step reveals nothing and
  costs nothing, so this is the schedule the scaling theory describes
  (:mod:`exactmd.schedules.scaling`).
- ``"raise"``: a :class:`~exactmd.errors.ScheduleError`.

Examples
--------
>>> linear(8, 4)
ExchangeableSchedule(sizes=(2, 2, 2, 2), label='linear')
>>> cosine(8, 4)
ExchangeableSchedule(sizes=(1, 2, 2, 3), label='cosine')
>>> from_alpha(lambda t: t**2, 8, 4, label="square")
ExchangeableSchedule(sizes=(1, 1, 3, 3), label='square')
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

from exactmd._validate import check_choice, check_int, check_real, check_steps
from exactmd.errors import ScheduleError, describe
from exactmd.schedules.kinds import ExchangeableSchedule

__all__ = [
    "alpha_boundaries",
    "from_alpha",
    "linear",
    "constant",
    "cosine",
    "loglinear",
    "geometric",
    "polynomial",
    "named_schedule",
    "SCHEDULE_FAMILIES",
]

#: Slack subtracted before rounding up, so that ``N α(k/K)`` equal to an integer up to
#: floating-point error (e.g. ``3.0000000000000004``) is not pushed to the next integer.
ROUNDING_SLACK = 1e-9
#: The policies for empty steps.
COLLISIONS = ("push", "drop", "raise")


def _check_n_steps(n: Any, steps: Any) -> tuple[int, int]:
    n = check_int(n, "n", error=ScheduleError)
    return n, check_steps(steps, n, "steps", ScheduleError)


def alpha_boundaries(
    alpha: Callable[[float], float], n: int, steps: int, collisions: str = "push"
) -> tuple[int, ...]:
    """The boundaries ``(a_0 = 0, a_1, …, a_K = N)`` with ``a_k = ⌈N α(k/K)⌉``.

    Parameters
    ----------
    alpha
        The reveal curve, called on the floats ``k/K``; it must be finite, within [0, 1]
        (1e-9 slack) and non-decreasing on those points. ``a_0 = 0`` and ``a_K = N`` are
        imposed whatever ``α(0)`` and ``α(1)`` are, up to the 1e-9 slack.
    n, steps
        N and K, with ``1 <= K <= N``.
    collisions
        ``"push"``, ``"drop"`` or ``"raise"``: what to do with empty steps (module notes).

    Examples
    --------
    >>> alpha_boundaries(lambda t: t, 10, 4)
    (0, 3, 5, 8, 10)
    >>> alpha_boundaries(lambda t: t**4, 6, 4)  # ceil gives (0, 1, 1, 2, 6): pushed right
    (0, 1, 2, 3, 6)
    >>> alpha_boundaries(lambda t: t**4, 6, 4, collisions="drop")
    (0, 1, 2, 6)
    >>> alpha_boundaries(lambda t: t**4, 6, 4, collisions="raise")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    exactmd.errors.ScheduleError: alpha: ... empty step at k=2 (boundaries (0, 1, 1, 2, 6)); ...
    """
    n, steps = _check_n_steps(n, steps)
    check_choice(collisions, "collisions", COLLISIONS, ScheduleError)
    values = []
    for k in range(steps + 1):
        t = k / steps
        try:
            v = float(alpha(t))
        except (TypeError, ValueError) as exc:
            raise ScheduleError(
                f"alpha: must map [0, 1] to floats; alpha({t}) raised {exc!r}"
            ) from exc
        if not math.isfinite(v) or not -ROUNDING_SLACK <= v <= 1 + ROUNDING_SLACK:
            raise ScheduleError(f"alpha: must take values in [0, 1]; received alpha({t}) = {v!r}")
        values.append(v)
    if abs(values[0]) > ROUNDING_SLACK or abs(values[-1] - 1) > ROUNDING_SLACK:
        raise ScheduleError(
            f"alpha: must satisfy alpha(0) = 0 and alpha(1) = 1; received alpha(0) = "
            f"{values[0]!r}, alpha(1) = {values[-1]!r}"
        )
    drops = [k for k in range(1, steps + 1) if values[k] < values[k - 1] - ROUNDING_SLACK]
    if drops:
        k = drops[0]
        raise ScheduleError(
            f"alpha: must be non-decreasing; received alpha({(k - 1) / steps}) = "
            f"{values[k - 1]!r} > alpha({k / steps}) = {values[k]!r}"
        )
    raw = [0] + [max(0, math.ceil(n * v - ROUNDING_SLACK)) for v in values[1:-1]] + [n]
    raw = [min(a, n) for a in raw]
    raw = list(itertools.accumulate(raw, max))  # monotone despite the 1e-9 slack
    if collisions == "drop":
        return tuple(sorted(set(raw)))
    if collisions == "raise":
        bad = [k for k in range(1, steps + 1) if raw[k] <= raw[k - 1]]
        if bad:
            raise ScheduleError(
                f"alpha: a_k = ceil(N alpha(k/K)) gives an empty step at k={bad[0]} "
                f"(boundaries {tuple(raw)}); pass collisions='push' or 'drop' to allow it"
            )
        return tuple(raw)
    out = [0]
    for k in range(1, steps + 1):
        out.append(max(out[-1] + 1, min(raw[k], n - steps + k)))
    return tuple(out)


def from_alpha(
    alpha: Callable[[float], float],
    n: int,
    steps: int,
    label: str | None = None,
    collisions: str = "push",
) -> ExchangeableSchedule:
    """The exchangeable schedule with boundaries ``a_k = ⌈N α(k/K)⌉`` (see
    :func:`alpha_boundaries` for the rules and the ``collisions`` policy).

    Examples
    --------
    >>> from_alpha(lambda t: t, 5, 2, label="half")
    ExchangeableSchedule(sizes=(3, 2), label='half')
    """
    a = alpha_boundaries(alpha, n, steps, collisions=collisions)
    sizes = tuple(int(a[k + 1] - a[k]) for k in range(len(a) - 1))
    return ExchangeableSchedule(sizes, label=label)


def _linear_alpha(t: float) -> float:
    return t


def linear(n: int, steps: int) -> ExchangeableSchedule:
    """Constant sizes: ``α(t) = t``, so ``a_k = ⌈Nk/K⌉`` (sizes differ by at most one).

    Examples
    --------
    >>> linear(7, 3).sizes
    (3, 2, 2)
    """
    return from_alpha(_linear_alpha, n, steps, label="linear")


def constant(n: int, steps: int) -> ExchangeableSchedule:
    """Alias of :func:`linear` labelled ``"constant"``.

    Examples
    --------
    >>> constant(4, 2)
    ExchangeableSchedule(sizes=(2, 2), label='constant')
    """
    return from_alpha(_linear_alpha, n, steps, label="constant")


def cosine(n: int, steps: int) -> ExchangeableSchedule:
    """MaskGIT's cosine schedule: the masked fraction after a fraction t of the steps is
    ``cos(πt/2)``, so ``α(t) = 1 − cos(πt/2)``.

    The boundaries follow the design's ``a_k = ⌈N α(k/K)⌉``; MaskGIT's own code rounds the masked
    count up instead, i.e. reveals ``⌊N α(k/K)⌋``, which can differ by one position.

    Examples
    --------
    >>> cosine(16, 4).sizes
    (2, 3, 5, 6)
    """
    return from_alpha(lambda t: 1.0 - math.cos(math.pi * t / 2), n, steps, label="cosine")


def loglinear(n: int, steps: int, eps: float = 1e-3) -> ExchangeableSchedule:
    """MDLM's log-linear noise on the uniform grid, as fixed sizes:
    ``α(t) = ε + (1 − ε)t`` for ``t > 0`` (and ``α(0) = 0``); see the module notes.

    With ``eps=0`` it is :func:`linear`. MDLM's default is ``eps=1e-3``.

    Because of the ceiling ``a_k = ⌈N α(k/K)⌉``, every boundary where ``N k / K`` is an integer
    gains one whole position from the tiny ``εN`` (``loglinear(10, 2).sizes == (6, 4)`` where
    MDLM expects 5.005 revealed): at small N this family differs from :func:`linear` by that
    rounding, not by MDLM's noise. MDLM's actual sampler reveals at random:
    ``RandomRevealSchedule.from_noise(lambda t: t, K)``.

    Examples
    --------
    >>> loglinear(1000, 4).sizes
    (251, 250, 250, 249)
    >>> loglinear(10, 2).sizes, linear(10, 2).sizes
    ((6, 4), (5, 5))
    """
    e = check_real(eps, "eps", minimum=0.0, maximum=1.0, open_max=True, error=ScheduleError)
    return from_alpha(
        lambda t: 0.0 if t == 0 else e + (1.0 - e) * t, n, steps, label=f"loglinear(eps={e:g})"
    )


def geometric(n: int, steps: int, ratio: float = 10.0) -> ExchangeableSchedule:
    """Sizes in geometric progression with ``s_K / s_1 ≈ r``: ``α(t) = (c^t − 1)/(c − 1)``
    with ``c = r^{K/(K−1)}``, so consecutive sizes grow by ``r^{1/(K−1)}`` (``r < 1`` shrinks;
    ``r = 1``, or K = 1, is :func:`linear`).

    Examples
    --------
    >>> geometric(30, 3, ratio=4.0).sizes
    (5, 8, 17)
    """
    r = check_real(ratio, "ratio", minimum=0.0, open_min=True, error=ScheduleError)
    label = f"geometric(ratio={r:g})"
    n, steps = _check_n_steps(n, steps)
    if r == 1.0 or steps == 1:
        return from_alpha(_linear_alpha, n, steps, label=label)
    c = r ** (steps / (steps - 1))
    return from_alpha(lambda t: (c**t - 1.0) / (c - 1.0), n, steps, label=label)


def polynomial(n: int, steps: int, power: float = 2.0) -> ExchangeableSchedule:
    """``α(t) = t^p``: p > 1 reveals few positions first, p < 1 many first.

    Examples
    --------
    >>> polynomial(9, 3, power=2)
    ExchangeableSchedule(sizes=(1, 3, 5), label='polynomial(p=2)')
    """
    p = check_real(power, "power", minimum=0.0, open_min=True, error=ScheduleError)
    return from_alpha(lambda t: t**p, n, steps, label=f"polynomial(p={p:g})")


#: Named families: ``name -> function(n, steps, **params)``.
SCHEDULE_FAMILIES: dict[str, Callable[..., ExchangeableSchedule]] = {
    "linear": linear,
    "constant": constant,
    "cosine": cosine,
    "loglinear": loglinear,
    "geometric": geometric,
    "polynomial": polynomial,
}


def named_schedule(name: str, n: int, steps: int, **params: Any) -> ExchangeableSchedule:
    """A schedule of :data:`SCHEDULE_FAMILIES` by name, e.g. ``named_schedule("cosine", N, K)``.

    Examples
    --------
    >>> named_schedule("polynomial", 9, 3, power=0.5).sizes
    (6, 2, 1)
    >>> named_schedule("quadratic", 9, 3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    exactmd.errors.ScheduleError: name: must be one of ['linear', ...]; received 'quadratic'
    """
    if not isinstance(name, str) or name not in SCHEDULE_FAMILIES:
        raise ScheduleError(
            f"name: must be one of {list(SCHEDULE_FAMILIES)}; received {describe(name)}"
        )
    return SCHEDULE_FAMILIES[name](n, steps, **params)
