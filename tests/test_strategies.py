"""The hypothesis strategies of exactmd.testing.strategies produce valid, varied inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exactmd.errors import ValidationError
from exactmd.law.distribution import as_distribution
from exactmd.schedules.kinds import (
    DeterministicSchedule,
    ExchangeableSchedule,
    RandomRevealSchedule,
    as_schedule,
)
from exactmd.testing.strategies import (
    bayesian_networks,
    classic_laws,
    joints,
    models,
    schedules,
)

FAST = settings(max_examples=40, deadline=None)


@FAST
@given(joints())
def test_joints_are_valid_laws(p: np.ndarray) -> None:
    d = as_distribution(p)
    assert p.dtype == np.float64 and 1 <= d.n <= 4 and all(2 <= q <= 3 for q in d.shape)


@FAST
@given(joints(alphabets=(2, 3), zeros=False))
def test_fixed_alphabets_without_zeros(p: np.ndarray) -> None:
    assert p.shape == (2, 3) and np.all(p > 0)


def test_zeros_do_occur_and_shapes_vary() -> None:
    seen_zero, shapes = [], set()

    @settings(max_examples=60, deadline=None)
    @given(joints(max_n=3))
    def collect(p: np.ndarray) -> None:
        seen_zero.append(bool(np.any(p == 0)))
        shapes.add(p.shape)

    collect()
    assert any(seen_zero) and len(shapes) > 3


@FAST
@given(st.integers(1, 5).flatmap(lambda n: st.tuples(st.just(n), schedules(n))))
def test_schedules_validate(args: tuple[int, object]) -> None:
    n, s = args
    assert as_schedule(s, n) is s
    assert isinstance(s, ExchangeableSchedule | DeterministicSchedule | RandomRevealSchedule)


def test_every_kind_is_generated() -> None:
    kinds = set()

    @settings(max_examples=60, deadline=None)
    @given(schedules(4))
    def collect(s: object) -> None:
        kinds.add(type(s).__name__)

    collect()
    assert kinds == {"ExchangeableSchedule", "DeterministicSchedule", "RandomRevealSchedule"}


@FAST
@given(schedules(st.integers(1, 4), kinds=["deterministic"]))
def test_partitions_cover_range_n(s: DeterministicSchedule) -> None:
    flat = sorted(i for b in s.partition for i in b)
    assert flat == list(range(len(flat)))


def test_bad_kinds() -> None:
    with pytest.raises(ValidationError, match="kinds: must be"):
        schedules(3, kinds=["adaptive"])
    with pytest.raises(ValidationError, match="alphabets: must be"):
        joints(alphabets=())


@FAST
@given(models())
def test_models_are_valid_laws(p: np.ndarray) -> None:
    as_distribution(p)


@FAST
@given(bayesian_networks(max_n=3))
def test_bayesian_networks_factorise_in_order(p: np.ndarray) -> None:
    d = as_distribution(p)
    assert 1 <= d.n <= 3


@FAST
@given(classic_laws(max_n=4))
def test_classic_laws(p: np.ndarray) -> None:
    as_distribution(p)
    assert p.ndim <= 4 or p.shape == (2, 2, 2)


def test_zoo_laws_when_the_zoo_is_there() -> None:
    from exactmd.testing.strategies import zoo_laws

    strategy = zoo_laws(4)
    if strategy is None:
        pytest.skip("exactmd.models.zoo is not available")

    @settings(max_examples=30, deadline=None)
    @given(strategy)
    def check(p: np.ndarray) -> None:
        assert 2 <= as_distribution(p).n <= 4

    check()
