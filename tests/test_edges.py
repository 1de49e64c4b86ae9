"""Issue 13: no silently wrong number at the edges (normalisation, small temperatures, callables
that write into their arguments, laws that change after validation, complex output, the one
scalar rule, blocks given as sets, ExactDenoiserModule as a denoiser).

Every expected value comes from the independent brute force of ``tests/brute.py`` and
``tests/sampler_brute.py`` (which never import exactmd), or from the defining formula.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from brute import (
    brute_complexity,
    brute_conditional,
    brute_deterministic_error,
    brute_exchangeable_error,
    brute_total_correlation,
)
from helpers import laws, random_law, xor_law
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sampler_brute import brute_output, sequences

import exactmd
from exactmd.errors import DenoiserError, ScheduleError, ValidationError
from exactmd.sampler.bound import BOUND_ATOL, BOUND_RTOL
from exactmd.schedules.kinds import RandomRevealSchedule, as_schedule

SHAPE = (2, 2, 2, 2)


def _law(seed: int = 0, shape: tuple[int, ...] = SHAPE, zeros: float = 0.0) -> np.ndarray:
    return random_law(shape, seed=seed, zeros=zeros, alpha=0.5)


# -- item 2: every accepted table is normalised ---------------------------------------------


@pytest.mark.parametrize("dtype, excess", [(np.float64, 5e-9), (np.float32, 4e-6)])
def test_off_by_rounding_tables_are_normalised(backend, dtype, excess) -> None:
    p = _law(1)
    raw = (p * (1 + excess)).astype(dtype)
    assert abs(float(raw.astype(np.float64).sum()) - 1) > excess / 2  # really off
    d = exactmd.as_distribution(raw, backend=backend)
    assert abs(float(np.asarray(d).sum()) - 1.0) < 1e-15
    target = raw.astype(np.float64) / raw.astype(np.float64).sum()
    assert exactmd.total_correlation(d) == pytest.approx(brute_total_correlation(target), abs=1e-12)
    assert exactmd.total_correlation(d) >= 0
    assert exactmd.kl(d, exactmd.output_distribution(d, [1, 1, 1, 1])) < 1e-14  # K = N
    sizes = [2, 2]
    e_fact = exactmd.factorization_error(d, sizes)
    assert e_fact >= 0
    assert e_fact == pytest.approx(brute_exchangeable_error(target, sizes), abs=1e-12)
    rep = exactmd.check_bound(d, sizes)
    assert rep.holds
    assert rep.tolerance == pytest.approx(BOUND_ATOL + BOUND_RTOL * abs(rep.bound))
    assert "rounding tolerance" in str(rep)


@settings(max_examples=40, deadline=None)
@given(law=laws(max_n=4), excess=st.floats(-9e-9, 9e-9), data=st.data())
def test_every_accepted_table_is_normalised_and_signs_hold(law, excess, data) -> None:
    raw = law * (1 + excess)
    d = exactmd.as_distribution(raw)
    assert abs(float(np.asarray(d).sum()) - 1.0) < 4e-16 * raw.size
    target = raw / raw.sum()
    np.testing.assert_allclose(np.asarray(d), target, rtol=1e-15, atol=1e-300)
    for value in (
        exactmd.total_correlation(d),
        exactmd.dual_total_correlation(d),
        exactmd.complexity(d),
    ):
        assert value >= 0
    assert exactmd.complexity(d) == pytest.approx(brute_complexity(target), abs=1e-12)
    n = d.n
    cut = data.draw(st.integers(1, n - 1))
    sizes = [cut, n - cut]
    assert exactmd.factorization_error(d, sizes) >= 0
    partition = [list(range(cut)), list(range(cut, n))]
    e_det = exactmd.factorization_error(d, partition)
    assert e_det >= 0
    assert e_det == pytest.approx(brute_deterministic_error(target, partition), abs=1e-12)
    assert exactmd.kl(d, exactmd.output_distribution(d, [1] * n)) < 1e-13


# -- item 3: small temperatures, in log space -----------------------------------------------


def _argmax_denoiser(p: np.ndarray):
    """An independent argmax denoiser: ties share the mass (from the brute conditionals)."""
    n, q = p.ndim, max(p.shape)

    def den(tokens: np.ndarray) -> np.ndarray:
        out = np.zeros((len(tokens), n, q))
        for r, row in enumerate(np.asarray(tokens)):
            given = {j: int(v) for j, v in enumerate(row) if v != q}
            for i in range(n):
                if i in given:
                    continue
                c = brute_conditional(p, i, given)
                top = c >= c.max() * (1 - 1e-12)
                out[r, i, : p.shape[i]] = top / top.sum()
        return out

    return den


def _brute_tempered_learning_error(p: np.ndarray, sizes: list[int], t: float) -> float:
    """E_learn of the tempered exact denoiser from its definition, with the KL written in logs:
    KL(π_c ‖ π_c^{1/T}/Z) = Σ π_c (log π_c − log π_c / T) + log Z, Z in log-sum-exp form."""
    n = p.ndim
    total = 0.0
    for weight, blocks in sequences(n, sizes):
        done: list[int] = []
        for block in blocks:
            ctx = sorted(done)
            axes = tuple(i for i in range(n) if i not in ctx)
            marg = p.sum(axis=axes) if axes else p
            for values in np.ndindex(*(p.shape[i] for i in ctx)):
                mass = float(marg[values]) if ctx else 1.0
                if mass <= 0:
                    continue
                given = dict(zip(ctx, values, strict=True))
                for i in block:
                    c = brute_conditional(p, i, given)
                    pos = c > 0
                    logs = np.log(c[pos])
                    scaled = logs / t
                    lse = scaled.max() + math.log(np.exp(scaled - scaled.max()).sum())
                    total += weight * mass * float(np.sum(c[pos] * (logs - scaled + lse)))
            done.extend(block)
    return total


def test_tiny_temperature_gives_the_argmax_law_not_nan() -> None:
    p = _law(2)
    for t in (1e-10, 1e-300, 0.0):
        den = exactmd.perturbed_denoiser(p, temperature=t)
        palg = exactmd.output_distribution(p, [2, 2], den)
        assert np.all(np.isfinite(palg))
        assert float(palg.sum()) == pytest.approx(1.0, abs=1e-12)
        np.testing.assert_allclose(
            palg, brute_output(p, [2, 2], _argmax_denoiser(p)), rtol=0, atol=1e-12
        )


def test_tiny_temperature_sampling_follows_the_law() -> None:
    p = xor_law()  # ties everywhere: the argmax law splits them, so p_alg has 4 outcomes
    den = exactmd.perturbed_denoiser(p, temperature=1e-10)
    palg = exactmd.output_distribution(p, [1, 1, 1], den)
    np.testing.assert_allclose(palg, p, atol=1e-12)
    x = exactmd.sample(p, [1, 1, 1], 4000, den, seed=3)
    counts = np.zeros(p.shape)
    np.add.at(counts, tuple(x.T), 1)
    assert np.all(counts[palg == 0] == 0)  # ... and neither are the samples
    assert np.all(counts[palg > 0.01] > 0)
    assert 0.5 * np.abs(counts / 4000 - palg).sum() < 0.05


@pytest.mark.parametrize("t", [0.002, 0.05, 0.7])
def test_small_temperature_learning_error_is_finite_and_exact(t) -> None:
    p = _law(3)
    got = exactmd.learning_error(p, [2, 2], exactmd.perturbed_denoiser(p, temperature=t))
    want = _brute_tempered_learning_error(p, [2, 2], t)
    assert math.isfinite(got)
    assert got == pytest.approx(want, rel=1e-10)


def test_bound_with_underflowing_p_alg_is_refused_not_false() -> None:
    p = _law(2)
    den = exactmd.perturbed_denoiser(p, temperature=1e-10)
    with pytest.raises(ValidationError, match="underflows float64"):
        exactmd.check_bound(p, [2, 2], den)
    zero = exactmd.check_bound(p, [2, 2], exactmd.perturbed_denoiser(p, temperature=0.0))
    assert zero.kl == math.inf and zero.learning_error == math.inf
    assert zero.slack == math.inf and zero.holds  # never NaN


@settings(max_examples=30, deadline=None)
@given(
    law=laws(max_n=3),
    log_t=st.floats(-300, 2),
    noise=st.sampled_from([0.0, 1e-300, 0.1, 1.0]),
)
def test_no_nan_from_any_temperature(law, log_t, noise) -> None:
    den = exactmd.perturbed_denoiser(law, temperature=10.0**log_t, noise=noise)
    n = law.ndim
    palg = exactmd.output_distribution(law, [1] * n, den)
    assert np.all(np.isfinite(palg)) and float(palg.sum()) == pytest.approx(1.0, abs=1e-12)
    e = exactmd.learning_error(law, [n], den)
    assert not math.isnan(e) and e >= 0


# -- item 4: callables cannot corrupt the computation ---------------------------------------


def test_a_numpy_denoiser_writing_into_its_tokens_is_refused() -> None:
    p = _law(4)
    exact = exactmd.exact_denoiser(p)

    def vandal(tokens):
        out = exact(tokens)
        tokens[:] = 0
        return out

    with pytest.raises(DenoiserError, match="must not write into its tokens"):
        exactmd.output_distribution(p, [2, 2], vandal)
    samples = exactmd.sample(p, [2, 2], 50, seed=0)
    with pytest.raises(DenoiserError, match="must not write into its tokens"):
        exactmd.estimate_profile(samples, vandal, n_orders=1, seed=0)


def test_a_torch_denoiser_writing_into_its_tokens_changes_nothing() -> None:
    torch = pytest.importorskip("torch")
    p = _law(4)
    exact = exactmd.exact_denoiser(p)

    def vandal(tokens):
        out = exact(tokens)
        tokens.zero_()
        return out

    den = exactmd.as_denoiser(vandal, tokens="torch")
    got = exactmd.output_distribution(p, [2, 2], den)
    np.testing.assert_allclose(got, exactmd.output_distribution(p, [2, 2]), atol=1e-14)
    assert isinstance(torch.zeros(1), torch.Tensor)


# -- item 5: a Distribution owns its table ---------------------------------------------------


def test_reusing_the_buffer_does_not_mix_two_laws() -> None:
    buf = _law(5).copy()
    h0 = exactmd.entropy(buf)
    d = exactmd.as_distribution(buf)
    exactmd.information_profile(d)
    buf[:] = _law(6)  # the caller reuses its buffer for another law
    assert exactmd.entropy(d) == pytest.approx(h0, abs=1e-14)
    assert float(np.sum(exactmd.information_profile(d))) == pytest.approx(-h0, abs=1e-12)
    with pytest.raises(ValueError, match="read-only"):
        d.table[(0,) * d.n] = -1.0


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(law=laws(max_n=4), other=laws(max_n=4))
def test_mutation_after_construction_never_changes_a_result(backend, law, other) -> None:
    if backend == "torch":
        import torch

        buf = torch.tensor(law)
    else:
        buf = law.copy()
    d = exactmd.as_distribution(buf)
    before = (exactmd.entropy(d), exactmd.information_profile(d), exactmd.total_correlation(d))
    if other.shape == law.shape:
        buf[...] = torch.tensor(other) if backend == "torch" else other
    else:
        buf[...] = 0.0
    after = (exactmd.entropy(d), exactmd.information_profile(d), exactmd.total_correlation(d))
    assert before[0] == after[0] and before[2] == after[2]
    np.testing.assert_array_equal(before[1], after[1])


# -- item 7: complex output ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["complex", "bool", "object"])
def test_non_real_denoiser_output_is_refused(kind) -> None:
    p = _law(7)
    exact = exactmd.exact_denoiser(p)

    def den(tokens):
        out = exact(tokens)
        if kind == "complex":
            return out + 0j
        if kind == "bool":
            return out > 0.5
        return out.astype(object)

    with pytest.raises(DenoiserError, match="real probabilities"):
        exactmd.output_distribution(p, [2, 2], den)


def test_complex_torch_output_is_refused() -> None:
    torch = pytest.importorskip("torch")
    p = _law(7)
    exact = exactmd.exact_denoiser(p)
    den = exactmd.as_denoiser(lambda t: exact(t).to(torch.complex128), tokens="torch")
    with pytest.raises(DenoiserError, match="complex128"):
        exactmd.learning_error(p, [2, 2], den)


# -- item 8: one rule for scalars ------------------------------------------------------------

_P = np.full((2, 2), 0.25)
SCALAR_CALLS = {
    "temperature": lambda v: exactmd.perturbed_denoiser(_P, temperature=v),
    "noise": lambda v: exactmd.perturbed_denoiser(_P, noise=v),
    "grid": lambda v: RandomRevealSchedule((1, v, 0)),
    "ratio": lambda v: exactmd.schedules.named_schedule("geometric", 6, 2, ratio=v),
    "power": lambda v: exactmd.schedules.named_schedule("polynomial", 6, 2, power=v),
    "eps": lambda v: exactmd.schedules.named_schedule("loglinear", 6, 2, eps=v),
}
#: An accepted value of each kind per argument (the ranges differ: noise in [0, 1], ...).
ACCEPTED = {
    "temperature": [np.float32(1.3), np.int64(2), 1.5, 2, np.array(1.25)],
    "noise": [np.float32(0.25), np.int64(1), 0.5, 0, np.array(0.75)],
    "grid": [np.float32(0.5), np.float64(0.25), 0.5, np.array(0.75)],
    "ratio": [np.float32(1.3), np.int64(2), 1.5, 2, np.array(1.25)],
    "power": [np.float32(1.3), np.int64(2), 1.5, 2, np.array(1.25)],
    "eps": [np.float32(0.001), np.int64(0), 0.01, 0, np.array(0.001)],
}


@pytest.mark.parametrize("name", sorted(SCALAR_CALLS))
def test_numpy_and_python_real_scalars_are_accepted(name) -> None:
    for value in ACCEPTED[name]:
        SCALAR_CALLS[name](value)


@pytest.mark.parametrize("name", sorted(SCALAR_CALLS))
@pytest.mark.parametrize(
    "value", [True, np.bool_(False), "1", "0.5", 0.5 + 0j, None, [0.5], float("nan")]
)
def test_bool_and_str_scalars_are_refused_the_same_way(name, value) -> None:
    with pytest.raises(ValidationError, match=rf"^{name}: must be"):
        SCALAR_CALLS[name](value)


# -- items 10, 11: blocks as sets; schedule and seed errors ----------------------------------


def test_blocks_given_as_sets_frozensets_arrays_and_tensors() -> None:
    torch = pytest.importorskip("torch")
    p = _law(8, shape=(2, 3, 2, 2), zeros=0.3)
    want = brute_deterministic_error(p, [[0, 2], [1], [3]])
    forms = [
        [{2, 0}, {1}, {3}],
        [frozenset({0, 2}), [1], np.array([3])],
        [torch.tensor([2, 0]), torch.tensor([1]), (3,)],
        (np.array([0, 2]), {1}, frozenset([3])),
    ]
    for form in forms:
        assert exactmd.factorization_error(p, form) == pytest.approx(want, abs=1e-12)
        np.testing.assert_allclose(
            exactmd.output_distribution(p, form),
            brute_output(p, [[0, 2], [1], [3]]),
            atol=1e-12,
        )
    assert exactmd.factorization_error(p, torch.tensor([2, 2])) == pytest.approx(
        brute_exchangeable_error(p, [2, 2]), abs=1e-12
    )
    with pytest.raises(ScheduleError, match="schedule: "):
        as_schedule({frozenset({0, 1}), frozenset({2, 3})}, 4)  # unordered: refused


@pytest.mark.parametrize("bad", [np.array(3), np.array(2.5), "22", b"22", 3, None])
def test_a_bad_schedule_is_a_schedule_error(bad) -> None:
    with pytest.raises(ScheduleError, match=r"^schedule: "):
        exactmd.factorization_error(_law(0), bad)


@pytest.mark.parametrize("seed", ["abc", 1.5, -1, True, [1]])
def test_bad_seeds_are_refused_naming_seed(seed) -> None:
    with pytest.raises(ValidationError, match=r"^seed: must be"):
        exactmd.sample(_law(0), [2, 2], 4, seed=seed)


# -- item 12: ExactDenoiserModule where a denoiser is expected -------------------------------


def test_exact_denoiser_module_is_accepted_as_a_denoiser() -> None:
    pytest.importorskip("torch")
    p = _law(9, zeros=0.3)
    module = exactmd.ExactDenoiserModule(p)
    want = brute_output(p, [2, 2])
    for den in (module, exactmd.as_denoiser(module), module.probabilities):
        np.testing.assert_allclose(exactmd.output_distribution(p, [2, 2], den), want, atol=1e-12)
        assert exactmd.learning_error(p, [2, 2], den) < 1e-12
    llada = exactmd.ExactDenoiserModule(p, style="llada", vocab_size=7)
    np.testing.assert_allclose(exactmd.output_distribution(p, [2, 2], llada), want, atol=1e-12)
