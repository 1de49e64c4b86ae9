"""The process group: joining it, the collectives the sharded enumeration uses, and their errors.

torch.distributed is imported here only, and only when a :class:`Distributed` is entered or a
sharded function runs (never when :mod:`exactmd` is imported). Every collective is wrapped so
that a failure (a rank that died, a timeout, a broken connection) surfaces as a
:class:`DistributedError` naming the rank and the step, instead of a hang: the process group is
created with a finite ``timeout`` (default :data:`DEFAULT_TIMEOUT_S`), and gloo reports a peer
that closed its connection at once.
"""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta
from typing import Any

import numpy as np

from exactmd._validate import check_real
from exactmd.errors import ValidationError, describe

__all__ = ["Distributed", "DistributedError", "DEFAULT_TIMEOUT_S", "current_group"]

#: Seconds a collective may wait for the other ranks before the group reports a failure.
DEFAULT_TIMEOUT_S = 600.0


class DistributedError(RuntimeError):
    """A collective of the sharded enumeration failed: another rank died, timed out or broke
    its connection. The message names this rank, the step and torch's own error."""


def _torch_dist() -> tuple[Any, Any]:
    try:
        import torch
        import torch.distributed as dist
    except ImportError as exc:  # pragma: no cover - exercised only without torch
        raise ImportError(
            "exactmd.distributed needs PyTorch with torch.distributed: pip install 'exactmd[torch]'"
        ) from exc
    if not dist.is_available():  # pragma: no cover - builds without distributed support
        raise ImportError("exactmd.distributed: this PyTorch build has no torch.distributed")
    return torch, dist


class Distributed:
    """The process group of a sharded run: joined on entry, left on exit if this opened it.

    Inside ``torchrun`` (or any launcher that sets ``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``
    and ``MASTER_PORT``) the group is initialised from the environment; a group already
    initialised by the caller is used as it is (and left open on exit).

    Parameters
    ----------
    backend
        ``"gloo"`` (CPU tensors), ``"nccl"`` (one CUDA device per rank) or None: NCCL when
        CUDA is available, else gloo.
    timeout_s
        Seconds a collective waits for the other ranks before failing (finite, > 0).

    Attributes
    ----------
    rank, world_size : int
        This process's rank and the number of ranks.
    device : str
        ``"cuda:<LOCAL_RANK>"`` with NCCL, else ``"cpu"``: where the rank works.
    local_world_size : int
        Ranks on this host (``LOCAL_WORLD_SIZE``, else 1 with NCCL and ``world_size`` with
        gloo); host memory is shared among them in the memory plan.

    Examples
    --------
    A 1-rank gloo group in this process (``torchrun`` sets these variables for each rank):

    >>> import os
    >>> env = {"RANK": "0", "WORLD_SIZE": "1", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "0"}
    >>> os.environ.update(env)
    >>> with Distributed(backend="gloo", timeout_s=30) as group:
    ...     print(group.rank, group.world_size, group.device)
    0 1 cpu
    >>> for key in env:
    ...     del os.environ[key]
    """

    def __init__(self, backend: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        if backend is not None and backend not in ("gloo", "nccl"):
            raise ValidationError(
                f"backend: must be 'gloo', 'nccl' or None; received {describe(backend)}"
            )
        self.timeout_s = check_real(timeout_s, "timeout_s", minimum=0, open_min=True)
        if not np.isfinite(self.timeout_s):
            raise ValidationError(f"timeout_s: must be finite; received {describe(timeout_s)}")
        self._requested = backend
        self._opened = False
        self.rank = 0
        self.world_size = 1
        self.local_world_size = 1
        self.device = "cpu"
        self.backend = "gloo"

    def __enter__(self) -> Distributed:
        torch, dist = _torch_dist()
        if not dist.is_initialized():
            backend = self._requested
            if backend is None:
                backend = "nccl" if torch.cuda.is_available() else "gloo"
            if backend == "nccl":
                torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
            if os.environ.get("MASTER_PORT") == "0":  # a 1-rank group on any free port
                os.environ["MASTER_PORT"] = str(_free_port())
            try:
                dist.init_process_group(
                    backend=backend,
                    init_method="env://",
                    timeout=timedelta(seconds=self.timeout_s),
                )
            except (RuntimeError, ValueError) as exc:
                raise DistributedError(
                    f"the process group could not be initialised ({backend}, timeout "
                    f"{self.timeout_s:g} s): {exc}; run under torchrun, or set RANK, "
                    "WORLD_SIZE, MASTER_ADDR and MASTER_PORT"
                ) from exc
            self._opened = True
        self._bind(torch, dist)
        return self

    def _bind(self, torch: Any, dist: Any) -> None:
        self.torch, self.dist = torch, dist
        self.rank = int(dist.get_rank())
        self.world_size = int(dist.get_world_size())
        self.backend = str(dist.get_backend())
        if self.backend == "nccl":
            self.device = f"cuda:{torch.cuda.current_device()}"
            default_local = 1
        else:
            self.device = "cpu"
            default_local = self.world_size
        self.local_world_size = int(os.environ.get("LOCAL_WORLD_SIZE", default_local))
        if self.backend == "nccl":
            self.local_world_size = 1  # one device per rank: nothing shared on the device

    def __exit__(self, *exc: object) -> None:
        if self._opened and self.dist.is_initialized():
            self.dist.destroy_process_group()
        self._opened = False

    def __repr__(self) -> str:
        return (
            f"Distributed(rank={self.rank}, world_size={self.world_size}, "
            f"backend={self.backend!r}, device={self.device!r})"
        )

    # -- collectives ------------------------------------------------------------------------
    def _fail(self, step: str, exc: BaseException) -> DistributedError:
        after = f" after {self.timeout_s:g} s" if self.timeout_s > 0 else ""
        return DistributedError(
            f"rank {self.rank} of {self.world_size}: the collective '{step}' failed (another "
            f"rank may have died, or timed out{after}): {exc}"
        )

    def _comm(self, x: Any) -> Any:
        """A torch view of ``x`` (numpy or torch) where the group's backend can send it."""
        torch = self.torch
        t = torch.from_numpy(x) if isinstance(x, np.ndarray) else x
        if self.backend == "nccl" and t.device.type != "cuda":
            t = t.to(self.device)
        return t

    def all_gather_rows(self, rows: np.ndarray, step: str) -> list[np.ndarray]:
        """Every rank's float64 array of the same shape, as a list indexed by rank."""
        local = self._comm(np.ascontiguousarray(rows, dtype=np.float64))
        out = [self.torch.empty_like(local) for _ in range(self.world_size)]
        try:
            self.dist.all_gather(out, local)
        except RuntimeError as exc:
            raise self._fail(step, exc) from exc
        return [np.asarray(o.cpu().numpy(), dtype=np.float64) for o in out]

    def all_max(self, value: float, step: str) -> float:
        """The largest of the ranks' values (exact: no rounding in a maximum)."""
        parts = self.all_gather_rows(np.array([value], dtype=np.float64), step)
        return float(max(p[0] for p in parts))

    def send(self, x: Any, dst: int, step: str) -> None:
        try:
            self.dist.send(self._comm(x), dst)
        except RuntimeError as exc:
            raise self._fail(step, exc) from exc

    def recv(self, x: Any, src: int, step: str) -> None:
        """Receive into ``x`` (filled in place)."""
        t = self._comm(x)
        try:
            self.dist.recv(t, src)
        except RuntimeError as exc:
            raise self._fail(step, exc) from exc
        if self.backend == "nccl" and isinstance(x, np.ndarray):
            x[...] = t.cpu().numpy()

    def check_same(self, arguments: dict[str, Any], step: str) -> None:
        """Refuse arguments that differ across ranks, before any work.

        ``arguments`` maps names to values whose ``repr`` (or, for arrays, bytes) identify
        them; one all-gather of a digest per argument compares them.

        Raises
        ------
        ValidationError
            On every rank, naming the first argument that differs and the ranks' digests.
        """
        names = sorted(arguments)
        digests = np.array([_digest(arguments[k]) for k in names], dtype=np.float64)
        parts = self.all_gather_rows(digests, step)
        for i, name in enumerate(names):
            seen = [float(p[i]) for p in parts]
            if len(set(seen)) > 1:
                ranks = ", ".join(f"rank {r}: {int(v):#x}" for r, v in enumerate(seen))
                raise ValidationError(
                    f"{name}: must be the same on every rank of a sharded run; the ranks "
                    f"received different values (digests {ranks}; this rank "
                    f"{self.rank} received {describe(arguments[name])})"
                )


def _digest(value: Any) -> int:
    """A 48-bit digest of ``value`` (exact in a float64): bytes for arrays, else its repr."""
    h = hashlib.sha256()
    if isinstance(value, np.ndarray):
        h.update(str((value.shape, value.dtype.str)).encode())
        h.update(np.ascontiguousarray(value).tobytes())
    else:
        h.update(repr(value).encode())
    return int.from_bytes(h.digest()[:6], "big")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def current_group(group: Distributed | None) -> Distributed:
    """``group`` when given, else the initialised default process group.

    Raises
    ------
    ValidationError
        When no process group is initialised (run under ``torchrun`` inside a
        :class:`Distributed` block).
    """
    if group is not None:
        if not isinstance(group, Distributed):
            raise ValidationError(
                f"group: must be an exactmd.distributed.Distributed; received {describe(group)}"
            )
        return group
    torch, dist = _torch_dist()
    if not dist.is_initialized():
        raise ValidationError(
            "group: a sharded run needs an initialised process group; call it inside "
            "'with exactmd.distributed.Distributed():' under torchrun; received None with no "
            "process group initialised"
        )
    g = Distributed()
    g._bind(torch, dist)
    g.timeout_s = 0.0  # the caller's group: its timeout is not known here
    return g
