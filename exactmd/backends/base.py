"""The backend interface: the few array operations exactmd's enumeration needs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

from exactmd.errors import ValidationError, describe

__all__ = ["Backend", "parse_dtype"]

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

    # -- memory -------------------------------------------------------------------------
    @property
    def itemsize(self) -> int:
        """Bytes per element of this backend's dtype."""
        return 8 if self.dtype == "float64" else 4

    @abstractmethod
    def available_memory(self) -> int:
        """Bytes that may be allocated on this backend's device right now."""
