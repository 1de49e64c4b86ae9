"""The zoo of named laws and the model strings, each against an explicit brute-force loop."""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exactmd.errors import MemoryPlanError, ModelError
from exactmd.measures.information import complexity, total_correlation
from exactmd.models.graphs import ising, potts
from exactmd.models.spec import available_models, from_spec, markov_spec_parameters, parse_spec
from exactmd.models.zoo import (
    block_copy,
    hmm,
    iid,
    markov_chain,
    markov_chain_parameters,
    mixture,
    parity,
    random_joint,
    random_xorsat,
)


def configs(shape):
    return itertools.product(*(range(q) for q in shape))


def _stochastic(rng, rows, cols, zeros=0.3):
    m = rng.dirichlet(np.ones(cols), size=rows)
    m[rng.random(m.shape) < zeros] = 0.0
    m[np.arange(rows), rng.integers(cols, size=rows)] += 0.1  # every row keeps some mass
    return m / m.sum(axis=1, keepdims=True)


@pytest.mark.parametrize(("q", "n"), [(2, 1), (2, 4), (3, 3)])
def test_markov_chain_brute_force(q, n):
    rng = np.random.default_rng(q * 10 + n)
    init, t = _stochastic(rng, 1, q)[0], _stochastic(rng, q, q)
    d = markov_chain(init, t, n)
    ref = np.zeros((q,) * n)
    for x in configs((q,) * n):
        ref[x] = init[x[0]] * math.prod(t[a, b] for a, b in itertools.pairwise(x))
    np.testing.assert_allclose(d.numpy(), ref, rtol=1e-12, atol=1e-16)
    got_init, got_t = markov_chain_parameters(d)
    np.testing.assert_array_equal(got_init, init)
    np.testing.assert_array_equal(got_t, t)


@settings(deadline=None, max_examples=15)
@given(st.integers(2, 3), st.integers(1, 4), st.integers(0, 10**6))
def test_markov_chain_marginals_follow_the_transition(q, n, seed):
    rng = np.random.default_rng(seed)
    init, t = _stochastic(rng, 1, q)[0], _stochastic(rng, q, q)
    p = markov_chain(init, t, n).numpy()
    for k in range(n):
        marg = p.sum(axis=tuple(a for a in range(n) if a != k))
        np.testing.assert_allclose(marg, init @ np.linalg.matrix_power(t, k), atol=1e-12)


@pytest.mark.parametrize(("qh", "qo", "n"), [(2, 2, 3), (3, 2, 3), (2, 3, 2)])
def test_hmm_brute_force(qh, qo, n, backend):
    rng = np.random.default_rng(qh + 5 * qo + 7 * n)
    init, t, e = _stochastic(rng, 1, qh)[0], _stochastic(rng, qh, qh), _stochastic(rng, qh, qo)
    d = hmm(init, t, e, n, backend=backend)
    assert d.backend.name == backend
    ref = np.zeros((qo,) * n)
    for y in configs((qo,) * n):
        for h in configs((qh,) * n):
            w = init[h[0]] * e[h[0], y[0]]
            for s in range(1, n):
                w *= t[h[s - 1], h[s]] * e[h[s], y[s]]
            ref[y] += w
    np.testing.assert_allclose(d.numpy(), ref, rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize(
    ("blocks", "q"), [([2, 2], 2), ([3, 1], 3), ([[0, 2], [1]], 2), ([[3, 0], [1, 2]], 3)]
)
def test_block_copy_brute_force(blocks, q):
    d = block_copy(blocks, q)
    parts = (
        blocks
        if isinstance(blocks[0], list)
        else [list(range(sum(blocks[:k]), sum(blocks[: k + 1]))) for k in range(len(blocks))]
    )
    n = sum(len(b) for b in parts)
    ref = np.zeros((q,) * n)
    for x in configs((q,) * n):
        if all(len({x[i] for i in b}) == 1 for b in parts):
            ref[x] = q ** (-len(parts))
    np.testing.assert_allclose(d.numpy(), ref, atol=1e-16)
    if all(len(b) >= 2 for b in parts):
        assert complexity(d) == pytest.approx(math.log(q), abs=1e-12)  # D = log q (docs/design.md)


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_parity_brute_force(n):
    d = parity(n)
    ref = np.zeros((2,) * n)
    for x in configs((2,) * n):
        ref[x] = 2.0 ** (1 - n) if sum(x) % 2 == 0 else 0.0
    np.testing.assert_array_equal(d.numpy(), ref)
    if n == 3:
        assert total_correlation(d) == pytest.approx(math.log(2), abs=1e-12)
        assert complexity(d) == pytest.approx(math.log(2), abs=1e-12)


@pytest.mark.parametrize(("n", "m", "k", "seed"), [(5, 3, 3, 0), (6, 4, 2, 1), (4, 0, 2, 2)])
def test_random_xorsat_brute_force(n, m, k, seed):
    d = random_xorsat(n, m, k, seed)
    assert d.model is not None and d.model.name == "random_xorsat"
    info = d.model.params
    clauses, rhs = info["clauses"], info["rhs"]
    assert len(clauses) == m and all(len(set(c)) == k for c in clauses)
    sat = np.zeros((2,) * n)
    for x in configs((2,) * n):
        sat[x] = all(sum(x[i] for i in c) % 2 == b for c, b in zip(clauses, rhs))
    assert sat[tuple(info["planted"])] == 1  # the planted solution satisfies everything
    np.testing.assert_allclose(d.numpy(), sat / sat.sum(), atol=1e-16)
    np.testing.assert_array_equal(random_xorsat(n, m, k, seed).numpy(), d.numpy())


def test_iid_and_mixture_brute_force():
    mu = np.array([0.2, 0.0, 0.8])
    d = iid(mu, 3)
    ref = np.zeros((3, 3, 3))
    for x in configs((3, 3, 3)):
        ref[x] = mu[x[0]] * mu[x[1]] * mu[x[2]]
    np.testing.assert_allclose(d.numpy(), ref, atol=1e-16)
    assert total_correlation(d) == pytest.approx(0.0, abs=1e-12)
    other = parity(2)
    named = markov_chain([0.5, 0.5], [[0.9, 0.1], [0.1, 0.9]], 2)
    mix = mixture([other, named, np.full((2, 2), 0.25)], [0.5, 0.25, 0.25])
    expected = np.zeros((2, 2))
    for x in configs((2, 2)):
        expected[x] = 0.5 * other.numpy()[x] + 0.25 * named.numpy()[x] + 0.25 * 0.25
    np.testing.assert_allclose(mix.numpy(), expected, atol=1e-16)


def test_random_joint_zeros_seed_and_alpha():
    d = random_joint((2, 3, 2), alpha=0.7, seed=3, zeros=0.25)
    p = d.numpy()
    assert p.shape == (2, 3, 2) and int((p == 0).sum()) == 3
    assert abs(p.sum() - 1) < 1e-12
    np.testing.assert_array_equal(random_joint((2, 3, 2), 0.7, 3, 0.25).numpy(), p)
    assert not np.array_equal(random_joint((2, 3, 2), 0.7, 4, 0.25).numpy(), p)
    assert int((random_joint((3,), zeros=0.99).numpy() > 0).sum()) == 1  # one cell kept


@pytest.mark.parametrize("seed", [0, 1])
def test_ising_brute_force(seed, backend):
    rng = np.random.default_rng(seed)
    g = nx.gnp_random_graph(5, 0.6, seed=seed)
    g.add_edge(0, 0)  # a self-loop only adds a constant
    coupling = {e: float(rng.normal()) for e in g.edges}
    field = {v: float(rng.normal()) for v in g.nodes}
    d = ising(g, coupling, field, backend=backend)
    nodes = list(g.nodes)
    assert d.names == tuple(str(v) for v in nodes)
    ref = np.zeros((2,) * 5)
    for x in configs((2,) * 5):
        s = {v: 2 * x[i] - 1 for i, v in enumerate(nodes)}
        energy = sum(coupling[(u, v)] * s[u] * s[v] for u, v in g.edges)
        energy += sum(field[v] * s[v] for v in nodes)
        ref[x] = math.exp(energy)
    np.testing.assert_allclose(d.numpy(), ref / ref.sum(), rtol=1e-12)


def test_potts_brute_force_and_ising_identity():
    g = nx.cycle_graph(4)
    coupling = {(0, 1): 0.3, (2, 1): -0.5, (2, 3): 1.2, (3, 0): 0.0}  # either orientation
    d = potts(g, 3, coupling)
    ref = np.zeros((3,) * 4)
    for x in configs((3,) * 4):
        w = sum(coupling.get((u, v), coupling.get((v, u))) * (x[u] == x[v]) for u, v in g.edges)
        ref[x] = math.exp(w)
    np.testing.assert_allclose(d.numpy(), ref / ref.sum(), rtol=1e-12)
    np.testing.assert_allclose(potts(g, 2, 0.8).numpy(), ising(g, 0.4).numpy(), rtol=1e-12)
    strong = ising(nx.path_graph(3), coupling=500.0)  # no overflow: two ground states
    np.testing.assert_allclose(strong.numpy()[0, 0, 0], 0.5)


# -- errors -------------------------------------------------------------------------------


def test_bad_parameters_raise_model_errors():
    cases = [
        (lambda: markov_chain([0.5, 0.6], [[1, 0], [0, 1]], 2), "init: entries must sum to 1"),
        (lambda: markov_chain([0.5, 0.5], [[1, 0, 0], [0, 1, 0]], 2), "transition"),
        (lambda: markov_chain([0.5, 0.5], [[0.9, 0.2], [0, 1]], 2), "row 0 sums to 1.1"),
        (lambda: markov_chain([0.5, 0.5], [[1, 0], [0, 1]], 0), "n: must be an integer >= 1"),
        (lambda: hmm([1.0], [[1.0]], [[0.5, 0.4]], 2), "emission"),
        (lambda: block_copy([[0, 1], [1, 2]]), "partition"),
        (lambda: block_copy(3), "blocks"),
        (lambda: block_copy([2, 0]), "blocks: must be an integer >= 1"),
        (lambda: random_xorsat(3, 1, 4), "k: a clause needs k <= n"),
        (lambda: iid([0.5, float("nan")], 2), "marginal: entries must be finite"),
        (lambda: random_joint((2, 0)), "shape"),
        (lambda: random_joint((2,), zeros=1.0), "zeros"),
        (lambda: random_joint((2,), alpha=0), "alpha"),
        (lambda: mixture([[0.5, 0.5], [1.0, 0.0, 0.0]], [0.5, 0.5]), r"laws\[1\]"),
        (lambda: mixture([[0.5, 0.5]], [0.5, 0.5]), "weights"),
        (lambda: mixture([[0.5, 0.7]], [1.0]), r"laws\[0\]: not a valid law"),
        (lambda: ising(nx.path_graph(3), {(0, 1): 1.0}), r"no value for the edge \(1, 2\)"),
        (
            lambda: ising(nx.path_graph(2), float("inf")),
            "coupling: must be a finite real number; received inf",
        ),
        (lambda: ising(nx.Graph()), "at least one node"),
        (lambda: potts(nx.path_graph(2), 0), "q"),
        (lambda: markov_chain_parameters(parity(2)), "markov_chain"),
    ]
    for build, match in cases:
        with pytest.raises(ModelError, match=match):
            build()


def test_too_large_laws_are_refused_before_allocating():
    for build in (
        lambda: parity(64),
        lambda: markov_chain([0.5, 0.5], [[0.9, 0.1], [0.1, 0.9]], 1024),
        lambda: ising(nx.cycle_graph(60)),
        lambda: random_joint((10,) * 20),
    ):
        with pytest.raises(ModelError, match="too large to enumerate") as info:
            build()
        assert isinstance(info.value, MemoryPlanError)


# -- model strings ------------------------------------------------------------------------


def test_spec_builds_the_same_laws_as_the_functions():
    pairs = [
        ("parity:n=4", parity(4)),
        ("xor:n=3", parity(3)),
        ("ising:n=5,coupling=0.4,graph=cycle", ising(nx.cycle_graph(5), 0.4)),
        ("ising:graph=grid2x3,coupling=-0.2,field=0.1", None),
        ("potts:n=3,q=3,coupling=0.7,graph=complete", potts(nx.complete_graph(3), 3, 0.7)),
        ("block_copy:blocks=3x2,q=2", block_copy([2, 2, 2], 2)),
        ("block_copy:blocks=2+1,q=3", block_copy([2, 1], 3)),
        ("xorsat:n=5,m=2,k=3,seed=4", random_xorsat(5, 2, 3, 4)),
        ("iid:n=3,marginal=0.2/0.8", iid([0.2, 0.8], 3)),
        ("iid:n=2,q=3", iid(np.full(3, 1 / 3), 2)),
        ("random:shape=2x3,alpha=0.5,seed=2,zeros=0.3", random_joint((2, 3), 0.5, 2, 0.3)),
        ("random_joint:n=3,q=2", random_joint((2, 2, 2))),
    ]
    grid = nx.convert_node_labels_to_integers(nx.grid_2d_graph(2, 3))
    for text, expected in pairs:
        if expected is None:
            expected = ising(grid, -0.2, 0.1)
        np.testing.assert_allclose(from_spec(text).numpy(), expected.numpy(), atol=1e-15)
    t = np.array([[0.8, 0.2], [0.2, 0.8]])
    chain = from_spec("markov:n=4,stay=0.8")
    np.testing.assert_allclose(chain.numpy(), markov_chain([0.5, 0.5], t, 4).numpy())
    np.testing.assert_allclose(markov_chain_parameters(chain)[1], t)
    noisy = from_spec("hmm:n=3,q=3,stay=0.7,noise=0.2")
    t3 = np.full((3, 3), 0.15) + np.eye(3) * 0.55
    e3 = np.full((3, 3), 0.1) + np.eye(3) * 0.7
    np.testing.assert_allclose(noisy.numpy(), hmm(np.full(3, 1 / 3), t3, e3, 3).numpy())
    assert from_spec("example:survey").names == ("A", "S", "E", "O", "R", "T")


def test_spec_paths_and_helpers(tmp_path):
    p = random_joint((2, 2), seed=9).numpy()
    np.save(tmp_path / "law.npy", p)
    np.testing.assert_array_equal(from_spec(str(tmp_path / "law.npy")).numpy(), p)
    init, t, n = markov_spec_parameters("markov_chain:n=1024,q=3,stay=0.5")
    assert n == 1024 and init.tolist() == [1 / 3] * 3
    np.testing.assert_allclose(t, [[0.5, 0.25, 0.25], [0.25, 0.5, 0.25], [0.25, 0.25, 0.5]])
    assert parse_spec("potts:n=4") == ("potts", {"n": 4, "q": 3, "coupling": 0.5, "graph": "path"})
    assert set(available_models()) >= {"parity", "ising", "potts", "markov", "block_copy"}


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("nope:n=3", "unknown model 'nope'"),
        ("parity:n=3,q=2", "parity takes the parameters n"),
        ("parity", "parity needs n"),
        ("ising:n=4,graph=hexagon", "graph: must be one of"),
        ("ising:n=5,graph=grid2x2", "the graph grid2x2 has 4 nodes"),
        ("block_copy:blocks=2-2", "blocks: must be written"),
        ("example:alarm", "unknown example"),
        ("iid:n=2,marginal=0.5/x", "marginal: must be numbers separated by '/'"),
        ("markov:n=3,stay=1.5", "stay"),
        ("", "non-empty"),
        ("missing.bif", "does not exist"),
        ("ising:n=4,n=5", "the parameter n is given twice"),
        ("ising:n=4,J=1", r"n, coupling \(default 0\.5\), field \(default 0\.0\), graph"),
        ("ising", "needs the number of nodes"),
        ("iid:n=3,q=0", "q: must be an integer >= 1"),
        ("iid:n=3,q=2.5", "q: must be an integer >= 1"),
        ("hmm:n=3,noise=1.5", r"noise: must be a finite real number in \[0, 1\]; received '1.5'"),
    ],
)
def test_spec_errors(text, match):
    with pytest.raises(ModelError, match=match):
        from_spec(text)


def test_spec_keys_are_case_insensitive_and_grids_work():
    np.testing.assert_array_equal(
        from_spec("Ising:N=4,Coupling=0.3").numpy(), ising(nx.path_graph(4), 0.3).numpy()
    )
    grid = nx.convert_node_labels_to_integers(nx.grid_2d_graph(2, 3))
    d = from_spec("potts:graph=grid2x3,q=3,coupling=0.5")
    np.testing.assert_allclose(d.numpy(), potts(grid, 3, 0.5).numpy(), atol=1e-16)
    # brute force on the grid: weight exp(0.5 * #equal neighbours)
    w = np.zeros((3,) * 6)
    for x in configs((3,) * 6):
        w[x] = np.exp(0.5 * sum(x[u] == x[v] for u, v in grid.edges))
    np.testing.assert_allclose(d.numpy(), w / w.sum(), rtol=1e-12)


def test_hmm_size_error_counts_the_observations_and_the_intermediate_table(monkeypatch):
    # the law is over the n observations; the hidden chain is summed out, but the forward
    # pass holds a table over (Y_0..Y_{n-1}, H_{n-1}): the message must say both (it used to
    # speak of "the joint of n + 1 variables")
    init, trans = [0.5, 0.3, 0.2], np.full((3, 3), 1 / 3)
    emission = [[0.9, 0.1], [0.5, 0.5], [0.2, 0.8]]
    with pytest.raises(ModelError, match="too large to enumerate") as info:
        hmm(init, trans, emission, 40)
    message = str(info.value)
    assert isinstance(info.value, MemoryPlanError)
    assert message.startswith(f"n: the joint of 40 variables has {2.0**40:.4g} cells")
    assert "the n = 40 observations" in message
    assert f"(Y_0..Y_{{n-1}}, H_{{n-1}}) of {3 * 2.0**40:.4g} cells" in message
    assert "41 variables" not in message
    # the planned bytes: two tables of qo^n * qh float64 entries (the forward pass)
    from exactmd.backends._numpy import NumpyBackend

    n = 10
    monkeypatch.setattr(NumpyBackend, "usable_memory", lambda self: 2 * 3 * 2**n * 8)
    assert hmm(init, trans, emission, n).shape == (2,) * n
    with pytest.raises(ModelError, match="the joint of 11 variables"):
        hmm(init, trans, emission, n + 1)


# -- numbers in spec strings, the one scalar rule, seeds, extreme parameters ----------------


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("ising:n=4,coupling=abc", r"coupling: must be a finite real number; received 'abc'"),
        ("ising:n=4.5", r"n: must be an integer >= 1; received '4.5'"),
        ("ising:n=true", r"n: must be an integer >= 1; received 'true'"),
        ("ising:n=0", r"n: must be an integer >= 1; received '0'"),
        ("ising:n=4,coupling=1e400", r"coupling: must be a finite real number; received '1e400'"),
        ("ising:n=4,field=nan", r"field: must be a finite real number; received 'nan'"),
        ("potts:n=3,q=x", r"q: must be an integer >= 1; received 'x'"),
        ("xorsat:n=4,m=2,seed=-1", r"seed: must be an integer >= 0; received '-1'"),
        ("xorsat:n=4,m=2,seed=1.5", r"seed: must be an integer >= 0; received '1.5'"),
        ("xorsat:n=4,m=-1", r"m: must be an integer >= 0; received '-1'"),
        ("random:n=3,alpha=0", r"alpha: must be a finite real number > 0; received '0'"),
        ("random:n=3,zeros=1", r"zeros: must be a finite real number in \[0, 1\); received '1'"),
        ("markov:n=3,stay=inf", r"stay: must be a finite real number in \[0, 1\]; received 'inf'"),
    ],
)
def test_spec_numbers_name_the_key_the_rule_and_the_value(text, match):
    with pytest.raises(ModelError, match=match) as info:
        from_spec(text)
    assert text in str(info.value)


@pytest.mark.parametrize(
    "build",
    [
        lambda s: random_joint((2, 2), seed=s),
        lambda s: random_xorsat(4, 2, 2, seed=s),
    ],
)
@pytest.mark.parametrize("seed", ["abc", 1.5, -1, True, [1, 2]])
def test_bad_seeds_are_validation_errors_naming_seed(build, seed):
    from exactmd.errors import ValidationError

    with pytest.raises(ValidationError, match=r"^seed: must be None, an integer >= 0"):
        build(seed)


def test_numpy_scalars_follow_the_one_scalar_rule():
    path = nx.path_graph(3)
    np.testing.assert_allclose(
        ising(path, np.float32(0.5), np.int64(0)).numpy(), ising(path, 0.5, 0).numpy()
    )
    np.testing.assert_allclose(
        random_joint(
            (2, 2), alpha=np.float64(0.5), seed=np.int64(3), zeros=np.float32(0.25)
        ).numpy(),
        random_joint((2, 2), alpha=0.5, seed=3, zeros=0.25).numpy(),
    )
    assert random_xorsat(np.int64(4), np.int64(2), np.int64(2), seed=np.int64(1)).n == 4
    for bad in (True, "0.5", 1 + 0j, np.bool_(False), float("nan"), float("-inf")):
        with pytest.raises(ModelError, match="coupling: must be a finite real number"):
            ising(path, bad)
        with pytest.raises(ModelError, match="alpha: must be a finite real number > 0"):
            random_joint((2,), alpha=bad)
    with pytest.raises(ModelError, match=r"field\[1\]: must be a finite real number"):
        ising(path, 0.5, {0: 0.0, 1: "x", 2: 0.0})


def test_huge_couplings_give_the_limit_law():
    # J = 1e308 on a path: the two aligned configurations, each 1/2 (used to be NaN)
    p = from_spec("ising:n=4,coupling=1e308").numpy()
    want = np.zeros((2,) * 4)
    want[(0,) * 4] = want[(1,) * 4] = 0.5
    np.testing.assert_array_equal(p, want)
    # an antiferromagnet with a huge field: the ground states of -J Σ s s + h Σ s, uniform
    j, h = -1e308, 1e308
    g = nx.path_graph(4)
    p = ising(g, j, h).numpy()
    energy = {
        x: sum(-(2 * x[u] - 1) * (2 * x[v] - 1) for u, v in g.edges) + sum(2 * np.array(x) - 1)
        for x in configs((2,) * 4)
    }
    best = max(energy.values())
    for x, e in energy.items():
        assert p[x] == (0.25 if e == best else 0.0)
    assert potts(nx.complete_graph(3), 3, 1e308).numpy()[0, 0, 0] == pytest.approx(1 / 3)
    np.testing.assert_allclose(random_joint((3, 3), alpha=1e308, seed=1).numpy(), 1 / 9, rtol=1e-12)


_EXTREME = st.one_of(
    st.floats(-1e308, 1e308, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, 1e308, -1e308, 1e300, -1e-300, 5e-324, 700.0, -745.0, 1e17]),
)


@settings(deadline=None, max_examples=60)
@given(
    st.sampled_from(
        ["ising", "potts", "ising_map", "markov", "hmm", "xorsat", "random", "mixture"]
    ),
    st.integers(1, 5),
    _EXTREME,
    _EXTREME,
    st.integers(0, 2**32 - 1),
)
def test_extreme_parameters_give_a_law_or_a_model_error(kind, n, a, b, seed):
    """Whatever finite parameters a zoo model gets, its table is finite, >= 0 and sums to 1
    within 1e-12, or a ModelError is raised: never NaN."""
    rng = np.random.default_rng(seed)
    g = nx.cycle_graph(n) if n > 2 else nx.path_graph(n)
    prob = float(np.clip(abs(a) / (1.0 + abs(a)), 0.0, 1.0)) if np.isfinite(a) else 0.5
    builders = {
        "ising": lambda: ising(g, a, b),
        "ising_map": lambda: ising(
            g, {e: (a if k % 2 else b) for k, e in enumerate(g.edges)}, {v: b for v in g}
        ),
        "potts": lambda: potts(g, 3, a),
        "markov": lambda: markov_chain([prob, 1 - prob], [[prob, 1 - prob], [1 - prob, prob]], n),
        "hmm": lambda: hmm([0.5, 0.5], [[prob, 1 - prob], [0.5, 0.5]], [[1 - prob, prob]] * 2, n),
        "xorsat": lambda: random_xorsat(n, n, 1, seed=seed),
        "random": lambda: random_joint((2,) * n, alpha=abs(a) or 1.0, seed=seed, zeros=prob / 2),
        "mixture": lambda: mixture([rng.dirichlet(np.ones(4)), np.eye(4)[0]], [prob, 1 - prob]),
    }
    try:
        p = builders[kind]().numpy()
    except ModelError:
        return
    assert np.all(np.isfinite(p)) and np.all(p >= 0)
    assert abs(float(p.sum()) - 1.0) <= 1e-12


# -- issue 13: bad inputs are ModelErrors naming the argument, huge sizes refused at once ----

_HUGE = 10**20
_CHAIN = ([0.5, 0.5], [[0.9, 0.1], [0.2, 0.8]])


@pytest.mark.parametrize(
    "build, name",
    [
        (lambda: markov_chain(*_CHAIN, _HUGE), "n"),
        (lambda: hmm(*_CHAIN, [[0.7, 0.3], [0.1, 0.9]], _HUGE), "n"),  # used to hang (qo**n)
        (lambda: iid([0.25, 0.75], _HUGE), "n"),
        (lambda: iid([1.0], _HUGE), "n"),  # one cell, but 10^20 axes
        (lambda: iid([1.0], 65), "n"),  # numpy holds at most 64 axes
        (lambda: parity(_HUGE), "n"),
        (lambda: random_xorsat(_HUGE, 2), "n"),
        (lambda: random_xorsat(4, _HUGE), "m"),  # used to loop over 10^20 clauses
        (lambda: block_copy([2, 1], q=_HUGE), "blocks, q"),  # used to name blocks only
        (lambda: block_copy([_HUGE]), "blocks, q"),  # planned before range(10^20) is formed
        (lambda: potts(nx.path_graph(3), q=_HUGE), "graph, q"),  # np.eye(q) came first
        (lambda: potts(nx.path_graph(1), q=_HUGE), "graph, q"),
    ],
)
def test_huge_sizes_are_refused_quickly_by_the_memory_plan(build, name):
    # before: OverflowError from (q,) * n, a hang in hmm and random_xorsat, a bare ValueError
    # from np.eye in potts
    with pytest.raises(ModelError) as info:
        build()
    assert isinstance(info.value, MemoryPlanError)
    assert str(info.value).startswith(f"{name}: "), str(info.value)


@pytest.mark.parametrize(
    "blocks",
    ["x", "22", {"a": 1}, np.array([np.nan]), [[0, 1], "x"], [[0, 1], [2.0]], [2, [0]], 1.5, None],
)
def test_block_copy_refuses_blocks_that_are_neither_sizes_nor_a_partition(blocks):
    # before: int("x") (a bare ValueError), iterating a float (TypeError)
    with pytest.raises(ModelError, match=r"^blocks: must be block sizes") as info:
        block_copy(blocks)
    assert "received" in str(info.value)


def test_block_copy_still_accepts_sizes_and_partitions():
    assert block_copy(np.array([2, 1])).model.params["blocks"] == [[0, 1], [2]]
    assert block_copy([[0, 2], (1,)]).model.params["blocks"] == [[0, 2], [1]]
    assert block_copy([np.array([1, 0])], q=3).shape == (3, 3)


@pytest.mark.parametrize("laws", [None, True, -1, 1.5, math.nan, object(), 1 + 2j, "x", {"a": 1}])
def test_mixture_refuses_laws_that_are_not_a_sequence_of_laws(laws):
    # before: TypeError "'NoneType' object is not iterable"
    with pytest.raises(ModelError, match=r"^laws: must be a sequence of laws"):
        mixture(laws, [1.0])


def test_random_xorsat_refuses_clauses_that_do_not_fit() -> None:
    """The one memory check, with the builder's error class, before drawing any clause."""
    from exactmd.errors import ModelSizeError
    from exactmd.models import random_xorsat

    with pytest.raises(
        ModelSizeError,
        match=r"m: the 1e\+12 clauses of k = 3 variables need about .* may be used.*too many",
    ):
        random_xorsat(20, 10**12, 3, seed=0)
