"""The backend interface: the few array operations exactmd's enumeration needs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

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
        ``"numpy"`` or ``"torch"``.
    dtype : str
        ``"float64"`` or ``"float32"``.
    """

    name: str = ""
    dtype: str = "float64"
    #: True when the backend implements the in-place kernels below (:meth:`empty`,
    #: :meth:`add_out`, :meth:`xlogx_positive_`, :meth:`flip`), which the streamed enumeration
    #: of :mod:`exactmd.enumeration.streamed` uses. Backends without them (the symbolic one) take
    # the
    #: generic Kronecker path of :mod:`exactmd.enumeration.masked`.
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
