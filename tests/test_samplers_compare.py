"""The law of the denoiser calls and the side-by-side comparison (issue 15, item 4).

Brute forces (plain Python, dicts): random reveal's calls by enumerating the reveal step of
every free position (the calls are the distinct steps used); TC and the conditional TC of a
prompt by loops over outcomes (K = 1 reveals everything from the product of the marginals,
so KL(π ‖ p_alg) = E_fact = TC there).
"""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest
from helpers import TOL, random_law

import exactmd
from exactmd.errors import ScheduleError, ValidationError
from exactmd.samplers import compare, llada, nfe_distribution
from exactmd.samplers.compare import Comparison, ComparisonRow


# ---------------------------------------------------------------- brute force (no exactmd code)
def brute_reveal_calls(grid, m):
    """{calls: probability}: every assignment of a reveal step to each of m positions."""
    k = len(grid) - 1
    r = [(grid[j] - grid[j + 1]) / grid[j] for j in range(k)]
    first = [math.prod(1 - r[i] for i in range(j)) * r[j] for j in range(k)]
    out = {}
    for steps in itertools.product(range(k), repeat=m):
        w = math.prod(first[s] for s in steps)
        out[len(set(steps))] = out.get(len(set(steps)), 0.0) + w
    return {c: w for c, w in sorted(out.items()) if w > 0}


def brute_tc(p, prompt=None):
    """TC of π(· | prompt) over the free positions, by loops over outcomes."""
    prompt = prompt or {}
    n = p.ndim
    free = [i for i in range(n) if i not in prompt]
    joint, margs = {}, [dict() for _ in range(n)]
    for x in np.ndindex(*p.shape):
        if p[x] > 0 and all(x[i] == v for i, v in prompt.items()):
            key = tuple(x[i] for i in free)
            joint[key] = joint.get(key, 0.0) + p[x]
            for i in free:
                margs[i][x[i]] = margs[i].get(x[i], 0.0) + p[x]
    total = sum(joint.values())
    out = 0.0
    for key, w in joint.items():
        prod = math.prod(margs[i][v] / total for i, v in zip(free, key, strict=True))
        out += w / total * math.log(w / total / prod)
    return out


GRIDS = [(1.0, 0.0), (1.0, 0.5, 0.0), (1.0, 0.8, 0.3, 0.0), (1.0, 0.9, 0.6, 0.2, 0.0)]


# ---------------------------------------------------------------- nfe_distribution
@pytest.mark.parametrize("grid", GRIDS)
@pytest.mark.parametrize("shape,prompt", [((2, 3, 2, 2), None), ((2, 3, 2, 2), {1: 0})])
def test_random_reveal_calls_match_the_brute_force(grid, shape, prompt):
    p = random_law(shape, seed=4, zeros=0.0)
    got = nfe_distribution(p, exactmd.RandomRevealSchedule(grid), prompt=prompt)
    want = brute_reveal_calls(grid, len(shape) - len(prompt or {}))
    assert list(got) == list(want)
    for c in want:
        assert abs(got[c] - want[c]) < TOL
    assert abs(sum(got.values()) - 1) < TOL


def test_core_kinds_make_one_call_per_step():
    p = random_law((2, 3, 2), seed=1)
    assert nfe_distribution(p, [1, 2]) == {2: 1.0}
    assert nfe_distribution(p, [[2], [0], [1]]) == {3: 1.0}
    assert nfe_distribution(p, [[2], [0]], prompt={1: 1}) == {2: 1.0}
    assert nfe_distribution(p, [2], prompt={1: 1}) == {1: 1.0}
    sched = exactmd.AdaptiveSchedule((1, 1, 1), exactmd.sampler.most_confident_planner)
    assert nfe_distribution(p, sched) == {3: 1.0}
    with pytest.raises(ScheduleError, match=r"N − \|prompt\| = 3 − 1 = 2"):
        nfe_distribution(p, [1, 2], prompt={1: 1})


@pytest.mark.parametrize("prompt", [None, {0: 1, 3: 0}, {1: 2, 3: 0}])
def test_llada_makes_its_steps_calls(prompt):
    """Under a prompt the generation region is the free positions (2 of 4 here), which the
    blocks of 2 tile; a block length not dividing them is refused, naming the region."""
    p = random_law((2, 3, 2, 2), seed=2)
    p[(1, 2, slice(None), 0)] += 0.05  # the prompts have positive mass
    p /= p.sum()
    for sched in (
        llada(steps=4, temperature=0.8, ties="split"),
        llada(steps=4, block_length=2, remasking="random", temperature=0.0),
        llada(steps=2, block_length=2, temperature=1.5, ties="split"),
    ):
        assert nfe_distribution(p, sched, prompt=prompt) == {sched.steps: 1.0}
    if prompt is not None:
        return
    assert nfe_distribution(p, llada(steps=3, temperature=1.0, ties="split"), prompt={0: 1}) == {
        3: 1.0
    }
    with pytest.raises(ScheduleError, match=r"generation region is the N − \|prompt\| = 4 − 1"):
        nfe_distribution(p, llada(steps=2, block_length=2), prompt={0: 1})


def test_bad_arguments_are_refused():
    p = random_law((2, 2), seed=0)
    with pytest.raises(ScheduleError, match=r"schedules: must be a non-empty sequence"):
        compare(p, [])
    with pytest.raises(ValidationError, match=r"prompt: must be None or a mapping"):
        nfe_distribution(p, [1], prompt=[0])


# ---------------------------------------------------------------- compare
def test_compare_rows_against_known_answers():
    p = random_law((2, 3, 2), seed=5, zeros=0.2)
    rr = exactmd.RandomRevealSchedule((1.0, 0.5, 0.0))
    lc = llada(steps=3, temperature=1.0, ties="split")
    lr = llada(steps=3, remasking="random", temperature=1.0)
    table = compare(p, [[3], [1, 1, 1], rr, lc, lr])
    assert isinstance(table, Comparison) and all(isinstance(r, ComparisonRow) for r in table.rows)
    one, three, rand, low, rnd = table.rows[:5]
    tc = brute_tc(p)
    assert abs(one.kl - tc) < 1e-12 and abs(one.e_fact - tc) < 1e-12
    assert abs(three.kl) < 1e-12 and abs(three.e_fact) < 1e-12
    assert one.expected_calls == 1 and three.expected_calls == 3
    assert one.name == "exchangeable" and rand.name == "random reveal" and low.name == "llada"
    want = brute_reveal_calls(rr.grid, 3)
    assert abs(rand.expected_calls - sum(c * w for c, w in want.items())) < 1e-12
    assert low.e_fact is None and "sample-then-select" in low.note
    assert rnd.e_fact == lr.factorization_error(exactmd.as_distribution(p))
    assert low.expected_calls == rnd.expected_calls == 3
    law = exactmd.output_distribution(p, lc)
    assert abs(low.kl - exactmd.kl(p, law)) < 1e-15
    # the optimal rows: K = floor and ceil of every expected cost, each K once
    costs = sorted({1, 3} | {math.floor(rand.expected_calls), math.ceil(rand.expected_calls)})
    opt = table.rows[5:]
    assert [r.name for r in opt] == ["optimal exchangeable"] * len(costs)
    for k, row in zip(costs, opt, strict=True):
        sizes = exactmd.optimal_schedule(p, k)
        assert row.schedule == f"sizes {sizes}" and row.expected_calls == k
        assert abs(row.kl - exactmd.kl(p, exactmd.output_distribution(p, list(sizes)))) < 1e-15
        assert abs(row.e_fact - exactmd.factorization_error(p, list(sizes))) < 1e-15
        assert row.note.startswith(f"K = {k} (cost of ")
    assert opt[0].note == "K = 1 (cost of 1, 3)"  # rr costs 1.5..: floor 1


def test_compare_under_a_prompt_uses_the_conditional_law(backend):
    p = random_law((2, 3, 2, 2), seed=6, zeros=0.2)
    prompt = {2: 1}
    d = exactmd.as_distribution(p, backend=backend)
    lr = llada(steps=2, remasking="random", temperature=1.0)
    table = compare(d, [[3], [[3], [0, 1]], lr], prompt=prompt)
    assert table.target == "π(x | x_prompt)" and table.prompt == {2: 1}
    one, part, rnd = table.rows[:3]
    ctc = brute_tc(p, prompt)
    assert abs(one.kl - ctc) < 1e-12 and abs(one.e_fact - ctc) < 1e-12
    target = exactmd.conditional_law(p, prompt)
    law = exactmd.output_distribution(p, [[3], [0, 1]], prompt=prompt)
    assert abs(part.kl - exactmd.kl(target, law)) < 1e-12
    assert part.name == "deterministic" and part.schedule == "[[3], [0, 1]]"
    # E_fact of the run on the free positions: the sampler's on π(x_F | x_2 = 1)
    cond = p[:, :, 1, :] / p[:, :, 1, :].sum()
    want = lr.factorization_error(exactmd.as_distribution(cond))
    assert rnd.e_fact is not None and abs(rnd.e_fact - want) < 1e-12 and rnd.note == ""
    # one position at a time (3 steps on 3 free positions): no factorization error
    assert abs(compare(d, [llada(3, remasking="random")], prompt=prompt).rows[0].e_fact) < 1e-12
    law = exactmd.output_distribution(p, lr, prompt=prompt)
    assert abs(rnd.kl - exactmd.kl(target, law)) < 1e-12
    assert len(table.rows) > 3
    for row in table.rows[3:]:
        sizes = [int(v) for v in re.findall(r"\d+", row.schedule)]
        assert sum(sizes) == 3 and len(sizes) == row.expected_calls  # the free positions
        law = exactmd.output_distribution(p, sizes, prompt=prompt)
        assert abs(row.kl - exactmd.kl(target, law)) < 1e-12


def test_compare_with_a_user_denoiser_and_an_adaptive_planner():
    p = random_law((2, 2, 3), seed=7, zeros=0.2)
    den = exactmd.perturbed_denoiser(p, temperature=1.4)
    sched = exactmd.AdaptiveSchedule((1, 2), exactmd.sampler.most_confident_planner)
    table = compare(p, [sched, [1, 2]], den)
    row = table.rows[0]
    assert row.name == "adaptive (most_confident_planner)"
    assert abs(row.kl - exactmd.kl(p, exactmd.output_distribution(p, sched, den))) < 1e-15
    assert abs(row.e_fact - sched.factorization_error(exactmd.as_distribution(p), den)) < 1e-15
    assert abs(table.rows[1].e_fact - exactmd.factorization_error(p, [1, 2])) < 1e-15


def test_tables_render():
    p = random_law((2, 2, 2), seed=8, zeros=0.0)
    table = compare(p, [[3], llada(steps=2, temperature=0.5, ties="split")])
    text = str(table)
    lines = text.splitlines()
    assert lines[0].startswith("KL(π ‖ p_alg)") and "E[calls]" in lines[1]
    assert len(lines) == 3 + len(table.rows) and "n/a" in text
    md = table.to_markdown().splitlines()
    assert md[2].startswith("| # | name | schedule | KL (nats)")
    assert md[3].startswith("|---:|") and len(md) == 4 + len(table.rows)
    assert "| llada |" in table.to_markdown()
