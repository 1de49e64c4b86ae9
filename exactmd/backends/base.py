"""The backend interface: the few array operations exactmd's enumeration needs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

from exactmd.backends._tuning import TUNINGS, Tuning, device_key
from exactmd.errors import ValidationError, describe

__all__ = ["Backend", "parse_dtype", "MEMORY_SAFETY_FRACTION"]

#: The share of the memory a backend reports available that memory plans may use: the rest is
#: headroom for the interpreter, temporaries of other libraries and other processes' growth.
MEMORY_SAFETY_FRACTION = 0.8

_DTYPES = {"float64": np.float64, "float32": np.float32}


def parse_dtype(dtype: Any) -> str:
    """Normalise a dtype request to ``"float64"`` or ``"float32"``.

    Examples
    --------
    >>> parse_dtype(None), parse_dtype("float32")
    ('float64', 'float32')
    """
    if dtype is None:
        return "float64"
    text = str(dtype).replace("torch.", "").replace("<class 'numpy.", "").rstrip("'>")
    if text in ("double",):
        text = "float64"
    if text in ("float",):
        text = "float32"
    if text not in _DTYPES:
        raise ValidationError(
            f"dtype: must be 'float64' (default) or 'float32'; received {describe(dtype)}"
        )
    return text


class Backend(ABC):
    """Array operations used by the enumeration, implemented once per array library.

    Attributes
    ----------
    name : str
        ``"numpy"``, ``"torch"`` or ``"symbolic"``.
    dtype : str
        ``"float64"`` or ``"float32"`` (``"object"`` for the symbolic backend).
    exact : bool
        True when the arithmetic is exact (the symbolic backend): results are exact
        expressions, never rounded, and computations that only exist in floating point
        (Monte Carlo, planners reading probabilities) refuse such laws.
    """

    name: str = ""
    dtype: str = "float64"
    #: True for exact arithmetic (numpy object arrays of sympy expressions): the code paths
    #: are the numeric ones, and the few operations below that differ (:meth:`finish_masked`,
    #: :meth:`host`, :meth:`vector`, :meth:`positive`, :meth:`log`, :attr:`infinity`) say how.
    exact: bool = False
    #: True when the backend implements the float in-place kernels below (:meth:`empty`,
    #: :meth:`add_out`, :meth:`xlogx_positive_`, :meth:`flip`), which the streamed enumeration
    #: of :mod:`exactmd.enumeration.streamed` uses. Backends without them (the symbolic one)
    #: compute the subset entropies from the whole masked tensor
    #: (:func:`exactmd.enumeration.masked.subset_entropies`).
    inplace: bool = False
    #: True when :meth:`xlogx_positive_` is one fused kernel that needs no scratch space (torch
    #: on CUDA); the streamed enumeration then allocates no scratch buffer.
    fused_xlogx: bool = False
    #: True when adding interleaved slices of one array may copy the operands first (numpy,
    #: when it cannot prove they do not overlap); memory plans then count those copies.
    copies_overlap: bool = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dtype={self.dtype!r})"

    # -- conversion ---------------------------------------------------------------------
    @abstractmethod
    def asarray(self, x: Any) -> Any:
        """Convert ``x`` (numpy, torch, lists) to a native array of this backend's dtype."""

    @abstractmethod
    def to_numpy(self, x: Any) -> np.ndarray:
        """Return ``x`` as a numpy array on the host (float64 for float input)."""

    def to_float(self, x: Any) -> float:
        """Return a 0-d native array as a Python float."""
        return float(self.to_numpy(x))

    def host(self, x: Any) -> np.ndarray:
        """A native array as a new float64 numpy array on the host (a copy: writing to it
        changes nothing else); exact backends return an object array of exact values.

        Examples
        --------
        >>> from exactmd.backends import get_backend
        >>> get_backend(name="numpy", dtype="float32").host(np.ones(2, np.float32)).dtype
        dtype('float64')
        """
        return np.array(self.to_numpy(x), dtype=np.float64)

    def vector(self, values: Sequence[Any]) -> Any:
        """A short sequence of results (a profile, mean entropies) as a float64 numpy array;
        exact backends return a list of exact expressions.

        Examples
        --------
        >>> from exactmd.backends import get_backend
        >>> get_backend(name="numpy").vector([0.5, 1]).tolist()
        [0.5, 1.0]
        """
        return np.asarray(values, dtype=np.float64)

    def float64(self, values: Sequence[Any], name: str) -> np.ndarray:
        """Results as float64, for the algorithms that only exist in floating point (the
        optimal schedule's dynamic programme); exact backends evaluate each value to 50 digits
        first and refuse free symbols, naming ``name``.

        Examples
        --------
        >>> from exactmd.backends import get_backend
        >>> get_backend(name="numpy").float64([1, 0.5], "profile").tolist()
        [1.0, 0.5]
        """
        return np.asarray(values, dtype=np.float64)

    def quotient(self, a: Any, b: Any) -> Any:
        """``a / b`` of host numbers or arrays, as Python and numpy compute it (exact backends:
        the exact quotient, as a native array), e.g. the ``1 / q_i`` of a uniform row.

        Examples
        --------
        >>> from exactmd.backends import get_backend
        >>> get_backend(name="numpy").quotient(1.0, 4), get_backend(name="symbolic").quotient(1, 3)
        (0.25, 1/3)
        """
        return a / b

    def positive(self, x: np.ndarray) -> np.ndarray:
        """A bool host array: True where the host array ``x`` is ``> 0`` (exact backends: not
        exactly 0, the positivity assumption of :mod:`exactmd.symbolic`)."""
        return np.asarray(x) > 0

    def log(self, x: np.ndarray) -> np.ndarray:
        """The natural log of a host array (of positive entries) as a host array."""
        return np.log(x)

    @property
    def infinity(self) -> Any:
        """The value of a divergent quantity (a KL with a missed support): ``inf``, or sympy's
        ``oo`` on exact backends."""
        return float("inf")

    def validate_table(self, p: Any, name: str = "p") -> tuple[Any, tuple[str, ...]]:
        """Validate an exact table, returning it and the assumptions it needs (exact backends
        only: numeric tables are validated by :func:`exactmd.law.distribution.as_distribution`)."""
        raise NotImplementedError(f"{type(self).__name__} does not validate exact tables")

    def check_exact_rows(
        self, out: Any, tokens: np.ndarray, shape: tuple[int, ...], name: str, offset: int = 0
    ) -> np.ndarray:
        """Check a denoiser's output against the contract exactly (exact backends only: the
        float check is :func:`exactmd.denoisers.calls.check_denoiser_output`)."""
        raise NotImplementedError(f"{type(self).__name__} has no exact denoiser check")

    def finish_masked(self, m: Any) -> Any:
        """The masked-marginal tensor as built, for the numeric backends (returned as is).

        Its all-masked corner holds the table's total; an exact backend writes it as exactly
        1, which validation proved it to be but which sympy may not have written as ``1``."""
        return m

    # -- shape --------------------------------------------------------------------------
    @abstractmethod
    def reshape(self, x: Any, shape: Sequence[int]) -> Any:
        """Reshape (copying when needed)."""

    @abstractmethod
    def transpose(self, x: Any, axes: Sequence[int]) -> Any:
        """Permute axes and return a contiguous array."""

    # -- arithmetic ---------------------------------------------------------------------
    @abstractmethod
    def matmul(self, a: Any, b: Any) -> Any:
        """Matrix product."""

    @abstractmethod
    def sum(self, x: Any, axis: int | tuple[int, ...] | None = None) -> Any:
        """Sum over ``axis`` (all axes when None)."""

    @abstractmethod
    def neg_xlogx_(self, x: Any) -> Any:
        """Replace ``x`` in place by ``-x log x`` (with ``0 log 0 = 0``) and return it."""

    @abstractmethod
    def zeros(self, shape: Sequence[int]) -> Any:
        """A zero array of this backend's dtype and device."""

    @abstractmethod
    def concat(self, xs: Sequence[Any], axis: int) -> Any:
        """Concatenate along ``axis``."""

    @abstractmethod
    def take_flat(self, x: Any, index: np.ndarray) -> Any:
        """``x.reshape(-1)[index]`` with a numpy integer index."""

    def as_index(self, index: np.ndarray) -> Any:
        """A numpy integer array as an index array where this backend gathers (its device).

        :meth:`take_rows` accepts it as well as a numpy index; slicing it costs no copy, so
        an index used many times is copied to the device once.

        Examples
        --------
        >>> from exactmd.backends import get_backend
        >>> get_backend(name="numpy").as_index([2, 0]).tolist()
        [2, 0]
        """
        return np.asarray(index, dtype=np.int64)

    def take_rows(self, x: Any, index: Any) -> Any:
        """``x[index]`` along the first axis with a numpy integer index or one made by
        :meth:`as_index` (whole rows copied)."""
        width = int(np.prod(x.shape[1:], dtype=np.int64))
        flat = (np.asarray(index, dtype=np.int64)[:, None] * width + np.arange(width)).reshape(-1)
        return self.reshape(self.take_flat(x, flat), (len(index), *x.shape[1:]))

    def permute(self, x: Any, axes: Sequence[int]) -> Any:
        """Permute axes, as a view where the library allows it (a copy otherwise)."""
        return self.transpose(x, axes)

    # -- device-side helpers (no host round trip on a GPU) -----------------------------
    def take_flat_sum(self, x: Any, a: np.ndarray, b: np.ndarray) -> Any:
        """``x.reshape(-1)[a + b]`` for numpy integer arrays ``a`` and ``b`` that broadcast.

        The result has their broadcast shape. A device backend copies only ``a`` and ``b``
        and forms their (larger) broadcast sum on the device.

        Examples
        --------
        >>> from exactmd.backends import get_backend
        >>> be = get_backend(name="numpy")
        >>> be.take_flat_sum(np.arange(10.0) * 2, np.array([[0], [5]]), np.array([0, 1])).tolist()
        [[0.0, 2.0], [10.0, 12.0]]
        """
        idx = np.asarray(a, dtype=np.int64) + np.asarray(b, dtype=np.int64)
        return self.reshape(self.take_flat(x, idx.reshape(-1)), idx.shape)

    def nonpositive(self, x: Any) -> Any:
        """1 where ``x <= 0`` and 0 elsewhere, in this backend's dtype and on its device.

        It marks the contexts of probability zero of the exact denoiser without a host
        round trip (this default goes through the host; numpy and torch override it, and
        the symbolic backend counts only entries that are exactly 0).

        Examples
        --------
        >>> from exactmd.backends import get_backend
        >>> get_backend(name="numpy").nonpositive(np.array([0.5, 0.0, -1.0])).tolist()
        [0.0, 1.0, 1.0]
        """
        host = np.asarray(self.to_numpy(x))
        return self.asarray((host <= 0).astype(np.float64))

    def indicator(self, shape: Sequence[int], index: np.ndarray) -> Any:
        """A zero array of ``shape`` with 1 at the flat positions ``index`` (a numpy int array).

        A device backend copies only ``index`` and writes the ones on the device.

        Examples
        --------
        >>> from exactmd.backends import get_backend
        >>> get_backend(name="numpy").indicator((2, 2), np.array([1, 2])).tolist()
        [[0.0, 1.0], [1.0, 0.0]]
        """
        out = np.zeros(tuple(shape))
        out.reshape(-1)[np.asarray(index, dtype=np.int64)] = 1.0
        return self.asarray(out)

    # -- in-place kernels (used when ``inplace`` is True) ------------------------------
    def empty(self, shape: Sequence[int]) -> Any:
        """An uninitialised array of this backend's dtype and device (zeros by default)."""
        return self.zeros(shape)

    def add_out(self, a: Any, b: Any, out: Any) -> Any:
        """Write ``a + b`` into the (possibly strided) view ``out`` and return it."""
        out[...] = a + b
        return out

    def add_(self, out: Any, a: Any) -> Any:
        """Add ``a`` into the (possibly strided) view ``out`` in place and return it."""
        out[...] = out + a
        return out

    def copy_(self, out: Any, a: Any) -> Any:
        """Copy ``a`` into the (possibly strided) view ``out`` and return it."""
        out[...] = a
        return out

    def add_scalar_out(self, a: Any, c: float, out: Any) -> Any:
        """Write ``a + c`` into the view ``out`` (``c`` a Python float) and return it."""
        out[...] = a + c
        return out

    def transpose_view(self, x: Any) -> Any:
        """The transpose of the 2-d array ``x``, as a view (no copy)."""
        return x.T

    def matmul_out(self, a: Any, b: Any, out: Any) -> Any:
        """Write the matrix product ``a @ b`` into the contiguous 2-d array ``out``."""
        out[...] = self.matmul(a, b)
        return out

    def xlogx_positive_(self, x: Any, work: Any) -> Any:
        """Replace ``x`` (all entries > 0) by ``x log x`` in place; ``work`` is scratch space.

        ``work`` is a flat array of at least one element; long inputs are processed in pieces
        of ``work``'s size, so the scratch memory stays small.
        """
        raise NotImplementedError(f"{type(self).__name__} has no in-place kernels")

    def flip(self, x: Any, axes: Sequence[int]) -> Any:
        """Reverse ``x`` along ``axes`` (a view where the library allows it)."""
        raise NotImplementedError(f"{type(self).__name__} has no in-place kernels")

    def synchronize(self) -> None:
        """Wait for queued device work (a no-op except on CUDA); used for timings."""
        return None

    @property
    def tiny(self) -> float:
        """The smallest positive normal number of this backend's dtype."""
        return float(np.finfo(np.float64 if self.dtype == "float64" else np.float32).tiny)

    @property
    def tuning(self) -> Tuning:
        """The chunk and block sizes of this backend's device (a frozen ``Tuning``: the entry
        of ``exactmd.backends._tuning.TUNINGS`` at its ``device_key``, one for numpy, torch on
        the CPU and CUDA).

        Examples
        --------
        >>> from exactmd.backends import get_backend
        >>> get_backend(name="numpy").tuning.recursion_chunk_states
        65536
        """
        return TUNINGS[device_key(self)]

    # -- memory -------------------------------------------------------------------------
    @property
    def itemsize(self) -> int:
        """Bytes per element of this backend's dtype."""
        return 8 if self.dtype == "float64" else 4

    @abstractmethod
    def available_memory(self) -> int:
        """Bytes that may be allocated on this backend's device right now."""

    def usable_memory(self) -> int:
        """The bytes a memory plan may use: :data:`MEMORY_SAFETY_FRACTION` of
        :meth:`available_memory`."""
        return int(MEMORY_SAFETY_FRACTION * int(self.available_memory()))
