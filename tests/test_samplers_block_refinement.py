"""diffusers' block refinement (``block_refinement``) against a brute force written here.

The brute force runs ``LLaDA2Pipeline``'s loops literally for one sequence: blocks in order
(leading blocks without masks prefilled), the ``while`` loop of a block with its model call at
the top of every iteration, its step index and its stop rule; each step enumerates every joint
draw of every candidate's value together with every auxiliary choice (the order of equal
probabilities in the top-p sort, the tie-break of the top-k commit, each equally likely),
applies "at least k scores above τ: those, else the k best" in plain Python, and accumulates
dicts. π's conditionals are read from the table (uniform at a context of probability 0, the
exact denoiser's convention).
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict

import numpy as np
import pytest
from helpers import TOL, random_law
from hypothesis import given, settings
from hypothesis import strategies as st

from exactmd import factorization_error, learning_error, output_distribution, sample
from exactmd.errors import ScheduleError, TieError
from exactmd.law.distribution import as_distribution
from exactmd.samplers import block_refinement, exact_run, llada
from exactmd.samplers._engine import monte_carlo_run
from exactmd.samplers.block_refinement import filtered_law
from exactmd.testing import assert_samples_match


class Ambiguous(Exception):
    """Two quantities within 1e-12 but not equal: the outcome would depend on rounding."""


def close_but_not_equal(a, b):
    return a != b and abs(a - b) <= 1e-12


def outcomes(p):
    return [(idx, float(p[idx])) for idx in itertools.product(*map(range, p.shape)) if p[idx] > 0]


def conditional(p, x, i):
    mask = max(p.shape)
    w = [0.0] * p.shape[i]
    for idx, m in outcomes(p):
        if all(v == mask or v == u for u, v in zip(idx, x)):
            w[idx[i]] += m
    total = sum(w)
    return [v / total for v in w] if total > 0 else [1.0 / p.shape[i]] * p.shape[i]


def tempered_row(c, temperature):
    top = max(c)
    w = [(v / top) ** (1.0 / temperature) if v > 0 else 0.0 for v in c]
    return [v / sum(w) for v in w]


def filter_outcomes(c, temperature, top_k=None, top_p=None):
    """[(probability, value law, score per value)] over the filter's auxiliary choices."""
    if temperature == 0:
        a = c.index(max(c))  # torch.argmax: first index
        return [(1.0, [1.0 if u == a else 0.0 for u in range(len(c))], list(c))]
    q = tempered_row(c, temperature)
    if top_k is not None and top_k < len(q):
        kth = sorted(q, reverse=True)[top_k - 1]
        q = [v if v >= kth else 0.0 for v in q]
        q = [v / sum(q) for v in q]
    if top_p is None or top_p >= 1:
        return [(1.0, q, q)]
    orders = [
        o
        for o in itertools.permutations(range(len(q)))
        if all(q[o[r]] >= q[o[r + 1]] for r in range(len(o) - 1))
    ]
    found: dict = defaultdict(float)
    for o in orders:
        cum, kept = 0.0, []
        for r, j in enumerate(o):
            if close_but_not_equal(cum, top_p):
                raise Ambiguous
            if r == 0 or not cum > top_p:
                kept.append(j)
            cum += q[j]
        z = sum(q[j] for j in kept)
        law = tuple(q[u] / z if u in kept else 0.0 for u in range(len(q)))
        found[law] += 1.0 / len(orders)
    return [(w, list(law), list(law)) for law, w in found.items()]


def quotas(block_length, steps):
    return [block_length // steps + (1 if i < block_length % steps else 0) for i in range(steps)]


def commit_sets(scores, k, tau):
    """[(set, probability)]: all scores > τ when at least k, else the k best, ties uniform."""
    for a, b in itertools.combinations(scores.values(), 2):
        if close_but_not_equal(a, b):
            raise Ambiguous
    if any(close_but_not_equal(v, tau) for v in scores.values()):
        raise Ambiguous
    high = [j for j, v in scores.items() if v > tau]
    if len(high) >= k:
        return [(frozenset(high), 1.0)], False
    kk = min(k, len(scores))
    ranked = sorted(scores.values(), reverse=True)
    edge = ranked[kk - 1]
    sure = [j for j, v in scores.items() if v > edge]
    tied = [j for j, v in scores.items() if v == edge]
    need = kk - len(sure)
    picks = list(itertools.combinations(tied, need))
    return [(frozenset(sure) | frozenset(t), 1.0 / len(picks)) for t in picks], len(tied) > need


def brute_block_refinement(
    p, steps, block_length, tau, temperature, top_k=None, top_p=None, prompt=None
):
    """(law, call law, tie seen) of LLaDA2Pipeline + BlockRefinementScheduler, one sequence."""
    shape, n, mask = p.shape, p.ndim, max(p.shape)
    per_block = min(steps, n)  # num_inference_steps = min(steps, gen_length // minimal_topk)
    quota = quotas(block_length, per_block)
    x0 = tuple((prompt or {}).get(i, mask) for i in range(n))
    blocks = [range(b * block_length, (b + 1) * block_length) for b in range(n // block_length)]
    prefill = 0
    while prefill < len(blocks) and all(x0[j] != mask for j in blocks[prefill]):
        prefill += 1
    states: dict = {(x0, 0): 1.0}
    tie = False
    for block in blocks[prefill:]:
        live = {(x, c, 0): w for (x, c), w in states.items()}
        states = defaultdict(float)
        while live:
            nxt: dict = defaultdict(float)
            for (x, calls, step_idx), w in live.items():
                calls += 1  # the model call at the top of the iteration
                cand = [j for j in block if x[j] == mask]
                if not cand:  # no mask remained: the loop stops (editing is off)
                    states[(x, calls)] += w
                    continue
                k = quota[min(step_idx, len(quota) - 1)]
                per = {
                    j: filter_outcomes(conditional(p, x, j), temperature, top_k, top_p)
                    for j in cand
                }
                tie |= any(len(o) > 1 for o in per.values())
                draws = [
                    [
                        (wo * law[v], v, score[v])
                        for wo, law, score in per[j]
                        for v in range(shape[j])
                        if wo * law[v] > 0
                    ]
                    for j in cand
                ]
                for joint in itertools.product(*draws):
                    wj = math.prod(d[0] for d in joint)
                    sets, tied = commit_sets({j: d[2] for j, d in zip(cand, joint)}, k, tau)
                    tie |= tied
                    for chosen, ws in sets:
                        y = list(x)
                        for j, d in zip(cand, joint):
                            if j in chosen:
                                y[j] = d[1]
                        key = (tuple(y), calls, step_idx + 1)
                        if step_idx + 1 >= per_block:  # masks_remaining and the steps are used
                            assert all(y[j] != mask for j in block)
                            states[(tuple(y), calls)] += w * wj * ws
                        else:
                            nxt[key] += w * wj * ws
            live = nxt
    law = np.zeros(shape)
    call_law: dict = defaultdict(float)
    for (x, calls), w in states.items():
        law[x] += w
        call_law[calls] += w
    return law, dict(call_law), tie


def check_against_brute(p, sched_args, prompt=None, expect_tie=False):
    steps, length, tau, temperature, top_k, top_p = sched_args
    law, calls, tie = brute_block_refinement(
        p, steps, length, tau, temperature, top_k, top_p, prompt
    )
    assert tie == expect_tie
    kw = {"threshold": tau, "temperature": temperature, "top_k": top_k, "top_p": top_p}
    if tie:
        with pytest.raises(TieError, match="pass ties='split'"):
            exact_run(as_distribution(p), block_refinement(steps, length, **kw), None, prompt)
    s = block_refinement(steps, length, **kw, ties="split" if tie else "error")
    run = exact_run(as_distribution(p), s, None, prompt)
    np.testing.assert_allclose(run.law, law, rtol=0, atol=TOL)
    assert set(run.calls) == set(calls)
    assert all(abs(run.calls[c] - w) < TOL for c, w in calls.items())
    return s, run


CASES = [  # shape, seed, (steps, block_length, threshold, T, top_k, top_p), tie
    ((2, 3), 0, (2, 2, 0.6, 1.0, None, None), False),
    ((2, 3, 2), 1, (2, 3, 0.5, 0.7, None, None), False),
    ((3, 2, 2, 2), 2, (3, 2, 0.4, 1.0, None, None), False),
    ((2, 2, 3, 2), 3, (1, 2, 0.3, 1.5, None, None), False),
    ((2, 3, 2, 2), 4, (4, 4, 0.95, 1.0, None, None), False),
    ((2, 2, 2, 3), 5, (2, 1, 0.5, 1.0, None, None), False),
    ((3, 3, 2, 2), 6, (3, 2, 1.5, 0.8, 2, None), False),  # τ > 1: pure top-k
    ((3, 2, 3, 2), 7, (2, 2, 0.35, 1.2, None, 0.7), False),
    ((3, 3, 2, 2), 8, (5, 4, 0.2, 1.0, 2, 0.9), False),  # steps > block: zero quotas
    ((2, 3, 2, 2), 9, (2, 2, 0.5, 0.0, None, None), False),  # T = 0
    ((2, 3, 2, 2, 2, 2), 10, (2, 3, 0.6, 0.0, None, None), False),
    ((2, 2, 2, 2, 2, 2), 11, (2, 2, 0.7, 1.0, None, None), False),
    # zeros make equal scores at reachable states (structural ties): refused, then split
    ((2, 3, 2, 2), 14, (3, 2, 0.6, 1.0, None, None), True),
    ((2, 2, 2, 2, 2, 2), 15, (3, 3, 0.55, 0.8, None, None), True),
    ((3, 2, 2, 3), 16, (4, 4, 0.5, 1.0, None, 0.85), True),
    ((2, 3, 2, 2, 2, 2), 17, (3, 2, 0.45, 1.3, 2, None), True),
]


@pytest.mark.parametrize(("shape", "seed", "args", "tie"), CASES)
def test_law_and_calls_match_the_brute_force(shape, seed, args, tie):
    p = random_law(shape, seed=seed, zeros=0.3)
    _, run = check_against_brute(p, args, expect_tie=tie)
    if args[3] == 0:  # T = 0: the argmax path, a point mass
        assert np.count_nonzero(run.law) == 1 and run.law.max() == 1.0


@pytest.mark.parametrize(
    ("prompt", "args"),
    [
        ({1: 2}, (2, 2, 0.5, 1.0, None, None)),  # a prompt inside the first block
        ({0: 1, 1: 0}, (2, 2, 0.5, 1.0, None, None)),  # the first block prefilled: no call
        ({2: 1, 3: 0}, (2, 2, 0.5, 0.9, None, None)),  # a later block full: one call
        ({3: 1}, (3, 4, 0.3, 0.0, None, None)),
    ],
)
def test_prompts_match_the_brute_force(prompt, args):
    p = random_law((2, 3, 2, 2), seed=12, zeros=0.2)
    check_against_brute(p, args, prompt=prompt)


def test_call_law_by_hand():
    # N = 2, one block of 2, 2 steps: quotas (1, 1). τ = 0.5 with p = (0.6, 0.4) ⊗ (0.9, 0.1)
    # at T = 0: scores 0.6 and 0.9, both above τ: both committed at step 0, then the loop
    # makes one more call (the block was done early): 2 calls.
    p = np.outer([0.6, 0.4], [0.9, 0.1])
    run = exact_run(as_distribution(p), block_refinement(2, 2, threshold=0.5), None)
    assert run.calls == {2: 1.0} and run.law[0, 0] == 1.0
    # τ = 0.95: one per step, the block ends with its last step: 2 calls, no extra
    run = exact_run(as_distribution(p), block_refinement(2, 2, threshold=0.95), None)
    assert run.calls == {2: 1.0}
    # 3 steps are capped at N = 2 (the pipeline's min(steps, gen_length // minimal_topk))
    run = exact_run(as_distribution(p), block_refinement(3, 2, threshold=0.95), None)
    assert run.calls == {2: 1.0}
    # N = 3, one block, 3 steps (quotas 1, 1, 1), scores 0.6, 0.9, 0.7
    p = np.einsum("i,j,k->ijk", [0.6, 0.4], [0.9, 0.1], [0.7, 0.3])
    for tau, calls in [(0.95, 3), (0.8, 3), (0.65, 3), (0.5, 2)]:
        # 0.95: one a step; 0.8: {1}, {2}, {0}; 0.65: {1, 2} then {0} at step 1 < 3, so one
        # extra call; 0.5: all at step 0 plus the extra call
        run = exact_run(as_distribution(p), block_refinement(3, 3, threshold=tau), None)
        assert run.calls == {calls: 1.0}
    # one block per position (N = 3, 2 steps, quotas (1, 0)): each block done at step 0 < 2
    run = exact_run(as_distribution(p), block_refinement(2, 1, threshold=0.95), None)
    assert run.calls == {6: 1.0}


def test_top_k_ties_are_refused_or_split():
    # two identical independent positions (dyadic: exact sums): equal scores at T > 0
    a = np.array([0.25, 0.75])
    p = np.einsum("i,j,k->ijk", a, a, np.array([0.5, 0.5]))
    check_against_brute(p, (2, 3, 0.9, 1.0, None, None), expect_tie=True)
    with pytest.raises(TieError, match=r"top-k commit at step 0, tokens \[2, 2, 2\]"):
        output_distribution(p, block_refinement(2, 3, threshold=0.9, temperature=1.0))
    s = block_refinement(2, 3, threshold=0.9, temperature=1.0, ties="split")
    assert_samples_match(sample(p, s, 20_000, seed=1), output_distribution(p, s))  # M = 20,000
    with pytest.raises(TieError, match="drawn top-k"):
        sample(p, block_refinement(2, 3, threshold=0.9, temperature=1.0), 200, seed=1)


def test_top_p_cut_ties_are_refused_or_split():
    # (0.5, 0.25, 0.25): top_p = 0.6 keeps the 0.5 and one of the two 0.25s
    row = np.array([0.5, 0.25, 0.25])
    law, score = filtered_law(row[None], 1.0, top_p=0.6, ties="split")
    assert law.tolist() == [[2 / 3, 1 / 6, 1 / 6]] and score.tolist() == [[2 / 3, 1 / 3, 1 / 3]]
    with pytest.raises(TieError, match=r"top-p cut at 0\.6"):
        filtered_law(row[None], 1.0, top_p=0.6)
    p = np.einsum("i,j->ij", row, np.array([0.3, 0.7]))
    check_against_brute(p, (2, 2, 0.5, 1.0, None, 0.6), expect_tie=True)
    s = block_refinement(2, 2, threshold=0.5, temperature=1.0, top_p=0.6, ties="split")
    assert_samples_match(sample(p, s, 20_000, seed=2), output_distribution(p, s))
    with pytest.raises(TieError, match="top-p cut"):
        sample(p, block_refinement(2, 2, 0.5, 1.0, top_p=0.6), 100, seed=2)


@pytest.mark.parametrize("gap", [0.0, 1e-8, -1e-8])
def test_top_p_mass_within_float32_rounding_of_top_p_is_refused(gap):
    # (0.6, 0.3, 0.1), top_p = 0.6: the 0.3 is cut or not by diffusers' float32 cumsum
    row = np.array([[0.6, 0.3, 0.1]])
    for ties in ("error", "split"):
        with pytest.raises(TieError, match=r"within rounding of the threshold .*top-p cut"):
            filtered_law(row, 1.0, top_p=0.6 + gap, ties=ties)
    kept, _ = filtered_law(row, 1.0, top_p=0.6 - 1e-4)  # the mass 0.6 exceeds it: 0.3 is cut
    assert kept.tolist() == [[1.0, 0.0, 0.0]]
    both, _ = filtered_law(row, 1.0, top_p=0.6 + 1e-4)  # it does not: 0.3 stays
    np.testing.assert_allclose(both, [[2 / 3, 1 / 3, 0.0]], atol=1e-15)


def test_top_k_keeps_probabilities_within_float32_rounding_of_the_kth():
    row = np.array([[0.4 * (1 + 1e-8), 0.4, 0.2 - 0.4e-8]])
    law, _ = filtered_law(row, 1.0, top_k=1)
    np.testing.assert_allclose(law, [[0.5, 0.5, 0.0]], atol=1e-7)  # both, as equal ones
    far = np.array([[0.4 * (1 + 1e-4), 0.4, 0.2 - 0.4e-4]])
    assert filtered_law(far, 1.0, top_k=1)[0].tolist() == [[1.0, 0.0, 0.0]]


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    temperature=st.sampled_from([0.0, 0.5, 1.0, 2.0]),
    top_k=st.sampled_from([None, 1, 2]),
    top_p=st.sampled_from([None, 0.3, 0.8, 1.0]),
)
def test_filtered_law_matches_the_brute_force(seed, temperature, top_k, top_p):
    rng = np.random.default_rng(seed)
    rows = rng.dirichlet(np.ones(4), size=3) * (rng.random((3, 4)) > 0.3)
    rows[:, 0] += 1e-3
    rows /= rows.sum(axis=1, keepdims=True)
    law, score = filtered_law(rows, temperature, top_k, top_p, ties="split")
    for r, c in enumerate(rows.tolist()):
        try:
            outs = filter_outcomes(c, temperature, top_k, top_p)
        except Ambiguous:
            continue
        want = [sum(w * lw[u] for w, lw, _ in outs) for u in range(4)]
        np.testing.assert_allclose(law[r], want, atol=TOL)
        for _, lw, sc in outs:
            for u in range(4):
                if lw[u] > 0:
                    assert abs(score[r, u] - sc[u]) < TOL


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), per_block=st.integers(1, 2), length=st.sampled_from([1, 2]))
def test_pure_top_k_at_temperature_one_is_llada_low_confidence(seed, per_block, length):
    # τ > 1 leaves the quota alone; at T = 1 the score q = p; without a prompt the block's mask
    # count is its length: LLaDA's low_confidence rule, step for step
    p = random_law((2, 3, 2, 2), seed=seed, zeros=0.3)
    ours = block_refinement(per_block, length, threshold=2.0, temperature=1.0, ties="split")
    theirs = llada(per_block * (4 // length), length, temperature=1.0, ties="split")
    np.testing.assert_allclose(
        output_distribution(p, ours), output_distribution(p, theirs), atol=1e-12
    )


@pytest.mark.parametrize("args", [CASES[2][2], CASES[7][2], CASES[8][2]])
def test_monte_carlo_matches_the_exact_law(args):
    steps, length, tau, temperature, top_k, top_p = args
    p = random_law((3, 2, 2, 2), seed=13, zeros=0.2)
    s = block_refinement(steps, length, tau, temperature, top_p, top_k)
    m = 20_000
    assert_samples_match(sample(p, s, m, seed=4), output_distribution(p, s))
    d = as_distribution(p)
    x = monte_carlo_run(d, s, None, m, np.random.default_rng(5), {1: 1})
    assert_samples_match(x, exact_run(d, s, None, prompt={1: 1}).law)


def test_temperature_zero_monte_carlo_is_the_point_mass():
    p = random_law((2, 3, 2, 2), seed=9, zeros=0.3)
    s = block_refinement(2, 2, threshold=0.5)
    law = output_distribution(p, s)
    x = sample(p, s, 50, seed=0)
    assert np.all(law[tuple(x.T)] == 1.0)


def test_sample_then_select_refuses_e_fact_and_e_learn():
    p = random_law((2, 2), seed=1)
    s = block_refinement(2, 2, temperature=1.0)
    den = lambda t: np.full((len(t), 2, 2), 0.5)  # noqa: E731
    for call in (
        lambda: factorization_error(p, s),
        lambda: learning_error(p, s, den),
        lambda: learning_error(p, s, None),
        lambda: s.factorization_error(as_distribution(p)),
        lambda: s.learning_error(as_distribution(p), den),
    ):
        with pytest.raises(ScheduleError, match="sample-then-select sampler"):
            call()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: block_refinement(0, 2), r"steps: must be an integer >= 1; received 0"),
        (lambda: block_refinement(2, 0), r"block_length: must be an integer >= 1; received 0"),
        (lambda: block_refinement(2, 1.5), r"block_length: must be an integer >= 1; received 1.5"),
        (lambda: block_refinement(2, 2, threshold=-0.1), r"threshold: .*>= 0; received -0.1"),
        (lambda: block_refinement(2, 2, temperature=-1), r"temperature: .*>= 0; received -1"),
        (lambda: block_refinement(2, 2, top_p=0.0), r"top_p: .*received 0.0"),
        (lambda: block_refinement(2, 2, top_p=1.5), r"top_p: .*received 1.5"),
        (lambda: block_refinement(2, 2, top_k=0), r"top_k: must be an integer >= 1; received 0"),
        (lambda: block_refinement(2, 2, ties="any"), r"ties: must be 'error' or 'split'"),
        (
            lambda: output_distribution(np.full((2, 2, 2), 0.125), block_refinement(2, 2)),
            r"block_length: must divide the generation length N = 3 .*; received 2",
        ),
    ],
)
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
