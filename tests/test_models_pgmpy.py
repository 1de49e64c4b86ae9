"""from_pgmpy against brute-force products and against pgmpy's own inference."""

from __future__ import annotations

import itertools
import time
import warnings

import networkx as nx
import numpy as np
import pytest
from pgmpy.factors.discrete import DiscreteFactor, TabularCPD
from pgmpy.models import DiscreteBayesianNetwork, DiscreteMarkovNetwork, FactorGraph

from exactmd.backends import get_backend
from exactmd.errors import MemoryPlanError, ModelError
from exactmd.models.pgmpy_models import contract_factors, from_pgmpy

with warnings.catch_warnings():  # pgmpy.inference imports a deprecated estimators module
    warnings.simplefilter("ignore", FutureWarning)
    from pgmpy.inference import BeliefPropagation, VariableElimination


def _random_cpd(rng, var, q, parents, cards, zeros=0.3):
    cols = int(np.prod([cards[p] for p in parents], dtype=int))
    v = rng.dirichlet(np.ones(q), size=cols).T  # (q, cols)
    mask = rng.random(v.shape) < zeros
    mask[rng.integers(q, size=cols), np.arange(cols)] = False  # keep one cell per column
    v = np.where(mask, 0.0, v)
    v /= v.sum(axis=0)
    states = {x: [f"{x}_s{k}" for k in range(cards[x])] for x in [var, *parents]}
    return TabularCPD(
        var, q, v, list(parents) or None, [cards[p] for p in parents] or None, state_names=states
    )


def random_bn(seed, n=5, max_parents=2):
    """A random DAG on n nodes with mixed cardinalities and CPDs with exact zeros."""
    rng = np.random.default_rng(seed)
    names = [f"V{i}" for i in range(n)]
    cards = {v: int(rng.integers(2, 4)) for v in names}
    bn = DiscreteBayesianNetwork()
    bn.add_nodes_from(names[::-1])  # insertion order differs from the topological order
    parents = {}
    for i, v in enumerate(names):
        k = int(rng.integers(0, min(i, max_parents) + 1))
        parents[v] = [names[j] for j in sorted(rng.choice(i, size=k, replace=False))] if k else []
        bn.add_edges_from((p, v) for p in parents[v])
    bn.add_cpds(*(_random_cpd(rng, v, cards[v], parents[v], cards) for v in names))
    return bn


def brute_bn(bn):
    """The joint by an explicit loop over every configuration, axes in bn.nodes() order."""
    nodes = list(bn.nodes())
    cards = [bn.get_cardinality(v) for v in nodes]
    p = np.zeros(cards)
    for x in itertools.product(*(range(c) for c in cards)):
        val = dict(zip(nodes, x))
        prob = 1.0
        for v in nodes:
            cpd = bn.get_cpds(v)
            prob *= cpd.values[tuple(val[u] for u in cpd.variables)]
        p[x] = prob
    return p


def random_mn(seed, n=5, zeros=0.3):
    rng = np.random.default_rng(seed)
    names = [f"M{i}" for i in range(n)]
    cards = {v: int(rng.integers(2, 4)) for v in names}
    edges = [(names[i], names[i + 1]) for i in range(n - 1)] + [(names[0], names[-1])]
    edges += [(names[0], names[2])]
    mn = DiscreteMarkovNetwork(edges)
    factors = []
    for u, v in edges:
        vals = rng.gamma(1.0, size=cards[u] * cards[v])
        vals[rng.random(vals.size) < zeros] = 0.0
        vals[0] = max(vals[0], 0.1)
        factors.append(DiscreteFactor([u, v], [cards[u], cards[v]], vals))
    factors.append(
        DiscreteFactor([names[1]], [cards[names[1]]], rng.gamma(1.0, size=cards[names[1]]))
    )
    mn.add_factors(*factors)
    return mn


def brute_factors(nodes, cards, factors):
    p = np.zeros([cards[v] for v in nodes])
    for x in itertools.product(*(range(cards[v]) for v in nodes)):
        val = dict(zip(nodes, x))
        p[x] = np.prod([f.values[tuple(val[u] for u in f.variables)] for f in factors])
    return p / p.sum()


def _conditional(p, nodes, target, evidence):
    """P(target | evidence) from a numpy joint, by slicing and summing."""
    idx = tuple(evidence.get(v, slice(None)) for v in nodes)
    sub = p[idx]
    rest = [v for v in nodes if v not in evidence]
    keep = rest.index(target)
    m = sub.sum(axis=tuple(a for a in range(sub.ndim) if a != keep))
    return m / m.sum()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bn_joint_matches_brute_force(seed, backend):
    bn = random_bn(seed)
    d = from_pgmpy(bn, backend=backend)
    assert d.backend.name == backend
    assert d.names == tuple(bn.nodes())
    np.testing.assert_allclose(d.numpy(), brute_bn(bn), rtol=1e-12, atol=1e-15)
    for v, states in zip(d.names, d.state_names):
        assert list(states) == bn.get_cpds(v).state_names[v]


@pytest.mark.parametrize("seed", [3, 4])
def test_bn_marginals_and_conditionals_match_variable_elimination(seed):
    bn = random_bn(seed, n=6)
    d = from_pgmpy(bn)
    p, nodes = d.numpy(), list(d.names)
    ve = VariableElimination(bn)
    rng = np.random.default_rng(seed)
    for target in nodes:
        f = ve.query([target], show_progress=False)
        np.testing.assert_allclose(_conditional(p, nodes, target, {}), f.values, atol=1e-12)
        others = [v for v in nodes if v != target]
        ev_vars = list(rng.choice(others, size=2, replace=False))
        support = np.argwhere(p > 0)[int(rng.integers(int((p > 0).sum())))]
        evidence = {v: int(support[nodes.index(v)]) for v in ev_vars}
        named = {v: d.state_names[nodes.index(v)][s] for v, s in evidence.items()}
        f = ve.query([target], evidence=named, show_progress=False)
        ours = _conditional(p, nodes, target, evidence)
        np.testing.assert_allclose(ours, f.values, atol=1e-12)


def test_markov_network_is_normalised_and_matches_brute_force_and_bp(backend):
    mn = random_mn(5)
    d = from_pgmpy(mn, backend=backend)
    nodes = list(mn.nodes())
    cards = mn.get_cardinality()
    ref = brute_factors(nodes, cards, mn.get_factors())
    np.testing.assert_allclose(d.numpy(), ref, rtol=1e-12, atol=1e-15)
    assert abs(float(d.numpy().sum()) - 1.0) < 1e-12
    # pgmpy's belief propagation divides messages and fails on zeros: compare without zeros
    mn = random_mn(9, zeros=0.0)
    p = from_pgmpy(mn, backend=backend).numpy()
    bp = BeliefPropagation(mn)
    for v in nodes:
        f = bp.query([v], show_progress=False)
        pg = np.asarray(f.values, dtype=float)
        pg = pg / pg.sum()  # pgmpy's Markov-network results may be unnormalised
        np.testing.assert_allclose(_conditional(p, nodes, v, {}), pg, atol=1e-12)


def test_factor_graph_equals_markov_network():
    mn = random_mn(6)
    fg = FactorGraph()
    fg.add_nodes_from(list(mn.nodes()))
    for f in mn.get_factors():
        fg.add_factors(f)
        fg.add_edges_from((v, f) for v in f.variables)
    d_fg = from_pgmpy(fg)
    d_mn = from_pgmpy(mn)
    assert d_fg.names == d_mn.names
    np.testing.assert_allclose(d_fg.numpy(), d_mn.numpy(), rtol=1e-12, atol=1e-15)


def test_order_permutes_axes_and_names():
    bn = random_bn(7)
    nodes = list(bn.nodes())
    order = nodes[::-1]
    d = from_pgmpy(bn, order=order)
    assert d.names == tuple(order)
    base = from_pgmpy(bn).numpy()
    np.testing.assert_allclose(d.numpy(), base.transpose(list(range(len(nodes)))[::-1]))
    with pytest.raises(ModelError, match="order"):
        from_pgmpy(bn, order=nodes[:-1])
    with pytest.raises(ModelError, match="not a variable"):
        from_pgmpy(bn, order=[*nodes[:-1], "nope"])


def _einsum_product(bn, nodes):
    """Independent reference: numpy.einsum over all CPDs (the implementation does not use it)."""
    ops = []
    for v in nodes:
        cpd = bn.get_cpds(v)
        ops += [cpd.values, [nodes.index(u) for u in cpd.variables]]
    return np.einsum(*ops, list(range(len(nodes))), optimize="greedy")


def test_twenty_variable_network_builds_in_seconds(backend):
    rng = np.random.default_rng(11)
    n = 20
    names = [f"W{i}" for i in range(n)]
    bn = DiscreteBayesianNetwork()
    bn.add_nodes_from(names)
    cards = dict.fromkeys(names, 2)
    cpds = []
    for i, v in enumerate(names):
        ps = [names[j] for j in sorted(rng.choice(i, size=min(i, 3), replace=False))] if i else []
        bn.add_edges_from((p, v) for p in ps)
        cpds.append(_random_cpd(rng, v, 2, ps, cards, zeros=0.1))
    bn.add_cpds(*cpds)
    start = time.perf_counter()
    d = from_pgmpy(bn, backend=backend)
    elapsed = time.perf_counter() - start
    assert elapsed < 30.0  # about 0.1-0.3 s measured on 2 cores; generous for a loaded machine
    np.testing.assert_allclose(d.numpy(), _einsum_product(bn, names), rtol=1e-10, atol=1e-18)
    f = VariableElimination(bn).query(["W19"], show_progress=False)
    np.testing.assert_allclose(d.numpy().sum(axis=tuple(range(19))), f.values, atol=1e-12)


def test_contract_factors_covers_untouched_axes_and_any_axis_order(backend):
    be = get_backend(name=backend)
    out = contract_factors([(np.array([0.2, 0.8]), [1])], (3, 2), be)
    np.testing.assert_allclose(be.to_numpy(out), np.outer(np.ones(3), [0.2, 0.8]))
    f = np.arange(12.0).reshape(3, 2, 2)  # axes (2, 0, 1) of the output
    out = be.to_numpy(
        contract_factors([(f, [2, 0, 1]), (np.array([1.0, 2.0]), [0])], (2, 2, 3), be)
    )
    np.testing.assert_allclose(
        out, np.transpose(f, (1, 2, 0)) * np.array([1.0, 2.0])[:, None, None]
    )


def test_result_feeds_the_measures_and_the_sampler():
    from exactmd.measures.information import entropy
    from exactmd.sampler.p_alg import output_distribution

    bn = random_bn(8, n=4)
    d = from_pgmpy(bn)
    p = brute_bn(bn)
    nz = p[p > 0]
    assert entropy(d) == pytest.approx(float(-(nz * np.log(nz)).sum()), abs=1e-12)
    p_alg = np.asarray(output_distribution(d, [4]))  # one step: the product of the marginals
    margs = [p.sum(axis=tuple(a for a in range(4) if a != i)) for i in range(4)]
    np.testing.assert_allclose(p_alg, np.einsum("a,b,c,d->abcd", *margs), atol=1e-12)


# -- bad input ----------------------------------------------------------------------------


def _two_node_bn():
    bn = DiscreteBayesianNetwork([("A", "B")])
    bn.add_cpds(
        TabularCPD("A", 2, [[0.3], [0.7]]),
        TabularCPD("B", 2, [[0.9, 0.4], [0.1, 0.6]], ["A"], [2]),
    )
    return bn


def test_rejects_non_models():
    with pytest.raises(ModelError, match="model: must be a pgmpy"):
        from_pgmpy(np.ones(3))
    with pytest.raises(ModelError, match="must be a pgmpy"):
        from_pgmpy(nx.path_graph(3))


def test_rejects_incomplete_network():
    bn = DiscreteBayesianNetwork([("A", "B")])
    bn.add_cpds(TabularCPD("A", 2, [[0.3], [0.7]]))
    with pytest.raises(ModelError, match="No CPD associated with B"):
        from_pgmpy(bn)


def test_rejects_cyclic_network():
    bn = _two_node_bn()
    nx.DiGraph.add_edge(bn, "B", "A")  # bypass pgmpy's own cycle check
    with pytest.raises(ModelError, match="model:"):
        from_pgmpy(bn)


def test_rejects_cpd_not_summing_to_one():
    bn = DiscreteBayesianNetwork([("A", "B")])
    # 1.005 passes pgmpy's own check (tolerance 0.01) but is not a conditional law
    bn.add_cpds(
        TabularCPD("A", 2, [[0.3], [0.7]]),
        TabularCPD("B", 2, [[0.9, 0.405], [0.1, 0.6]], ["A"], [2]),
    )
    with pytest.raises(ModelError, match=r"CPD of B must sum to 1.*1\.005"):
        from_pgmpy(bn)
    bad = DiscreteBayesianNetwork([("A", "B")])
    bad.add_cpds(
        TabularCPD("A", 2, [[0.3], [0.7]]),
        TabularCPD("B", 2, [[0.9, 0.7], [0.1, 0.6]], ["A"], [2]),
    )
    with pytest.raises(ModelError, match="check_model"):
        from_pgmpy(bad)


def test_rejects_markov_network_problems():
    mn = DiscreteMarkovNetwork([("A", "B")])
    mn.add_node("C")
    mn.add_factors(DiscreteFactor(["A", "B"], [2, 2], [1, 2, 3, 4]))
    with pytest.raises(ModelError, match="Factors for all the variables"):
        from_pgmpy(mn)
    with pytest.raises(ModelError, match="no factor mentions"):
        from_pgmpy(DiscreteMarkovNetwork([("A", "B")]))  # passes pgmpy's check_model
    neg = DiscreteMarkovNetwork([("A", "B")])
    neg.add_factors(DiscreteFactor(["A", "B"], [2, 2], [1, -2, 3, 4]))
    with pytest.raises(ModelError, match="negative"):
        from_pgmpy(neg)
    zero = DiscreteMarkovNetwork([("A", "B")])
    zero.add_factors(DiscreteFactor(["A", "B"], [2, 2], [0, 0, 0, 0]))
    with pytest.raises(ModelError, match="partition function"):
        from_pgmpy(zero)


def test_too_large_to_enumerate_is_refused_before_allocating():
    n = 40
    names = [f"C{i}" for i in range(n)]
    bn = DiscreteBayesianNetwork([(names[i], names[i + 1]) for i in range(n - 1)])
    bn.add_cpds(TabularCPD(names[0], 2, [[0.5], [0.5]]))
    bn.add_cpds(
        *(
            TabularCPD(names[i], 2, [[0.9, 0.1], [0.1, 0.9]], [names[i - 1]], [2])
            for i in range(1, n)
        )
    )
    with pytest.raises(ModelError, match=r"40 variables.*GiB") as info:
        from_pgmpy(bn)
    assert isinstance(info.value, MemoryPlanError)
    with pytest.raises(MemoryPlanError, match=r"\(10 bytes\) are available"):
        from_pgmpy(_two_node_bn(), max_bytes=10)


def test_huge_markov_network_potentials_give_the_law_not_inf_over_inf():
    mn = DiscreteMarkovNetwork([("a", "b"), ("b", "c")])
    big = [1e300, 1.0, 1.0, 1e300]
    mn.add_factors(DiscreteFactor(["a", "b"], [2, 2], big), DiscreteFactor(["b", "c"], [2, 2], big))
    p = from_pgmpy(mn).numpy()
    assert np.all(np.isfinite(p)) and abs(p.sum() - 1) < 1e-12
    assert p[0, 0, 0] == pytest.approx(0.5) and p[1, 1, 1] == pytest.approx(0.5)


def test_a_huge_spec_is_refused_before_its_graph_is_built():
    from exactmd.errors import MemoryPlanError
    from exactmd.models import from_spec

    start = time.perf_counter()
    with pytest.raises(MemoryPlanError, match="n: the joint of 1000000 variables"):
        from_spec("ising:n=1000000")
    assert time.perf_counter() - start < 2.0
