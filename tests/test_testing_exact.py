"""The sample test never passes when it tests nothing (issue 13, items 1 and 6).

- few samples: exact multinomial tests (or seeded Monte Carlo ones), checked here against
  brute-force enumeration of every table of counts;
- a test that cannot reject is refused (NoPowerError), never reported as a pass with df = 0;
- every law-like argument is validated through as_distribution, naming it.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from helpers import random_law
from hypothesis import given, settings
from hypothesis import strategies as st

import exactmd
from exactmd.errors import DistributionError, ValidationError
from exactmd.testing import (
    NoPowerError,
    assert_sampler_matches,
    assert_samples_match,
    goodness_of_fit,
    samples_needed,
)
from exactmd.testing import multinomial as mn


def draw(law: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    flat = rng.choice(law.size, size=m, p=law.reshape(-1))
    return np.stack(np.unravel_index(flat, law.shape), axis=1)


def least_likely(law: np.ndarray) -> np.ndarray:
    flat = law.reshape(-1)
    pos = np.flatnonzero(flat > 0)
    return np.array(np.unravel_index(int(pos[np.argmin(flat[pos])]), law.shape))


def brute_exact_pvalue(counts: list[int], probs: list[float]) -> float:
    """P[X² >= observed] under Multinomial(n, probs), summing over every table of counts."""
    n, w = sum(counts), np.asarray(probs) / sum(probs)

    def x2(c: tuple[int, ...]) -> float:
        return float(sum((a - n * b) ** 2 / (n * b) for a, b in zip(c, w, strict=True)))

    obs = x2(tuple(counts))
    total = 0.0
    for c in itertools.product(range(n + 1), repeat=len(w)):
        if sum(c) != n or x2(c) < obs - 1e-9 * max(1.0, obs):
            continue
        coef = math.factorial(n) / math.prod(math.factorial(v) for v in c)
        total += coef * math.prod(b**v for b, v in zip(w, c, strict=True))
    return total


# -- the reproduction of the issue ----------------------------------------------------------


def test_ten_copies_of_an_improbable_outcome_fail() -> None:
    """Issue 13, item 1: this passed with df=0, p-value=1.0 (every cell pooled into one)."""
    p = exactmd.models.random_joint((2, 2, 2, 2), alpha=0.5, seed=0)
    law = np.asarray(exactmd.output_distribution(p, [2, 2]))
    x = least_likely(law)
    assert law[tuple(x)] == pytest.approx(0.01524, abs=1e-4)
    with pytest.raises(AssertionError, match="inconsistent") as info:
        assert_sampler_matches(np.tile(x, (10, 1)), p, [2, 2])
    text = str(info.value)
    assert "exact multinomial test" in text and "df=0" not in text
    # the joint alone: C(25, 15) tables of counts, too many to enumerate, so Monte Carlo;
    # no draw reaches the observed X², so p = 1 / (draws + 1)
    res = goodness_of_fit(np.tile(x, (10, 1)), law, order="joint")
    assert res.method == "monte carlo" and res.df == 15 and res.pvalue == 1 / 20_001


# -- the exact and Monte Carlo tests against brute force ------------------------------------


@settings(max_examples=40, deadline=None, database=None)
@given(
    st.lists(st.integers(1, 20), min_size=2, max_size=4),
    st.lists(st.integers(0, 4), min_size=4, max_size=4),
)
def test_exact_pvalue_by_brute_force(weights: list[int], raw: list[int]) -> None:
    probs = np.asarray(weights, dtype=float) / sum(weights)
    counts = np.asarray(raw[: len(weights)])
    if counts.sum() == 0:
        counts[0] = 1
    p, stat, draws = mn.multinomial_pvalue(counts, probs)
    n = counts.sum()
    assert draws == 0 and stat == pytest.approx(np.sum((counts - n * probs) ** 2 / (n * probs)))
    assert p == pytest.approx(brute_exact_pvalue(counts.tolist(), probs.tolist()), rel=1e-9)


def test_monte_carlo_pvalue_agrees_with_the_exact_one(monkeypatch: pytest.MonkeyPatch) -> None:
    probs = np.array([0.4, 0.3, 0.2, 0.1])
    counts = np.array([1, 2, 1, 4])
    exact, _, _ = mn.multinomial_pvalue(counts, probs)
    monkeypatch.setattr(mn, "EXACT_LIMIT", 1)  # force Monte Carlo
    mn._null_law.cache_clear()
    try:
        mc, _, draws = mn.multinomial_pvalue(counts, probs, mc_draws=40_000, seed=3)
        again, _, _ = mn.multinomial_pvalue(counts, probs, mc_draws=40_000, seed=3)
    finally:
        mn._null_law.cache_clear()
    assert draws == 40_000 and mc == again  # seeded: the same p-value every time
    assert mc == pytest.approx(exact, abs=4 * math.sqrt(exact * (1 - exact) / draws))


def test_monte_carlo_is_used_and_stated_when_enumeration_is_too_large() -> None:
    law = random_law((2,) * 6, seed=2, zeros=0.0)
    x = draw(law, 40, np.random.default_rng(0))
    res = goodness_of_fit(x, law, order="joint", mc_draws=5000, seed=7)
    assert res.method == "monte carlo" and res.mc_draws == 5000 and res.seed == 7
    assert "from 5000 tables drawn from the exact law, seed 7" in res.message(1e-3)
    assert res.pvalue >= 1 / 5001


def test_pooled_cells_are_tested_inside_the_pool() -> None:
    """Samples piled on one rare outcome inside the pooled cell are caught by the exact test
    inside it, though the pooled table alone looks fine."""
    law = np.array([0.5, 0.45, 0.02, 0.02, 0.01])
    counts = np.array([50, 45, 0, 0, 5])  # M = 100: the last three cells pool (e = 5)
    res = mn.table_test(counts, law)
    assert res.method == "pooled chi-square + exact" and res.pool_cells == 3
    assert res.chi2_pvalue is not None and res.chi2_pvalue > 0.5  # 5 vs 5 in the pool
    assert res.pool_pvalue == pytest.approx(brute_exact_pvalue([0, 0, 5], [0.02, 0.02, 0.01]))
    assert res.pvalue == pytest.approx(1 - (1 - min(res.chi2_pvalue, res.pool_pvalue)) ** 2)
    assert res.pvalue < 1e-3


# -- refusals ----------------------------------------------------------------------------


def test_a_single_possible_outcome_is_refused() -> None:
    law = np.zeros((2, 2))
    law[1, 0] = 1.0
    with pytest.raises(NoPowerError, match=r"law: must have at least 2 outcomes .* \(1, 0\)"):
        assert_samples_match(np.tile([1, 0], (50, 1)), law)
    with pytest.raises(AssertionError, match="exact probability 0"):  # still a finding
        assert_samples_match(np.array([[1, 0], [0, 0]]), law)


def test_too_few_samples_are_refused_with_the_number_needed() -> None:
    law = np.array([0.5, 0.5])
    # the smallest p-value with M samples is 2 / 2^M: M = 11 is the first <= 1e-3
    with pytest.raises(NoPowerError) as info:
        assert_samples_match(np.array([[0], [1], [0]]), law)
    text = str(info.value)
    assert text.startswith("samples: must be enough for the test to be able to reject")
    assert "received M=3" in text and "0.25" in text and "at least M=11 samples" in text
    assert isinstance(info.value, ValidationError)
    with pytest.raises(AssertionError):
        assert_samples_match(np.zeros((11, 1), dtype=int), law)
    with pytest.raises(NoPowerError, match="M=10,"):
        assert_samples_match(np.zeros((10, 1), dtype=int), law)


@settings(max_examples=60, deadline=None, database=None)
@given(
    st.sampled_from([(2, 2), (3,), (2, 3), (2, 2, 2), (2, 2, 2, 2), (3, 3), (2, 2, 3)]),
    st.integers(0, 10**6),
    st.sampled_from([0.0, 0.3]),
    st.sampled_from([0.3, 1.0]),
    st.integers(1, 300),
    st.sampled_from(["auto", "joint"]),
)
def test_a_constant_improbable_sample_never_passes(
    shape: tuple[int, ...], seed: int, zeros: float, conc: float, m: int, order: str
) -> None:
    law = random_law(shape, seed=seed, zeros=zeros, alpha=conc)
    if np.count_nonzero(law) < 2:
        return
    x = np.tile(least_likely(law), (m, 1))
    try:
        res = assert_samples_match(x, law, order=order)
    except (AssertionError, NoPowerError):
        return
    pytest.fail(f"passed: {res.message(1e-3)}")


@settings(max_examples=40, deadline=None, database=None)
@given(
    st.sampled_from([(2, 2), (3,), (2, 3), (2, 2, 2), (3, 3)]),
    st.integers(0, 10**6),
    st.integers(1, 400),
)
def test_no_pass_ever_has_df_zero(shape: tuple[int, ...], seed: int, m: int) -> None:
    law = random_law(shape, seed=seed, zeros=0.3)
    if np.count_nonzero(law) < 2:
        return
    res = goodness_of_fit(draw(law, m, np.random.default_rng(seed)), law)
    assert res.df >= 1 and res.tables >= 1 and 0 <= res.min_pvalue <= res.pvalue <= 1


CALIBRATION = [
    ((2, 2), 3),
    ((2, 2), 20),
    ((3,), 8),
    ((2, 3), 20),
    ((2, 3), 60),
    ((2, 2, 2), 8),
    ((2, 2, 2), 200),
    ((3, 3), 60),
]


@pytest.mark.slow
@settings(max_examples=12, deadline=None, database=None, derandomize=True)
@given(st.sampled_from(CALIBRATION), st.integers(0, 50))
def test_samples_of_the_law_are_rejected_at_about_alpha(case: tuple, seed: int) -> None:
    """Size: 300 samples of the law itself, at alpha = 0.05. The exact tests are conservative
    (a discrete test cannot hit alpha exactly), so the bound is one-sided, loosely."""
    shape, m = case
    law = random_law(shape, seed=seed, zeros=0.2)
    if np.count_nonzero(law) < 2:
        return
    rng = np.random.default_rng(1000 + seed)
    rejected = refused = 0
    for _ in range(300):
        res = goodness_of_fit(draw(law, m, rng), law, mc_draws=2000)
        refused += res.min_pvalue > 0.05
        rejected += res.rejects(0.05)
    # Binomial(300, 0.05): mean 15, sd 3.8; 15 + 4.5 sd ≈ 32
    assert rejected <= 32, (shape, m, rejected)
    assert refused in (0, 300)  # the refusal depends on M and the law, never on the samples


def test_pooled_rejection_rate_over_a_fixed_seed_set_is_near_alpha() -> None:
    rejected = total = 0
    for k, (shape, m) in enumerate(CALIBRATION):
        law = random_law(shape, seed=k, zeros=0.2)
        rng = np.random.default_rng(k)
        for _ in range(250):
            rejected += goodness_of_fit(draw(law, m, rng), law, mc_draws=2000).rejects(0.05)
            total += 1
    rate = rejected / total  # 2000 runs: sd of the rate ≈ 0.005 at 0.05
    assert 0.025 <= rate <= 0.06, rate


# -- validation of the laws --------------------------------------------------------------

GOOD = np.full((2, 2), 0.25)
X = np.zeros((50, 2), dtype=int)
BAD_LAWS = [
    (np.full((2, 2), np.nan), "finite"),
    (np.array([[-0.5, 0.5], [0.5, 0.5]]), ">= 0"),
    (np.array([[np.inf, 0.0], [0.0, 0.0]]), "finite"),
    (np.full((2, 2), 0.5), "sum to 1"),
]


@pytest.mark.parametrize(("law", "rule"), BAD_LAWS, ids=["nan", "negative", "inf", "total 2"])
def test_a_bad_law_is_refused_naming_it(law: np.ndarray, rule: str) -> None:
    for call in (
        lambda: assert_samples_match(X, law),
        lambda: goodness_of_fit(X, law),
        lambda: samples_needed(law, GOOD),
    ):
        with pytest.raises(DistributionError, match=f"^law: .*{rule}"):
            call()
    with pytest.raises(DistributionError, match=f"^alternative: .*{rule}"):
        samples_needed(GOOD, law)


def test_a_float32_law_keeps_its_own_tolerance() -> None:
    law = (GOOD * (1 + 3e-7)).astype(np.float32)
    x = draw(GOOD, 400, np.random.default_rng(0))
    assert assert_samples_match(x, law).pvalue > 1e-3


@pytest.mark.parametrize(("law", "rule"), BAD_LAWS, ids=["nan", "negative", "inf", "total 2"])
def test_every_law_argument_of_the_oracle_is_validated_as_p(law: np.ndarray, rule: str) -> None:
    from exactmd.denoisers.exact import exact_denoiser
    from exactmd.testing import (
        assert_denoiser_matches,
        assert_profile_close,
        denoiser_report,
        learning_error_breakdown,
    )

    den = exact_denoiser(GOOD)
    for call in (
        lambda: assert_sampler_matches(X, law, [1, 1]),
        lambda: assert_denoiser_matches(den, law),
        lambda: denoiser_report(den, law),
        lambda: learning_error_breakdown(law, [1, 1], den),
        lambda: assert_profile_close([0.0, 0.0], law),
    ):
        with pytest.raises(DistributionError, match=f"^p: .*{rule}"):
            call()
