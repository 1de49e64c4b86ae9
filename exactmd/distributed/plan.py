"""The memory plan of a sharded run, per rank, made before any allocation.

The first ``s`` axes (the *shard axes*) cut the masked enumeration into ``B = Π_{i<s} (q_i +
1)`` blocks, one per value of the masked index of those axes: ``Π q_i`` blocks are slices of
π, the others (some shard axis masked) are sums of slices. Every block has the shape of the
trailing axes and costs the same to enumerate; block ``b`` (row-major over the masked
indices) belongs to rank ``b mod R``. A rank holds its own blocks (``⌈B/R⌉`` at most), one
block-sized receive buffer for the sums it builds from other ranks' blocks, the streamed
enumeration of one block (:func:`~exactmd.enumeration.plan_subset_entropies` on the trailing
axes) and the gathered results: :class:`ShardPlan` lists each part, and :func:`plan_shards`
refuses, with the message of every memory check in exactmd, a plan whose total exceeds the
bytes one rank may use (its device's, or its share of the host's when ranks share a host).

Examples
--------
>>> plan = plan_shards((2,) * 20, world_size=8, available=2**33)
>>> plan.shard_axes, plan.blocks, plan.blocks_per_rank
(4, 81, 11)
>>> plan.parts["owned blocks"] == 11 * 2**16 * 8
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from math import ceil, prod
from typing import Any

from exactmd._validate import check_choice, check_int
from exactmd.backends import Backend, get_backend
from exactmd.backends._memory import require_fits
from exactmd.backends.base import MEMORY_SAFETY_FRACTION
from exactmd.enumeration.plan import (
    MemoryPlan,
    _bytes_for,
    default_strategy,
    log_piece,
    plan_subset_entropies,
)
from exactmd.errors import MemoryPlanError, ValidationError

__all__ = ["ShardPlan", "plan_shards", "OPERATIONS", "BALANCE", "masked_sum_transfers"]

#: What a sharded run computes: the profile (gathers ``N + 1`` sums per block) or all
#: subset entropies (gathers ``2^(N−s)`` per block and returns the ``2^N`` table).
OPERATIONS = ("profile", "subset entropies")
#: The default shard split is the smallest ``s`` whose busiest rank has at most this many
#: times the mean number of blocks.
BALANCE = 1.15


@dataclass(frozen=True)
class ShardPlan:
    """A per-rank memory plan of a sharded run (identical on every rank).

    Attributes
    ----------
    shape : tuple of int
        The law's shape.
    world_size : int
        Ranks R.
    shard_axes : int
        Leading axes s cut into blocks.
    blocks, blocks_per_rank : int
        Blocks B and the most any rank owns, ``⌈B/R⌉``.
    block_cells : int
        Cells of one block (``Π_{i>=s} q_i``).
    block_plan : MemoryPlan
        The streamed enumeration of one block (trailing axes).
    parts : dict
        Bytes per rank by part: ``"owned blocks"``, ``"receive buffer"`` (the collective
        buffer of the masked sums), ``"one block's enumeration"``, ``"gathered results"``.
    bytes_per_rank, bytes_available : int
        Their total, and what one rank may use.
    transfers, transfer_bytes : int
        Block sends between ranks while the masked blocks are summed, and their bytes (all
        ranks together).
    operation : str
        One of :data:`OPERATIONS`.
    """

    shape: tuple[int, ...]
    world_size: int
    shard_axes: int
    blocks: int
    blocks_per_rank: int
    block_cells: int
    block_plan: MemoryPlan
    parts: dict[str, int] = field(default_factory=dict)
    bytes_per_rank: int = 0
    bytes_available: int = 0
    transfers: int = 0
    transfer_bytes: int = 0
    operation: str = "profile"

    def __str__(self) -> str:
        parts = ", ".join(f"{k} {v / 2**30:.3f} GiB" for k, v in self.parts.items())
        return (
            f"{self.operation} over {self.world_size} rank(s): {self.shard_axes} shard axes, "
            f"{self.blocks} blocks of {self.block_cells} cells, at most {self.blocks_per_rank} "
            f"per rank; {self.bytes_per_rank / 2**30:.3f} GiB per rank ({parts}) of "
            f"{self.bytes_available / 2**30:.3f} GiB; {self.transfers} block transfers "
            f"({self.transfer_bytes / 2**30:.3f} GiB)"
        )


def _grid(shape: Sequence[int]) -> list[tuple[int, ...]]:
    """The masked indices of ``shape`` row-major (value ``q_i`` means masked)."""
    out: list[tuple[int, ...]] = [()]
    for q in shape:
        out = [(*y, v) for y in out for v in range(q + 1)]
    return out


def masked_sum_transfers(shape: Sequence[int], shard_axes: int, world_size: int) -> int:
    """Blocks sent between ranks while the masked blocks are summed (owner ``b mod R``).

    Examples
    --------
    >>> masked_sum_transfers((2, 2, 2), 1, 1), masked_sum_transfers((2, 2, 2), 1, 2)
    (0, 1)
    """
    head = tuple(int(q) for q in shape[:shard_axes])
    grid = _grid(head)
    flat = {y: b for b, y in enumerate(grid)}
    count = 0
    for b, y in enumerate(grid):
        masked = [i for i, v in enumerate(y) if v == head[i]]
        if not masked:
            continue
        j = masked[0]
        for v in range(head[j]):
            c = flat[tuple(v if i == j else y[i] for i in range(len(y)))]
            count += (c % world_size) != (b % world_size)
    return count


def _default_axes(shape: Sequence[int], world_size: int) -> int:
    n = len(shape)
    for s in range(1, n):
        blocks = prod(q + 1 for q in shape[:s])
        if ceil(blocks / world_size) <= BALANCE * blocks / world_size:
            return s
    return max(n - 1, 0)


def _gathered(operation: str, n: int, k: int, blocks: int, per_rank: int, world: int) -> int:
    width = n + 1 if operation == "profile" else 2**k
    gathered = (per_rank + world * per_rank) * width * 8  # the send rows and every rank's rows
    if operation != "profile":
        gathered += blocks * 2**k * 8 + 2 * 2**n * 8  # the reduced rows and the result
    return gathered


def _least_block_plan(rest: Sequence[int], be: Backend, strategy: str | None) -> MemoryPlan:
    """The split of one block that needs the fewest bytes (as the block planner ranks them)."""
    strategy = strategy or default_strategy(be)
    buffers = 2 if strategy == "matmul" else 1
    piece = log_piece(be)
    need, lead = min(
        (
            _bytes_for(rest, lead, be.itemsize, False, piece, buffers, be.copies_overlap)[0],
            lead,
        )
        for lead in range(len(rest) + 1)
    )
    rows = prod(q + 1 for q in rest[:lead])
    chunk = prod(q + 1 for q in rest[lead:])
    return MemoryPlan("streamed", need, 0, rows, lead, chunk, "subset entropies", strategy)


class _Budget:
    """The bytes one rank may use, in the form :func:`require_fits` reads."""

    def __init__(self, usable: int, where: str) -> None:
        self.usable, self.where = int(usable), where

    def usable_memory(self) -> int:
        return self.usable

    def __repr__(self) -> str:
        return self.where


def plan_shards(
    shape: Sequence[int],
    world_size: int,
    backend: Backend | str | None = None,
    *,
    shard_axes: int | None = None,
    operation: str = "profile",
    available: int | None = None,
    local_world_size: int = 1,
    chunk_cells: int | None = None,
    strategy: str | None = None,
) -> ShardPlan:
    """Plan a sharded run for one rank; allocates nothing.

    Parameters
    ----------
    shape
        ``(q_0, …, q_{N-1})``, ``N >= 1``.
    world_size
        Ranks R.
    backend
        Where each rank works (a :class:`~exactmd.backends.Backend` or a name; None: numpy).
    shard_axes
        Leading axes cut into blocks, ``0 <= s < N`` (default: the smallest ``s >= 1``
        whose busiest rank owns at most :data:`BALANCE` times the mean number of blocks).
    operation
        One of :data:`OPERATIONS`.
    available
        Bytes one rank may use (default: ``MEMORY_SAFETY_FRACTION`` of what ``backend``
        reports available, divided by ``local_world_size``).
    local_world_size
        Ranks sharing the memory ``backend`` reports (ranks on one host working on the CPU).
    chunk_cells, strategy
        Passed to the block's :func:`~exactmd.enumeration.plan_subset_entropies`.

    Raises
    ------
    MemoryPlanError
        When one rank would need more than it may use; the message lists the parts.

    Examples
    --------
    >>> plan_shards((2,) * 12, 2).shard_axes
    2
    >>> plan_shards((2,) * 24, 2, available=2**20)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    exactmd.errors.MemoryPlanError: p: a sharded profile of shape (2, ...) ... needs ...
    """
    be = backend if isinstance(backend, Backend) else get_backend(name=backend or "numpy")
    shape = tuple(int(q) for q in shape)
    n = len(shape)
    if n == 0 or any(q < 1 for q in shape):
        raise ValidationError(f"shape: must have axes of size >= 1; received {shape!r}")
    world = check_int(world_size, "world_size", minimum=1)
    local = check_int(local_world_size, "local_world_size", minimum=1)
    check_choice(operation, "operation", OPERATIONS)
    if shard_axes is None:
        s = _default_axes(shape, world)
    else:
        s = check_int(shard_axes, "shard_axes", minimum=0)
        if s >= n:
            raise ValidationError(
                f"shard_axes: must be below N = {n} (a block keeps at least one axis); "
                f"received {shard_axes!r}"
            )
    if available is None:
        usable = int(MEMORY_SAFETY_FRACTION * int(be.available_memory())) // local
        where = f"{be!r} shared by {local} rank(s)"
    else:
        usable = check_int(available, "available", minimum=0)
        where = f"{be!r} (a budget of {usable} bytes passed)"
    budget = _Budget(usable, where)
    kw = {"chunk_cells": chunk_cells, "strategy": strategy}
    if shard_axes is not None:
        return _plan_for(shape, s, world, be, operation, budget, kw)
    first: MemoryPlanError | None = None
    for axes in range(s, n):  # more shard axes: smaller blocks, when the default does not fit
        try:
            return _plan_for(shape, axes, world, be, operation, budget, kw)
        except MemoryPlanError as exc:
            first = first or exc
    assert first is not None
    raise first


def _plan_for(
    shape: tuple[int, ...],
    s: int,
    world: int,
    be: Backend,
    operation: str,
    budget: _Budget,
    kw: dict[str, Any],
) -> ShardPlan:
    n, usable = len(shape), budget.usable
    rest = shape[s:]
    blocks = prod(q + 1 for q in shape[:s])
    per_rank = ceil(blocks / world)
    cells = prod(rest)
    fixed = {
        "owned blocks": per_rank * cells * be.itemsize,
        "receive buffer": cells * be.itemsize if world > 1 and s > 0 else 0,
        "gathered results": _gathered(operation, n, len(rest), blocks, per_rank, world),
    }
    left = max(usable - sum(fixed.values()), 0)
    try:
        block_plan = plan_subset_entropies(rest, be, available=left, **kw)  # type: ignore[arg-type]
    except MemoryPlanError:  # report the least any split of a block needs, then refuse
        block_plan = _least_block_plan(rest, be, kw["strategy"])
    parts = {**fixed, "one block's enumeration": block_plan.bytes_needed}
    total = sum(parts.values())
    require_fits(
        total,
        budget,
        f"p: a sharded {operation} of shape {shape} on {world} rank(s) ({s} shard axes, "
        f"{per_rank} of {blocks} blocks per rank)",
        parts,
    )
    transfers = masked_sum_transfers(shape, s, world)
    return ShardPlan(
        shape=shape,
        world_size=world,
        shard_axes=s,
        blocks=blocks,
        blocks_per_rank=per_rank,
        block_cells=cells,
        block_plan=block_plan,
        parts=parts,
        bytes_per_rank=total,
        bytes_available=usable,
        transfers=transfers,
        transfer_bytes=transfers * cells * be.itemsize,
        operation=operation,
    )
