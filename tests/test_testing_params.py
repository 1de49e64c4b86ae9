"""The test oracle refuses impossible parameters, naming the argument, the rule and the value.

Before these checks ``assert_denoiser_matches(den, p, atol=-1)`` ran and failed with
"max |error| = 0 > atol = -1", and ``min_expected=-1`` was accepted silently.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import random_law

from exactmd.denoisers.exact import exact_denoiser
from exactmd.errors import ValidationError
from exactmd.law.distribution import as_distribution
from exactmd.measures.information import information_profile
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
    (lambda v: factorized_sample(DEN, P.shape, [2, 1], v), "m", COUNT, [0, -1, 2.5]),
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


# -- issue 13: arrays, flags, orders and seeds are refused by a ValidationError naming them --

RAGGED = [[1, 2], [3]]
NOT_REAL = ["x", RAGGED, object(), 1 + 2j, {"a": 1}, [True, False, True], ["0.1"] * 3]


@pytest.mark.parametrize("value", NOT_REAL)
def test_profile_estimate_and_stderr_must_be_real_arrays(value) -> None:
    # before: TypeError from float(), a bare ValueError ("inhomogeneous shape")
    with pytest.raises(ValidationError, match=r"^estimate: must be a vector of N=3 real"):
        assert_profile_close(value, P)
    with pytest.raises(ValidationError, match=r"^stderr: must be a vector of N=3 real"):
        assert_profile_close(F, P, stderr=value)


@pytest.mark.parametrize("value", [[], np.zeros(0), [0.1, 0.1], np.zeros((3, 1))])
def test_profile_stderr_of_the_wrong_shape_is_refused(value) -> None:
    # before: a bare ValueError from np.broadcast_to
    with pytest.raises(ValidationError, match=r"^stderr: must be a number or a vector of length"):
        assert_profile_close(F, P, stderr=value)
    # a number or a length-1 vector applies to every entry
    assert assert_profile_close(F, P, stderr=np.array([0.1])).shape == F.shape


def test_ragged_samples_are_refused_naming_samples() -> None:
    # before: a bare ValueError "inhomogeneous shape" from numpy
    for call in (
        lambda: goodness_of_fit(RAGGED, P),
        lambda: assert_samples_match(RAGGED, P),
        lambda: assert_sampler_matches(RAGGED, P, [2, 1]),
    ):
        with pytest.raises(ValidationError, match=r"^samples: must be an int array of shape"):
            call()


@pytest.mark.parametrize("value", [np.zeros(0), 0, 1, None, "yes", np.array([True])])
def test_check_zero_contexts_must_be_a_bool(value) -> None:
    # before: np.zeros(0) raised "The truth value of an empty array is ambiguous"
    for call in (
        lambda: denoiser_report(DEN, P, check_zero_contexts=value),
        lambda: assert_denoiser_matches(DEN, P, check_zero_contexts=value),
    ):
        with pytest.raises(ValidationError, match=r"^check_zero_contexts: must be a bool") as info:
            call()
        assert str(info.value).endswith(f"received {value!r}")
    zero = [[0.5, 0.5], [0.0, 0.0]]  # the context x_0 = 1 has probability 0
    report = denoiser_report(exact_denoiser(zero), zero, check_zero_contexts=np.bool_(True))
    assert report.zero_contexts == 1


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "pairs", np.zeros(0), math.nan])
def test_order_is_checked_at_the_entry_of_every_test(value) -> None:
    for call in (
        lambda: goodness_of_fit(X, P, order=value),
        lambda: assert_samples_match(X, P, order=value),
        lambda: assert_sampler_matches(X, P, [2, 1], order=value),
        lambda: samples_needed(P, P[::-1], order=value),
    ):
        with pytest.raises(ValidationError, match=r"^order: must be 'auto', None/'joint' or an"):
            call()
    assert goodness_of_fit(X, P, order=np.int64(2)).level.startswith("marginals of order 2")


@pytest.mark.parametrize("value", [-1, 1.5, True, "0", math.nan])
def test_seed_is_checked_even_where_it_is_not_used(value) -> None:
    # the exhaustive check draws nothing, so a bad seed used to pass unnoticed
    for call in (
        lambda: denoiser_report(DEN, P, seed=value),
        lambda: assert_denoiser_matches(DEN, P, seed=value),
        lambda: goodness_of_fit(X, P, seed=value),
        lambda: assert_sampler_matches(X, P, [2, 1], seed=value),
    ):
        with pytest.raises(ValidationError, match=r"^seed: must be") as info:
            call()
        assert str(info.value).endswith(f"received {value!r}")
