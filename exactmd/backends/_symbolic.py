"""The symbolic backend: numpy object arrays of sympy expressions (imported only for sympy input).

Like opt_einsum does for sympy, the numeric code paths run unchanged on numpy object arrays:
``np.matmul`` and ``np.sum`` work element by element with sympy's exact arithmetic. Three things
differ from the numeric backends:

- :meth:`SymbolicBackend.neg_xlogx_` writes ``-x*log(x)`` and gives ``0`` only for entries that
  are *exactly* zero (``x.is_zero`` is True); an entry whose sign sympy cannot decide is treated
  as positive (the positivity assumption of :mod:`exactmd.symbolic`);
- :meth:`SymbolicBackend.to_float` returns the exact sympy expression instead of a float;
- floats never enter the arithmetic: a float operand (the ``1.0`` of a copy ``x * 1.0``, the
  0/1 Kronecker matrices of :mod:`exactmd.enumeration.masked`) is read exactly by :func:`to_exact`
  first, and
  the arrays are held as :class:`SymbolicArray`, an object ``ndarray`` that does this for every
  numpy operation.

Examples
--------
>>> import sympy
>>> be = SymbolicBackend()
>>> x = be.asarray([sympy.Rational(1, 2), 0.5, 0])
>>> x.tolist()
[1/2, 1/2, 0]
>>> (x * 1.0).tolist()  # exact: the float 1.0 is read as the integer 1
[1/2, 1/2, 0]
>>> be.to_float(be.sum(be.neg_xlogx_(x * 1.0)))
log(2)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from exactmd.backends._numpy import host_available_memory
from exactmd.backends.base import Backend

__all__ = ["SymbolicBackend", "SymbolicArray", "to_exact", "tidy", "split_integer_logs"]


def _sympy() -> Any:
    try:
        import sympy
    except ImportError as exc:  # pragma: no cover - exercised only without sympy
        raise ImportError("symbolic laws need sympy: pip install 'exactmd[symbolic]'") from exc
    return sympy


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


def _exact_operand(x: Any) -> Any:
    if isinstance(x, SymbolicArray):
        return x.view(np.ndarray)
    if isinstance(x, np.ndarray):
        if x.dtype == object:
            return x
        out = np.empty(x.shape, dtype=object)
        out.reshape(-1)[:] = [to_exact(v) for v in x.reshape(-1).tolist()]
        return out
    if isinstance(x, float | np.floating | int | np.integer):
        return to_exact(x)
    return x


def _wrap(x: Any) -> Any:
    if isinstance(x, tuple):
        return tuple(_wrap(v) for v in x)
    if isinstance(x, np.ndarray) and x.dtype == object and not isinstance(x, SymbolicArray):
        return x.view(SymbolicArray)
    return x


class SymbolicArray(np.ndarray):
    """A numpy object array of sympy expressions whose float operands are made exact first.

    Every ufunc (``+``, ``*``, ``np.sum``, ``np.matmul``…) first turns float scalars and float
    arrays into exact sympy numbers with :func:`to_exact`, so ``x * 1.0`` stays exact.

    Examples
    --------
    >>> import sympy
    >>> a = SymbolicBackend().asarray([sympy.Rational(1, 3), sympy.Rational(2, 3)])
    >>> (a * 1.0 + 0.0).tolist(), np.sum(a)
    ([1/3, 2/3], 1)
    """

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        args = [_exact_operand(x) for x in inputs]
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = tuple(
                o.view(np.ndarray) if isinstance(o, SymbolicArray) else o for o in out
            )
        result = getattr(ufunc, method)(*args, **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(result)


def split_integer_logs(expr: Any) -> Any:
    """Rewrite ``log(r)`` of a positive rational ``r`` as a sum of ``k log p`` over primes.

    Examples
    --------
    >>> import sympy
    >>> split_integer_logs(sympy.log(12) - sympy.log(sympy.Rational(3, 4)))
    4*log(2)
    """
    sp = _sympy()

    def split(arg: Any) -> Any:
        num, den = sp.fraction(arg)
        parts = [k * sp.log(p) for p, k in sp.factorint(num).items()]
        parts += [-k * sp.log(p) for p, k in sp.factorint(den).items()]
        return sp.Add(*parts)

    expr = sp.sympify(expr)
    logs = {
        e: split(e.args[0])
        for e in expr.atoms(sp.log)
        if e.args[0].is_Rational and e.args[0].is_positive
    }
    return sp.expand(expr.xreplace(logs)) if logs else expr


def tidy(x: Any) -> Any:
    """Return a 0-d array or scalar as a sympy expression in a light canonical form.

    Expressions without free symbols (rational laws) have their logs of rationals split into
    logs of primes and are expanded, so equal quantities print equally (``log(4)/4`` becomes
    ``log(2)/2``). Expressions with free symbols are returned as computed (call
    :func:`exactmd.symbolic.simplify_exact` to simplify them).

    Examples
    --------
    >>> import sympy
    >>> tidy(np.array(sympy.log(4) / 4, dtype=object))
    log(2)/2
    """
    sp = _sympy()
    if isinstance(x, np.ndarray):
        x = x.reshape(-1)[0] if x.size == 1 else x
    expr = to_exact(x)
    if isinstance(expr, sp.Basic) and not expr.free_symbols:
        expr = split_integer_logs(sp.expand(expr))
    return expr


class SymbolicBackend(Backend):
    """numpy object arrays of exact sympy expressions (small N only).

    ``name`` is ``"symbolic"`` and ``dtype`` is ``"object"``. :meth:`to_float` returns the exact
    expression, so the contract functions of :mod:`exactmd.measures.information` return sympy
    expressions.

    Examples
    --------
    >>> import sympy
    >>> be = SymbolicBackend()
    >>> t = sympy.Symbol("t", positive=True)
    >>> be.neg_xlogx_(be.asarray([t, 0])).tolist()
    [-t*log(t), 0]
    """

    name = "symbolic"
    dtype = "object"

    def __repr__(self) -> str:
        return "SymbolicBackend()"

    @property
    def itemsize(self) -> int:
        """A rough size of one stored expression (pointer plus a small sympy object)."""
        return 256

    def asarray(self, x: Any) -> SymbolicArray:
        if hasattr(x, "detach"):  # a torch tensor
            x = x.detach().cpu().numpy()
        if type(x).__module__.startswith("sympy") and hasattr(x, "tolist"):
            x = x.tolist()
        raw = np.asarray(x, dtype=object)
        out = np.empty(raw.shape, dtype=object)
        out.reshape(-1)[:] = [to_exact(v) for v in raw.reshape(-1).tolist()]
        return out.view(SymbolicArray)

    def to_numpy(self, x: Any) -> np.ndarray:
        if isinstance(x, np.ndarray):
            return np.asarray(x.view(np.ndarray) if isinstance(x, SymbolicArray) else x)
        return np.asarray(x, dtype=object)

    def to_float(self, x: Any) -> Any:
        """Return the exact sympy expression (not a float), see :func:`tidy`."""
        return tidy(x)

    def reshape(self, x: Any, shape: Sequence[int]) -> SymbolicArray:
        return _wrap(np.reshape(np.asarray(x, dtype=object), tuple(shape)))  # type: ignore[no-any-return]

    def transpose(self, x: Any, axes: Sequence[int]) -> SymbolicArray:
        arr = np.ascontiguousarray(np.transpose(np.asarray(x, dtype=object), tuple(axes)))
        return _wrap(arr)  # type: ignore[no-any-return]

    def matmul(self, a: Any, b: Any) -> SymbolicArray:
        return _wrap(np.matmul(_exact_operand(a), _exact_operand(b)))  # type: ignore[no-any-return]

    def sum(self, x: Any, axis: int | tuple[int, ...] | None = None) -> Any:
        sp = _sympy()
        arr = _exact_operand(np.asarray(x))
        if arr.size == 0:
            return sp.Integer(0) if axis is None else _wrap(np.sum(arr, axis=axis))
        return _wrap(np.sum(arr, axis=axis))

    def neg_xlogx_(self, x: Any) -> Any:
        sp = _sympy()
        flat = np.asarray(x).reshape(-1)
        for j, v in enumerate(flat.tolist()):
            e = to_exact(v)
            flat[j] = sp.Integer(0) if e.is_zero or e == 1 else -e * sp.log(e)
        return x

    def zeros(self, shape: Sequence[int]) -> SymbolicArray:
        sp = _sympy()
        return np.full(tuple(shape), sp.Integer(0), dtype=object).view(SymbolicArray)

    def concat(self, xs: Sequence[Any], axis: int) -> SymbolicArray:
        return _wrap(np.concatenate([np.asarray(x, dtype=object) for x in xs], axis=axis))  # type: ignore[no-any-return]

    def take_flat(self, x: Any, index: np.ndarray) -> SymbolicArray:
        return _wrap(np.asarray(x, dtype=object).reshape(-1)[index])  # type: ignore[no-any-return]

    def nonpositive(self, x: Any) -> SymbolicArray:
        """1 where the entry is *exactly* 0 (``is_zero`` is True), 0 elsewhere: an entry that
        is not identically 0 counts as positive (the positivity assumption)."""
        sp = _sympy()
        host = np.asarray(self.to_numpy(x), dtype=object)
        flat = [
            sp.Integer(1) if getattr(v, "is_zero", v == 0) is True else sp.Integer(0)
            for v in host.reshape(-1).tolist()
        ]
        out = np.empty(host.shape, dtype=object)
        out.reshape(-1)[:] = flat
        return out.view(SymbolicArray)

    def available_memory(self) -> int:
        return host_available_memory()
