"""Validation of exact tables (sympy expressions): what can be proved, and what is assumed.

An exact table is a ``sympy.Array`` (any ``NDimArray``), a sympy ``Matrix``, a numpy object
array or nested lists whose entries are exact numbers (integers, rationals, algebraic
numbers…) or expressions in free symbols. :func:`validate_exact_table` checks what can be
checked:

- at least one axis, no zero-size axis, at most :data:`MAX_SYMBOLIC_CELLS` outcomes;
- every entry is a finite real expression (no ``nan``, ``oo``, ``zoo``, ``I``);
- no entry is negative: exact numbers are compared with 0, and an expression that sympy can
  prove negative is refused;
- the total is exactly 1: a rational total must *equal* 1 (no tolerance), and with free symbols
  the total must simplify to 1 identically.

What cannot be checked is *assumed* and returned beside the table: every entry whose
non-negativity sympy cannot prove (e.g. ``1 - p0 - p1 - p2 >= 0``), and the positivity
convention of the whole symbolic layer (:data:`POSITIVITY`). Python or sympy floats are read as
the decimal they print as (``0.1`` is ``1/10``). The law layer wraps the result in a
:class:`~exactmd.law.distribution.SymbolicDistribution`.

Examples
--------
>>> import sympy
>>> table, assumptions = validate_exact_table(sympy.Array([sympy.Rational(1, 4), 0.75]))
>>> table.tolist(), assumptions
([1/4, 3/4], ())
>>> validate_exact_table(sympy.Array([sympy.Rational(1, 4), sympy.Rational(1, 4)]))
Traceback (most recent call last):
...
exactmd.errors.DistributionError: p: entries must sum to exactly 1; received a total of 1/2
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from exactmd._validate import check_axes
from exactmd.errors import DistributionError, MemoryPlanError, describe

__all__ = [
    "MAX_SYMBOLIC_CELLS",
    "POSITIVITY",
    "validate_exact_table",
    "is_identically_one",
    "total_is_one",
    "to_exact",
]


def to_exact(x: Any) -> Any:
    """Return ``x`` as an exact sympy object.

    Python and sympy floats are read as the decimal they print as (``0.1`` becomes ``1/10``,
    ``1.0`` becomes ``1``), so that a table typed with short decimals can be checked exactly;
    floats inside an expression are replaced the same way. Everything else goes through
    :func:`sympy.sympify`.

    Examples
    --------
    >>> to_exact(0.25), to_exact(1.0), to_exact(3)
    (1/4, 1, 3)
    """
    sp = _sympy()
    if isinstance(x, bool | np.bool_):
        return sp.Integer(int(x))
    if isinstance(x, int | np.integer):
        return sp.Integer(int(x))
    if isinstance(x, float | np.floating):
        return sp.Rational(repr(float(x))) if np.isfinite(x) else sp.sympify(float(x))
    expr = sp.sympify(x)
    if isinstance(expr, sp.Basic):
        floats = expr.atoms(sp.Float)
        if floats:
            expr = expr.xreplace({f: sp.Rational(str(f)) if f.is_finite else f for f in floats})
    return expr


def _sympy() -> Any:
    try:
        import sympy
    except ImportError as exc:  # pragma: no cover - exercised only without sympy
        raise ImportError("symbolic laws need sympy: pip install 'exactmd[symbolic]'") from exc
    return sympy


#: Largest number of outcomes Π q_i accepted by the symbolic layer (it is meant for small N).
MAX_SYMBOLIC_CELLS = 4096

#: The assumption every symbolic law carries when it has free symbols.
POSITIVITY = (
    "every entry and marginal that is not identically 0 is > 0 (0 log 0 = 0 is used only for "
    "exact zeros; logs are expanded as logs of positive numbers)"
)


def _random_points_equal_one(total: Any, points: int, seed: int = 0) -> bool:
    """Exact evaluation of ``total`` at random rational points (denominators must not vanish)."""
    import random

    sp = _sympy()

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
    sp = _sympy()

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
    sp = _sympy()

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
    sp = _sympy()

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
    sp = _sympy()

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


def validate_exact_table(p: Any, name: str = "p") -> tuple[np.ndarray, tuple[str, ...]]:
    """Validate an exact table; return it as an object array and the assumptions it needs.

    Parameters
    ----------
    p
        A ``sympy.Array``/``NDimArray``/``Matrix``, a numpy object array or nested lists of
        exact numbers or sympy expressions (floats are read as the decimals they print as).
    name
        The argument's name, used in error messages.

    Returns
    -------
    table : numpy.ndarray
        An object array of exact sympy expressions.
    assumptions : tuple of str
        What could not be proved and is assumed (empty for a table of exact numbers).

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
    >>> validate_exact_table(sympy.Array([[a, 0], [0, 1 - a]]))[1][0]
    '1 - a >= 0'
    """
    sp = _sympy()
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
    return table, tuple(needs)
