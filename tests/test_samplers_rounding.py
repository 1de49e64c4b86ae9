"""Scores compared within rounding (issue 15, F1 and F2): near-ties are ties, a score near a
threshold is refused.

The brute forces: F1 against ``test_samplers_fast_dllm.brute_fast`` (Fast-dLLM's loop over
every joint draw, in dicts); F2 by hand (J's conditionals: position 0's row given x1 = 2 is
[5, 7, 2], position 1's given x0 = 0 is [7, 2, 5]); ``snap`` against a pure-Python single
linkage over the sorted scores.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_samplers_fast_dllm import brute_fast

import exactmd
from exactmd.errors import TieError
from exactmd.law.distribution import as_distribution
from exactmd.samplers import block_refinement, eb, exact_run, fast_dllm, llada
from exactmd.samplers._engine import monte_carlo_run
from exactmd.samplers._records import StepBatch
from exactmd.samplers._select import SCORE_RTOL, near, snap
from exactmd.testing import assert_samples_match

M = 2000
F1 = np.array([[0.87, 0.03], [0.08, 0.02]])
J = np.array([[7.0, 2, 5], [1, 2, 7], [3, 4, 2]])
J = J / J.sum()


def test_near_and_snap_examples():
    assert near(0.9, 0.8999999999999999) and not near(0.9, 0.9 + 1e-6)
    assert not near(1.0, np.inf) and near(-np.inf, -np.inf) and not near(0.0, 1e-20)
    x = np.array([0.3, 0.1, 0.3 * (1 + 1e-13), 0.2])
    assert snap(x) is not x and snap(x).tolist() == [x[2], 0.1, x[2], 0.2]
    y = np.array([0.3, 0.1, 0.3, 0.2])
    assert snap(y) is y  # nothing near but unequal: the input itself


def brute_snap(row, live):
    vals = sorted(float(v) for v, ok in zip(row, live) if ok)
    top, group = {}, vals[:1]
    for v in vals[1:]:
        if abs(v - group[-1]) <= SCORE_RTOL * max(abs(v), abs(group[-1])) or v == group[-1]:
            group.append(v)
        else:
            top.update({g: group[-1] for g in group})
            group = [v]
    top.update({g: group[-1] for g in group})
    return [top[float(v)] if ok else float(v) for v, ok in zip(row, live)]


@settings(max_examples=60, deadline=None)
@given(
    base=st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.9]), min_size=2, max_size=7),
    ulps=st.lists(st.integers(-3, 3), min_size=7, max_size=7),
    live=st.lists(st.booleans(), min_size=7, max_size=7),
)
def test_snap_is_single_linkage(base, ulps, live):
    row = np.array([b * (1 + u * 2.0**-52) for b, u in zip(base, ulps)])
    alive = np.array(live[: len(row)])
    got = snap(row[None, :], alive[None, :])[0]
    assert got.tolist() == brute_snap(row, alive)


# -- F1: Fast-dLLM's threshold -------------------------------------------------------------------
@pytest.mark.parametrize("ties", ["error", "split"])
def test_f1_threshold_at_a_score_is_refused(ties):
    with pytest.raises(TieError, match=r"score 0\.9 against threshold 0\.9.*move the threshold"):
        exactmd.output_distribution(F1, fast_dllm(threshold=0.9, temperature=1.0, ties=ties))
    with pytest.raises(TieError, match="within rounding of the threshold"):
        exactmd.sample(F1, fast_dllm(threshold=0.9, temperature=1.0, ties=ties), 200, seed=0)


def test_f1_just_above_is_the_real_codes_law():
    tau = 0.9 + 1e-6
    law = exactmd.output_distribution(F1, fast_dllm(threshold=tau, temperature=1.0))
    brute, _ = brute_fast(F1, threshold=tau, t=1.0)
    np.testing.assert_allclose(law, brute, atol=1e-12, rtol=0)
    # the real get_transfer_index's empirical law (the review, M = 20000): [[0.914, 0.0017],
    # [0.0833, 0.001]]
    np.testing.assert_allclose(law, [[0.914, 0.0017], [0.0833, 0.001]], atol=5e-3)
    samples = exactmd.sample(F1, fast_dllm(threshold=tau, temperature=1.0), M, seed=1)
    assert_samples_match(samples, law)


def test_factor_threshold_at_a_score_is_refused():
    # three positions scoring 2/3 at T = 0 against th_2 = 1 - 1/3
    p = np.zeros((2, 2, 2))
    p[0, 0, 0], p[1, 1, 1] = 2 / 3, 1 / 3
    with pytest.raises(TieError, match="rank 2"):
        exactmd.output_distribution(p, fast_dllm(factor=1.0, ties="split"))
    with pytest.raises(TieError, match="rank 2"):
        exactmd.sample(p, fast_dllm(factor=1.0, ties="split"), 50, seed=0)


# -- F2: ties by exact float equality --------------------------------------------------------------
def test_f2_near_tie_is_a_tie():
    # both positions' argmax probabilities are 14/33 (exactmd's rows differ by 1 ulp)
    assert near(J[0].sum(), J[:, 2].sum()) and J[0].sum() == pytest.approx(14 / 33)
    with pytest.raises(TieError, match="equal within rounding"):
        exactmd.output_distribution(J, llada(2))
    law = exactmd.output_distribution(J, llada(2, ties="split"))
    want = np.zeros((3, 3))
    want[0, 0] = want[1, 2] = 0.5  # x0 = 0 first, then argmax [7, 2, 5]; x1 = 2, then [5, 7, 2]
    np.testing.assert_allclose(law, want, atol=1e-12, rtol=0)
    with pytest.raises(TieError, match="drawn top-k"):
        exactmd.sample(J, llada(2), 20, seed=0)
    samples = exactmd.sample(J, llada(2, ties="split"), M, seed=2)
    assert_samples_match(samples, law)


def test_f2_fast_dllm_top_k_and_threshold_best():
    with pytest.raises(TieError):
        exactmd.output_distribution(J, fast_dllm(steps=2))
    law = exactmd.output_distribution(J, fast_dllm(threshold=0.99, ties="split"))
    want = np.zeros((3, 3))
    want[0, 0] = want[1, 2] = 0.5
    np.testing.assert_allclose(law, want, atol=1e-12, rtol=0)


# -- block refinement (float32 tolerance) and EB's budget ------------------------------------------
def test_block_refinement_threshold_within_float32_rounding():
    p = np.array([[0.4, 0.2], [0.1, 0.3]])  # position 0 scores 0.6 at T = 0
    for tau in (0.6, 0.6 + 3e-8, 0.6 - 3e-8):
        s = block_refinement(steps=1, block_length=2, threshold=tau)
        with pytest.raises(TieError, match="relative tolerance 1e-06"):
            exactmd.output_distribution(p, s)
        with pytest.raises(TieError, match="within rounding"):
            exactmd.sample(p, s, 20, seed=0)
    s = block_refinement(steps=1, block_length=2, threshold=0.6 + 1e-5, temperature=1.0)
    law = exactmd.output_distribution(p, s)
    assert_samples_match(exactmd.sample(p, s, M, seed=3), law)


def test_eb_budget_at_gamma_is_refused():
    p = np.outer([0.5, 0.5], [0.8, 0.2])  # independent: entropies log 2 and H(0.8)
    h = -(0.8 * np.log(0.8) + 0.2 * np.log(0.2))
    with pytest.raises(TieError, match="within rounding of the threshold"):
        exactmd.output_distribution(p, eb(gamma=h))
    with pytest.raises(TieError, match="within rounding of the threshold"):
        exactmd.sample(p, eb(gamma=h), 20, seed=0)
    below, above = (exactmd.output_distribution(p, eb(gamma=g)) for g in (h - 1e-6, h + 1e-6))
    np.testing.assert_allclose(above, np.outer([0.5, 0.5], [0.8, 0.2]), atol=1e-12)
    np.testing.assert_allclose(below, p, atol=1e-12)  # sequential: π itself
    d = as_distribution(p)
    assert exact_run(d, eb(gamma=h + 1e-6), None).calls == {1: 1.0}
    assert exact_run(d, eb(gamma=h - 1e-6), None).calls == {2: 1.0}
    samples = monte_carlo_run(d, eb(gamma=h + 1e-6), None, M, np.random.default_rng(4))
    assert_samples_match(samples, above)


# ---------------------------------------------------------------- the T = 0 argmax
def _near_tie_law(gap):
    """Two positions; position 1 is independent with values 1 and 2 equal up to a relative
    ``gap`` (value 2 the larger) and value 0 smaller: the argmax is value 1 when the gap is
    within rounding (the first of the equal values), else value 2."""
    row = np.array([0.2, 0.4, 0.4 * (1 + gap)])
    return np.outer([0.7, 0.3], row / row.sum())


ARGMAX_SAMPLERS = [
    (lambda: llada(2), SCORE_RTOL),
    (lambda: fast_dllm(threshold=0.9), SCORE_RTOL),
    (lambda: exactmd.samplers.dream(2, alg="maskgit_plus"), SCORE_RTOL),
    (lambda: block_refinement(2, 2, threshold=0.9), 1e-6),
]


@pytest.mark.parametrize("make,rtol", ARGMAX_SAMPLERS, ids=["llada", "fast", "dream", "br"])
def test_temperature_zero_argmax_counts_near_equal_values_as_equal(make, rtol):
    """Within rounding: the first index (what torch.argmax does on equal values); a gap far
    above rounding: the larger value. The exact law and the Monte Carlo run agree."""
    sched = make()
    for gap, value in ((rtol / 10, 1), (rtol * 100, 2)):
        p = _near_tie_law(gap)
        law = exactmd.output_distribution(p, sched)
        assert law.sum(axis=0)[value] == pytest.approx(1.0, abs=1e-12), (gap, law)
        draws = monte_carlo_run(as_distribution(p), sched, None, 50, np.random.default_rng(0))
        assert np.all(draws[:, 1] == value)
    assert np.argmax(_near_tie_law(rtol / 10)[0]) == 2  # a plain argmax takes the larger


def test_mdlm_noise_removal_argmax_counts_near_equal_values_as_equal():
    sched = exactmd.samplers.mdlm(2)
    for gap, value in ((SCORE_RTOL / 10, 1), (SCORE_RTOL * 100, 2)):
        row = _near_tie_law(gap)[0] / 0.7
        probs = np.array([[[0.5, 0.5, 0.0], row]])
        tokens = np.array([[0, 3]])
        batch = StepBatch(2, 0, tokens, probs, np.array([1]), (2, 3))
        assert np.argmax(sched.values(batch)[0, 1]) == value
        out = sched.draw(2, np.zeros(1, np.int64), tokens, probs, (2, 3), np.random.default_rng(0))
        assert out.tokens.tolist() == [[0, value]]
