"""Where a rank's slices of the joint come from: a table, or a model's factors.

A sharded run never needs the whole joint on one rank when the law is a product of factors:
the slice ``π(x_0 = a_0, …, x_{s-1} = a_{s-1}, ·)`` is the product of the factors with those
axes fixed, over the remaining ``N − s`` axes. :class:`FactorSource` holds log-factors (so
strong couplings do not overflow) and computes each slice on the rank's device;
:func:`source_from_spec` builds one from a model string (Ising, Potts, Markov chains, shipped
and file networks) and :func:`source_from_pgmpy` from a pgmpy model. :class:`TableSource`
wraps a law already in memory (each rank holds the table it was given and copies only its
slices onto its device).

Examples
--------
>>> import numpy as np
>>> from exactmd.backends import get_backend
>>> src = source_from_spec("markov:n=3,stay=0.75")
>>> src.shape, type(src).__name__
((2, 2, 2), 'FactorSource')
>>> np.exp(src.block((0,), get_backend(name="numpy"))).round(3).tolist()  # 1/2 * P(x1, x2 | 0)
[[0.281, 0.094], [0.031, 0.094]]
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from exactmd.backends import Backend
from exactmd.errors import ModelError, ValidationError, describe
from exactmd.law.distribution import Distribution, as_distribution
from exactmd.models._base import one_line, quiet_pgmpy
from exactmd.models.files import FORMATS, example_path, read_model
from exactmd.models.pgmpy_models import _collect, _kind, order_variables
from exactmd.models.spec import (
    from_spec,
    graph_size,
    make_graph,
    markov_spec_parameters,
    parse_spec,
)

__all__ = ["TableSource", "FactorSource", "source_from_spec", "source_from_pgmpy"]


class TableSource:
    """A joint given whole (anything :func:`~exactmd.law.distribution.as_distribution`
    accepts); its slices are read from it.

    Every rank holds the table it was given (validated and normalised once, as everywhere in
    exactmd), and its device receives only the slices it owns.

    Examples
    --------
    >>> from exactmd.backends import get_backend
    >>> src = TableSource([[0.5, 0.0], [0.25, 0.25]])
    >>> src.block((1,), get_backend(name="numpy")).tolist()
    [0.25, 0.25]
    """

    normalised = True

    def __init__(self, p: Any) -> None:
        self.law: Distribution = as_distribution(p)
        if self.law.backend.exact:  # the shards sum floats
            raise ValidationError("p: a sharded run needs a numeric law; received a symbolic law")
        self.shape = tuple(int(q) for q in self.law.shape)
        self._host = self.law.numpy()

    def block(self, prefix: Sequence[int], be: Backend) -> Any:
        """π with its first ``len(prefix)`` axes fixed to ``prefix``, a new array of ``be``."""
        return be.asarray(np.array(self._host[tuple(int(a) for a in prefix)], dtype=np.float64))

    def fingerprint(self) -> Any:
        return self._host


class FactorSource:
    """π ∝ exp(Σ_a ψ_a(x_{S_a})): log-factors ``(values, axes)``, slices computed directly.

    Parameters
    ----------
    log_factors
        Pairs ``(values, axes)``: ``values`` (float, finite or ``-inf`` for a zero weight) has
        one axis per entry of ``axes`` (distinct indices into ``shape``), in that order.
    shape
        ``(q_0, …, q_{N-1})``.

    Examples
    --------
    >>> from exactmd.backends import get_backend
    >>> src = FactorSource([(np.array([[np.log(2.0), 0.0], [0.0, -np.inf]]), [0, 1])], (2, 2))
    >>> np.exp(src.block((0,), get_backend(name="numpy"))).tolist()  # unnormalised
    [2.0, 1.0]
    >>> np.exp(src.block((1,), get_backend(name="numpy"))).tolist()  # a zero weight
    [1.0, 0.0]
    """

    normalised = False

    def __init__(self, log_factors: Sequence[tuple[Any, Sequence[int]]], shape: Sequence[int]):
        self.shape = tuple(int(q) for q in shape)
        n = len(self.shape)
        if n == 0 or any(q < 1 for q in self.shape):
            raise ValidationError(f"shape: must have axes of size >= 1; received {shape!r}")
        factors = []
        for values, axes in log_factors:
            ax = [int(a) for a in axes]
            vals = np.asarray(values, dtype=np.float64)
            if len(set(ax)) != len(ax) or any(not 0 <= a < n for a in ax):
                raise ValidationError(
                    f"log_factors: axes must be distinct indices in range({n}); received {ax}"
                )
            if vals.shape != tuple(self.shape[a] for a in ax):
                raise ValidationError(
                    f"log_factors: a factor over axes {ax} must have shape "
                    f"{tuple(self.shape[a] for a in ax)}; received shape {vals.shape}"
                )
            if np.isnan(vals).any() or np.isposinf(vals).any():
                raise ValidationError(
                    f"log_factors: values must be finite or -inf (a zero weight); the factor "
                    f"over axes {ax} holds {describe(vals.tolist())}"
                )
            factors.append((vals, ax))
        self.log_factors = factors

    def block(self, prefix: Sequence[int], be: Backend) -> Any:
        """The log-weights with the first ``len(prefix)`` axes fixed to ``prefix``, on ``be``."""
        s = len(prefix)
        rest = self.shape[s:]
        out = be.zeros(rest) if rest else be.zeros((1,))
        for vals, axes in self.log_factors:
            idx = tuple(int(prefix[a]) if a < s else slice(None) for a in axes)
            sub = vals[idx]
            rem = [a - s for a in axes if a >= s]
            if not rem:
                be.add_scalar_out(out, float(sub), out)
                continue
            sub = np.transpose(sub, np.argsort(rem))
            bshape = [1] * len(rest)
            for a in rem:
                bshape[a] = rest[a]
            be.add_(out, be.asarray(np.ascontiguousarray(sub).reshape(bshape)))
        return out if rest else be.reshape(out, ())

    def fingerprint(self) -> Any:
        return [(v.tobytes(), a) for v, a in self.log_factors], self.shape


def _log(values: Any) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(np.asarray(values, dtype=np.float64))


def source_from_pgmpy(model: Any, order: Sequence[Any] | None = None) -> FactorSource:
    """The factors of a pgmpy model (checked as :func:`~exactmd.models.from_pgmpy` checks
    them), in the axis order ``order`` (default: the model's variables in insertion order).

    Examples
    --------
    >>> from exactmd.models.files import example_path, read_model
    >>> src = source_from_pgmpy(read_model(example_path("cancer")))
    >>> src.shape, len(src.log_factors)
    ((2, 2, 2, 2, 2), 5)
    """
    kind = _kind(model)
    with quiet_pgmpy():
        try:
            model.check_model()
        except ModelError:
            raise
        except Exception as exc:  # pgmpy raises ValueError, KeyError, AttributeError...
            raise ModelError(f"model: pgmpy's check_model() failed: {one_line(exc)}") from exc
        variables, factors = _collect(model, kind)
    variables = order_variables(variables, order)
    index = {v: i for i, v in enumerate(variables)}
    shape = [0] * len(variables)
    for values, fvars in factors:
        for v, q in zip(fvars, np.shape(values), strict=True):
            shape[index[v]] = int(q)
    return FactorSource([(_log(v), [index[x] for x in fv]) for v, fv in factors], shape)


def _pairwise(graph: Any, q: int, block: np.ndarray, field: np.ndarray | None) -> FactorSource:
    nodes = list(graph.nodes)
    index = {v: i for i, v in enumerate(nodes)}
    factors: list[tuple[Any, Sequence[int]]] = []
    for u, v, *_ in graph.edges:
        i, j = index[u], index[v]
        if i == j:  # a self-loop only sees the diagonal
            factors.append((np.diagonal(block).copy(), [i]))
        else:
            factors.append((block, [i, j]))
    if field is not None:
        factors += [(field, [index[v]]) for v in nodes]
    return FactorSource(factors, (q,) * len(nodes))


def source_from_spec(text: str) -> TableSource | FactorSource:
    """The source of a model string (:func:`~exactmd.models.from_spec`'s grammar).

    Ising and Potts models, Markov chains, shipped examples (``example:NAME``) and
    ``.bif``/``.xmlbif``/``.uai`` files give a :class:`FactorSource` (no rank builds the
    joint); every other model (parity, hmm, xorsat, random, ``.npy``...) is enumerated whole
    on each rank and wrapped in a :class:`TableSource`.

    Examples
    --------
    >>> type(source_from_spec("ising:graph=grid2x2")).__name__
    'FactorSource'
    >>> type(source_from_spec("parity:n=3")).__name__
    'TableSource'
    """
    path = os.fspath(text)
    suffix = os.path.splitext(path)[1].lower()
    if suffix in FORMATS and suffix != ".npy":
        return source_from_pgmpy(read_model(path))
    if os.path.isfile(path):
        return TableSource(from_spec(text))
    name, p = parse_spec(text)
    if name == "example":
        return source_from_pgmpy(read_model(example_path(p["name"])))
    if name in ("ising", "potts"):
        q = 2 if name == "ising" else int(p["q"])
        graph_size(str(p["graph"]), p["n"])  # the spec's own checks of n and graph
        graph = make_graph(str(p["graph"]), p["n"])
        coupling = float(p["coupling"])
        if name == "ising":
            spin = np.array([-1.0, 1.0])
            h = float(p["field"])
            return _pairwise(graph, 2, coupling * np.outer(spin, spin), h * spin if h else None)
        return _pairwise(graph, q, coupling * np.eye(q), None)
    if name == "markov":
        init, t, n = markov_spec_parameters(text)
        chain: list[tuple[Any, Sequence[int]]] = [(_log(init), [0])]
        chain += [(_log(t), [i, i + 1]) for i in range(n - 1)]
        return FactorSource(chain, (init.size,) * n)
    return TableSource(from_spec(text))
