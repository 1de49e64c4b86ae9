"""The test oracle refuses impossible parameters, naming the argument, the rule and the value.

Before these checks ``assert_denoiser_matches(den, p, atol=-1)`` ran and failed with
"max |error| = 0 > atol = -1", and ``min_expected=-1`` was accepted silently.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import random_law

from exactmd.denoisers import exact_denoiser
from exactmd.distribution import as_distribution
from exactmd.errors import ValidationError
from exactmd.measures import information_profile
from exactmd.testing import (
    assert_denoiser_matches,
    assert_profile_close,
    assert_sampler_matches,
    assert_samples_match,
    denoiser_report,
    goodness_of_fit,
    samples_needed,
)
from exactmd.testing.examples import factorized_sample, llada_step_sizes

P = random_law((2, 3, 2), seed=5, zeros=0.2)
X = factorized_sample(exact_denoiser(P), P.shape, [2, 1], 500, seed=1)
DEN = exact_denoiser(P)
F = information_profile(P)

LEVEL = "must be a real number in the open interval (0, 1)"
NONNEG = "must be a finite real number >= 0"
POSITIVE = "must be a finite real number > 0"
COUNT = "must be an integer >= 1"

CASES = [
    # (call, argument, rule, value as printed)
    (lambda v: assert_samples_match(X, P, alpha=v), "alpha", LEVEL, [0, 1, 2, -0.1, math.nan]),
    (lambda v: assert_samples_match(X, P, min_expected=v), "min_expected", POSITIVE, [0, -1]),
    (lambda v: assert_sampler_matches(X, P, [2, 1], alpha=v), "alpha", LEVEL, [0, 1.5]),
    (
        lambda v: assert_sampler_matches(X, P, [2, 1], min_expected=v),
        "min_expected",
        POSITIVE,
        [-1, 0, math.inf, math.nan],
    ),
    (lambda v: assert_denoiser_matches(DEN, P, atol=v), "atol", NONNEG, [-1, -1e-9, math.nan]),
    (lambda v: assert_denoiser_matches(DEN, P, max_contexts=v), "max_contexts", COUNT, [0, -3]),
    (lambda v: denoiser_report(DEN, P, max_contexts=v), "max_contexts", COUNT, [0, 2.5, True]),
    (lambda v: assert_profile_close(F, P, atol=v), "atol", NONNEG, [-1, math.inf]),
    (lambda v: assert_profile_close(F, P, rtol=v), "rtol", NONNEG, [-0.5, math.nan]),
    (lambda v: assert_profile_close(F, P, stderr=0.1, alpha=v), "alpha", LEVEL, [0, 1]),
    (lambda v: goodness_of_fit(X, P, min_expected=v), "min_expected", POSITIVE, [0, -2]),
    (lambda v: goodness_of_fit(X, P, zero_atol=v), "zero_atol", NONNEG, [-1e-15]),
    (lambda v: goodness_of_fit(X, P, mc_draws=v), "mc_draws", COUNT, [0, 2.5, True]),
    (lambda v: assert_samples_match(X, P, mc_draws=v), "mc_draws", COUNT, [0, -1]),
    (lambda v: samples_needed(P, P[::-1], alpha=v), "alpha", LEVEL, [0, 1, True, "0.1"]),
    (lambda v: samples_needed(P, P[::-1], power=v), "power", LEVEL, [0, 1, 1.5, math.nan]),
    (lambda v: samples_needed(P, P[::-1], min_expected=v), "min_expected", POSITIVE, [0]),
    (lambda v: factorized_sample(DEN, P.shape, [2, 1], v), "m", COUNT, [0, -1, 2.0]),
    (lambda v: llada_step_sizes(v, 1), "n", COUNT, [0]),
    (lambda v: llada_step_sizes(3, v), "steps", "must be an integer in 1..3", [0, 4]),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_bad_parameters_are_refused(case: int) -> None:
    call, name, rule, values = CASES[case]
    for value in values:
        with pytest.raises(ValidationError) as info:
            call(value)
        message = str(info.value)
        assert message.startswith(f"{name}: {rule}"), message
        assert message.endswith(f"received {value!r}"), message


def test_string_and_array_parameters_are_refused_not_crashing() -> None:
    for value in ("0.01", None, np.array([0.1])):
        with pytest.raises(ValidationError, match="alpha: "):
            assert_samples_match(X, P, alpha=value)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="shape: must be a non-empty sequence"):
        factorized_sample(DEN, [], [1], 5)
    with pytest.raises(ValidationError, match="shape: must be a non-empty sequence"):
        factorized_sample(DEN, [2, 0], [1, 1], 5)


def test_good_boundary_values_are_accepted() -> None:
    # atol = 0 is a legitimate (exact) tolerance, numpy scalars are numbers
    assert assert_denoiser_matches(DEN, P, atol=0.0).max_abs_error <= 1e-15
    assert assert_denoiser_matches(DEN, P, atol=np.float64(1e-9), max_contexts=np.int64(50))
    fit = assert_sampler_matches(X, P, [2, 1], alpha=np.float32(0.001), min_expected=np.float64(2))
    assert fit.pvalue > 0.001
    assert assert_profile_close(F, P, atol=0, rtol=0).shape == F.shape
    assert llada_step_sizes(np.int64(5), 5) == (1, 1, 1, 1, 1)
    m = samples_needed(P, P[::-1], alpha=np.float32(0.01), power=np.float64(0.5))
    assert type(m) is int and m >= 1
    assert samples_needed(P, P[::-1], alpha=np.array(0.01)) >= m


def test_a_float32_law_is_accepted_by_the_oracle() -> None:
    # the oracle's helpers used to revalidate a float32 law at the float64 tolerance (1e-8):
    # a float32 table whose total is off by 3e-7 (within its 1e-5) was refused
    total_off = (P * (1 + 3e-7)).astype(np.float32)
    assert 1e-8 < abs(float(total_off.sum(dtype=np.float64)) - 1) < 1e-6
    d32 = as_distribution(total_off, dtype="float32")
    for law in (total_off, d32):
        assert assert_denoiser_matches(DEN, law).max_abs_error < 1e-6
        assert assert_sampler_matches(X, law, [2, 1]).pvalue > 1e-3
