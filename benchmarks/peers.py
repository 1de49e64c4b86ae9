"""Peer libraries for the benchmark: dit (TC/DTC) and pgmpy (conditional queries).

Each function returns the peer's answer converted to exactmd's conventions (nats; numpy
arrays) so that the benchmark can check agreement before it times anything.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

__all__ = ["dit_tc_dtc", "random_bayes_net", "bn_joint", "pgmpy_queries", "random_queries"]


def dit_tc_dtc(p: np.ndarray) -> tuple[float, float]:
    """TC and DTC of ``p`` by dit, converted from bits to nats."""
    import dit

    d = dit.Distribution.from_ndarray(p)
    tc = dit.multivariate.total_correlation(d)
    dtc = dit.multivariate.dual_total_correlation(d)
    return float(tc) * math.log(2), float(dtc) * math.log(2)


def random_bayes_net(
    n: int, seed: int = 0, max_parents: int = 2
) -> list[tuple[int, list[int], np.ndarray]]:
    """A random binary Bayesian network: node ``i`` draws its parents among the 3 previous nodes.

    Returns ``(node, parents, table)`` triples with ``table[x_i, x_parents...]`` the CPD
    (parents in the listed order), all entries positive.
    """
    rng = np.random.default_rng(seed)
    nodes = []
    for i in range(n):
        pool = list(range(max(0, i - 3), i))
        k = int(rng.integers(0, min(max_parents, len(pool)) + 1))
        parents = sorted(int(j) for j in rng.choice(pool, size=k, replace=False)) if k else []
        cols = rng.dirichlet(np.full(2, 0.7), size=2**k).T  # (2, 2^k)
        cols = np.clip(cols, 1e-3, None)
        cols /= cols.sum(axis=0, keepdims=True)
        nodes.append((i, parents, cols.reshape((2,) * (1 + k))))
    return nodes


def bn_joint(net: list[tuple[int, list[int], np.ndarray]], n: int) -> np.ndarray:
    """The joint law of ``net`` as an array of shape ``(2,)*n``."""
    joint = np.ones((2,) * n)
    out = list(range(n))
    for i, parents, table in net:
        operands: list[Any] = [joint, out, table, [i, *parents], out]
        joint = np.einsum(*operands)
    return joint / joint.sum()


def random_queries(joint: np.ndarray, batch: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``batch`` queries: a target, and evidence on about a third of the other variables.

    Evidence values come from samples of the joint, so every context has positive probability.
    Returns ``tokens`` (B, N) with the mask value 2 on unobserved positions and ``targets``.
    """
    rng = np.random.default_rng(seed)
    n = joint.ndim
    flat = rng.choice(joint.size, size=batch, p=joint.reshape(-1))
    samples = np.stack(np.unravel_index(flat, joint.shape), axis=1)
    tokens = np.full((batch, n), 2, dtype=np.int64)
    targets = rng.integers(0, n, size=batch)
    for b in range(batch):
        others = [j for j in range(n) if j != targets[b]]
        seen = rng.choice(others, size=max(1, n // 3), replace=False)
        tokens[b, seen] = samples[b, seen]
    return tokens, targets


def _model(net: list[tuple[int, list[int], np.ndarray]]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgmpy.factors.discrete import TabularCPD
        from pgmpy.models import DiscreteBayesianNetwork

        edges = [(f"X{j}", f"X{i}") for i, parents, _ in net for j in parents]
        model = DiscreteBayesianNetwork(edges)
        model.add_nodes_from([f"X{i}" for i, _, _ in net])
        for i, parents, table in net:
            model.add_cpds(
                TabularCPD(
                    f"X{i}",
                    2,
                    table.reshape(2, -1),
                    evidence=[f"X{j}" for j in parents] or None,
                    evidence_card=[2] * len(parents) or None,
                )
            )
    return model


def pgmpy_queries(
    net: list[tuple[int, list[int], np.ndarray]], tokens: np.ndarray, targets: np.ndarray
) -> np.ndarray:
    """P(X_target | evidence) for every query by pgmpy's VariableElimination, shape (B, 2)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgmpy.inference import VariableElimination

        ve = VariableElimination(_model(net))
        out = np.empty((len(targets), 2))
        for b, t in enumerate(targets):
            evidence = {f"X{j}": int(v) for j, v in enumerate(tokens[b]) if v != 2}
            factor = ve.query([f"X{int(t)}"], evidence=evidence, show_progress=False)
            out[b] = np.asarray(factor.values, dtype=np.float64)
    return out
