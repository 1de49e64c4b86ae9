"""The one rule for integers (issue 14): Python and numpy integers and integral floats such as
``2.0`` are accepted everywhere an integer is expected, with the same result as the int;
non-integral or non-finite floats, bools and strings are refused with a ValueError naming the
argument. Before, ``worst_case_bound(p, 2.0)`` worked while ``optimal_schedule(p, 2.0)`` and
``named_schedule("linear", 3, 2.0)`` raised."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import random_law

import exactmd
from exactmd._validate import as_integer, check_int, check_steps
from exactmd.errors import ValidationError

P = random_law((2, 2, 3), seed=4, zeros=0.2)
F = exactmd.information_profile(P)

#: Calls taking an integer K (or N, or a count), as functions of that integer.
CALLS = {
    "optimal_schedule": lambda k: exactmd.optimal_schedule(F, k),
    "optimal_error": lambda k: exactmd.schedules.optimal_error(F, k),
    "worst_case_bound": lambda k: exactmd.schedules.worst_case_bound(P, k),
    "worst_case_log_bound": lambda k: exactmd.schedules.worst_case_log_bound(P, k),
    "named_schedule": lambda k: exactmd.schedules.named_schedule("linear", 3, k).sizes,
    "from_alpha": lambda k: exactmd.schedules.from_alpha(lambda t: t, 3, k).sizes,
    "sizes": lambda k: exactmd.factorization_error(P, [k, 1]),
    "partition": lambda k: exactmd.factorization_error(P, [[0, k], [1]]),
    "sample": lambda k: exactmd.sample(P, [1, 1, 1], k, seed=0).tolist(),
}


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("integral", [2.0, np.float64(2.0), np.float32(2.0), np.int8(2)])
def test_integral_floats_are_integers(name, integral) -> None:
    assert CALLS[name](integral) == CALLS[name](2)


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("bad", [2.5, math.inf, math.nan, True, "2", np.bool_(True)])
def test_other_values_are_refused_naming_the_argument(name, bad) -> None:
    with pytest.raises(ValueError) as info:
        CALLS[name](bad)
    assert isinstance(info.value, exactmd.ExactmdError)
    assert any(word in str(info.value) for word in ("steps", "schedule", "n:", "max_steps"))


def test_the_helpers() -> None:
    assert [as_integer(v) for v in (3, 3.0, np.int64(3), np.array(3.0))] == [3, 3, 3, 3]
    assert [as_integer(v) for v in (3.5, True, "3", None, [3], 1e400)] == [None] * 6
    assert check_int(4.0, "n") == 4
    assert check_steps(1.0, 1) == 1
    with pytest.raises(ValidationError, match=r"^steps: must be an integer K with 1 <= K <= N=3"):
        check_steps(4.0, 3)
