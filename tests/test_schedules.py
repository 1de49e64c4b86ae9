"""Schedule objects and their validation (exactmd.schedules.kinds)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from brute import size_paths

from exactmd.errors import ScheduleError
from exactmd.schedules.kinds import (
    DeterministicSchedule,
    ExchangeableSchedule,
    RandomRevealSchedule,
    as_schedule,
)

# -- accepted forms -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sizes", [[3], [1, 1, 1], [2, 1], (1, 2), np.array([2, 1]), [np.int64(1), 2], [2.0, 1.0]]
)
def test_sizes_give_an_exchangeable_schedule(sizes: Any) -> None:
    s = as_schedule(sizes, 3)
    assert isinstance(s, ExchangeableSchedule)
    assert s.sizes == tuple(int(v) for v in sizes)
    assert all(type(v) is int for v in s.sizes)
    assert s.n == 3 and s.num_steps == len(sizes)
    assert s.boundaries == (0, *np.cumsum(s.sizes).tolist())
    assert all(type(v) is int for v in s.boundaries)


@pytest.mark.parametrize(
    "partition",
    [
        [[0, 1, 2]],
        [[2], [0, 1]],
        ((1,), (0,), (2,)),
        [np.array([2, 0]), [1]],
        np.array([[2], [0], [1]]),
    ],
)
def test_partitions_give_a_deterministic_schedule(partition: Any) -> None:
    s = as_schedule(partition, 3)
    assert isinstance(s, DeterministicSchedule)
    assert s.partition == tuple(tuple(int(i) for i in b) for b in partition)
    assert s.sizes == tuple(len(b) for b in partition)
    assert s.num_steps == len(partition)


def test_schedule_objects_are_validated_and_returned() -> None:
    s = ExchangeableSchedule((2, 1), label="front")
    assert as_schedule(s, 3) is s
    assert repr(s) == "ExchangeableSchedule(sizes=(2, 1), label='front')"
    assert s == ExchangeableSchedule((2, 1))  # the label does not take part in equality
    with pytest.raises(ScheduleError, match=r"N=4.*\(2, 1\)"):
        as_schedule(s, 4)
    d = DeterministicSchedule(((1,), (0, 2)))
    assert as_schedule(d, 3) is d
    with pytest.raises(ScheduleError, match=r"N=4.*\[3\]"):
        as_schedule(d, 4)
    r = RandomRevealSchedule((1.0, 0.5, 0.0))
    assert as_schedule(r, 7) is r


# -- bad schedules --------------------------------------------------------------------------


def _assert_schedule_error(schedule: Any, n: int, fragments: list[str]) -> None:
    with pytest.raises(ScheduleError) as info:
        as_schedule(schedule, n)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert message.startswith("schedule: "), message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


@pytest.mark.parametrize(
    ("sizes", "fragments"),
    [
        ([2, 2], ["sum to N=3", "(2, 2)", "sum 4"]),
        ([1, 1], ["sum to N=3", "(1, 1)", "sum 2"]),
        ([3, 0], [">= 1", "(3, 0)"]),
        ([0, 3], [">= 1", "(0, 3)"]),
        ([4, -1], [">= 1", "(4, -1)"]),
        ([], ["at least one step"]),
        ([1.5, 1.5], ["integers", "[1.5, 1.5]"]),
        ([2, 0.5, 0.5], ["integers", "[2, 0.5, 0.5]"]),
        (np.array([1.5, 1.5]), ["integers", "1.5"]),
        (["a", "b"], ["positive integers", "('a', 'b')"]),
        (["2", "1"], ["positive integers", "('2', '1')"]),
        ([True, True, True], ["positive integers", "(True, True, True)"]),
        ([float("inf")], ["integers", "inf"]),
        ([float("nan"), 3], ["integers", "nan"]),
        ([2 + 0j, 1], ["positive integers", "(2+0j)"]),
        ([[0, 1], 2], ["positive integers", "([0, 1], 2)"]),
        ("abc", ["sequence of sizes", "'abc'"]),
        (3, ["sequence of sizes", "3"]),
        (None, ["sequence of sizes", "None"]),
    ],
)
def test_bad_sizes(sizes: Any, fragments: list[str]) -> None:
    _assert_schedule_error(sizes, 3, fragments)


@pytest.mark.parametrize(
    ("partition", "fragments"),
    [
        ([[0, 1], [1, 2]], ["each position once", "[1]"]),
        ([[0, 0, 1, 2]], ["each position once", "[0]"]),
        ([[0], [1]], ["cover range(N)", "N=3", "[2]"]),
        ([[0, 1], [2, 3]], ["range(N)", "N=3", "[3]"]),
        ([[0, 1], [2], [-1]], ["range(N)", "N=3", "[-1]"]),
        ([[0, 1, 2], []], ["non-empty", "()"]),
        ([[0, 1], ["x"]], ["sequence of sequences of ints", "'x'"]),
        ([[0.5, 1], [2]], ["ints", "0.5"]),
        ([[0, 1], [2.5]], ["ints", "2.5"]),
        ([["0", "1"], ["2"]], ["ints", "'0'"]),
        ([[False, True], [2]], ["ints", "False"]),
    ],
)
def test_bad_partitions(partition: Any, fragments: list[str]) -> None:
    _assert_schedule_error(partition, 3, fragments)


def test_integer_valued_float_positions_are_accepted() -> None:
    s = as_schedule([[0.0, 1.0], [2.0]], 3)
    assert s == DeterministicSchedule(((0, 1), (2,)))


# -- random reveal --------------------------------------------------------------------------


def test_random_reveal_from_noise() -> None:
    s = RandomRevealSchedule.from_noise(lambda t: t, 4)
    assert s.grid == (1.0, 0.75, 0.5, 0.25, 0.0)
    assert s.num_steps == 4
    np.testing.assert_allclose(s.reveal_probabilities, [0.25, 1 / 3, 0.5, 1.0], atol=1e-15)
    cosine = RandomRevealSchedule.from_noise(lambda t: 1 - math.cos(math.pi * t / 2), 5)
    assert cosine.grid[0] == 1.0 and cosine.grid[-1] == 0.0
    assert cosine.reveal_probabilities[-1] == 1.0
    assert "RandomRevealSchedule(grid=(1, 0.75" in repr(s)


@pytest.mark.parametrize("grid", [(1.0, 0.0), (1.0, 0.6, 0.1, 0.0), (1.0, 0.9, 0.5, 0.2, 0.0)])
@pytest.mark.parametrize("n", [1, 3, 5])
def test_revealed_count_law_vs_size_path_enumeration(grid: tuple[float, ...], n: int) -> None:
    """P[a_k = a] from the Binomial formula equals the sum over all size paths."""
    s = RandomRevealSchedule(grid)
    law = s.revealed_count_law(n)
    r = s.reveal_probabilities
    brute = np.zeros((len(grid), n + 1))
    for path in size_paths(n, len(r)):
        prob, masked = 1.0, n
        for sk, rk in zip(path, r):
            prob *= math.comb(masked, sk) * rk**sk * (1 - rk) ** (masked - sk)
            masked -= sk
        a = np.concatenate([[0], np.cumsum(path)])
        for k, ak in enumerate(a):
            brute[k, ak] += prob
    np.testing.assert_allclose(law, brute, rtol=0, atol=1e-14)
    np.testing.assert_allclose(law.sum(axis=1), 1.0, atol=1e-14)


@pytest.mark.parametrize(
    ("grid", "fragments"),
    [
        ((0.9, 0.5, 0.0), ["t_0 = 1", "0.9"]),
        ((1.0, 0.5, 0.1), ["t_K = 0", "0.1"]),
        ((1.0,), ["t_0 = 1", "(1.0,)"]),
        ((), ["t_0 = 1", "()"]),
        ((1.0, 0.5, 0.5, 0.0), ["strictly decreasing", "0.5, 0.5"]),
        ((1.0, 0.3, 0.6, 0.0), ["strictly decreasing", "0.3, 0.6"]),
        ((1.0, 1.5, 0.0), ["strictly decreasing", "1.5"]),
        ((1.0, -0.5, 0.0), ["strictly decreasing", "-0.5"]),
        ((1.0, float("nan"), 0.0), ["finite real numbers", "nan"]),
        ((1.0, "x", 0.0), ["sequence of times", "'x'"]),
        (None, ["sequence of times", "None"]),
    ],
)
def test_bad_grids(grid: Any, fragments: list[str]) -> None:
    with pytest.raises(ScheduleError) as info:
        RandomRevealSchedule(grid)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert message.startswith("grid: "), message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


@pytest.mark.parametrize("steps", [0, -2])
def test_bad_noise_steps(steps: int) -> None:
    with pytest.raises(ScheduleError, match=f"steps: must be an integer >= 1; received {steps}"):
        RandomRevealSchedule.from_noise(lambda t: t, steps)


@pytest.mark.parametrize("steps", [2.5, "3", True, 0, -1])
def test_from_noise_steps_must_be_a_positive_integer(steps: object) -> None:
    with pytest.raises(ScheduleError, match=r"steps: must be an integer >= 1; received"):
        RandomRevealSchedule.from_noise(lambda t: t, steps)  # type: ignore[arg-type]
