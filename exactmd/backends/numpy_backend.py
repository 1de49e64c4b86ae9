"""The numpy backend: the reference implementation and the default."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from exactmd.backends.base import Backend, parse_dtype

__all__ = ["NumpyBackend", "host_available_memory"]


def host_available_memory() -> int:
    """Bytes of host memory available now (``MemAvailable``; 8 GiB when unknown)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


class NumpyBackend(Backend):
    """numpy arrays on the host.

    Examples
    --------
    >>> b = NumpyBackend()
    >>> b.neg_xlogx_(np.array([0.0, 1.0])).tolist()
    [0.0, 0.0]
    """

    name = "numpy"
    inplace = True

    def __init__(self, dtype: Any = None) -> None:
        self.dtype = parse_dtype(dtype)
        self._np_dtype = np.dtype(self.dtype)

    def asarray(self, x: Any) -> np.ndarray:
        if hasattr(x, "detach"):  # a torch tensor
            x = x.detach().cpu().numpy()
        arr = np.asarray(x, dtype=self._np_dtype)
        return arr if arr.flags.c_contiguous else np.ascontiguousarray(arr)

    def to_numpy(self, x: Any) -> np.ndarray:
        return np.asarray(x)

    def reshape(self, x: Any, shape: Sequence[int]) -> np.ndarray:
        return np.reshape(x, tuple(shape))

    def transpose(self, x: Any, axes: Sequence[int]) -> np.ndarray:
        return np.ascontiguousarray(np.transpose(x, tuple(axes)))

    def matmul(self, a: Any, b: Any) -> np.ndarray:
        return np.matmul(a, b)

    def sum(self, x: Any, axis: int | tuple[int, ...] | None = None) -> Any:
        return np.sum(x, axis=axis)

    def neg_xlogx_(self, x: Any) -> np.ndarray:
        flat = x.reshape(-1)
        step = 1 << 22
        for start in range(0, flat.size, step):
            chunk = flat[start : start + step]
            positive = chunk > 0
            logs = np.log(chunk, where=positive, out=np.zeros_like(chunk))
            np.multiply(chunk, logs, out=chunk)
            np.negative(chunk, out=chunk)
            chunk += 0.0  # turn -0.0 into 0.0
        return x

    def zeros(self, shape: Sequence[int]) -> np.ndarray:
        return np.zeros(tuple(shape), dtype=self._np_dtype)

    def concat(self, xs: Sequence[Any], axis: int) -> np.ndarray:
        return np.concatenate(list(xs), axis=axis)

    def take_flat(self, x: Any, index: np.ndarray) -> np.ndarray:
        return np.asarray(x).reshape(-1)[index]

    def take_rows(self, x: Any, index: Any) -> np.ndarray:
        return np.take(x, index, axis=0)

    def permute(self, x: Any, axes: Sequence[int]) -> np.ndarray:
        return np.transpose(x, tuple(axes))

    def take_flat_sum(self, x: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.asarray(x).reshape(-1)[np.add(a, b, dtype=np.int64)]

    def nonpositive(self, x: Any) -> np.ndarray:
        return (np.asarray(x) <= 0).astype(self._np_dtype)

    def indicator(self, shape: Sequence[int], index: np.ndarray) -> np.ndarray:
        out = np.zeros(tuple(shape), dtype=self._np_dtype)
        out.reshape(-1)[index] = 1.0
        return out

    def empty(self, shape: Sequence[int]) -> np.ndarray:
        return np.empty(tuple(shape), dtype=self._np_dtype)

    def add_out(self, a: Any, b: Any, out: Any) -> Any:
        return np.add(a, b, out=out)

    def add_(self, out: Any, a: Any) -> Any:
        return np.add(out, a, out=out)

    def copy_(self, out: Any, a: Any) -> Any:
        np.copyto(out, a)
        return out

    def add_scalar_out(self, a: Any, c: float, out: Any) -> Any:
        return np.add(a, c, out=out)

    def xlogx_positive_(self, x: Any, work: Any) -> Any:
        flat = x.reshape(-1)
        if not np.shares_memory(flat, x):  # pragma: no cover - callers pass contiguous arrays
            raise ValueError("xlogx_positive_ needs a contiguous array")
        step = int(work.size)
        for start in range(0, flat.size, step):
            piece = flat[start : start + step]
            logs = work[: piece.size]
            np.log(piece, out=logs)
            np.multiply(piece, logs, out=piece)
        return x

    def flip(self, x: Any, axes: Sequence[int]) -> np.ndarray:
        return np.flip(x, axis=tuple(axes)) if len(axes) else x

    def available_memory(self) -> int:
        return host_available_memory()
