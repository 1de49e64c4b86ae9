"""Streamed enumeration: all subset entropies without holding the (q+1)^N masked tensor.

The masked-marginal tensor ``M`` (see :mod:`exactmd.enumeration.masked`) is the image of π under
``A_0 ⊗ … ⊗ A_{N-1}`` with ``A_i = [I; 1ᵀ]``, and the subset entropies are
``H = −(B_0 ⊗ … ⊗ B_{N-1}) (M log M)`` with ``B_i`` keeping the "masked" slot (``b_i = 0``) and
summing the value slots (``b_i = 1``). Split the axes into ``L`` leading and ``k = N − L``
trailing ones:

1. apply the ``A_i`` of the leading axes to π, giving ``T`` of shape
   ``(q_0+1, …, q_{L-1}+1) × (q_L … q_{N-1})`` (only ``1.5^L`` times π for binary laws);
2. for every row ``r`` of ``T`` (one value of the leading masked index), build the trailing
   masked tensor of that row in a preallocated buffer, apply ``x log x`` and the trailing
   ``B_i``, and store the ``2^k`` results;
3. apply the leading ``B_i`` to the stored rows.

Step 2 has two kernels (the plan's ``strategy``): ``"inplace"`` works in one buffer, one
strided pass per axis (one write per new cell); ``"matmul"`` applies blocks of axes as matrix
products between two buffers (:mod:`exactmd.enumeration._kernels`). Every cell of ``M`` is produced,
logged and reduced once, in cache-sized pieces, and the memory needed is ``T`` plus one chunk
(two for ``"matmul"``), chosen by a :class:`~exactmd.enumeration.plan.MemoryPlan` made before any
allocation (:mod:`exactmd.enumeration.plan`). ``L = 0`` is the "full" path (one chunk: the whole
masked tensor).

Zeros: before the logarithm, the smallest normal float of the dtype (``tiny``, 2.2e-308 in
float64) is added to the entries of π, so no logarithm sees 0. Entries above ``2^53 · tiny``
(1e-292) are unchanged, and every subset entropy moves by at most ``2^N · 745 · tiny`` nats.

Examples
--------
>>> import numpy as np
>>> from exactmd.backends import get_backend
>>> from exactmd.enumeration.plan import plan_subset_entropies
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
from math import prod
from typing import Any

import numpy as np

from exactmd._progress import progress_bar
from exactmd.backends import Backend
from exactmd.enumeration._kernels import apply_blocks, entropy_blocks, mask_blocks
from exactmd.enumeration.plan import MemoryPlan, log_piece

__all__ = [
    "streamed_subset_entropies",
    "build_masked",
    "mask_axes_",
    "entropy_axes_",
]


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
    (``b_j = 1``) and slot ``q_j`` the masked slot (``b_j = 0``); ``_extract`` reads them.
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
        From :func:`~.plan.plan_subset_entropies` (with ``cached=True`` when ``masked`` is given).
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
    chunk = prod(masked_rest)
    work = be.empty((min(chunk, log_piece(be)),))
    tiny = be.tiny
    cells = float(rows_n) * chunk
    if plan.strategy == "matmul":
        bufs = (be.empty((chunk,)), be.empty((chunk,)))
        grow = mask_blocks(rest, be) if masked is None else []
        shrink = entropy_blocks(rest, be)
        src_cells = width if masked is None else chunk
    else:
        y = be.empty((1, *masked_rest))
        fill = (slice(None), *(slice(0, q) for q in rest))
    with progress_bar(rows_n, progress=progress, cells=cells, desc="subset entropies") as bar:
        for r in range(rows_n):
            target = be.reshape(results[r : r + 1], (1, *(2,) * k))
            if plan.strategy == "matmul":
                be.add_scalar_out(rows[r], tiny, bufs[0][:src_cells])
                cur = apply_blocks(be, bufs, 0, rest, grow)
                be.xlogx_positive_(bufs[cur], work)
                cur = apply_blocks(be, bufs, cur, masked_rest, shrink)
                be.copy_(target, be.reshape(bufs[cur][: 2**k], (1, *(2,) * k)))
            else:
                if masked is None:
                    be.add_scalar_out(be.reshape(rows[r], (1, *rest)), tiny, y[fill])
                    mask_axes_(be, y, rest)
                else:
                    be.add_scalar_out(be.reshape(rows[r], (1, *masked_rest)), tiny, y)
                be.xlogx_positive_(y, work)
                entropy_axes_(be, y, rest)
                be.copy_(target, _extract(be, y, rest))
            bar.update(1)
    del work
    res = be.reshape(results, (1, *(q + 1 for q in head), 2**k))
    entropy_axes_(be, res, head)
    h = be.to_numpy(_extract(be, res, head))
    return np.subtract(0.0, np.asarray(h, dtype=np.float64).reshape((2,) * n))  # no -0.0
