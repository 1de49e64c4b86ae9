"""Exact optimal schedules (exactmd.schedules.optimum) vs exhaustive search over all
compositions."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import pytest
from brute import brute_exchangeable_error, brute_total_correlation
from helpers import random_law
from hypothesis import given, settings
from hypothesis import strategies as st

from exactmd.errors import MemoryPlanError, ScheduleError
from exactmd.law.distribution import as_distribution
from exactmd.schedules.factorization import factorization_error_from_profile
from exactmd.schedules.optimum import (
    as_profile,
    optimal_curve,
    optimal_error,
    optimal_schedule,
    optimal_table,
    step_costs,
)


def compositions(n: int, k: int) -> Iterator[tuple[int, ...]]:
    """All (s_1..s_k), s_i >= 1, summing to n, in lexicographic order."""
    for cuts in itertools.combinations(range(1, n), k - 1):
        bounds = (0, *cuts, n)
        yield tuple(bounds[i + 1] - bounds[i] for i in range(k))


def direct_error(f: np.ndarray, sizes: tuple[int, ...]) -> float:
    """E_fact = Σ_k Σ_{i in step k} (f(i) − f(a_k)), written out term by term."""
    total, a = 0.0, 0
    for s in sizes:
        total += sum(float(f[i] - f[a]) for i in range(a, a + s))
        a += s
    return total


def brute_optimum(f: np.ndarray, k: int) -> tuple[float, tuple[int, ...]]:
    """The least E_fact and the lexicographically first sizes reaching it (1e-9 ties)."""
    values = {c: direct_error(f, c) for c in compositions(len(f), k)}
    best = min(values.values())
    first = next(c for c, v in values.items() if v <= best + 1e-9)
    return best, first


def profiles(seed: int, n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    inc = rng.exponential(size=n - 1) * (rng.random(n - 1) < 0.7)  # plateaus: ties
    return [
        np.concatenate([[0.0], np.cumsum(inc)]) - 3.0,  # non-decreasing with flat parts
        np.sort(rng.normal(size=n)),  # generic non-decreasing
        rng.normal(size=n),  # not monotone (an estimated profile can be)
        np.full(n, -0.5),  # independent law: every schedule ties
    ]


@pytest.mark.parametrize("n", range(1, 11))
def test_dp_matches_exhaustive_search(n: int) -> None:
    for j, f in enumerate(profiles(n, n)):
        table = optimal_table(f)
        for k in range(1, n + 1):
            best, first = brute_optimum(f, k)
            sizes = table.sizes(k)
            assert sum(sizes) == n and len(sizes) == k and min(sizes) >= 1
            assert all(type(s) is int for s in sizes)
            assert table.error(k) == pytest.approx(best, abs=1e-10), (j, k)
            assert direct_error(f, sizes) == pytest.approx(best, abs=1e-10), (j, k)
            assert sizes == first, (j, k)  # documented tie rule: lexicographically smallest
            assert optimal_schedule(f, k) == sizes
            assert optimal_error(f, k) == pytest.approx(best, abs=1e-10)


def test_ties_lexicographically_smallest() -> None:
    assert optimal_schedule(np.zeros(7), 3) == (1, 1, 5)
    assert optimal_schedule([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 3) == (2, 2, 3)


@pytest.mark.parametrize(("shape", "seed"), [((2, 3, 2), 0), ((3, 2, 2, 2), 1), ((2,) * 5, 2)])
def test_law_optimum_vs_ordered_partition_enumeration(shape: tuple[int, ...], seed: int) -> None:
    p = random_law(shape, seed=seed, zeros=0.3)
    n = len(shape)
    curve = optimal_curve(p)
    for k in range(1, n + 1):
        brute = {c: brute_exchangeable_error(p, c) for c in compositions(n, k)}
        best = min(brute.values())
        sizes = optimal_schedule(p, k)
        assert brute[sizes] == pytest.approx(best, abs=1e-10)
        assert curve[k - 1] == pytest.approx(best, abs=1e-10)
    assert curve[0] == pytest.approx(brute_total_correlation(p), abs=1e-10)  # K = 1: TC
    assert curve[-1] == pytest.approx(0.0, abs=1e-12)  # K = N: 0
    assert optimal_schedule(as_distribution(p), 2) == optimal_schedule(p, 2)


def test_xor_known_answer() -> None:
    p = np.zeros((2, 2, 2))
    for a, b in itertools.product((0, 1), repeat=2):
        p[a, b, a ^ b] = 0.25
    assert optimal_schedule(p, 2) == (2, 1)
    assert optimal_curve(p).tolist() == pytest.approx([np.log(2), 0.0, 0.0], abs=1e-12)


@settings(deadline=None, max_examples=60)
@given(
    inc=st.lists(st.floats(0.0, 1.0), min_size=2, max_size=40),
    steps=st.integers(2, 12),
    concave=st.booleans(),
)
def test_convex_concave_lemma(inc: list[float], steps: int, concave: bool) -> None:
    n = len(inc) + 1
    k = min(steps, n - 1)
    # strictly increasing increments (gap >= 1e-3): strictly increasing, strictly convex f
    d = np.sort(np.asarray(inc)) + 1e-3 * np.arange(1, n)
    if concave:
        d = d[::-1]
    f = np.concatenate([[0.0], np.cumsum(d)])
    sizes = np.asarray(optimal_schedule(f, k))
    if concave:
        assert np.all(np.diff(sizes) >= 0), sizes
    else:
        assert np.all(np.diff(sizes) <= 0), sizes


@settings(deadline=None, max_examples=30)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(2, 30))
def test_curve_properties(seed: int, n: int) -> None:
    f = np.sort(np.random.default_rng(seed).normal(size=n))
    curve = optimal_curve(f)
    assert curve[0] == pytest.approx(float(np.sum(f - f[0])), abs=1e-9)
    assert curve[-1] == pytest.approx(0.0, abs=1e-9)
    assert np.all(np.diff(curve) <= 1e-9)  # splitting a step never costs more (f monotone)
    table = optimal_table(f, n)
    for k in (1, n // 2 + 1, n):
        assert direct_error(f, table.sizes(k)) == pytest.approx(curve[k - 1], abs=1e-9)


def test_large_n_beats_every_named_and_random_schedule() -> None:
    from exactmd.schedules.factorization import factorization_error_from_profile
    from exactmd.schedules.families import cosine, linear, polynomial

    n, k = 1024, 64
    f = -1.0 / (1.0 + np.arange(n) / 50.0)  # increasing and convex... then concave mix
    f = f + 0.3 * np.tanh((np.arange(n) - 600) / 80.0)
    f = np.maximum.accumulate(f)
    table = optimal_table(f, k)
    best = table.error(k)
    sizes = table.sizes(k)
    assert sum(sizes) == n and len(sizes) == k
    assert factorization_error_from_profile(f, list(sizes)) == pytest.approx(best, rel=1e-10)
    rng = np.random.default_rng(0)
    others = [linear(n, k), cosine(n, k), polynomial(n, k, 0.5)]
    for _ in range(20):
        cuts = np.sort(rng.choice(np.arange(1, n), size=k - 1, replace=False))
        others.append(np.diff(np.concatenate([[0], cuts, [n]])).tolist())
    for s in others:
        assert factorization_error_from_profile(f, s) >= best - 1e-9


def test_input_reading() -> None:
    f = [-1.0, -0.5, 0.0]
    assert as_profile(f).tolist() == f
    assert as_profile(tuple(f)).tolist() == f
    assert as_profile(np.array([1, 2, 3])).dtype == np.float64
    law = [[0.5, 0.0], [0.0, 0.5]]  # 2-D: a law
    assert as_profile(law) == pytest.approx([-np.log(2), 0.0])
    torch = pytest.importorskip("torch")
    assert as_profile(torch.tensor(f, dtype=torch.float64)).tolist() == f
    assert as_profile(torch.tensor(law, dtype=torch.float64)) == pytest.approx([-np.log(2), 0.0])


def test_step_costs() -> None:
    f = np.array([0.0, 1.0, 3.0, 3.5])
    c = step_costs(f)
    assert c.shape == (4, 5)
    for a in range(4):
        for b in range(5):
            expect = np.inf if b <= a else sum(f[i] - f[a] for i in range(a, b))
            assert c[a, b] == pytest.approx(expect)


@pytest.mark.parametrize(
    ("profile", "steps", "match"),
    [
        ([0.0, 1.0], 0, "steps: must be an integer K with 1 <= K <= N=2; received 0"),
        ([0.0, 1.0], 3, "received 3"),
        ([0.0, 1.0], 1.5, "received 1.5"),
        ([0.0, 1.0], True, "received True"),
        ([0.0, float("nan")], 1, "profile: must be a non-empty 1-D array of finite floats"),
        (np.zeros(0), 1, "profile: must be a non-empty"),
    ],
)
def test_bad_input(profile: object, steps: object, match: str) -> None:
    with pytest.raises(ScheduleError, match=match.replace("(", r"\(").replace(")", r"\)")):
        optimal_schedule(profile, steps)  # type: ignore[arg-type]


def test_memory_refused_before_allocating(monkeypatch: pytest.MonkeyPatch) -> None:
    from exactmd.backends import NumpyBackend

    # the budget rule of every plan: 80% of what the host reports available (no fixed cap)
    n, k = 2_000, 2
    need = 3 * 8 * n * (n + 1) + 16 * (k + 1) * (n + 1)
    monkeypatch.setattr(NumpyBackend, "available_memory", lambda self: need * 5 // 4 + 4)
    assert optimal_table(np.zeros(n), k).sizes(k) == (1, n - 1)
    monkeypatch.setattr(NumpyBackend, "available_memory", lambda self: need * 5 // 4 - 4)
    with pytest.raises(MemoryPlanError, match=rf"profile: the DP for N={n}.*\({need} bytes\)"):
        optimal_table(np.zeros(n), k)
    monkeypatch.undo()
    with pytest.raises(MemoryPlanError, match="bytes"):  # 10^6 x 10^6 entries: terabytes
        optimal_table(np.zeros(1_000_000), 2)
    with pytest.raises(ScheduleError, match="tie_tol"):
        optimal_table([0.0, 1.0], tie_tol=-1.0)
    with pytest.raises(ValueError, match="max_steps"):
        optimal_table([0.0, 1.0], max_steps=5)
    with pytest.raises(ScheduleError, match="steps"):
        optimal_table([0.0, 1.0, 2.0], max_steps=2).sizes(3)


@pytest.mark.parametrize("seed", range(4))
def test_any_profile_is_accepted_and_exact(seed: int) -> None:
    # no sign or monotonicity is required (documented): synthetic profiles, decreasing ones,
    # positive ones and powers (i / N) ** p all get the exhaustive optimum
    rng = np.random.default_rng(seed)
    n = 7
    grid = np.arange(n) / n
    for f in (
        -np.sort(rng.normal(size=n)),  # decreasing
        np.abs(rng.normal(size=n)) + 1.0,  # positive
        grid**0.5,
        grid**3,
        rng.normal(size=n),
    ):
        for k in range(1, n + 1):
            best, first = brute_optimum(f, k)
            assert optimal_schedule(f, k) == first
            assert optimal_error(f, k) == pytest.approx(best, abs=1e-9)


def test_one_variable_law_is_read_through_a_distribution() -> None:
    # a 1-D array is always a profile (documented); a law with N = 1 goes in as a Distribution
    law = np.array([0.3, 0.7])
    assert as_profile(law).tolist() == [0.3, 0.7]  # the profile of a law with N = 2
    assert optimal_schedule(law, 2) == (1, 1)
    d = as_distribution(law)
    assert as_profile(d).size == 1
    assert optimal_schedule(d, 1) == (1,)
    assert optimal_error(d, 1) == 0.0
    assert optimal_curve(d).tolist() == [0.0]


def test_tie_tolerance_scales_with_the_spread_of_f_not_its_offset() -> None:
    """A nearly independent law: f = -log 2 + 1e-8 sqrt(i/N). Shifting f by a constant changes
    no E_fact, so the optimum must be the same as for the unshifted 1e-8 sqrt(i/N) profile."""
    n, k = 200, 4
    shape = 1e-8 * np.sqrt(np.arange(n) / n)
    shifted = -np.log(2.0) + shape
    expected = optimal_schedule(shape, k)
    assert optimal_schedule(shifted, k) == expected
    # the old offset-scaled tolerance returned sizes costing 1.3% (~3e-9 nats) more; the sums
    # themselves round at about N * log 2 * 1e-16 ~ 1e-13
    assert factorization_error_from_profile(shifted, list(expected)) == pytest.approx(
        optimal_error(shifted, k), abs=1e-12
    )
