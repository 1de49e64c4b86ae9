"""LLaDA's sampler (``exactmd.samplers.llada``) against an independent brute force (issue 15).

The brute force follows ML-GSAI/LLaDA ``generate.py`` in plain Python, on dicts of full-length
token tuples: the generation region is cut into blocks, each block's masks are counted at its
first step and spread over its steps (the remainder on the earliest); at each step and state it
enumerates **every joint draw** of the block's masked candidates' values (from
``softmax(log p / T)``, the argmax with first-index ties at ``T = 0``) and, for
``remasking="random"``, every ordering of the uniform scores (a uniform k-subset); it keeps the
k best scores (``low_confidence``: the untempered probability of the drawn value), splitting a
tie at the threshold uniformly (``ties="split"``) or recording that one occurred (the library
must then raise with ``ties="error"``). The rows are π's exact conditionals, computed here by
summing the table (uniform on a context of probability 0), or a test denoiser. Under π (for
E_fact / E_learn) the values follow π instead and each step adds ``TC_π(z | x_S)`` and
``Σ_{i∈z} KL(π(x_i | x_S) ‖ q_i)``. None of it calls the code under test.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
from helpers import TOL, random_law

import exactmd
from exactmd.errors import ScheduleError, TieError, ValidationError
from exactmd.samplers import exact_run, llada, nfe_distribution
from exactmd.testing import assert_samples_match


# ---------------------------------------------------------------- brute force (no exactmd code)
def exact_rows(p, tokens):
    """π's conditional of every masked position at ``tokens`` (uniform on a zero context)."""
    n, q = p.ndim, max(p.shape)
    rows = [[0.0] * q for _ in range(n)]
    total, mass = 0.0, {}
    for x in itertools.product(*(range(s) for s in p.shape)):
        if all(t == q or t == v for t, v in zip(tokens, x, strict=True)):
            w = float(p[x])
            total += w
            for i in range(n):
                mass[(i, x[i])] = mass.get((i, x[i]), 0.0) + w
    for i in range(n):
        if tokens[i] == q:
            for v in range(p.shape[i]):
                rows[i][v] = mass.get((i, v), 0.0) / total if total > 0 else 1.0 / p.shape[i]
    return rows


def smooth_denoiser(shape):
    """A context-dependent user denoiser with irrational-looking weights (no ties)."""
    q = max(shape)

    def den(tokens):
        t = np.asarray(tokens.cpu() if hasattr(tokens, "cpu") else tokens, dtype=np.int64)
        out = np.zeros((len(t), len(shape), q))
        for b in range(len(t)):
            key = sum((int(v) + 1) * (j + 3) for j, v in enumerate(t[b]))
            for i, qi in enumerate(shape):
                angle = [key * 12.9898 + i * 78.233 + v * 37.719 for v in range(qi)]
                w = [1.0 + (math.sin(a) * 43758.5453) % 1.0 for a in angle]
                out[b, i, :qi] = np.array(w) / sum(w)
        return out

    return den


def rows_of(p, tokens, denoiser):
    if denoiser is None:
        return exact_rows(p, tokens)
    return np.asarray(denoiser(np.array([tokens])), dtype=np.float64)[0].tolist()


def value_law(row, qi, temperature):
    """softmax(log p / T) over range(q_i); T = 0: the first maximal index."""
    if temperature == 0:
        best = max(range(qi), key=lambda v: (row[v], -v))
        return [1.0 if v == best else 0.0 for v in range(qi)]
    w = [row[v] ** (1.0 / temperature) if row[v] > 0 else 0.0 for v in range(qi)]
    return [x / sum(w) for x in w]


def quota(n, steps, block_length, step, tokens, mem, q):
    """(block start, block end, k, memory) at ``step``, as get_num_transfer_tokens."""
    length = n if block_length is None else block_length
    per = steps // (n // length)
    block, i = divmod(step, per)
    lo, hi = block * length, (block + 1) * length
    if i == 0:
        mem = sum(1 for j in range(lo, hi) if tokens[j] == q)
    k = mem // per + (1 if i < mem % per else 0)
    return lo, hi, k, mem


def select(scores, cand, k):
    """[(kept positions, probability)] of the k best scores, a threshold tie split uniformly;
    and whether a tie at the threshold occurred."""
    order = sorted(cand, key=lambda j: -scores[j])
    if k == 0 or k >= len(cand):
        return [(tuple(sorted(order[:k])), 1.0)], False
    cut = scores[order[k - 1]]
    if scores[order[k]] != cut:
        return [(tuple(sorted(order[:k])), 1.0)], False
    above = [j for j in cand if scores[j] > cut]
    tied = [j for j in cand if scores[j] == cut]
    need = k - len(above)
    subsets = list(itertools.combinations(tied, need))
    return [(tuple(sorted(above + list(z))), 1.0 / len(subsets)) for z in subsets], True


def brute_llada(p, steps, block_length, remasking, temperature, prompt=None, denoiser=None):
    """(law as a dict, whether a tie of positive probability occurred)."""
    n, q = p.ndim, max(p.shape)
    start = tuple((prompt or {}).get(i, q) for i in range(n))
    states = {(start, 0): 1.0}  # (tokens, block memory) -> probability
    tie_seen = False
    for step in range(steps):
        new = {}
        for (tok, mem), w in states.items():
            lo, hi, k, mem2 = quota(n, steps, block_length, step, tok, mem, q)
            cand = [j for j in range(lo, hi) if tok[j] == q]
            k = min(k, len(cand))
            rows = rows_of(p, tok, denoiser)
            laws = {j: value_law(rows[j], p.shape[j], temperature) for j in cand}
            for vals in itertools.product(*(range(p.shape[j]) for j in cand)):
                pv = w * math.prod(laws[j][v] for j, v in zip(cand, vals, strict=True))
                if pv == 0:
                    continue
                drawn = dict(zip(cand, vals, strict=True))
                if remasking == "random":
                    subsets = list(itertools.combinations(cand, k))
                    choices = [(z, 1.0 / len(subsets)) for z in subsets]
                else:
                    scores = {j: rows[j][drawn[j]] for j in cand}
                    choices, tie = select(scores, cand, k)
                    tie_seen |= tie
                for z, share in choices:
                    t = list(tok)
                    for j in z:
                        t[j] = drawn[j]
                    key = (tuple(t), mem2)
                    new[key] = new.get(key, 0.0) + pv * share
        states = new
    law = {}
    for (tok, _), w in states.items():
        assert q not in tok  # LLaDA reveals every mask of a block by its last step
        law[tok] = law.get(tok, 0.0) + w
    return law, tie_seen


def as_table(shape, law):
    out = np.zeros(shape)
    for x, w in law.items():
        out[x] = w
    return out


def brute_errors(p, steps, block_length, temperature, prompt=None, denoiser=None):
    """(E_fact, E_learn) of random remasking: the walk under π over uniform k-subsets."""
    n, q = p.ndim, max(p.shape)
    start = tuple((prompt or {}).get(i, q) for i in range(n))
    states = {(start, 0): 1.0}
    e_fact = e_learn = 0.0
    for step in range(steps):
        new = {}
        for (tok, mem), w in states.items():
            lo, hi, k, mem2 = quota(n, steps, block_length, step, tok, mem, q)
            cand = [j for j in range(lo, hi) if tok[j] == q]
            k = min(k, len(cand))
            rows = rows_of(p, tok, denoiser)
            exact = exact_rows(p, tok)
            subsets = list(itertools.combinations(cand, k))
            for z in subsets:
                share = w / len(subsets)
                joint = {}
                for x in itertools.product(*(range(s) for s in p.shape)):
                    if p[x] > 0 and all(t == q or t == v for t, v in zip(tok, x, strict=True)):
                        key = tuple(x[j] for j in z)
                        joint[key] = joint.get(key, 0.0) + float(p[x])
                total = sum(joint.values())
                for key, m in joint.items():
                    prod = math.prod(exact[j][v] for j, v in zip(z, key, strict=True))
                    e_fact += share * m / total * math.log(m / total / prod)
                for j in z:
                    ql = value_law(rows[j], p.shape[j], temperature)
                    for v in range(p.shape[j]):
                        if exact[j][v] > 0:
                            e_learn += share * exact[j][v] * math.log(exact[j][v] / ql[v])
                for key, m in joint.items():
                    t = list(tok)
                    for j, v in zip(z, key, strict=True):
                        t[j] = v
                    nk = (tuple(t), mem2)
                    new[nk] = new.get(nk, 0.0) + share * m / total
        states = new
    return e_fact, e_learn


# ---------------------------------------------------------------- configurations
# (shape, steps, block_length, prompt)
CONFIGS = [
    ((2, 3, 2), 2, None, None),
    ((2, 3, 2), 3, None, {1: 2}),
    ((3, 2, 2, 2), 4, 2, None),
    ((3, 2, 2, 2), 2, 2, {0: 1}),
    ((2, 2, 3, 2), 3, None, {2: 0}),
    ((2, 3, 2, 2, 3), 3, None, None),
    ((2, 2, 2, 2, 2, 2), 6, 3, {4: 1}),
    ((2, 2, 2, 2, 2, 2), 3, 2, None),
]
TEMPERATURES = [0.0, 0.6, 1.0, 1.7]


def law_for(shape, prompt, seed):
    p = random_law(shape, seed=seed, zeros=0.3)
    if prompt:  # give the prompt positive mass
        index = tuple(prompt.get(i, slice(None)) for i in range(len(shape)))
        p[index] += 0.02
        p /= p.sum()
    return p


def engine_law(p, sched, denoiser=None, prompt=None):
    """The engine's law: its ``prompt`` pre-fills tokens inside the generation region (the
    blocks tile all N positions), the semantics the brute force above implements."""
    d = p if isinstance(p, exactmd.Distribution) else exactmd.as_distribution(p)
    return exact_run(d, sched, denoiser, prompt).law


def run_both(p, steps, block, remasking, temperature, ties, prompt, denoiser=None):
    law, tie = brute_llada(p, steps, block, remasking, temperature, prompt, denoiser)
    sched = llada(steps, block, remasking, temperature, ties=ties)
    return as_table(p.shape, law), tie, sched


# ---------------------------------------------------------------- exact law vs brute force
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c[0]}-s{c[1]}-b{c[2]}-p{c[3]}")
@pytest.mark.parametrize("remasking", ["low_confidence", "random"])
def test_exact_law_matches_the_brute_force(config, remasking):
    shape, steps, block, prompt = config
    for seed, temperature in enumerate(TEMPERATURES):
        p = law_for(shape, prompt, seed)
        want, tie, sched = run_both(p, steps, block, remasking, temperature, "split", prompt)
        got = engine_law(p, sched, prompt=prompt)
        np.testing.assert_allclose(got, want, rtol=0, atol=TOL)
        if prompt is None:  # the public function is the engine without a prompt
            np.testing.assert_array_equal(exactmd.output_distribution(p, sched), got)
        # ties="error" agrees where no tie of positive probability occurs, else it raises
        strict = llada(steps, block, remasking, temperature)
        if tie:
            with pytest.raises(TieError, match=r"a tie of positive probability"):
                engine_law(p, strict, prompt=prompt)
        else:
            np.testing.assert_allclose(engine_law(p, strict, prompt=prompt), want, rtol=0, atol=TOL)


@pytest.mark.parametrize("config", CONFIGS[:5], ids=lambda c: f"{c[0]}-s{c[1]}-b{c[2]}-p{c[3]}")
def test_exact_law_with_a_user_denoiser_and_torch(config, backend):
    shape, steps, block, prompt = config
    den = smooth_denoiser(shape)
    for seed, temperature in enumerate((0.0, 0.8)):
        p = law_for(shape, prompt, 10 + seed)
        d = exactmd.as_distribution(p, backend=backend)
        for remasking in ("low_confidence", "random"):
            want, tie, sched = run_both(
                p, steps, block, remasking, temperature, "error", prompt, den
            )
            assert not tie  # the smooth denoiser has no ties
            got = engine_law(d, sched, den, prompt=prompt)
            np.testing.assert_allclose(got, want, rtol=0, atol=TOL)
            split = llada(steps, block, remasking, temperature, ties="split")
            exact = engine_law(d, split, prompt=prompt)
            want_exact, _, _ = run_both(p, steps, block, remasking, temperature, "split", prompt)
            np.testing.assert_allclose(exact, want_exact, rtol=0, atol=TOL)


def test_temperature_zero_first_index_rule():
    """T = 0 draws torch.argmax's first maximal index; equal scores are a selection tie."""
    p = np.zeros((2, 3))
    p[0, 0], p[1, 0], p[0, 2], p[1, 2] = 0.3, 0.3, 0.3, 0.1  # x0: (0.6, 0.4); x1: (0.6, 0, 0.4)
    p /= p.sum()
    law = exactmd.output_distribution(p, llada(steps=2, ties="split"))
    want, _ = brute_llada(p, 2, None, "low_confidence", 0.0)
    np.testing.assert_allclose(law, as_table(p.shape, want), atol=TOL)
    q = np.array([[0.2, 0.2], [0.3, 0.3]])  # x1 | x0 = 0 is (0.5, 0.5): argmax takes 0
    law = exactmd.output_distribution(q, llada(steps=2))  # x0 = 1 (0.6) first, then x1 = 0
    assert law[1, 0] == 1.0


# ---------------------------------------------------------------- calls, ties, arguments
@pytest.mark.parametrize("config", CONFIGS[:4], ids=lambda c: f"{c[0]}-s{c[1]}-b{c[2]}-p{c[3]}")
def test_llada_makes_steps_calls(config):
    shape, steps, block, prompt = config
    p = law_for(shape, prompt, 3)
    for remasking in ("low_confidence", "random"):
        sched = llada(steps, block, remasking, 0.9, ties="split")
        run = exact_run(exactmd.as_distribution(p), sched, None, prompt)
        assert list(run.calls) == [steps] and abs(run.calls[steps] - 1.0) < 1e-12
        free = p.ndim - len(prompt or {})
        if block is None or free % block == 0:
            assert nfe_distribution(p, sched, prompt=prompt) == {steps: 1.0}
        else:  # the public prompt makes the free positions the generation region
            with pytest.raises(ScheduleError, match="generation region"):
                nfe_distribution(p, sched, prompt=prompt)


PUBLIC_PROMPTS = [  # (shape, steps, block_length, prompt), block_length dividing the free
    ((3, 2, 2, 2), 2, None, {0: 1}),
    ((3, 2, 2, 2, 2), 4, 2, {0: 2}),
    ((2, 2, 3, 2, 2, 2), 4, 2, {0: 1, 1: 0}),  # a prefix: LLaDA's prompt then gen_length 4
    ((2, 3, 2, 2, 2), 2, 2, {2: 1}),  # not a prefix: the blocks tile the free positions
]


@pytest.mark.parametrize("config", PUBLIC_PROMPTS, ids=lambda c: f"{c[0]}-b{c[2]}-p{c[3]}")
@pytest.mark.parametrize("remasking", ["low_confidence", "random"])
def test_a_public_prompt_runs_on_the_free_positions(config, remasking):
    """exactmd.output_distribution(p, llada(...), prompt=...) is LLaDA with that prompt: the
    brute force on π(x_F | x_prompt) over the free positions F, embedded back."""
    shape, steps, block, prompt = config
    for seed, temperature in enumerate((0.0, 1.0)):
        p = law_for(shape, prompt, 30 + seed)
        free = [i for i in range(p.ndim) if i not in prompt]
        index = tuple(prompt.get(i, slice(None)) for i in range(p.ndim))
        reduced = p[index] / p[index].sum()
        law, _ = brute_llada(reduced, steps, block, remasking, temperature)
        want = np.zeros(shape)
        for x, w in law.items():
            full = [0] * p.ndim
            for pos, v in prompt.items():
                full[pos] = v
            for j, pos in enumerate(free):
                full[pos] = x[j]
            want[tuple(full)] += w
        sched = llada(steps, block, remasking, temperature, ties="split")
        got = exactmd.output_distribution(p, sched, prompt=prompt)
        np.testing.assert_allclose(got, want, rtol=0, atol=TOL)
        calls = nfe_distribution(p, sched, prompt=prompt)
        assert calls == {steps: 1.0}


def test_a_symmetric_law_raises_a_tie_error_naming_the_state():
    p = np.full((2, 2), 0.25)
    msg = (
        r"llada\(steps=2, remasking='low_confidence', temperature=1.0\): a tie of positive "
        r"probability in the top-1 selection at step 0, tokens \[2, 2\] \(candidates \[0, 1\], "
        r".*\); pass ties='split' to split ties uniformly"
    )
    with pytest.raises(TieError, match=msg):
        exactmd.output_distribution(p, llada(steps=2, temperature=1.0))
    with pytest.raises(TieError, match=r"a tie in a drawn top-k selection; pass ties='split'"):
        exactmd.sample(p, llada(steps=2, temperature=1.0), 10, seed=0)
    law = exactmd.output_distribution(p, llada(steps=2, temperature=1.0, ties="split"))
    want, tie = brute_llada(p, 2, None, "low_confidence", 1.0)
    assert tie
    np.testing.assert_allclose(law, as_table(p.shape, want), atol=TOL)


def test_ties_split_on_laws_full_of_ties():
    """Block copies and uniform rows: many ties at once, split against the brute force."""
    p = np.zeros((2, 2, 2, 2))
    for a, b in itertools.product((0, 1), repeat=2):
        p[a, a, b, b] = 0.25
    for steps, block in ((2, None), (4, None), (2, 2), (4, 2)):
        for temperature in (0.0, 1.0):
            sched = llada(steps, block, "low_confidence", temperature, ties="split")
            want, tie = brute_llada(p, steps, block, "low_confidence", temperature)
            assert tie == (steps // (4 // (block or 4)) > 1)  # one step per block: no choice
            got = exactmd.output_distribution(p, sched)
            np.testing.assert_allclose(got, as_table(p.shape, want), rtol=0, atol=TOL)


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"steps": 4, "block_length": 3}, ScheduleError, r"block_length: must divide .* N = 4"),
        ({"steps": 3, "block_length": 2}, ScheduleError, r"steps: must be a multiple of .* 2"),
        ({"steps": 4, "remasking": "top"}, ValidationError, r"remasking: .*received 'top'"),
        ({"steps": 4, "temperature": -0.5}, ValidationError, r"temperature: .*-0.5"),
        ({"steps": 4, "ties": "first"}, ValidationError, r"ties: must be 'error' or 'split'"),
        ({"steps": 2.5}, ScheduleError, r"steps: .*2.5"),
        ({"steps": 4, "block_length": 0}, ScheduleError, r"block_length"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, match):
    p = random_law((2, 2, 2, 2), seed=0)
    with pytest.raises(error, match=match):
        exactmd.output_distribution(p, llada(**kwargs))


def test_one_step_and_more_steps_than_masks():
    p = random_law((2, 2, 2), seed=1)
    # one step reveals all three masks at once (LLaDA: k = 3)
    want, _ = brute_llada(p, 1, None, "random", 1.0)
    np.testing.assert_allclose(
        exactmd.output_distribution(p, llada(steps=1, remasking="random", temperature=1.0)),
        as_table(p.shape, want),
        atol=TOL,
    )
    # more steps than masks: empty steps, still `steps` calls
    sched = llada(steps=5, remasking="random", temperature=1.0)
    want, _ = brute_llada(p, 5, None, "random", 1.0)
    got = exactmd.output_distribution(p, sched)
    np.testing.assert_allclose(got, as_table(p.shape, want), atol=TOL)
    assert nfe_distribution(p, sched) == {5: 1.0}


# ---------------------------------------------------------------- Monte Carlo
M = 6000  # samples per Monte Carlo check below


@pytest.mark.parametrize(
    "sched,prompt",
    [
        (llada(steps=3, temperature=1.0), None),
        (llada(steps=4, block_length=2, temperature=0.7), None),
        (llada(steps=2, remasking="random", temperature=1.3), {1: 1}),
        (llada(steps=4, block_length=2, remasking="random", temperature=0.4), None),
        (llada(steps=3, temperature=1.0, ties="split"), {3: 0}),
    ],
    ids=["lc", "lc-blocks", "random-prompt", "random-blocks", "lc-prompt"],
)
def test_monte_carlo_matches_the_exact_law(sched, prompt):
    p = random_law((2, 3, 2, 2), seed=21, zeros=0.0)  # no zeros: no ties (ties="error" runs)
    x = exactmd.sample(p, sched, M, seed=5, prompt=prompt)
    assert_samples_match(x, exactmd.output_distribution(p, sched, prompt=prompt))


def test_monte_carlo_with_a_user_denoiser():
    shape = (2, 3, 2, 2)
    p = law_for(shape, None, 22)
    den = smooth_denoiser(shape)
    sched = llada(steps=4, block_length=2, temperature=0.9)
    x = exactmd.sample(p, sched, M, den, seed=6)
    assert_samples_match(x, exactmd.output_distribution(p, sched, den))


def test_monte_carlo_splits_ties_as_the_exact_law():
    p = np.zeros((2, 2, 2, 2))
    for a, b in itertools.product((0, 1), repeat=2):
        p[a, a, b, b] = 0.25
    sched = llada(steps=3, temperature=1.0, ties="split")
    x = exactmd.sample(p, sched, M, seed=7)
    assert_samples_match(x, exactmd.output_distribution(p, sched))


# ---------------------------------------------------------------- E_fact, E_learn, check_bound
@pytest.mark.parametrize("config", CONFIGS[:6:], ids=lambda c: f"{c[0]}-s{c[1]}-b{c[2]}")
def test_random_remasking_errors_match_the_brute_force(config):
    shape, steps, block, _ = config
    p = law_for(shape, None, 30)
    d = exactmd.as_distribution(p)
    den = smooth_denoiser(shape)
    for temperature, user in ((1.0, None), (0.6, None), (1.0, den), (0.6, den)):
        sched = llada(steps, block, "random", temperature)
        e_fact, e_learn = brute_errors(p, steps, block, temperature, None, user)
        assert abs(sched.factorization_error(d, user) - e_fact) < TOL
        assert abs(sched.learning_error(d, user) - e_learn) < TOL
        if user is not None:
            assert abs(exactmd.learning_error(p, sched, user) - e_learn) < TOL
        if user is None and temperature == 1.0:
            assert abs(e_learn) < TOL  # π's own conditionals: no learning error
            assert abs(exactmd.factorization_error(p, sched) - e_fact) < TOL
        assert e_fact > 1e-6 or steps == len(shape)  # the brute force is not trivially 0


def test_check_bound_for_random_remasking_and_refusal_for_low_confidence():
    shape = (2, 3, 2, 2)
    p = law_for(shape, None, 31)
    den = smooth_denoiser(shape)
    sched = llada(steps=2, remasking="random", temperature=1.0)
    rep = exactmd.check_bound(p, sched, den)
    e_fact, e_learn = brute_errors(p, 2, None, 1.0, None, den)
    assert rep.holds and abs(rep.factorization_error - e_fact) < TOL
    assert abs(rep.learning_error - e_learn) < TOL
    want, _ = brute_llada(p, 2, None, "random", 1.0, None, den)
    assert abs(rep.kl - exactmd.kl(p, as_table(shape, want))) < 1e-12
    lc = llada(steps=2, temperature=1.0)
    msg = r"E_(fact|learn) is not defined for llada\(.*\): it is a sample-then-select sampler"
    with pytest.raises(ScheduleError, match=msg):
        exactmd.check_bound(p, lc, den)
    with pytest.raises(ScheduleError, match=msg):
        exactmd.factorization_error(p, lc)
    with pytest.raises(ScheduleError, match=msg):
        exactmd.learning_error(p, lc, den)


def test_tempered_sampler_e_learn_is_not_zero_with_the_exact_denoiser() -> None:
    """A sampler that tempers its values draws from another law than π's conditionals:
    exactmd.learning_error(p, s, None) is the KL to the tempered law, and the bound holds."""
    import exactmd
    from exactmd.samplers import llada as build

    p = np.array([[0.4, 0.2], [0.1, 0.3]])
    hot = build(2, remasking="random", temperature=0.5)

    # brute force: one position at a time, uniform order; E_learn = E_x Σ_i KL(π_i ‖ π_i^2 / Σ)
    def tempered(v: np.ndarray) -> np.ndarray:
        return v**2 / np.sum(v**2)

    total = 0.0
    for first in (0, 1):
        marg = p.sum(axis=1 - first)
        total += 0.5 * float(np.sum(marg * np.log(marg / tempered(marg))))
        for v in (0, 1):
            cond = (p[v, :] if first == 0 else p[:, v]) / marg[v]
            total += 0.5 * marg[v] * float(np.sum(cond * np.log(cond / tempered(cond))))
    assert abs(exactmd.learning_error(p, hot, None) - total) < 1e-12
    rep = exactmd.check_bound(p, hot)
    assert rep.holds and rep.learning_error > 0.07 and rep.kl > 0.07
    assert exactmd.learning_error(p, build(2, remasking="random", temperature=1.0), None) == 0.0


# ---------------------------------------------------------------- per-row candidates
def _moves_by_state(mv, offset=0):
    """{(source row + offset, successor tokens): weight} of a Moves record."""
    out: dict = {}
    for s, t, w in zip(mv.source.tolist(), np.asarray(mv.tokens).tolist(), mv.weight.tolist()):
        key = (s + offset, tuple(t))
        out[key] = out.get(key, 0.0) + w
    return out


@pytest.mark.parametrize("ties", ["split", "error"])
@pytest.mark.parametrize("chunk", [1, 7, 2**20])
def test_top_k_with_per_row_candidates_equals_one_row_at_a_time(monkeypatch, ties, chunk):
    """The batched form (bool (B, N) candidates: rows of different counts and alphabets,
    grouped and chunked) gives, row by row, the moves of the common-candidate form."""
    from exactmd.backends._tuning import TUNINGS
    from exactmd.samplers._records import StepBatch
    from exactmd.samplers._select import tempered, top_k_moves

    monkeypatch.setitem(
        TUNINGS, "numpy", dataclasses.replace(TUNINGS["numpy"], selection_chunk_entries=chunk)
    )
    rng = np.random.default_rng(chunk)
    shape = (2, 3, 2, 3, 2)
    n, mask = len(shape), max(shape)
    rows = []
    for _ in range(12):
        t = [int(rng.integers(q)) if rng.random() < 0.4 else mask for q in shape]
        rows.append(t)
    rows.append([mask] * n)
    rows.append([0, 1, 0, 2, 1])  # no candidate
    tokens = np.array(rows, dtype=np.int64)
    raw = rng.random((len(rows), n, mask))
    if ties == "split":  # zeros, point masses and so ties; "error" needs a law without ties
        raw *= rng.random(raw.shape) > 0.3
        raw[:, :, 0] += 1e-3
    for i, q in enumerate(shape):
        raw[:, i, q:] = 0.0
    probs = raw / raw.sum(axis=2, keepdims=True)
    values = tempered(probs, 0.7)
    cand = tokens == mask
    for k in (1, 2, 4):
        batch = StepBatch(0, 0, tokens, probs, np.flatnonzero(cand.all(axis=0)), shape)
        got = _moves_by_state(top_k_moves(batch, cand, k, values, probs, ties, "t"))
        want: dict = {}
        for b in range(len(rows)):
            c = np.flatnonzero(cand[b])
            one = StepBatch(0, 0, tokens[b : b + 1], probs[b : b + 1], c, shape)
            mv = top_k_moves(one, c, min(k, len(c)), values[b : b + 1], probs[b : b + 1], ties, "t")
            want.update(_moves_by_state(mv, b))
        assert got.keys() == want.keys()
        for key, w in want.items():
            assert got[key] == pytest.approx(w, abs=1e-15)
        total = np.bincount(
            top_k_moves(batch, cand, k, values, probs, ties, "t").source,
            weights=top_k_moves(batch, cand, k, values, probs, ties, "t").weight,
        )
        np.testing.assert_allclose(total, 1.0, atol=1e-12)


def test_low_confidence_batches_states_by_their_number_of_masks():
    """One moves call per round for a one-block LLaDA (every state of a round has the same
    number of masks), not one per masked set; the law is unchanged (brute force)."""
    p = law_for((2, 3, 2, 2, 3), None, 5)
    sched = llada(3, None, "low_confidence", 1.0, ties="split")
    assert not sched.shared_masked and llada(3, remasking="random").shared_masked
    calls = []
    original = type(sched).moves

    def counting(self, batch):
        calls.append(len(batch.tokens))
        return original(self, batch)

    type(sched).moves = counting
    try:
        got = engine_law(p, sched)
    finally:
        type(sched).moves = original
    assert len(calls) == 3 and calls[0] == 1 and max(calls) > 1
    want, _, _ = run_both(p, 3, None, "low_confidence", 1.0, "split", None)
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL)
