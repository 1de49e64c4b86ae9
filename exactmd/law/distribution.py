"""Validation at the boundary and the :class:`Distribution` object.

Every contract function starts with :func:`as_distribution`, which accepts a numpy array, a
torch tensor, nested lists, a :class:`Distribution` or a model loader's result, checks it once
and returns a :class:`Distribution`. Which path an input takes:

- a numeric array or tensor is validated numerically by the rules of
  :mod:`exactmd.law.tables` (one axis at least, real, finite, non-negative entries, a total
  within ``TOTAL_ATOL`` of 1) and held in float64 (float32 only when ``dtype="float32"`` is
  asked for);
- **every accepted numeric table is normalised**: it is divided by its total once, so K = N
  gives KL = 0 and TC, E_fact stay >= 0 up to rounding (see :mod:`exactmd.measures.information`
  for how that rounding is handled);
- **a Distribution owns its table**: the normalised table is a fresh array, never a view of
  the caller's buffer, so writing into the input afterwards changes nothing; on numpy it is
  also read-only (``d.table[...] = x`` raises). A torch table is a private tensor as well, but
  torch has no read-only flag: do not write into ``d.table``;
- a numpy object array or nested lists are **symbolic** (exact, see :mod:`exactmd.symbolic`)
  only when at least one entry is a sympy object or a :class:`fractions.Fraction`; otherwise
  every entry must be a real number (``int``, ``float``, ``bool``, :class:`decimal.Decimal`,
  numpy scalars) and the table is converted to float64 and validated numerically (so
  ``Decimal`` input is rounded to float64, and a table of ints such as ``[[1, 0], [0, 0]]`` is
  numeric);
- a sympy ``Array``/``Matrix`` is symbolic.

Nested lists that are not rectangular are refused as ragged; any other non-number entry
(a string, ``None``, a complex number) is refused with the index where it sits.

Examples
--------
>>> d = as_distribution([[0.5, 0.0], [0.0, 0.5]])
>>> d.shape, d.n
((2, 2), 2)
>>> as_distribution([0.5, 0.6])
Traceback (most recent call last):
...
exactmd.errors.DistributionError: p: entries must sum to 1 within 1e-08; received a total of 1.1
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from exactmd.backends import Backend, get_backend, is_torch_tensor
from exactmd.errors import DistributionError, ValidationError, describe
from exactmd.law.coerce import is_symbolic_input
from exactmd.law.records import ModelInfo, _Derived
from exactmd.law.tables import numeric_table, table_free_refusal

__all__ = [
    "Distribution",
    "SymbolicDistribution",
    "as_distribution",
    "as_symbolic_distribution",
]


class Distribution:
    """A validated joint law π on X_0 × … × X_{N-1}, held by one backend.

    Build it with :func:`as_distribution` (which validates); the constructor trusts its input.
    It keeps derived tensors (the masked-marginal tensor, subset entropies), so reuse one
    object when computing several measures of the same law.

    Attributes
    ----------
    table
        The joint probabilities, a backend-native array of shape ``(q_0, …, q_{N-1})``.
    backend
        The :class:`~exactmd.backends.Backend` holding ``table``.
    names
        Variable names, one per axis (``"X0"``, ``"X1"``, … by default).
    state_names
        For each axis, the names of its values (``(0, 1, …)`` by default).
    model : ModelInfo or None
        The model's name and parameters when a builder of :mod:`exactmd.models` made the law,
        else None.

    Examples
    --------
    >>> import numpy as np
    >>> d = as_distribution(np.full((2, 3), 1 / 6))
    >>> d.shape, d.names
    ((2, 3), ('X0', 'X1'))
    >>> round(float(np.asarray(d).sum()), 12)
    1.0
    """

    def __init__(
        self,
        table: Any,
        backend: Backend,
        names: Sequence[str] | None = None,
        state_names: Sequence[Sequence[Any]] | None = None,
    ) -> None:
        self.table = table
        self.backend = backend
        self.shape: tuple[int, ...] = tuple(int(s) for s in table.shape)
        self.names: tuple[str, ...] = (
            tuple(str(n) for n in names)
            if names is not None
            else tuple(f"X{i}" for i in range(len(self.shape)))
        )
        self.state_names: tuple[tuple[Any, ...], ...] = (
            tuple(tuple(s) for s in state_names)
            if state_names is not None
            else tuple(tuple(range(q)) for q in self.shape)
        )
        if len(self.names) != len(self.shape):
            raise DistributionError(
                f"names: need one name per axis ({len(self.shape)}); received {describe(names)}"
            )
        for axis, (states, q) in enumerate(zip(self.state_names, self.shape, strict=True)):
            if len(states) != q:
                raise DistributionError(
                    f"state_names: axis {axis} needs {q} state names; received {describe(states)}"
                )
        self.model: ModelInfo | None = None
        self._derived = _Derived()

    @property
    def subset_entropies_plan(self) -> Any:
        """The :class:`~exactmd.enumeration.MemoryPlan` the subset entropies of this law were
        computed under, or None before they are.

        Examples
        --------
        >>> from exactmd.enumeration import subset_entropies
        >>> d = as_distribution([[0.5, 0.0], [0.0, 0.5]])
        >>> d.subset_entropies_plan is None, subset_entropies(d).shape, d.subset_entropies_plan.path
        (True, (2, 2), 'full')
        """
        return self._derived.subset_entropies_plan

    @property
    def n(self) -> int:
        """Number of variables N."""
        return len(self.shape)

    @property
    def q(self) -> int:
        """The largest alphabet size, also the mask token id of the denoiser contract."""
        return max(self.shape)

    @property
    def size(self) -> int:
        """Number of joint outcomes, Π q_i."""
        return int(np.prod(self.shape, dtype=np.int64))

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        arr = np.asarray(self.backend.to_numpy(self.table))
        return arr if dtype is None else arr.astype(dtype)

    def numpy(self) -> np.ndarray:
        """The joint as a float64 numpy array."""
        return np.asarray(self.backend.to_numpy(self.table), dtype=np.float64)

    def with_backend(self, backend: Backend) -> Distribution:
        """Return this law held by ``backend``.

        The names, state names and ``model`` carry over; the derived tensors (masked
        tensor, subset entropies…) do not, since they belong to the old backend and dtype.

        To an exact backend (``"symbolic"``) the table is read exactly (floats as the decimals
        they print as) and validated by :func:`as_symbolic_distribution`, so its total must be
        exactly 1. From it, a law with free symbols raises
        :class:`~exactmd.errors.ValidationError`.

        Examples
        --------
        >>> from exactmd.backends import get_backend
        >>> d = as_distribution([0.25, 0.75])
        >>> d.model = ModelInfo("coin")
        >>> exact = d.with_backend(get_backend(name="symbolic"))
        >>> exact.table.tolist(), exact.model.name
        ([1/4, 3/4], 'coin')
        """
        if backend.name == self.backend.name and repr(backend) == repr(self.backend):
            return self
        out: Distribution
        if backend.exact:
            out = as_symbolic_distribution(
                np.asarray(self.backend.to_numpy(self.table)).astype(object),
                names=self.names,
                state_names=self.state_names,
                backend=backend,
            )
        else:
            host = self.numpy() if self.backend.exact else None
            out = Distribution(
                backend.asarray(self.backend.to_numpy(self.table) if host is None else host),
                backend,
                self.names,
                self.state_names,
            )
        out.model = self.model  # frozen, read-only parameters: shared
        return out

    def __repr__(self) -> str:
        return (
            f"Distribution(N={self.n}, shape={self.shape}, names={self.names}, "
            f"backend={self.backend!r})"
        )


class SymbolicDistribution(Distribution):
    """A :class:`Distribution` held as exact sympy expressions (by the symbolic backend).

    Build it with :func:`as_symbolic_distribution` or :func:`as_distribution` (which
    validate); the constructor trusts its table.

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
        backend: Backend | None = None,
        names: Sequence[str] | None = None,
        state_names: Sequence[Sequence[Any]] | None = None,
        assumptions: Sequence[str] = (),
    ) -> None:
        be = backend if backend is not None else get_backend(name="symbolic")
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


def as_symbolic_distribution(
    p: Any,
    *,
    name: str = "p",
    names: Sequence[str] | None = None,
    state_names: Sequence[Sequence[Any]] | None = None,
    backend: Backend | None = None,
) -> SymbolicDistribution:
    """Validate an exact table and return it as a :class:`SymbolicDistribution`.

    Parameters
    ----------
    p
        A ``sympy.Array``/``NDimArray``/``Matrix``, a numpy object array or nested lists of
        exact numbers or sympy expressions (floats are read as the decimals they print as).
    name
        The argument's name, used in error messages.
    names, state_names
        Optional variable and value names (as for :class:`Distribution`).
    backend
        The exact backend that validates and holds the table (default: ``"symbolic"``).

    Returns
    -------
    SymbolicDistribution
        Its ``assumptions`` attribute lists what could not be proved and is assumed.

    Raises
    ------
    DistributionError
        A negative, non-real or infinite entry, or a total that is not (identically) 1.
    MemoryPlanError
        More than ``MAX_SYMBOLIC_CELLS`` (4096) outcomes.

    Examples
    --------
    >>> import sympy
    >>> a = sympy.Symbol("a", positive=True)
    >>> d = as_symbolic_distribution(sympy.Array([[a, 0], [0, 1 - a]]))
    >>> d.assumptions[0]
    '1 - a >= 0'
    """
    be = backend if backend is not None else get_backend(name="symbolic")
    table, assumptions = be.validate_table(p, name)
    return SymbolicDistribution(table, be, names, state_names, assumptions=assumptions)


def as_distribution(
    p: Any,
    *,
    backend: str | None = None,
    device: Any = None,
    dtype: Any = None,
    name: str = "p",
) -> Distribution:
    """Validate ``p`` and return it as a :class:`Distribution`.

    Parameters
    ----------
    p
        A probability table of shape ``(q_0, …, q_{N-1})``: numpy array, torch tensor, nested
        lists, a :class:`Distribution` (returned as is unless another backend is asked for) or
        a sympy array (see :mod:`exactmd.symbolic`).
    backend, device, dtype
        Backend choice; by default taken from the type of ``p`` (torch tensors stay on torch,
        sympy input is symbolic). ``backend="symbolic"`` reads a numeric table exactly (floats
        as the decimals they print as, so their total must be exactly 1); a symbolic law asked
        for on ``"numpy"`` or ``"torch"`` is evaluated in floating point (free symbols raise).
    name
        The argument's name, used in error messages.

    Returns
    -------
    Distribution

    Raises
    ------
    DistributionError
        On any broken rule; the message names ``name``, the rule and the value received.

    Examples
    --------
    >>> as_distribution([[0.25, 0.25], [0.5, 0.0]]).shape
    (2, 2)
    >>> as_distribution([[0.25, 0.25], [0.5, -0.1]])
    Traceback (most recent call last):
    ...
    exactmd.errors.DistributionError: p: entries must be >= 0; received -0.1 at index (1, 1)
    """
    if getattr(p, "holds_table", True) is False:  # a parameter-only law (models.chains)
        raise table_free_refusal(p, name)
    if is_symbolic_input(p):
        p = as_symbolic_distribution(p, name=name)
    if isinstance(p, Distribution):
        if backend is None and device is None and dtype is None:
            return p
        target = get_backend(None, backend or p.backend.name, device=device, dtype=dtype)
        return p.with_backend(target)
    be = get_backend(p, backend, device=device, dtype=dtype)
    if be.exact:  # read the numeric table exactly, then validate it exactly
        host = p.detach().cpu().numpy() if is_torch_tensor(p) else p
        return as_symbolic_distribution(host, name=name, backend=be)
    return Distribution(numeric_table(p, be, name), be)
