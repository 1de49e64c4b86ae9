"""Streamed subset entropies vs the full path vs brute force, and the progress helper."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from helpers import random_law
from hypothesis import given, settings
from hypothesis import strategies as st

from exactmd._progress import LONG_RUN_CELLS, ProgressBar, progress_bar, show_progress
from exactmd.enumeration.masked import masked_tensor, subset_entropies
from exactmd.enumeration.plan import MemoryPlan, plan_subset_entropies
from exactmd.enumeration.streamed import build_masked, streamed_subset_entropies
from exactmd.law.distribution import as_distribution
from exactmd.measures.information import information_profile

SHAPES = [(2,), (3,), (1, 2), (2, 3, 2), (3, 1, 2, 4), (2,) * 6, (4, 3, 2, 2), (6, 7, 2), (9, 1)]
STRATEGIES = ("inplace", "matmul")


def brute_entropies(p: np.ndarray) -> np.ndarray:
    """H(X_S) for every S by summing the other axes of the joint (no masked tensor)."""
    n = p.ndim
    out = np.zeros((2,) * n)
    for b in itertools.product((0, 1), repeat=n):
        drop = tuple(i for i in range(n) if b[i] == 0)
        m = p.sum(axis=drop).reshape(-1) if drop else p.reshape(-1)
        m = m[m > 0]
        out[b] = float(-(m * np.log(m)).sum()) if any(b) else 0.0
    return out


def brute_masked(p: np.ndarray) -> np.ndarray:
    """M[y] by summing the masked axes, one cell at a time."""
    out = np.zeros(tuple(q + 1 for q in p.shape))
    for y in itertools.product(*[range(q + 1) for q in p.shape]):
        idx = tuple(slice(None) if y[i] == p.shape[i] else y[i] for i in range(p.ndim))
        out[y] = p[idx].sum()
    return out


@pytest.mark.parametrize("shape", SHAPES)
def test_every_split_matches_brute_force(
    shape: tuple[int, ...], backend: str, as_backend: Callable[[Any], Any]
) -> None:
    p = random_law(shape, seed=sum(shape), zeros=0.4)
    ref = brute_entropies(p)
    d = as_distribution(as_backend(p))
    for cached, strategy in itertools.product((False, True), STRATEGIES):
        m = masked_tensor(d) if cached else None
        for lead in range(len(shape) + 1):
            plan = MemoryPlan("streamed", 0, 0, 1, lead, 0, strategy=strategy)
            h = streamed_subset_entropies(d.table, shape, d.backend, plan, masked=m)
            assert isinstance(h, np.ndarray) and h.dtype == np.float64
            np.testing.assert_allclose(h, ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_masked_tensor_in_place_matches_brute_force(
    shape: tuple[int, ...], backend: str, as_backend: Callable[[Any], Any]
) -> None:
    p = random_law(shape, seed=len(shape), zeros=0.3)
    d = as_distribution(as_backend(p))
    got = d.backend.to_numpy(build_masked(d.table, shape, d.backend))
    np.testing.assert_allclose(got, brute_masked(p), rtol=0, atol=1e-15)
    np.testing.assert_allclose(d.backend.to_numpy(masked_tensor(d)), brute_masked(p), atol=1e-15)


@settings(deadline=None, max_examples=25)
@given(
    shape=st.lists(st.integers(1, 6), min_size=1, max_size=5).map(tuple),
    seed=st.integers(0, 10_000),
    zeros=st.sampled_from([0.0, 0.5, 0.9]),
    lead=st.integers(0, 5),
    strategy=st.sampled_from(STRATEGIES),
)
def test_streaming_property(
    shape: tuple[int, ...], seed: int, zeros: float, lead: int, strategy: str
) -> None:
    p = random_law(shape, seed=seed, zeros=zeros)
    d = as_distribution(p)
    plan = MemoryPlan("streamed", 0, 0, 1, min(lead, len(shape)), 0, strategy=strategy)
    h = streamed_subset_entropies(d.table, shape, d.backend, plan)
    np.testing.assert_allclose(h, brute_entropies(p), rtol=0, atol=1e-12)


def test_deterministic_marginals_give_exact_zero_up_to_tiny() -> None:
    p = np.zeros((2, 2, 2))
    p[1, 0, 1] = 1.0
    h = subset_entropies(as_distribution(p))
    assert np.abs(h).max() < 1e-290  # the tiny shift of the zero handling only


@pytest.mark.slow
def test_information_profile_streams_when_full_does_not_fit(
    monkeypatch: pytest.MonkeyPatch, backend: str, as_backend: Callable[[Any], Any]
) -> None:
    shape = (2,) * 9
    p = random_law(shape, seed=5, zeros=0.2)
    d = as_distribution(as_backend(p))
    full = plan_subset_entropies(shape, d.backend, chunk_cells=3**9, available=2**40)
    assert full.path == "full" and full.chunks == 1
    # leave room for a streamed plan only
    monkeypatch.setattr(type(d.backend), "available_memory", lambda self: full.bytes_needed - 1)
    f = information_profile(d)
    plan = d.subset_entropies_plan
    assert plan.path == "streamed" and plan.chunks > 1 and plan.lead_axes > 0
    assert plan.bytes_needed < full.bytes_needed
    hbar = [
        np.mean([brute_entropies(p)[b] for b in itertools.product((0, 1), repeat=9) if sum(b) == k])
        for k in range(10)
    ]
    np.testing.assert_allclose(f, np.diff(hbar) * -1, atol=1e-12)


def test_cached_masked_tensor_is_streamed_and_kept(
    backend: str, as_backend: Callable[[Any], Any]
) -> None:
    p = random_law((3, 2, 2, 3), seed=8, zeros=0.3)
    d = as_distribution(as_backend(p))
    m = masked_tensor(d)
    h = subset_entropies(d)
    assert d.subset_entropies_plan.path == "cached"
    assert d._derived.masked is m
    np.testing.assert_allclose(d.backend.to_numpy(m), brute_masked(p), atol=1e-15)
    np.testing.assert_allclose(h, brute_entropies(p), atol=1e-12)


def test_progress_bar_counts_chunks(capsys: pytest.CaptureFixture[str]) -> None:
    p = random_law((2,) * 8, seed=1)
    d = as_distribution(p)
    plan = plan_subset_entropies(d.shape, d.backend, chunk_cells=3**5)
    assert plan.chunks == 27
    h = streamed_subset_entropies(d.table, d.shape, d.backend, plan, progress=True)
    np.testing.assert_allclose(h, brute_entropies(p), atol=1e-12)
    pytest.importorskip("tqdm")
    assert "subset entropies" in capsys.readouterr().err


def test_progress_helper() -> None:
    assert show_progress(None, LONG_RUN_CELLS) and not show_progress(None, LONG_RUN_CELLS - 1)
    assert show_progress(True, 0) and not show_progress(False, 2**40)
    with progress_bar(5, progress=False) as bar:
        bar.update(2)
        bar.update(3)
        assert not bar.active
    assert bar.count == 5
    pytest.importorskip("tqdm")
    shown = ProgressBar(2, enabled=True, desc="x")
    assert shown.active
    shown.update(2)
    shown.close()
    shown.close()
    assert not shown.active


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_planned_strategy_runs_and_streams(
    strategy: str, backend: str, as_backend: Callable[[Any], Any]
) -> None:
    """A plan made for each kernel, streamed over several chunks, gives the brute force; the
    "matmul" kernel plans a second chunk buffer."""
    p = random_law((2, 3, 2, 2, 3, 2, 2), seed=4, zeros=0.3)
    d = as_distribution(as_backend(p))
    plan = plan_subset_entropies(d.shape, d.backend, chunk_cells=4**4, strategy=strategy)
    assert plan.strategy == strategy and plan.chunks > 1
    other = plan_subset_entropies(
        d.shape,
        d.backend,
        chunk_cells=4**4,
        strategy="inplace" if strategy == "matmul" else "matmul",
    )
    assert plan.lead_axes == other.lead_axes
    extra = plan.chunk_cells * d.backend.itemsize
    assert plan.bytes_needed - other.bytes_needed == (extra if strategy == "matmul" else -extra)
    h = streamed_subset_entropies(d.table, d.shape, d.backend, plan)
    np.testing.assert_allclose(h, brute_entropies(p), rtol=0, atol=1e-12)


def test_unknown_strategy_is_refused() -> None:
    from exactmd.errors import ValidationError

    with pytest.raises(ValidationError, match=r"strategy: must be one of .*received 'gemm'"):
        plan_subset_entropies((2, 2), "numpy", strategy="gemm")


@pytest.mark.parametrize("limit", [1, 2, 32, 243])
def test_matmul_kernel_with_every_block_size(
    limit: int, monkeypatch: pytest.MonkeyPatch, backend: str, as_backend: Callable[[Any], Any]
) -> None:
    """The block grouping (8 cells on the CPU, 32 on CUDA) does not change the numbers: every
    grouping, down to one axis per block, gives the brute force."""
    from dataclasses import replace

    from exactmd.backends._tuning import TUNINGS, device_key

    for shape in [(2,) * 7, (3, 1, 2, 4, 2), (6, 7, 2)]:
        p = random_law(shape, seed=limit + len(shape), zeros=0.3)
        d = as_distribution(as_backend(p))
        key = device_key(d.backend)
        monkeypatch.setitem(TUNINGS, key, replace(TUNINGS[key], matmul_block_elements=limit))
        for lead in (0, 1, 2):
            plan = MemoryPlan("streamed", 0, 0, 1, lead, 0, strategy="matmul")
            h = streamed_subset_entropies(d.table, shape, d.backend, plan)
            np.testing.assert_allclose(h, brute_entropies(p), rtol=0, atol=1e-12)


def test_cuda_blocks_are_larger() -> None:
    from types import SimpleNamespace

    from exactmd.backends import get_backend
    from exactmd.backends._tuning import TUNINGS, device_key
    from exactmd.enumeration._kernels import mask_blocks

    be = get_backend(name="numpy")
    assert be.tuning.matmul_block_elements == 8
    cuda_like = SimpleNamespace(name="torch", device=SimpleNamespace(type="cuda"))
    assert device_key(cuda_like) == "cuda" and TUNINGS["cuda"].matmul_block_elements == 32
    assert [m.shape for m in mask_blocks((2,) * 7, be, limit=32)] == [(4, 9), (32, 243)]
