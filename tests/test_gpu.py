"""Device tests: run on CUDA when present, and always on torch CPU (so CI runs them too)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import random_law

from exactmd.enumeration.conditionals import exact_conditionals
from exactmd.enumeration.masked import masked_tensor, subset_entropies
from exactmd.enumeration.plan import MemoryPlan
from exactmd.enumeration.streamed import streamed_subset_entropies
from exactmd.law.distribution import as_distribution
from exactmd.measures.information import complexity, information_profile, total_correlation

torch = pytest.importorskip("torch")

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])

pytestmark = [pytest.mark.gpu, pytest.mark.parametrize("device", DEVICES)]


def test_measures_on_device_match_numpy(device: str) -> None:
    p = random_law((2, 3, 2, 2, 3), seed=21, zeros=0.3)
    pt = torch.as_tensor(p, device=device)
    assert isinstance(information_profile(pt), np.ndarray)
    np.testing.assert_allclose(information_profile(pt), information_profile(p), atol=1e-10)
    assert abs(total_correlation(pt) - total_correlation(p)) < 1e-10
    assert abs(complexity(pt) - complexity(p)) < 1e-10


def test_tensor_stays_on_its_device(device: str) -> None:
    p = random_law((2,) * 7, seed=22, zeros=0.2)
    d = as_distribution(torch.as_tensor(p, device=device))
    assert d.backend.device.type == device  # type: ignore[attr-defined]
    m = masked_tensor(d)
    assert m.device.type == device
    np.testing.assert_allclose(d.backend.to_numpy(m), masked_tensor(as_distribution(p)), atol=1e-12)
    tokens = np.full((3, 7), 2)
    tokens[0, :3] = [0, 1, 0]
    out = exact_conditionals(d, torch.as_tensor(tokens, device=device))
    assert out.device.type == device
    np.testing.assert_allclose(
        d.backend.to_numpy(out), exact_conditionals(as_distribution(p), tokens), atol=1e-10
    )


def test_streaming_on_device_matches_full(device: str) -> None:
    shape = (2, 2, 3, 2, 2, 2)
    p = random_law(shape, seed=23, zeros=0.4)
    d = as_distribution(torch.as_tensor(p, device=device))
    ref = subset_entropies(as_distribution(p))
    for lead in range(len(shape) + 1):
        for strategy in ("inplace", "matmul"):
            plan = MemoryPlan("s", 0, 0, 1, lead, strategy=strategy)
            h = streamed_subset_entropies(d.table, shape, d.backend, plan)
            np.testing.assert_allclose(h, ref, atol=1e-12)


def test_device_memory_drives_the_plan(device: str, monkeypatch: pytest.MonkeyPatch) -> None:
    p = random_law((2,) * 10, seed=24)
    d = as_distribution(torch.as_tensor(p, device=device))
    assert d.backend.tuning.entropy_chunk_cells == (2**28 if device == "cuda" else 2**21)
    monkeypatch.setattr(type(d.backend), "available_memory", lambda self: 200_000)
    np.testing.assert_allclose(
        subset_entropies(d), subset_entropies(as_distribution(p)), atol=1e-12
    )
    plan = d.subset_entropies_plan
    assert plan.path == "streamed" and plan.bytes_needed <= 200_000
    assert plan.strategy == "matmul"  # the torch default in float64, CPU and CUDA


def test_float32_on_device(device: str) -> None:
    p = random_law((2,) * 8, seed=25, zeros=0.3)
    d = as_distribution(torch.as_tensor(p, device=device), dtype="float32")
    assert d.backend.dtype == "float32" and d.table.dtype == torch.float32
    np.testing.assert_allclose(information_profile(d), information_profile(p), atol=5e-6)


def test_sampler_law_on_device(device: str) -> None:
    from exactmd.sampler.p_alg import output_distribution

    p = random_law((2, 2, 3, 2), seed=26, zeros=0.3)
    pt = torch.as_tensor(p, device=device)
    for schedule in ([2, 2], [1, 3], [(0, 2), (1, 3)]):
        out = output_distribution(pt, schedule, native=True, progress=False)
        assert out.device.type == device
        np.testing.assert_allclose(
            out.cpu().numpy().reshape(p.shape), output_distribution(p, schedule), atol=1e-10
        )


def test_device_memory_and_kernel_choice(device: str) -> None:
    d = as_distribution(torch.as_tensor(random_law((2,) * 6, seed=27), device=device))
    be = d.backend
    assert be.fused_xlogx == (device == "cuda")  # type: ignore[attr-defined]
    before = be.available_memory()
    block = be.empty((2**20,))  # 8 MiB
    del block  # returned to torch's cache on CUDA: still counted as available
    assert be.available_memory() > 0.5 * before > 0
