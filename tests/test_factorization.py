"""The factorization error E_fact and its bounds (exactmd.schedules.factorization) vs brute
force."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from brute import (
    brute_complexity,
    brute_deterministic_error,
    brute_exchangeable_error,
    brute_random_reveal_error,
    brute_total_correlation,
)
from helpers import LOG2, TOL, block_copy, compositions, laws, random_law, xor_law
from hypothesis import given, settings
from hypothesis import strategies as st

from exactmd.errors import ScheduleError
from exactmd.law.distribution import as_distribution
from exactmd.measures.information import complexity, information_profile, total_correlation
from exactmd.schedules.factorization import (
    exchangeable_bound,
    factorization_error,
    factorization_error_from_profile,
    worst_case_bound,
    worst_case_log_bound,
)
from exactmd.schedules.kinds import (
    DeterministicSchedule,
    ExchangeableSchedule,
    RandomRevealSchedule,
)

SHAPES = [
    (2, 2),
    (3, 2),
    (2, 3, 2),
    (3, 3, 3),
    (2, 2, 2, 2),
    (3, 2, 3, 2),
    (2, 3, 2, 2, 3),
    (2,) * 6,
    (3, 2, 2, 3, 2, 2),
]


def _sizes_for(n: int) -> list[tuple[int, ...]]:
    if n <= 4:
        return compositions(n)
    rng = np.random.default_rng(n)
    every = compositions(n)
    picked = {(n,), (1,) * n, (1, n - 1), (n - 1, 1), (2,) * (n // 2) + (1,) * (n % 2)}
    picked |= {every[int(i)] for i in rng.choice(len(every), 4, replace=False)}
    return sorted(picked)


@st.composite
def law_and_sizes(draw: st.DrawFn, max_n: int = 4) -> tuple[np.ndarray, tuple[int, ...]]:
    p = draw(laws(max_n))
    return p, draw(st.sampled_from(compositions(p.ndim)))


PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)


# -- brute-force agreement ------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_exchangeable_vs_partition_average(
    shape: tuple[int, ...], backend: str, as_backend: Callable[[Any], Any]
) -> None:
    p = random_law(shape, seed=31 + len(shape), zeros=0.3)
    d = as_distribution(as_backend(p))
    for sizes in _sizes_for(len(shape)):
        got = factorization_error(d, list(sizes))
        assert type(got) is float
        assert abs(got - brute_exchangeable_error(p, sizes)) < TOL, sizes
        assert abs(factorization_error(d, ExchangeableSchedule(sizes)) - got) < TOL


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_deterministic_vs_definition(
    shape: tuple[int, ...], backend: str, as_backend: Callable[[Any], Any]
) -> None:
    p = random_law(shape, seed=41 + len(shape), zeros=0.3)
    d = as_distribution(as_backend(p))
    n = len(shape)
    rng = np.random.default_rng(n)
    for sizes in _sizes_for(n)[:8]:
        perm = rng.permutation(n).tolist()
        cuts = np.cumsum((0, *sizes))
        partition = [perm[cuts[k] : cuts[k + 1]] for k in range(len(sizes))]
        got = factorization_error(d, partition)
        assert type(got) is float
        assert abs(got - brute_deterministic_error(p, partition)) < TOL, partition
        assert got >= 0.0


@pytest.mark.parametrize("shape", [(2, 2), (2, 3, 2), (3, 2, 2, 3), (2, 2, 2, 2, 2)], ids=str)
@pytest.mark.parametrize(
    "grid",
    [(1.0, 0.0), (1.0, 0.5, 0.0), (1.0, 0.7, 0.2, 0.0), (1.0, 0.9, 0.6, 0.3, 0.0)],
    ids=lambda g: f"K{len(g) - 1}",
)
def test_random_reveal_vs_size_path_average(
    shape: tuple[int, ...], grid: tuple[float, ...], backend: str
) -> None:
    p = random_law(shape, seed=51, zeros=0.3)
    sched = RandomRevealSchedule(grid)
    got = factorization_error(as_distribution(p, backend=backend), sched)
    assert abs(got - brute_random_reveal_error(p, grid)) < TOL
    f = information_profile(p)
    assert abs(factorization_error_from_profile(f, sched) - got) < TOL


def test_random_reveal_cosine_noise() -> None:
    p = random_law((2, 3, 2, 2), seed=52, zeros=0.4)
    sched = RandomRevealSchedule.from_noise(lambda t: 1 - math.cos(math.pi * t / 2), 3)
    assert abs(factorization_error(p, sched) - brute_random_reveal_error(p, sched.grid)) < TOL


@pytest.mark.parametrize("shape", [(2, 3, 2), (3, 3, 2, 2, 3), (2,) * 6], ids=str)
def test_torch_agrees_with_numpy(shape: tuple[int, ...]) -> None:
    torch = pytest.importorskip("torch")
    p = random_law(shape, seed=53, zeros=0.3)
    t = torch.as_tensor(p)
    n = len(shape)
    for schedule in (
        [n],
        [1] * n,
        [2, n - 2],
        [list(range(n - 1, 1, -1)), [0, 1]],
        RandomRevealSchedule((1.0, 0.4, 0.0)),
    ):
        assert abs(factorization_error(t, schedule) - factorization_error(p, schedule)) < 1e-10


# -- identities and bounds (hypothesis) -----------------------------------------------------


@PROPERTY_SETTINGS
@given(data=law_and_sizes())
def test_formula_equals_partition_average(data: tuple[np.ndarray, tuple[int, ...]]) -> None:
    p, sizes = data
    assert abs(factorization_error(p, sizes) - brute_exchangeable_error(p, sizes)) < TOL


@PROPERTY_SETTINGS
@given(data=law_and_sizes(max_n=6))
def test_exchangeable_bounds(data: tuple[np.ndarray, tuple[int, ...]]) -> None:
    p, sizes = data
    d = as_distribution(p)
    e = factorization_error(d, sizes)
    bound = exchangeable_bound(d, sizes)
    assert abs(bound - (max(sizes) - 1) * brute_complexity(p)) < TOL
    assert -TOL <= e <= bound + TOL


@PROPERTY_SETTINGS
@given(p=laws(max_n=6))
def test_one_step_is_tc_and_n_steps_is_zero(p: np.ndarray) -> None:
    d = as_distribution(p)
    n = p.ndim
    tc = total_correlation(d)
    assert abs(tc - brute_total_correlation(p)) < TOL
    assert abs(factorization_error(d, [n]) - tc) < TOL
    assert abs(factorization_error(d, [list(range(n))[::-1]]) - tc) < TOL
    assert abs(factorization_error(d, [1] * n)) < TOL
    assert abs(factorization_error(d, [[i] for i in np.random.default_rng(n).permutation(n)])) < TOL
    assert abs(factorization_error(d, RandomRevealSchedule((1.0, 0.0))) - tc) < TOL


@PROPERTY_SETTINGS
@given(p=laws(max_n=6), seed=st.integers(0, 1000))
def test_worst_case_bound_for_constant_size_partitions(p: np.ndarray, seed: int) -> None:
    d = as_distribution(p)
    n = p.ndim
    rng = np.random.default_rng(seed)
    log_q = math.log(max(p.shape))
    for size in (s for s in range(1, n + 1) if n % s == 0):
        k = n // size
        perm = rng.permutation(n).tolist()
        partition = [perm[j * size : (j + 1) * size] for j in range(k)]
        e = factorization_error(d, partition)
        bound = worst_case_bound(d, k)
        assert abs(bound - (n - k) * brute_complexity(p)) < TOL
        assert abs(worst_case_log_bound(d, k) - (n - k) * log_q) < TOL
        assert -TOL <= e <= bound + TOL
        assert bound <= worst_case_log_bound(d, k) + TOL


# -- known answers (docs/design.md) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "value"),
    [([3], LOG2), ([1, 1, 1], 0.0), ([2, 1], 0.0), ([1, 2], LOG2), ([[2], [0, 1]], LOG2)],
)
def test_xor_known_answers(
    schedule: Any, value: float, backend: str, as_backend: Callable[[Any], Any]
) -> None:
    assert abs(factorization_error(as_backend(xor_law()), schedule) - value) < TOL


def test_independent_law_has_zero_error_for_every_schedule(backend: str) -> None:
    rng = np.random.default_rng(54)
    shape = (2, 3, 2, 3)
    p = np.ones(())
    for q in shape:
        p = np.multiply.outer(p, rng.dirichlet(np.ones(q)))
    d = as_distribution(p, backend=backend)
    for sizes in compositions(4):
        assert abs(factorization_error(d, sizes)) < TOL
        assert (
            abs(
                factorization_error(d, [[3, 1, 0, 2][: sizes[0]], [3, 1, 0, 2][sizes[0] :]])
                if len(sizes) > 1
                else factorization_error(d, [[0, 1, 2, 3]])
            )
            < TOL
        )
    assert abs(factorization_error(d, RandomRevealSchedule((1.0, 0.5, 0.2, 0.0)))) < TOL


@pytest.mark.parametrize(
    ("q", "size", "k"), [(2, 2, 1), (2, 2, 2), (3, 2, 2), (2, 3, 2), (2, 2, 3)]
)
def test_block_copy_reaches_the_worst_case_bound(q: int, size: int, k: int, backend: str) -> None:
    d = as_distribution(block_copy(q, [size] * k), backend=backend)
    n = size * k
    # the matching deterministic schedule reveals one whole block per step
    partition = [list(range(j * size, (j + 1) * size)) for j in range(k)]
    e = factorization_error(d, partition)
    assert abs(e - (n - k) * math.log(q)) < TOL
    assert abs(worst_case_bound(d, k) - e) < TOL
    assert abs(worst_case_log_bound(d, k) - e) < TOL


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "fragment"),
    [
        (0, "0"),
        (4, "4"),
        (-1, "-1"),
        (1.5, "1.5"),
        (True, "True"),
        ("a", "'a'"),
        (None, "None"),
        (math.nan, "nan"),
        (math.inf, "inf"),
        (np.float64(2.5), "np.float64(2.5)"),
    ],
)
def test_bad_steps(steps: Any, fragment: str) -> None:
    p = random_law((2, 2, 2), seed=55)
    for func in (worst_case_bound, worst_case_log_bound):
        with pytest.raises(ScheduleError) as info:
            func(p, steps)
        message = str(info.value)
        assert isinstance(info.value, ValueError)
        assert message.startswith("steps: ") and "N=3" in message, message
        assert message.endswith(f"received {fragment}"), message


@pytest.mark.parametrize(
    "schedule",
    [
        [2, 2],
        [3, 0],
        [1.5, 1.5],
        [[0, 1], [1, 2]],
        [[0], [1]],
        "abc",
        DeterministicSchedule(((0,), (1,))),
    ],
)
def test_bad_schedules_are_rejected(schedule: Any) -> None:
    p = random_law((2, 2, 2), seed=56)
    with pytest.raises(ScheduleError, match=r"^schedule: "):
        factorization_error(p, schedule)
    with pytest.raises(ScheduleError, match=r"^schedule: "):
        exchangeable_bound(p, schedule)


def test_exchangeable_bound_needs_fixed_sizes() -> None:
    with pytest.raises(ScheduleError, match=r"^schedule: .*fixed sizes.*RandomRevealSchedule"):
        exchangeable_bound(random_law((2, 2), seed=57), RandomRevealSchedule((1.0, 0.0)))


@pytest.mark.parametrize("profile", [[], [[0.0, 0.0]], [0.0, float("nan")], [-math.inf, 0.0], "ab"])
def test_bad_profile(profile: Any) -> None:
    with pytest.raises(ScheduleError, match=r"^profile: .*1-D array of finite floats"):
        factorization_error_from_profile(profile, [1])


def test_profile_formula_needs_an_exchangeable_schedule() -> None:
    with pytest.raises(ScheduleError, match=r"^schedule: .*exchangeable.*DeterministicSchedule"):
        factorization_error_from_profile([-1.0, 0.0], [[0], [1]])
    with pytest.raises(ScheduleError, match=r"^schedule: sizes must sum to N=2"):
        factorization_error_from_profile([-1.0, 0.0], [3])


def test_exchangeable_bound_refuses_partitions_where_it_does_not_hold() -> None:
    """For a deterministic partition E_fact can exceed (max s - 1) D: the bound is refused."""
    p = np.zeros((2, 2, 2, 2))  # block copy: x0 = x1, x2 = x3, blocks independent and fair
    for a in (0, 1):
        for b in (0, 1):
            p[a, a, b, b] = 0.25
    partition = [[0, 1], [2, 3]]
    d_pi = complexity(p)
    assert abs(d_pi - math.log(2)) < TOL
    # E_fact = (N - K) log 2 = 2 log 2 > (max s - 1) D = log 2
    assert factorization_error(p, partition) > (2 - 1) * d_pi + 0.5
    with pytest.raises(ScheduleError, match=r"^schedule: .*exchangeable schedule.*worst_case"):
        exchangeable_bound(p, partition)
