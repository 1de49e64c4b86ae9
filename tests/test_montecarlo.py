"""The Monte Carlo sampler against the exact p_alg: goodness of fit at a fixed seed."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import random_law
from scipy import stats

from exactmd.denoisers.exact import perturbed_denoiser
from exactmd.errors import ValidationError
from exactmd.sampler.montecarlo import empirical_law, sample
from exactmd.sampler.p_alg import output_distribution
from exactmd.schedules.kinds import RandomRevealSchedule

SHAPE = (2, 3, 2)
N_SAMPLES = 20_000
SCHEDULES = {
    "exchangeable": [1, 2],
    "deterministic": [[2], [0, 1]],
    "random-reveal": RandomRevealSchedule((1.0, 0.7, 0.3, 0.0)),
}


def _g_test(samples: np.ndarray, law: np.ndarray) -> float:
    """p-value of the G-test of ``samples`` against ``law`` (outside the support: fail)."""
    counts = empirical_law(samples, law.shape).reshape(-1) * len(samples)
    expected = law.reshape(-1) * len(samples)
    support = expected > 0
    assert counts[~support].sum() == 0, "samples outside the support of p_alg"
    result = stats.power_divergence(counts[support], expected[support], lambda_="log-likelihood")
    return float(result.pvalue)


@pytest.mark.parametrize("kind", list(SCHEDULES))
@pytest.mark.parametrize("denoiser", ["exact", "perturbed"])
def test_monte_carlo_matches_exact_law(kind, denoiser):
    p = random_law(SHAPE, seed=21, zeros=0.3)
    den = None if denoiser == "exact" else perturbed_denoiser(p, temperature=1.5, noise=0.3)
    schedule = SCHEDULES[kind]
    law = output_distribution(p, schedule, den)
    x = sample(p, schedule, N_SAMPLES, den, seed=12345)
    assert x.shape == (N_SAMPLES, 3) and x.dtype == np.int64
    assert _g_test(x, law) > 1e-3


def test_goodness_of_fit_detects_the_wrong_schedule():
    # the negative control: samples drawn with K = 1 do not fit p_alg of K = N
    p = np.zeros((2, 2, 2))
    p[0, 0, 0] = p[1, 1, 1] = 0.4
    p[0, 1, 1] = p[1, 0, 0] = 0.1
    x = sample(p, [3], 5000, seed=0)
    counts = empirical_law(x, p.shape).reshape(-1) * len(x)
    law = output_distribution(p, [1, 1, 1]).reshape(-1)
    assert np.any(counts[law == 0] > 0)
    law_k1 = output_distribution(p, [3])
    assert _g_test(x, law_k1) > 1e-3


def test_torch_law_and_generator_seed():
    pytest.importorskip("torch")
    import torch

    p = random_law(SHAPE, seed=2)
    a = sample(torch.as_tensor(p), [2, 1], 50, seed=np.random.default_rng(3))
    b = sample(p, [2, 1], 50, seed=3)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(sample(p, [2, 1], 50, seed=3), b)  # reproducible


def test_edge_cases_and_errors():
    p = random_law(SHAPE, seed=2)
    assert sample(p, [3], 0, seed=0).shape == (0, 3)
    with pytest.raises(ValidationError, match="n: must be an integer >= 0"):
        sample(p, [3], -1)
    with pytest.raises(ValidationError, match="samples"):
        empirical_law(np.zeros((3, 2), dtype=np.int64), SHAPE)
    with pytest.raises(ValidationError, match="range"):
        empirical_law(np.array([[0, 3, 0]]), SHAPE)
    with pytest.raises(ValidationError, match="at least one"):
        empirical_law(np.zeros((0, 3), dtype=np.int64), SHAPE)


def test_goodness_of_fit_tells_the_schedule_kinds_apart():
    p = random_law(SHAPE, seed=21, zeros=0.3)
    den = perturbed_denoiser(p, temperature=1.5, noise=0.3)
    x = sample(p, SCHEDULES["exchangeable"], N_SAMPLES, den, seed=12345)
    for other in ("deterministic", "random-reveal"):
        law = output_distribution(p, SCHEDULES[other], den)
        assert _g_test(x, law) < 1e-6
