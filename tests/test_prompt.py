"""Prompts for every schedule kind (issue 15, item 5) against an independent brute force.

The brute force works on dicts and full-length tuples, in plain Python: it enumerates every
ordering of the free positions (exchangeable sizes cut a uniform ordering into consecutive
blocks), the one ordering of a partition, every assignment of reveal steps to the free
positions (random reveal), or the planner's choices at every state (adaptive), and at each
step multiplies the denoiser's rows at the current full context (the prompt included): π's
exact conditionals, computed here by summing the table (uniform on a context of probability
0, exactmd's zero-context rule), or a test denoiser called on the full tokens. None of it
calls the code under test.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from helpers import TOL, laws, random_law
from hypothesis import given, settings
from hypothesis import strategies as st

import exactmd
from exactmd.errors import DenoiserError, ScheduleError, ValidationError
from exactmd.law.conditional import conditional_law
from exactmd.sampler.prompted import Reduction
from exactmd.samplers import exact_run, llada
from exactmd.schedules.custom import CustomSchedule
from exactmd.testing import assert_samples_match

SETTINGS = settings(deadline=None, max_examples=20)


# ---------------------------------------------------------------- brute force (no exactmd code)
def brute_conditional_law(p, prompt):
    """π(x | x_prompt) over the full shape, by a loop over outcomes."""
    out = np.zeros(p.shape)
    mass = sum(p[x] for x in np.ndindex(*p.shape) if all(x[i] == v for i, v in prompt.items()))
    for x in np.ndindex(*p.shape):
        if all(x[i] == v for i, v in prompt.items()):
            out[x] = p[x] / mass
    return out


def exact_rows(p, tokens):
    """π's conditional of every masked position at the full context ``tokens`` (mask q)."""
    n, q = p.ndim, max(p.shape)
    rows = np.zeros((n, q))
    ctx = [(i, v) for i, v in enumerate(tokens) if v != q]
    mass = {}
    total = 0.0
    for x in np.ndindex(*p.shape):
        if all(x[i] == v for i, v in ctx):
            total += p[x]
            for i in range(n):
                if tokens[i] == q:
                    mass[(i, x[i])] = mass.get((i, x[i]), 0.0) + p[x]
    for i in range(n):
        if tokens[i] == q:
            for v in range(p.shape[i]):
                rows[i, v] = mass.get((i, v), 0.0) / total if total > 0 else 1.0 / p.shape[i]
    return rows


def context_denoiser(shape):
    """A user denoiser that depends on the whole context, prompt included (numpy or torch
    tokens in, numpy rows out; entries >= q_i are 0)."""
    q = max(shape)

    def den(tokens):
        t = np.asarray(tokens.cpu() if hasattr(tokens, "cpu") else tokens, dtype=np.int64)
        out = np.zeros((len(t), len(shape), q))
        for b in range(len(t)):
            key = int(sum((v + 1) * (3 * j + 1) for j, v in enumerate(t[b])))
            for i, qi in enumerate(shape):
                w = np.array([1.0 + ((key * (i + 2) + 5 * v) % 7) for v in range(qi)])
                out[b, i, :qi] = w / w.sum()
        return out

    return den


def rows_at(p, tokens, denoiser):
    if denoiser is None:
        return exact_rows(p, tokens)
    return np.asarray(denoiser(np.array([tokens])), dtype=np.float64)[0]


def run_blocks(p, prompt, blocks, denoiser, weight, out):
    """Add ``weight`` × the law of revealing ``blocks`` in turn (each drawn as a product)."""
    q = max(p.shape)
    start = tuple(prompt.get(i, q) for i in range(p.ndim))
    states = {start: weight}
    for block in blocks:
        new = {}
        for tok, w in states.items():
            rows = rows_at(p, tok, denoiser)
            for vals in itertools.product(*(range(p.shape[i]) for i in block)):
                pr = w
                for i, v in zip(block, vals, strict=True):
                    pr *= rows[i, v]
                if pr == 0:
                    continue
                t = list(tok)
                for i, v in zip(block, vals, strict=True):
                    t[i] = v
                new[tuple(t)] = new.get(tuple(t), 0.0) + pr
        states = new
    for tok, w in states.items():
        out[tok] = out.get(tok, 0.0) + w


def free_of(p, prompt):
    return [i for i in range(p.ndim) if i not in prompt]


def brute_sizes(p, prompt, sizes, denoiser=None):
    free = free_of(p, prompt)
    orders = list(itertools.permutations(free))
    out = {}
    for order in orders:
        cuts = np.cumsum((0, *sizes))
        blocks = [order[cuts[k] : cuts[k + 1]] for k in range(len(sizes))]
        run_blocks(p, prompt, blocks, denoiser, 1.0 / len(orders), out)
    return as_table(p.shape, out)


def brute_partition(p, prompt, partition, denoiser=None):
    out = {}
    run_blocks(p, prompt, [tuple(b) for b in partition], denoiser, 1.0, out)
    return as_table(p.shape, out)


def brute_random_reveal(p, prompt, grid, denoiser=None):
    """Every assignment of a reveal step to each free position, with its probability."""
    free = free_of(p, prompt)
    k = len(grid) - 1
    r = [(grid[j] - grid[j + 1]) / grid[j] for j in range(k)]
    first = [math.prod(1 - r[i] for i in range(j)) * r[j] for j in range(k)]
    out = {}
    for steps in itertools.product(range(k), repeat=len(free)):
        w = math.prod(first[s] for s in steps)
        if w == 0:
            continue
        blocks = [tuple(i for i, s in zip(free, steps, strict=True) if s == j) for j in range(k)]
        run_blocks(p, prompt, [b for b in blocks if b], denoiser, w, out)
    return as_table(p.shape, out)


def brute_adaptive(p, prompt, sizes, planner, denoiser=None):
    """At each state the planner sees the full tokens and rows; its choices branch."""
    q = max(p.shape)
    start = tuple(prompt.get(i, q) for i in range(p.ndim))
    states = {start: 1.0}
    for s in sizes:
        new = {}
        for tok, w in states.items():
            rows = rows_at(p, tok, denoiser)
            ans = planner(np.array(tok), s, rows)
            for z, share in ans.items() if isinstance(ans, dict) else [(ans, 1.0)]:
                sub = {}
                run_blocks_from(p, tok, tuple(sorted(z)), rows, w * share, sub)
                for t, v in sub.items():
                    new[t] = new.get(t, 0.0) + v
        states = new
    return as_table(p.shape, states)


def run_blocks_from(p, tok, block, rows, weight, out):
    for vals in itertools.product(*(range(p.shape[i]) for i in block)):
        pr = weight * math.prod(rows[i, v] for i, v in zip(block, vals, strict=True))
        if pr > 0:
            t = list(tok)
            for i, v in zip(block, vals, strict=True):
                t[i] = v
            out[tuple(t)] = out.get(tuple(t), 0.0) + pr


def as_table(shape, d):
    out = np.zeros(shape)
    for x, w in d.items():
        out[x] = w
    return out


def leftmost_planner(tokens, size, probs):
    """The ``size`` leftmost masked positions (absolute positions matter)."""
    q = probs.shape[1]
    return tuple([i for i in range(len(tokens)) if tokens[i] == q][:size])


def mixed_planner(tokens, size, probs):
    """0.3 on the most peaked (first index on ties), 0.7 on the rightmost masked positions."""
    q = probs.shape[1]
    masked = [i for i in range(len(tokens)) if tokens[i] == q]
    peaked = sorted(masked, key=lambda i: (-float(probs[i].max()), i))[:size]
    right = masked[-size:]
    out = {tuple(sorted(peaked)): 0.3}
    out[tuple(sorted(right))] = out.get(tuple(sorted(right)), 0.0) + 0.7
    return out


# ---------------------------------------------------------------- the laws and prompts
CASES = [
    ((2, 3, 2), {1: 2}),
    ((2, 3, 2, 2), {0: 1}),
    ((3, 2, 2, 3), {3: 0, 1: 1}),
    ((2, 2, 2, 2, 2), {2: 1}),
]


def law_of(shape, seed=0):
    """A random law with zeros on which each case's prompt has positive mass."""
    for s in range(seed, seed + 50):
        p = random_law(shape, seed=s, zeros=0.3)
        if all(
            sum(p[x] for x in np.ndindex(*shape) if all(x[i] == v for i, v in pr.items())) > 0
            for sh, pr in CASES
            if sh == shape
        ):
            return p
    raise AssertionError("no law with positive prompt mass")


def as_input(p, backend):
    return exactmd.as_distribution(p, backend=backend) if backend == "torch" else p


# ---------------------------------------------------------------- conditional_law
@pytest.mark.parametrize("shape,prompt", CASES)
def test_conditional_law_matches_brute_force(shape, prompt, backend):
    p = law_of(shape)
    got = conditional_law(as_input(p, backend), prompt)
    assert got.dtype == np.float64 and got.shape == shape
    np.testing.assert_allclose(got, brute_conditional_law(p, prompt), rtol=0, atol=TOL)


def test_conditional_law_without_prompt_is_the_law_and_refuses_zero_mass():
    p = np.array([[0.5, 0.0], [0.25, 0.25]])
    np.testing.assert_array_equal(conditional_law(p, None), p)
    np.testing.assert_array_equal(conditional_law(p, {}), p)
    with pytest.raises(ValidationError, match=r"prompt: has probability 0 under p.*\{0: 0, 1: 1\}"):
        conditional_law(p, {0: 0, 1: 1})
    with pytest.raises(ValidationError, match=r"prompt: positions must lie in range\(N\)"):
        conditional_law(p, {2: 0})
    with pytest.raises(ValidationError, match=r"prompt: the value at position 1"):
        conditional_law(p, {1: 2})


def test_conditional_law_is_exported():
    assert "conditional_law" in exactmd.__all__ and exactmd.conditional_law is conditional_law


# ---------------------------------------------------------------- the core kinds
def sizes_for(m):
    return [(m,), (1,) * m, (m - 1, 1) if m > 1 else (1,), (1, m - 1) if m > 1 else (1,)]


@pytest.mark.parametrize("shape,prompt", CASES)
@pytest.mark.parametrize("user", [False, True])
def test_exchangeable_sizes_cover_the_free_positions(shape, prompt, user, backend):
    p = law_of(shape)
    den = context_denoiser(shape) if user else None
    m = len(shape) - len(prompt)
    for sizes in sizes_for(m):
        got = exactmd.output_distribution(as_input(p, backend), list(sizes), den, prompt=prompt)
        want = brute_sizes(p, prompt, sizes, den)
        assert got.shape == shape
        np.testing.assert_allclose(got, want, rtol=0, atol=TOL)


@pytest.mark.parametrize("shape,prompt", CASES)
@pytest.mark.parametrize("user", [False, True])
def test_partition_of_the_free_positions(shape, prompt, user, backend):
    p = law_of(shape)
    den = context_denoiser(shape) if user else None
    free = free_of(p, prompt)
    for partition in ([free[::-1]], [[i] for i in free[::-1]], [free[1:], free[:1]]):
        partition = [b for b in partition if b]
        got = exactmd.output_distribution(as_input(p, backend), partition, den, prompt=prompt)
        want = brute_partition(p, prompt, partition, den)
        np.testing.assert_allclose(got, want, rtol=0, atol=TOL)
    sched = exactmd.DeterministicSchedule(tuple(tuple([i]) for i in free))
    got = exactmd.output_distribution(as_input(p, backend), sched, den, prompt=prompt)
    np.testing.assert_allclose(got, brute_partition(p, prompt, [[i] for i in free], den), atol=TOL)


@pytest.mark.parametrize("shape,prompt", CASES[:3])
@pytest.mark.parametrize("user", [False, True])
def test_random_reveal_of_the_free_positions(shape, prompt, user, backend):
    p = law_of(shape)
    den = context_denoiser(shape) if user else None
    for grid in ((1.0, 0.0), (1.0, 0.6, 0.0), (1.0, 0.7, 0.25, 0.0)):
        sched = exactmd.RandomRevealSchedule(grid)
        got = exactmd.output_distribution(as_input(p, backend), sched, den, prompt=prompt)
        want = brute_random_reveal(p, prompt, grid, den)
        np.testing.assert_allclose(got, want, rtol=0, atol=TOL)


@pytest.mark.parametrize("shape,prompt", CASES[:3])
@pytest.mark.parametrize("user", [False, True])
@pytest.mark.parametrize("planner", [leftmost_planner, mixed_planner])
def test_adaptive_planner_sees_the_full_tokens(shape, prompt, user, planner, backend):
    p = law_of(shape)
    den = context_denoiser(shape) if user else None
    m = len(shape) - len(prompt)
    for sizes in sizes_for(m)[1:3]:
        sched = exactmd.AdaptiveSchedule(sizes, planner)
        got = exactmd.output_distribution(as_input(p, backend), sched, den, prompt=prompt)
        want = brute_adaptive(p, prompt, sizes, planner, den)
        np.testing.assert_allclose(got, want, rtol=0, atol=TOL)


def test_adaptive_planner_answering_a_prompted_position_is_refused():
    p = law_of((2, 3, 2))
    sched = exactmd.AdaptiveSchedule((1, 1), lambda t, s, pr: (1,))
    with pytest.raises(ScheduleError, match=r"planner <lambda> at context tokens \[3, 2, 3\]"):
        exactmd.output_distribution(p, sched, prompt={1: 2})


@given(p=laws(max_n=4), data=st.data())
@SETTINGS
def test_one_position_per_step_gives_the_conditional_law(p, data):
    """For every law and prompt of positive mass: K = |F| steps of size 1 is exact."""
    n = p.ndim
    pos = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n - 1, unique=True))
    support = [x for x in np.ndindex(*p.shape) if p[x] > 0]
    x = support[data.draw(st.integers(0, len(support) - 1))]
    prompt = {i: x[i] for i in pos}
    got = exactmd.output_distribution(p, [1] * (n - len(pos)), prompt=prompt)
    np.testing.assert_allclose(got, conditional_law(p, prompt), rtol=0, atol=TOL)
    one = exactmd.output_distribution(p, [n - len(pos)], prompt=prompt)
    assert one.shape == p.shape and abs(one.sum() - 1) < TOL
    off = [y for y in np.ndindex(*p.shape) if any(y[i] != v for i, v in prompt.items())]
    assert all(one[y] == 0 for y in off)  # zero off the prompt


def test_native_and_float32_results(backend):
    shape, prompt = CASES[1]
    p = law_of(shape)
    d = exactmd.as_distribution(p, backend=backend)
    got = exactmd.output_distribution(d, [1, 2], prompt=prompt, native=True)
    assert type(got).__module__.split(".")[0] == ("torch" if backend == "torch" else "numpy")
    f32 = exactmd.as_distribution(p, backend=backend, dtype="float32")
    low = exactmd.output_distribution(f32, [1, 2], prompt=prompt)
    assert low.dtype == np.float32
    np.testing.assert_allclose(low, brute_sizes(p, prompt, (1, 2)), atol=1e-6)


def test_symbolic_law_with_a_prompt_is_exact():
    sympy = pytest.importorskip("sympy")
    r = sympy.Rational
    table = [[[r(1, 8), r(1, 8)], [r(0), r(1, 4)]], [[r(1, 8), r(1, 8)], [r(1, 8), r(1, 8)]]]
    got = exactmd.output_distribution(sympy.Array(table), [1, 1], prompt={1: 1})
    want = conditional_law(sympy.Array(table), {1: 1})
    assert got.tolist() == want.tolist() == [[[0, 0], [0, r(1, 2)]], [[0, 0], [r(1, 4), r(1, 4)]]]


# ---------------------------------------------------------------- refusals and edge cases
def test_bad_prompts_and_schedules_are_refused():
    shape, prompt = CASES[1]
    p = law_of(shape).copy()
    p[1, 0] = 0.0  # the prompt {0: 1, 1: 0} has probability 0
    p /= p.sum()
    zero = {0: 1, 1: 0}
    for sched in ([2], llada(steps=2, temperature=1.0)):
        with pytest.raises(ValidationError, match=r"prompt: has probability 0 under p"):
            exactmd.output_distribution(p, sched, prompt=zero)
        with pytest.raises(ValidationError, match=r"prompt: has probability 0 under p"):
            exactmd.sample(p, sched, 3, seed=0, prompt=zero)
    with pytest.raises(ValidationError, match=r"prompt: fixes every position \(N = 4\)"):
        exactmd.output_distribution(
            p, [1], prompt={i: x for i, x in enumerate(max(np.ndindex(*shape), key=lambda y: p[y]))}
        )
    with pytest.raises(ValidationError, match=r"prompt: must be None or a mapping"):
        exactmd.output_distribution(p, [3], prompt=[(0, 1)])
    with pytest.raises(ScheduleError, match=r"sizes must sum to N=3.*N − \|prompt\| = 4 − 1 = 3"):
        exactmd.output_distribution(p, [4], prompt=prompt)
    with pytest.raises(ScheduleError, match=r"position\(s\) \[0\] are not free"):
        exactmd.output_distribution(p, [[0], [1], [2, 3]], prompt=prompt)
    with pytest.raises(ScheduleError, match=r"free position\(s\) \[3\] are missing"):
        exactmd.sample(p, [[1], [2]], 3, seed=0, prompt=prompt)
    with pytest.raises(ScheduleError, match=r"position\(s\) \[2\] repeat"):
        exactmd.output_distribution(p, [[1, 2], [2, 3]], prompt=prompt)

    class Mine(CustomSchedule):
        num_steps = 1

        def validate(self, n):
            return self

        def __repr__(self):
            return "Mine()"

    with pytest.raises(ScheduleError, match=r"Mine\(\) takes no prompt"):
        exactmd.output_distribution(p, Mine(), prompt=prompt)
    with pytest.raises(DenoiserError, match=r"built for a law of the shape of p"):
        exactmd.output_distribution(
            p, [3], exactmd.exact_denoiser(random_law((2, 2))), prompt=prompt
        )


def test_empty_prompt_is_no_prompt(backend):
    p = law_of(CASES[0][0])
    for sched in ([1, 2], [[2, 0], [1]], llada(steps=3, temperature=0.5, ties="split")):
        a = exactmd.output_distribution(as_input(p, backend), sched, prompt={})
        b = exactmd.output_distribution(as_input(p, backend), sched)
        np.testing.assert_array_equal(a, b)
        x = exactmd.sample(p, sched, 50, seed=3, prompt={})
        np.testing.assert_array_equal(x, exactmd.sample(p, sched, 50, seed=3))


def test_a_user_denoiser_sees_the_prompt_filled_in():
    shape, prompt = CASES[2]
    p = law_of(shape)
    seen = []
    inner = context_denoiser(shape)

    def den(tokens):
        seen.append(np.array(tokens))
        return inner(tokens)

    exactmd.output_distribution(p, [1, 1], den, prompt=prompt)
    exactmd.sample(p, [1, 1], 5, den, seed=0, prompt=prompt)
    calls = np.concatenate(seen)
    assert calls.shape[1] == 4
    assert np.all(calls[:, 3] == 0) and np.all(calls[:, 1] == 1)  # the prompt's values
    assert np.all(np.isin(calls[:, [0, 2]], [0, 1, 2, 3]))  # mask = q = 3 of the full law


def test_reduction_records():
    p = law_of(CASES[2][0])
    red = Reduction.of(p, CASES[2][1])
    assert red.free == (0, 2) and red.law.shape == (3, 2)
    np.testing.assert_allclose(
        red.embed_law(red.law.numpy()), brute_conditional_law(p, CASES[2][1]), atol=TOL
    )
    np.testing.assert_array_equal(red.embed_samples([[2, 1]]), [[2, 1, 1, 0]])
    with pytest.raises(ValidationError, match=r"prompt: must fix at least one position"):
        Reduction.of(p, {})


# ---------------------------------------------------------------- the samplers take it themselves
def test_sampler_schedules_receive_the_prompt(backend):
    shape, prompt = CASES[1]
    p = law_of(shape)
    sched = llada(steps=3, remasking="random", temperature=0.7)
    got = exactmd.output_distribution(as_input(p, backend), sched, prompt=prompt)
    want = exact_run(exactmd.as_distribution(p), sched, None, prompt).law
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL)
    x = exactmd.sample(p, sched, 20, seed=1, prompt=prompt)
    assert np.all(x[:, 0] == prompt[0])


# ---------------------------------------------------------------- Monte Carlo under a prompt
M = 4000  # samples per Monte Carlo check below


@pytest.mark.parametrize(
    "sched",
    [
        [2, 1],
        [[3], [1, 2]],
        exactmd.RandomRevealSchedule((1.0, 0.5, 0.0)),
        exactmd.AdaptiveSchedule((1, 2), mixed_planner),
    ],
    ids=["sizes", "partition", "random-reveal", "adaptive"],
)
@pytest.mark.parametrize("user", [False, True])
def test_monte_carlo_under_a_prompt_matches_the_exact_law(sched, user):
    shape, prompt = CASES[1]
    p = law_of(shape)
    den = context_denoiser(shape) if user else None
    x = exactmd.sample(p, sched, M, den, seed=11, prompt=prompt)
    assert np.all(x[:, 0] == prompt[0])
    assert_samples_match(x, exactmd.output_distribution(p, sched, den, prompt=prompt))
