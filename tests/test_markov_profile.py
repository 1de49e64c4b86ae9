"""Exact Markov-chain profiles by gap counting (exactmd.measures.markov) vs enumeration."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from types import SimpleNamespace

import numpy as np
import pytest
from brute import brute_entropy_of, brute_profile
from hypothesis import given, settings
from hypothesis import strategies as st

from exactmd.errors import ModelError
from exactmd.law.distribution import as_distribution
from exactmd.measures.information import information_profile, mean_subset_entropies
from exactmd.measures.markov import (
    markov_mean_entropies,
    markov_profile,
    markov_subset_entropy,
    stationary_distribution,
)


def chain_table(mu: np.ndarray, p: np.ndarray, n: int) -> np.ndarray:
    """The joint law of (X_0..X_{n-1}) by explicit products over all sequences."""
    q = len(mu)
    table = np.zeros((q,) * n)
    for x in itertools.product(range(q), repeat=n):
        prob = mu[x[0]]
        for a, b in itertools.pairwise(x):
            prob *= p[a, b]
        table[x] = prob
    return table


def random_chain(seed: int, q: int, zeros: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(q), size=q)
    p[rng.random((q, q)) < zeros] = 0.0
    for r in range(q):
        if p[r].sum() == 0:
            p[r, rng.integers(q)] = 1.0
    p /= p.sum(axis=1, keepdims=True)
    mu = rng.dirichlet(np.ones(q))
    mu[rng.random(q) < zeros / 2] = 0.0
    if mu.sum() == 0:
        mu[0] = 1.0
    return mu / mu.sum(), p


def h(v: np.ndarray) -> float:
    v = v[v > 0]
    return float(-np.sum(v * np.log(v)))


@pytest.mark.parametrize("q", [2, 3, 4])
@pytest.mark.parametrize("n", [1, 2, 3, 5, 6])
def test_profile_matches_enumeration(q: int, n: int) -> None:
    if q**n > 5000:
        pytest.skip("enumeration too large")
    for seed in range(3):
        mu, p = random_chain(100 * q + 10 * n + seed, q)
        table = chain_table(mu, p, n)
        f = markov_profile(mu, p, n)
        assert f == pytest.approx(information_profile(table), abs=1e-12)
        assert markov_mean_entropies(mu, p, n) == pytest.approx(
            mean_subset_entropies(table), abs=1e-12
        )
        if n <= 5:
            assert f == pytest.approx(brute_profile(table), abs=1e-12)  # by permutations
        for r in range(n + 1):
            for s in itertools.combinations(range(n), r):
                assert markov_subset_entropy(mu, p, n, s) == pytest.approx(
                    brute_entropy_of(table, s), abs=1e-12
                )


@settings(deadline=None, max_examples=30)
@given(seed=st.integers(0, 2**31 - 1), q=st.integers(2, 3), n=st.integers(2, 6))
def test_stationary_chains_vs_enumeration(seed: int, q: int, n: int) -> None:
    _, p = random_chain(seed, q, zeros=0.0)
    mu = stationary_distribution(p)
    assert mu @ p == pytest.approx(mu, abs=1e-12)
    f = markov_profile(None, p, n)  # None: the stationary law
    assert f == pytest.approx(information_profile(chain_table(mu, p, n)), abs=1e-11)
    assert f[0] == pytest.approx(-h(mu), abs=1e-12)


def closed_forms(p: np.ndarray, n: int) -> tuple[float, float, float]:
    """f(0), f(N−1) and Σ f for a stationary chain, from one- and two-step entropies."""
    mu = stationary_distribution(p)
    row = lambda m: np.array([h(r) for r in m])  # noqa: E731
    c1, c2 = float(mu @ row(p)), float(mu @ row(p @ p))
    h_mu = h(mu)
    # H(X_j | X_{-j}) = c1 at the two ends and 2 c1 − c2 inside (H(X_{j-1}, X_j, X_{j+1}) …)
    f_last = -(2 * c1 + (n - 2) * (2 * c1 - c2)) / n
    return -h_mu, f_last, -(h_mu + (n - 1) * c1)


@pytest.mark.parametrize(
    "p",
    [
        np.array([[0.9, 0.1], [0.2, 0.8]]),
        np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.0, 0.5]]),  # zeros, aperiodic
        np.full((4, 4), 0.25),  # i.i.d.: f constant
    ],
)
def test_n1024_closed_forms(p: np.ndarray) -> None:
    n = 1024
    f = markov_profile(None, p, n)
    f0, f_last, total = closed_forms(p, n)
    assert f.shape == (n,)
    assert f[0] == pytest.approx(f0, abs=1e-12)
    assert f[-1] == pytest.approx(f_last, abs=1e-10)
    assert f.sum() == pytest.approx(total, abs=1e-8)  # Σ f = −H(X), N terms of error ~1e-11
    assert np.all(np.diff(f) >= -1e-10)  # non-decreasing
    assert markov_mean_entropies(None, p, n)[:-1] - markov_mean_entropies(None, p, n)[1:] == (
        pytest.approx(f, abs=1e-8)
    )  # the plain difference of h̄ agrees, less accurately


def test_periodic_and_non_stationary() -> None:
    p = np.array([[0.0, 1.0], [1.0, 0.0]])  # period 2: P^g alternates
    mu = np.array([0.3, 0.7])
    for n in (2, 3, 6):
        table = chain_table(mu, p, n)
        assert markov_profile(mu, p, n) == pytest.approx(information_profile(table), abs=1e-12)
    f = markov_profile(mu, p, 1024)
    assert f[0] == pytest.approx(-h(mu), abs=1e-12)  # μ_s alternates between μ and its swap
    assert f[1:] == pytest.approx(0.0, abs=1e-12)  # one value fixes the whole chain


def test_chain_object_is_accepted() -> None:
    mu, p = random_chain(7, 3)
    ref = markov_profile(mu, p, 5)
    for attr in ("init", "initial", "stationary"):
        chain = SimpleNamespace(transition=p, n=5, **{attr: mu})
        assert markov_profile(chain) == pytest.approx(ref, abs=1e-15)
    chain = SimpleNamespace(transition=p, n=5, init=None)
    assert markov_profile(chain) == pytest.approx(markov_profile(None, p, 5), abs=1e-15)
    zoo = pytest.importorskip("exactmd.models.zoo")
    law = zoo.markov_chain(mu, p, 5)
    assert markov_profile(law) == pytest.approx(information_profile(law), abs=1e-12)
    with pytest.raises(ModelError, match=r"must come from exactmd\.models\.markov_chain"):
        markov_profile(as_distribution(chain_table(mu, p, 3)))
    spec = pytest.importorskip("exactmd.models.spec")
    init, t, n = spec.markov_spec_parameters("markov:n=1024,q=3,stay=0.8")
    assert markov_profile("markov:n=1024,q=3,stay=0.8") == pytest.approx(markov_profile(init, t, n))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: markov_profile([1.0], [[0.5, 0.5]], 3), "transition: must be a non-empty square"),
        (lambda: markov_profile(None, [[0.5, 0.6], [0.5, 0.5]], 3), "row 0 sums to 1.1"),
        (lambda: markov_profile(None, [[1.5, -0.5], [0.5, 0.5]], 3), "finite and >= 0"),
        (
            lambda: markov_profile([1.0], [[0.5, 0.5], [0.5, 0.5]], 3),
            r"init: must have shape \(2,\)",
        ),
        (lambda: markov_profile([0.2, 0.2], [[0.5, 0.5], [0.5, 0.5]], 3), "sum to 1"),
        (lambda: markov_profile(None, [[1.0, 0.0], [0.0, 1.0]], 3), "several stationary laws"),
        (lambda: markov_profile(None, [[1.0]], 0), "n: must be an integer >= 1; received 0"),
        (lambda: markov_profile(None, None, 3), "transition: a transition matrix is required"),
        (lambda: markov_subset_entropy(None, [[1.0]], 3, [5]), r"subset: must be indices"),
    ],
)
def test_bad_input(call: Callable[[], object], match: str) -> None:
    with pytest.raises(ModelError, match=match):
        call()
