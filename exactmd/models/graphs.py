"""Laws on networkx graphs: the Ising and Potts models, enumerated exactly.

The log-weight of every configuration is accumulated edge by edge by broadcasting, then
exponentiated after subtracting its maximum and normalised exactly (so strong couplings do not
overflow). Couplings and fields are finite real numbers (Python or numpy scalars; a bool, a
string, NaN or inf is a :class:`~exactmd.errors.ModelError` naming the parameter); when the
log-weights could exceed the float64 range (J near ±1e308) they are accumulated in units of the
largest parameter and scaled back after the maximum is subtracted, so the law returned is the
correct near-deterministic one and never NaN. Axis ``i`` is the ``i``-th node of
``graph.nodes`` and ``names`` are ``str(node)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from exactmd.backends import get_backend
from exactmd.errors import ModelError, describe
from exactmd.law.distribution import Distribution
from exactmd.law.records import ModelInfo
from exactmd.models._base import (
    finish,
    log_weight_scale,
    normalise_log_weights,
    plan_build,
    plan_cells,
    positive_int,
    real_parameter,
    resolve_backend,
)

__all__ = ["ising", "potts"]


def _nodes_edges(graph: Any) -> tuple[list[Any], list[tuple[Any, Any]]]:
    if not (hasattr(graph, "nodes") and hasattr(graph, "edges")):
        raise ModelError(f"graph: must be a networkx graph; received {describe(graph)}")
    nodes = list(graph.nodes)
    if not nodes:
        raise ModelError("graph: must have at least one node; received an empty graph")
    return nodes, [(u, v) for u, v, *_ in graph.edges]


def _number(value: Any, name: str) -> float:
    return real_parameter(value, name)


def _edge_value(coupling: Any, u: Any, v: Any, name: str) -> float:
    if isinstance(coupling, Mapping):
        if (u, v) in coupling:
            return _number(coupling[(u, v)], f"{name}[{(u, v)!r}]")
        if (v, u) in coupling:
            return _number(coupling[(v, u)], f"{name}[{(v, u)!r}]")
        raise ModelError(f"{name}: the mapping has no value for the edge {(u, v)!r}")
    return _number(coupling, name)


def _node_value(field: Any, node: Any, name: str) -> float:
    if isinstance(field, Mapping):
        if node not in field:
            raise ModelError(f"{name}: the mapping has no value for the node {node!r}")
        return _number(field[node], f"{name}[{node!r}]")
    return _number(field, name)


def _pair(n: int, i: int, j: int, block: np.ndarray) -> np.ndarray:
    """``block`` (q × q, axes i then j) as an n-axis array broadcastable to the joint."""
    shape = [1] * n
    if i == j:  # a self-loop only sees the diagonal
        diag = np.diagonal(block).copy()
        shape[i] = diag.size
        return diag.reshape(shape)
    if i > j:
        i, j, block = j, i, block.T
    shape[i], shape[j] = block.shape
    return block.reshape(shape)


def _pairwise_law(
    graph: Any,
    q: int,
    block: np.ndarray | None,
    field_vector: np.ndarray | None,
    params: dict[str, Any],
    backend: str | None,
    device: Any,
) -> Distribution:
    """π(x) ∝ exp(Σ_{(u,v) ∈ E} J_uv B[x_u, x_v] + Σ_v h_v f[x_v]) on ``graph``, q states each.

    ``block`` is B (q × q; None for the identity, Potts), ``field_vector`` is f (length q; None
    for no field), J and h are ``params["coupling"]`` and ``params["field"]`` (numbers or
    mappings). ``params["name"]`` and the other ``params``, the nodes and the edges are kept
    in ``dist.model``.
    """
    nodes, edges = _nodes_edges(graph)
    n = len(nodes)
    index = {v: i for i, v in enumerate(nodes)}
    # every parameter is checked (finite real numbers) before anything is allocated
    js = [_edge_value(params["coupling"], u, v, "coupling") for u, v in edges]
    has_field = field_vector is not None
    hs = [_node_value(params["field"], v, "field") for v in nodes] if has_field else []
    size_name = "graph" if block is not None else "graph, q"  # q^n cells: n nodes, q states
    plan_build((q,) * n, resolve_backend(backend, device), 1.5, size_name)
    if block is None and edges:  # the q x q identity of the Potts coupling (a self-loop: n = 1)
        plan_cells((q, q), get_backend(name="numpy"), copies=2.0, name="q")
    pair = np.eye(q) if block is None else block
    # log-weights that could overflow float64 are accumulated in units of the largest |J|, |h|
    # and scaled back after the maximum is subtracted (so 1e308 gives the right limit law)
    fmax = float(np.abs(field_vector).max()) if field_vector is not None and hs else 0.0
    bound = max(float(np.abs(pair).max()), fmax)
    scale = log_weight_scale([*js, *hs], len(js) + len(hs), bound)
    logw = np.zeros((q,) * n)
    for (u, v), j in zip(edges, js, strict=True):
        logw += _pair(n, index[u], index[v], (j / scale) * pair)
    for node, h in zip(nodes, hs, strict=False):
        if h:
            shape = [1] * n
            shape[index[node]] = q
            logw += ((h / scale) * np.asarray(field_vector)).reshape(shape)
    name = str(params["name"])
    table = normalise_log_weights(logw, scale, name=name)
    d = finish(table, resolve_backend(backend, device), [str(v) for v in nodes], name=name)
    rest = {k: v for k, v in params.items() if k != "name"}
    d.model = ModelInfo(name, {"nodes": nodes, "edges": edges, **rest})
    return d


def ising(
    graph: Any,
    coupling: float | Mapping[Any, float] = 1.0,
    field: float | Mapping[Any, float] = 0.0,
    *,
    backend: str | None = None,
    device: Any = None,
) -> Distribution:
    """The Ising model on a graph, with values x_i ∈ {0, 1} and spins s_i = 2 x_i − 1.

    π(x) ∝ exp(Σ_{(i,j) ∈ E} J_ij s_i s_j + Σ_i h_i s_i).

    Parameters
    ----------
    graph
        A networkx graph; axis ``i`` is the ``i``-th node of ``graph.nodes``.
    coupling
        J: one number for every edge, or a mapping ``{(u, v): J_uv}`` (either orientation).
    field
        h: one number for every node, or a mapping ``{node: h}``.
    backend, device
        Where the result lives (built in numpy, then moved).

    Examples
    --------
    >>> import networkx as nx
    >>> d = ising(nx.path_graph(2), coupling=0.5)
    >>> p = d.numpy(); round(float(p[0, 0] / p[0, 1]), 6) == round(float(np.exp(1.0)), 6)
    True
    >>> d.names
    ('0', '1')
    >>> grid = nx.convert_node_labels_to_integers(nx.grid_2d_graph(3, 3))  # row by row
    >>> h = {v: (0.2 if v == 4 else 0.0) for v in grid}  # a field on the centre only
    >>> ising(grid, coupling=0.4, field=h).shape
    (2, 2, 2, 2, 2, 2, 2, 2, 2)
    """
    spin = np.array([-1.0, 1.0])
    params = {"name": "ising", "coupling": coupling, "field": field}
    return _pairwise_law(graph, 2, np.outer(spin, spin), spin, params, backend, device)


def potts(
    graph: Any,
    q: int = 3,
    coupling: float | Mapping[Any, float] = 1.0,
    *,
    backend: str | None = None,
    device: Any = None,
) -> Distribution:
    """The q-state Potts model on a graph, x_i ∈ {0, …, q−1}.

    π(x) ∝ exp(Σ_{(i,j) ∈ E} J_ij 1[x_i = x_j]). With q = 2 it is the Ising model with
    coupling J/2 and no field.

    Parameters
    ----------
    graph
        A networkx graph; axis ``i`` is the ``i``-th node of ``graph.nodes``.
    q
        The number of states.
    coupling
        J: one number, or a mapping ``{(u, v): J_uv}`` (either orientation).
    backend, device
        Where the result lives (built in numpy, then moved).

    Examples
    --------
    >>> import networkx as nx
    >>> d = potts(nx.path_graph(2), q=3, coupling=0.0)
    >>> bool(np.allclose(d.numpy(), 1 / 9))
    True
    >>> d = potts(nx.grid_2d_graph(2, 2), q=3, coupling=1.0)  # a 4-cycle: 4 equal vs 0 equal
    >>> p = d.numpy(); round(float(p[0, 0, 0, 0] / p[0, 1, 2, 0]), 6) == round(float(np.exp(4)), 6)
    True
    """
    q = positive_int(q, "q")
    params = {"name": "potts", "q": q, "coupling": coupling}
    return _pairwise_law(graph, q, None, None, params, backend, device)
