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

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from exactmd.errors import DistributionError, ValidationError, describe

__all__ = [
    "as_float_array",
    "check_axes",
    "check_choice",
    "check_level",
    "check_order",
    "check_shape",
    "check_flag",
    "check_int",
    "check_real",
    "check_seed",
    "check_steps",
    "as_integer",
    "as_real",
    "to_integer",
    "is_real",
]


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

    **The one rule for integers** everywhere in exactmd: Python and numpy integers, and real
    numbers with an integral value (``2.0``, ``np.float32(3)``), are accepted; bools, strings,
    non-integral or non-finite floats and arrays with axes are refused.

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
    x = as_integer(value)
    good = x is not None and x >= minimum and (maximum is None or x <= maximum)
    if not good or x is None:
        rule = f">= {minimum}" if maximum is None else f"in {minimum}..{maximum}"
        raise error(f"{name}: must be {noun} {rule}; received {describe(value)}")
    return x


def as_integer(value: Any) -> int | None:
    """``value`` as an int under the one rule for integers (see :func:`check_int`), else None.

    Examples
    --------
    >>> as_integer(3), as_integer(2.0), as_integer(np.int64(4))
    (3, 2, 4)
    >>> as_integer(2.5), as_integer(True), as_integer("2")
    (None, None, None)
    """
    if not is_real(value):
        return None
    if isinstance(value, np.ndarray):
        value = value[()]
    if isinstance(value, numbers.Integral):
        return int(value)
    x = float(value)
    return int(x) if math.isfinite(x) and x.is_integer() else None


def to_integer(value: Any) -> int:
    """:func:`as_integer`, raising ``TypeError`` instead of returning None (for callers that
    turn it into their own error, e.g. a partition's positions).

    Examples
    --------
    >>> to_integer(np.int32(2))
    2
    """
    x = as_integer(value)
    if x is None:
        raise TypeError(f"not an integer: {value!r}")
    return x


def check_steps(
    steps: Any, n: int, name: str = "steps", error: type[ValidationError] = ValidationError
) -> int:
    """The number of steps K of a schedule for N = ``n`` positions: an integer with
    ``1 <= K <= N`` (the one rule for integers, :func:`check_int`), or ``error`` naming ``name``.

    Examples
    --------
    >>> check_steps(2.0, 4)
    2
    >>> check_steps(5, 4)
    Traceback (most recent call last):
    ...
    exactmd.errors.ValidationError: steps: must be an integer K with 1 <= K <= N=4; received 5
    """
    k = as_integer(steps)
    if k is None or not 1 <= k <= n:
        raise error(
            f"{name}: must be an integer K with 1 <= K <= N={n}; received {describe(steps)}"
        )
    return k


def is_real(value: Any) -> bool:
    """True for a real scalar under the one rule of exactmd: Python and numpy ints and floats
    (any :class:`numbers.Real`, 0-d numpy arrays of a real dtype included); never a bool
    (Python or numpy), a string, a complex number or an array with axes.

    Examples
    --------
    >>> import numpy as np
    >>> is_real(np.float32(1.3)), is_real(np.int64(2)), is_real(np.array(0.5))
    (True, True, True)
    >>> is_real(True), is_real("1"), is_real(1 + 0j), is_real(np.bool_(True))
    (False, False, False, False)
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def as_real(value: Any) -> float | None:
    """``value`` as a Python float under the one rule for real scalars (:func:`is_real`),
    else None.

    Examples
    --------
    >>> as_real(np.float32(0.5)), as_real(np.array(2)), as_real(True), as_real("1")
    (0.5, 2.0, None, None)
    """
    if not is_real(value):
        return None
    return float(value[()] if isinstance(value, np.ndarray) else value)


def check_real(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    open_min: bool = False,
    open_max: bool = False,
    finite: bool = True,
    error: type[ValidationError] = ValidationError,
) -> float:
    """Return ``value`` as a Python float, or raise ``error`` naming ``name``, the rule and the
    value received.

    The one rule for real scalars everywhere in exactmd (:func:`is_real`): Python and numpy
    real scalars are accepted (``np.float32(1.3)``, ``np.int64(2)``); bools, strings, complex
    numbers and arrays are refused. NaN is always refused, infinities unless ``finite=False``.

    Parameters
    ----------
    value
        The value to check.
    name
        The argument's name, used in the message.
    minimum, maximum
        Bounds (``None``: none); ``open_min`` / ``open_max`` make them strict.
    finite
        Refuse ``±inf`` (the default).
    error
        The exception class to raise (:class:`~exactmd.errors.ValidationError` or a subclass).

    Examples
    --------
    >>> import numpy as np
    >>> check_real(np.float32(0.5), "noise", minimum=0, maximum=1)
    0.5
    >>> check_real(True, "temperature", minimum=0, open_min=True)
    Traceback (most recent call last):
    ...
    exactmd.errors.ValidationError: temperature: must be a finite real number > 0; received True
    >>> check_real("0.5", "noise", minimum=0, maximum=1)
    Traceback (most recent call last):
    ...
    exactmd.errors.ValidationError: noise: must be a finite real number in [0, 1]; received '0.5'
    """
    x = as_real(value)
    ok = x is not None and not math.isnan(x) and (math.isfinite(x) or not finite)
    if ok and x is not None and minimum is not None:
        ok = x > minimum if open_min else x >= minimum
    if ok and x is not None and maximum is not None:
        ok = x < maximum if open_max else x <= maximum
    if not ok or x is None:
        if minimum is not None and maximum is not None:
            left, right = "(" if open_min else "[", ")" if open_max else "]"
            rule = f"in {left}{minimum:g}, {maximum:g}{right}"
        elif minimum is not None:
            rule = f"{'>' if open_min else '>='} {minimum:g}"
        elif maximum is not None:
            rule = f"{'<' if open_max else '<='} {maximum:g}"
        else:
            rule = ""
        kind = "a finite real number" if finite else "a real number (not NaN)"
        rule = f" {rule}" if rule else ""
        raise error(f"{name}: must be {kind}{rule}; received {describe(value)}")
    return x


def check_choice(
    value: Any,
    name: str,
    choices: Sequence[str],
    error: type[ValidationError] = ValidationError,
    extra: str = "",
) -> str:
    """Return ``value`` when it is one of the strings ``choices``, else raise ``error`` naming
    ``name``, the choices and the value (an array, a list or any non-string is refused, never
    compared element-wise). ``extra`` is added to the rule (e.g. ``" or None"``).

    Examples
    --------
    >>> check_choice("push", "collisions", ("push", "drop"))
    'push'
    >>> check_choice(["push"], "collisions", ("push", "drop"))
    Traceback (most recent call last):
    ...
    exactmd.errors.ValidationError: collisions: must be one of ('push', 'drop'); received ['push']
    """
    if not isinstance(value, str) or value not in choices:
        raise error(f"{name}: must be one of {tuple(choices)}{extra}; received {describe(value)}")
    return value


def check_flag(value: Any, name: str, error: type[ValidationError] = ValidationError) -> bool:
    """Return ``value`` as a bool when it is a Python or numpy bool, else raise naming ``name``.

    Examples
    --------
    >>> check_flag(False, "check_zero_contexts")
    False
    >>> check_flag(1, "native")
    Traceback (most recent call last):
    ...
    exactmd.errors.ValidationError: native: must be a bool (True or False); received 1
    """
    if not isinstance(value, bool | np.bool_):
        raise error(f"{name}: must be a bool (True or False); received {describe(value)}")
    return bool(value)


def check_seed(seed: Any, name: str = "seed", *, allow_none: bool = True) -> Any:
    """Return a valid seed for :func:`numpy.random.default_rng`, or raise naming ``name``.

    A seed is ``None`` (fresh entropy, when ``allow_none``), an integer ``>= 0`` (Python or
    numpy; bools refused) or a :class:`numpy.random.Generator` (used as it is).

    Examples
    --------
    >>> check_seed(3), check_seed(None) is None
    (3, True)
    >>> check_seed(-1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    exactmd.errors.ValidationError: seed: must be None, an integer >= 0 or a ...; received -1
    """
    if isinstance(seed, np.random.Generator) or (seed is None and allow_none):
        return seed
    k = as_integer(seed)
    if k is not None and k >= 0:
        return k
    what = "None, an integer" if allow_none else "an integer"
    raise ValidationError(
        f"{name}: must be {what} >= 0 or a numpy.random.Generator; received {describe(seed)}"
    )


def check_level(value: Any, name: str = "alpha") -> float:
    """A significance level: a real number in the open interval (0, 1)."""
    x = as_real(value)
    if x is None or not 0.0 < x < 1.0:
        raise ValidationError(
            f"{name}: must be a real number in the open interval (0, 1); received {describe(value)}"
        )
    return x


def check_shape(value: Any, name: str = "shape") -> tuple[int, ...]:
    """Alphabet sizes: a non-empty sequence of integers >= 1."""
    try:
        sizes = tuple(value)
    except TypeError:
        sizes = ()
    good = bool(sizes) and all((as_integer(q) or 0) >= 1 for q in sizes)
    if not good:
        raise ValidationError(
            f"{name}: must be a non-empty sequence of integers >= 1; received {describe(value)}"
        )
    return tuple(to_integer(q) for q in sizes)


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
    k = as_integer(value)  # the one rule for integers
    if k is not None and k >= 1:
        return k
    raise ValidationError(
        f"{name}: must be 'auto', None/'joint' or an integer >= 1; received {describe(value)}"
    )


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
