"""p_alg and E_learn against an independent brute force over every reveal sequence."""

from __future__ import annotations

import itertools
import math
from typing import ClassVar

import numpy as np
import pytest
from helpers import random_law
from hypothesis import given, settings
from hypothesis import strategies as st
from sampler_brute import brute_learning_error, brute_output, exact_brute_denoiser

from exactmd.backends._numpy import NumpyBackend
from exactmd.denoisers.exact import as_denoiser, exact_denoiser, perturbed_denoiser
from exactmd.enumeration.masked import masked_build_bytes
from exactmd.errors import DenoiserError, MemoryPlanError, ScheduleError
from exactmd.sampler.learning import learning_error
from exactmd.sampler.p_alg import output_distribution
from exactmd.schedules.kinds import RandomRevealSchedule

GRID = RandomRevealSchedule((1.0, 0.6, 0.25, 0.0))

CASES = [
    ((2, 2, 2), [2, 1]),
    ((2, 2, 2), [[2], [0, 1]]),
    ((2, 2, 2), GRID),
    ((2, 3, 2), [1, 2]),
    ((2, 3, 2), [[1], [2], [0]]),
    ((2, 3, 2), GRID),
    ((3, 2, 2, 2), [2, 2]),
    ((3, 2, 2, 2), [1, 2, 1]),
    ((3, 2, 2, 2), [[3, 0], [2], [1]]),
    ((2, 2, 2, 2), RandomRevealSchedule.from_noise(lambda t: t * t, 2)),
]


def _ids(case: tuple[tuple[int, ...], object]) -> str:
    return f"{case[0]}-{case[1]!r}"


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
@pytest.mark.parametrize("kind", ["exact", "perturbed"])
def test_output_matches_brute_force(case, kind, backend, as_backend):
    shape, schedule = case
    p = random_law(shape, seed=len(shape) + shape[1], zeros=0.3)
    den = None if kind == "exact" else perturbed_denoiser(p, temperature=1.7, noise=0.2, seed=3)
    got = output_distribution(as_backend(p), schedule, den)
    want = brute_output(p, schedule, den)
    assert isinstance(got, np.ndarray) and got.shape == shape
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert abs(got.sum() - 1.0) < 1e-12


@pytest.mark.parametrize("case", CASES[:7], ids=[_ids(c) for c in CASES[:7]])
def test_learning_error_matches_brute_force(case, backend, as_backend):
    shape, schedule = case
    p = random_law(shape, seed=7, zeros=0.3)
    den = perturbed_denoiser(p, temperature=0.6, noise=0.3, seed=1)
    got = learning_error(as_backend(p), schedule, den)
    assert got > 0
    assert got == pytest.approx(brute_learning_error(p, schedule, den), rel=0, abs=1e-12)


def test_fast_exact_path_equals_generic_callable_path():
    p = random_law((2, 3, 2, 2), seed=11, zeros=0.4)
    for schedule in ([2, 2], [[1, 3], [0, 2]], GRID, [1, 1, 1, 1]):
        fast = output_distribution(p, schedule)
        generic = output_distribution(p, schedule, exact_denoiser(p))
        brute_den = output_distribution(p, schedule, exact_brute_denoiser(p))
        np.testing.assert_allclose(fast, generic, rtol=0, atol=1e-14)
        np.testing.assert_allclose(fast, brute_den, rtol=0, atol=1e-12)
        assert learning_error(p, schedule, exact_denoiser(p)) < 1e-12


def test_numpy_and_torch_callables_on_both_backends():
    torch = pytest.importorskip("torch")
    p = random_law((2, 3, 2), seed=5, zeros=0.3)
    den = perturbed_denoiser(p, temperature=2.0, noise=0.1, seed=4)
    want = brute_output(p, [1, 2], den)

    def numpy_fn(tokens):
        assert isinstance(tokens, np.ndarray)
        return den(tokens)

    def torch_fn(tokens):
        assert isinstance(tokens, torch.Tensor)
        return den(tokens)

    pt = torch.as_tensor(p)
    combos = [
        (p, numpy_fn),  # numpy law: plain callables get numpy tokens
        (pt, torch_fn),  # torch law: plain callables get torch tokens
        (p, as_denoiser(torch_fn, tokens="torch")),
        (pt, as_denoiser(numpy_fn, tokens="numpy", batch_size=2)),
    ]
    for law, fn in combos:
        got = output_distribution(law, [1, 2], fn)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    native = output_distribution(pt, [1, 2], native=True)
    assert isinstance(native, torch.Tensor) and native.dtype == torch.float64


def test_backends_agree_on_a_larger_mixed_model():
    pytest.importorskip("torch")
    p = random_law((2, 3, 2, 2, 3, 2), seed=2, zeros=0.3)
    den = perturbed_denoiser(p, temperature=1.3, noise=0.05, seed=9)
    for schedule in ([2, 3, 1], [[5, 0], [1, 2, 3], [4]], GRID):
        for d in (None, den):
            a = output_distribution(p, schedule, d)
            b = output_distribution(p, schedule, d, backend="torch")
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)
            assert abs(a.sum() - 1) < 1e-12
        assert learning_error(p, schedule, den) == pytest.approx(
            learning_error(p, schedule, den, backend="torch"), abs=1e-10
        )


def test_zero_probability_contexts_follow_the_uniform_policy():
    # x0 = x1 = x2 copies: revealing {0, 1} at once reaches the zero-probability x0 != x1,
    # where the exact denoiser is uniform for x2.
    p = np.zeros((2, 2, 2))
    p[0, 0, 0] = p[1, 1, 1] = 0.5
    got = output_distribution(p, [[0, 1], [2]])
    np.testing.assert_allclose(got[0, 1], [1 / 8, 1 / 8], atol=1e-15)
    np.testing.assert_allclose(got[0, 0], [1 / 4, 0.0], atol=1e-15)
    assert got.sum() == pytest.approx(1.0, abs=1e-15)
    np.testing.assert_allclose(got, brute_output(p, [[0, 1], [2]]), atol=1e-15)


def test_learning_error_is_infinite_when_the_denoiser_misses_mass():
    p = random_law((2, 2, 2), seed=3, zeros=0.0)

    def sure_zero(tokens):
        out = np.zeros((len(tokens), 3, 2))
        out[:, :, 0] = 1.0
        return out

    assert learning_error(p, [1, 2], sure_zero) == math.inf
    assert learning_error(p, GRID, sure_zero) == math.inf
    assert learning_error(p, [1, 2], None) == 0.0
    palg = output_distribution(p, [1, 2], sure_zero)
    assert palg[0, 0, 0] == pytest.approx(1.0, abs=1e-15)


def test_denoiser_is_called_only_on_reachable_contexts_and_in_batches():
    p = random_law((2, 2, 2, 2), seed=1, zeros=0.0)
    seen: list[int] = []
    den = perturbed_denoiser(p, noise=0.1)

    def counting(tokens):
        seen.append(len(tokens))
        return den(tokens)

    got = output_distribution(p, [[0, 1], [2, 3]], as_denoiser(counting, batch_size=3))
    assert max(seen) <= 3
    assert sum(seen) == 1 + 4  # the empty context, then the 4 values of (x0, x1)
    np.testing.assert_allclose(got, brute_output(p, [[0, 1], [2, 3]], den), atol=1e-12)


def test_random_reveal_reads_each_source_level_once_per_step(monkeypatch):
    """With a user denoiser, the reachable states of a source level are read back to the host
    once per step, not once per (source, target) pair of levels (N (N + 1) / 2 per step, a
    device round trip each on CUDA); the law is unchanged."""
    p = random_law((2, 3, 2, 2, 2), seed=6, zeros=0.2)
    den = perturbed_denoiser(p, temperature=1.2, noise=0.1, seed=5)
    sched = RandomRevealSchedule((1.0, 0.7, 0.4, 0.1, 0.0))
    calls = []
    real = NumpyBackend.to_numpy
    monkeypatch.setattr(NumpyBackend, "to_numpy", lambda self, x: calls.append(1) or real(self, x))
    got = output_distribution(p, sched, den)
    steps, n = len(sched.reveal_probabilities), p.ndim
    groups = sum(  # level groups: sets of one size with one signature (q_i in position order)
        len({tuple(p.shape[i] for i in c) for c in itertools.combinations(range(n), a)})
        for a in range(n + 1)
    )
    assert len(calls) <= steps * groups + 5  # + a few for the result and checks
    assert len(calls) < steps * n * (n + 1) // 2
    np.testing.assert_allclose(got, brute_output(p, sched, den), atol=1e-12)


def test_bad_denoiser_is_refused():
    p = random_law((2, 2), seed=0)
    with pytest.raises(DenoiserError, match="shape"):
        output_distribution(p, [1, 1], lambda t: np.full((len(t), 2, 3), 0.5))
    with pytest.raises(DenoiserError, match="sum to 1"):
        output_distribution(p, [2], lambda t: np.full((len(t), 2, 2), 0.6))
    with pytest.raises(DenoiserError, match="callable"):
        output_distribution(p, [2], "not a function")


def test_bad_schedule_and_memory_plan(monkeypatch):
    p = random_law((2, 2, 2), seed=0)
    with pytest.raises(ScheduleError, match="sum to N=3"):
        output_distribution(p, [2, 2])
    monkeypatch.setattr(NumpyBackend, "available_memory", lambda self: 100)
    with pytest.raises(MemoryPlanError, match=r"bytes\) but only .* \(80 bytes\) may be used"):
        output_distribution(p, [1, 2])


def test_progress_bar_can_be_forced(capsys):
    pytest.importorskip("tqdm")
    p = random_law((2, 2, 2), seed=0)
    output_distribution(p, [1, 2], progress=True)
    assert "p_alg" in capsys.readouterr().err
    output_distribution(p, [1, 2], progress=False)
    assert capsys.readouterr().err == ""


def _product_of_marginals(p: np.ndarray) -> np.ndarray:
    out = np.ones(p.shape)
    for i in range(p.ndim):
        marg = p.sum(axis=tuple(j for j in range(p.ndim) if j != i))
        out = out * marg.reshape([-1 if j == i else 1 for j in range(p.ndim)])
    return out


laws = st.tuples(
    st.lists(st.integers(2, 3), min_size=1, max_size=4),
    st.integers(0, 10**6),
    st.sampled_from([0.0, 0.4]),
)


@settings(deadline=None, max_examples=25)
@given(laws, st.data())
def test_properties_sum_to_one_and_extreme_schedules(law, data):
    shape, seed, zeros = tuple(law[0]), law[1], law[2]
    p = random_law(shape, seed=seed, zeros=zeros)
    n = len(shape)
    order = data.draw(st.permutations(range(n)))
    np.testing.assert_allclose(output_distribution(p, [1] * n), p, atol=1e-12)  # K = N
    np.testing.assert_allclose(output_distribution(p, [[i] for i in order]), p, atol=1e-12)
    prod = _product_of_marginals(p)
    np.testing.assert_allclose(output_distribution(p, [n]), prod, atol=1e-12)  # K = 1
    np.testing.assert_allclose(
        output_distribution(p, RandomRevealSchedule((1.0, 0.0))), prod, atol=1e-12
    )
    cuts = sorted(data.draw(st.sets(st.integers(1, n - 1), max_size=n - 1))) if n > 1 else []
    sizes = [b - a for a, b in itertools.pairwise([0, *cuts, n])]
    den = perturbed_denoiser(p, temperature=data.draw(st.floats(0.3, 3.0)), noise=0.2, seed=seed)
    for schedule in (sizes, GRID):
        got = output_distribution(p, schedule, den)
        assert got.min() >= 0 and abs(got.sum() - 1) < 1e-12


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


@pytest.mark.gpu
@pytest.mark.skipif(not _cuda_available(), reason="needs CUDA")
def test_cuda_matches_numpy():
    p = random_law((2, 3, 2, 2, 2), seed=6, zeros=0.3)
    den = perturbed_denoiser(p, temperature=1.4, noise=0.1, seed=2)
    for schedule in ([2, 2, 1], [[4, 0], [1, 2, 3]], GRID):
        for d in (None, den):
            a = output_distribution(p, schedule, d)
            b = output_distribution(p, schedule, d, backend="torch", device="cuda")
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)
        assert learning_error(p, schedule, den) == pytest.approx(
            learning_error(p, schedule, den, backend="torch", device="cuda"), abs=1e-10
        )


# --- memory plan (issue 4) and progress bars ------------------------------------------------

PLAN_CASES = [
    ((2, 3, 2, 2), [2, 2]),
    ((2, 3, 2, 2), [[1, 3], [0], [2]]),
    ((2, 3, 2, 2), GRID),
]


@pytest.mark.parametrize("case", PLAN_CASES, ids=_ids)
def test_plan_counts_the_masked_tensor_and_refuses_before_allocating(monkeypatch, case):
    from exactmd.law.distribution import as_distribution
    from exactmd.sampler._plan import plan_sampler
    from exactmd.schedules.kinds import as_schedule

    shape, schedule = case
    p = random_law(shape, seed=3, zeros=0.3)
    d = as_distribution(p)
    sched = as_schedule(schedule, d.n)
    needed, _ = plan_sampler(d, sched)
    monkeypatch.setattr(NumpyBackend, "usable_memory", lambda self: needed - 1)
    with pytest.raises(MemoryPlanError) as info:
        output_distribution(d, schedule)
    msg = str(info.value)
    assert f"({needed} bytes:" in msg and f"({needed - 1} bytes)" in msg
    assert f"masked tensor {masked_build_bytes(d)} bytes" in msg
    if isinstance(schedule, RandomRevealSchedule):
        assert "gather plans" in msg
    assert d._derived.masked is None  # refused before building anything
    monkeypatch.setattr(NumpyBackend, "usable_memory", lambda self: needed)
    np.testing.assert_allclose(output_distribution(d, schedule), brute_output(p, schedule))
    assert plan_sampler(d, sched)[0] == needed - masked_build_bytes(d)  # cached: not counted


@pytest.mark.parametrize("case", PLAN_CASES, ids=_ids)
def test_learning_error_plan_refuses_before_allocating(monkeypatch, case):
    from exactmd.law.distribution import as_distribution

    shape, schedule = case
    p = random_law(shape, seed=4, zeros=0.3)
    den = perturbed_denoiser(p, temperature=1.5, noise=0.2, seed=1)
    d = as_distribution(p)
    monkeypatch.setattr(NumpyBackend, "usable_memory", lambda self: 100)
    with pytest.raises(MemoryPlanError, match=r"E_learn needs .* bytes: masked tensor") as info:
        learning_error(d, schedule, den)
    needed = int(str(info.value).split("GiB (")[1].split(" bytes")[0])
    assert "(100 bytes) may be used" in str(info.value)
    assert f"masked tensor {masked_build_bytes(d)} bytes" in str(info.value)
    monkeypatch.setattr(NumpyBackend, "usable_memory", lambda self: needed - 1)
    with pytest.raises(MemoryPlanError, match=rf"\({needed - 1} bytes\) may be used"):
        learning_error(d, schedule, den)
    assert d._derived.masked is None  # refused before building anything
    monkeypatch.setattr(NumpyBackend, "usable_memory", lambda self: needed)
    assert learning_error(d, schedule, den) == pytest.approx(
        brute_learning_error(p, schedule, den), rel=1e-9, abs=1e-12
    )


@pytest.mark.slow
@pytest.mark.parametrize("exact", [True, False])
@pytest.mark.parametrize("schedule", [[3, 3, 3], [[4, 0, 8], [1, 2, 3], [5, 6, 7]], GRID])
def test_planned_bytes_cover_what_numpy_allocates(schedule, exact):
    import tracemalloc

    from exactmd.law.distribution import as_distribution
    from exactmd.sampler._plan import plan_sampler
    from exactmd.schedules.kinds import as_schedule

    d = as_distribution(random_law((2, 3, 2, 2, 3, 2, 2, 2, 2), seed=5, zeros=0.2))
    den = None if exact else perturbed_denoiser(d, noise=0.2)
    planned, _ = plan_sampler(d, as_schedule(schedule, d.n), den)
    tracemalloc.start()
    try:
        output_distribution(d, schedule, den, progress=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= planned, (peak, planned)


class _FakeTqdm:
    made: ClassVar[list[dict]] = []

    def __init__(self, **kwargs):
        _FakeTqdm.made.append(kwargs)
        self.n = 0

    def update(self, n):
        self.n += n

    def close(self):
        pass


def _fake_tqdm(monkeypatch):
    import types

    module = types.ModuleType("tqdm.auto")
    module.tqdm = _FakeTqdm
    monkeypatch.setitem(__import__("sys").modules, "tqdm.auto", module)
    _FakeTqdm.made = []


def test_progress_semantics_are_shared(monkeypatch):
    import exactmd.sampler.learning
    import exactmd.sampler.p_alg
    from exactmd._progress import PROGRESS_DELAY_S

    _fake_tqdm(monkeypatch)
    p = random_law((2, 3, 2), seed=0)
    den = perturbed_denoiser(p, noise=0.3)
    output_distribution(p, [1, 2])  # short run, progress=None: no bar
    learning_error(p, [1, 2], den)
    assert _FakeTqdm.made == []
    monkeypatch.setattr(exactmd.sampler.p_alg, "SAMPLER_LONG_RUN", 1)
    monkeypatch.setattr(exactmd.sampler.learning, "LEARNING_LONG_RUN", 1)
    output_distribution(p, [1, 2])
    learning_error(p, [1, 2], den)
    output_distribution(p, GRID, progress=True)
    learning_error(p, GRID, den, progress=True)
    output_distribution(p, [1, 2], progress=False)
    learning_error(p, [1, 2], den, progress=False)
    got = [(k["desc"], k["delay"]) for k in _FakeTqdm.made]
    assert got == [
        ("p_alg", PROGRESS_DELAY_S),
        ("E_learn", PROGRESS_DELAY_S),
        ("p_alg", 0.0),
        ("E_learn", 0.0),
    ]


def test_progress_without_tqdm_runs_silently(monkeypatch, capsys):
    monkeypatch.setitem(__import__("sys").modules, "tqdm", None)
    monkeypatch.setitem(__import__("sys").modules, "tqdm.auto", None)
    p = random_law((2, 2, 2), seed=0)
    np.testing.assert_allclose(
        output_distribution(p, [1, 2], progress=True), brute_output(p, [1, 2])
    )
    learning_error(p, [1, 2], perturbed_denoiser(p, noise=0.3), progress=True)
    assert capsys.readouterr().err == ""


def test_learning_error_none_is_the_exact_denoiser_and_documented():
    # kept behaviour, now documented: denoiser=None means π's exact conditionals, E_learn = 0
    p = random_law((2, 3, 2), seed=4, zeros=0.3)
    for schedule in ([2, 1], [[2], [0, 1]], GRID):
        assert learning_error(p, schedule, None) == 0.0
        assert learning_error(p, schedule, exact_denoiser(p)) < 1e-12
    doc = learning_error.__doc__ or ""
    assert "``None`` explicitly means π's exact conditionals" in doc and "exactly ``0.0``" in doc
