"""A reader for the UAI model format (``.uai``), following the UAI inference-evaluation spec.

The format: a type line ``BAYES`` or ``MARKOV``; the number of variables; their cardinalities;
the number of functions; one scope per function (its size, then variable indices; for
``BAYES`` the child comes last); then each function's table (its number of entries, then the
entries, the last variable of the scope changing fastest). Lines starting with ``c`` are
comments.

pgmpy 1.1's ``UAIReader`` reshapes a ``BAYES`` table child-first and takes the parents in graph
order, which misreads files written to this spec (and its ``UAIWriter`` writes ``BAYES`` tables
child-first), so exactmd reads ``.uai`` files itself. Variables are named ``var_0``, ``var_1``,
… as pgmpy names them.

Examples
--------
>>> m = parse_uai("BAYES 2  2 2  2  1 0  2 0 1  2 0.3 0.7  4 0.9 0.1 0.2 0.8")
>>> m.kind, m.cards, m.scopes
('BAYES', [2, 2], [[0], [0, 1]])
>>> m.tables[1].tolist()  # P(X1 | X0), rows X0
[[0.9, 0.1], [0.2, 0.8]]
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from exactmd.errors import ModelError

__all__ = ["UAIModel", "parse_uai", "read_uai", "uai_factors", "uai_to_pgmpy"]


@dataclass
class UAIModel:
    """A parsed UAI model.

    Attributes
    ----------
    kind : str
        ``"BAYES"`` or ``"MARKOV"``.
    cards : list of int
        The cardinality of each variable.
    scopes : list of list of int
        Each function's variables (for ``BAYES``: parents, then the child).
    tables : list of numpy.ndarray
        Each function's values, one axis per scope variable in scope order.
    """

    kind: str
    cards: list[int]
    scopes: list[list[int]]
    tables: list[np.ndarray]

    @property
    def names(self) -> list[str]:
        """Variable names ``var_0``, ``var_1``, … (as pgmpy names them)."""
        return [f"var_{i}" for i in range(len(self.cards))]


class _Tokens:
    def __init__(self, text: str) -> None:
        lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("c")]
        self.items = " ".join(lines).split()
        self.pos = 0

    def next(self, what: str) -> str:
        if self.pos >= len(self.items):
            raise ModelError(f"the file ends where {what} was expected")
        self.pos += 1
        return self.items[self.pos - 1]

    def integer(self, what: str, minimum: int = 0) -> int:
        tok = self.next(what)
        try:
            value = int(tok)
        except ValueError:
            raise ModelError(f"{what} must be an integer; found {tok!r}") from None
        if value < minimum:
            raise ModelError(f"{what} must be >= {minimum}; found {value}")
        return value

    def number(self, what: str) -> float:
        tok = self.next(what)
        try:
            value = float(tok)
        except ValueError:
            raise ModelError(f"{what} must be a number; found {tok!r}") from None
        if not math.isfinite(value) or value < 0:
            raise ModelError(f"{what} must be finite and >= 0; found {tok!r}")
        return value


def parse_uai(text: str) -> UAIModel:
    """Parse the text of a UAI model file.

    Raises
    ------
    ModelError
        On any departure from the format, naming what was expected and what was found.
    """
    tok = _Tokens(text)
    kind = tok.next("the type BAYES or MARKOV").upper()
    if kind not in ("BAYES", "MARKOV"):
        raise ModelError(f"the first word must be BAYES or MARKOV; found {kind!r}")
    n = tok.integer("the number of variables", 1)
    cards = [tok.integer(f"the cardinality of variable {i}", 1) for i in range(n)]
    nf = tok.integer("the number of functions", 0)
    scopes: list[list[int]] = []
    for f in range(nf):
        k = tok.integer(f"the scope size of function {f}", 1 if kind == "BAYES" else 0)
        scope = [tok.integer(f"a variable index in the scope of function {f}") for _ in range(k)]
        if any(v >= n for v in scope) or len(set(scope)) != k:
            raise ModelError(
                f"the scope of function {f} must hold distinct indices below {n}; found {scope}"
            )
        scopes.append(scope)
    tables = []
    for f, scope in enumerate(scopes):
        shape = [cards[v] for v in scope]
        count = tok.integer(f"the number of entries of function {f}")
        if count != math.prod(shape):
            raise ModelError(
                f"function {f} over variables {scope} needs {math.prod(shape)} entries; "
                f"the file says {count}"
            )
        values = [tok.number(f"entry {j} of function {f}") for j in range(count)]
        tables.append(np.asarray(values, dtype=np.float64).reshape(shape))
    if tok.pos != len(tok.items):
        raise ModelError(f"unexpected content after the last table: {tok.items[tok.pos]!r}...")
    model = UAIModel(kind, cards, scopes, tables)
    if kind == "BAYES":
        _check_bayes(model)
    return model


def _check_bayes(m: UAIModel) -> None:
    from exactmd.models.pgmpy_models import normalise_conditional

    children = [s[-1] for s in m.scopes]
    for v in range(len(m.cards)):
        if children.count(v) != 1:
            raise ModelError(
                f"BAYES: variable {v} must be the child (last in scope) of exactly one "
                f"function; it is the child of {children.count(v)}"
            )
    for f, (scope, table) in enumerate(zip(m.scopes, m.tables, strict=True)):
        what = f"BAYES: the table of function {f} (child {scope[-1]})"
        m.tables[f] = normalise_conditional(table, -1, what, "the child")
    parents = {s[-1]: s[:-1] for s in m.scopes}
    state = [0] * len(m.cards)  # 0 new, 1 on the stack, 2 done

    def visit(v: int) -> None:
        stack = [(v, iter(parents[v]))]
        state[v] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif state[nxt] == 1:
                raise ModelError(f"BAYES: the network has a cycle through variable {nxt}")
            elif state[nxt] == 0:
                state[nxt] = 1
                stack.append((nxt, iter(parents[nxt])))

    for v in range(len(m.cards)):
        if state[v] == 0:
            visit(v)


def read_uai(path: str | os.PathLike[str]) -> UAIModel:
    """Read and check a ``.uai`` file; errors are one line naming the file.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "chain.uai")
    ...     with open(path, "w") as fh:
    ...         _ = fh.write("BAYES 2  2 2  2  1 0  2 0 1  2 0.3 0.7  4 0.9 0.1 0.2 0.8")
    ...     m = read_uai(path)
    >>> m.kind, m.cards
    ('BAYES', [2, 2])
    """
    from exactmd.models.bif_checks import read_text

    text = read_text(path, "UAI")
    try:
        return parse_uai(text)
    except ModelError as exc:
        raise ModelError(f"path: could not parse '{path}' as UAI: {exc}") from exc


def uai_factors(m: UAIModel) -> list[tuple[np.ndarray, list[int]]]:
    """The model's factors as ``(values, axes)`` pairs for ``contract_factors``.

    π(x) ∝ Π_a φ_a(x_{S_a}), with φ_a = ``values`` on the axes S_a = ``axes``.

    Examples
    --------
    >>> m = parse_uai("MARKOV 2  2 2  1  2 0 1  4 1 2 3 4")
    >>> [(t.tolist(), axes) for t, axes in uai_factors(m)]
    [([[1.0, 2.0], [3.0, 4.0]], [0, 1])]
    """
    return [(t, list(s)) for t, s in zip(m.tables, m.scopes, strict=True)]


def uai_to_pgmpy(m: UAIModel) -> Any:
    """The equivalent pgmpy ``DiscreteBayesianNetwork`` or ``DiscreteMarkovNetwork``.

    Examples
    --------
    >>> m = parse_uai("BAYES 2  2 2  2  1 0  2 0 1  2 0.3 0.7  4 0.9 0.1 0.2 0.8")
    >>> bn = uai_to_pgmpy(m)
    >>> bn.get_cpds("var_1").get_values().tolist()  # rows X1, columns X0
    [[0.9, 0.2], [0.1, 0.8]]
    """
    from pgmpy.factors.discrete import DiscreteFactor, TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork, DiscreteMarkovNetwork

    names = m.names
    if m.kind == "BAYES":
        bn = DiscreteBayesianNetwork()
        bn.add_nodes_from(names)
        cpds = []
        for scope, table in zip(m.scopes, m.tables, strict=True):
            child, parents = scope[-1], scope[:-1]
            bn.add_edges_from((names[p], names[child]) for p in parents)
            values = np.moveaxis(table, -1, 0).reshape(m.cards[child], -1)
            cpds.append(
                TabularCPD(
                    names[child],
                    m.cards[child],
                    values,
                    [names[p] for p in parents] or None,
                    [m.cards[p] for p in parents] or None,
                )
            )
        bn.add_cpds(*cpds)
        return bn
    mn = DiscreteMarkovNetwork()
    mn.add_nodes_from(names)
    for scope, table in zip(m.scopes, m.tables, strict=True):
        mn.add_edges_from((names[a], names[b]) for i, a in enumerate(scope) for b in scope[i + 1 :])
        if scope:
            mn.add_factors(
                DiscreteFactor([names[v] for v in scope], [m.cards[v] for v in scope], table)
            )
    return mn
