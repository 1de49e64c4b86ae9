"""Memory plans: inspectable, chosen before allocating, and clear errors when nothing fits."""

from __future__ import annotations

import re
from collections.abc import Callable
from math import prod
from typing import Any

import numpy as np
import pytest
from helpers import random_law

from exactmd.backends import Backend, NumpyBackend, get_backend
from exactmd.enumeration.masked import masked_tensor, subset_entropies
from exactmd.enumeration.plan import plan_subset_entropies
from exactmd.errors import MemoryPlanError
from exactmd.law.distribution import Distribution, as_distribution
from exactmd.measures.information import information_profile


def _forbid_allocation(monkeypatch: pytest.MonkeyPatch, be: Backend) -> None:
    def refuse(self: Backend, shape: Any) -> Any:
        raise AssertionError(f"allocated {shape} after the plan should have refused")

    monkeypatch.setattr(type(be), "empty", refuse)
    monkeypatch.setattr(type(be), "zeros", refuse)


def test_plan_is_inspectable() -> None:
    be = NumpyBackend()
    plan = plan_subset_entropies((2,) * 16, be, available=2**34)
    assert plan.path == "streamed"
    assert plan.bytes_available == 2**34
    assert 0 < plan.bytes_needed <= plan.bytes_available
    assert plan.chunk_cells == 3 ** (16 - plan.lead_axes) <= be.tuning.entropy_chunk_cells
    assert plan.chunks == 3**plan.lead_axes
    text = str(plan)
    assert "GiB needed" in text and "chunk(s)" in text and "subset entropies" in text


def test_small_law_takes_the_full_path() -> None:
    plan = plan_subset_entropies((2, 3), NumpyBackend(), available=2**30)
    assert (plan.path, plan.chunks, plan.lead_axes, plan.chunk_cells) == ("full", 1, 0, 12)


def test_bytes_needed_accounts_every_buffer() -> None:
    # full path on (2, 3): copy of the joint 6 cells + chunk 12 cells + log scratch 12 cells
    # (the 4 results overwrite the copy) + numpy's copies of overlapping slices of the chunk
    # (3 slices of axis 1: 3 x 2 cells) + the float64 result and its extraction, 2 * 4 * 8
    from exactmd.enumeration.plan import overlap_scratch

    assert overlap_scratch((2, 3)) == 6
    plan = plan_subset_entropies((2, 3), NumpyBackend(), available=2**30)
    assert plan.bytes_needed == (6 + 12 + 12 + 6) * 8 + 2 * 4 * 8
    # float32 halves the array part
    plan32 = plan_subset_entropies(
        (2, 3), get_backend(name="numpy", dtype="float32"), available=2**30
    )
    assert plan32.bytes_needed == (6 + 12 + 12 + 6) * 4 + 2 * 4 * 8
    # torch adds slices without copies
    torch = pytest.importorskip("torch")
    assert torch is not None
    plan_t = plan_subset_entropies((2, 3), "torch", strategy="inplace", available=2**30)
    assert plan_t.bytes_needed == (6 + 12 + 12) * 8 + 2 * 4 * 8


def test_tight_memory_chooses_more_chunks() -> None:
    be = NumpyBackend()
    roomy = plan_subset_entropies((2,) * 14, be, chunk_cells=3**14, available=2**34)
    assert roomy.path == "full"
    tight = plan_subset_entropies(
        (2,) * 14, be, chunk_cells=3**14, available=roomy.bytes_needed - 1
    )
    assert tight.path == "streamed" and tight.bytes_needed < roomy.bytes_needed
    assert tight.bytes_needed <= tight.bytes_available


@pytest.mark.parametrize("n", [9, 40])
def test_error_before_allocation(
    monkeypatch: pytest.MonkeyPatch, backend: str, as_backend: Callable[[Any], Any], n: int
) -> None:
    if n == 40:  # a zero-stride view: 2**40 logical entries, no memory behind them
        be = get_backend(name=backend)
        table = np.broadcast_to(np.float64(0.0), (2,) * n)
        d = Distribution(
            table if backend == "numpy" else be.asarray(np.zeros(1)).expand(*(2,) * n), be
        )
    else:
        d = as_distribution(as_backend(random_law((2,) * n, seed=3)))
    monkeypatch.setattr(type(d.backend), "available_memory", lambda self: 1000)
    _forbid_allocation(monkeypatch, d.backend)
    with pytest.raises(MemoryPlanError) as info:
        subset_entropies(d)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert message.startswith("p: ") and "1000 bytes" in message and "available" in message
    needed = int(re.search(r"\((\d+) bytes\) but only", message).group(1))  # type: ignore[union-attr]
    assert needed > 1000
    with pytest.raises(MemoryPlanError, match="1000 bytes"):
        information_profile(d)
    with pytest.raises(MemoryPlanError, match="1000 bytes"):
        masked_tensor(d)


def test_error_names_the_least_need() -> None:
    shape = (2,) * 12
    with pytest.raises(MemoryPlanError) as info:
        plan_subset_entropies(shape, NumpyBackend(), available=10_000)
    needed = int(re.search(r"\((\d+) bytes\) but only", str(info.value)).group(1))  # type: ignore[union-attr]
    # the result alone (float64 2^N, twice) is a lower bound; the streamed buffers add to it
    assert needed > 2 * 2**12 * 8
    ok = plan_subset_entropies(shape, NumpyBackend(), available=needed)
    assert ok.bytes_needed == needed


def test_n18_plan_stays_far_below_the_masked_tensor() -> None:
    plan = plan_subset_entropies((2,) * 18, NumpyBackend(), available=2**34)
    masked_bytes = 3**18 * 8
    assert plan.bytes_needed < masked_bytes / 10
    plan20 = plan_subset_entropies((2,) * 20, NumpyBackend(), available=24 * 2**30)
    assert plan20.bytes_needed < 2**30  # N = 20 fits easily in 24 GiB
    assert prod([3] * plan20.lead_axes) == plan20.chunks


def test_cuda_plan_for_n24_streams_within_a_few_gib() -> None:
    """N = 24 binary on a GPU: (q+1)^N = 2.8e11 cells are never held; the plan needs T (the
    leading axes masked), two chunk buffers (the default "matmul" kernel on CUDA; one for
    "inplace") and the results, and no scratch for x log x (fused)."""
    from exactmd.backends._torch import TorchBackend

    be = TorchBackend()
    be.device = __import__("torch").device("cuda")  # plan only: nothing is allocated
    be.fused_xlogx = True
    plan = plan_subset_entropies((2,) * 24, be, available=80 * 2**30)
    assert plan.path == "streamed" and plan.chunk_cells == 3**17 <= be.tuning.entropy_chunk_cells
    lead = plan.lead_axes
    assert lead == 7 and plan.chunks == 3**lead
    t_cells = 3**lead * 2 ** (24 - lead)  # the results overwrite rows of T already read
    assert plan.strategy == "matmul"
    expected = (t_cells + 2 * 3**17 + 1) * 8 + 2 * 2**24 * 8
    assert plan.bytes_needed == expected < 5 * 2**30
    one = plan_subset_entropies((2,) * 24, be, available=80 * 2**30, strategy="inplace")
    assert (one.strategy, one.lead_axes) == ("inplace", 7)
    assert one.bytes_needed == expected - 3**17 * 8


@pytest.mark.slow
def test_naive_baseline_estimate_and_benchmark_guards() -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    try:
        from benchmarks.bench_profile import _spot_check
        from benchmarks.naive import naive_bytes, naive_entropies_numpy, random_binary_joint
    finally:
        sys.path.remove(str(root))
    assert naive_bytes((2,) * 20) == 4 * 3**20 * 8  # m, −m, log m and the product coexist
    p = random_binary_joint(6, seed=1)
    h = naive_entropies_numpy(p)
    assert _spot_check(p, h) < 1e-12
    h[(1,) * 6] += 1e-3  # a wrong entry among the spot-checked ones (the full set) is found
    assert _spot_check(p, h) > 9e-4
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():  # a clear one-line refusal, no traceback
        run = subprocess.run(
            [sys.executable, str(root / "benchmarks" / "run.py"), "--device", "cuda", "16"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 2 and "Traceback" not in run.stderr
        assert "torch.cuda.is_available() == False" in run.stderr.strip()
        assert len(run.stderr.strip().splitlines()) == 1


# -- available memory: rlimits, cgroups, safety fraction, choice of split --------------------


def test_host_memory_is_the_least_of_its_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    from exactmd.backends import _numpy as nb

    monkeypatch.setattr(nb, "_meminfo_available", lambda: 20 * 2**30)
    monkeypatch.setattr(nb, "rlimit_headroom", lambda: None)
    monkeypatch.setattr(nb, "cgroup_headroom", lambda: None)
    assert nb.host_available_memory() == 20 * 2**30
    monkeypatch.setattr(nb, "rlimit_headroom", lambda: 3 * 2**30)
    assert nb.host_available_memory() == 3 * 2**30
    monkeypatch.setattr(nb, "cgroup_headroom", lambda: 2**30)
    assert nb.host_available_memory() == 2**30
    assert NumpyBackend().available_memory() == 2**30
    assert NumpyBackend().usable_memory() == int(0.8 * 2**30)


def test_rlimit_headroom_subtracts_the_current_size(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    import resource

    from exactmd.backends._numpy import rlimit_headroom

    status = tmp_path / "status"
    status.write_text("Name:\tpython\nVmSize:\t 1048576 kB\nVmData:\t  524288 kB\n")
    limits = {resource.RLIMIT_AS: 4 * 2**30, resource.RLIMIT_DATA: resource.RLIM_INFINITY}
    monkeypatch.setattr(resource, "getrlimit", lambda code: (limits[code], limits[code]))
    assert rlimit_headroom(str(status)) == 3 * 2**30
    limits[resource.RLIMIT_DATA] = 2**30
    assert rlimit_headroom(str(status)) == 2**29
    limits[resource.RLIMIT_AS] = limits[resource.RLIMIT_DATA] = resource.RLIM_INFINITY
    assert rlimit_headroom(str(status)) is None


def test_cgroup_headroom_v2_and_v1(tmp_path: Any) -> None:
    from exactmd.backends._numpy import cgroup_headroom

    proc = tmp_path / "cgroup"
    v2 = tmp_path / "v2"
    (v2 / "job").mkdir(parents=True)
    (v2 / "job" / "memory.max").write_text(f"{8 * 2**30}\n")
    (v2 / "job" / "memory.current").write_text(f"{3 * 2**30}\n")
    (v2 / "job" / "memory.stat").write_text(f"anon 1\ninactive_file {2**30}\n")
    (v2 / "memory.max").write_text("max\n")
    proc.write_text("0::/job\n")
    assert cgroup_headroom(str(v2), str(proc)) == 6 * 2**30  # 8 - (3 - 1 reclaimable)
    v1 = tmp_path / "v1"
    (v1 / "memory").mkdir(parents=True)
    (v1 / "memory" / "memory.limit_in_bytes").write_text(f"{4 * 2**30}\n")
    (v1 / "memory" / "memory.usage_in_bytes").write_text(f"{2**30}\n")
    proc.write_text("4:memory:/\n0::/\n")
    assert cgroup_headroom(str(v1), str(proc)) == 3 * 2**30
    (v1 / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    assert cgroup_headroom(str(v1), str(proc)) is None  # "no limit" in cgroup v1
    assert cgroup_headroom(str(tmp_path / "none"), str(tmp_path / "missing")) is None


def test_plans_keep_a_safety_margin(monkeypatch: pytest.MonkeyPatch) -> None:
    from exactmd.backends.base import MEMORY_SAFETY_FRACTION

    assert MEMORY_SAFETY_FRACTION == 0.8
    be = NumpyBackend()
    exact = plan_subset_entropies((2,) * 12, be, available=2**40)
    with pytest.raises(MemoryPlanError) as nothing:
        plan_subset_entropies((2,) * 12, be, available=1)
    least = int(re.search(r"\((\d+) bytes\) but only", str(nothing.value)).group(1))  # type: ignore[union-attr]
    need = exact.bytes_needed
    # reported memory just above the need: it fits only without the margin
    monkeypatch.setattr(NumpyBackend, "available_memory", lambda self: need + 1)
    plan = plan_subset_entropies((2,) * 12, be)
    assert plan.bytes_available == int(0.8 * (need + 1))
    assert plan.bytes_needed <= plan.bytes_available and plan.bytes_needed < need
    monkeypatch.setattr(NumpyBackend, "available_memory", lambda self: least)
    with pytest.raises(MemoryPlanError) as info:
        plan_subset_entropies((2,) * 12, be)
    assert "80%" in str(info.value) and f"{least} bytes available" in str(info.value)
    d = as_distribution(random_law((2,) * 6, seed=1))
    full = 3**6 * 8  # one buffer, filled in place
    monkeypatch.setattr(NumpyBackend, "available_memory", lambda self: full + 8)
    with pytest.raises(MemoryPlanError, match="80%"):
        masked_tensor(d)


@pytest.mark.parametrize(("n", "old_gib"), [(24, 16.47), (25, 22.16)])
def test_tight_budgets_take_the_least_memory_split(n: int, old_gib: float) -> None:
    """With 22.65 GiB the cache-sized split of N = 24, 25 does not fit; the plan used to take
    the next chunk size up (16.5 and 22.2 GiB); it now takes the split needing the least."""
    be = NumpyBackend()
    budget = int(22.65 * 2**30)
    plan = plan_subset_entropies((2,) * n, be, available=budget)
    assert plan.bytes_needed < old_gib * 2**30 / 2
    # no split needs less: with one byte less nothing fits
    with pytest.raises(MemoryPlanError):
        plan_subset_entropies((2,) * n, be, available=plan.bytes_needed - 1)
    # every split, forced one at a time through chunk_cells, needs at least as much
    for lead in range(n + 1):
        forced = plan_subset_entropies((2,) * n, be, available=2**50, chunk_cells=3 ** (n - lead))
        assert forced.lead_axes == lead and forced.bytes_needed >= plan.bytes_needed
    # the cache-sized split is still taken when it fits
    small = plan_subset_entropies((2,) * 16, be, available=budget)
    assert small.chunk_cells == 3**11 <= be.tuning.entropy_chunk_cells < 3**12


def test_rlimit_as_gives_a_memory_plan_error_not_a_crash() -> None:
    """Under ``ulimit -v`` the plan sees the limit: MemoryPlanError, not numpy's MemoryError."""
    import subprocess
    import sys

    code = (
        "import resource, numpy as np, exactmd\n"
        "size = next(int(l.split()[1]) * 1024 for l in open('/proc/self/status')"
        " if l.startswith('VmSize:'))\n"
        "limit = size + 2**30\n"
        "resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n"
        "p = np.full((2,) * 24, 2.0**-24)\n"
        "try:\n"
        "    exactmd.information_profile(p)\n"
        "except exactmd.errors.MemoryPlanError as exc:\n"
        "    print('PLAN', exc)\n"
        "except MemoryError:\n"
        "    print('CRASH')\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("PLAN p: "), run.stdout + run.stderr
    assert "bytes available" in run.stdout


@pytest.mark.parametrize(
    "shape", [(2,) * 12, (3,) * 8, (4,) * 6, (2, 3, 4, 5, 6, 2, 3), (6,) * 6, (2, 5, 3, 7)]
)
@pytest.mark.slow
def test_numpy_plans_cover_what_numpy_allocates(shape: tuple[int, ...]) -> None:
    """tracemalloc's peak stays within the plan (plus 64 KiB of Python objects) for the
    masked tensor and for streamed entropies with default and small chunks: numpy's copies of
    overlapping slices are counted (they reached 1.5x the masked tensor for (4,)*6)."""
    import tracemalloc

    from exactmd.enumeration.masked import masked_tensor, plan_masked
    from exactmd.enumeration.streamed import streamed_subset_entropies

    p = random_law(shape, seed=len(shape), zeros=0.2)
    be = NumpyBackend()
    slack = 2**16

    def peak(fn: Any) -> int:
        tracemalloc.start()
        try:
            fn()
            return int(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()

    d = as_distribution(p)
    planned = plan_masked(d).bytes_needed
    assert peak(lambda: masked_tensor(d)) <= planned + slack
    for chunk in (None, 3**5, 4**3):
        plan = plan_subset_entropies(shape, be, chunk_cells=chunk, available=2**40)
        table = as_distribution(p).table
        used = peak(lambda: streamed_subset_entropies(table, shape, be, plan))  # noqa: B023
        assert used <= plan.bytes_needed + slack, (chunk, plan.lead_axes, used, plan)


def test_one_memory_check_reads_one_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """require_fits: the three budget sources, the parts, the error class, and a plan that
    refuses with the number it chose with (Budget passed through)."""
    from exactmd.backends._memory import Budget, memory_budget, require_fits
    from exactmd.errors import ModelSizeError

    be = NumpyBackend()
    monkeypatch.setattr(NumpyBackend, "available_memory", lambda self: 1000)
    assert memory_budget(be) == Budget(
        800, f"may be used: 80% of the 1000 bytes available on {be!r}"
    )
    assert memory_budget(be, 10) == Budget(10, f"are available on {be!r}")
    assert require_fits(800, be, "x") == 800
    with pytest.raises(MemoryPlanError) as info:
        require_fits(801, be, "p: a demo", {"a": 800, "b": 1}, hint="; try less")
    assert str(info.value) == (
        "p: a demo needs about 0.00 GiB (801 bytes: a 800 bytes, b 1 bytes) but only 0.00 GiB "
        f"(800 bytes) may be used: 80% of the 1000 bytes available on {be!r}; try less"
    )
    with pytest.raises(ModelSizeError, match=r"^m: x need at least .*\(5 bytes\) are available"):
        require_fits(6, be, "m: x", available=5, error=ModelSizeError, needs="need at least")
    # a budget already read is used as is (memory read again would say 800)
    assert require_fits(900, be, "x", available=Budget(900, "s")) == 900
    monkeypatch.setattr(NumpyBackend, "usable_memory", lambda self: 7)  # an override: no fraction
    assert memory_budget(be) == Budget(7, f"may be used on {be!r}")
    with pytest.raises(MemoryPlanError, match=r"\(2\^1100.0 bytes\)"):
        require_fits(2**1100, be, "x")
