"""Adaptive planners: exact p_alg, E_fact and E_learn against an independent brute force."""

from __future__ import annotations

import itertools
import math
from functools import reduce

import numpy as np
import pytest
from helpers import block_copy, compositions, laws, random_law
from hypothesis import given, settings
from hypothesis import strategies as st

from exactmd.denoisers.exact import perturbed_denoiser
from exactmd.errors import MemoryPlanError, ScheduleError, ValidationError
from exactmd.measures.information import complexity, kl, total_correlation
from exactmd.sampler.adaptive import (
    AdaptiveSchedule,
    adaptive_factorization_error,
    adaptive_learning_error,
    adaptive_output_distribution,
)
from exactmd.sampler.bound import check_bound
from exactmd.sampler.learning import learning_error
from exactmd.sampler.montecarlo import sample
from exactmd.sampler.p_alg import output_distribution
from exactmd.sampler.planners import least_entropy_planner, most_confident_planner
from exactmd.schedules.factorization import factorization_error, worst_case_bound
from exactmd.schedules.kinds import DeterministicSchedule, ExchangeableSchedule
from exactmd.testing.asserts import assert_sampler_matches

SETTINGS = settings(deadline=None, max_examples=15)


# ---------------------------------------------------------------- brute force (no exactmd code)
def _brute_probs(table, tokens, denoiser):
    """The planner's rows: π's conditionals (uniform on a zero context) or the raw denoiser."""
    n, q = table.ndim, max(table.shape)
    if denoiser is not None:
        return np.asarray(denoiser(np.array([tokens])), dtype=np.float64)[0]
    sub = table[tuple(slice(None) if v == q else v for v in tokens)]
    masked = [i for i in range(n) if tokens[i] == q]
    out = np.zeros((n, q))
    for a, i in enumerate(masked):
        if sub.sum() > 0:
            out[i, : table.shape[i]] = sub.sum(axis=tuple(b for b in range(len(masked)) if b != a))
            out[i] /= out[i].sum()
        else:
            out[i, : table.shape[i]] = 1.0 / table.shape[i]
    return out


def _brute_plan(planner, tokens, s, probs):
    out = planner(np.array(tokens), s, probs)
    items = out.items() if isinstance(out, dict) else [(out, 1.0)]
    return [(tuple(sorted(z)), w) for z, w in items if w > 0]


def brute(p, sizes, planner, denoiser=None):
    """(p_alg, E_fact, E_learn) by plain recursion over the planner's choices and the values."""
    table = np.asarray(p, dtype=np.float64)
    n, q = table.ndim, max(table.shape)
    law = np.zeros(table.shape)
    errors = [0.0, 0.0]

    def run_alg(tokens, k, w):
        if k == len(sizes):
            law[tuple(tokens)] += w
            return
        probs = _brute_probs(table, tokens, denoiser)
        for z, share in _brute_plan(planner, tokens, sizes[k], probs):
            for vals in itertools.product(*(range(table.shape[i]) for i in z)):
                pr = math.prod(probs[i, v] for i, v in zip(z, vals))
                new = list(tokens)
                for i, v in zip(z, vals):
                    new[i] = v
                if pr > 0:
                    run_alg(new, k + 1, w * share * pr)

    def run_pi(tokens, k, w):
        if k == len(sizes):
            return
        probs = _brute_probs(table, tokens, denoiser)
        sub = table[tuple(slice(None) if v == q else v for v in tokens)]
        joint = sub / sub.sum()
        masked = [i for i in range(n) if tokens[i] == q]
        marg = {i: joint.sum(axis=tuple(b for b, j in enumerate(masked) if j != i)) for i in masked}
        for z, share in _brute_plan(planner, tokens, sizes[k], probs):
            jz = joint.sum(axis=tuple(b for b, j in enumerate(masked) if j not in z))
            prod = reduce(np.multiply.outer, [marg[i] for i in z])
            pos = jz > 0
            errors[0] += w * share * float(np.sum(jz[pos] * np.log(jz[pos] / prod[pos])))
            for i in z:
                m, r = marg[i], probs[i, : table.shape[i]]
                if np.any(r[m > 0] <= 0):
                    errors[1] = math.inf
                else:
                    errors[1] += w * share * float(np.sum(m[m > 0] * np.log(m[m > 0] / r[m > 0])))
            for vals in itertools.product(*(range(table.shape[i]) for i in z)):
                new = list(tokens)
                for i, v in zip(z, vals):
                    new[i] = v
                if jz[vals] > 0:
                    run_pi(new, k + 1, w * share * jz[vals])

    run_alg([q] * n, 0, 1.0)
    run_pi([q] * n, 0, 1.0)
    return law, errors[0], errors[1]


# ------------------------------------------------------------------------------------ planners
def skewed_planner(tokens, size, probs):
    """Non-uniform weights that depend on the revealed values and on the probabilities."""
    q = probs.shape[1]
    masked = [i for i in range(len(tokens)) if tokens[i] == q]
    subsets = list(itertools.combinations(masked, size))
    salt = 1 + int(np.sum(np.where(tokens < q, tokens + 1, 0)))
    w = np.array(
        [1.0 + (salt * (j + 1)) % 3 + probs[list(z), 0].sum() for j, z in enumerate(subsets)]
    )
    return dict(zip(subsets, w / w.sum()))


def uniform_planner(tokens, size, probs):
    masked = [i for i in range(len(tokens)) if tokens[i] == probs.shape[1]]
    subsets = list(itertools.combinations(masked, size))
    return {z: 1.0 / len(subsets) for z in subsets}


def fixed_planner(partition):
    """Ignores the values: returns the block of ``partition`` that comes next."""

    def plan(tokens, size, probs):
        revealed = int(np.sum(tokens != probs.shape[1]))
        k = [sum(len(b) for b in partition[:j]) for j in range(len(partition))].index(revealed)
        assert len(partition[k]) == size
        return tuple(partition[k])

    return plan


PLANNERS = {
    "most_confident": most_confident_planner,
    "least_entropy": least_entropy_planner,
    "skewed": skewed_planner,
}
CASES = [((2, 3, 2), [1, 2]), ((3, 2, 2, 2), [2, 1, 1]), ((2, 2, 2, 2, 2), [2, 2, 1])]


# ---------------------------------------------------------------------------------------- tests
@pytest.mark.parametrize("planner", list(PLANNERS))
@pytest.mark.parametrize(("shape", "sizes"), CASES)
@pytest.mark.parametrize("learned", [False, True])
def test_matches_brute_force(planner, shape, sizes, learned):
    p = random_law(shape, seed=sum(shape) + len(sizes), zeros=0.3)
    den = perturbed_denoiser(p, temperature=1.3, noise=0.2, seed=3) if learned else None
    sched = AdaptiveSchedule(sizes, PLANNERS[planner])
    law, e_fact, e_learn = brute(p, sizes, PLANNERS[planner], den)
    got = output_distribution(p, sched, den)
    assert got.shape == p.shape and got.dtype == np.float64
    np.testing.assert_allclose(got, law, atol=1e-13)
    assert adaptive_factorization_error(p, sched, den) == pytest.approx(e_fact, abs=1e-12)
    if learned:
        assert learning_error(p, sched, den) == pytest.approx(e_learn, abs=1e-12)
        assert e_learn > 0
    else:
        assert factorization_error(p, sched) == pytest.approx(e_fact, abs=1e-12)
        assert learning_error(p, sched, None) == 0.0


def test_zero_denoiser_gives_infinite_learning_error():
    p = random_law((2, 2, 2), seed=1, zeros=0.0)

    def peaked(tokens):
        out = np.zeros((len(tokens), 3, 2))
        out[:, :, 0] = 1.0
        return out

    sched = AdaptiveSchedule([1, 2], most_confident_planner)
    assert math.isinf(learning_error(p, sched, peaked))
    assert math.isinf(brute(p, [1, 2], most_confident_planner, peaked)[2])


@pytest.mark.parametrize("learned", [False, True])
def test_fixed_planner_equals_deterministic_schedule(learned):
    p = random_law((2, 3, 2, 2), seed=5, zeros=0.3)
    den = perturbed_denoiser(p, temperature=1.5, noise=0.3) if learned else None
    partition = ((2,), (0, 3), (1,))
    adaptive = AdaptiveSchedule([1, 2, 1], fixed_planner(partition))
    det = DeterministicSchedule(partition)
    np.testing.assert_allclose(
        output_distribution(p, adaptive, den), output_distribution(p, det, den), atol=1e-14
    )
    assert factorization_error(p, adaptive) == pytest.approx(factorization_error(p, det), abs=1e-12)
    assert learning_error(p, adaptive, den) == pytest.approx(learning_error(p, det, den), abs=1e-12)


@pytest.mark.parametrize("learned", [False, True])
def test_uniform_planner_equals_exchangeable_schedule(learned):
    p = random_law((2, 3, 2, 2), seed=6, zeros=0.3)
    den = perturbed_denoiser(p, temperature=0.7, noise=0.2) if learned else None
    adaptive = AdaptiveSchedule([2, 1, 1], uniform_planner)
    exch = ExchangeableSchedule((2, 1, 1))
    np.testing.assert_allclose(
        output_distribution(p, adaptive, den), output_distribution(p, exch, den), atol=1e-14
    )
    assert factorization_error(p, adaptive) == pytest.approx(
        factorization_error(p, exch), abs=1e-12
    )
    assert learning_error(p, adaptive, den) == pytest.approx(
        learning_error(p, exch, den), abs=1e-12
    )


@SETTINGS
@given(p=laws(max_n=4), planner=st.sampled_from(list(PLANNERS)), data=st.data())
def test_identities(p, planner, data):
    n = p.ndim
    sizes = data.draw(st.sampled_from(compositions(n)))
    sched = AdaptiveSchedule(sizes, PLANNERS[planner])
    law = output_distribution(p, sched)
    assert law.sum() == pytest.approx(1.0, abs=1e-12) and np.all(law >= 0)
    den = perturbed_denoiser(p, temperature=1.4, noise=0.25, seed=2)
    report = check_bound(p, sched, den)
    assert report.holds, report
    assert report.factorization_error == pytest.approx(adaptive_factorization_error(p, sched, den))
    assert check_bound(p, sched).holds
    np.testing.assert_allclose(
        output_distribution(p, AdaptiveSchedule([1] * n, PLANNERS[planner])), p, atol=1e-13
    )
    one = AdaptiveSchedule([n], PLANNERS[planner])
    assert factorization_error(p, one) == pytest.approx(total_correlation(p), abs=1e-11)
    assert factorization_error(p, AdaptiveSchedule([1] * n, PLANNERS[planner])) == pytest.approx(
        0, abs=1e-12
    )


@SETTINGS
@given(p=laws(max_n=6), planner=st.sampled_from(list(PLANNERS)), data=st.data())
def test_constant_size_bound(p, planner, data):
    n = p.ndim
    s = data.draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0]))
    k = n // s
    sched = AdaptiveSchedule([s] * k, PLANNERS[planner])
    e_fact = factorization_error(p, sched)
    assert -1e-12 <= e_fact <= worst_case_bound(p, k) + 1e-10
    assert worst_case_bound(p, k) == pytest.approx((n - k) * complexity(p))


def test_block_copy_worst_case():
    # the planner sees copies: E_fact = KL = (N - K) log q for an aligned fixed planner
    p = block_copy(3, [2, 2])
    sched = AdaptiveSchedule([2, 2], fixed_planner(((0, 1), (2, 3))))
    worst = 2 * math.log(3)
    assert factorization_error(p, sched) == pytest.approx(worst, rel=1e-12)
    assert kl(p, output_distribution(p, sched)) == pytest.approx(worst, rel=1e-12)
    smart = AdaptiveSchedule([2, 2], most_confident_planner)  # after one reveal, its copy is sure
    assert factorization_error(p, smart) < worst


BAD = {
    "unmasked": (lambda t, s, pr: (0,) if t[0] != pr.shape[1] else (1,), "masked positions"),
    "wrong size": (lambda t, s, pr: tuple(range(s + 1)), "distinct masked positions"),
    "repeat": (lambda t, s, pr: {(2, 2): 1.0}, "distinct masked positions"),
    "not ints": (lambda t, s, pr: "ab", "distinct masked positions"),
    "negative": (lambda t, s, pr: {(1, 2): 1.5, (0, 2): -0.5}, "finite and >= 0"),
    "nan": (lambda t, s, pr: {(1, 2): math.nan}, "finite and >= 0"),
    "sum": (lambda t, s, pr: {(1, 2): 0.5, (0, 2): 0.4}, "sum to 1 within"),
    "empty": (lambda t, s, pr: {}, "empty mapping"),
    "outside": (lambda t, s, pr: (1, 7), "distinct masked positions"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_planner_outputs_are_refused(case):
    planner, rule = BAD[case]
    p = random_law((2, 2, 2), seed=2)
    sched = AdaptiveSchedule([2, 1] if case != "unmasked" else [1, 2], planner)
    for call in (
        lambda: output_distribution(p, sched),
        lambda: factorization_error(p, sched),
        lambda: sample(p, sched, 5, seed=0),
    ):
        with pytest.raises(ScheduleError, match=rule) as info:
            call()
        assert "planner <lambda> at context tokens [" in str(info.value)


def test_schedule_validation_and_limits():
    with pytest.raises(ScheduleError, match="planner: must be callable"):
        AdaptiveSchedule([1, 1], None)
    with pytest.raises(ScheduleError, match="sum to N=3"):
        output_distribution(np.full((2, 2, 2), 1 / 8), AdaptiveSchedule([1, 1], uniform_planner))
    with pytest.raises(ScheduleError, match="every size must be >= 1"):
        AdaptiveSchedule([0, 3], uniform_planner)
    p = random_law((2, 2, 2, 2), seed=3, zeros=0.0)
    with pytest.raises(MemoryPlanError, match=r"reaches \d+ states or more after step 1 of 2"):
        adaptive_output_distribution(p, AdaptiveSchedule([2, 2], uniform_planner), max_states=10)
    import sympy

    half = sympy.Rational(1, 2)
    with pytest.raises(ValidationError, match="numeric only"):
        adaptive_output_distribution(
            sympy.Array([half, half]), AdaptiveSchedule([1], uniform_planner)
        )
    with pytest.raises(ScheduleError, match="must be an AdaptiveSchedule"):
        adaptive_factorization_error(p, [2, 2])
    assert adaptive_learning_error(p, AdaptiveSchedule([2, 2], uniform_planner), None) == 0.0
    assert repr(AdaptiveSchedule((2, 1), uniform_planner, label="u")) == (
        "AdaptiveSchedule(sizes=(2, 1), planner=uniform_planner, label='u')"
    )


def test_planner_sees_read_only_arrays():
    seen = []

    def spy(tokens, size, probs):
        seen.append(
            (tokens.copy(), size, probs.shape, tokens.flags.writeable, probs.flags.writeable)
        )
        return most_confident_planner(tokens, size, probs)

    p = random_law((2, 3), seed=4)
    output_distribution(p, AdaptiveSchedule([1, 1], spy))
    first = seen[0]
    assert first[0].tolist() == [3, 3] and first[1] == 1 and first[2] == (2, 3)
    assert not any(s[3] or s[4] for s in seen)


def test_torch_backend(backend, as_backend):
    p = random_law((2, 3, 2), seed=8)
    sched = AdaptiveSchedule([2, 1], most_confident_planner)
    np.testing.assert_allclose(
        output_distribution(as_backend(p), sched), output_distribution(p, sched), atol=1e-14
    )
    assert factorization_error(as_backend(p), sched) == pytest.approx(factorization_error(p, sched))


@pytest.mark.parametrize("learned", [False, True])
def test_monte_carlo_matches_exact_law(learned):
    p = random_law((2, 3, 2), seed=21, zeros=0.3)
    den = perturbed_denoiser(p, temperature=1.5, noise=0.3) if learned else None
    sched = AdaptiveSchedule([1, 2], skewed_planner if learned else most_confident_planner)
    x = sample(p, sched, 6000, den, seed=123)
    assert x.shape == (6000, 3)
    assert_sampler_matches(x, p, sched, den)
    with pytest.raises(AssertionError):  # negative control: the K = N law is a different one
        assert_sampler_matches(x, p, AdaptiveSchedule([1, 1, 1], most_confident_planner), den)


def _rule(tokens, size, score):
    """The documented rule, written out: best summed score (12 decimals), ties uniform."""
    q = 3
    masked = [i for i in range(len(tokens)) if tokens[i] == q]
    table = {z: round(sum(score[i] for i in z), 12) for z in itertools.combinations(masked, size)}
    top = max(table.values())
    best = sorted(z for z, v in table.items() if v == top)
    return {z: 1 / len(best) for z in best}


@SETTINGS
@given(
    rows=st.lists(
        st.sampled_from([(1.0, 0, 0), (0.5, 0.5, 0), (0.2, 0.3, 0.5), (0.6, 0.4, 0)]),
        min_size=4,
        max_size=4,
    ),
    revealed=st.lists(st.booleans(), min_size=4, max_size=4),
    size=st.integers(1, 3),
)
def test_built_in_planner_rules(rows, revealed, size):
    probs = np.array(rows, dtype=np.float64)
    tokens = np.where(revealed, 0, 3)
    if int(np.sum(tokens == 3)) < size:
        return
    top = probs.max(axis=1)
    entropy = [-sum(v * math.log(v) for v in r if v > 0) for r in rows]
    assert most_confident_planner(tokens, size, probs) == pytest.approx(_rule(tokens, size, top))
    neg = [-h for h in entropy]
    assert least_entropy_planner(tokens, size, probs) == pytest.approx(_rule(tokens, size, neg))
    split = most_confident_planner(np.array([3, 3, 3]), 1, np.full((3, 3), 1 / 3))
    assert split == pytest.approx({(0,): 1 / 3, (1,): 1 / 3, (2,): 1 / 3})


@pytest.mark.parametrize("planner", ["most_confident", "least_entropy"])
@pytest.mark.parametrize("learned", [False, True])
def test_tie_free_planner_attains_the_bound(planner, learned):
    # a planner without ties is a function of the revealed values: given x the path is fixed
    # under π and under the sampler, so the path-space identity gives KL = E_learn + E_fact
    p = random_law((2, 3, 2, 2, 3), seed=11, zeros=0.0)
    den = perturbed_denoiser(p, temperature=1.3, noise=0.2, seed=1) if learned else None
    report = check_bound(p, AdaptiveSchedule([2, 2, 1], PLANNERS[planner]), den)
    assert report.kl > 0.01 and report.slack == pytest.approx(0.0, abs=1e-12)
    skewed = check_bound(p, AdaptiveSchedule([2, 2, 1], skewed_planner), den)
    assert skewed.holds and skewed.slack > 1e-4  # a randomised planner: strict in general
