"""Schedules from an estimated profile, judged exactly (exactmd.sampler.practice), and E_fact
of chain laws by Monte Carlo with exact block conditionals (exactmd.sampler.chain_mc).

Brute forces, written independently of the code under test: the isotonic regression by its
min-max formula; non-negative least squares and the monotone fit over every active set;
the least E_fact over every composition of N (pure-Python sums of f); the marginal
likelihood of revealed values by a sum over every hidden path and every masked value
(pure Python, dicts); the expectation of the Monte Carlo terms over every draw and every
order, against ``exactmd.factorization_error`` on the enumerated table."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import exactmd
from exactmd.errors import ScheduleError, ValidationError
from exactmd.models import HMMLaw, MarkovChainLaw, hmm, markov_chain
from exactmd.sampler.chain_mc import (
    _orders,
    _sample_terms,
    block_log_conditional,
    chain_log_likelihood,
    mc_factorization_error,
)
from exactmd.sampler.estimate import ProfileEstimate
from exactmd.sampler.practice import (
    _bernstein,
    isotonic,
    judge_schedules,
    monotone_fit,
    nonnegative_least_squares,
    practice_study,
    profile_from_estimate,
    schedules_from_profile,
)

TOL = 1e-12


def _stochastic(rng: np.random.Generator, rows: int, cols: int, zeros: float) -> np.ndarray:
    m = rng.random((rows, cols)) + 0.05
    m[rng.random((rows, cols)) < zeros] = 0.0
    for r in range(rows):
        if not m[r].any():
            m[r, rng.integers(cols)] = 1.0
    return m / m.sum(axis=1, keepdims=True)


def _law(kind: str, seed: int, n: int, q: int = 2, qh: int = 3, zeros: float = 0.3):
    rng = np.random.default_rng(seed)
    if kind == "markov":
        return MarkovChainLaw(_stochastic(rng, 1, q, zeros)[0], _stochastic(rng, q, q, zeros), n)
    init, trans = _stochastic(rng, 1, qh, zeros)[0], _stochastic(rng, qh, qh, zeros)
    return HMMLaw(init, trans, _stochastic(rng, qh, q, zeros), n)


def _table(law) -> np.ndarray:
    if isinstance(law, MarkovChainLaw):
        return markov_chain(law.init, law.transition, law.n).numpy()
    return hmm(law.init, law.transition, law.emission, law.n).numpy()


# -- isotonic regression, NNLS, the monotone fit -----------------------------------------------


def _isotonic_brute(y: list[float], w: list[float]) -> list[float]:
    """The min-max formula: ŷ_i = max_{j <= i} min_{k >= i} mean_w(y_j..y_k)."""
    n = len(y)

    def avg(j: int, k: int) -> float:
        return sum(y[t] * w[t] for t in range(j, k + 1)) / sum(w[j : k + 1])

    return [max(min(avg(j, k) for k in range(i, n)) for j in range(i + 1)) for i in range(n)]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-5, 5), min_size=1, max_size=12),
    st.integers(0, 2**31 - 1),
)
def test_isotonic_matches_the_min_max_formula(values, seed):
    w = np.random.default_rng(seed).uniform(0.1, 3.0, size=len(values))
    got = isotonic(values, w)
    want = _isotonic_brute(list(values), w.tolist())
    assert np.allclose(got, want, atol=TOL, rtol=0)
    assert np.all(np.diff(got) >= -TOL)


def _nnls_brute(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The best unconstrained LS solution over every support that is feasible (>= 0)."""
    n = a.shape[1]
    best, best_x = math.inf, np.zeros(n)
    for r in range(n + 1):
        for support in itertools.combinations(range(n), r):
            x = np.zeros(n)
            if support:
                x[list(support)] = np.linalg.lstsq(a[:, list(support)], b, rcond=None)[0]
            if np.all(x >= -1e-13):
                value = float(np.sum((a @ x - b) ** 2))
                if value < best - 1e-13:
                    best, best_x = value, x
    return best_x


@pytest.mark.parametrize("seed", range(12))
def test_nnls_matches_every_active_set(seed):
    rng = np.random.default_rng(seed)
    m, n = int(rng.integers(3, 9)), int(rng.integers(1, 5))
    a, b = rng.normal(size=(m, n)), rng.normal(size=m)
    got = nonnegative_least_squares(a, b)
    want = _nnls_brute(a, b)
    assert np.all(got >= 0)
    assert abs(np.sum((a @ got - b) ** 2) - np.sum((a @ want - b) ** 2)) < 1e-10
    assert np.allclose(got, want, atol=1e-9)


def _bernstein_brute(x: float, d: int) -> list[float]:
    return [math.comb(d, j) * x**j * (1 - x) ** (d - j) for j in range(d + 1)]


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("degree", [1, 2, 3])
def test_monotone_fit_is_the_best_non_decreasing_polynomial(seed, degree):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.random(9))
    y = np.cumsum(rng.normal(size=9))  # a rough walk: often not monotone
    w = rng.uniform(0.5, 2.0, size=9)
    beta = monotone_fit(x, y, w, degree)
    assert np.all(np.diff(beta) >= -TOL)
    basis = np.array([_bernstein_brute(float(t), degree) for t in x])
    assert np.allclose(_bernstein(x, degree), basis, atol=TOL)

    def loss(b: np.ndarray) -> float:
        return float(np.sum(w * (basis @ b - y) ** 2))

    # brute force: β = c + Σ δ, over every set of δ_l forced to 0, weighted LS, feasible only
    best = math.inf
    lower = np.tril(np.ones((degree + 1, degree + 1)))  # β = lower @ (c, δ_1..δ_d)
    for r in range(degree + 1):
        for free in itertools.combinations(range(1, degree + 1), r):
            cols = [0, *free]
            design = (basis @ lower)[:, cols] * np.sqrt(w)[:, None]
            theta = np.linalg.lstsq(design, y * np.sqrt(w), rcond=None)[0]
            if np.all(theta[1:] >= -1e-12):
                full = np.zeros(degree + 1)
                full[cols] = theta
                best = min(best, loss(lower @ full))
    assert abs(loss(beta) - best) < 1e-10 * max(1.0, best)


def test_profile_from_estimate_paths():
    ranks = np.array([0, 3, 6, 9])
    est = ProfileEstimate(
        np.array([-1.0, -0.5, -0.7, -0.2]), np.array([0.1, 0.2, 0.1, 0.0]), ranks, 10, 1
    )
    raw = profile_from_estimate(est, 12, smooth="none")
    assert raw.tolist() == np.interp(np.arange(12), ranks, est.profile).tolist()
    iso = profile_from_estimate(est, 12, smooth="isotonic")
    # weights 1/se², the zero stderr weighs as the smallest positive one (0.1)
    want = _isotonic_brute(est.profile.tolist(), [100.0, 25.0, 100.0, 100.0])
    assert np.allclose(iso, np.interp(np.arange(12), ranks, want), atol=TOL)
    smooth = profile_from_estimate(est, 12, degree=3)
    assert smooth.shape == (12,) and np.all(np.diff(smooth) >= -TOL)
    with pytest.raises(ValidationError, match="smooth"):
        profile_from_estimate(est, smooth="spline")
    with pytest.raises(ValidationError, match="n: must exceed the largest rank"):
        profile_from_estimate(est, 9)
    with pytest.raises(ValidationError, match="estimate: must be a ProfileEstimate"):
        profile_from_estimate(np.zeros(3))


# -- schedules from a profile, judged exactly ----------------------------------------------------


def _compositions(n: int, k: int):
    for cuts in itertools.combinations(range(1, n), k - 1):
        bounds = (0, *cuts, n)
        yield tuple(bounds[j + 1] - bounds[j] for j in range(k))


def _efact_brute(f: list[float], sizes: tuple[int, ...]) -> float:
    total, a = 0.0, 0
    for s in sizes:
        for i in range(a, a + s):
            total += f[i] - f[a]
        a += s
    return total


@pytest.mark.parametrize("seed", range(4))
def test_schedules_from_profile_dp_is_the_brute_force_optimum(seed):
    n = 8
    f = np.sort(np.random.default_rng(seed).normal(size=n))
    out = schedules_from_profile(f, [1, 2, 3, 5, 8])
    for k, rules in out.items():
        best = min(_efact_brute(f.tolist(), s) for s in _compositions(n, k))
        assert abs(_efact_brute(f.tolist(), rules["optimal"].sizes) - best) < 1e-12
        assert sum(rules["sqrt rule"].sizes) == n and len(rules["sqrt rule"].sizes) == k
    flat = schedules_from_profile(np.zeros(6), [2])
    assert flat[2]["sqrt rule"] is None  # D = 0: no √ rule


@pytest.mark.parametrize("seed", range(3))
def test_judge_schedules_is_e_fact_of_the_enumerated_chain(seed):
    law = _law("markov", seed, 8, q=3)
    f = exactmd.markov_profile(law)
    table = _table(law)
    schedules = {"a": [8], "b": [3, 3, 2], "c": [1] * 8, "d": [1, 2, 5]}
    got = judge_schedules(f, schedules)
    for label, sizes in schedules.items():
        assert abs(got[label] - exactmd.factorization_error(table, sizes)) < 1e-11
        assert abs(got[label] - _efact_brute(f.tolist(), tuple(sizes))) < TOL


def test_practice_study_on_a_small_chain_agrees_with_the_enumeration():
    law = _law("markov", 5, 10, q=2, zeros=0.0)
    table = _table(law)
    study = practice_study(law, (30, 60), (2, 4), grid=None, seed=3)
    f_true = exactmd.information_profile(table)
    assert np.allclose(study.profile, f_true, atol=1e-11)
    assert [(r.n_samples, r.steps) for r in study.rows] == [(30, 2), (30, 4), (60, 2), (60, 4)]
    for r in study.rows:
        est = study.estimates[r.n_samples]
        assert abs(r.f_error - np.max(np.abs(est.profile - f_true))) < 1e-11
        assert 0.0 <= r.coverage <= 1.0
        for label, sizes in r.sizes.items():
            assert abs(r.errors[label] - exactmd.factorization_error(table, sizes)) < 1e-11
            assert r.gains[label] == pytest.approx(r.errors[label] / r.errors["constant"])
        assert r.errors["optimal (f)"] <= min(r.errors.values()) + 1e-12
    # the same seed gives the same study
    again = practice_study(law, (30, 60), (2, 4), grid=None, seed=3)
    assert again.rows == study.rows
    assert study.table().count("\n") == 1 + len(study.rows)


# -- block conditionals and the Monte Carlo E_fact ------------------------------------------------


def _likelihood_brute(law, tokens: list[int]) -> float:
    """π(x_S) by a sum over every hidden path and every value of the masked positions."""
    n, q = law.n, law.q
    if isinstance(law, MarkovChainLaw):
        init, trans, emit = law.init.tolist(), law.transition.tolist(), np.eye(q).tolist()
    else:
        init, trans, emit = law.init.tolist(), law.transition.tolist(), law.emission.tolist()
    qh = len(init)
    total = 0.0
    for h in itertools.product(range(qh), repeat=n):
        weight = init[h[0]]
        for t in range(1, n):
            weight *= trans[h[t - 1]][h[t]]
        for t in range(n):
            if tokens[t] != q:
                weight *= emit[h[t]][tokens[t]]
        total += weight
    return total


@pytest.mark.parametrize("kind", ["markov", "hmm"])
@pytest.mark.parametrize("seed", range(3))
def test_chain_log_likelihood_matches_the_sum_over_hidden_paths(kind, seed):
    law = _law(kind, seed, 5, q=3 if kind == "markov" else 2, qh=3)
    rng = np.random.default_rng(seed)
    tokens = np.where(rng.random((40, 5)) < 0.4, law.q, rng.integers(0, law.q, (40, 5)))
    got = chain_log_likelihood(law, tokens)
    for row, value in zip(tokens.tolist(), got.tolist()):
        want = _likelihood_brute(law, row)
        if want == 0:
            assert value == -math.inf
        else:
            assert abs(value - math.log(want)) < 1e-12
    assert chain_log_likelihood(law, np.full((1, 5), law.q)).tolist() == [0.0]


@pytest.mark.parametrize("kind", ["markov", "hmm"])
def test_block_log_conditional_matches_the_enumerated_table(kind):
    n = 8
    law = _law(kind, 11, n, q=2, qh=2)
    table = _table(law)
    rng = np.random.default_rng(0)
    flat = rng.choice(table.size, size=30, p=table.reshape(-1))
    x = np.stack(np.unravel_index(flat, table.shape), axis=1)
    perm = np.argsort(rng.random((30, n)), axis=1)
    a = rng.integers(0, n, size=30)
    b = a + 1 + (rng.integers(0, n, size=30) % (n - a))
    ranks = np.argsort(perm, axis=1)
    s, z = ranks < a[:, None], (ranks >= a[:, None]) & (ranks < b[:, None])
    got = block_log_conditional(law, x, s, z)

    def marginal(mask: np.ndarray, values: np.ndarray) -> float:
        axes = tuple(i for i in range(n) if not mask[i])
        m = table.sum(axis=axes) if axes else table
        return float(m[tuple(values[mask])])

    for r in range(30):
        want = math.log(marginal(s[r] | z[r], x[r]) / marginal(s[r], x[r]))
        assert abs(got[r] - want) < 1e-12


def test_block_log_conditional_refuses_bad_input():
    law = _law("markov", 0, 4)
    x = np.zeros((1, 4), dtype=np.int64)
    s, z = np.array([[True, False, False, False]]), np.array([[True, True, False, False]])
    with pytest.raises(ValidationError, match="disjoint"):
        block_log_conditional(law, x, s, z)
    with pytest.raises(ValidationError, match="law: must be a MarkovChainLaw or an HMMLaw"):
        chain_log_likelihood(np.full((2, 2), 0.25), x)
    with pytest.raises(ValidationError, match="tokens: values must lie in range"):
        chain_log_likelihood(law, np.full((1, 4), 7))


@pytest.mark.parametrize("kind", ["markov", "hmm"])
@pytest.mark.parametrize("sizes", [(4,), (2, 2), (1, 3), (3, 1), (1, 1, 2)])
def test_the_monte_carlo_terms_average_to_e_fact_over_every_draw_and_order(kind, sizes):
    n = 4
    law = _law(kind, 2, n, q=2, qh=2)
    table = _table(law)
    xs = [x for x in itertools.product(range(2), repeat=n) if table[x] > 0]
    orders = list(itertools.permutations(range(n)))
    x = np.array([v for v in xs for _ in orders], dtype=np.int64)
    o = np.array(orders * len(xs), dtype=np.int64)
    den = exactmd.exact_denoiser(law)
    bounds = np.concatenate([[0], np.cumsum(sizes)]).tolist()
    terms = _sample_terms(law, x, o, bounds, den)
    weights = np.array([table[v] for v in xs for _ in orders]) / len(orders)
    assert abs(float(weights @ terms.sum(axis=1)) - exactmd.factorization_error(table, sizes)) < (
        1e-12
    )


def test_monte_carlo_e_fact_of_a_chain_at_n_64_agrees_with_the_exact_identity():
    # M = 400 draws, seed 1: a z-test at 4.5 standard errors (deterministic given the seed)
    law = _law("markov", 7, 64, q=3, zeros=0.2)
    f = exactmd.markov_profile(law)
    schedules = {"constant": [8] * 8, "front": [2] * 8 + [12] * 4, "one step": [64]}
    mc = mc_factorization_error(law, schedules, 400, seed=1)
    exact = judge_schedules(f, schedules)
    for label in schedules:
        assert mc.stderr[label] > 0
        assert abs(mc.errors[label] - exact[label]) < 4.5 * mc.stderr[label], label
        assert mc.per_step[label].shape == (len(schedules[label]),)
        assert abs(mc.per_step[label].sum() - mc.errors[label]) < 1e-9
    ratio = exact["front"] / exact["constant"]
    assert abs(mc.gains["front"] - ratio) < 4.5 * mc.gain_stderr["front"]
    assert mc.gains["constant"] == 1.0 and mc.gain_stderr["constant"] == 0.0


def test_monte_carlo_is_deterministic_and_refuses_partitions():
    law = _law("hmm", 3, 12)
    a = mc_factorization_error(law, {"c": [3] * 4}, 20, seed=5)
    b = mc_factorization_error(law, {"c": [3] * 4}, 20, seed=5)
    assert a.errors == b.errors
    with pytest.raises(ScheduleError, match="must be an exchangeable schedule"):
        mc_factorization_error(law, {"p": [[0, 1], list(range(2, 12))]}, 10)
    with pytest.raises(ValidationError, match="schedules: must be a non-empty mapping"):
        mc_factorization_error(law, {}, 10)
    orders = _orders(3, 12, np.random.default_rng(0))
    assert sorted(orders[0].tolist()) == list(range(12))


@pytest.mark.slow
def test_practice_study_of_an_hmm_by_monte_carlo():
    law = _law("hmm", 4, 48, q=3, qh=2, zeros=0.0)
    study = practice_study(law, (40,), (4, 12), grid=12, mc_samples=60, seed=0)
    assert study.exact == "monte carlo" and study.profile is None
    for r in study.rows:
        assert r.f_error is None and r.stderr["constant"] > 0
        assert set(r.errors) == {"constant", "optimal (f̂)", "sqrt rule (f̂)"}
        assert all(np.isfinite(v) for v in r.errors.values())
    assert "±" in study.table()
