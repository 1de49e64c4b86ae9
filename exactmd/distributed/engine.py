"""The sharded enumeration: subset entropies and the information profile over ranks.

Each rank runs the same call. With ``s`` shard axes (:mod:`exactmd.distributed.plan`) the
masked enumeration splits into ``B = Π_{i<s}(q_i + 1)`` blocks ``G_y`` of the trailing shape,
one per masked index ``y`` of the shard axes, rank ``b mod R`` owning block ``b``:

1. **slices**: a rank builds the blocks it owns with no shard axis masked, ``G_y = π(y, ·)``,
   from its source (:mod:`exactmd.distributed.sources`): read from a table, or computed from
   log-factors, whose normalisation needs two collectives (the largest log-weight, then
   ``Z`` as the exactly rounded ``math.fsum`` of the blocks' sums, the same on every rank);
2. **masked sums**: ``G_y`` with ``j`` its first masked shard axis is ``Σ_v G_{y, y_j := v}``,
   built axis by axis from the last (the order of
   :func:`~exactmd.enumeration.streamed.mask_axes_`, addition by addition), the summands of
   other ranks arriving by point-to-point sends in one global order (no deadlock: every rank
   walks the same list, and each transfer involves two ranks);
3. **blocks**: each rank enumerates its blocks with
   :func:`~exactmd.enumeration.streamed.streamed_subset_entropies` (the block's own memory
   plan), freeing each block after it;
4. **reduction**: per block, the profile needs ``N + 1`` sums by subset size (a block ``y``
   with ``c`` unmasked shard axes shifts its sizes by ``c``) and the subset entropies its
   ``2^(N−s)`` values; one all-gather brings every block's row to every rank, and every rank
   adds them in block order (profile) or applies the leading entropy reduction
   :func:`~exactmd.enumeration.streamed.entropy_axes_` (subset entropies).

**Reduction order.** Nothing depends on which rank computed what: the blocks, their sums and
the final additions are the same for every ``R`` (given the same per-rank thread count, which
torch's CPU kernels may depend on), so results are bit-identical across rank counts for a
fixed ``shard_axes``. They are also bit-identical to the single process
(:func:`exactmd.enumeration.subset_entropies`) for a table source when ``shard_axes`` equals
the single process's ``lead_axes`` and each block is enumerated in one chunk (the same
additions in the same order); otherwise they agree to rounding (about 1e-15 relative; the
tests ask 1e-12).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from math import comb, prod
from typing import Any

import numpy as np

from exactmd._progress import progress_bar
from exactmd._validate import check_choice
from exactmd.backends import Backend, get_backend
from exactmd.distributed._group import Distributed, current_group
from exactmd.distributed.plan import OPERATIONS, ShardPlan, _grid, plan_shards
from exactmd.distributed.sources import FactorSource, TableSource, source_from_spec
from exactmd.enumeration.streamed import entropy_axes_, streamed_subset_entropies
from exactmd.errors import MemoryPlanError, ModelError
from exactmd.measures.information import sums_by_popcount

__all__ = ["subset_entropies", "information_profile", "mean_subset_entropies", "as_source"]

Source = TableSource | FactorSource


def as_source(p: Any) -> Source:
    """``p`` as a source: a source as it is, a model string through
    :func:`~exactmd.distributed.sources.source_from_spec`, anything else as a table.

    Examples
    --------
    >>> as_source("ising:n=4").shape
    (2, 2, 2, 2)
    """
    if isinstance(p, TableSource | FactorSource):
        return p
    if isinstance(p, str):
        return source_from_spec(p)
    return TableSource(p)


def _backend(name: str | None, group: Distributed) -> Backend:
    choice = check_choice(name or "torch", "backend", ("numpy", "torch"), extra=" or None")
    if choice == "numpy":
        return get_backend(name="numpy")
    return get_backend(name="torch", device=group.device)


def _max(be: Backend, x: Any) -> float:
    if be.name == "torch":
        return float(x.max().item()) if x.numel() else -math.inf
    return float(np.max(x)) if x.size else -math.inf


def _exp_shifted_(be: Backend, x: Any, top: float) -> None:
    if be.name == "torch":
        x.sub_(top).exp_()
    else:
        np.subtract(x, top, out=x)
        np.exp(x, out=x)


def _scale_(be: Backend, x: Any, z: float) -> None:
    if be.name == "torch":
        x.div_(z)
    else:
        np.divide(x, z, out=x)


class _Run:
    """One sharded call on one rank: the plan, the owned blocks and their rows."""

    def __init__(
        self, source: Source, plan: ShardPlan, be: Backend, group: Distributed, progress: Any
    ) -> None:
        self.source, self.plan, self.be, self.group = source, plan, be, group
        self.progress = progress
        self.shape = plan.shape
        self.s = plan.shard_axes
        self.head = self.shape[: self.s]
        self.rest = self.shape[self.s :]
        self.grid = _grid(self.head)
        self.strides = [prod(q + 1 for q in self.head[i + 1 :]) for i in range(self.s)]
        self.owned: dict[int, Any] = {}

    def owner(self, b: int) -> int:
        return b % self.group.world_size

    def mine(self, b: int) -> bool:
        return self.owner(b) == self.group.rank

    def _first_masked(self, y: Sequence[int]) -> int | None:
        for i, v in enumerate(y):
            if v == self.head[i]:
                return i
        return None

    def slices(self) -> None:
        """Step 1: the rank's unmasked blocks, normalised."""
        be, group = self.be, self.group
        unmasked = [b for b, y in enumerate(self.grid) if self._first_masked(y) is None]
        for b in unmasked:
            if self.mine(b):
                self.owned[b] = self.source.block(self.grid[b], be)
        if self.source.normalised:
            return
        local = max((_max(be, self.owned[b]) for b in unmasked if self.mine(b)), default=-math.inf)
        top = group.all_max(local, "the largest log-weight")
        if not math.isfinite(top):
            raise ModelError(
                f"model: the largest log-weight is {top!r}; the factors must give some "
                "configuration a positive, finite weight"
            )
        sums = np.zeros(len(self.grid))
        for b in unmasked:
            if self.mine(b):
                _exp_shifted_(be, self.owned[b], top)
                sums[b] = be.to_float(be.sum(self.owned[b]))
        parts = group.all_gather_rows(sums, "the partition function")
        z = math.fsum(float(v) for part in parts for v in part)  # exactly rounded: any order
        for b in unmasked:
            if self.mine(b):
                _scale_(be, self.owned[b], z)

    def masked_sums(self) -> None:
        """Step 2: the masked blocks, in the addition order of the single process."""
        be, group = self.be, self.group
        scratch = None
        for j in range(self.s - 1, -1, -1):
            q = self.head[j]
            for b, y in enumerate(self.grid):
                if self._first_masked(y) != j:
                    continue
                base = b - q * self.strides[j]
                dst = self.owner(b)
                for v in range(q):
                    c = base + v * self.strides[j]
                    src = self.owner(c)
                    step = f"masked block {b} += block {c}"
                    if group.rank == dst:
                        if v == 0:
                            out = be.empty(self.rest)
                            self.owned[b] = out
                        if src == dst:
                            part = self.owned[c]
                        else:
                            if scratch is None:
                                scratch = be.empty(self.rest)
                            part = out if v == 0 else scratch
                            group.recv(part, src, step)
                        if v == 0:
                            if part is not out:
                                be.copy_(out, part)
                        else:
                            be.add_(out, part)
                    elif group.rank == src:
                        group.send(self.owned[c], dst, step)
        del scratch

    def rows(self, operation: str) -> np.ndarray:
        """Step 3: the rank's rows, ``(blocks_per_rank, width)``, padded with zeros."""
        n, k = len(self.shape), len(self.rest)
        width = n + 1 if operation == "profile" else 2**k
        out = np.zeros((self.plan.blocks_per_rank, width))
        mine = sorted(self.owned)
        show = self.progress if self.group.rank == 0 else False
        cells = float(len(mine)) * prod(q + 1 for q in self.rest)
        with progress_bar(len(mine), progress=show, cells=cells, desc="sharded enumeration") as bar:
            for b in mine:
                block = self.owned.pop(b)
                g = streamed_subset_entropies(
                    block, self.rest, self.be, self.plan.block_plan, progress=False
                ).reshape(-1)
                del block
                y = self.grid[b]
                if all(v == q for v, q in zip(y, self.head, strict=True)):
                    g[0] = 0.0  # H(∅) = 0 exactly, as in the single process
                if operation == "profile":
                    c = sum(v < q for v, q in zip(y, self.head, strict=True))
                    out[b // self.group.world_size, c : c + k + 1] = sums_by_popcount(g, k)
                else:
                    out[b // self.group.world_size] = g
                bar.update(1)
        return out

    def gathered(self, rows: np.ndarray) -> np.ndarray:
        """Step 4: every block's row, ``(B, width)`` in block order, on every rank."""
        parts = self.group.all_gather_rows(rows, "the results")
        world = self.group.world_size
        return np.stack([parts[b % world][b // world] for b in range(len(self.grid))])


def _start(
    p: Any,
    operation: str,
    group: Distributed | None,
    backend: str | None,
    shard_axes: int | None,
    chunk_cells: int | None,
    strategy: str | None,
) -> tuple[Source, ShardPlan, Backend, Distributed]:
    g = current_group(group)
    source = as_source(p)
    be = _backend(backend, g)
    arguments = {
        "operation": operation,
        "p": source.fingerprint(),
        "p (kind)": type(source).__name__,
        "backend": repr(be) if be.name == "numpy" else (be.name, be.dtype),
        "shard_axes": shard_axes,
        "chunk_cells": chunk_cells,
        "strategy": strategy,
    }
    g.check_same(arguments, "the argument check")

    def plan_once(axes: int | None) -> tuple[ShardPlan | None, MemoryPlanError | None]:
        try:
            plan = plan_shards(
                source.shape,
                g.world_size,
                be,
                shard_axes=axes,
                operation=operation,
                local_world_size=g.local_world_size,
                chunk_cells=chunk_cells,
                strategy=strategy,
            )
        except MemoryPlanError as exc:
            return None, exc
        return plan, None

    plan, refused = plan_once(shard_axes)
    for attempt in range(2):  # the ranks' plans must agree: on a split, every rank takes the
        mine = [1.0 if plan is None else 0.0, -1.0 if plan is None else plan.shard_axes]
        flags = g.all_gather_rows(np.array(mine), "the memory plan")  # most shard axes
        if refused is not None:
            raise refused
        bad = [r for r, f in enumerate(flags) if f[0]]
        if bad:
            raise MemoryPlanError(
                f"p: the sharded {operation} of shape {source.shape} does not fit on rank(s) "
                f"{bad} (their memory plans refused it; see their messages)"
            )
        axes = {int(f[1]) for f in flags}
        if len(axes) == 1 or attempt == 1:
            break
        plan, refused = plan_once(max(axes))
    assert plan is not None
    return source, plan, be, g


def _run(
    p: Any,
    operation: str,
    group: Distributed | None,
    backend: str | None,
    shard_axes: int | None,
    progress: bool | None,
    chunk_cells: int | None,
    strategy: str | None,
) -> tuple[np.ndarray, ShardPlan]:
    check_choice(operation, "operation", OPERATIONS)
    source, plan, be, g = _start(p, operation, group, backend, shard_axes, chunk_cells, strategy)
    run = _Run(source, plan, be, g, progress)
    run.slices()
    run.masked_sums()
    return run.gathered(run.rows(operation)), plan


def subset_entropies(
    p: Any,
    *,
    group: Distributed | None = None,
    backend: str | None = None,
    shard_axes: int | None = None,
    progress: bool | None = None,
    chunk_cells: int | None = None,
    strategy: str | None = None,
) -> np.ndarray:
    """All 2^N subset entropies (nats) of ``p``, sharded over the ranks of the process group.

    The same result as :func:`exactmd.enumeration.subset_entropies` (float64 of shape
    ``(2,)*N``, ``H[b] = H(X_S)`` with ``S = {i : b_i = 1}``), returned on every rank. Every
    rank must make the same call (refused otherwise, before any work).

    Parameters
    ----------
    p
        A :class:`~exactmd.distributed.sources.FactorSource` or
        :class:`~exactmd.distributed.sources.TableSource`, a model string (see
        :func:`~exactmd.distributed.sources.source_from_spec`), or a law (anything
        :func:`~exactmd.law.distribution.as_distribution` accepts).
    group
        A :class:`~exactmd.distributed.Distributed` (default: the initialised process group).
    backend
        ``"torch"`` (default, on the group's device) or ``"numpy"``.
    shard_axes
        Leading axes cut into blocks (default: see
        :func:`~exactmd.distributed.plan.plan_shards`).
    progress
        Progress bar on rank 0 (the other ranks never show one).
    chunk_cells, strategy
        For each block's memory plan (:func:`~exactmd.enumeration.plan_subset_entropies`).

    Raises
    ------
    MemoryPlanError
        When a rank's plan does not fit, on every rank, before allocating.
    ValidationError
        Arguments that differ across ranks (naming the argument), or no process group.
    DistributedError
        When a collective fails (another rank died or timed out).
    """
    rows, plan = _run(
        p, "subset entropies", group, backend, shard_axes, progress, chunk_cells, strategy
    )
    head = plan.shape[: plan.shard_axes]
    k = len(plan.shape) - plan.shard_axes
    res = np.subtract(0.0, rows).reshape((1, *(q + 1 for q in head), 2**k))
    np_be = get_backend(name="numpy")
    entropy_axes_(np_be, res, head)
    idx = (slice(None), *[slice(q - 1, q + 1) for q in head], Ellipsis)
    view = np.flip(res[idx], axis=tuple(range(1, len(head) + 1))) if head else res[idx]
    h = np.subtract(0.0, np.asarray(view, dtype=np.float64).reshape((2,) * len(plan.shape)))
    h[(0,) * len(plan.shape)] = 0.0
    return h


def mean_subset_entropies(
    p: Any,
    *,
    group: Distributed | None = None,
    backend: str | None = None,
    shard_axes: int | None = None,
    progress: bool | None = None,
    chunk_cells: int | None = None,
    strategy: str | None = None,
) -> np.ndarray:
    """h̄(k), k = 0..N, sharded (as :func:`exactmd.measures.mean_subset_entropies`; arguments as in
    :func:`subset_entropies`): only ``N + 1`` sums per block are gathered, never the 2^N
    table."""
    rows, plan = _run(p, "profile", group, backend, shard_axes, progress, chunk_cells, strategy)
    n = len(plan.shape)
    totals = np.zeros(n + 1)
    for row in rows:  # block order, the same for every number of ranks
        totals += row
    return totals / np.array([comb(n, k) for k in range(n + 1)], dtype=np.float64)


def information_profile(
    p: Any,
    *,
    group: Distributed | None = None,
    backend: str | None = None,
    shard_axes: int | None = None,
    progress: bool | None = None,
    chunk_cells: int | None = None,
    strategy: str | None = None,
) -> np.ndarray:
    """The information profile f(i) = h̄(i) − h̄(i+1), i = 0..N−1, sharded over the ranks.

    The same result as :func:`exactmd.information_profile` (float64 of length N), returned
    on every rank; arguments as in :func:`subset_entropies`. Each rank gathers ``N + 1``
    sums per block, so the profile scales to laws whose 2^N subset entropies no rank holds.

    Examples
    --------
    Inside ``torchrun --nproc-per-node 2`` (here a 1-rank group in this process):

    >>> import os
    >>> env = {"RANK": "0", "WORLD_SIZE": "1", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "0"}
    >>> os.environ.update(env)
    >>> from exactmd.distributed import Distributed
    >>> with Distributed(backend="gloo", timeout_s=30):
    ...     f = information_profile("ising:graph=grid2x3,coupling=0.4")
    >>> import exactmd
    >>> from exactmd.models import from_spec
    >>> law = from_spec("ising:graph=grid2x3,coupling=0.4")
    >>> bool(np.allclose(f, exactmd.information_profile(law), rtol=0, atol=1e-12))
    True
    >>> for key in env:
    ...     del os.environ[key]
    """
    hbar = mean_subset_entropies(
        p,
        group=group,
        backend=backend,
        shard_axes=shard_axes,
        progress=progress,
        chunk_cells=chunk_cells,
        strategy=strategy,
    )
    return np.asarray(hbar[:-1] - hbar[1:], dtype=np.float64)
