"""The symbolic backend: numpy object arrays of sympy expressions (imported only for sympy input).

Like opt_einsum does for sympy, the numeric code paths run unchanged on numpy object arrays:
``np.matmul`` and ``np.sum`` work element by element with sympy's exact arithmetic. Three things
differ from the numeric backends:

- :meth:`SymbolicBackend.neg_xlogx_` writes ``-x*log(x)`` and gives ``0`` only for entries that
  are *exactly* zero (``x.is_zero`` is True); an entry whose sign sympy cannot decide is treated
  as positive (the positivity assumption of :mod:`exactmd.symbolic`);
- :meth:`SymbolicBackend.to_float` returns the exact sympy expression instead of a float, and
  the other result operations of :class:`~exactmd.backends.base.Backend` (``host``,
  ``vector``, ``infinity``) keep results exact; ``exact`` is True;
- floats never enter the arithmetic: a float operand (the ``1.0`` of a copy ``x * 1.0``, the
  0/1 matrices of the exact denoiser's constants) is read exactly by :func:`to_exact` first,
  and the arrays are held as :class:`SymbolicArray`, an object ``ndarray`` that does this for
  every numpy operation; integer index arrays stay integer arrays.

Exact tables are validated here too (:meth:`SymbolicBackend.validate_table`, see
:mod:`exactmd.backends._symbolic_checks`), so the law layer needs no symbolic package.

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

from exactmd.backends._detect import to_host
from exactmd.backends._numpy import host_available_memory
from exactmd.backends._symbolic_checks import _sympy, to_exact, validate_exact_table
from exactmd.backends.base import Backend
from exactmd.errors import DenoiserError, ValidationError, describe

__all__ = ["SymbolicBackend", "SymbolicArray", "to_exact", "tidy", "split_integer_logs"]


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


def _object(x: Any) -> np.ndarray:
    """``x`` as an ndarray: arrays as they are (integer index arrays stay integers), anything
    else as an object array."""
    return x if isinstance(x, np.ndarray) else np.asarray(x, dtype=object)


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
    exact = True

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

    def host(self, x: Any) -> np.ndarray:
        """A new object array of the exact values (not a :class:`SymbolicArray`)."""
        return np.array(np.asarray(x, dtype=object), dtype=object)

    def vector(self, values: Sequence[Any]) -> list[Any]:
        """A list of exact expressions, each in the light canonical form of :func:`tidy`."""
        return [tidy(v) for v in values]

    def quotient(self, a: Any, b: Any) -> Any:
        return self.asarray(a) / self.asarray(b)

    def positive(self, x: np.ndarray) -> np.ndarray:
        """True where an entry is not *exactly* 0 (the positivity assumption)."""
        flat = [to_exact(v).is_zero is not True for v in np.asarray(x).reshape(-1).tolist()]
        return np.asarray(flat, dtype=bool).reshape(np.shape(x))

    def log(self, x: np.ndarray) -> np.ndarray:
        sp = _sympy()
        arr = np.asarray(x)
        out = np.empty(arr.shape, dtype=object)
        out.reshape(-1)[:] = [sp.log(to_exact(v)) for v in arr.reshape(-1).tolist()]
        return out

    @property
    def infinity(self) -> Any:
        return _sympy().oo

    def finish_masked(self, m: Any) -> Any:
        """Write the all-masked corner (the table's total, proved to be 1) as exactly 1."""
        m[(-1,) * np.ndim(m)] = _sympy().Integer(1)
        return m

    def float64(self, values: Sequence[Any], name: str) -> np.ndarray:
        """Exact values as float64: each evaluated to 50 digits, then rounded (free symbols
        are refused, naming ``name``).

        Examples
        --------
        >>> import sympy
        >>> SymbolicBackend().float64([-sympy.log(2), 0], "profile").round(6).tolist()
        [-0.693147, 0.0]
        """
        sp = _sympy()
        exact = [to_exact(v) for v in values]
        free = set().union(*(getattr(v, "free_symbols", set()) for v in exact))
        if free:
            raise ValidationError(
                f"{name}: a float profile needs numbers; substitute the free symbols "
                f"{sorted(free, key=str)} first"
            )
        return np.array([float(sp.N(v, 50)) for v in exact], dtype=np.float64)

    def check_exact_rows(
        self, out: Any, tokens: np.ndarray, shape: tuple[int, ...], name: str, offset: int = 0
    ) -> np.ndarray:
        """A denoiser's output ``(B, N, q)`` read exactly (floats as the decimals they print
        as) and checked row by row: each masked position's row must be a law on
        ``range(q_i)`` (no entry provably negative, exact zeros beyond ``q_i``, a total within
        1e-8 of 1 for numbers and identically 1 for expressions). Rows are not renormalised;
        those of unmasked positions are returned as zeros.

        Examples
        --------
        >>> import sympy
        >>> a = sympy.Symbol("a", positive=True)
        >>> rows = np.array([[[a, 1 - a], [0.5, 0.5]]], dtype=object)
        >>> SymbolicBackend().check_exact_rows(rows, np.array([[2, 2]]), (2, 2), "d").tolist()
        [[[a, 1 - a], [1/2, 1/2]]]
        """
        sp = _sympy()
        arr = to_host(out, dtype=object)
        b, n = tokens.shape
        q = max(shape)
        if arr.shape != (b, n, q):
            raise DenoiserError(
                f"{name}: must return shape (B, N, q) = {(b, n, q)} for tokens of shape "
                f"{(b, n)}; received shape {arr.shape}"
            )
        rows = np.full(arr.shape, sp.Integer(0), dtype=object)
        for r, i in zip(*np.nonzero(tokens == q), strict=True):
            row = [to_exact(v) for v in arr[r, i].tolist()]
            qi = shape[i]
            total = sp.Add(*row[:qi])
            bad = any(not v.is_zero for v in row[qi:]) or any(
                v.is_extended_negative for v in row[:qi]
            )
            if not bad and total.is_Number:
                bad = abs(float(total) - 1.0) > 1e-8
            elif not bad:
                bad = sp.simplify(total - 1) != 0
            if bad:
                raise DenoiserError(
                    f"{name}: row {offset + int(r)} (tokens {tokens[r].tolist()}), position "
                    f"{int(i)}: must be a law on range({qi}) (>= 0, zero beyond q_i, summing "
                    f"to 1); received {describe(arr[r, i].tolist())}"
                )
            rows[r, i, :] = row
        return rows

    def validate_table(self, p: Any, name: str = "p") -> tuple[SymbolicArray, tuple[str, ...]]:
        """Validate an exact table; return it and what could only be assumed.

        See :func:`exactmd.backends._symbolic_checks.validate_exact_table` for the rules.

        Examples
        --------
        >>> import sympy
        >>> table, assumptions = SymbolicBackend().validate_table([sympy.Rational(1, 4), 0.75])
        >>> table.tolist(), assumptions
        ([1/4, 3/4], ())
        """
        table, assumptions = validate_exact_table(p, name)
        return table.view(SymbolicArray), assumptions

    def reshape(self, x: Any, shape: Sequence[int]) -> SymbolicArray:
        return _wrap(np.reshape(_object(x), tuple(shape)))  # type: ignore[no-any-return]

    def transpose(self, x: Any, axes: Sequence[int]) -> SymbolicArray:
        arr = np.ascontiguousarray(np.transpose(_object(x), tuple(axes)))
        return _wrap(arr)  # type: ignore[no-any-return]

    def permute(self, x: Any, axes: Sequence[int]) -> SymbolicArray:
        return _wrap(np.transpose(_object(x), tuple(axes)))  # type: ignore[no-any-return]

    def flip(self, x: Any, axes: Sequence[int]) -> SymbolicArray:
        return _wrap(np.flip(_object(x), axis=tuple(axes)) if len(axes) else x)  # type: ignore[no-any-return]

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
        return _wrap(np.concatenate([_object(x) for x in xs], axis=axis))  # type: ignore[no-any-return]

    def take_flat(self, x: Any, index: np.ndarray) -> SymbolicArray:
        return _wrap(_object(x).reshape(-1)[np.asarray(index, dtype=np.int64)])  # type: ignore[no-any-return]

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
