"""exactmd.samplers.dream against an independent brute force over joint draws.

The brute force (``brute_dream``) runs Dream's ``_sample`` literally as a branching process
merged in dicts: ``steps`` rounds; at each state π's conditionals by slicing the joint
(``brute.brute_conditional``), ``sample_tokens``' filtering in plain Python (sorted lists,
running sums), then **every joint draw**: for ``origin`` every transfer pattern of the masked
positions (Bernoulli) and every value of the movers; for the other algorithms every joint value
of the masked positions, its confidences, and the selection: the top ``k`` (a tie broken by
every priority order of the positions, uniformly; ``ties="error"`` mirrored by refusing a
draw whose selection depends on it) or every ordered sequence of ``k`` distinct positions with
its ``torch.multinomial`` (sequential, without replacement) probability. The float32 time grid
and the sizes come from torch itself (``torch.linspace``, the code's tensor expressions) when
torch is installed, else from the module (whose grid is checked against torch separately).
E_fact and E_learn are brute-forced by a walk under π over the same plans, with each TC and KL
from explicit sums over the sliced joint.
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
from exactmd.samplers import dream, exact_run
from exactmd.samplers._engine import monte_carlo_run
from exactmd.samplers.dream import dream_sizes, dream_timesteps
from exactmd.testing import assert_samples_match

MIN = -1.7976931348623157e308  # torch.finfo(torch.float64).min


class BruteTie(Exception):
    """A selection or filter of the brute force depends on the order of equal values."""


# -- the time grid and the sizes, from torch when it is there -----------------------------------


def schedule(steps, eps):
    """(reveal probability, size rule) of each round, as the code computes them."""
    try:
        import torch
    except ImportError:  # pragma: no cover - the module's grid, checked against torch elsewhere
        from exactmd.samplers import dream as module

        return (
            [module._reveal_probability(i, steps, eps) for i in range(steps)],
            lambda m, i: module._transfer_count(m, i, steps, eps),
        )
    ts = torch.linspace(1, eps, steps + 1)
    reveal = [float(1 - ts[i + 1] / ts[i]) if i < steps - 1 else 1.0 for i in range(steps)]

    def count(m, i):
        num = torch.tensor(m) / 1  # mask_index.sum() / batch size: a float32 tensor
        return int(num * (1 - ts[i + 1] / ts[i])) if i < steps - 1 else int(num)

    return reveal, count


# -- sample_tokens in plain Python --------------------------------------------------------------


def softmax(xs):
    top = max(xs)
    e = [math.exp(x - top) for x in xs]
    total = sum(e)
    return [x / total for x in e]


def brute_filter(row, t, top_p, top_k):
    logits = [math.log(x) if x > 0 else -math.inf for x in row]
    if t > 0:
        logits = [x / t for x in logits]
    width = len(logits)
    if top_p is not None and top_p < 1:
        order = sorted(range(width), key=lambda v: -logits[v])
        sm = softmax([logits[v] for v in order])
        cum = list(itertools.accumulate(sm))
        kept = {order[0]} | {order[r] for r in range(1, width) if not cum[r - 1] > top_p}
        n_kept = len(kept)
        if n_kept < width:
            a, b = logits[order[n_kept - 1]], logits[order[n_kept]]
            if math.isfinite(a) and (a == b or (math.isfinite(b) and close(a, b, 1.0))):
                raise BruteTie("top_p")
        logits = [x if v in kept else MIN for v, x in enumerate(logits)]
    if top_k is not None:
        kth = sorted(logits, reverse=True)[min(top_k, width) - 1]
        logits = [MIN if x < kth else x for x in logits]
    return softmax(logits)


def confidence(alg, law, v):
    if alg == "maskgit_plus":
        return law[v]
    if alg == "topk_margin":
        ranked = [*sorted(law, reverse=True), 0.0]
        return ranked[0] - ranked[1]
    return sum(x * math.log(x + 1e-10) for x in law)


RTOL = 1e-12  # confidences this close are equal as far as the real code can tell


def close(a, b, scale=0.0):
    return abs(a - b) <= RTOL * max(abs(a), abs(b), scale)


def merge_near(conf, scale):
    """Confidences with every chain of ``close`` neighbours (sorted) set to its largest."""
    ranked = sorted(set(conf))
    top, group = {}, [ranked[0]]
    for x in ranked[1:]:
        if close(x, group[-1], scale):
            group.append(x)
        else:
            top.update({y: group[-1] for y in group})
            group = [x]
    top.update({y: group[-1] for y in group})
    return [top[x] for x in conf]


def top_k_sets(conf, k, ties, scale=0.0):
    conf = merge_near(conf, scale)  # near-equal confidences tie
    m = len(conf)
    if len(set(conf)) == m:
        order = sorted(range(m), key=lambda a: -conf[a])
        return [(frozenset(order[:k]), 1.0)]
    out = defaultdict(float)
    perms = list(itertools.permutations(range(m)))
    for perm in perms:
        order = sorted(range(m), key=lambda a: (-conf[a], perm.index(a)))
        out[frozenset(order[:k])] += 1.0 / len(perms)
    if ties == "error" and len(out) > 1:
        raise BruteTie("top-k")
    return list(out.items())


def multinomial_sets(conf, k, alg_temp):
    w = softmax([c / alg_temp for c in conf])
    out = defaultdict(float)
    for seq in itertools.permutations(range(len(conf)), k):
        pr, left = 1.0, sum(w)
        for a in seq:
            pr *= w[a] / left
            left -= w[a]
        out[frozenset(seq)] += pr
    return list(out.items())


def position_laws(p, tok, t, top_p, top_k):
    """{masked j: (π's row, the filtered law, [(value, probability)] of the draw)}."""
    q = max(p.shape)
    given = {j: v for j, v in enumerate(tok) if v != q}
    out = {}
    for j in (j for j, v in enumerate(tok) if v == q):
        row = [float(x) for x in brute_conditional(p, j, given)]
        law = brute_filter(row, t, top_p, top_k)
        if t > 0:
            draws = [(v, x) for v, x in enumerate(law) if x > 0]
        else:
            draws = [(max(range(len(law)), key=lambda v: law[v]), 1.0)]
        out[j] = (row, law, draws)
    return out


def brute_dream(
    p,
    steps,
    alg="origin",
    t=0.0,
    eps=1e-3,
    alg_temp=None,
    top_p=None,
    top_k=None,
    ties="split",
    prompt=None,
):
    shape = p.shape
    n, q = len(shape), max(shape)
    reveal, count = schedule(steps, eps)
    states = {tuple((prompt or {}).get(i, q) for i in range(n)): 1.0}
    for i in range(steps):
        nxt = defaultdict(float)
        for tok, w in states.items():
            masked = [j for j in range(n) if tok[j] == q]
            if not masked:
                nxt[tok] += w
                continue
            laws = position_laws(p, tok, t, top_p, top_k)
            if alg == "origin":
                r = reveal[i]
                for moved in itertools.product((False, True), repeat=len(masked)):
                    pm = math.prod(r if mv else 1 - r for mv in moved)
                    if pm == 0:
                        continue
                    movers = [j for j, mv in zip(masked, moved) if mv]
                    for vals in itertools.product(*(laws[j][2] for j in movers)):
                        new = list(tok)
                        for j, (v, _) in zip(movers, vals):
                            new[j] = v
                        nxt[tuple(new)] += w * pm * math.prod(x for _, x in vals)
                continue
            k = count(len(masked), i)
            for vals in itertools.product(*(laws[j][2] for j in masked)):
                pv = math.prod(x for _, x in vals)
                conf = [confidence(alg, laws[j][1], v) for j, (v, _) in zip(masked, vals)]
                if k == 0:
                    sets = [(frozenset(), 1.0)]
                elif alg_temp:
                    sets = multinomial_sets(conf, k, alg_temp)
                else:
                    sets = top_k_sets(conf, k, ties, 0.0 if alg == "maskgit_plus" else 1.0)
                for chosen, ws in sets:
                    new = list(tok)
                    for a in chosen:
                        new[masked[a]] = vals[a][0]
                    nxt[tuple(new)] += w * pv * ws
        states = nxt
    law = np.zeros(shape)
    for tok, w in states.items():
        assert q not in tok or w == 0
        if w > 0:
            law[tok] += w
    return law


def brute_decomposition(
    p, steps, alg, t=1.0, eps=1e-3, alg_temp=None, top_p=None, top_k=None, ties="split"
):
    """(E_fact, E_learn) by a walk under π over the plans of a value-independent Dream."""
    shape = p.shape
    n, q = len(shape), max(shape)
    reveal, count = schedule(steps, eps)
    states = {tuple([q] * n): 1.0}
    e_fact = e_learn = 0.0
    for i in range(steps):
        nxt = defaultdict(float)
        for tok, w in states.items():
            masked = [j for j in range(n) if tok[j] == q]
            if not masked:
                continue
            laws = position_laws(p, tok, t, top_p, top_k)
            if alg == "origin":
                r = reveal[i]
                plan = []
                for moved in itertools.product((False, True), repeat=len(masked)):
                    z = frozenset(a for a, mv in enumerate(moved) if mv)
                    plan.append((z, math.prod(r if mv else 1 - r for mv in moved)))
            else:
                k = count(len(masked), i)
                conf = [confidence(alg, laws[j][1], None) for j in masked]
                if k == 0:
                    plan = [(frozenset(), 1.0)]
                elif alg_temp:
                    plan = multinomial_sets(conf, k, alg_temp)
                else:
                    plan = top_k_sets(conf, k, ties, 0.0 if alg == "maskgit_plus" else 1.0)
            index = tuple(v if v != q else slice(None) for v in tok)
            sliced = p[index]
            sliced = sliced / sliced.sum()  # π(x_masked | x_S), axes in the order of masked
            for zset, pz in plan:
                if pz == 0:
                    continue
                z = sorted(zset)
                if not z:
                    nxt[tok] += w * pz
                    continue
                joint = sliced.sum(axis=tuple(a for a in range(len(masked)) if a not in z))
                tc = kl = 0.0
                for a in z:
                    row, law, _ = laws[masked[a]]
                    for v, x in enumerate(row):
                        if x > 0:
                            kl += x * math.log(x / law[v]) if law[v] > 0 else math.inf
                for vals in itertools.product(*(range(shape[masked[a]]) for a in z)):
                    x = float(joint[vals])
                    if x <= 0:
                        continue
                    prod = math.prod(laws[masked[a]][0][v] for a, v in zip(z, vals))
                    tc += x * math.log(x / prod)
                    new = list(tok)
                    for a, v in zip(z, vals):
                        new[masked[a]] = v
                    nxt[tuple(new)] += w * pz * x
                e_fact += w * pz * tc
                e_learn += w * pz * kl
        states = nxt
    return e_fact, e_learn


def run_exact(p, sched, prompt=None):
    return exact_run(as_distribution(p), sched, None, prompt)


def check_against_brute(p, sched, prompt=None, **kw):
    run = run_exact(p, sched, prompt)
    np.testing.assert_allclose(run.law, brute_dream(p, prompt=prompt, **kw), atol=TOL, rtol=0)
    assert list(run.calls) == [kw["steps"]]  # Dream always makes its steps' calls
    assert abs(run.calls[kw["steps"]] - 1.0) <= TOL
    return run


# -- the grid and the sizes ---------------------------------------------------------------------


def test_timesteps_match_torch_linspace_bit_for_bit():
    torch = pytest.importorskip("torch")
    for steps in [*range(1, 70), 100, 127, 128, 255, 256, 512, 1000]:
        for eps in (1e-3, 1e-5, 0.0, 0.1, 1 / 3, 0.5, 0.9):
            want = torch.linspace(1, eps, steps + 1).numpy()
            assert np.array_equal(dream_timesteps(steps, eps), want), (steps, eps)


def test_timesteps_are_not_the_naive_float32_formula():
    # torch fuses the multiply-add: the naive float32 start + step * i differs at this point
    g = dream_timesteps(8, 1e-3)
    step = np.float32(np.float32(1e-3) - np.float32(1)) / np.float32(8)
    naive = np.float32(np.float32(1) + np.float32(step * np.float32(3)))
    assert g[3] == np.float32(0.625375) and naive != g[3]
    assert dream_timesteps(4, 0.0).tolist() == [1.0, 0.75, 0.5, 0.25, 0.0]


def test_sizes_pile_the_remainder_on_the_last_step():
    assert dream_sizes(8, 8) == (0, 1, 1, 1, 1, 1, 1, 2)
    assert dream_sizes(6, 4) == (1, 1, 1, 3)
    big = dream_sizes(256, 256)
    assert big[0] == 0 and set(big[1:-1]) == {1} and big[-1] == 2
    for n, steps, eps in itertools.product(range(0, 10), range(1, 10), (1e-3, 0.0, 0.25)):
        _, count = schedule(steps, eps)
        left, want = n, []
        for i in range(steps):
            want.append(count(left, i))
            left -= want[-1]
        assert dream_sizes(n, steps, eps) == tuple(want)


# -- exact laws against the brute force ---------------------------------------------------------

CASES = [
    dict(alg="origin"),
    dict(alg="origin", top_p=0.8),
    dict(alg="maskgit_plus"),
    dict(alg="maskgit_plus", top_k=2),
    dict(alg="maskgit_plus", alg_temp=0.5),
    dict(alg="topk_margin"),
    dict(alg="topk_margin", alg_temp=0.3, top_p=0.9),
    dict(alg="entropy"),
    dict(alg="entropy", alg_temp=1.0, top_k=1),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
@pytest.mark.parametrize("t", [0.0, 0.6, 1.0])
@pytest.mark.parametrize("steps, eps", [(2, 1e-3), (3, 0.0)])
def test_law_matches_the_brute_force(case, t, steps, eps):
    p = random_law((2, 3, 2, 2), seed=steps + int(10 * t) + len(str(case)), zeros=0.3)
    sched = dream(steps, temperature=t, eps=eps, ties="split", **case)
    check_against_brute(p, sched, steps=steps, t=t, eps=eps, **case)


@settings(max_examples=25, deadline=None)
@given(
    p=laws(max_n=4),
    case=st.sampled_from(CASES),
    t=st.sampled_from([0.0, 0.5, 1.0]),
    grid=st.sampled_from([(1, 1e-3), (2, 0.0), (3, 1e-3), (3, 0.0)]),
    split=st.booleans(),
)
def test_any_law_matches_the_brute_force(p, case, t, grid, split):
    steps, eps = grid
    ties = "split" if split else "error"
    sched = dream(steps, temperature=t, eps=eps, ties=ties, **case)
    try:
        law = brute_dream(p, steps, t=t, eps=eps, ties=ties, **case)
    except BruteTie:
        with pytest.raises(TieError):
            run_exact(p, sched)
        return
    np.testing.assert_allclose(run_exact(p, sched).law, law, atol=TOL, rtol=0)


@pytest.mark.parametrize("case", CASES[::2], ids=str)
@pytest.mark.parametrize("prompt", [{0: 1}, {1: 2, 3: 0}])
def test_prompts(case, prompt):
    p = random_law((2, 3, 2, 2), seed=5, zeros=0.0)
    sched = dream(3, temperature=0.9, eps=0.0, ties="split", **case)
    check_against_brute(p, sched, prompt=prompt, steps=3, t=0.9, eps=0.0, **case)


@pytest.mark.parametrize(
    "case",
    [
        dict(alg="maskgit_plus"),
        dict(alg="maskgit_plus", alg_temp=0.5),
        dict(alg="topk_margin"),
        dict(alg="topk_margin", alg_temp=0.3),
        dict(alg="entropy", alg_temp=1.0, top_p=0.8),
    ],
    ids=str,
)
@pytest.mark.parametrize("t", [0.0, 1.0])
def test_two_of_four_at_a_time(case, t):
    # eps = 0, two steps: 1 − s/t = 1/2, so k = 2 of the 4 masks (Plackett–Luce over pairs)
    assert dream_sizes(4, 2, eps=0.0) == (2, 2)
    p = random_law((2, 3, 2, 2), seed=31 + int(t), zeros=0.3)
    sched = dream(2, temperature=t, eps=0.0, ties="split", **case)
    check_against_brute(p, sched, steps=2, t=t, eps=0.0, **case)
    if case["alg"] != "maskgit_plus" and t > 0:
        e_fact, e_learn = brute_decomposition(p, 2, t=t, eps=0.0, **case)
        d = as_distribution(p)
        assert abs(sched.factorization_error(d) - e_fact) <= TOL
        got = sched.learning_error(d, None)
        assert got == e_learn if math.isinf(e_learn) else abs(got - e_learn) <= TOL


def test_five_positions():
    p = random_law((2, 2, 3, 2, 2), seed=9, zeros=0.3)
    for case in (dict(alg="maskgit_plus", alg_temp=0.7), dict(alg="entropy")):
        sched = dream(4, temperature=1.0, eps=0.0, ties="split", **case)
        check_against_brute(p, sched, steps=4, t=1.0, eps=0.0, **case)
    sched = dream(2, alg="maskgit_plus", alg_temp=0.4, temperature=0.8, eps=0.0)  # 2, then 3
    check_against_brute(p, sched, steps=2, alg="maskgit_plus", alg_temp=0.4, t=0.8, eps=0.0)


def test_origin_reveals_with_the_float32_ratio():
    # N = 1, two steps: the position is revealed at step 0 with probability 1 − s/t (float32)
    p = np.array([0.3, 0.7])
    law = exactmd.output_distribution(p, dream(2, temperature=1.0))
    np.testing.assert_allclose(law, p, atol=TOL)
    p2 = random_law((2, 2), seed=1, zeros=0.0)
    r = float(np.float32(1) - np.float32(dream_timesteps(2)[1]) / np.float32(1))
    both = r * r + (1 - r) * (1 - r)  # both in the same round: the product of the marginals
    prod = np.outer(p2.sum(1), p2.sum(0))
    np.testing.assert_allclose(
        exactmd.output_distribution(p2, dream(2, temperature=1.0)),
        both * prod + (1 - both) * p2,
        atol=TOL,
    )


def test_temperature_zero_is_the_argmax_path():
    p = random_law((2, 3, 2), seed=4, zeros=0.0)
    for alg in ("origin", "maskgit_plus", "topk_margin", "entropy"):
        law = exactmd.output_distribution(p, dream(3, alg=alg, eps=0.0))
        if alg != "origin":  # origin's reveal steps are random, its values argmaxes
            assert np.isclose(law.max(), 1.0)


# -- ties ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["maskgit_plus", "topk_margin", "entropy"])
def test_ties_refused_or_split(alg):
    p = np.full((2, 2, 2), 1 / 8)  # every position has the same row: every confidence ties
    sched = dream(3, alg=alg, eps=0.0)  # sizes 1, 1, 1
    with pytest.raises(TieError, match="ties='split'"):
        run_exact(p, sched)
    with pytest.raises(BruteTie):
        brute_dream(p, 3, alg=alg, eps=0.0, ties="error")
    check_against_brute(p, dream(3, alg=alg, eps=0.0, ties="split"), steps=3, alg=alg, eps=0.0)
    sym = random_law((2, 2), seed=3, zeros=0.0)
    sym = (sym + sym.T) / 2
    sched = dream(2, alg=alg, temperature=1.0, eps=0.0, ties="split")
    check_against_brute(sym, sched, steps=2, alg=alg, t=1.0, eps=0.0)


def test_top_p_boundary_tie_is_refused_even_with_split():
    p = np.full((2, 2), 1 / 4)  # rows (1/2, 1/2): top_p = 0.4 keeps one of two equal tokens
    for ties in ("error", "split"):
        with pytest.raises(TieError, match="top_p"):
            run_exact(p, dream(2, temperature=1.0, top_p=0.4, ties=ties))
    with pytest.raises(BruteTie):
        brute_dream(p, 2, t=1.0, top_p=0.4)
    law = run_exact(p, dream(2, temperature=1.0, top_p=0.55)).law  # cum 0.5 <= 0.55: both kept
    np.testing.assert_allclose(law, brute_dream(p, 2, t=1.0, top_p=0.55), atol=TOL)
    # cum 0.5 at top_p = 0.5 exactly: the side of the second token is the real code's rounding
    with pytest.raises(TieError, match=r"within rounding of the threshold .*top-p cut"):
        run_exact(p, dream(2, temperature=1.0, top_p=0.5))


@pytest.mark.parametrize("gap", [0.0, 1e-14, -1e-14])
def test_top_p_cumulative_mass_within_rounding_of_top_p_is_refused(gap):
    """A row (0.6, 0.3, 0.1) with top_p = 0.6 (+ a gap within rounding): whether 0.3 is cut
    is decided by rounding, so the law is refused; away from it, the brute force's law."""
    row = np.array([0.6, 0.3, 0.1])
    p = np.outer([0.5, 0.5], row)
    for ties in ("error", "split"):
        with pytest.raises(TieError, match=r"top-p cut of the row"):
            run_exact(p, dream(2, temperature=1.0, top_p=0.6 + gap, ties=ties))
    for top_p in (0.6 - 1e-6, 0.6 + 1e-6):
        law = run_exact(p, dream(2, temperature=1.0, top_p=top_p, ties="split")).law
        np.testing.assert_allclose(law, brute_dream(p, 2, t=1.0, top_p=top_p), atol=TOL)


def test_top_k_keeps_values_within_rounding_of_the_kth():
    """top_k = 1 on a row whose two best values differ by rounding: both kept (as equal ones
    are), so the law is the brute force's on the exactly tied row."""
    tied = np.outer([0.5, 0.5], [0.4, 0.4, 0.2])
    near_tied = np.outer([0.5, 0.5], [0.4 * (1 + 1e-14), 0.4, 0.2 - 0.4e-14])
    want = brute_dream(tied, 2, t=1.0, top_k=1)
    got = run_exact(near_tied, dream(2, temperature=1.0, top_k=1, ties="split")).law
    np.testing.assert_allclose(got, want, atol=1e-10)
    far = np.outer([0.5, 0.5], [0.4 * (1 + 1e-6), 0.4, 0.2 - 0.4e-6])
    got = run_exact(far, dream(2, temperature=1.0, top_k=1, ties="split")).law
    np.testing.assert_allclose(got, brute_dream(far, 2, t=1.0, top_k=1), atol=TOL)


def test_plackett_luce_with_underflowing_weights_is_refused():
    p = random_law((2, 2, 2), seed=2, zeros=0.0)
    sched = dream(3, alg="topk_margin", eps=0.0, alg_temp=1e-6, temperature=1.0)
    with pytest.raises(ScheduleError, match="positive weights"):
        run_exact(p, sched)
    # when every position must be taken (one step, no prompt) the zeros do not matter
    law = run_exact(p, dream(1, alg="topk_margin", alg_temp=1e-6, temperature=1.0)).law
    marg = [p.sum(axis=(1, 2)), p.sum(axis=(0, 2)), p.sum(axis=(0, 1))]
    np.testing.assert_allclose(law, np.einsum("i,j,k->ijk", *marg), atol=TOL)


# -- E_fact and E_learn -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    [
        dict(alg="origin"),
        dict(alg="origin", top_k=1),
        dict(alg="topk_margin"),
        dict(alg="topk_margin", alg_temp=0.5),
        dict(alg="entropy", top_p=0.7),
        dict(alg="entropy", alg_temp=0.2),
    ],
    ids=str,
)
@pytest.mark.parametrize("t", [1.0, 0.7])
def test_decomposition_matches_the_brute_force(case, t):
    p = random_law((2, 3, 2, 2), seed=13, zeros=0.3)
    sched = dream(3, temperature=t, eps=0.0, ties="split", **case)
    d = as_distribution(p)
    e_fact, e_learn = brute_decomposition(p, 3, t=t, eps=0.0, **case)
    assert abs(sched.factorization_error(d) - e_fact) <= TOL
    assert abs(exactmd.factorization_error(p, sched) - e_fact) <= TOL
    got = sched.learning_error(d, None)
    assert got == e_learn if math.isinf(e_learn) else abs(got - e_learn) <= TOL
    assert e_fact > 0


def test_maskgit_plus_refuses_e_fact_and_e_learn():
    p = random_law((2, 2, 2), seed=1)
    sched = dream(3, alg="maskgit_plus", temperature=1.0)
    assert sched.family == "sample-then-select"
    with pytest.raises(ScheduleError, match="sample-then-select"):
        exactmd.factorization_error(p, sched)
    with pytest.raises(ScheduleError, match="sample-then-select"):
        sched.learning_error(as_distribution(p), None)


# -- arguments ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(steps=0), "steps"),
        (dict(steps=1.5), "steps"),
        (dict(steps=2, alg="confidence_threshold"), "alg"),
        (dict(steps=2, temperature=-0.1), "temperature"),
        (dict(steps=2, eps=1.0), "eps"),
        (dict(steps=2, eps=-1e-3), "eps"),
        (dict(steps=2, alg_temp=-1.0), "alg_temp"),
        (dict(steps=2, top_p=0.0), "top_p"),
        (dict(steps=2, top_p=1.5), "top_p"),
        (dict(steps=2, top_k=0), "top_k"),
        (dict(steps=2, ties="random"), "ties"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, name):
    with pytest.raises(ValidationError, match=f"^{name}: "):
        dream(**kwargs)


# -- Monte Carlo runs of the algorithm ----------------------------------------------------------

M = 4000  # samples per Monte Carlo check


@pytest.mark.parametrize(
    "case",
    [
        dict(alg="origin", top_p=0.9),
        dict(alg="maskgit_plus"),
        dict(alg="maskgit_plus", alg_temp=0.5),
        dict(alg="topk_margin", top_k=2),
        dict(alg="entropy", alg_temp=0.3),
    ],
    ids=str,
)
def test_monte_carlo_matches_the_exact_law(case):
    p = random_law((2, 3, 2, 2), seed=17, zeros=0.2)
    sched = dream(2, temperature=0.8, eps=0.0, ties="split", **case)  # sizes 2, 2
    law = exactmd.output_distribution(p, sched)
    assert_samples_match(exactmd.sample(p, sched, M, seed=1), law)


def test_monte_carlo_with_a_prompt():
    p = random_law((2, 2, 3, 2), seed=6, zeros=0.0)
    d = as_distribution(p)
    prompt = {2: 1}
    for case in (dict(alg="origin"), dict(alg="entropy", alg_temp=0.5)):
        sched = dream(3, temperature=1.0, eps=0.0, **case)
        law = exact_run(d, sched, None, prompt).law
        samples = monte_carlo_run(d, sched, None, M, np.random.default_rng(2), prompt)
        assert np.all(samples[:, 2] == 1)
        assert_samples_match(samples, law)


def test_monte_carlo_refuses_a_drawn_tie():
    with pytest.raises(TieError):
        exactmd.sample(np.full((2, 2, 2), 1 / 8), dream(3, alg="entropy", eps=0.0), 10, seed=0)
