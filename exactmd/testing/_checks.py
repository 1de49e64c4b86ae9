"""Checks of the numeric parameters of the test oracle (levels, tolerances, counts).

Each raises :class:`~exactmd.errors.ValidationError` naming the argument, the rule and the
value received, and returns the value as a plain Python number. :func:`check_int` is
:func:`exactmd.validation.check_int`, re-exported here.

Examples
--------
>>> check_level(0.01)
0.01
>>> check_real(-1, "atol")
Traceback (most recent call last):
...
exactmd.errors.ValidationError: atol: must be a finite real number >= 0; received -1
>>> check_int(0, "max_contexts")
Traceback (most recent call last):
...
exactmd.errors.ValidationError: max_contexts: must be an integer >= 1; received 0
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from exactmd.errors import ValidationError, describe
from exactmd.validation import check_int, is_real

__all__ = ["NoPowerError", "check_level", "check_real", "check_int", "check_shape"]


class NoPowerError(ValidationError):
    """A statistical test was asked for where it cannot reject: too few samples for any
    p-value to reach alpha, a law with a single possible outcome, or an alternative identical
    to the law. The message names the argument, the rule and the value received."""


def _as_real(value: Any) -> float | None:
    """``value`` as a float under :func:`exactmd.validation.is_real` (Python and numpy reals,
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
