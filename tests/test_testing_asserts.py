"""exactmd.testing: the goodness-of-fit core, the assertions and E_learn's breakdown.

Every exact answer is checked against brute force written here (or in test_testing_power).
"""

from __future__ import annotations

import ast
import itertools
import math

import numpy as np
import pytest
import scipy.stats
from helpers import random_law
from hypothesis import given, settings
from hypothesis import strategies as st
from test_testing_power import brute_conditional, brute_p_alg_partition

from exactmd.denoisers.exact import exact_denoiser, perturbed_denoiser
from exactmd.errors import DenoiserError, ValidationError
from exactmd.measures.information import information_profile
from exactmd.schedules.kinds import RandomRevealSchedule
from exactmd.testing import (
    assert_denoiser_matches,
    assert_profile_close,
    assert_sampler_matches,
    assert_samples_match,
    denoiser_report,
    learning_error_breakdown,
)
from exactmd.testing.goodness import chi2_sf, goodness_of_fit, pooled_chi2


def draw(law: np.ndarray, m: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    flat = rng.choice(law.size, size=m, p=law.reshape(-1))
    return np.stack(np.unravel_index(flat, law.shape), axis=1)


# -- the goodness-of-fit core ------------------------------------------------------------


def test_pooled_chi2_equals_pearson_when_no_cell_is_small() -> None:
    rng = np.random.default_rng(0)
    exp = rng.uniform(6, 40, size=9)
    obs = rng.poisson(exp)
    exp = exp * obs.sum() / exp.sum()
    stat, df = pooled_chi2(obs, exp, 5.0)
    ref = scipy.stats.chisquare(obs, exp)
    assert df == 8 and stat == pytest.approx(ref.statistic)
    assert chi2_sf(stat, df) == pytest.approx(ref.pvalue)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0.01, 30), min_size=2, max_size=12), st.integers(0, 10**6))
def test_pooling_by_brute_force(expected: list[float], seed: int) -> None:
    exp = np.asarray(expected)
    obs = np.random.default_rng(seed).poisson(exp)
    stat, df = pooled_chi2(obs, exp, 5.0)
    # brute force: cells sorted by expected; the smallest ones form one group whose expected
    # total first reaches 5 once all cells below 5 are in it
    order = np.argsort(exp, kind="stable")
    e, o = exp[order], obs[order].astype(float)
    small = int(np.sum(e < 5))
    k = small
    while k < e.size and k > 0 and e[:k].sum() < 5:
        k += 1
    groups_e = ([e[:k].sum()] if k else []) + list(e[k:])
    groups_o = ([o[:k].sum()] if k else []) + list(o[k:])
    if len(groups_e) < 2:
        assert (stat, df) == (0.0, 0)
    else:
        ref = sum((a - b) ** 2 / b for a, b in zip(groups_o, groups_e, strict=True))
        assert df == len(groups_e) - 1 and stat == pytest.approx(ref)
        assert min(groups_e) >= 5


def test_impossible_outcomes_fail_at_once_and_are_named() -> None:
    law = np.array([[0.5, 0.0], [0.25, 0.25]])
    x = draw(law, 500, 0)
    x[:3] = [0, 1]
    with pytest.raises(AssertionError, match=r"3 of 500 samples .* \(0, 1\) x3"):
        assert_samples_match(x, law)
    x[5] = [2, 0]  # a mask id left in place: outside the alphabet
    res = goodness_of_fit(x, law)
    assert res.rejects(1e-12) and ((2, 0), 1) in res.impossible


def test_report_lists_over_and_under_represented_outcomes() -> None:
    law = np.full((2, 2), 0.25)
    skewed = np.array([[0.4, 0.1], [0.25, 0.25]])
    with pytest.raises(AssertionError) as info:
        assert_samples_match(draw(skewed, 2000, 1), law)
    text = str(info.value)
    assert "Pearson X2=" in text and "df=3" in text and "p-value=" in text
    over = text.split("most over-represented")[1].split("\n")[1]
    under = text.split("most under-represented")[1].split("\n")[1]
    assert over.strip().startswith("(0, 0):") and under.strip().startswith("(0, 1):")


def test_small_spaces_use_the_joint_large_ones_the_pairs() -> None:
    law = random_law((2, 2, 3), seed=4, zeros=0.0)
    assert goodness_of_fit(draw(law, 60, 0), law).level == "joint"
    big = random_law((2,) * 6, seed=4, zeros=0.0)
    res = goodness_of_fit(draw(big, 100, 0), big)
    # "auto": the 15 pairs and the joint (exact test: its expected counts are below 5)
    assert res.level == "marginals of order 2 and the joint" and res.tables == 16
    assert goodness_of_fit(draw(big, 100, 0), big, order=1).tables == 6
    assert goodness_of_fit(draw(big, 100, 0), big, order="joint").level == "joint"


def test_marginal_pvalue_is_bonferroni_of_the_worst_pair() -> None:
    big = random_law((2, 3, 2, 2), seed=5, zeros=0.1)
    x = draw(big, 300, 2)
    res = goodness_of_fit(x, big, order=2)
    pvals = []
    for a, b in itertools.combinations(range(4), 2):
        marg = big.sum(axis=tuple(i for i in range(4) if i not in (a, b)))
        counts = np.zeros(marg.shape)
        np.add.at(counts, (x[:, a], x[:, b]), 1)
        assert marg.min() * 300 >= 5  # no pooling: the plain chi-square test
        stat, df = pooled_chi2(counts.reshape(-1), marg.reshape(-1) * 300, 5.0)
        pvals.append(chi2_sf(stat, df))
    assert res.pvalue == pytest.approx(min(1.0, 6 * min(pvals)))


@pytest.mark.parametrize(
    ("samples", "rule"),
    [
        (np.zeros((4, 3), dtype=int), "shape"),
        (np.zeros((0, 2), dtype=int), "shape"),
        (np.zeros((4, 2)) + 0.5, "integers"),
    ],
)
def test_bad_samples_raise_validation_errors(samples: np.ndarray, rule: str) -> None:
    with pytest.raises(ValidationError, match=f"samples: .*{rule}"):
        assert_samples_match(samples, np.full((2, 2), 0.25))


def test_bad_alpha_and_order() -> None:
    x = np.zeros((4, 2), dtype=int)
    with pytest.raises(
        ValidationError, match=r"alpha: must be a real number in the open interval \(0, 1\)"
    ):
        assert_samples_match(x, np.full((2, 2), 0.25), alpha=1.5)
    with pytest.raises(ValidationError, match="order: must be"):
        goodness_of_fit(x, np.full((2, 2), 0.25), order=5)


def test_torch_samples_are_accepted() -> None:
    torch = pytest.importorskip("torch")
    law = np.full((2, 2), 0.25)
    assert assert_samples_match(torch.as_tensor(draw(law, 400, 0)), law).level == "joint"


def test_assert_sampler_matches_uses_the_exact_p_alg() -> None:
    p = random_law((2, 3), seed=1, zeros=0.2)
    law = brute_p_alg_partition(p, [[0, 1]])  # one parallel step: product of marginals
    x = draw(law, 3000, 0)
    assert_sampler_matches(x, p, [2])
    with pytest.raises(AssertionError, match=r"samples \(schedule \[\[0\], \[1\]\]\)"):
        assert_sampler_matches(x, p, [[0], [1]])  # sequential: the law is π itself


# -- denoisers ---------------------------------------------------------------------------


def test_exact_denoiser_passes_and_perturbed_fails_with_the_context() -> None:
    p = random_law((2, 3, 2), seed=2, zeros=0.3)
    report = assert_denoiser_matches(exact_denoiser(p), p)
    ctx = np.array(list(itertools.product(*(range(q + 1) for q in p.shape))))
    positive = [
        t
        for t in ctx
        if (t == np.array(p.shape)).any()
        and p[tuple(v if v < q else slice(None) for v, q in zip(t, p.shape))].sum() > 0
    ]
    assert report.exhaustive and report.contexts == len(positive)
    with pytest.raises(AssertionError, match=r"context \(.*\), position \d: expected"):
        assert_denoiser_matches(perturbed_denoiser(p, noise=0.2, seed=1), p, atol=1e-3)


def test_denoiser_report_error_is_the_brute_force_maximum() -> None:
    p = random_law((3, 2), seed=3, zeros=0.2)
    den = perturbed_denoiser(p, temperature=2.0)
    report = denoiser_report(den, p)
    worst = 0.0
    for a, b in itertools.product((0, 1, 2, 3), (0, 1, 3)):  # 3 is the mask id
        if a == 3 or b == 3:
            ctx = {i: v for i, v in enumerate((a, b)) if v < 3}
            if sum(p[tuple(ctx.get(i, slice(None)) for i in range(2))].reshape(-1)) == 0:
                continue
            got = np.asarray(den(np.array([[a, b]])))[0]
            for i in range(2):
                if i not in ctx:
                    diff = got[i, : p.shape[i]] - brute_conditional(p, i, ctx)
                    worst = max(worst, float(np.abs(diff).max()))
    assert report.max_abs_error == pytest.approx(worst)


def test_sampled_contexts_for_large_n() -> None:
    p = random_law((2,) * 8, seed=6, zeros=0.2)
    report = assert_denoiser_matches(exact_denoiser(p), p, max_contexts=300)
    assert not report.exhaustive and 0 < report.contexts <= 300


def test_malformed_denoiser_output_raises_denoiser_error() -> None:
    p = np.full((2, 2), 0.25)
    with pytest.raises(DenoiserError, match="denoiser"):
        assert_denoiser_matches(lambda t: np.ones((len(t), 2, 2)), p)


def brute_learning_steps(p: np.ndarray, partition: list[list[int]], den: object) -> np.ndarray:
    """Per-step E_learn of a partition by enumerating x_{z<k} (brute force)."""
    steps = []
    seen: list[int] = []
    for block in partition:
        total = 0.0
        for vals in itertools.product(*(range(p.shape[i]) for i in seen)):
            ctx = dict(zip(seen, vals, strict=True))
            w = p[tuple(ctx.get(i, slice(None)) for i in range(p.ndim))].sum()
            if w == 0:
                continue
            tokens = np.full((1, p.ndim), max(p.shape))
            for i, v in ctx.items():
                tokens[0, i] = v
            got = np.asarray(den(tokens))[0]  # type: ignore[operator]
            for i in block:
                pi = brute_conditional(p, i, ctx)
                pos = pi > 0
                total += w * float(np.sum(pi[pos] * np.log(pi[pos] / got[i, : p.shape[i]][pos])))
        steps.append(total)
        seen = seen + list(block)
    return np.asarray(steps)


@pytest.mark.parametrize("seed", [0, 1])
def test_learning_error_breakdown_by_brute_force(seed: int) -> None:
    p = random_law((2, 3, 2), seed=seed, zeros=0.3)
    den = perturbed_denoiser(p, temperature=1.5, noise=0.1, seed=seed)
    part = [[2], [0, 1]]
    b = learning_error_breakdown(p, part, den)
    np.testing.assert_allclose(b.per_step, brute_learning_steps(p, part, den), atol=1e-12)
    # exchangeable: the mean over all ordered partitions with these sizes
    sizes = (1, 2)
    perms = list(itertools.permutations(range(3)))
    ref = sum(brute_learning_steps(p, [[s[0]], [s[1], s[2]]], den) for s in perms) / len(perms)
    b = learning_error_breakdown(p, list(sizes), den)
    np.testing.assert_allclose(b.per_step, ref, atol=1e-12)
    assert b.total == pytest.approx(float(ref.sum()))
    # MDLM random reveal: the sum over the step at which each position is revealed
    grid = (1.0, 0.7, 0.2, 0.0)
    rates = [(grid[k - 1] - grid[k]) / grid[k - 1] for k in range(1, 4)]
    ref = np.zeros(3)
    for steps in itertools.product(range(3), repeat=3):
        w = math.prod(rates[k] * math.prod(1 - r for r in rates[:k]) for k in steps)
        blocks = [[i for i in range(3) if steps[i] == k] for k in range(3)]
        per = brute_learning_steps(p, [bl for bl in blocks if bl], den)
        ref[[k for k in range(3) if blocks[k]]] += w * per
    b = learning_error_breakdown(p, RandomRevealSchedule(grid), den)
    np.testing.assert_allclose(b.per_step, ref, atol=1e-12)


def test_learning_error_is_zero_for_the_exact_denoiser_and_inf_on_missed_support() -> None:
    p = random_law((2, 2, 3), seed=7, zeros=0.3)
    assert learning_error_breakdown(p, [2, 1], exact_denoiser(p)).total == pytest.approx(0.0)
    q = np.full((2, 2), 0.25)
    onehot = lambda t: np.eye(2)[np.zeros(t.shape, dtype=int)]  # noqa: E731
    assert learning_error_breakdown(q, [1, 1], onehot).total == math.inf


def test_breakdown_agrees_with_the_sampler_module() -> None:
    from exactmd.sampler.learning import learning_error

    p = random_law((2, 3, 2), seed=8, zeros=0.3)
    den = perturbed_denoiser(p, noise=0.3, seed=2)
    for sched in ([1, 2], [[1], [0, 2]]):
        total = learning_error_breakdown(p, sched, den).total
        assert total == pytest.approx(float(learning_error(p, sched, den)), rel=1e-10)


# -- profiles ----------------------------------------------------------------------------


def test_profile_close_modes() -> None:
    p = random_law((2, 3, 2), seed=9, zeros=0.2)
    f = information_profile(p)
    np.testing.assert_array_equal(assert_profile_close(f + 1e-8, p), f)
    with pytest.raises(AssertionError, match=r"1 of 3 entries fail"):
        assert_profile_close(f + np.array([0, 0.01, 0]), p, atol=1e-3)
    # statistical mode: 0.01 off is fine with stderr 0.01, not with 0.001
    assert_profile_close(f + 0.01, p, stderr=0.01)
    with pytest.raises(AssertionError, match="standard errors"):
        assert_profile_close(f + 0.01, p, stderr=[0.001, 0.001, 0.001])
    with pytest.raises(ValidationError, match="estimate: must be a vector of length N=3"):
        assert_profile_close(f[:2], p)
    with pytest.raises(ValidationError, match="stderr: must be finite"):
        assert_profile_close(f, p, stderr=-1.0)


def test_profile_statistical_mode_size() -> None:
    """A Gaussian estimate with the stated stderr passes about 1 − alpha of the time."""
    p = random_law((2, 2, 2), seed=10, zeros=0.0)
    f = information_profile(p)
    rng = np.random.default_rng(0)
    fails = 0
    for _ in range(400):
        try:
            assert_profile_close(f + rng.normal(0, 0.01, 3), p, stderr=0.01, alpha=0.05)
        except AssertionError:
            fails += 1
    assert fails <= 45  # Bonferroni keeps the family rate <= 0.05 (mean <= 20)


def test_profile_stderr_zero_tolerates_rounding_only() -> None:
    # every marginal is Bernoulli(1/2): f(i) has no Monte Carlo error at i = 0
    p = np.zeros((2, 2, 2))
    p[0, 0, 0] = p[1, 1, 1] = p[0, 1, 1] = p[1, 0, 0] = 0.25
    f = information_profile(p)
    se = np.array([0.0, 0.01, 0.01])
    assert_profile_close(f + np.array([3e-16, 0.0, 0.0]), p, stderr=se)
    with pytest.raises(AssertionError, match="floor 1e-12"):
        assert_profile_close(f + np.array([1e-9, 0.0, 0.0]), p, stderr=se)


# -- zero-probability contexts ------------------------------------------------------------


def _brute_zero_contexts(p: np.ndarray) -> list[tuple[int, ...]]:
    """Contexts (mask = q) with a masked position whose revealed values have π-probability 0."""
    q = max(p.shape)
    out = []
    for y in itertools.product(*[range(k + 1) for k in p.shape]):
        masked = [i for i, v in enumerate(y) if v == p.shape[i]]
        if not masked:
            continue
        index = tuple(slice(None) if i in masked else v for i, v in enumerate(y))
        if p[index].sum() == 0:
            out.append(tuple(q if i in masked else v for i, v in enumerate(y)))
    return out


@pytest.mark.parametrize("shape", [(2, 2, 2), (2, 3, 2), (3, 2)])
def test_zero_contexts_are_checked_against_the_uniform_policy(shape: tuple[int, ...]) -> None:
    p = random_law(shape, seed=7, zeros=0.5)
    zeros = _brute_zero_contexts(p)
    assert zeros  # the law has contexts of probability 0
    exact = exact_denoiser(p)
    report = assert_denoiser_matches(exact, p, check_zero_contexts=True)
    assert report.zero_contexts == len(zeros) and report.exhaustive
    q = max(shape)

    def skewed(tokens: np.ndarray) -> np.ndarray:
        """Exact on contexts of positive probability; all mass on 0 elsewhere."""
        out = np.asarray(exact(tokens)).copy()
        bad = np.array([tuple(t) in set(zeros) for t in tokens.tolist()], dtype=bool)
        out[bad] = np.eye(q)[0]
        return out

    assert assert_denoiser_matches(skewed, p).zero_contexts == 0  # default: not checked
    with pytest.raises(AssertionError, match=r"of probability 0") as info:
        assert_denoiser_matches(skewed, p, check_zero_contexts=True)
    named = [
        line.split("context ")[1].split(", position")[0] for line in str(info.value).split("\n")[1:]
    ]
    assert named and all(ast.literal_eval(t) in zeros for t in named)  # names them
    # sampled mode (too many contexts for max_contexts): zero contexts are drawn too
    small = math.prod(k + 1 for k in shape) // 4 - 1
    report = denoiser_report(exact, p, max_contexts=small, check_zero_contexts=True)
    assert not report.exhaustive and report.zero_contexts > 0 and report.max_abs_error < 1e-12
    with pytest.raises(AssertionError, match=r"of probability 0"):
        assert_denoiser_matches(skewed, p, max_contexts=small, check_zero_contexts=True)
