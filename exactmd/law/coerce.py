"""Reading object arrays and nested lists: exact (symbolic) or real numbers.

:func:`exactmd.law.distribution.as_distribution` uses these helpers to decide which path an input
takes (see :mod:`exactmd.law.distribution`): a numpy object array or nested lists are **symbolic**
only when some entry is a sympy object or a :class:`fractions.Fraction`
(:func:`is_symbolic_input`); otherwise every entry must be a real number (``int``, ``float``,
``bool``, :class:`decimal.Decimal`, numpy scalars) and :func:`object_to_float` converts the
table to float64, refusing ragged lists and non-numbers with the index where they sit.

Examples
--------
>>> from decimal import Decimal
>>> from fractions import Fraction
>>> is_symbolic_input([[Fraction(1, 2), 0], [0, Fraction(1, 2)]])
True
>>> is_symbolic_input([[Decimal("0.5"), 0], [0, 0.5]])
False
>>> object_to_float(np.array([Decimal("0.25"), 0.75], dtype=object), None, "p").tolist()
[0.25, 0.75]
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np

from exactmd.errors import DistributionError, describe

__all__ = [
    "REAL_SCALARS",
    "is_exact_entry",
    "has_exact_entries",
    "is_symbolic_input",
    "object_to_float",
]

#: Entry types an object table may hold on the numeric path (converted to float64).
REAL_SCALARS = (bool, int, float, Decimal, np.bool_, np.integer, np.floating)


def is_exact_entry(e: Any) -> bool:
    """True for a :class:`fractions.Fraction` or a sympy object.

    Examples
    --------
    >>> is_exact_entry(Fraction(1, 3)), is_exact_entry(0.5)
    (True, False)
    """
    return isinstance(e, Fraction) or type(e).__module__.startswith("sympy")


def has_exact_entries(arr: np.ndarray) -> bool:
    """True when an object array holds a sympy object or a Fraction (anywhere, nested included).

    Examples
    --------
    >>> has_exact_entries(np.array([[0.5, [Fraction(1, 2)]]], dtype=object))
    True
    """
    stack = list(arr.reshape(-1))
    while stack:
        e = stack.pop()
        if is_exact_entry(e):
            return True
        if isinstance(e, list | tuple):
            stack.extend(e)
    return False


def is_symbolic_input(p: Any) -> bool:
    """Symbolic input: sympy arrays, and object arrays or nested lists holding at least one
    sympy object or :class:`fractions.Fraction` (other object arrays and lists are numeric).

    Examples
    --------
    >>> is_symbolic_input(np.array([0.5, 0.5])), is_symbolic_input([Fraction(1, 2), 0.5])
    (False, True)
    """
    if isinstance(p, np.ndarray):
        return p.dtype == object and has_exact_entries(p)
    if isinstance(p, list | tuple):
        try:
            arr = np.asarray(p, dtype=object)
        except (TypeError, ValueError):
            return False
        return has_exact_entries(arr)
    return type(p).__module__.startswith("sympy")


def object_to_float(host: np.ndarray, p: Any, name: str) -> np.ndarray:
    """An object array of real numbers (no sympy, no Fraction) as float64, or a clear error.

    ``p`` is the input as received (shown when ``host`` turns out ragged) and ``name`` the
    argument's name in messages.

    Examples
    --------
    >>> object_to_float(np.array([0.5, "x"], dtype=object), None, "p")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    exactmd.errors.DistributionError: p: entries must be real ...; received 'x' at index (1,)
    """
    flat = host.reshape(-1)
    out = np.empty(flat.shape, dtype=np.float64)
    for k, e in enumerate(flat):
        where = tuple(int(i) for i in np.unravel_index(k, host.shape))
        if isinstance(e, list | tuple | np.ndarray):
            raise DistributionError(
                f"{name}: must be a rectangular array (these nested lists are ragged); "
                f"received {describe(p)}"
            )
        if not isinstance(e, REAL_SCALARS):
            raise DistributionError(
                f"{name}: entries must be real numbers (int, float, Decimal, Fraction or sympy "
                f"numbers); received {describe(e)} at index {where}"
            )
        out[k] = float(e)
    return out.reshape(host.shape)
