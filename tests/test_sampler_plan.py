"""The sampler's memory plan and chunk sizes, and p_alg under every chunking (vs brute force)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from helpers import random_law
from sampler_brute import brute_output

from exactmd.backends._tuning import TUNINGS, device_key
from exactmd.errors import ValidationError
from exactmd.law.distribution import Distribution, as_distribution
from exactmd.sampler._levels import exact_rows, exact_table, full_level
from exactmd.sampler._plan import (
    CHUNK_ARRAYS,
    plan_sampler,
    sampler_plan,
)
from exactmd.sampler.p_alg import output_distribution
from exactmd.schedules.kinds import RandomRevealSchedule, as_schedule

GRID = RandomRevealSchedule((1.0, 0.5, 0.3, 0.0))
CASES = [
    ((2, 3, 2, 2), [2, 2]),
    ((2, 3, 2, 2), [1, 3]),
    ((3, 2, 2, 3, 2), [2, 1, 2]),
    ((2, 3, 2, 2), [[1, 3], [0], [2]]),
    ((2, 2, 3, 2), GRID),
]


@pytest.mark.parametrize("chunks", [(1, 1), (5, 7), (40, 64)])
@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1]!r}" for c in CASES])
def test_every_chunking_gives_the_brute_force_law(monkeypatch, backend, chunks, case):
    # tiny chunks force many recursion chunks and many table chunks on every path (the
    # default CPU chunk holds these small levels whole)
    states, entries = chunks
    shape, schedule = case
    p = random_law(shape, seed=11, zeros=0.3)
    d = as_distribution(p, backend=backend)
    key = device_key(d.backend)
    small = replace(TUNINGS[key], recursion_chunk_states=states, table_chunk_entries=entries)
    monkeypatch.setitem(TUNINGS, key, small)
    plan = sampler_plan(d, as_schedule(schedule, d.n))
    assert (plan.chunk_states, plan.table_entries) == (states, entries)
    got = output_distribution(d, schedule, progress=False)
    np.testing.assert_allclose(got, brute_output(p, schedule), atol=1e-12)


@pytest.mark.parametrize("shape", [(2, 3, 2, 2), (3, 2, 2)])
def test_table_chunks_agree_with_the_rows(backend, shape):
    p = random_law(shape, seed=12, zeros=0.4)
    d = as_distribution(p, backend=backend)
    be, q = d.backend, d.q
    for a in range(len(shape)):
        for group in full_level(d.shape, a).groups:
            whole = be.to_numpy(exact_table(d, group))
            np.testing.assert_array_equal(be.to_numpy(exact_table(d, group, 1)), whole)
            rows = np.arange(group.rows)
            cond = be.to_numpy(exact_rows(d, group, rows)[0])  # (sets * size, m, q)
            m = group.comps.shape[1]
            laid = cond.reshape(-1, group.size, m, q).transpose(0, 2, 3, 1)
            np.testing.assert_allclose(whole, laid.reshape(-1, q * group.size), atol=1e-15)


def _fake_cuda_law(monkeypatch, shape):
    torch = pytest.importorskip("torch")
    from exactmd.backends._torch import TorchBackend

    be = TorchBackend()
    be.device = torch.device("cuda")  # only the plan runs: nothing is allocated
    monkeypatch.setattr(type(be), "available_memory", lambda self: 2**50)
    return Distribution(torch.empty(shape, dtype=torch.float64, device="meta"), be)


def test_chunk_sizes_are_per_device_and_counted(monkeypatch):
    sched = as_schedule([6, 6, 5, 5], 22)
    cuda = _fake_cuda_law(monkeypatch, (2,) * 22)
    assert device_key(cuda.backend) == "cuda" and cuda.backend.tuning is TUNINGS["cuda"]
    plan = sampler_plan(cuda, sched)
    assert (plan.chunk_states, plan.table_entries) == (2**23, 2**24)
    assert plan.parts["chunk temporaries"] == CHUNK_ARRAYS * 8 * 2**23
    assert plan.parts["temporaries"] == 8 * 8 * 2**24 + 2 * 8 * math.comb(22, 11) * 22 * 2
    assert plan.bytes_needed == sum(plan.parts.values())
    # the same law on the CPU: small chunks
    cpu = Distribution(cuda.table, type(cuda.backend)())
    monkeypatch.setattr(type(cpu.backend), "available_memory", lambda self: 2**50)
    plan = sampler_plan(cpu, sched)
    assert (plan.chunk_states, plan.table_entries) == (2**16, 2**19)
    # a chunk holds whole sets: the last level is one set of 2**22 value vectors
    assert plan.parts["chunk temporaries"] == CHUNK_ARRAYS * 8 * 2**22
    # a small level is one chunk, whatever the device
    small = _fake_cuda_law(monkeypatch, (2, 3, 2))
    plan = sampler_plan(small, as_schedule([3], 3))
    assert plan.parts["chunk temporaries"] == (CHUNK_ARRAYS + 1) * 8 * 12  # mixed: one more


def test_plan_agrees_with_its_short_form_and_refuses_bad_chunks():
    p = random_law((2, 3, 2, 2), seed=13, zeros=0.2)
    d = as_distribution(p)
    for schedule in ([2, 2], [[0, 2], [1, 3]], GRID):
        sched = as_schedule(schedule, d.n)
        plan = sampler_plan(d, sched)
        assert plan_sampler(d, sched) == (plan.bytes_needed, plan.work)
        assert plan.parts["gather plans"] > 0
    # the widest step of [1, 3]: one set of size 4, one int64 location for each of the
    # C(4, 3) patterns and its 4 x 3 offsets, on the host and on the device
    assert sampler_plan(d, as_schedule([1, 3], 4)).parts["gather plans"] == 2 * 8 * (4 + 12)
    # a whole level that is one set larger than the chunk is one chunk
    one_set = sampler_plan(d, as_schedule([4], 4), chunk_states=2)
    assert one_set.parts["chunk temporaries"] == (CHUNK_ARRAYS + 1) * 8 * 24
    with pytest.raises(ValidationError, match=r"chunk_states: must be a positive int; received 0"):
        sampler_plan(d, as_schedule([2, 2], 4), chunk_states=0)
    with pytest.raises(ValidationError, match=r"table_entries: .* received -1"):
        sampler_plan(d, as_schedule([2, 2], 4), table_entries=-1)


def test_n20_p_alg_is_planned_against_a_gpu_budget(monkeypatch):
    """The issue's "N = 20 handled by the memory plan" (binary, K = 4, exact denoiser, torch):
    the plan needs about 83 GiB, so it is refused before any allocation on an H100-sized
    budget (0.8 x 80 GiB), naming the bytes, and accepted on an H200-sized one (0.8 x 139)."""
    torch = pytest.importorskip("torch")
    from exactmd.backends._torch import TorchBackend
    from exactmd.enumeration.masked import masked_build_bytes
    from exactmd.errors import MemoryPlanError

    n = 20
    d = as_distribution(torch.full((2,) * n, 0.5**n, dtype=torch.float64))
    sched = as_schedule([5, 5, 5, 5], n)
    monkeypatch.setattr(TorchBackend, "usable_memory", lambda self: int(0.8 * 139 * 2**30))
    plan = sampler_plan(d, sched)
    assert 0.8 * 80 * 2**30 < plan.bytes_needed <= 0.8 * 139 * 2**30
    assert 82 * 2**30 < plan.bytes_needed < 84 * 2**30
    states = sum(math.comb(n, b) * 2**b for b in (5, 10, 15, 20))
    assert plan.parts["masked tensor"] == masked_build_bytes(d) == 3**n * 8  # in place
    assert plan.parts["level states and conditionals"] > 8 * states
    assert plan.work == sum(math.comb(n, b) * 2**b * math.comb(b, 5) for b in (5, 10, 15, 20))
    monkeypatch.setattr(TorchBackend, "usable_memory", lambda self: int(0.8 * 80 * 2**30))
    with pytest.raises(MemoryPlanError, match=rf"\({plan.bytes_needed} bytes: .*masked tensor"):
        sampler_plan(d, sched)
    assert d._derived.masked is None
