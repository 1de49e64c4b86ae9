"""The ``"matmul"`` strategy of the streamed enumeration: Kronecker maps as matrix products.

The masked transform ``A_0 ⊗ … ⊗ A_{k-1}`` (``A_i = [I; 1ᵀ]``) and the entropy reduction
``B_0 ⊗ … ⊗ B_{k-1}`` (``B_i``: row 0 keeps the masked slot, row 1 sums the value slots) are
applied to one row of the streamed enumeration (see :mod:`exactmd.enumeration.streamed`) a *block*
of
axes at a time. For a block of outer axes of combined size ``d_in`` the current array is
viewed as ``(d_in, rest)`` and replaced by ``cur.T @ K.T`` of shape ``(rest, d_out)``, with
``K`` the Kronecker product of the block's matrices: one matrix product writes each new cell
once, and the block rotates to the innermost position, so after every block has been applied
the axes are back in their original order. Two ping-pong buffers of one chunk each hold the
operands (products are written with ``out=``, never allocated).

Compared with the ``"inplace"`` strategy (one strided pass per axis, in one buffer) this
makes about 5 passes over the chunk instead of about 8, with long contiguous matrix products
instead of strided slices, at the price of a second buffer. On the 2-core CPU
(``benchmarks/results/intel-r-xeon-r-processor-2c-cpu*.md``, float64, random binary law)
torch's profile took 0.77 s with ``"matmul"`` against 0.94 s in place at N = 18, and 6.0 s
against 7.8 s at N = 20; below N = 14 the in-place kernel is as fast or faster (N = 12:
0.0031 s in place, 0.0034 s matmul); timings on that shared machine vary by about ±30%
between runs. numpy's matrix products gain nothing (1.40 s against 1.38 s at N = 18 in an
ad-hoc run; the benchmark does not time numpy's matmul kernel). So ``"matmul"`` is the
default of the torch backend in float64 (CPU and CUDA) and ``"inplace"`` that of numpy. On
CUDA, where the enumeration is bound by memory traffic and kernel launches, the choice comes
from counting memory passes: no GPU has measured it yet, and ``benchmarks/run.py --device
cuda`` times both kernels side by side. float32 keeps ``"inplace"`` (no matrix product for a
TF32 setting to round); an explicit float32 ``"matmul"`` on CUDA forces IEEE products.

Examples
--------
>>> import numpy as np
>>> from exactmd.backends import get_backend
>>> be = get_backend(name="numpy")
>>> bufs = (be.empty((9,)), be.empty((9,)))
>>> be.copy_(bufs[0][:4], np.array([0.1, 0.2, 0.3, 0.4]))[:2].tolist()
[0.1, 0.2]
>>> out = apply_blocks(be, bufs, 0, (2, 2), mask_blocks((2, 2), be))
>>> np.round(bufs[out].reshape(3, 3), 2).tolist()
[[0.1, 0.2, 0.3], [0.3, 0.4, 0.7], [0.4, 0.6, 1.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from math import prod
from typing import Any

import numpy as np

from exactmd.backends import Backend

__all__ = [
    "block_sizes",
    "mask_blocks",
    "entropy_blocks",
    "apply_blocks",
]

# The block size (input elements per block) is ``be.tuning.matmul_block_elements``
# (``exactmd.backends._tuning.Tuning``): 8 on the CPU, 32 on CUDA.


def block_sizes(qs: Sequence[int], first_small: bool, limit: int) -> list[int]:
    """Consecutive blocks of axes of ``qs`` with at most ``limit`` input elements each (a
    larger single axis forms its own block).

    ``first_small`` puts the remainder block first (for the transform, which grows the array:
    its small intermediate results come first); otherwise last (for the reduction, which
    shrinks it).

    Examples
    --------
    >>> block_sizes((2,) * 7, True, 8), block_sizes((2,) * 7, False, 8)
    ([1, 3, 3], [3, 3, 1])
    >>> block_sizes((3, 40, 2), False, 8)
    [1, 1, 1]
    """
    seq = list(qs) if not first_small else list(reversed(qs))
    sizes: list[int] = []
    i = 0
    while i < len(seq):
        j, cells = i, 1
        while j < len(seq) and (j == i or cells * seq[j] <= limit):
            cells *= seq[j]
            j += 1
        sizes.append(j - i)
        i = j
    return sizes[::-1] if first_small else sizes


def _mask_matrix(q: int) -> np.ndarray:
    return np.vstack([np.eye(q), np.ones((1, q))])


def _entropy_matrix(q: int) -> np.ndarray:
    b = np.zeros((2, q + 1))
    b[0, q] = 1.0  # b = 0: the position is masked (not in S)
    b[1, :q] = 1.0  # b = 1: sum over its values
    return b


@lru_cache(maxsize=256)
def _kron(qs: tuple[int, ...], kind: str) -> np.ndarray:
    make = _mask_matrix if kind == "mask" else _entropy_matrix
    k = np.ones((1, 1))
    for q in qs:
        k = np.kron(k, make(q))
    k.setflags(write=False)
    return k


def _blocks(qs: Sequence[int], kind: str, be: Backend, limit: int | None) -> list[Any]:
    qs = tuple(int(q) for q in qs)
    limit = be.tuning.matmul_block_elements if limit is None else int(limit)
    out, lo = [], 0
    for s in block_sizes(qs, first_small=kind == "mask", limit=limit):
        # a writable C-ordered copy (the cached matrix is read-only; torch warns on those)
        out.append(be.asarray(np.array(_kron(qs[lo : lo + s], kind).T, order="C")))
        lo += s
    return out


def mask_blocks(qs: Sequence[int], be: Backend, limit: int | None = None) -> list[Any]:
    """The transposed Kronecker matrices ``Kᵀ`` of the masked transform of axes ``qs``, in
    blocks of at most ``limit`` input elements (default ``be.tuning.matmul_block_elements``).

    Examples
    --------
    >>> from exactmd.backends import get_backend
    >>> [m.shape for m in mask_blocks((2,) * 7, get_backend(name="numpy"))]
    [(2, 3), (8, 27), (8, 27)]
    """
    return _blocks(qs, "mask", be, limit)


def entropy_blocks(qs: Sequence[int], be: Backend, limit: int | None = None) -> list[Any]:
    """The transposed Kronecker matrices ``Kᵀ`` of the entropy reduction of axes ``qs``
    (inputs of size ``q_i + 1``, outputs 2: masked, then the sum of the values), blocks
    grouped as in :func:`mask_blocks`.

    Examples
    --------
    >>> from exactmd.backends import get_backend
    >>> [m.shape for m in entropy_blocks((2,) * 7, get_backend(name="numpy"))]
    [(27, 8), (27, 8), (3, 2)]
    """
    return _blocks(qs, "entropy", be, limit)


def apply_blocks(
    be: Backend, bufs: tuple[Any, Any], src: int, qs: Sequence[int], mats: list[Any]
) -> int:
    """Apply the block matrices ``mats`` to the array held at the start of ``bufs[src]``.

    Parameters
    ----------
    be
        The backend (needs :meth:`~exactmd.backends.base.Backend.matmul_out`).
    bufs
        Two flat buffers, each at least as long as the largest intermediate array.
    src
        Which buffer holds the input (row-major, axes of sizes ``mats[j].shape[0]``).
    qs
        The per-axis input sizes (used only to check ``mats``).
    mats
        From :func:`mask_blocks` or :func:`entropy_blocks` for the same axes.

    Returns
    -------
    int
        The buffer holding the result (row-major, same axis order, new axis sizes).
    """
    cells = prod(int(q) for q in qs) if len(qs) else 1
    if not mats:
        return src
    if prod(int(m.shape[0]) for m in mats) != cells:
        raise ValueError(f"mats: block inputs do not multiply to {cells} cells")
    cur = src
    for kt in mats:
        d_in, d_out = int(kt.shape[0]), int(kt.shape[1])
        rest = cells // d_in
        a = be.reshape(bufs[cur][:cells], (d_in, rest))
        cells = rest * d_out
        out = be.reshape(bufs[1 - cur][:cells], (rest, d_out))
        be.matmul_out(be.transpose_view(a), kt, out)
        cur = 1 - cur
    return cur
