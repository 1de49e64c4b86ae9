"""exactmd.samplers.fast_dllm against an independent brute force over joint draws.

The brute force (``brute_fast``) runs Fast-dLLM's ``generate`` literally, as a branching
process merged in dicts: the blocks in order; in a block, rounds until the block has no mask,
each costing one call; at each state it takes π's conditionals by slicing the joint
(``brute.brute_conditional``), tempers them in plain Python, enumerates **every joint value**
of the candidates, scores each by its untempered probability and applies the selection rule
as the code is written (torch.topk order, then the threshold loop ``drop if c < τ``, or the
factor walk with its loop variable). A tie is broken by enumerating every priority order of
the candidates (uniform), and ``ties="error"`` is mirrored by refusing a draw whose selection
depends on that order. Nothing of exactmd's step laws is used.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict

import numpy as np
import pytest
from brute import brute_conditional
from helpers import TOL, laws, random_law
from hypothesis import given, settings
from hypothesis import strategies as st

import exactmd
from exactmd.errors import ScheduleError, TieError, ValidationError
from exactmd.law.distribution import as_distribution
from exactmd.samplers import exact_run, fast_dllm
from exactmd.samplers._engine import monte_carlo_run
from exactmd.testing import assert_samples_match


class BruteTie(Exception):
    """A selection of the brute force depends on the tie-break order, or on the rounding of a
    score within ``RTOL`` of a threshold it is compared with."""


RTOL = 1e-12  # scores this close (relatively) are equal as far as the real code can tell


def close(a: float, b: float) -> bool:
    return abs(a - b) <= RTOL * max(abs(a), abs(b))


def merge_near(scores: list[float]) -> list[float]:
    """Scores with every chain of ``close`` neighbours (in sorted order) set to its largest."""
    ranked = sorted(set(scores))
    top = {}
    group = [ranked[0]] if ranked else []
    for x in ranked[1:]:
        if close(x, group[-1]):
            group.append(x)
        else:
            top.update({y: group[-1] for y in group})
            group = [x]
    top.update({y: group[-1] for y in group})
    return [top[x] for x in scores]


def temper(row: np.ndarray, t: float) -> list[float]:
    row = [float(x) for x in row]
    if t == 0:
        best = max(range(len(row)), key=lambda v: row[v])  # the first maximal index
        return [1.0 if v == best else 0.0 for v in range(len(row))]
    w = [x ** (1.0 / t) if x > 0 else 0.0 for x in row]
    total = sum(w)
    return [x / total for x in w]


def rule_topk(k):
    return lambda order, scores: set(order[:k])


def rule_threshold(tau):
    def rule(order, scores):
        chosen = set(order)  # topk(confidence, k = number of candidates)
        for r in range(1, len(order)):
            if close(scores[order[r]], tau):
                raise BruteTie(scores)  # the rounding decides
            if scores[order[r]] < tau:
                chosen.discard(order[r])
        return chosen

    return rule


def rule_factor(f):
    def rule(order, scores):
        m = len(order)
        thresholds = [1 - f / (n + 1) for n in range(1, m + 1)]
        thresholds[0] = -1
        ranked = sorted(scores, reverse=True)
        top_i = 0
        for top_i in range(m):
            if close(ranked[top_i], thresholds[top_i]):
                raise BruteTie(scores)  # the rounding decides
            if ranked[top_i] < thresholds[top_i]:
                break
        if top_i == 0 or top_i == m - 1:
            top_i += 1
        return set(order[:top_i])

    return rule


def selections(scores, rule, ties):
    """[(chosen candidate indices, weight)]: every tie-break priority when scores tie."""
    m = len(scores)
    if len(set(scores)) == m:
        order = sorted(range(m), key=lambda a: -scores[a])
        return [(frozenset(rule(order, scores)), 1.0)]
    out = defaultdict(float)
    perms = list(itertools.permutations(range(m)))
    for perm in perms:
        order = sorted(range(m), key=lambda a: (-scores[a], perm.index(a)))
        out[frozenset(rule(order, scores))] += 1.0 / len(perms)
    if ties == "error" and len(out) > 1:
        raise BruteTie(scores)
    return list(out.items())


def brute_step(p, tok, cand, rule, t, ties):
    shape, q = p.shape, max(p.shape)
    given = {j: v for j, v in enumerate(tok) if v != q}
    rows = {j: brute_conditional(p, j, given) for j in cand}
    qs = {j: temper(rows[j], t) for j in cand}
    out = defaultdict(float)
    for vals in itertools.product(*(range(shape[j]) for j in cand)):
        pr = math.prod(qs[j][v] for j, v in zip(cand, vals))
        if pr == 0:
            continue
        raw = [float(rows[j][v]) for j, v in zip(cand, vals)]
        selections(raw, rule, "split")  # a raw score near a threshold raises BruteTie
        scores = merge_near(raw)  # near-equal scores tie
        for chosen, w in selections(scores, rule, ties):
            new = list(tok)
            for a in chosen:
                new[cand[a]] = vals[a]
            out[tuple(new)] += pr * w
    return out


def brute_fast(
    p,
    *,
    threshold=None,
    factor=None,
    block_length=None,
    steps=None,
    t=0.0,
    ties="split",
    prompt=None,
):
    shape = p.shape
    n, q = len(shape), max(shape)
    length = block_length or n
    blocks = n // length
    per = steps // blocks if steps is not None else None
    start = tuple((prompt or {}).get(i, q) for i in range(n))
    frontier = {(start, 0): 1.0}
    for b in range(blocks):
        lo, end = b * length, (b + 1) * length
        active = defaultdict(float)
        for (tok, calls), w in frontier.items():
            m_b = sum(tok[j] == q for j in range(lo, end))
            sizes = None
            if threshold is None and factor is None:
                sizes = tuple(m_b // per + (1 if i < m_b % per else 0) for i in range(per))
            active[(tok, calls, sizes, 0)] += w
        finished = defaultdict(float)
        while active:
            nxt = defaultdict(float)
            for (tok, calls, sizes, i), w in active.items():
                cand = [j for j in range(end) if tok[j] == q]
                if threshold is not None:
                    rule = rule_threshold(threshold)
                elif factor is not None:
                    rule = rule_factor(factor)
                else:
                    rule = rule_topk(sizes[i])
                outs = brute_step(p, tok, cand, rule, t, ties) if cand else {tok: 1.0}
                for new, pr in outs.items():
                    if all(new[j] != q for j in range(lo, end)):
                        finished[(new, calls + 1)] += w * pr
                    else:
                        nxt[(new, calls + 1, sizes, i + 1)] += w * pr
            active = nxt
        frontier = finished
    law = np.zeros(shape)
    calls = defaultdict(float)
    for (tok, c), w in frontier.items():
        law[tok] += w
        calls[c] += w
    return law, dict(calls)


def run_exact(p, sched, prompt=None):
    return exact_run(as_distribution(p), sched, None, prompt)


def check_against_brute(p, sched, prompt=None, **brute_args):
    run = run_exact(p, sched, prompt)
    law, calls = brute_fast(p, prompt=prompt, **brute_args)
    np.testing.assert_allclose(run.law, law, atol=TOL, rtol=0)
    assert set(run.calls) == {c for c, w in calls.items() if w > 0}
    for c, w in calls.items():
        assert abs(run.calls.get(c, 0.0) - w) <= TOL
    return run


MODES = [
    dict(threshold=0.3),
    dict(threshold=0.55),
    dict(threshold=0.9),
    dict(factor=0.5),
    dict(factor=1.0),
    dict(factor=2.5),
    dict(steps=2),
    dict(steps=5),
]


@pytest.mark.parametrize("mode", MODES, ids=lambda m: ",".join(f"{k}={v}" for k, v in m.items()))
@pytest.mark.parametrize("t", [0.0, 0.7, 1.0])
def test_law_and_calls_match_the_brute_force(mode, t):
    p = random_law((2, 3, 2, 2), seed=len(str(mode)) + int(10 * t), zeros=0.3)
    sched = fast_dllm(**mode, temperature=t, ties="split")
    check_against_brute(p, sched, t=t, **mode)


@settings(max_examples=25, deadline=None)
@given(
    p=laws(max_n=4),
    mode=st.sampled_from(MODES),
    t=st.sampled_from([0.0, 0.5, 1.0, 2.0]),
    split=st.booleans(),
)
def test_any_law_matches_the_brute_force(p, mode, t, split):
    ties = "split" if split else "error"
    sched = fast_dllm(**mode, temperature=t, ties=ties)
    try:
        law, calls = brute_fast(p, t=t, ties=ties, **mode)
    except BruteTie:
        with pytest.raises(TieError):
            run_exact(p, sched)
        return
    run = run_exact(p, sched)
    np.testing.assert_allclose(run.law, law, atol=TOL, rtol=0)
    for c in set(run.calls) | set(calls):
        assert abs(run.calls.get(c, 0.0) - calls.get(c, 0.0)) <= TOL


@pytest.mark.parametrize(
    "mode",
    [dict(threshold=0.4), dict(factor=1.0), dict(steps=4), dict(steps=6)],
    ids=str,
)
@pytest.mark.parametrize("prompt", [None, {1: 0}, {0: 1, 3: 1}])
def test_blocks_and_prompts(mode, prompt):
    p = random_law((2, 2, 3, 2), seed=7, zeros=0.3)
    sched = fast_dllm(**mode, block_length=2, temperature=0.8, ties="split")
    check_against_brute(p, sched, prompt=prompt, block_length=2, t=0.8, **mode)


@pytest.mark.parametrize("mode", [dict(threshold=0.45), dict(steps=3)], ids=str)
def test_six_positions_three_blocks(mode):
    p = random_law((2, 2, 2, 2, 2, 2), seed=3, zeros=0.4)
    sched = fast_dllm(**mode, block_length=2, temperature=1.0, ties="split")
    check_against_brute(p, sched, block_length=2, t=1.0, **mode)


def test_a_full_block_costs_one_call_and_trailing_blocks_count():
    p = random_law((2, 2, 2, 2), seed=11, zeros=0.0)
    prompt = {2: 0, 3: 1}  # the second block is the prompt's
    for mode in (dict(threshold=0.5), dict(steps=2)):
        sched = fast_dllm(**mode, block_length=2, temperature=1.0)
        run = check_against_brute(p, sched, prompt=prompt, block_length=2, t=1.0, **mode)
        assert min(run.calls) >= 2  # block 0 takes >= 1 round, block 1 one call
    run = run_exact(p, fast_dllm(threshold=0.5, block_length=2), {0: 0, 1: 0, 2: 0, 3: 1})
    assert run.calls == {2: 1.0}  # everything given: one call per block


def test_factor_refuses_a_block_without_masks():
    p = random_law((2, 2, 2, 2), seed=11, zeros=0.0)
    sched = fast_dllm(factor=1.0, block_length=2)
    with pytest.raises(ScheduleError, match="IndexError"):
        run_exact(p, sched, {0: 0, 1: 1})
    with pytest.raises(ScheduleError, match="IndexError"):
        monte_carlo_run(as_distribution(p), sched, None, 5, np.random.default_rng(0), {0: 0, 1: 1})


def test_threshold_refuses_a_score_equal_to_tau_and_keeps_one_just_above():
    # position 1 scores exactly 0.5 whatever it draws: at τ = 0.5 the real code's rounding of
    # softmax decides its side (a TieError, whatever ties); just below, it is written at once
    p = np.array([[0.4, 0.2], [0.1, 0.3]])
    for ties in ("error", "split"):
        with pytest.raises(TieError, match="within rounding of the threshold"):
            run_exact(p, fast_dllm(threshold=0.5, temperature=1.0, ties=ties))
    run = run_exact(p, fast_dllm(threshold=0.5 - 1e-9, temperature=1.0))
    assert run.calls == pytest.approx({1: 0.6, 2: 0.4}, abs=TOL)
    law, _ = brute_fast(p, threshold=0.5 - 1e-9, t=1.0)
    np.testing.assert_allclose(run.law, law, atol=TOL)
    above = run_exact(p, fast_dllm(threshold=0.5 + 1e-12, temperature=1.0))
    assert above.calls == {2: 1.0}  # just above 0.5: one position per round


def test_factor_last_rank_quirk():
    # m = 2: both revealed at once whatever the scores; m = 3 with one failure at rank 3: all 3
    p = random_law((3, 3), seed=2, zeros=0.0)
    for f in (0.1, 1.0, 5.0):
        run = run_exact(p, fast_dllm(factor=f, temperature=1.0))
        assert run.calls == {1: 1.0}
    # three positions scoring 0.6 each at T = 0. f = 1.5: thresholds -1, 0.5, 0.625, so the
    # walk fails at the last rank and all three are revealed (the quirk); f = 1: thresholds
    # -1, 2/3, 3/4 fail at rank 2, so one of three tied candidates must be picked
    p3 = np.zeros((2, 2, 2))
    p3[0, 0, 0], p3[1, 1, 1] = 0.6, 0.4
    run = run_exact(p3, fast_dllm(factor=1.5))
    assert run.calls == {1: 1.0}
    assert run.law[0, 0, 0] == 1.0
    law, _ = brute_fast(p3, factor=1.5)
    np.testing.assert_allclose(run.law, law, atol=TOL)
    with pytest.raises(TieError):
        run_exact(p3, fast_dllm(factor=1.0))
    run = check_against_brute(p3, fast_dllm(factor=1.0, ties="split"), factor=1.0)
    assert run.calls == {2: 1.0}  # then the two left are sure copies: both at once


@pytest.mark.parametrize("mode", [dict(threshold=0.9), dict(factor=1.0), dict(steps=2)], ids=str)
def test_ties_refused_or_split(mode):
    p = np.full((2, 2, 2), 1 / 8)  # every candidate scores 1/2 at T = 0
    with pytest.raises(TieError, match="ties='split'"):
        run_exact(p, fast_dllm(**mode))
    with pytest.raises(BruteTie):
        brute_fast(p, ties="error", **mode)
    sched = fast_dllm(**mode, ties="split")
    check_against_brute(p, sched, **mode)
    sym = random_law((2, 2), seed=0, zeros=0.0)
    sym = (sym + sym.T) / 2  # exchangeable: the two positions tie at every draw
    check_against_brute(sym, fast_dllm(**mode, temperature=1.0, ties="split"), t=1.0, **mode)


def test_no_tie_error_when_every_tied_candidate_is_kept():
    p = np.full((2, 2, 2), 1 / 8)
    run = run_exact(p, fast_dllm(threshold=0.45))  # all score 1/2 >= τ: written together
    assert run.calls == {1: 1.0}
    assert run.law[0, 0, 0] == 1.0


def test_temperature_zero_is_the_argmax_path():
    p = random_law((2, 3, 2), seed=5, zeros=0.0)
    for mode in (dict(threshold=0.5), dict(factor=1.0), dict(steps=3)):
        run = run_exact(p, fast_dllm(**mode))
        assert np.isclose(run.law.max(), 1.0)
        assert len(run.calls) == 1


def test_sample_then_select_refuses_e_fact_and_e_learn():
    p = random_law((2, 2, 2), seed=1)
    sched = fast_dllm(threshold=0.5, temperature=1.0)
    assert sched.family == "sample-then-select"
    with pytest.raises(ScheduleError, match="sample-then-select"):
        exactmd.factorization_error(p, sched)
    with pytest.raises(ScheduleError, match="sample-then-select"):
        sched.learning_error(as_distribution(p), None)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(threshold="high"), "threshold"),
        (dict(threshold=float("nan")), "threshold"),
        (dict(factor=float("inf")), "factor"),
        (dict(threshold=0.5, factor=1.0), "threshold, factor"),
        (dict(), "steps"),
        (dict(steps=0), "steps"),
        (dict(steps=2.5), "steps"),
        (dict(threshold=0.5, block_length=0), "block_length"),
        (dict(threshold=0.5, temperature=-1.0), "temperature"),
        (dict(threshold=0.5, ties="first"), "ties"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, name):
    with pytest.raises(ValidationError, match=f"^{name}: "):
        fast_dllm(**kwargs)


def test_bad_layout_names_the_argument():
    p = random_law((2, 2, 2), seed=0)
    with pytest.raises(ScheduleError, match=r"^block_length: must divide"):
        exactmd.output_distribution(p, fast_dllm(threshold=0.5, block_length=2))
    p4 = random_law((2, 2, 2, 2), seed=0)
    with pytest.raises(ScheduleError, match=r"^steps: must be a multiple"):
        exactmd.output_distribution(p4, fast_dllm(threshold=0.5, block_length=2, steps=3))
    exactmd.output_distribution(p4, fast_dllm(threshold=0.5, block_length=2, steps=4))


# -- Monte Carlo runs of the algorithm ----------------------------------------------------------

M = 4000  # samples per Monte Carlo check


@pytest.mark.parametrize(
    "mode",
    [dict(threshold=0.45), dict(factor=1.0), dict(steps=3), dict(threshold=0.7, block_length=2)],
    ids=str,
)
def test_monte_carlo_matches_the_exact_law(mode):
    p = random_law((2, 3, 2, 2), seed=21, zeros=0.2)
    sched = fast_dllm(**mode, temperature=0.9, ties="split")  # π's zeros make exact ties
    law = exactmd.output_distribution(p, sched)
    samples = exactmd.sample(p, sched, M, seed=4)
    assert_samples_match(samples, law)


def test_monte_carlo_with_a_prompt_and_split_ties():
    p = np.full((2, 2, 2, 2), 1 / 16)
    p[0, 0, 1, 1] = p[1, 1, 0, 0] = 3 / 16
    p /= p.sum()
    # factor 1.1, not 1: th_2 = 2/3 would meet the score 2/3 (a TieError within rounding)
    sched = fast_dllm(factor=1.1, block_length=2, temperature=1.0, ties="split")
    d = as_distribution(p)
    prompt = {1: 1}
    law = exact_run(d, sched, None, prompt).law
    samples = monte_carlo_run(d, sched, None, M, np.random.default_rng(3), prompt)
    assert np.all(samples[:, 1] == 1)
    assert_samples_match(samples, law)


def test_monte_carlo_refuses_a_drawn_tie():
    p = np.full((2, 2, 2), 1 / 8)
    with pytest.raises(TieError):
        exactmd.sample(p, fast_dllm(steps=2), 10, seed=0)
