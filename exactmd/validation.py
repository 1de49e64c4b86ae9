"""Small input checks shared by several modules (only numpy and :mod:`exactmd.errors`).

Examples
--------
>>> as_float_array([0.5, 0.5], "init", "a probability vector").tolist()
[0.5, 0.5]
>>> as_float_array("ab", "init", "a probability vector")
Traceback (most recent call last):
...
exactmd.errors.ValidationError: init: must be a probability vector; received 'ab'
>>> check_axes((2, 0), "p", None)
Traceback (most recent call last):
...
exactmd.errors.DistributionError: p: every axis must have at least one value; received shape (2, 0)
>>> from exactmd.errors import ScheduleError
>>> check_int(0, "steps", error=ScheduleError)
Traceback (most recent call last):
...
exactmd.errors.ScheduleError: steps: must be an integer >= 1; received 0
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from exactmd.errors import DistributionError, ValidationError, describe

__all__ = ["as_float_array", "check_axes", "check_int"]


def as_float_array(
    value: Any, name: str, rule: str, error: type[ValidationError] = ValidationError
) -> np.ndarray:
    """Return ``value`` as a float64 numpy array, or raise ``error`` naming ``name`` and ``rule``.

    Parameters
    ----------
    value
        Anything :func:`numpy.asarray` can read as float64.
    name
        The argument's name, used in the message.
    rule
        What the argument must be, as in ``"{name}: must be {rule}; received …"``.
    error
        The exception class to raise (:class:`~exactmd.errors.ValidationError` or a subclass).
    """
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise error(f"{name}: must be {rule}; received {describe(value)}") from exc


def check_int(
    value: Any,
    name: str,
    minimum: int = 1,
    maximum: int | None = None,
    *,
    error: type[ValidationError] = ValidationError,
    noun: str = "an integer",
) -> int:
    """Return ``value`` as an int in ``minimum..maximum``, or raise ``error`` naming ``name``.

    Integers are Python ints and any :class:`numbers.Integral` (numpy integers included);
    bools are refused, as are floats, even integral ones.

    Parameters
    ----------
    value
        The value to check.
    name
        The argument's name, used in the message.
    minimum, maximum
        The inclusive bounds (``maximum=None``: no upper bound).
    error
        The exception class to raise (:class:`~exactmd.errors.ValidationError` or a subclass).
    noun
        How the message names the expected value (``"an integer K"``...).

    Examples
    --------
    >>> import numpy as np
    >>> check_int(np.int64(3), "n")
    3
    >>> check_int(True, "n")
    Traceback (most recent call last):
    ...
    exactmd.errors.ValidationError: n: must be an integer >= 1; received True
    >>> check_int(4, "steps", 1, 3)
    Traceback (most recent call last):
    ...
    exactmd.errors.ValidationError: steps: must be an integer in 1..3; received 4
    """
    good = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if good:
        x = int(value)
        good = x >= minimum and (maximum is None or x <= maximum)
    if not good:
        rule = f">= {minimum}" if maximum is None else f"in {minimum}..{maximum}"
        raise error(f"{name}: must be {noun} {rule}; received {describe(value)}")
    return int(value)


def check_axes(shape: Sequence[int], name: str, shown: Any) -> None:
    """Refuse a table with no axis (``shown`` is described) or with a zero-size axis.

    Raises
    ------
    DistributionError
        ``shape`` is empty (a scalar) or has a 0.
    """
    if len(shape) == 0:
        raise DistributionError(
            f"{name}: must have at least one axis (N >= 1); received a scalar {describe(shown)}"
        )
    if any(s == 0 for s in shape):
        raise DistributionError(
            f"{name}: every axis must have at least one value; received shape {tuple(shape)}"
        )
