"""Information measures (exactmd.measures.information) vs brute force, known answers and
identities."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from brute import (
    brute_complexity,
    brute_dual_total_correlation,
    brute_entropy,
    brute_entropy_of,
    brute_kl,
    brute_profile,
    brute_subset_entropies,
    brute_total_correlation,
)
from helpers import LOG2, TOL, block_copy, laws, random_law, xor_law
from hypothesis import given, settings

from exactmd.errors import DistributionError, ValidationError
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
    sums_by_popcount,
    total_correlation,
)

SHAPES = [
    (2, 2),
    (3, 3),
    (2, 3),
    (2, 3, 2),
    (3, 3, 3),
    (2, 2, 2, 2),
    (3, 2, 3, 2),
    (2, 2, 2, 2, 2),
    (3, 3, 2, 3, 2),
    (2,) * 6,
    (3, 2, 2, 3, 2, 3),
]

PROPERTY_SETTINGS = settings(max_examples=100, deadline=None, derandomize=True)


# -- brute-force agreement ------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_measures_vs_brute(
    shape: tuple[int, ...], backend: str, as_backend: Callable[[Any], Any]
) -> None:
    p = random_law(shape, seed=sum(shape) * len(shape), zeros=0.3)
    x = as_backend(p)
    assert abs(entropy(x) - brute_entropy(p)) < TOL
    assert abs(total_correlation(x) - brute_total_correlation(p)) < TOL
    assert abs(dual_total_correlation(x) - brute_dual_total_correlation(p)) < TOL
    assert abs(complexity(x) - brute_complexity(p)) < TOL
    f = information_profile(x)
    assert isinstance(f, np.ndarray) and f.dtype == np.float64 and f.shape == (len(shape),)
    np.testing.assert_allclose(f, brute_profile(p), rtol=0, atol=TOL)
    for value in (entropy(x), total_correlation(x), dual_total_correlation(x), complexity(x)):
        assert type(value) is float


@pytest.mark.parametrize("shape", [(2, 3, 2), (3, 2, 2, 3), (2,) * 5], ids=str)
def test_mean_subset_entropies_vs_brute(shape: tuple[int, ...], backend: str) -> None:
    p = random_law(shape, seed=21, zeros=0.4)
    hbar = mean_subset_entropies(as_distribution(p, backend=backend))
    h = brute_subset_entropies(p)
    n = len(shape)
    want = [np.mean([v for s, v in h.items() if len(s) == k]) for k in range(n + 1)]
    np.testing.assert_allclose(hbar, want, rtol=0, atol=TOL)
    assert hbar[0] == 0.0


@pytest.mark.parametrize("shape", [(2, 3, 2), (3, 2, 2, 2)], ids=str)
def test_conditional_entropy_and_mutual_information_vs_brute(
    shape: tuple[int, ...], backend: str, as_backend: Callable[[Any], Any]
) -> None:
    p = random_law(shape, seed=22, zeros=0.3)
    x = as_backend(p)
    n = len(shape)

    def h(s: set[int]) -> float:
        return brute_entropy_of(p, sorted(s)) if s else 0.0

    labels = list(itertools.product(range(3), repeat=n))  # 0: in A, 1: in B, 2: in C (given)
    for lab in labels[:: max(1, len(labels) // 25)]:
        a = {i for i in range(n) if lab[i] == 0}
        b = {i for i in range(n) if lab[i] == 1}
        c = {i for i in range(n) if lab[i] == 2}
        ce = conditional_entropy(x, a, c)
        assert abs(ce - (h(a | c) - h(c))) < TOL
        mi = mutual_information(x, a, b, c)
        assert abs(mi - (h(a | c) + h(b | c) - h(a | b | c) - h(c))) < TOL
        assert mi > -TOL and ce > -TOL


def test_mutual_information_rejects_overlap() -> None:
    with pytest.raises(ValidationError) as info:
        mutual_information(random_law((2, 2, 2), seed=23), [0, 1], [1], [2])
    assert isinstance(info.value, ValueError)
    assert "disjoint" in str(info.value) and "[0, 1], [1], [2]" in str(info.value)


@pytest.mark.parametrize("shape", [(2, 3, 2), (3, 3, 2, 2, 3), (2,) * 6], ids=str)
def test_torch_agrees_with_numpy(shape: tuple[int, ...]) -> None:
    torch = pytest.importorskip("torch")
    p = random_law(shape, seed=24, zeros=0.3)
    t = torch.as_tensor(p)
    for func in (entropy, total_correlation, dual_total_correlation, complexity):
        assert abs(func(t) - func(p)) < 1e-10
    np.testing.assert_allclose(information_profile(t), information_profile(p), atol=1e-10)


# -- known answers (docs/design.md) --------------------------------------------------------------


def test_xor_known_answers(backend: str, as_backend: Callable[[Any], Any]) -> None:
    x = as_backend(xor_law())
    assert abs(entropy(x) - 2 * LOG2) < TOL
    assert abs(total_correlation(x) - LOG2) < TOL
    assert abs(dual_total_correlation(x) - 2 * LOG2) < TOL
    assert abs(complexity(x) - LOG2) < TOL
    np.testing.assert_allclose(information_profile(x), [-LOG2, -LOG2, 0.0], rtol=0, atol=TOL)


@pytest.mark.parametrize("shape", [(2, 3), (3, 2, 2), (2, 2, 3, 3), (2,) * 6], ids=str)
def test_independent_laws_give_zero(shape: tuple[int, ...], backend: str) -> None:
    rng = np.random.default_rng(25)
    p = np.ones(())
    for q in shape:
        p = np.multiply.outer(p, rng.dirichlet(np.ones(q)))
    d = as_distribution(p, backend=backend)
    assert abs(total_correlation(d)) < TOL
    assert abs(dual_total_correlation(d)) < TOL
    assert abs(complexity(d)) < TOL
    f = information_profile(d)
    np.testing.assert_allclose(f, np.full(len(shape), f[0]), rtol=0, atol=TOL)  # flat profile


@pytest.mark.parametrize(
    ("q", "blocks"), [(2, [2]), (2, [2, 2]), (3, [3]), (3, [2, 2]), (2, [3, 3]), (2, [2, 2, 2])]
)
def test_block_copy_complexity_is_log_q(q: int, blocks: list[int], backend: str) -> None:
    d = as_distribution(block_copy(q, blocks), backend=backend)
    assert abs(complexity(d) - math.log(q)) < TOL
    n, k = sum(blocks), len(blocks)
    assert abs(total_correlation(d) - (n - k) * math.log(q)) < TOL


# -- identities (hypothesis) ----------------------------------------------------------------


@PROPERTY_SETTINGS
@given(p=laws())
def test_profile_identities(p: np.ndarray) -> None:
    d = as_distribution(p)
    f = information_profile(d)
    assert np.all(np.diff(f) >= -TOL), f  # non-decreasing
    assert abs((f[-1] - f[0]) - complexity(d)) < TOL  # f(N-1) - f(0) = D
    assert abs(f.sum() + entropy(d)) < TOL  # Σ f = -H
    assert np.all(f <= TOL)  # log-probabilities of conditionals


@PROPERTY_SETTINGS
@given(p=laws())
def test_measure_bounds(p: np.ndarray) -> None:
    d = as_distribution(p)
    tc, dtc, dd = total_correlation(d), dual_total_correlation(d), complexity(d)
    assert tc >= -TOL and dtc >= -TOL
    assert -TOL <= dd <= math.log(max(p.shape)) + TOL
    assert abs(dd - (tc + dtc) / p.ndim) < TOL
    assert entropy(d) <= math.log(p.size) + TOL


@settings(max_examples=15, deadline=None, derandomize=True)
@given(p=laws(max_n=4))
def test_profile_equals_permutation_average(p: np.ndarray) -> None:
    np.testing.assert_allclose(information_profile(p), brute_profile(p), rtol=0, atol=TOL)


# -- kl -------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 2, 3)], ids=str)
def test_kl_vs_brute(
    shape: tuple[int, ...], backend: str, as_backend: Callable[[Any], Any]
) -> None:
    p = random_law(shape, seed=26, zeros=0.3)
    r = random_law(shape, seed=27, zeros=0.0)
    value = kl(as_backend(p), as_backend(r))
    assert type(value) is float
    assert abs(value - brute_kl(p, r)) < TOL
    assert kl(as_backend(p), as_backend(p)) == 0.0


def test_kl_is_infinite_where_r_misses_the_support() -> None:
    assert kl([0.5, 0.5, 0.0], [1.0, 0.0, 0.0]) == math.inf
    # a zero of p where r is positive is fine
    assert abs(kl([1.0, 0.0], [0.5, 0.5]) - LOG2) < TOL
    # r zero where p is zero too: finite
    assert (
        abs(kl([0.5, 0.5, 0.0], [0.25, 0.75, 0.0]) - brute_kl([0.5, 0.5, 0], [0.25, 0.75, 0])) < TOL
    )


def test_kl_shape_mismatch() -> None:
    with pytest.raises(DistributionError) as info:
        kl(np.full((2, 2), 0.25), np.full(4, 0.25))
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert message.startswith("r: ") and "(2, 2)" in message and "(4,)" in message


# -- float32 --------------------------------------------------------------------------------

#: Documented bound on the error of float32 input or float32 computation, relative to the
#: float64 value and measured on the laws below: |x32 − x64| <= FLOAT32_RTOL · max(1, |x64|).
FLOAT32_RTOL = 1e-5


def _all_measures(x: Any) -> np.ndarray:
    return np.concatenate(
        [
            [entropy(x), total_correlation(x), dual_total_correlation(x), complexity(x)],
            information_profile(x),
        ]
    )


def float32_errors() -> dict[str, float]:
    """Max of |x32 − x64| / max(1, |x64|) over H, TC, DTC, D and f, per float32 route."""
    errors = {"numpy-input": 0.0, "numpy-compute": 0.0, "torch-input": 0.0, "torch-compute": 0.0}
    torch: Any
    try:
        import torch
    except ImportError:  # pragma: no cover
        torch = None
    for shape in [(2, 3, 2), (3, 3, 2, 2), (2,) * 8, (3, 2) * 3]:
        for seed in range(3):
            p = random_law(shape, seed=seed, zeros=0.3)
            ref = _all_measures(p)
            p32 = p.astype(np.float32)
            routes = {
                "numpy-input": p32,
                "numpy-compute": as_distribution(p, dtype="float32"),
            }
            if torch is not None:
                routes["torch-input"] = torch.as_tensor(p32)
                routes["torch-compute"] = as_distribution(torch.as_tensor(p), dtype="float32")
            for label, x in routes.items():
                err = np.abs(_all_measures(x) - ref) / np.maximum(1.0, np.abs(ref))
                errors[label] = max(errors[label], float(err.max()))
    return errors


def test_float32_error_is_bounded() -> None:
    errors = float32_errors()
    for label, err in errors.items():
        assert err < FLOAT32_RTOL, (label, err)


# -- h̄(k) without (2,)*N index grids ------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 7, 11, 13])
@pytest.mark.parametrize("low_bits", [0, 1, 4, 10, 20])
def test_sums_by_popcount_vs_loop(n: int, low_bits: int) -> None:
    values = np.random.default_rng(n).random(2**n)
    ref = np.zeros(n + 1)
    for j, v in enumerate(values):
        ref[bin(j).count("1")] += v
    got = sums_by_popcount(values, n, low_bits=low_bits)
    assert got.shape == (n + 1,) and got.dtype == np.float64
    np.testing.assert_allclose(got, ref, rtol=1e-13, atol=1e-13)


def test_mean_subset_entropies_allocates_little() -> None:
    import tracemalloc

    n = 16
    d = as_distribution(random_law((2,) * n, seed=3, zeros=0.2))
    h = np.asarray(information_profile(d))  # fills the subset-entropy cache
    tracemalloc.start()
    try:
        hbar = mean_subset_entropies(d)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the cached H alone is 2**16 * 8 = 512 KiB; an index grid (2,)*N of int64 would be 8 MiB
    assert peak < 2**19, peak
    np.testing.assert_allclose(hbar[:-1] - hbar[1:], h, rtol=0, atol=TOL)
    assert abs(hbar[n] - brute_entropy(d.numpy())) < TOL


# untyped aliases: these calls break the annotations on purpose
_ce: Any = conditional_entropy
_mi: Any = mutual_information


@pytest.mark.parametrize(
    ("call", "fragments"),
    [
        (lambda p: _ce(p, "01"), ["target: ", "collection", "'01'"]),
        (lambda p: _ce(p, 0), ["target: ", "collection", "0"]),
        (lambda p: _ce(p, [0.5]), ["target: ", "ints", "[0.5]"]),
        (lambda p: _ce(p, [0], [1.0]), ["given: ", "ints", "[1.0]"]),
        (lambda p: _ce(p, [False]), ["target: ", "bools", "[False]"]),
        (lambda p: _ce(p, [0], [5]), ["given: ", "range(N)", "[5]"]),
        (lambda p: _mi(p, [1.5], [0]), ["a: ", "ints", "[1.5]"]),
        (lambda p: _mi(p, [1], "0"), ["b: ", "collection", "'0'"]),
        (lambda p: _mi(p, [1], [0], [np.float64(2)]), ["given: ", "ints"]),
    ],
)
def test_measures_refuse_non_integer_indices(
    call: Callable[[Any], Any], fragments: list[str]
) -> None:
    p = random_law((2, 3, 2), seed=31)
    with pytest.raises(ValidationError) as info:
        call(p)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_measures_take_numpy_integer_indices() -> None:
    p = random_law((2, 3, 2), seed=32)
    assert conditional_entropy(p, np.array([0]), (np.int64(2),)) == conditional_entropy(p, [0], [2])
    assert (
        abs(
            mutual_information(p, [np.int32(1)], [0])
            - (brute_entropy_of(p, [1]) + brute_entropy_of(p, [0]) - brute_entropy_of(p, [0, 1]))
        )
        < 1e-12
    )
