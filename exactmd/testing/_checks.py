"""Checks of the numeric parameters of the test oracle (levels, tolerances, counts).

Each raises :class:`~exactmd.errors.ValidationError` naming the argument, the rule and the
value received, and returns the value as a plain Python number. :func:`check_int` is
:func:`exactmd._validate.check_int` and :func:`check_seed` is
:func:`exactmd._validate.check_seed`, re-exported here.

Examples
--------
>>> check_level(0.01)
0.01
>>> check_real(-1, "atol")
Traceback (most recent call last):
...
exactmd.errors.ValidationError: atol: must be a finite real number >= 0; received -1
>>> from exactmd._validate import check_int
>>> check_int(0, "max_contexts")
Traceback (most recent call last):
...
exactmd.errors.ValidationError: max_contexts: must be an integer >= 1; received 0
>>> check_flag(np.zeros(0), "check_zero_contexts")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
exactmd.errors.ValidationError: check_zero_contexts: must be a bool (True or False); received ...
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from exactmd._validate import is_real
from exactmd.errors import ValidationError, describe

__all__ = [
    "NoPowerError",
    "check_level",
    "check_real",
    "check_shape",
    "check_flag",
    "check_order",
]


class NoPowerError(ValidationError):
    """A statistical test was asked for where it cannot reject: too few samples for any
    p-value to reach alpha, a law with a single possible outcome, or an alternative identical
    to the law. The message names the argument, the rule and the value received."""


def _as_real(value: Any) -> float | None:
    """``value`` as a float under :func:`exactmd._validate.is_real` (Python and numpy reals,
    never a bool or a string), else None."""
    if not is_real(value):
        return None
    return float(value[()] if isinstance(value, np.ndarray) else value)


def check_level(value: Any, name: str = "alpha") -> float:
    """A significance level: a real number in the open interval (0, 1)."""
    x = _as_real(value)
    if x is None or not 0.0 < x < 1.0:
        raise ValidationError(
            f"{name}: must be a real number in the open interval (0, 1); received {describe(value)}"
        )
    return x


def check_real(value: Any, name: str, *, positive: bool = False) -> float:
    """A finite real number, ``>= 0`` (``> 0`` when ``positive``)."""
    x = _as_real(value)
    ok = x is not None and math.isfinite(x) and (x > 0 if positive else x >= 0)
    if not ok:
        rule = "> 0" if positive else ">= 0"
        raise ValidationError(
            f"{name}: must be a finite real number {rule}; received {describe(value)}"
        )
    assert x is not None
    return x


def check_shape(value: Any, name: str = "shape") -> tuple[int, ...]:
    """Alphabet sizes: a non-empty sequence of integers >= 1."""
    try:
        sizes = tuple(value)
    except TypeError:
        sizes = ()
    good = bool(sizes) and all(
        isinstance(q, numbers.Integral) and not isinstance(q, bool) and int(q) >= 1 for q in sizes
    )
    if not good:
        raise ValidationError(
            f"{name}: must be a non-empty sequence of integers >= 1; received {describe(value)}"
        )
    return tuple(int(q) for q in sizes)


def check_flag(value: Any, name: str) -> bool:
    """A flag: a Python or numpy bool (never a number, an array or None, whose truth value
    would be a guess)."""
    if not isinstance(value, bool | np.bool_):
        raise ValidationError(f"{name}: must be a bool (True or False); received {describe(value)}")
    return bool(value)


def check_order(value: Any, name: str = "order") -> int | str | None:
    """The ``order`` of a test of fit: ``"auto"``, ``None`` or ``"joint"`` (the joint), or an
    integer k >= 1 (the k-variable marginals; k <= N is checked once the law is known).

    Examples
    --------
    >>> check_order(np.int64(2)), check_order("auto"), check_order(None)
    (2, 'auto', None)
    >>> check_order(1.5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    exactmd.errors.ValidationError: order: must be 'auto', None/'joint' or an ...; received 1.5
    """
    if value is None or (isinstance(value, str) and value in ("auto", "joint")):
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and int(value) >= 1:
        return int(value)
    raise ValidationError(
        f"{name}: must be 'auto', None/'joint' or an integer >= 1; received {describe(value)}"
    )
