"""Symbolic laws: validation of sympy tables and the :class:`SymbolicDistribution` object.

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

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from exactmd._validate import check_axes
from exactmd.backends._symbolic import SymbolicBackend, to_exact
from exactmd.errors import DistributionError, MemoryPlanError, ValidationError, describe
from exactmd.law.distribution import Distribution

__all__ = [
    "MAX_SYMBOLIC_CELLS",
    "POSITIVITY",
    "SymbolicDistribution",
    "as_symbolic_distribution",
    "is_identically_one",
    "total_is_one",
]

#: Largest number of outcomes Π q_i accepted by the symbolic layer (it is meant for small N).
MAX_SYMBOLIC_CELLS = 4096

#: The assumption every symbolic law carries when it has free symbols.
POSITIVITY = (
    "every entry and marginal that is not identically 0 is > 0 (0 log 0 = 0 is used only for "
    "exact zeros; logs are expanded as logs of positive numbers)"
)


class SymbolicDistribution(Distribution):
    """A :class:`~exactmd.law.distribution.Distribution` held as exact sympy expressions.

    Attributes
    ----------
    assumptions : tuple of str
        What validation could not prove and the computations assume (empty for a law of exact
        numbers).
    symbols : tuple
        The free symbols of the table, sorted by name.

    Examples
    --------
    >>> import sympy
    >>> t = sympy.Symbol("t", real=True)
    >>> d = as_symbolic_distribution(sympy.Array([(1 + t) / 2, (1 - t) / 2]))
    >>> d.symbols
    (t,)
    >>> d.assumptions[0]
    't/2 + 1/2 >= 0'
    """

    def __init__(
        self,
        table: Any,
        backend: Any = None,
        names: Sequence[str] | None = None,
        state_names: Sequence[Sequence[Any]] | None = None,
        assumptions: Sequence[str] = (),
    ) -> None:
        be = backend if backend is not None else SymbolicBackend()
        super().__init__(be.asarray(table), be, names, state_names)
        self.assumptions: tuple[str, ...] = tuple(assumptions)
        syms: set[Any] = set()
        for e in np.asarray(self.table).reshape(-1).tolist():
            syms |= getattr(e, "free_symbols", set())
        self.symbols: tuple[Any, ...] = tuple(sorted(syms, key=str))

    def sympy(self) -> Any:
        """The table as an immutable ``sympy.Array``."""
        import sympy

        return sympy.Array(np.asarray(self.table).tolist())

    def numpy(self) -> np.ndarray:
        """The table as float64 (only for laws without free symbols)."""
        if self.symbols:
            raise ValidationError(
                f"p: a law with free symbols {self.symbols} has no float64 value; "
                "substitute numbers first"
            )
        return np.asarray(np.asarray(self.table).astype(np.float64))

    def __repr__(self) -> str:
        return (
            f"SymbolicDistribution(N={self.n}, shape={self.shape}, symbols={self.symbols}, "
            f"assumptions={len(self.assumptions)})"
        )


def _random_points_equal_one(total: Any, points: int, seed: int = 0) -> bool:
    """Exact evaluation of ``total`` at random rational points (denominators must not vanish)."""
    import random

    import sympy as sp

    rng = random.Random(seed)
    syms = sorted(total.free_symbols, key=str)
    done = tries = 0
    while done < points and tries < 10 * points:
        tries += 1
        point = {s: sp.Rational(rng.randint(1, 10**6), 10**7 + rng.randint(0, 10**6)) for s in syms}
        value = total.xreplace(point)
        if value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            continue  # a pole: try another point
        if value.is_Number:
            if value != 1:
                return False
        elif abs(sp.N(value - 1, 60)) > sp.Float("1e-50"):  # e.g. exp of a rational
            return False
        done += 1
    return done == points


def total_is_one(total: Any, points: int = 5) -> str | None:
    """Decide whether ``total`` is identically 1: ``""`` when sympy proves it, an assumption
    string when it could only be checked exactly at random rational points, None when it is not
    1 (or cannot be checked).

    Proof steps, cheapest first: ``expand``; the numerator of ``together(total - 1)`` (as is,
    then expanded when small); ``cancel`` and ``simplify`` for small expressions. For large
    rational functions (an exact p_alg at N = 3 with free parameters) these steps are too slow,
    and the total is instead evaluated exactly at ``points`` random rational points: a rational
    function that is not identically 1 rarely equals 1 at a random point (Schwartz–Zippel), but
    this is a check, not a proof, and the returned assumption says so.

    Examples
    --------
    >>> import sympy
    >>> J = sympy.Symbol("J", real=True)
    >>> z = 2 * sympy.exp(J) + 2 * sympy.exp(-J)
    >>> total_is_one(2 * sympy.exp(J) / z + 2 * sympy.exp(-J) / z)
    ''
    >>> total_is_one(J) is None
    True
    """
    import sympy as sp

    total = sp.sympify(total)
    if total == 1:
        return ""
    size = sp.count_ops(total)
    if size <= 500 and sp.expand(total) == 1:
        return ""
    try:
        num = sp.fraction(sp.together(total - 1))[0]
        if num == 0 or (sp.count_ops(num) <= 300 and sp.expand(num) == 0):
            return ""
    except (sp.PolynomialError, TypeError, ValueError):  # pragma: no cover - defensive
        pass
    if size <= 150:
        for step in (sp.cancel, sp.simplify):
            try:
                if step(total - 1) == 0:
                    return ""
            except (sp.PolynomialError, TypeError, ValueError):  # pragma: no cover
                continue
    if total.free_symbols and _random_points_equal_one(total, points):
        return (
            f"the total equals 1 identically (checked exactly at {points} random rational "
            "points; too large for sympy to prove)"
        )
    return None


def is_identically_one(total: Any) -> bool:
    """Whether sympy can prove ``total == 1`` (see :func:`total_is_one`).

    Examples
    --------
    >>> import sympy
    >>> a = sympy.Symbol("a", positive=True)
    >>> is_identically_one(a / (1 + a) + 1 / (1 + a)), is_identically_one(a)
    (True, False)
    """
    return total_is_one(total, points=0) == ""


def _to_object_array(p: Any, name: str) -> np.ndarray:
    import sympy as sp

    if isinstance(p, np.ndarray):
        raw = p
    elif isinstance(p, sp.NDimArray | sp.MatrixBase):
        raw = np.empty(tuple(int(s) for s in p.shape), dtype=object)
        if raw.size:
            raw.reshape(-1)[:] = list(sp.flatten(p.tolist()))
    elif isinstance(p, sp.Basic):
        raise DistributionError(
            f"{name}: must have at least one axis (N >= 1); received the scalar {describe(p)}"
        )
    else:
        try:
            raw = np.asarray(p, dtype=object)
        except (TypeError, ValueError) as exc:
            raise DistributionError(
                f"{name}: must be a rectangular array of probabilities; received {describe(p)}"
            ) from exc
    check_axes(raw.shape, name, p)
    cells = int(np.prod(raw.shape, dtype=np.float64))
    if cells > MAX_SYMBOLIC_CELLS:
        raise MemoryPlanError(
            f"{name}: symbolic laws are limited to {MAX_SYMBOLIC_CELLS} outcomes (small N); "
            f"received shape {raw.shape} with {cells} outcomes"
        )
    out = np.empty(raw.shape, dtype=object)
    try:
        out.reshape(-1)[:] = [to_exact(v) for v in raw.reshape(-1).tolist()]
    except (sp.SympifyError, TypeError, ValueError) as exc:
        raise DistributionError(
            f"{name}: entries must be numbers or sympy expressions; received {describe(p)}"
        ) from exc
    return out


def _check_entry(e: Any, index: tuple[int, ...], name: str) -> str | None:
    """Validate one entry; return the assumption it needs (None when proved >= 0)."""
    import sympy as sp

    where = f"at index {index}"
    if not isinstance(e, sp.Expr):
        raise DistributionError(
            f"{name}: entries must be real expressions; received {describe(e)} {where}"
        )
    if e.has(sp.nan, sp.oo, -sp.oo, sp.zoo):
        raise DistributionError(
            f"{name}: entries must be finite (no NaN or inf); received {e} {where}"
        )
    if e.is_real is False or (not e.free_symbols and e.is_extended_real is not True):
        raise DistributionError(f"{name}: entries must be real; received {e} {where}")
    if e.is_extended_negative:
        raise DistributionError(f"{name}: entries must be >= 0; received {e} {where}")
    if e.is_nonnegative:
        return None
    if not e.free_symbols:
        if sp.N(e, 50) < 0:
            raise DistributionError(f"{name}: entries must be >= 0; received {e} {where}")
        return None
    return f"{e} >= 0"


def _check_total(total: Any, free: bool, name: str, needs: list[str]) -> None:
    """Refuse a total that is not 1; append to ``needs`` what could only be checked."""
    import sympy as sp

    verdict = total_is_one(total, 5 if free else 0)
    if verdict is not None:
        if verdict:
            needs.append(verdict)
        return
    if free:
        shown = sp.simplify(total) if sp.count_ops(total) <= 150 else total
        raise DistributionError(
            f"{name}: entries must sum to 1 identically in the free symbols; the total "
            f"simplifies to {describe(shown, 200)}"
        )
    if abs(sp.N(total - 1, 50)) > sp.Float("1e-45"):
        raise DistributionError(
            f"{name}: entries must sum to exactly 1; received a total of {total} "
            f"(= {sp.N(total, 20)})"
        )
    needs.append(f"the total {total} equals 1 (checked to 50 digits, not proved)")


def as_symbolic_distribution(
    p: Any,
    *,
    name: str = "p",
    names: Sequence[str] | None = None,
    state_names: Sequence[Sequence[Any]] | None = None,
) -> SymbolicDistribution:
    """Validate a sympy table and return it as a :class:`SymbolicDistribution`.

    Parameters
    ----------
    p
        A ``sympy.Array``/``NDimArray``/``Matrix``, a numpy object array or nested lists of
        exact numbers or sympy expressions.
    name
        The argument's name, used in error messages.
    names, state_names
        Optional variable and value names (as for :class:`~exactmd.law.distribution.Distribution`).

    Returns
    -------
    SymbolicDistribution
        Its ``assumptions`` attribute lists what could not be proved and is assumed.

    Raises
    ------
    DistributionError
        A negative, non-real or infinite entry, or a total that is not (identically) 1.
    MemoryPlanError
        More than :data:`MAX_SYMBOLIC_CELLS` outcomes.

    Examples
    --------
    >>> import sympy
    >>> a = sympy.Symbol("a", positive=True)
    >>> d = as_symbolic_distribution(sympy.Array([[a, 0], [0, 1 - a]]))
    >>> d.assumptions[0]
    '1 - a >= 0'
    """
    import sympy as sp

    table = _to_object_array(p, name)
    needs: list[str] = []
    for index in itertools.product(*(range(s) for s in table.shape)):
        need = _check_entry(table[index], index, name)
        if need is not None and need not in needs:  # equal entries: state each once
            needs.append(need)
    total = sp.Add(*table.reshape(-1).tolist())
    free = total.free_symbols or any(
        getattr(e, "free_symbols", None) for e in table.reshape(-1).tolist()
    )
    if total.is_Number:
        if total != 1:
            raise DistributionError(
                f"{name}: entries must sum to exactly 1; received a total of {total}"
            )
    else:
        _check_total(total, bool(free), name, needs)
    if free:
        needs.append(POSITIVITY)
    return SymbolicDistribution(table, None, names, state_names, assumptions=tuple(needs))
