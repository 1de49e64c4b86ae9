"""α-schedules and named families (exactmd.schedules.families)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import pytest
from brute import brute_exchangeable_error
from helpers import random_law
from hypothesis import given, settings
from hypothesis import strategies as st

from exactmd.errors import ScheduleError
from exactmd.schedules.factorization import factorization_error, factorization_error_from_profile
from exactmd.schedules.families import (
    SCHEDULE_FAMILIES,
    alpha_boundaries,
    constant,
    cosine,
    from_alpha,
    geometric,
    linear,
    loglinear,
    named_schedule,
    polynomial,
)
from exactmd.schedules.kinds import ExchangeableSchedule

ALPHAS: dict[str, Callable[[float], float]] = {
    "linear": lambda t: t,
    "cosine": lambda t: 1 - math.cos(math.pi * t / 2),
    "square": lambda t: t * t,
    "sqrt": math.sqrt,
    "quartic": lambda t: t**4,
    "step": lambda t: 0.0 if t < 0.5 else 1.0,  # flat: collisions everywhere
}


def raw_boundaries(alpha: Callable[[float], float], n: int, k: int) -> list[int]:
    """⌈N α(k/K)⌉ with a tolerance for float error, a_0 = 0 and a_K = N."""
    out = [0]
    for j in range(1, k):
        x = n * alpha(j / k)
        r = round(x)
        out.append(r if abs(x - r) < 1e-9 else math.ceil(x))
    return [*out, n]


def all_boundaries(n: int, k: int) -> list[tuple[int, ...]]:
    return [(0, *c, n) for c in itertools.combinations(range(1, n), k - 1)]


@settings(deadline=None, max_examples=80)
@given(name=st.sampled_from(sorted(ALPHAS)), n=st.integers(1, 40), data=st.data())
def test_boundaries_ceil_and_minimal_repair(name: str, n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(1, n))
    alpha = ALPHAS[name]
    raw = raw_boundaries(alpha, n, k)
    got = alpha_boundaries(alpha, n, k)
    assert got[0] == 0 and got[-1] == n and len(got) == k + 1
    assert all(b > a for a, b in itertools.pairwise(got))
    if all(b > a for a, b in itertools.pairwise(raw)):
        assert list(got) == raw  # no collision: exactly ceil(N alpha(k/K))
        assert alpha_boundaries(alpha, n, k, collisions="raise") == got
        assert alpha_boundaries(alpha, n, k, collisions="drop") == got
    else:
        with pytest.raises(ScheduleError, match="empty step"):
            alpha_boundaries(alpha, n, k, collisions="raise")
        assert alpha_boundaries(alpha, n, k, collisions="drop") == tuple(sorted(set(raw)))
    if n <= 14:
        # the repair is the pointwise least valid schedule lying right of min(raw, N-K+k)
        floor = [min(raw[j], n - k + j) for j in range(k + 1)]
        above = [b for b in all_boundaries(n, k) if all(b[j] >= floor[j] for j in range(k + 1))]
        least = tuple(min(b[j] for b in above) for j in range(k + 1))
        assert least in above and got == least


def test_float_slack_in_rounding() -> None:
    assert 42 * (9 / 14) > 27  # 27.000000000000004: a naive ceil would give 28
    assert linear(42, 14).sizes == (3,) * 14
    assert alpha_boundaries(lambda t: t, 10, 4) == (0, 3, 5, 8, 10)


def test_named_families() -> None:
    n, k = 1000, 10
    lin = linear(n, k)
    assert lin.sizes == (100,) * 10 and lin.label == "linear"
    assert constant(n, k).sizes == lin.sizes and constant(n, k).label == "constant"
    assert max(linear(103, 10).sizes) - min(linear(103, 10).sizes) <= 1
    cos = cosine(n, k)
    assert cos.sizes[0] < cos.sizes[-1] and sum(cos.sizes) == n
    assert cos.sizes[0] == math.ceil(n * (1 - math.cos(math.pi / 20)))
    assert loglinear(n, k, eps=0.0).sizes == lin.sizes
    assert loglinear(n, k).sizes[0] == 101  # ceil(1000 (0.001 + 0.999/10))
    geo = geometric(100_000, 5, ratio=16.0)
    assert geo.sizes[-1] / geo.sizes[0] == pytest.approx(16.0, rel=1e-3)
    assert geometric(n, k, ratio=1.0).sizes == lin.sizes
    assert geometric(n, k, ratio=0.1).sizes[0] > geometric(n, k, ratio=0.1).sizes[-1]
    poly = polynomial(n, k, power=3)
    assert poly.sizes[0] == 1 and poly.label == "polynomial(p=3)"
    for name in SCHEDULE_FAMILIES:
        s = named_schedule(name, 17, 5)
        assert isinstance(s, ExchangeableSchedule) and sum(s.sizes) == 17 and len(s.sizes) == 5
        assert s.label is not None and repr(s).startswith("ExchangeableSchedule(sizes=(")
        assert f"label={s.label!r}" in repr(s)


@pytest.mark.parametrize("shape", [(2, 3, 2, 2), (3, 2, 2, 2, 2)])
def test_factorization_error_accepts_alpha_schedules(shape: tuple[int, ...]) -> None:
    p = random_law(shape, seed=len(shape), zeros=0.3)
    n = len(shape)
    from exactmd.measures.information import information_profile

    f = information_profile(p)
    for name in SCHEDULE_FAMILIES:
        for k in (2, 3):
            s = named_schedule(name, n, k)
            expect = brute_exchangeable_error(p, s.sizes)
            assert factorization_error(p, s) == pytest.approx(expect, abs=1e-10)
            assert factorization_error_from_profile(f, s) == pytest.approx(expect, abs=1e-10)


def test_k_equals_n_and_one() -> None:
    for name in SCHEDULE_FAMILIES:
        assert named_schedule(name, 6, 6).sizes == (1,) * 6
        assert named_schedule(name, 6, 1).sizes == (6,)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: from_alpha(lambda t: 2 * t, 4, 2), r"alpha: must take values in \[0, 1\]"),
        (lambda: from_alpha(lambda t: t / 2, 4, 2), r"alpha\(1\) = 1"),
        (lambda: from_alpha(lambda t: float("nan"), 4, 2), r"values in \[0, 1\]"),
        (lambda: from_alpha(lambda t: 0.9 if t == 0.25 else t, 4, 4), "non-decreasing"),
        (lambda: from_alpha(lambda t: "x", 4, 2), "alpha: must map"),  # type: ignore
        (
            lambda: from_alpha(lambda t: t, 4, 5),
            r"steps: must be an integer K with 1 <= K <= N=4; received 5",
        ),
        (lambda: from_alpha(lambda t: t, 0, 1), "n: must be an integer >= 1; received 0"),
        (lambda: from_alpha(lambda t: t, 4, 2.5), "steps: must be an integer"),  # type: ignore
        (lambda: named_schedule("nope", 4, 2), "name: must be one of"),
        (lambda: from_alpha(lambda t: t, 4, 2, collisions="x"), "collisions: must be one of"),
        (
            lambda: geometric(4, 2, ratio=0.0),
            "ratio: must be a finite real number > 0; received 0.0",
        ),
        (
            lambda: polynomial(4, 2, power=-1.0),
            "power: must be a finite real number > 0; received -1.0",
        ),
        (
            lambda: loglinear(4, 2, eps=1.0),
            r"eps: must be a finite real number in \[0, 1\); received 1.0",
        ),
    ],
)
def test_bad_input(call: Callable[[], object], match: str) -> None:
    with pytest.raises(ScheduleError, match=match):
        call()


def test_label_does_not_change_equality() -> None:
    assert from_alpha(lambda t: t, 4, 2, label="a") == ExchangeableSchedule((2, 2))
    assert np.array_equal(cosine(64, 8).boundaries[-1], 64)
