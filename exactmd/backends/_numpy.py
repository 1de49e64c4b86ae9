"""The numpy backend: the reference implementation and the default."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from exactmd.backends.base import Backend, parse_dtype

__all__ = ["NumpyBackend", "host_available_memory", "rlimit_headroom", "cgroup_headroom"]


_UNLIMITED = 2**60  # cgroup v1 reports "no limit" as a huge number (about 2**63)


def _meminfo_available(meminfo: str = "/proc/meminfo") -> int | None:
    """``MemAvailable`` of ``/proc/meminfo`` in bytes (None when unknown)."""
    try:
        with open(meminfo, encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def _status_bytes(key: str, status: str = "/proc/self/status") -> int:
    """A ``/proc/self/status`` field such as ``VmSize`` in bytes (0 when unknown)."""
    try:
        with open(status, encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def rlimit_headroom(status: str = "/proc/self/status") -> int | None:
    """Bytes left under ``RLIMIT_AS`` (``ulimit -v``) and ``RLIMIT_DATA`` (``ulimit -d``):
    the soft limit minus the process's current ``VmSize`` / ``VmData``; None when unlimited."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return None
    out: int | None = None
    for limit, key in (("RLIMIT_AS", "VmSize"), ("RLIMIT_DATA", "VmData")):
        code = getattr(resource, limit, None)
        if code is None:  # pragma: no cover - platform without this limit
            continue
        soft = resource.getrlimit(code)[0]
        if soft == resource.RLIM_INFINITY or soft < 0:
            continue
        left = max(0, int(soft) - _status_bytes(key, status))
        out = left if out is None else min(out, left)
    return out


def _read_int(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as fh:
            text = fh.read().strip()
    except OSError:
        return None
    if text == "max":
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _inactive_file(stat_path: str, key: str) -> int:
    try:
        with open(stat_path, encoding="ascii") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) == 2 and parts[0] == key:
                    return int(parts[1])
    except (OSError, ValueError):
        pass
    return 0


def cgroup_headroom(root: str = "/sys/fs/cgroup", proc: str = "/proc/self/cgroup") -> int | None:
    """Bytes left under the cgroup memory limit (v2 ``memory.max``, v1
    ``memory.limit_in_bytes``): the limit minus the usage, not counting reclaimable page cache
    (``inactive_file``); None when there is no limit or no cgroup file.

    The process's own cgroup (from ``proc``) is looked up under ``root``, then ``root`` itself
    (the usual view inside a container); the tightest limit found counts.
    """
    own_v2, own_v1 = "/", "/"
    try:
        with open(proc, encoding="ascii") as fh:
            for line in fh:
                parts = line.strip().split(":", 2)
                if len(parts) != 3:
                    continue
                if parts[0] == "0" and parts[1] == "":
                    own_v2 = parts[2] or "/"
                elif "memory" in parts[1].split(","):
                    own_v1 = parts[2] or "/"
    except OSError:
        pass
    candidates = [
        (os.path.join(root, own_v2.lstrip("/")), "memory.max", "memory.current", "inactive_file"),
        (root, "memory.max", "memory.current", "inactive_file"),
        (
            os.path.join(root, "memory", own_v1.lstrip("/")),
            "memory.limit_in_bytes",
            "memory.usage_in_bytes",
            "total_inactive_file",
        ),
        (
            os.path.join(root, "memory"),
            "memory.limit_in_bytes",
            "memory.usage_in_bytes",
            "total_inactive_file",
        ),
    ]
    out: int | None = None
    for folder, limit_file, usage_file, inactive_key in candidates:
        limit = _read_int(os.path.join(folder, limit_file))
        if limit is None or limit >= _UNLIMITED:
            continue
        usage = _read_int(os.path.join(folder, usage_file)) or 0
        usage -= _inactive_file(os.path.join(folder, "memory.stat"), inactive_key)
        left = max(0, limit - max(usage, 0))
        out = left if out is None else min(out, left)
    return out


def host_available_memory() -> int:
    """Bytes of host memory this process may allocate now.

    The least of: ``MemAvailable`` (``/proc/meminfo``), the headroom under ``RLIMIT_AS`` /
    ``RLIMIT_DATA`` (:func:`rlimit_headroom`), and the headroom under the cgroup memory limit
    (:func:`cgroup_headroom`); 8 GiB when none is known. Memory plans use
    :data:`~exactmd.backends.base.MEMORY_SAFETY_FRACTION` of it
    (:meth:`~exactmd.backends.base.Backend.usable_memory`).

    Examples
    --------
    >>> host_available_memory() > 0
    True
    """
    known = [
        v for v in (_meminfo_available(), rlimit_headroom(), cgroup_headroom()) if v is not None
    ]
    return min(known) if known else 8 * 2**30


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
    copies_overlap = True

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

    def matmul_out(self, a: Any, b: Any, out: Any) -> Any:
        return np.matmul(a, b, out=out)

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
