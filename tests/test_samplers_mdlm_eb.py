"""MDLM (``ddpm_cache``) and the EB-sampler against brute forces written here in plain Python.

The brute forces enumerate every trajectory of the real loops with dicts: MDLM's every
iteration (cache flag, calls, every Bernoulli subset of the masks and every joint value draw),
its noise-removal pass; the EB-sampler's every order of the masked positions consistent with
the proxy's sort (ties: all of them, equally likely), its budget loop, every joint value draw.
π's conditionals are read from the table (uniform at a context of probability 0, the exact
denoiser's convention). The float32 time grid is read from torch itself.
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
from exactmd.samplers import eb, exact_run, mdlm
from exactmd.samplers._engine import monte_carlo_run, walk_under_pi
from exactmd.samplers.mdlm import time_grid
from exactmd.testing import assert_samples_match

torch = pytest.importorskip("torch")

# --------------------------------------------------------------------------- plain-Python π


def outcomes(p):
    return [(idx, float(p[idx])) for idx in itertools.product(*map(range, p.shape)) if p[idx] > 0]


def consistent(idx, x, mask):
    return all(v == mask or v == u for u, v in zip(idx, x))


def conditional(p, x, i):
    """π(x_i = · | the revealed values of x), uniform where that context has probability 0."""
    mask = max(p.shape)
    w = [0.0] * p.shape[i]
    for idx, m in outcomes(p):
        if consistent(idx, x, mask):
            w[idx[i]] += m
    total = sum(w)
    return [v / total for v in w] if total > 0 else [1.0 / p.shape[i]] * p.shape[i]


def joint_given(p, x, z):
    """π(x_z = · | x's revealed values) as a dict (the context has positive probability)."""
    mask = max(p.shape)
    out: dict[tuple[int, ...], float] = defaultdict(float)
    for idx, m in outcomes(p):
        if consistent(idx, x, mask):
            out[tuple(idx[i] for i in z)] += m
    total = sum(out.values())
    return {k: v / total for k, v in out.items()}


def tc_and_margs(p, x, z):
    joint = joint_given(p, x, z)
    margs = [defaultdict(float) for _ in z]
    for key, w in joint.items():
        for a, v in enumerate(key):
            margs[a][v] += w
    tc = sum(
        w * math.log(w / math.prod(margs[a][v] for a, v in enumerate(key)))
        for key, w in joint.items()
        if w > 0
    )
    return tc, joint, margs


def kl(a, b):
    out = 0.0
    for u, pa in enumerate(a):
        if pa > 0:
            if b[u] <= 0:
                return math.inf
            out += pa * math.log(pa / b[u])
    return out


def replace(x, z, vals):
    y = list(x)
    for i, v in zip(z, vals):
        y[i] = v
    return tuple(y)


def to_array(law, shape):
    out = np.zeros(shape)
    for x, w in law.items():
        out[x] += w
    return out


# --------------------------------------------------------------------------- MDLM brute force


def torch_grid(steps, eps):
    """(r_i) from torch's own float32 arithmetic, as _ddpm_caching_update computes it."""
    timesteps = torch.linspace(1, eps, steps + 1)
    dt = (1 - eps) / steps
    out = []
    for i in range(steps):
        t = timesteps[i] * torch.ones(1, 1)
        move_s = t - dt
        d = float((t - move_s)[0, 0])
        s = float(move_s[0, 0])
        out.append(1.0 if s <= 0 else d / (d + s))
    return out


def brute_mdlm(p, steps, eps=1e-5, noise_removal=True, prompt=None, rows=None):
    """The law and call law of MDLM's _sample, iteration by iteration."""
    shape, n, mask = p.shape, p.ndim, max(p.shape)
    rows = rows or (lambda x, i: conditional(p, x, i))
    r = torch_grid(steps, eps)
    x0 = tuple((prompt or {}).get(i, mask) for i in range(n))
    states = {(x0, False, 0): 1.0}  # (tokens, cache valid, calls so far)
    for i in range(steps):
        nxt: dict = defaultdict(float)
        for (x, cache, calls), w in states.items():
            calls2 = calls + (0 if cache else 1)
            masked = [j for j in range(n) if x[j] == mask]
            cond = {j: rows(x, j) for j in masked}
            for a in range(len(masked) + 1):
                for z in itertools.combinations(masked, a):
                    wz = r[i] ** a * (1 - r[i]) ** (len(masked) - a)
                    if wz == 0:
                        continue
                    for vals in itertools.product(*(range(shape[j]) for j in z)):
                        wv = math.prod(cond[j][v] for j, v in zip(z, vals))
                        y = replace(x, z, vals)
                        nxt[(y, y == x, calls2)] += w * wz * wv
        states = nxt
    law: dict = defaultdict(float)
    call_law: dict = defaultdict(float)
    left = 0.0
    for (x, _, calls), w in states.items():
        if noise_removal:
            calls += 1
            masked = [j for j in range(n) if x[j] == mask]
            vals = []
            for j in masked:
                c = rows(x, j)
                vals.append(c.index(max(c)))  # torch.argmax: the first maximal index
            x = replace(x, masked, vals)
        if mask in x:
            left += w
            continue
        law[x] += w
        call_law[calls] += w
    return to_array(law, shape), dict(call_law), left


def brute_walk(p, plan, limit, prompt=None):
    """(E_fact, E_learn) by walking under π; ``plan(x, step)`` gives [(subset, weight)] and the
    rule's value law per position ``value(x, step, i)``."""
    n, mask = p.ndim, max(p.shape)
    x0 = tuple((prompt or {}).get(i, mask) for i in range(n))
    states = {x0: 1.0}
    e_fact = e_learn = 0.0
    for step in range(limit):
        nxt: dict = defaultdict(float)
        for x, w in states.items():
            if mask not in x:
                continue
            for z, wz, value in plan(x, step):
                share = w * wz
                if share == 0:
                    continue
                tc, joint, margs = tc_and_margs(p, x, z)
                e_fact += share * tc
                e_learn += share * sum(
                    kl([margs[a][u] for u in range(p.shape[i])], value(i)) for a, i in enumerate(z)
                )
                for key, wj in joint.items():
                    nxt[replace(x, z, key)] += share * wj
        states = nxt
    return e_fact, e_learn


def mdlm_plan(p, steps, eps, rows):
    r = torch_grid(steps, eps)

    def plan(x, step):
        mask = max(p.shape)
        masked = [j for j in range(p.ndim) if x[j] == mask]
        if step >= steps:  # noise removal: the argmax

            def onehot(i, x=x):
                c = rows(x, i)
                return [1.0 if u == c.index(max(c)) else 0.0 for u in range(len(c))]

            return [(masked, 1.0, onehot)]
        out = []
        for a in range(len(masked) + 1):
            for z in itertools.combinations(masked, a):
                wz = r[step] ** a * (1 - r[step]) ** (len(masked) - a)
                out.append((list(z), wz, lambda i, x=x: rows(x, i)))
        return out

    return plan


# --------------------------------------------------------------------------- MDLM tests


@pytest.mark.parametrize("eps", [1e-5, 1e-3, 0.0, 0.25])
def test_time_grid_is_torch_linspace_bit_for_bit(eps):
    for steps in [*range(1, 130), 255, 256, 1000, 1024]:
        t, s, r = time_grid(steps, eps)
        lin = torch.linspace(1, eps, steps + 1)
        assert np.array_equal(t, lin.numpy()[:-1]), steps
        move_s = (lin[:-1, None] * torch.ones(1, 1)) - (1 - eps) / steps
        assert np.array_equal(s, move_s.numpy()[:, 0]), steps
        if steps <= 40:  # the reveal probability from torch's own float32 t − s and s
            assert r.tolist() == torch_grid(steps, eps), steps


@pytest.mark.parametrize(
    ("shape", "seed", "steps", "eps"),
    [
        ((2, 3), 0, 1, 1e-5),
        ((2, 3, 2), 1, 2, 1e-5),
        ((3, 2, 2), 2, 3, 0.3),
        ((2, 2, 2, 2), 3, 4, 1e-5),
        ((3, 2, 3), 4, 5, 0.0),
        ((2, 3, 2, 2), 5, 2, 1e-3),
    ],
)
def test_mdlm_law_and_calls_match_the_brute_force(shape, seed, steps, eps):
    p = random_law(shape, seed=seed, zeros=0.3)
    run = exact_run(as_distribution(p), mdlm(steps, eps), None)
    law, calls, left = brute_mdlm(p, steps, eps)
    assert left == 0.0
    np.testing.assert_allclose(run.law, law, rtol=0, atol=TOL)
    assert set(run.calls) == set(calls)
    for c, w in calls.items():
        assert abs(run.calls[c] - w) < TOL


def test_mdlm_at_six_positions_matches_the_brute_force():
    p = random_law((2, 2, 3, 2, 2, 2), seed=11, zeros=0.5)
    run = exact_run(as_distribution(p), mdlm(2), None)
    law, calls, _ = brute_mdlm(p, 2)
    np.testing.assert_allclose(run.law, law, rtol=0, atol=TOL)
    assert all(abs(run.calls[c] - w) < TOL for c, w in calls.items())


def test_mdlm_with_a_prompt_matches_the_brute_force():
    p = random_law((2, 3, 2, 2), seed=7, zeros=0.2)
    prompt = {1: 2, 3: 0}
    run = exact_run(as_distribution(p), mdlm(3), None, prompt=prompt)
    law, calls, _ = brute_mdlm(p, 3, prompt=prompt)
    np.testing.assert_allclose(run.law, law, rtol=0, atol=TOL)
    assert all(abs(run.calls[c] - w) < TOL for c, w in calls.items())
    assert run.law[:, [0, 1]].sum() == 0.0 and run.law[:, 2, :, 1].sum() == 0.0


def test_mdlm_call_law_by_hand():
    # N = 1, steps = 2: step 0 reveals with r0, then iteration 1 still calls (x changed) and
    # noise removal calls: 3; otherwise iteration 1 reuses the cache: 2 calls in all.
    p = np.array([0.3, 0.7])
    r0 = float(time_grid(2)[2][0])
    run = exact_run(as_distribution(p), mdlm(2), None)
    assert run.calls == pytest.approx({2: 1 - r0, 3: r0}, abs=1e-15)
    # without noise removal (eps = 0: the last step reveals everything) one call fewer
    run = exact_run(as_distribution(p), mdlm(2, eps=0.0, noise_removal=False), None)
    r0 = float(time_grid(2, 0.0)[2][0])
    assert run.calls == pytest.approx({1: 1 - r0, 2: r0}, abs=1e-15)
    np.testing.assert_allclose(run.law, p, atol=1e-15)


def test_mdlm_noise_removal_off_is_refused_when_masks_may_remain():
    p = random_law((2, 2), seed=1)
    with pytest.raises(
        ScheduleError,
        match=r"leaves masks after its 3 rounds with probability "
        r"[0-9.e-]+; the law over the shape is not defined",
    ):
        output_distribution(p, mdlm(3, noise_removal=False))
    # eps = 0 reveals every mask at the last step: defined, and matches the brute force
    law, calls, left = brute_mdlm(p, 3, 0.0, noise_removal=False)
    assert left == 0.0
    run = exact_run(as_distribution(p), mdlm(3, 0.0, noise_removal=False), None)
    np.testing.assert_allclose(run.law, law, atol=TOL)
    assert all(abs(run.calls[c] - w) < TOL for c, w in calls.items())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"steps": 0}, r"steps: must be an integer >= 1; received 0"),
        ({"steps": 2.5}, r"steps: must be an integer >= 1; received 2.5"),
        ({"steps": True}, r"steps: must be an integer >= 1; received True"),
        ({"steps": 2, "eps": -0.1}, r"eps: must be .*; received -0.1"),
        ({"steps": 2, "eps": 1.0}, r"eps: must be .*; received 1.0"),
        ({"steps": 2, "eps": float("nan")}, r"eps: must be .*; received nan"),
        ({"steps": 2, "noise_removal": 1}, r"noise_removal: must be a bool"),
    ],
)
def test_mdlm_bad_arguments(kwargs, match):
    with pytest.raises(ScheduleError, match=match):
        mdlm(**kwargs)


def test_mdlm_monte_carlo_matches_the_exact_law():
    p = random_law((2, 3, 2), seed=2, zeros=0.2)
    s = mdlm(4)
    m = 20_000  # float32 Gumbel draws: the law moves by ~1e-7, far below this M's resolution
    assert_samples_match(sample(p, s, m, seed=3), output_distribution(p, s))
    d = as_distribution(p)
    x = monte_carlo_run(d, s, None, m, np.random.default_rng(4), {1: 0})
    assert_samples_match(x, exact_run(d, s, None, prompt={1: 0}).law)


def test_mdlm_draw_counts_calls_with_the_cache():
    s = mdlm(3)
    tokens = np.array([[2, 2], [2, 2]])
    probs = np.full((2, 2, 2), 0.5)
    out = s.draw(0, np.array([0, 1]), tokens, probs, (2, 2), np.random.default_rng(0))
    assert out.calls.tolist() == [1, 0]
    assert out.memory.tolist() == np.all(out.tokens == tokens, axis=1).astype(int).tolist()
    end = s.draw(
        3,
        np.array([0, 0]),
        tokens,
        np.array([[[0.2, 0.8], [0.5, 0.5]]] * 2),
        (2, 2),
        np.random.default_rng(0),
    )
    assert end.tokens.tolist() == [[1, 0], [1, 0]]  # noise removal: argmax, first index


def perturbed(p, seed):
    """A denoiser that is not π's: its conditionals mixed with fixed random rows."""
    rng = np.random.default_rng(seed)
    noise = rng.dirichlet(np.ones(max(p.shape)), size=p.ndim)
    shape = p.shape

    def rows(x, i):
        c = conditional(p, x, i)
        w = [0.7 * c[u] + 0.3 * noise[i, u] for u in range(shape[i])]
        return [v / sum(w) for v in w]

    def den(tokens):
        out = np.zeros((len(tokens), len(shape), max(shape)))
        for b, t in enumerate(np.asarray(tokens)):
            for i in range(len(shape)):
                out[b, i, : shape[i]] = rows(tuple(int(v) for v in t), i)
        return out

    return rows, den


def test_mdlm_e_fact_and_e_learn_match_the_brute_force():
    p = random_law((2, 3, 2), seed=5, zeros=0.2)
    d = as_distribution(p)
    exact = lambda x, i: conditional(p, x, i)  # noqa: E731
    for steps, eps, infinite in [(2, 1e-5, True), (3, 0.0, False), (1, 0.5, True)]:
        s = mdlm(steps, eps)
        ef, el = brute_walk(p, mdlm_plan(p, steps, eps, exact), steps + 1)
        got = walk_under_pi(d, s, None)
        assert ef > 0.01
        assert abs(got[0] - ef) < TOL and abs(factorization_error(p, s) - ef) < TOL
        # E_learn: inf when noise removal (an argmax) may meet a context that is not a point
        # mass; else 0 (π's own conditionals)
        assert math.isinf(el) == infinite
        assert got[1] == el if infinite else abs(got[1] - el) < TOL
        top = learning_error(p, s, None)  # None: π's rows (the argmax at noise removal)
        assert top == el if infinite else abs(top - el) < TOL
    rows, den = perturbed(p, 1)
    s = mdlm(3, 0.0)  # no mask survives the loop: E_learn finite
    ef, el = brute_walk(p, mdlm_plan(p, 3, 0.0, rows), 4)
    assert math.isfinite(el) and el > 0.01
    assert abs(learning_error(p, s, den) - el) < TOL
    assert abs(walk_under_pi(d, s, den)[0] - ef) < TOL


# --------------------------------------------------------------------------- EB brute force


def tempered_row(c, temperature):
    """softmax(log c / T) written as c^(1/T) normalised (exact at T = 1)."""
    top = max(c)
    w = [(v / top) ** (1.0 / temperature) if v > 0 else 0.0 for v in c]
    return [v / sum(w) for v in w]


def entropy(q):
    return -sum(v * math.log(v) for v in q if v > 0)


def proxy_of(q, proxy):
    if proxy == "entropy":
        return entropy(q)
    if proxy == "confidence":
        return -max(q)
    top = [*sorted(q, reverse=True), 0.0]
    return -(top[0] - top[1])


class Ambiguous(Exception):
    """Two proxies within 1e-12 but not equal: the order would depend on rounding."""


def eb_sets(qs, gamma, proxy):
    """{frozenset: weight} over every order of the masked positions sorted by the proxy."""
    err = {j: proxy_of(q, proxy) for j, q in qs.items()}
    h = {j: entropy(q) for j, q in qs.items()}
    for a, b in itertools.combinations(err, 2):
        if err[a] != err[b] and abs(err[a] - err[b]) <= 1e-12:
            raise Ambiguous
    orders = [
        o
        for o in itertools.permutations(qs)
        if all(err[o[i]] <= err[o[i + 1]] for i in range(len(o) - 1))
    ]
    found: dict = defaultdict(float)
    for o in orders:
        acc, top, k = 0.0, 0.0, 0
        for j in o:
            acc += h[j]
            top = max(top, h[j])
            if acc - top <= gamma:
                k += 1
        found[frozenset(o[: max(k, 1)])] += 1.0 / len(orders)
    return found


def brute_eb(p, gamma, proxy="entropy", temperature=1.0, prompt=None, rows=None):
    """(law, call law, tie seen) of the EB-sampler, every state enumerated."""
    shape, n, mask = p.shape, p.ndim, max(p.shape)
    rows = rows or (lambda x, i: conditional(p, x, i))
    states = {(tuple((prompt or {}).get(i, mask) for i in range(n)), 0): 1.0}
    law: dict = defaultdict(float)
    calls: dict = defaultdict(float)
    tie = False
    while states:
        nxt: dict = defaultdict(float)
        for (x, c), w in states.items():
            if mask not in x:
                law[x] += w
                calls[c] += w
                continue
            masked = [j for j in range(n) if x[j] == mask]
            qs = {j: tempered_row(rows(x, j), temperature) for j in masked}
            sets = eb_sets(qs, gamma, proxy)
            tie |= len(sets) > 1
            for z, wz in sets.items():
                z = sorted(z)
                for vals in itertools.product(*(range(shape[j]) for j in z)):
                    wv = math.prod(qs[j][v] for j, v in zip(z, vals))
                    if wv > 0:
                        nxt[(replace(x, z, vals), c + 1)] += w * wz * wv
        states = nxt
    return to_array(law, shape), dict(calls), tie


EB_CASES = [  # (shape, seed, gamma, proxy, T, whether a tie changes a set at a reachable state)
    ((2, 3), 0, 0.0, "entropy", 1.0, False),
    ((2, 3, 2), 1, 0.4, "entropy", 1.0, False),
    ((3, 2, 2), 2, 0.8, "confidence", 0.7, False),
    ((2, 2, 3), 3, 0.3, "margin", 1.5, False),
    ((2, 3, 2, 2), 4, 1.2, "entropy", 2.0, False),
    ((3, 2, 2, 2), 5, 0.5, "margin", 1.0, True),  # zeros make two margins equal
    ((2, 2, 2, 3, 2), 7, 0.6, "confidence", 1.0, False),
    ((2, 3, 2), 7, math.inf, "entropy", 0.5, False),
]


@pytest.mark.parametrize(("shape", "seed", "gamma", "proxy", "temperature", "tied"), EB_CASES)
def test_eb_law_and_calls_match_the_brute_force(shape, seed, gamma, proxy, temperature, tied):
    p = random_law(shape, seed=seed, zeros=0.3)
    law, calls, tie = brute_eb(p, gamma, proxy, temperature)
    assert tie == tied
    s = eb(gamma, proxy, temperature)
    if tie:
        with pytest.raises(TieError, match="changes the revealed set"):
            exact_run(as_distribution(p), s, None)
        s = eb(gamma, proxy, temperature, ties="split")
    run = exact_run(as_distribution(p), s, None)
    np.testing.assert_allclose(run.law, law, rtol=0, atol=TOL)
    assert set(run.calls) == set(calls)
    assert all(abs(run.calls[c] - w) < TOL for c, w in calls.items())


def test_eb_with_a_prompt_matches_the_brute_force():
    p = random_law((2, 3, 2, 2), seed=8, zeros=0.2)
    prompt = {0: 1, 2: 0}
    for proxy in ["entropy", "margin"]:
        law, calls, _ = brute_eb(p, 0.5, proxy, 0.8, prompt=prompt)
        run = exact_run(as_distribution(p), eb(0.5, proxy, 0.8), None, prompt=prompt)
        np.testing.assert_allclose(run.law, law, rtol=0, atol=TOL)
        assert all(abs(run.calls[c] - w) < TOL for c, w in calls.items())


def test_eb_ties_are_refused_or_split():
    # two identical independent positions and a third (dyadic: exact sums): entropies tie
    a = np.array([0.25, 0.75])
    p = np.einsum("i,j,k->ijk", a, a, np.array([0.5, 0.25, 0.25]))
    with pytest.raises(
        TieError,
        match=r"eb\(gamma=0.1.*changes the revealed set at step 0, "
        r"tokens \[3, 3, 3\]; pass ties='split'",
    ):
        output_distribution(p, eb(0.1))
    with pytest.raises(TieError, match="pass ties='split'"):
        sample(p, eb(0.1), 10, seed=0)
    law, calls, tie = brute_eb(p, 0.1, "entropy", 1.0)
    assert tie
    run = exact_run(as_distribution(p), eb(0.1, ties="split"), None)
    np.testing.assert_allclose(run.law, law, atol=TOL)
    assert all(abs(run.calls[c] - w) < TOL for c, w in calls.items())
    x = sample(p, eb(0.1, ties="split"), 20_000, seed=5)
    assert_samples_match(x, run.law)
    # a tie that does not change the set (a budget that takes both) is no error
    np.testing.assert_allclose(output_distribution(p, eb(5.0)), p, atol=1e-15)


def test_eb_confidence_ties_change_the_budget():
    # equal confidence 0.5, different entropies: the order of the tied three changes k
    # (prefix {1, 2} exceeds the budget, {0, 1} and {0, 2} do not)
    rows = [np.array([0.5, 0.5, 0.0]), np.array([0.5, 0.25, 0.25]), np.array([0.5, 0.375, 0.125])]
    sets = eb_sets({j: list(r) for j, r in enumerate(rows)}, 0.8, "confidence")
    assert sorted(map(sorted, sets)) == [[0, 1], [0, 2], [1], [2]]
    p = np.einsum("i,j,k->ijk", *rows)
    with pytest.raises(TieError, match="tokens \\[3, 3, 3\\]"):
        output_distribution(p, eb(0.8, "confidence"))
    law, _, tie = brute_eb(p, 0.8, "confidence")
    assert tie
    s = eb(0.8, "confidence", ties="split")
    np.testing.assert_allclose(output_distribution(p, s), law, atol=TOL)
    assert_samples_match(sample(p, s, 20_000, seed=8), law)  # M = 20,000


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_eb_gamma_zero_at_temperature_one_is_pi(seed):
    # one position (plus zero-entropy ones, deterministic) per step from the exact
    # conditionals: the sampler's law is π and E_fact = 0, whatever the law
    p = random_law((2, 3, 2), seed=seed, zeros=0.4)
    s = eb(0.0, ties="split")
    np.testing.assert_allclose(output_distribution(p, s), p, atol=1e-12)
    assert factorization_error(p, s) < 1e-12


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: eb(0.1, temperature=0),
            r"temperature: must be a finite real number > 0; "
            r"received 0",
        ),
        (lambda: eb(-1.0), r"gamma: must be .*>= 0.*; received -1.0"),
        (lambda: eb(float("nan")), r"gamma: .*; received nan"),
        (
            lambda: eb(0.1, proxy="max"),
            r"proxy: must be one of \('entropy', 'confidence', "
            r"'margin'\); received 'max'",
        ),
        (lambda: eb(0.1, ties="first"), r"ties: must be 'error' or 'split'; received 'first'"),
        (lambda: eb("0.1"), r"gamma: .*received '0.1'"),
    ],
)
def test_eb_bad_arguments(call, match):
    with pytest.raises(Exception, match=match) as info:
        call()
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("proxy", ["entropy", "confidence", "margin"])
def test_eb_monte_carlo_matches_the_exact_law(proxy):
    p = random_law((2, 3, 2), seed=9, zeros=0.2)
    s = eb(0.5, proxy, 0.8)
    m = 20_000
    assert_samples_match(sample(p, s, m, seed=6), output_distribution(p, s))
    d = as_distribution(p)
    x = monte_carlo_run(d, s, None, m, np.random.default_rng(7), {2: 1})
    assert_samples_match(x, exact_run(d, s, None, prompt={2: 1}).law)


def eb_plan(p, gamma, proxy, temperature, rows):
    def plan(x, step):
        mask = max(p.shape)
        masked = [j for j in range(p.ndim) if x[j] == mask]
        qs = {j: tempered_row(rows(x, j), temperature) for j in masked}
        return [
            (sorted(z), w, lambda i, qs=qs: qs[i]) for z, w in eb_sets(qs, gamma, proxy).items()
        ]

    return plan


@pytest.mark.parametrize(("shape", "seed", "gamma", "proxy", "temperature", "tied"), EB_CASES[:6])
def test_eb_e_fact_and_e_learn_match_the_brute_force(shape, seed, gamma, proxy, temperature, tied):
    p = random_law(shape, seed=seed, zeros=0.3)
    d = as_distribution(p)
    s = eb(gamma, proxy, temperature, ties="split" if tied else "error")
    exact = lambda x, i: conditional(p, x, i)  # noqa: E731
    ef, el = brute_walk(p, eb_plan(p, gamma, proxy, temperature, exact), p.ndim)
    assert abs(factorization_error(p, s) - ef) < TOL
    got = walk_under_pi(d, s, None)
    assert abs(got[0] - ef) < TOL and abs(got[1] - el) < TOL
    assert abs(learning_error(p, s, None) - el) < TOL  # None: π's rows, tempered values
    assert (el > 1e-6) == (temperature != 1.0)
    rows, den = perturbed(p, seed)
    ef, el = brute_walk(p, eb_plan(p, gamma, proxy, temperature, rows), p.ndim)
    assert abs(learning_error(p, s, den) - el) < TOL
    assert abs(s.factorization_error(d, den) - ef) < TOL
