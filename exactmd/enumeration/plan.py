"""The memory plan of the streamed subset entropies, made before any allocation.

The plan (:class:`MemoryPlan`) is kept apart from its execution
(:func:`exactmd.enumeration.streamed.streamed_subset_entropies`) so that it can be inspected first:
the
path, the bytes needed and available, the split into leading (streamed) and trailing (chunk)
axes, and the strategy of the chunk kernel (``"inplace"`` or ``"matmul"``, see
:mod:`exactmd.enumeration._kernels`).

Examples
--------
>>> plan = plan_subset_entropies((2,) * 16, "numpy", available=2**30)
>>> plan.path, plan.lead_axes, plan.strategy
('streamed', 5, 'inplace')
>>> plan_subset_entropies((2,) * 16, "numpy", strategy="matmul", available=2**30).strategy
'matmul'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import prod

from exactmd._validate import check_choice, check_int
from exactmd.backends import Backend
from exactmd.backends._memory import memory_budget, require_fits

__all__ = [
    "MemoryPlan",
    "STRATEGIES",
    "plan_subset_entropies",
    "default_strategy",
    "log_piece",
    "overlap_scratch",
]

#: Kernels of one chunk: ``"inplace"`` (one strided pass per axis in one buffer) and
#: ``"matmul"`` (Kronecker blocks as matrix products, two buffers;
# :mod:`exactmd.enumeration._kernels`).
STRATEGIES = ("inplace", "matmul")


@dataclass(frozen=True)
class MemoryPlan:
    """A memory plan, made before any allocation.

    Attributes
    ----------
    path : str
        ``"full"`` (one chunk), ``"streamed"`` (several chunks over leading axes) or
        ``"cached"`` (streamed over a masked tensor already in memory).
    bytes_needed : int
        Peak bytes the path allocates.
    bytes_available : int
        The budget the plan was made with: ``MEMORY_SAFETY_FRACTION`` of the bytes the device
        reported available, or the ``available`` passed to the planner.
    chunks : int
        Number of pieces the work is split into (1 for the full path).
    lead_axes : int
        Leading axes streamed over (0 for the full path).
    chunk_cells : int
        Cells of one chunk's buffer.
    operation : str
        What is planned.
    strategy : str
        The chunk kernel, one of :data:`STRATEGIES`.
    """

    path: str
    bytes_needed: int
    bytes_available: int
    chunks: int = 1
    lead_axes: int = 0
    chunk_cells: int = 0
    operation: str = "masked tensor"
    strategy: str = "inplace"

    def __str__(self) -> str:
        return (
            f"{self.operation}, {self.path}: {self.bytes_needed / 2**30:.3f} GiB needed, "
            f"{self.bytes_available / 2**30:.3f} GiB available, {self.chunks} chunk(s) over "
            f"{self.lead_axes} leading axes, {self.chunk_cells} cells per chunk, "
            f"{self.strategy} kernel"
        )


def log_piece(backend: Backend) -> int:
    """Scratch cells for ``x log x``: none needed (1) when the backend computes it in one fused
    kernel (``fused_xlogx``, torch on CUDA)."""
    return 1 if backend.fused_xlogx else backend.tuning.xlogx_piece_cells


def default_strategy(backend: Backend) -> str:
    """The chunk kernel chosen when none is asked for: ``"matmul"`` on the torch backend in
    float64 (CPU or CUDA), else ``"inplace"`` (see :mod:`exactmd.enumeration._kernels` for the
    measurements). float32 keeps ``"inplace"``, which has no matrix product that a TF32
    setting could round.

    Examples
    --------
    >>> from exactmd.backends import get_backend
    >>> default_strategy(get_backend(name="numpy")), default_strategy(get_backend(name="torch"))
    ('inplace', 'matmul')
    """
    if backend.name == "torch" and backend.dtype == "float64":
        return "matmul"
    return "inplace"


def overlap_scratch(qs: Sequence[int], width: int = 1) -> int:
    """Cells numpy may copy when the in-place kernels add slices of one buffer.

    :func:`~exactmd.enumeration.streamed.mask_axes_` and
    :func:`~exactmd.enumeration.streamed.entropy_axes_` add
    interleaved slices of one array; when numpy cannot prove that they do not overlap it
    copies the operands first (measured: up to 2.3 slices per call). The bound is 3 slices
    of the largest such call: for axis ``j >= 1`` of a buffer with axes ``q_i + 1`` and
    ``width`` trailing cells, a slice holds ``max(Π_{i<j} q_i, 2^j) · Π_{i>j} (q_i + 1) ·
    width`` cells (axis 0's slices are contiguous blocks, never copied).

    Examples
    --------
    >>> overlap_scratch((2, 2, 2))  # j = 1: 2 x 3 cells; j = 2: 4 x 1
    18
    >>> overlap_scratch((5,))
    0
    """
    qs = [int(q) for q in qs]
    best = 0
    for j in range(1, len(qs)):
        lead = max(prod(qs[:j]), 2**j)
        best = max(best, lead * prod(q + 1 for q in qs[j + 1 :]) * width)
    return 3 * best


def _bytes_for(
    shape: Sequence[int],
    lead: int,
    itemsize: int,
    cached: bool,
    piece: int,
    buffers: int,
    copies_overlap: bool,
) -> tuple[int, int]:
    """(bytes, chunk cells) of the streamed path with ``lead`` leading axes."""
    head, rest = shape[:lead], shape[lead:]
    rows = prod(q + 1 for q in head)
    chunk = prod(q + 1 for q in rest)
    source = 0 if cached else rows * prod(rest)
    results = rows * 2 ** len(rest)
    if not cached and 2 ** len(rest) <= prod(rest):
        results = 0  # written over the rows of T already read
    work = min(chunk, piece)
    out = 2 * 2 ** len(shape) * 8  # the float64 result and one extraction copy
    scratch = 0
    if copies_overlap:  # numpy's copies of overlapping operands (see overlap_scratch)
        scratch = max(
            0 if cached else overlap_scratch(head, prod(rest)),  # building T
            overlap_scratch(rest) if buffers == 1 else 0,  # the in-place chunk kernel
            overlap_scratch(head, 2 ** len(rest)),  # reducing the leading axes
        )
    return (source + results + buffers * chunk + work + scratch) * itemsize + out, chunk


def plan_subset_entropies(
    shape: Sequence[int],
    backend: Backend | str | None = None,
    *,
    cached: bool = False,
    chunk_cells: int | None = None,
    available: int | None = None,
    include_table: bool = False,
    name: str = "p",
    strategy: str | None = None,
) -> MemoryPlan:
    """Plan the (streamed) subset-entropy computation for a law of ``shape``; allocates nothing.

    The budget is ``available`` when given, else ``MEMORY_SAFETY_FRACTION`` (0.8, in
    :mod:`exactmd.backends.base`) of what the backend reports available
    (:meth:`~exactmd.backends.base.Backend.usable_memory`: on the host the least of
    ``MemAvailable``, the ``RLIMIT_AS`` headroom and the cgroup headroom). The split into
    leading and trailing axes is chosen as follows:

    1. the cache-sized split (the largest chunk not above ``chunk_cells``, default
       ``backend.tuning.entropy_chunk_cells``, see
       :attr:`~exactmd.backends.base.Backend.tuning`) when it fits the budget: fastest;
    2. otherwise the split that needs the fewest bytes (its chunks are larger than
       cache-sized, and it leaves the most headroom); every split is thus tried, down to small
       chunks, before giving up;
    3. when even that does not fit, :class:`~exactmd.errors.MemoryPlanError`, naming the bytes
       needed and the bytes available, before anything is allocated.

    Parameters
    ----------
    shape
        ``(q_0, …, q_{N-1})``.
    backend
        Where the work runs: a :class:`~exactmd.backends.Backend`, a backend name
        (``"numpy"``, ``"torch"``) or None for numpy.
    cached
        True when the masked tensor is already in memory (its rows are read directly).
    chunk_cells
        Preferred cells per chunk.
    available
        Bytes the plan may use (default: the backend's usable memory, as above).
    include_table
        Count the table π itself (``Π q_i`` cells) in ``bytes_needed``: for planning from a
        shape, before π exists. A law already in memory is part of the memory in use, hence
        already out of the available bytes.
    name
        The argument named in the error message.
    strategy
        The chunk kernel, one of :data:`STRATEGIES`; None picks :func:`default_strategy`.
        ``"matmul"`` needs a second chunk-sized buffer.

    Raises
    ------
    MemoryPlanError
        When no split fits; the message gives the smallest need and the bytes available.
    ValidationError
        When ``strategy`` is not one of :data:`STRATEGIES`.

    Examples
    --------
    >>> plan = plan_subset_entropies((2,) * 16, "numpy")
    >>> plan.path, plan.lead_axes, plan.chunks
    ('streamed', 5, 243)
    """
    if not isinstance(backend, Backend):
        from exactmd.backends import get_backend

        backend = get_backend(name=backend or "numpy")
    if strategy is None:
        strategy = default_strategy(backend)
    check_choice(strategy, "strategy", STRATEGIES, extra=" or None")
    buffers = 2 if strategy == "matmul" else 1
    shape = tuple(int(q) for q in shape)
    n = len(shape)
    target = backend.tuning.entropy_chunk_cells
    if chunk_cells is not None:
        target = check_int(chunk_cells, "chunk_cells")
    if available is not None:
        available = check_int(available, "available", minimum=0)
    budget = memory_budget(backend, available)
    have = budget.bytes
    piece = log_piece(backend)
    table = prod(shape) * backend.itemsize if include_table else 0
    options = []
    for lead in range(n + 1):
        need, chunk = _bytes_for(
            shape, lead, backend.itemsize, cached, piece, buffers, backend.copies_overlap
        )
        options.append((need + table, chunk, lead))
    small = [o for o in options if o[1] <= target]
    preferred = max(small, key=lambda o: o[1]) if small else min(options, key=lambda o: o[1])
    least = min(options, key=lambda o: (o[0], o[2]))
    # the cache-sized split when it fits, else the one needing the least (refused if over)
    need, chunk, lead = preferred if preferred[0] <= have else least
    require_fits(
        need,
        backend,
        f"{name}: the subset entropies of a law of shape {shape}, even streamed ({strategy} "
        "kernel),",
        available=budget,
        needs="need at least",
    )
    path = "cached" if cached else ("full" if lead == 0 else "streamed")
    rows = prod(q + 1 for q in shape[:lead])
    return MemoryPlan(path, need, have, rows, lead, chunk, "subset entropies", strategy)
