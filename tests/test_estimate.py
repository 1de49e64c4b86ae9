"""Estimating f from samples and a denoiser (exactmd.sampler.estimate) against the exact profile."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from helpers import random_law

from exactmd.enumeration.conditionals import exact_conditionals
from exactmd.errors import DenoiserError, ValidationError
from exactmd.law.distribution import as_distribution
from exactmd.measures.information import information_profile
from exactmd.sampler.estimate import estimate_profile
from exactmd.schedules.factorization import factorization_error_from_profile
from exactmd.schedules.optimum import optimal_error, optimal_schedule

SHAPE = (2, 3, 2, 3, 2)


def draw(p: np.ndarray, m: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    flat = rng.choice(p.size, size=m, p=p.reshape(-1))
    return np.stack(np.unravel_index(flat, p.shape), axis=1).astype(np.int64)


def exact(p: np.ndarray) -> Callable[[Any], Any]:
    dist = as_distribution(p)
    return lambda tokens: exact_conditionals(dist, tokens)


@pytest.fixture(scope="module")
def law() -> np.ndarray:
    return random_law(SHAPE, seed=11, zeros=0.3)


def test_within_standard_errors_and_shrinking(law: np.ndarray) -> None:
    f = information_profile(law)
    den = exact(law)
    errs, ses = [], []
    for m in (100, 1000):
        est = estimate_profile(draw(law, m, seed=m), den, n_orders=2, seed=m, shape=SHAPE)
        assert est.profile.shape == f.shape and est.n_samples == m and est.n_orders == 2
        z = np.abs(est.profile - f) / est.stderr
        assert np.all(z < 4.0), z  # unbiased: within a few standard errors (fixed seeds)
        errs.append(float(np.mean(np.abs(est.profile - f))))
        ses.append(est.stderr)
    assert errs[1] < errs[0] / 2, errs  # about √10 smaller
    ratio = ses[0] / ses[1]
    assert np.all((ratio > 2.0) & (ratio < 5.0)), ratio  # standard errors shrink like 1/√M


def test_schedule_from_estimate_is_near_optimal(law: np.ndarray) -> None:
    f = information_profile(law)
    est = estimate_profile(draw(law, 1000, seed=5), exact(law), n_orders=3, seed=5, shape=SHAPE)
    for k in (2, 3):
        best = optimal_error(f, k)
        got = factorization_error_from_profile(f, list(optimal_schedule(est.profile, k)))
        assert best - 1e-12 <= got <= best * 1.1 + 1e-12


def test_inferred_alphabets_denoiser_module_and_ranks(law: np.ndarray) -> None:
    from exactmd.denoisers.exact import exact_denoiser

    x = draw(law, 200, seed=1)
    full = estimate_profile(x, exact_denoiser(law), n_orders=1, seed=3)  # q from the output
    same = estimate_profile(x, exact(law), n_orders=1, seed=3, shape=SHAPE, batch_size=7)
    assert full.profile == pytest.approx(same.profile, abs=1e-12)
    part = estimate_profile(x, exact(law), seed=3, shape=SHAPE, ranks=[4, 0, 4])
    assert part.ranks.tolist() == [0, 4]
    again = estimate_profile(x, exact(law), seed=3, shape=SHAPE, ranks=[4.0, np.float32(0)])
    assert again.ranks.tolist() == [0, 4]  # integral floats are integers (the one rule)
    assert np.array_equal(again.profile, part.profile)
    assert part.profile == pytest.approx(full.profile[[0, 4]], abs=1e-12)
    assert "n_samples=200" in repr(full)


def test_torch_denoiser_gives_the_same_estimate(law: np.ndarray) -> None:
    torch = pytest.importorskip("torch")
    from exactmd.denoisers.exact import as_denoiser

    dist_t = as_distribution(torch.as_tensor(law))

    def fn(tokens: Any) -> Any:
        assert isinstance(tokens, torch.Tensor)
        return exact_conditionals(dist_t, tokens.numpy())

    x = draw(law, 150, seed=2)
    ref = estimate_profile(x, exact(law), seed=4, shape=SHAPE)
    got = estimate_profile(torch.as_tensor(x), as_denoiser(fn, tokens="torch"), seed=4, shape=SHAPE)
    assert got.profile == pytest.approx(ref.profile, abs=1e-12)


def test_product_law_has_zero_variance_at_every_rank() -> None:
    p = np.einsum("i,j,k->ijk", [0.2, 0.8], [0.5, 0.25, 0.25], [0.1, 0.9])
    x = draw(p, 50, seed=0)
    est = estimate_profile(x, exact(p), n_orders=1, seed=0, shape=p.shape)
    # independent: f(i) = −mean_j H(X_j) on average, and the estimate is unbiased
    f = information_profile(p)
    assert np.allclose(f, f[0])
    assert np.all(np.abs(est.profile - f) < 4 * est.stderr + 1e-12)


def test_bad_input(law: np.ndarray) -> None:
    x = draw(law, 10, seed=0)
    den = exact(law)
    with pytest.raises(ValidationError, match=r"samples: must be an int array \(M, N\)"):
        estimate_profile(x[:1], den)
    with pytest.raises(ValidationError, match="samples: must be integers"):
        estimate_profile(x.astype(float), den)
    with pytest.raises(ValidationError, match="samples: values must be >= 0"):
        estimate_profile(-x - 1, den)
    bad = x.copy()
    bad[3, 1] = 3
    with pytest.raises(
        ValidationError, match=r"entry \(3, 1\) must lie in range\(q_i\) = range\(3\)"
    ):
        estimate_profile(bad, den, shape=SHAPE)
    with pytest.raises(ValidationError, match="n_orders: must be an integer >= 1; received 0"):
        estimate_profile(x, den, n_orders=0)
    with pytest.raises(ValidationError, match="ranks: must be indices in range"):
        estimate_profile(x, den, shape=SHAPE, ranks=[5])
    for bad_rank in (1.5, True, "1"):  # the one rule for integers: 2.0 is 2, these are not
        with pytest.raises(ValidationError, match="ranks: must be indices in range"):
            estimate_profile(x, den, shape=SHAPE, ranks=[0, bad_rank])
    with pytest.raises(ValidationError, match="shape: must give one alphabet size per position"):
        estimate_profile(x, den, shape=(2, 3))
    with pytest.raises(DenoiserError, match=r"must return shape \(B, N, q\)"):
        estimate_profile(x, lambda t: np.ones((len(t), 5)))
    with pytest.raises(DenoiserError, match="must sum to 1"):
        estimate_profile(x, lambda t: np.ones((len(t), 5, 3)), shape=(3,) * 5)

    def zero_on_sample(tokens: np.ndarray) -> np.ndarray:
        out = np.zeros((len(tokens), 5, 3))
        out[:, :, 2] = 1.0  # all mass on value 2
        out[:, [0, 2, 4], 2] = 0.0
        out[:, [0, 2, 4], 1] = 1.0
        return out

    with pytest.raises(DenoiserError, match="must give positive probability to sampled values"):
        estimate_profile(x, zero_on_sample, shape=SHAPE)
