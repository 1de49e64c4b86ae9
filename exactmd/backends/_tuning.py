"""One tuning table per device: the chunk and block sizes of every kernel, in one place.

A backend's :attr:`~exactmd.backends.base.Backend.tuning` is the :class:`Tuning` of its device
key (:func:`device_key`: ``"numpy"``, ``"torch"`` for torch on the CPU, ``"cuda"``), read
from :data:`TUNINGS`. The sizes change how work is split: results agree to rounding under any
sizes (``tests/test_sampler_plan.py`` checks every chunking against brute force), and a
device's sizes fix the order of its floating-point sums, so each device's results are
reproducible bit for bit. Tests that force small chunks replace an entry of :data:`TUNINGS`
(``monkeypatch.setitem``).

Examples
--------
>>> from exactmd.backends import get_backend
>>> be = get_backend(name="numpy")
>>> device_key(be), be.tuning.table_chunk_entries, be.tuning.entropy_chunk_cells
('numpy', 524288, 524288)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from exactmd.backends._detect import on_cuda

__all__ = ["Tuning", "TUNINGS", "device_key"]


@dataclass(frozen=True)
class Tuning:
    """Chunk and block sizes of one device (cells, entries and states are counts, not bytes).

    Attributes
    ----------
    entropy_chunk_cells : int
        Preferred cells per chunk of the streamed subset entropies
        (:func:`exactmd.enumeration.plan.plan_subset_entropies`): cache-sized on the CPU with
        numpy, larger for torch, large on CUDA.
    xlogx_piece_cells : int
        Cells of the scratch buffer of ``x log x`` in the streamed entropies (none is needed
        where the backend fuses it, ``fused_xlogx``).
    matmul_block_elements : int
        Input elements per block of the ``"matmul"`` masked transform
        (``exactmd.enumeration._kernels``): 8 (3 binary axes, a 27 x 8 matrix) on the CPU,
        where blocks of 8 took 0.77 s, 16: 0.82 s, 32: 0.97 s and 4: 0.96 s in an ad-hoc run
        (torch, N = 18, 2 cores); 32 on CUDA, where larger blocks write fewer intermediate
        cells (binary, N = 20: about 4.6 passes over the cells against 5.6 with blocks of 8;
        counted, not measured).
    table_chunk_entries : int
        Entries per chunk of the exact sampler's conditional tables
        (``exactmd.sampler._levels.exact_table``) and their temporaries: a few MiB on the CPU,
        so they stay in cache; 2**24 on CUDA (128 MiB of float64), so that a level's table is a
        handful of kernel launches instead of thousands.
    recursion_chunk_states : int
        Target states per chunk of the exact sampler's level recursion
        (``exactmd.sampler._plan``).
    conditional_row_elements : int
        Entries (rows x positions x values) per chunk of conditional rows read from a user
        denoiser by :func:`exactmd.output_distribution` and ``learning_error``.
    denoiser_batch_elements : int
        Output entries ``B · N · q`` per call of a user denoiser when it fixes no batch size.
    planner_chunk_states : int
        States per denoiser call in the adaptive planners' enumeration
        (``exactmd.sampler.adaptive``) and in the samplers' exact runs
        (``exactmd.samplers._engine``).
    planner_merge_entries : int
        Pending successor entries there before they are merged.
    selection_chunk_entries : int
        Entries (states x kept sets x candidates) per chunk of the samplers' exact top-k law
        (``exactmd.samplers._select.top_k_moves``, numpy): the states of a round are split so
        that its temporaries stay a few tens of MiB.
    """

    entropy_chunk_cells: int
    xlogx_piece_cells: int
    matmul_block_elements: int = 8
    table_chunk_entries: int = 1 << 19
    recursion_chunk_states: int = 2**16
    conditional_row_elements: int = 2**20
    denoiser_batch_elements: int = 2**21
    planner_chunk_states: int = 2**14
    planner_merge_entries: int = 2**20
    selection_chunk_entries: int = 2**20


#: The tuning of each device key (:func:`device_key`).
TUNINGS: dict[str, Tuning] = {
    "numpy": Tuning(entropy_chunk_cells=2**19, xlogx_piece_cells=2**16),
    "torch": Tuning(entropy_chunk_cells=2**21, xlogx_piece_cells=2**20),
    "cuda": Tuning(
        entropy_chunk_cells=2**28,
        xlogx_piece_cells=2**26,
        matmul_block_elements=32,
        table_chunk_entries=1 << 24,
        recursion_chunk_states=2**23,
    ),
}


def device_key(backend: Any) -> str:
    """The key of ``backend``'s device in :data:`TUNINGS`: ``"cuda"`` on a CUDA device,
    ``"torch"`` for torch on the CPU, else ``"numpy"`` (the numpy and symbolic backends).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> device_key(SimpleNamespace(name="torch", device=SimpleNamespace(type="cuda")))
    'cuda'
    """
    if on_cuda(backend):
        return "cuda"
    return "torch" if getattr(backend, "name", "") == "torch" else "numpy"
