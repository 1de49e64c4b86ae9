"""Symbolic laws: validation of sympy tables and the :class:`SymbolicDistribution` object.

The validation is the symbolic backend's (:mod:`exactmd.backends._symbolic_checks`) and the
object is the law layer's (:mod:`exactmd.law.distribution`), so that numeric code reads exact
tables without importing this package; they are listed here with the rest of the symbolic API.

A symbolic law is a ``sympy.Array`` (any ``NDimArray``), a sympy ``Matrix`` or a numpy object
array whose entries are exact numbers (integers, rationals, algebraic numbers…) or expressions
in free symbols. :func:`as_symbolic_distribution` checks what can be checked:

- at least one axis, no zero-size axis, at most :data:`MAX_SYMBOLIC_CELLS` outcomes;
- every entry is a finite real expression (no ``nan``, ``oo``, ``zoo``, ``I``);
- no entry is negative: exact numbers are compared with 0, and an expression that sympy can
  prove negative is refused;
- the total is exactly 1: a rational total must *equal* 1 (no tolerance), and with free symbols
  the total must simplify to 1 identically.

What cannot be checked is *assumed* and listed in the ``assumptions`` attribute of the result:
every entry whose non-negativity sympy cannot prove (e.g. ``1 - p0 - p1 - p2 >= 0``), and the
positivity convention of the whole symbolic layer — an entry or marginal that is not identically
zero is treated as positive (``0 log 0 = 0`` is applied only to exact zeros, and logs are expanded
as logs of positive numbers).

Python or sympy floats are read as the decimal they print as (``0.1`` is ``1/10``).

Examples
--------
>>> import sympy
>>> d = as_symbolic_distribution(sympy.Array([sympy.Rational(1, 4), sympy.Rational(3, 4)]))
>>> d.backend.name, d.shape, d.assumptions
('symbolic', (2,), ())
>>> as_symbolic_distribution(sympy.Array([sympy.Rational(1, 4), sympy.Rational(1, 4)]))
Traceback (most recent call last):
...
exactmd.errors.DistributionError: p: entries must sum to exactly 1; received a total of 1/2
"""

from __future__ import annotations

from exactmd.backends._symbolic_checks import (
    MAX_SYMBOLIC_CELLS,
    POSITIVITY,
    is_identically_one,
    total_is_one,
)
from exactmd.law.distribution import SymbolicDistribution, as_symbolic_distribution

__all__ = [
    "MAX_SYMBOLIC_CELLS",
    "POSITIVITY",
    "SymbolicDistribution",
    "as_symbolic_distribution",
    "is_identically_one",
    "total_is_one",
]
