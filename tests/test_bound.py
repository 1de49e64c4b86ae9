"""The bound report: KL(π ‖ p_alg) ≤ E_learn + E_fact with exact numbers, and its worst case."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from brute import brute_deterministic_error, brute_kl
from helpers import random_law
from hypothesis import given, settings
from hypothesis import strategies as st
from sampler_brute import brute_learning_error, brute_output

from exactmd.denoisers.exact import perturbed_denoiser
from exactmd.sampler.bound import BoundReport, check_bound
from exactmd.sampler.p_alg import output_distribution
from exactmd.schedules.kinds import RandomRevealSchedule


def block_copy(block_sizes: list[int], q: int) -> np.ndarray:
    """x_i = x_j inside each (consecutive) block; blocks independent and uniform on q values."""
    n = sum(block_sizes)
    p = np.zeros((q,) * n)
    for values in itertools.product(range(q), repeat=len(block_sizes)):
        idx = [v for v, s in zip(values, block_sizes) for _ in range(s)]
        p[tuple(idx)] = q ** -len(block_sizes)
    return p


@pytest.mark.parametrize(
    "block_sizes, q", [([2, 2], 3), ([3, 3], 2), ([2, 2, 2], 2), ([3, 1, 2], 2)]
)
def test_block_copy_reaches_the_worst_case(block_sizes, q, backend, as_backend):
    p = block_copy(block_sizes, q)
    n, k = sum(block_sizes), len(block_sizes)
    starts = np.cumsum([0, *block_sizes])
    partition = [list(range(a, b)) for a, b in itertools.pairwise(starts)]
    palg = output_distribution(as_backend(p), partition)
    np.testing.assert_allclose(palg, np.full(p.shape, q**-n), rtol=0, atol=1e-14)  # uniform
    rep = check_bound(as_backend(p), partition)
    worst = (n - k) * math.log(q)
    assert rep.kl == pytest.approx(worst, abs=1e-12)
    assert rep.factorization_error == pytest.approx(worst, abs=1e-12)
    assert rep.learning_error == 0.0
    assert rep.slack == pytest.approx(0.0, abs=1e-12) and rep.holds


@pytest.mark.parametrize(
    "schedule", [[2, 1, 1], [[3, 1], [0], [2]], RandomRevealSchedule((1.0, 0.5, 0.0))]
)
def test_report_terms_match_brute_force(schedule, backend, as_backend):
    p = random_law((2, 3, 2, 2), seed=8, zeros=0.3)
    den = perturbed_denoiser(p, temperature=0.7, noise=0.25, seed=2)
    rep = check_bound(as_backend(p), schedule, den)
    assert rep.kl == pytest.approx(brute_kl(p, brute_output(p, schedule, den)), abs=1e-12)
    assert rep.learning_error == pytest.approx(brute_learning_error(p, schedule, den), abs=1e-12)
    if not isinstance(schedule, RandomRevealSchedule) and isinstance(schedule[0], list):
        assert rep.factorization_error == pytest.approx(
            brute_deterministic_error(p, schedule), abs=1e-12
        )
    assert rep.holds and rep.slack >= -1e-12
    assert rep.slack == pytest.approx(rep.bound - rep.kl, abs=1e-15)


def test_exact_denoiser_and_full_schedule():
    p = random_law((2, 2, 3), seed=1, zeros=0.2)
    rep = check_bound(p, [1, 1, 1])
    assert rep.kl == pytest.approx(0.0, abs=1e-12) and rep.learning_error == 0.0
    assert rep.factorization_error == pytest.approx(0.0, abs=1e-12)
    rep = check_bound(p, [3])
    assert rep.learning_error == 0.0 and rep.holds and rep.slack >= -1e-12


def test_infinite_learning_error_and_readable_output():
    p = random_law((2, 2), seed=1, zeros=0.0)

    def sure_zero(tokens):
        out = np.zeros((len(tokens), 2, 2))
        out[:, :, 0] = 1.0
        return out

    rep = check_bound(p, [1, 1], sure_zero)
    assert rep.learning_error == math.inf and rep.kl == math.inf
    assert rep.holds and rep.slack == math.inf  # never NaN (issue 13)
    rep = check_bound(p, [2], perturbed_denoiser(p, noise=0.5))
    assert isinstance(rep, BoundReport)
    text, short = str(rep), repr(rep)
    for word in ("KL", "E_learn", "E_fact", "slack", "holds", "ExchangeableSchedule"):
        assert word in text
    assert short.startswith("BoundReport(kl=") and "holds=True" in short
    with pytest.raises(AttributeError):
        rep.kl = 0.0  # type: ignore[misc]  # frozen


@settings(deadline=None, max_examples=20)
@given(
    st.lists(st.integers(2, 3), min_size=2, max_size=4),
    st.integers(0, 10**6),
    st.floats(0.3, 3.0),
    st.floats(0.0, 0.5),
    st.data(),
)
def test_bound_holds_on_random_models(shape, seed, temperature, noise, data):
    p = random_law(tuple(shape), seed=seed, zeros=0.3)
    n = len(shape)
    den = perturbed_denoiser(p, temperature=temperature, noise=noise, seed=seed % 97)
    order = data.draw(st.permutations(range(n)))
    cut = data.draw(st.integers(1, n - 1))
    steps = data.draw(st.integers(1, 3))
    grid = tuple(np.linspace(1.0, 0.0, steps + 1))
    for schedule in (
        [cut, n - cut],
        [list(order[:cut]), list(order[cut:])],
        RandomRevealSchedule(grid),
    ):
        rep = check_bound(p, schedule, den)
        assert rep.holds, rep
        exact = check_bound(p, schedule)
        assert exact.learning_error == 0.0 and exact.holds, exact
