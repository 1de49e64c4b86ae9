"""Size and power of the sampler oracle: a correct sampler passes, planted bugs are caught.

The exact laws here come from an independent brute-force p_alg (a product of conditionals per
ordered partition, averaged over all of them), not from exactmd.sampler.p_alg. The full size and
power measurement is docs/oracle_calibration.py; the numbers are in docs/oracle.md.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from helpers import random_law

from exactmd.denoisers.exact import exact_denoiser, perturbed_denoiser
from exactmd.errors import ValidationError
from exactmd.sampler.p_alg import output_distribution
from exactmd.schedules.kinds import RandomRevealSchedule
from exactmd.testing import NoPowerError, samples_needed
from exactmd.testing.asserts import assert_sampler_matches, assert_samples_match
from exactmd.testing.examples import BUGS, factorized_sample
from exactmd.testing.goodness import goodness_of_fit

SHAPE = (2, 3, 2)
M_POWER = 4000  # a sample size at which every *planted* bug is caught (not every bug is)


def brute_conditional(p: np.ndarray, i: int, ctx: dict[int, int]) -> np.ndarray:
    """π(x_i | x_ctx) by slicing and summing; uniform on a context of probability 0."""
    sub = p[tuple(ctx.get(j, slice(None)) for j in range(p.ndim))]
    free = [j for j in range(p.ndim) if j not in ctx]
    ax = free.index(i)
    m = sub.sum(axis=tuple(a for a in range(len(free)) if a != ax))
    return m / m.sum() if m.sum() > 0 else np.full(p.shape[i], 1.0 / p.shape[i])


def brute_p_alg_partition(p: np.ndarray, partition: list[list[int]]) -> np.ndarray:
    """p_alg of a fixed ordered partition, from its definition, outcome by outcome."""
    out = np.zeros(p.shape)
    for x in itertools.product(*(range(q) for q in p.shape)):
        prob, ctx = 1.0, {}
        for block in partition:
            for i in block:
                prob *= brute_conditional(p, i, ctx)[x[i]]
            ctx.update({i: x[i] for i in block})
        out[x] = prob
    return out


def brute_p_alg(p: np.ndarray, sizes: tuple[int, ...]) -> np.ndarray:
    """Exchangeable p_alg: the mean over all permutations cut by ``sizes``."""
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    perms = list(itertools.permutations(range(p.ndim)))
    return sum(
        brute_p_alg_partition(p, [list(s[bounds[k] : bounds[k + 1]]) for k in range(len(sizes))])
        for s in perms
    ) / len(perms)


def brute_p_alg_random_reveal(p: np.ndarray, grid: tuple[float, ...]) -> np.ndarray:
    """MDLM random reveal: sum over the step at which each position is revealed."""
    rates = [(grid[k - 1] - grid[k]) / grid[k - 1] for k in range(1, len(grid))]
    out = np.zeros(p.shape)
    for steps in itertools.product(range(len(rates)), repeat=p.ndim):
        w = 1.0
        for k in steps:
            w *= rates[k] * np.prod([1 - r for r in rates[:k]])
        blocks = [[i for i in range(p.ndim) if steps[i] == k] for k in range(len(rates))]
        out += w * brute_p_alg_partition(p, [b for b in blocks if b])
    return out


@pytest.fixture(scope="module")
def law() -> np.ndarray:
    return random_law(SHAPE, seed=0, zeros=0.2)


CASES = [(2, 1), [[2], [0, 1]]]


def _exact_law(p: np.ndarray, schedule: object) -> np.ndarray:
    if isinstance(schedule, tuple):
        return brute_p_alg(p, schedule)
    return brute_p_alg_partition(p, schedule)  # type: ignore[arg-type]


@pytest.mark.parametrize("schedule", CASES, ids=["exchangeable", "partition"])
def test_correct_sampler_passes_at_fixed_seed(law: np.ndarray, schedule: object) -> None:
    x = factorized_sample(exact_denoiser(law), SHAPE, schedule, M_POWER, seed=12345)
    result = assert_samples_match(x, _exact_law(law, schedule))
    assert result.level == "joint" and result.pvalue > 1e-3


def test_correct_random_reveal_sampler_passes(law: np.ndarray) -> None:
    grid = (1.0, 0.6, 0.25, 0.0)
    x = factorized_sample(exact_denoiser(law), SHAPE, RandomRevealSchedule(grid), 3000, seed=7)
    assert_samples_match(x, brute_p_alg_random_reveal(law, grid))
    assert_sampler_matches(x, law, RandomRevealSchedule(grid))  # exactmd's p_alg agrees
    with pytest.raises(AssertionError):  # and the same samples are not exchangeable (1, 1, 1)
        assert_samples_match(x, brute_p_alg(law, (2, 1)))


@pytest.mark.parametrize("bug", BUGS)
@pytest.mark.parametrize("schedule", CASES, ids=["exchangeable", "partition"])
def test_planted_bug_is_caught(law: np.ndarray, schedule: object, bug: str) -> None:
    exact = _exact_law(law, schedule)
    x = factorized_sample(exact_denoiser(law), SHAPE, schedule, M_POWER, seed=2024, bug=bug)
    with pytest.raises(AssertionError) as info:
        assert_samples_match(x, exact)
    text = str(info.value)
    if "exact probability 0" not in text:
        assert "Pearson X2=" in text and "p-value=" in text
        assert "observed vs expected count" in text


def test_bug_messages_through_the_contract_entry_point(law: np.ndarray) -> None:
    x = factorized_sample(exact_denoiser(law), SHAPE, [2, 1], M_POWER, seed=3, bug="stale_context")
    with pytest.raises(AssertionError, match=r"schedule \[2, 1\]"):
        assert_sampler_matches(x, law, [2, 1])
    good = factorized_sample(exact_denoiser(law), SHAPE, [2, 1], M_POWER, seed=3)
    assert assert_sampler_matches(good, law, [2, 1]).pvalue > 1e-3


def test_power_of_each_bug_over_seeds(law: np.ndarray) -> None:
    """At M = 4000 each bug is caught in (nearly) every one of 10 seeds."""
    exact = brute_p_alg(law, (2, 1))
    den = exact_denoiser(law)
    for bug in BUGS:
        caught = sum(
            goodness_of_fit(
                factorized_sample(den, SHAPE, (2, 1), M_POWER, seed=s, bug=bug), exact
            ).rejects(1e-3)
            for s in range(10)
        )
        assert caught >= 9, (bug, caught)


def test_false_alarm_rate_is_near_alpha(law: np.ndarray) -> None:
    """Affordable size check: 300 seeds at alpha = 0.05 (the script runs 10^4 at 1e-3)."""
    exact = brute_p_alg(law, (2, 1))
    den = exact_denoiser(law)
    pvals = np.array(
        [
            goodness_of_fit(factorized_sample(den, SHAPE, (2, 1), 400, seed=s), exact).pvalue
            for s in range(300)
        ]
    )
    rejections = int(np.sum(pvals <= 0.05))
    # Binomial(300, 0.05) has mean 15; [5, 27] holds with probability > 0.998.
    assert 5 <= rejections <= 27, rejections
    # and the p-values are roughly uniform: about half below 1/2
    assert 0.40 <= float(np.mean(pvals <= 0.5)) <= 0.60


def test_marginal_mode_catches_a_bug_on_a_large_space() -> None:
    """N = 7 binary variables, M far below 5 * 2^7: pairwise marginals and the joint, with
    Bonferroni over the 22 tables."""
    p = random_law((2,) * 7, seed=3, zeros=0.0, alpha=0.3)
    exact = brute_p_alg_partition(p, [[0, 1, 2], [3, 4], [5, 6]])
    den = exact_denoiser(p)
    sched = [[0, 1, 2], [3, 4], [5, 6]]
    good = factorized_sample(den, p.shape, sched, 600, seed=1)
    result = assert_samples_match(good, exact)
    assert result.level == "marginals of order 2 and the joint" and result.tables == 22
    bad = factorized_sample(den, p.shape, sched, 600, seed=1, bug="stale_context")
    with pytest.raises(AssertionError, match="22 tables, Bonferroni"):
        assert_samples_match(bad, exact)


@pytest.mark.parametrize("schedule", [[2, 1], [[1], [2, 0]], RandomRevealSchedule((1.0, 0.4, 0.0))])
def test_the_package_monte_carlo_sampler_passes(law: np.ndarray, schedule: object) -> None:
    from exactmd.denoisers.exact import perturbed_denoiser
    from exactmd.sampler.montecarlo import sample

    den = perturbed_denoiser(law, temperature=1.5, noise=0.1, seed=4)
    x = sample(law, schedule, 3000, denoiser=den, seed=5)
    assert_sampler_matches(x, law, schedule, den)
    with pytest.raises(AssertionError):  # the exact-denoiser law is another law
        assert_sampler_matches(x, law, schedule)


# -- samples_needed against a brute-force Monte Carlo power ------------------------------


def _draw(law: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    flat = rng.choice(law.size, size=m, p=law.reshape(-1))
    return np.stack(np.unravel_index(flat, law.shape), axis=1)


def _caught(law: np.ndarray, alt: np.ndarray, m: int, runs: int, seed: int) -> float:
    """The fraction of ``runs`` samples of size m from ``alt`` that the assert rejects."""
    rng = np.random.default_rng(seed)
    caught = 0
    for _ in range(runs):
        try:
            assert_samples_match(_draw(alt, m, rng), law)
        except AssertionError:
            caught += 1
    return caught / runs


def _power_cases() -> list[tuple[str, np.ndarray, np.ndarray]]:
    small = random_law((2, 2), seed=1, zeros=0.0)
    tempered = small ** (1 / 1.3) / np.sum(small ** (1 / 1.3))
    p = random_law((2, 3), seed=2, zeros=0.0)
    noisy = perturbed_denoiser(p, noise=0.1, seed=1)
    q = random_law((2, 3, 2), seed=0, zeros=0.2, alpha=0.5)  # rare cells: pooling
    hot = perturbed_denoiser(q, temperature=1.3)
    return [
        ("tempered law", small, tempered),
        ("noisy denoiser", np.asarray(output_distribution(p, [2])),
         np.asarray(output_distribution(p, [2], noisy))),
        ("hot denoiser, pooled cells", np.asarray(output_distribution(q, [2, 1])),
         np.asarray(output_distribution(q, [2, 1], hot))),
    ]  # fmt: skip


@pytest.mark.parametrize("case", range(3), ids=["tempered", "noise", "pooled"])
def test_samples_needed_matches_the_monte_carlo_power(case: int) -> None:
    """At M = samples_needed(power=0.9) the assert catches the alternative in >= ~90% of
    200 runs (binomial sd 0.02: slack 0.07); at M / 4 clearly less often."""
    _, law, alt = _power_cases()[case]
    m = samples_needed(law, alt, alpha=1e-3, power=0.9)
    assert isinstance(m, int) and 300 <= m <= 20_000
    assert _caught(law, alt, m, 200, seed=case) >= 0.83
    assert _caught(law, alt, m // 4, 200, seed=10 + case) <= 0.5


def test_samples_needed_edge_cases() -> None:
    law = np.array([[0.5, 0.25], [0.25, 0.0]])
    # mass 0.1 on an impossible outcome: one such sample fails the test; 1 - 0.9^22 >= 0.9
    leak = np.array([[0.45, 0.225], [0.225, 0.1]])
    assert samples_needed(law, leak, power=0.9) == 22
    assert samples_needed(law, [[0.0, 0.0], [0.0, 1.0]]) == 1
    with pytest.raises(NoPowerError, match="alternative: must differ from law"):
        samples_needed(law, law.copy())
    with pytest.raises(ValidationError, match=r"alternative: must have the shape of law"):
        samples_needed(law, np.full(4, 0.25))
    # more power or a smaller alpha never needs fewer samples
    alt = np.array([[0.45, 0.3], [0.25, 0.0]])
    ms = [
        samples_needed(law, alt, alpha=a, power=b)
        for a, b in ((0.05, 0.5), (1e-3, 0.5), (1e-3, 0.99))
    ]
    assert ms == sorted(ms) and ms[0] < ms[2]
