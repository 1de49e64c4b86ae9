"""Streamed enumeration: all subset entropies without holding the (q+1)^N masked tensor.

The masked-marginal tensor ``M`` (see :mod:`exactmd.masked`) is the image of π under
``A_0 ⊗ … ⊗ A_{N-1}`` with ``A_i = [I; 1ᵀ]``, and the subset entropies are
``H = −(B_0 ⊗ … ⊗ B_{N-1}) (M log M)`` with ``B_i`` keeping the "masked" slot (``b_i = 0``) and
summing the value slots (``b_i = 1``). Split the axes into ``L`` leading and ``k = N − L``
trailing ones:

1. apply the ``A_i`` of the leading axes to π, giving ``T`` of shape
   ``(q_0+1, …, q_{L-1}+1) × (q_L … q_{N-1})`` (only ``1.5^L`` times π for binary laws);
2. for every row ``r`` of ``T`` (one value of the leading masked index), build the trailing
   masked tensor of that row in a preallocated buffer (in place, one write per new cell),
   apply ``x log x`` and the trailing ``B_i`` in place, and store the ``2^k`` results;
3. apply the leading ``B_i`` to the stored rows.

Every cell of ``M`` is produced, logged and reduced once, in cache-sized pieces, and the memory
needed is ``T`` plus one chunk, chosen by a :class:`MemoryPlan` made before any allocation.
``L = 0`` is the "full" path (one chunk: the whole masked tensor).

Zeros: before the logarithm, the smallest normal float of the dtype (``tiny``, 2.2e-308 in
float64) is added to the entries of π, so no logarithm sees 0. Entries above ``2^53 · tiny``
(1e-292) are unchanged, and every subset entropy moves by at most ``2^N · 745 · tiny`` nats.

Examples
--------
>>> import numpy as np
>>> from exactmd.backends import get_backend
>>> be = get_backend(name="numpy")
>>> p = np.array([[0.5, 0.0], [0.0, 0.5]])
>>> plan = plan_subset_entropies(p.shape, be)
>>> plan.path, plan.lead_axes
('full', 0)
>>> H = streamed_subset_entropies(p, p.shape, be, plan)
>>> np.round(H, 6).tolist()
[[0.0, 0.693147], [0.693147, 0.693147]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import prod
from typing import Any

import numpy as np

from exactmd.backends import Backend
from exactmd.backends.base import MEMORY_SAFETY_FRACTION
from exactmd.errors import MemoryPlanError
from exactmd.progress import progress_bar

__all__ = [
    "MemoryPlan",
    "plan_subset_entropies",
    "streamed_subset_entropies",
    "build_masked",
    "mask_axes_",
    "entropy_axes_",
    "chunk_target",
]

#: Preferred cells per chunk: cache-sized on the CPU (numpy), larger for torch, large on CUDA.
_CHUNK_TARGET = {"numpy": 2**19, "torch": 2**21, "cuda": 2**28}
#: Cells of the scratch buffer of ``x log x`` (one cell where the backend fuses it, see
#: :func:`_log_piece`).
_LOG_PIECE = {"numpy": 2**16, "torch": 2**20, "cuda": 2**26}


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
    """

    path: str
    bytes_needed: int
    bytes_available: int
    chunks: int = 1
    lead_axes: int = 0
    chunk_cells: int = 0
    operation: str = "masked tensor"

    def __str__(self) -> str:
        return (
            f"{self.operation}, {self.path}: {self.bytes_needed / 2**30:.3f} GiB needed, "
            f"{self.bytes_available / 2**30:.3f} GiB available, {self.chunks} chunk(s) over "
            f"{self.lead_axes} leading axes, {self.chunk_cells} cells per chunk"
        )


def _key(backend: Backend) -> str:
    device = getattr(backend, "device", None)
    if device is not None and getattr(device, "type", "cpu") == "cuda":
        return "cuda"
    return backend.name if backend.name in _CHUNK_TARGET else "numpy"


def _log_piece(backend: Backend) -> int:
    """Scratch cells for ``x log x``: none needed (1) when the backend computes it in one fused
    kernel (``fused_xlogx``, torch on CUDA)."""
    return 1 if backend.fused_xlogx else _LOG_PIECE[_key(backend)]


def chunk_target(backend: Backend) -> int:
    """Preferred cells per chunk for ``backend``.

    Examples
    --------
    >>> from exactmd.backends import get_backend
    >>> chunk_target(get_backend(name="numpy"))
    524288
    """
    return _CHUNK_TARGET[_key(backend)]


def _bytes_for(
    shape: Sequence[int], lead: int, itemsize: int, cached: bool, piece: int
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
    return (source + results + chunk + work) * itemsize + out, chunk


def plan_subset_entropies(
    shape: Sequence[int],
    backend: Backend | str | None = None,
    *,
    cached: bool = False,
    chunk_cells: int | None = None,
    available: int | None = None,
    include_table: bool = False,
    name: str = "p",
) -> MemoryPlan:
    """Plan the (streamed) subset-entropy computation for a law of ``shape``; allocates nothing.

    The budget is ``available`` when given, else ``MEMORY_SAFETY_FRACTION`` (0.8, in
    :mod:`exactmd.backends.base`) of what the backend reports available
    (:meth:`~exactmd.backends.base.Backend.usable_memory`: on the host the least of
    ``MemAvailable``, the ``RLIMIT_AS`` headroom and the cgroup headroom). The split into
    leading and trailing axes is chosen as follows:

    1. the cache-sized split (the largest chunk not above ``chunk_cells``, default
       :func:`chunk_target`) when it fits the budget: fastest;
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

    Raises
    ------
    MemoryPlanError
        When no split fits; the message gives the smallest need and the bytes available.

    Examples
    --------
    >>> plan = plan_subset_entropies((2,) * 16, "numpy")
    >>> plan.path, plan.lead_axes, plan.chunks
    ('streamed', 5, 243)
    """
    if not isinstance(backend, Backend):
        from exactmd.backends import get_backend

        backend = get_backend(name=backend or "numpy")
    shape = tuple(int(q) for q in shape)
    n = len(shape)
    target = chunk_target(backend) if chunk_cells is None else int(chunk_cells)
    if available is None:
        reported = int(backend.available_memory())
        have = int(MEMORY_SAFETY_FRACTION * reported)
        budget = (
            f"{have / 2**30:.2f} GiB ({have} bytes) may be used: "
            f"{MEMORY_SAFETY_FRACTION:.0%} of the {reported} bytes available on {backend!r}"
        )
    else:
        have = int(available)
        budget = f"{have / 2**30:.2f} GiB ({have} bytes) are available on {backend!r}"
    piece = _log_piece(backend)
    table = prod(shape) * backend.itemsize if include_table else 0
    options = []
    for lead in range(n + 1):
        need, chunk = _bytes_for(shape, lead, backend.itemsize, cached, piece)
        options.append((need + table, chunk, lead))
    small = [o for o in options if o[1] <= target]
    preferred = max(small, key=lambda o: o[1]) if small else min(options, key=lambda o: o[1])
    least = min(options, key=lambda o: (o[0], o[2]))
    for need, chunk, lead in (preferred, least):
        if need <= have:
            path = "cached" if cached else ("full" if lead == 0 else "streamed")
            rows = prod(q + 1 for q in shape[:lead])
            return MemoryPlan(path, need, have, rows, lead, chunk, "subset entropies")
    raise MemoryPlanError(
        f"{name}: the subset entropies of a law of shape {shape} need at least "
        f"{least[0] / 2**30:.2f} GiB ({least[0]} bytes) even when streamed, but only {budget}"
    )


def _index(lead: Sequence[Any], v: Any) -> tuple[Any, ...]:
    return (slice(None), *lead, v, Ellipsis)


def mask_axes_(be: Backend, y: Any, qs: Sequence[int]) -> Any:
    """Complete the masked transform of axes ``1..len(qs)`` of ``y`` in place.

    ``y`` has shape ``(B, q_0+1, …, q_{m-1}+1, …)`` with ``y[:, :q_0, …, :q_{m-1}]`` filled;
    slot ``q_j`` of axis ``j + 1`` receives the sum of slots ``0..q_j-1``. Axes are done last
    to first, so each new cell is written once and inner runs stay contiguous.
    """
    for j in range(len(qs) - 1, -1, -1):
        q = qs[j]
        lead = [slice(0, qs[i]) for i in range(j)]
        out = y[_index(lead, q)]
        if q == 1:
            be.copy_(out, y[_index(lead, 0)])
        else:
            be.add_out(y[_index(lead, 0)], y[_index(lead, 1)], out)
        for v in range(2, q):
            be.add_(out, y[_index(lead, v)])
    return y


def entropy_axes_(be: Backend, y: Any, qs: Sequence[int]) -> Any:
    """Apply the entropy reduction ``B_j`` to axes ``1..len(qs)`` of ``y`` in place.

    Afterwards slot ``q_j - 1`` of axis ``j + 1`` holds the sum over the value slots
    (``b_j = 1``) and slot ``q_j`` the masked slot (``b_j = 0``); :func:`_extract` reads them.
    """
    for j in range(len(qs)):
        q = qs[j]
        lead = [slice(qs[i] - 1, qs[i] + 1) for i in range(j)]
        out = y[_index(lead, q - 1)]
        for v in range(q - 1):
            be.add_(out, y[_index(lead, v)])
    return y


def _extract(be: Backend, y: Any, qs: Sequence[int]) -> Any:
    """The ``(B, 2, …, 2, …)`` view of the reduced slots, ordered ``b = 0`` (masked), ``b = 1``."""
    idx = (slice(None), *[slice(q - 1, q + 1) for q in qs], Ellipsis)
    view = y[idx]
    return be.flip(view, list(range(1, len(qs) + 1)))


def build_masked(table: Any, shape: Sequence[int], be: Backend) -> Any:
    """The masked-marginal tensor of ``table``, built in place in one buffer.

    Examples
    --------
    >>> from exactmd.backends import get_backend
    >>> build_masked(np.array([0.25, 0.75]), (2,), get_backend(name="numpy")).tolist()
    [0.25, 0.75, 1.0]
    """
    shape = tuple(shape)
    y = be.empty((1, *(q + 1 for q in shape)))
    idx = (slice(None), *(slice(0, q) for q in shape))
    be.copy_(y[idx], be.reshape(table, (1, *shape)))
    mask_axes_(be, y, shape)
    return be.reshape(y, tuple(q + 1 for q in shape))


def streamed_subset_entropies(
    table: Any,
    shape: Sequence[int],
    be: Backend,
    plan: MemoryPlan,
    *,
    masked: Any = None,
    progress: bool | None = None,
) -> np.ndarray:
    """All subset entropies (nats), float64 of shape ``(2,)*N``, following ``plan``.

    Parameters
    ----------
    table
        The joint, a native array of ``be`` with shape ``shape``.
    shape
        ``(q_0, …, q_{N-1})``.
    be
        A backend with in-place kernels (``be.inplace``).
    plan
        From :func:`plan_subset_entropies` (with ``cached=True`` when ``masked`` is given).
    masked
        The masked tensor when already in memory; its rows are read instead of rebuilt.
    progress
        Progress bar over the chunks: True/False, or None for long runs only.
    """
    shape = tuple(int(q) for q in shape)
    n, lead = len(shape), plan.lead_axes
    head, rest = shape[:lead], shape[lead:]
    k = len(rest)
    rows_n = prod(q + 1 for q in head)
    width = prod(rest)
    masked_rest = tuple(q + 1 for q in rest)
    if masked is None:
        t = be.empty((1, *(q + 1 for q in head), width))
        idx = (slice(None), *(slice(0, q) for q in head))
        be.copy_(t[idx], be.reshape(table, (1, *head, width)))
        mask_axes_(be, t, head)
        rows = be.reshape(t, (rows_n, width))
        if 2**k <= width:  # results overwrite rows already read
            results = be.reshape(be.reshape(t, (-1,))[: rows_n * 2**k], (rows_n, 2**k))
        else:
            results = be.empty((rows_n, 2**k))
    else:
        rows = be.reshape(masked, (rows_n, prod(masked_rest)))
        results = be.empty((rows_n, 2**k))
    y = be.empty((1, *masked_rest))
    work = be.empty((min(prod(masked_rest), _log_piece(be)),))
    fill = (slice(None), *(slice(0, q) for q in rest))
    tiny = be.tiny
    cells = float(rows_n) * prod(masked_rest)
    with progress_bar(rows_n, progress=progress, cells=cells, desc="subset entropies") as bar:
        for r in range(rows_n):
            if masked is None:
                be.add_scalar_out(be.reshape(rows[r], (1, *rest)), tiny, y[fill])
                mask_axes_(be, y, rest)
            else:
                be.add_scalar_out(be.reshape(rows[r], (1, *masked_rest)), tiny, y)
            be.xlogx_positive_(y, work)
            entropy_axes_(be, y, rest)
            be.copy_(be.reshape(results[r : r + 1], (1, *(2,) * k)), _extract(be, y, rest))
            bar.update(1)
    del y, work
    res = be.reshape(results, (1, *(q + 1 for q in head), 2**k))
    entropy_axes_(be, res, head)
    h = be.to_numpy(_extract(be, res, head))
    return np.subtract(0.0, np.asarray(h, dtype=np.float64).reshape((2,) * n))  # no -0.0
