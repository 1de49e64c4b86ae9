"""The backend layer: detection, explicit choice, kernels, and torch == numpy on every measure."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from helpers import random_law

from exactmd.backends import NumpyBackend, get_backend, is_torch_tensor
from exactmd.enumeration.conditionals import conditional, exact_conditionals
from exactmd.enumeration.masked import (
    marginal,
    masked_tensor,
    subset_entropies,
    subset_entropy,
)
from exactmd.errors import ValidationError
from exactmd.law.distribution import as_distribution
from exactmd.measures.information import (
    complexity,
    conditional_entropy,
    dual_total_correlation,
    entropy,
    information_profile,
    kl,
    mean_subset_entropies,
    mutual_information,
    total_correlation,
)
from exactmd.schedules.factorization import factorization_error

torch = pytest.importorskip("torch")

SHAPES = [(2, 2, 2), (3, 2, 2, 3), (2, 3, 4), (2,) * 6]

MEASURES: dict[str, Callable[[Any], Any]] = {
    "entropy": entropy,
    "total_correlation": total_correlation,
    "dual_total_correlation": dual_total_correlation,
    "complexity": complexity,
    "information_profile": information_profile,
    "mean_subset_entropies": mean_subset_entropies,
    "conditional_entropy": lambda p: conditional_entropy(p, [0], [1, 2]),
    "mutual_information": lambda p: mutual_information(p, [0], [2], [1]),
    "kl_self_shifted": lambda p: kl(p, (np.asarray(p) + 0.1) / np.asarray(p + 0.1).sum()),
    "factorization_error_exchangeable": lambda p: factorization_error(p, [1, p.ndim - 1]),
    "factorization_error_deterministic": lambda p: factorization_error(
        p, [[p.ndim - 1], list(range(p.ndim - 1))]
    ),
}


def _host(x: Any) -> Any:
    assert not is_torch_tensor(x), "contract functions must not return torch tensors"
    return np.asarray(x, dtype=np.float64)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", sorted(MEASURES))
def test_torch_agrees_with_numpy_on_every_measure(shape: tuple[int, ...], name: str) -> None:
    p = random_law(shape, seed=len(shape) * 7 + shape[0], zeros=0.35)
    fn = MEASURES[name]
    if name == "kl_self_shifted":
        ref = kl(p, (p + 0.1) / (p + 0.1).sum())
        got = kl(torch.as_tensor(p), torch.as_tensor((p + 0.1) / (p + 0.1).sum()))
    else:
        ref, got = fn(p), fn(torch.as_tensor(p))
    if np.ndim(ref) == 0:
        assert isinstance(got, float)
    np.testing.assert_allclose(_host(got), _host(ref), rtol=0, atol=1e-10)


@pytest.mark.parametrize("shape", SHAPES)
def test_torch_agrees_with_numpy_on_tensors(shape: tuple[int, ...]) -> None:
    p = random_law(shape, seed=11, zeros=0.4)
    dn, dt = as_distribution(p), as_distribution(torch.as_tensor(p))
    assert dt.backend.name == "torch" and dn.backend.name == "numpy"
    np.testing.assert_allclose(subset_entropies(dt), subset_entropies(dn), atol=1e-10)
    np.testing.assert_allclose(
        dt.backend.to_numpy(masked_tensor(dt)), masked_tensor(dn), atol=1e-12
    )
    rng = np.random.default_rng(0)
    q = max(shape)
    tokens = np.stack([rng.integers(0, s, size=40) for s in shape], axis=1)
    tokens[rng.random(tokens.shape) < 0.5] = q
    np.testing.assert_allclose(
        dt.backend.to_numpy(exact_conditionals(dt, torch.as_tensor(tokens))),
        exact_conditionals(dn, tokens),
        atol=1e-10,
    )
    np.testing.assert_allclose(conditional(dt, 0, {1: 0}), conditional(dn, 0, {1: 0}), atol=1e-10)
    np.testing.assert_allclose(
        dt.backend.to_numpy(marginal(dt, [0, 2])), marginal(dn, [0, 2]), atol=1e-12
    )
    assert (
        abs(dt.backend.to_float(subset_entropy(dt, [1])) - float(subset_entropy(dn, [1]))) < 1e-10
    )


def test_sampler_law_on_torch_if_available() -> None:
    sampler = pytest.importorskip("exactmd.sampler.p_alg")
    p = random_law((2, 3, 2), seed=4, zeros=0.3)
    try:
        ref = sampler.output_distribution(p, [1, 2])
    except NotImplementedError:
        pytest.skip("output_distribution not implemented yet")
    got = sampler.output_distribution(torch.as_tensor(p), [1, 2])
    np.testing.assert_allclose(_host(got), _host(ref), atol=1e-10)


def test_detection_and_explicit_choice() -> None:
    assert get_backend(np.zeros(2)).name == "numpy"
    assert get_backend([0.5, 0.5]).name == "numpy"
    tb = get_backend(torch.zeros(2))
    assert tb.name == "torch" and str(tb.device) == "cpu"  # type: ignore[attr-defined]
    assert get_backend(np.zeros(2), name="torch").name == "torch"
    assert get_backend(torch.zeros(2), name="numpy").name == "numpy"
    assert get_backend(name="torch", dtype="float32").dtype == "float32"
    assert get_backend(name="numpy", dtype=np.float32).dtype == "float32"
    # no global state: two backends live side by side, and choosing one changes nothing else
    a, b = get_backend(name="numpy", dtype="float32"), get_backend(name="numpy")
    assert (a.dtype, b.dtype) == ("float32", "float64")
    assert get_backend(np.zeros(2)).dtype == "float64"


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"name": "jax"}, "backend: must be one of"),
        ({"name": "numpy", "device": "cuda"}, "device: the numpy backend"),
        ({"name": "torch", "device": "nonsense"}, "device: must name a torch device"),
        ({"name": "numpy", "dtype": "int8"}, "dtype: must be 'float64'"),
    ],
)
def test_bad_choices(kwargs: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        get_backend(None, **kwargs)


@pytest.mark.parametrize("name", ["numpy", "torch"])
def test_kernels(name: str) -> None:
    be = get_backend(name=name)
    y = be.asarray(np.arange(12.0).reshape(3, 4) + 1)
    be.add_out(y[0], y[1], y[2])
    be.add_(y[0], y[1])
    assert be.to_numpy(y).tolist()[0] == [6.0, 8.0, 10.0, 12.0]
    assert be.to_numpy(y).tolist()[2] == [6.0, 8.0, 10.0, 12.0]
    be.copy_(y[1], y[0])
    x = be.asarray([0.5, 1.0, 2.0, 0.25, 4.0])
    be.xlogx_positive_(x, be.empty((2,)))  # scratch smaller than x: processed in pieces
    expected = np.array([0.5, 1.0, 2.0, 0.25, 4.0])
    np.testing.assert_allclose(be.to_numpy(x), expected * np.log(expected), rtol=1e-15)
    out = be.empty((5,))
    be.add_scalar_out(be.asarray(np.zeros(5)), 0.5, out)
    assert be.to_numpy(out).tolist() == [0.5] * 5
    assert be.to_numpy(be.flip(be.asarray(np.arange(4.0).reshape(2, 2)), [0, 1])).tolist() == [
        [3.0, 2.0],
        [1.0, 0.0],
    ]
    assert be.tiny == np.finfo(np.float64).tiny
    assert be.available_memory() > 0
    be.synchronize()
    _check_device_helpers(be)


def _check_device_helpers(be: Any) -> None:
    """take_flat_sum, nonpositive, indicator and as_index/take_rows against plain numpy."""
    src = np.arange(30.0) * 3 - 7
    a = np.array([[0], [10], [20]])
    b = np.array([[1, 0, 4]])
    got = be.take_flat_sum(be.asarray(src), a, b)
    assert [float(v) for v in be.to_numpy(got).reshape(-1)] == src[a + b].reshape(-1).tolist()
    assert tuple(got.shape) == (3, 3)
    zero = be.to_numpy(be.nonpositive(be.asarray([0.5, 0.0, 2.0, 0.0])))
    assert [float(v) for v in zero] == [0.0, 1.0, 0.0, 1.0]
    if be.name != "symbolic":  # symbolic marks exact zeros only (probabilities are >= 0)
        assert float(be.to_numpy(be.nonpositive(be.asarray([-1.0])))[0]) == 1.0
    ones = be.to_numpy(be.indicator((2, 3), np.array([0, 4, 5])))
    assert [[float(v) for v in row] for row in ones] == [[1, 0, 0], [0, 1, 1]]
    index = be.as_index(np.array([[2, 0], [1, 1]]))
    rows = be.take_rows(be.asarray(np.arange(6.0).reshape(3, 2)), index[0])
    assert [[float(v) for v in r] for r in be.to_numpy(rows)] == [[4, 5], [0, 1]]


def test_symbolic_device_helpers_stay_exact() -> None:
    sympy = pytest.importorskip("sympy")
    be = get_backend(name="symbolic")
    _check_device_helpers(be)
    t = sympy.Symbol("t", positive=True)
    zero = be.nonpositive(be.asarray([t, t - t, sympy.Rational(1, 3) - sympy.Rational(1, 3)]))
    assert zero.tolist() == [0, 1, 1] and all(isinstance(v, sympy.Integer) for v in zero)
    assert all(isinstance(v, sympy.Integer) for v in be.indicator((3,), np.array([1])))


@pytest.mark.parametrize("backend_name", ["numpy", "torch"])
@pytest.mark.parametrize("shape", [(2,) * 8, (3, 2, 4, 2)])
def test_float32_error_is_as_documented(backend_name: str, shape: tuple[int, ...]) -> None:
    p = random_law(shape, seed=2, zeros=0.3)
    h64 = subset_entropies(as_distribution(p))
    d32 = as_distribution(p, backend=backend_name, dtype="float32")
    assert d32.backend.dtype == "float32"
    h32 = subset_entropies(d32)
    assert h32.dtype == np.float64  # results are float64 arrays whatever the compute dtype
    rel = np.abs(h32 - h64) / np.maximum(h64, 1e-300)
    assert rel.max() < 1e-6  # documented: about 2e-7 measured
    assert rel.max() > 0  # it really ran in float32
    f32 = information_profile(d32)
    np.testing.assert_allclose(f32, information_profile(p), rtol=0, atol=5e-6)


def test_numpy_backend_has_no_torch_dependency() -> None:
    code = "import exactmd, numpy as np, sys; exactmd.information_profile(np.full((2, 2), .25));"
    code += "assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_repr_and_itemsize() -> None:
    assert NumpyBackend().itemsize == 8 and NumpyBackend("float32").itemsize == 4
    assert "float64" in repr(NumpyBackend())
    assert "cpu" in repr(get_backend(name="torch"))


class _MetaBackend:
    """Factory of a torch backend on the "meta" device (shapes only, no data).

    torch refuses to mix a meta tensor with a CPU tensor ("Tensor on device cpu is not on the
    expected device meta"), exactly as it refuses CPU with CUDA: every code path that creates a
    tensor without ``device=`` and mixes it with the law's tensors fails here, on a machine
    without a GPU. ``to_numpy`` returns zeros of the right shape (meta tensors hold no data).
    """

    @staticmethod
    def make(dtype: str = "float64") -> Any:
        from exactmd.backends._torch import TorchBackend

        class MetaBackend(TorchBackend):
            host_copies = 0  # device-to-host copies (each one a device sync on a GPU)

            def to_numpy(self, x: Any) -> np.ndarray:
                if isinstance(x, torch.Tensor):
                    self.host_copies += 1
                    assert x.device.type == "meta", f"a result left the device: {x.device}"
                    kind = np.float64 if x.is_floating_point() else np.int64
                    return np.zeros(tuple(x.shape), dtype=kind)
                return np.asarray(x)

            def available_memory(self) -> int:
                return 2**40

        return MetaBackend(device="meta", dtype=dtype)


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_every_torch_path_keeps_to_the_law_s_device(dtype: str) -> None:
    from exactmd.enumeration.plan import MemoryPlan
    from exactmd.enumeration.streamed import streamed_subset_entropies
    from exactmd.law.distribution import Distribution
    from exactmd.models.pgmpy_models import contract_factors
    from exactmd.sampler.p_alg import output_distribution
    from exactmd.schedules.kinds import RandomRevealSchedule

    be = _MetaBackend.make(dtype)
    shape = (2, 3, 2, 2)

    def law() -> Distribution:
        return Distribution(be.asarray(random_law(shape, seed=5, zeros=0.2)), be)

    d = law()
    assert d.table.device.type == "meta"
    for lead in range(len(shape) + 1):  # every streamed split, and the full path
        streamed_subset_entropies(d.table, shape, be, MemoryPlan("s", 0, 0, 1, lead))
    fused = _MetaBackend.make(dtype)
    fused.fused_xlogx = True  # the CUDA kernel choice
    streamed_subset_entropies(fused.asarray(d.table), shape, fused, MemoryPlan("s", 0, 0, 1, 2))
    d = law()
    assert masked_tensor(d).device.type == "meta"
    subset_entropies(d)  # streamed over the cached masked tensor
    tokens = np.full((3, 4), 3)
    tokens[0, :2] = [1, 2]
    assert exact_conditionals(law(), tokens).device.type == "meta"
    assert exact_conditionals(law(), torch.as_tensor(tokens, device="meta")).device.type == "meta"
    assert marginal(law(), [0, 2]).device.type == "meta"
    subset_entropy(law(), [0, 2])
    information_profile(law())
    for schedule in ([2, 2], [1, 1, 1, 1], [4], [(0, 1), (2, 3)]):
        out = output_distribution(law(), schedule, progress=False, native=True)
        assert out.device.type == "meta"
    output_distribution(law(), RandomRevealSchedule((1.0, 0.6, 0.2, 0.0)), progress=False)
    _check_device_helpers_on_meta(be, law)
    table = contract_factors([(np.ones((2, 3)), [0, 1]), (np.ones(2), [2])], shape, be)
    assert table.device.type == "meta"


def _check_device_helpers_on_meta(be: Any, law: Callable[[], Any]) -> None:
    """The exact denoiser and the exact p_alg path stay on the device: every tensor they make
    is on the law's device and nothing is copied back to the host (no device sync)."""
    from exactmd.sampler._levels import exact_table, full_level
    from exactmd.sampler.p_alg import output_distribution

    idx = be.as_index(np.array([0, 1]))
    assert idx.device.type == "meta"
    table = be.asarray(np.ones(12))
    for made in (
        be.take_flat_sum(table, np.array([[0], [4]]), np.array([1, 2])),
        be.nonpositive(table),
        be.indicator((3, 4), np.array([1, 5])),
        be.take_rows(be.reshape(table, (3, 4)), idx),
    ):
        assert made.device.type == "meta"
    d = law()
    masked_tensor(d)
    tokens = np.full((3, 4), 3)
    tokens[0, :2] = [1, 2]
    before = be.host_copies
    assert exact_conditionals(d, tokens).device.type == "meta"
    for a in range(len(d.shape)):
        for group in full_level(d.shape, a).groups:
            assert exact_table(d, group, 1).device.type == "meta"  # one set per chunk
    for schedule in ([2, 2], [(0, 1), (2, 3)]):
        output_distribution(d, schedule, progress=False, native=True)
    assert be.host_copies == before, "the exact path copied a tensor back to the host"


def test_fused_xlogx_kernel_matches_the_two_pass_one() -> None:
    from exactmd.backends._torch import TorchBackend

    be = TorchBackend()
    assert not be.fused_xlogx  # on the CPU, log then mul is faster
    x0 = np.random.default_rng(0).random(1000) + 1e-300
    two = be.asarray(x0)
    be.xlogx_positive_(two, be.empty((7,)))
    be.fused_xlogx = True
    one = be.asarray(x0)
    be.xlogx_positive_(one, be.empty((1,)))
    np.testing.assert_allclose(be.to_numpy(one), x0 * np.log(x0), rtol=1e-15)
    np.testing.assert_allclose(be.to_numpy(one), be.to_numpy(two), rtol=1e-15)
    p = random_law((2, 3, 2, 2, 2), seed=9, zeros=0.3)
    d = as_distribution(torch.as_tensor(p))
    d.backend.fused_xlogx = True  # type: ignore[attr-defined]
    np.testing.assert_allclose(
        subset_entropies(d), subset_entropies(as_distribution(p)), atol=1e-12
    )


def test_cuda_memory_counts_the_allocator_s_free_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    from exactmd.backends._torch import TorchBackend

    be = TorchBackend()
    be.device = torch.device("cuda")  # only the accounting runs: every CUDA call is faked
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (1000, 5000))
    monkeypatch.setattr(torch.cuda, "memory_reserved", lambda device=None: 300)
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda device=None: 100)
    assert be.available_memory() == 1000 + 200


def test_device_names_are_the_ones_tensors_report(monkeypatch: pytest.MonkeyPatch) -> None:
    """ "cuda" means the current CUDA device ("cuda:0") and the CPU has no index, so a law, its
    backend and the tensors it makes share one name: the exact denoiser then reuses the law
    instead of building a second copy (and a second masked tensor) on the same device."""
    from exactmd.backends._torch import TorchBackend
    from exactmd.denoisers.exact import exact_denoiser

    assert TorchBackend("cpu:0").device == torch.device("cpu")
    assert repr(TorchBackend("cpu:0")) == repr(TorchBackend("cpu"))
    d = as_distribution(random_law((2, 3, 2), seed=3), backend="torch", device="cpu:0")
    tokens = torch.full((1, 3), 3, dtype=torch.int64)
    assert exact_denoiser(d).law_for(tokens) is d
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 1)
    assert TorchBackend("cuda").device == torch.device("cuda", 1)
    assert TorchBackend("cuda:0").device == torch.device("cuda", 0)


def test_float32_matrix_products_on_cuda_are_ieee(monkeypatch: pytest.MonkeyPatch) -> None:
    """A session that allows TF32 (10-bit mantissa) must not round the "matmul" kernel's
    float32 products on CUDA: the setting is IEEE during the product and restored after."""
    setting = torch.backends.cuda.matmul
    before = setting.fp32_precision
    setting.fp32_precision = "tf32"
    try:
        _check_ieee_products(setting, monkeypatch)
    finally:
        setting.fp32_precision = before


def _check_ieee_products(setting: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from exactmd.backends._torch import TorchBackend
    from exactmd.enumeration.plan import default_strategy

    seen: list[str] = []
    real = torch.matmul

    def spy(a: Any, b: Any, out: Any = None) -> Any:
        seen.append(setting.fp32_precision)
        return real(a, b, out=out)

    be = TorchBackend("cpu", dtype="float32")
    be.device = SimpleNamespace(type="cuda")  # the product itself runs on the CPU here
    monkeypatch.setattr(torch, "matmul", spy)
    a, b = torch.ones((2, 3), dtype=torch.float32), torch.ones((3, 2), dtype=torch.float32)
    out = torch.empty((2, 2), dtype=torch.float32)
    be.matmul_out(a, b, out)
    assert seen == ["ieee"] and setting.fp32_precision == "tf32"
    assert out.tolist() == [[3.0, 3.0], [3.0, 3.0]]
    be64 = TorchBackend("cpu")
    be64.device = SimpleNamespace(type="cuda")
    be64.matmul_out(a.double(), b.double(), out.double())
    assert seen == ["ieee", "tf32"]  # float64 products are never TF32: left alone
    assert default_strategy(be) == "inplace" and default_strategy(be64) == "matmul"


def test_float32_products_on_older_torch_turn_allow_tf32_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """torch < 2.9 has no ``fp32_precision``: the legacy ``allow_tf32`` is switched off for the
    product and restored."""
    from types import SimpleNamespace

    from exactmd.backends._torch import TorchBackend

    legacy = SimpleNamespace(allow_tf32=True)
    seen: list[bool] = []
    real = torch.matmul

    def spy(a: Any, b: Any, out: Any = None) -> Any:
        seen.append(legacy.allow_tf32)
        return real(a, b, out=out)

    monkeypatch.setattr(torch.backends.cuda, "matmul", legacy)
    monkeypatch.setattr(torch, "matmul", spy)
    be = TorchBackend("cpu", dtype="float32")
    be.device = SimpleNamespace(type="cuda")
    a = torch.ones((2, 2), dtype=torch.float32)
    be.matmul_out(a, a, torch.empty((2, 2), dtype=torch.float32))
    assert seen == [False] and legacy.allow_tf32 is True


def test_one_tuning_table_per_device() -> None:
    """The chunk sizes that used to be module constants, per device key (values unchanged)."""
    from types import SimpleNamespace

    from exactmd.backends._tuning import TUNINGS, Tuning, device_key

    assert set(TUNINGS) == {"numpy", "torch", "cuda"}
    expected = {  # entropy chunk, x log x piece, matmul block, table chunk, recursion chunk
        "numpy": (2**19, 2**16, 8, 2**19, 2**16),
        "torch": (2**21, 2**20, 8, 2**19, 2**16),
        "cuda": (2**28, 2**26, 32, 2**24, 2**23),
    }
    for key, values in expected.items():
        t = TUNINGS[key]
        got = (
            t.entropy_chunk_cells,
            t.xlogx_piece_cells,
            t.matmul_block_elements,
            t.table_chunk_entries,
            t.recursion_chunk_states,
        )
        assert got == values, key
        # the same on every device: rows of conditionals, denoiser batches, the planners
        assert (t.conditional_row_elements, t.denoiser_batch_elements) == (2**20, 2**21)
        assert (t.planner_chunk_states, t.planner_merge_entries) == (2**14, 2**20)
        assert t.selection_chunk_entries == 2**20
    assert get_backend(name="numpy").tuning is TUNINGS["numpy"]
    assert get_backend(name="symbolic").tuning is TUNINGS["numpy"]
    cuda = SimpleNamespace(name="torch", device=SimpleNamespace(type="cuda"))
    cpu = SimpleNamespace(name="torch", device=SimpleNamespace(type="cpu"))
    assert (device_key(cuda), device_key(cpu)) == ("cuda", "torch")
    with pytest.raises(AttributeError):
        TUNINGS["numpy"].table_chunk_entries = 1  # type: ignore[misc]
    assert isinstance(TUNINGS["cuda"], Tuning)
