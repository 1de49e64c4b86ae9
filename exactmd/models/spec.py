"""Model strings for the command line: ``from_spec("ising:n=8,coupling=0.4,graph=cycle")``.

A spec is ``NAME`` or ``NAME:key=value,key=value``, ``example:NAME`` for a shipped network, or a
path to a ``.bif``/``.xmlbif``/``.xml``/``.uai``/``.npy`` file. Sizes are written ``AxB``
(``shape=2x3x2``, ``blocks=3x2`` = 3 blocks of size 2; ``blocks=2+3`` = sizes 2 and 3) and lists
of numbers with ``/`` (``marginal=0.2/0.8``).

================ ============================================================================
name             keys (defaults)
================ ============================================================================
``parity``       n
``ising``        n, coupling (0.5), field (0), graph (path)
``potts``        n, q (3), coupling (0.5), graph (path)
``markov``       n, q (2), stay (0.9): uniform start, stay on the diagonal, the rest spread
``hmm``          n, q (2), stay (0.9), noise (0.1): a ``markov`` chain seen through noise
``block_copy``   blocks, q (2)
``xorsat``       n, m, k (3), seed (0)
``iid``          n, q (2) for a uniform marginal, or marginal (e.g. 0.2/0.8)
``random``       shape (or n, q (2)), alpha (1), seed (0), zeros (0)
``example``      ``example:asia``, ``cancer``, ``earthquake``, ``survey``, ``sachs``
================ ============================================================================

Graphs: ``path``, ``cycle``, ``complete``, ``star`` on n nodes, or ``gridRxC`` (n = R·C, may be
omitted; nodes numbered row by row). Aliases: ``markov_chain``, ``random_xorsat``,
``random_joint``, ``xor`` (= parity). Names and keys are case-insensitive; each key may be given
once. Errors list the model's keys with their defaults. Numbers are checked where the spec is
parsed: ``n``, ``q``, ``m``, ``k``, ``seed`` are integers, the other numeric keys finite reals in
their range; anything else (``n=4.5``, ``n=true``, ``coupling=abc``, ``coupling=1e400``) is a
:class:`~exactmd.errors.ModelError` naming the key, the rule and the text received.
:func:`spec_shape` gives the shape of the law without building it.

Examples
--------
>>> from_spec("ising:n=8,coupling=0.4").shape
(2, 2, 2, 2, 2, 2, 2, 2)
>>> from_spec("potts:graph=grid3x3,q=3,coupling=0.5").n
9
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from exactmd._validate import check_int
from exactmd.errors import ModelError, ValidationError, describe
from exactmd.law.distribution import Distribution
from exactmd.models._base import plan_cells, positive_int, real_parameter, resolve_backend
from exactmd.models.files import (
    EXAMPLES,
    FORMATS,
    example_path,
    file_shape,
    load,
    load_example,
)
from exactmd.models.graphs import ising, potts
from exactmd.models.zoo import (
    block_copy,
    hmm,
    iid,
    markov_chain,
    parity,
    random_joint,
    random_xorsat,
)

__all__ = [
    "from_spec",
    "parse_spec",
    "spec_shape",
    "available_models",
    "make_graph",
    "graph_size",
    "markov_spec_parameters",
]

_KEYS: dict[str, dict[str, Any]] = {
    "parity": {"n": None},
    "ising": {"n": None, "coupling": 0.5, "field": 0.0, "graph": "path"},
    "potts": {"n": None, "q": 3, "coupling": 0.5, "graph": "path"},
    "markov": {"n": None, "q": 2, "stay": 0.9},
    "hmm": {"n": None, "q": 2, "stay": 0.9, "noise": 0.1},
    "block_copy": {"blocks": None, "q": 2},
    "xorsat": {"n": None, "m": None, "k": 3, "seed": 0},
    "iid": {"n": None, "q": 2, "marginal": None},
    "random": {"shape": None, "n": None, "q": 2, "alpha": 1.0, "seed": 0, "zeros": 0.0},
    "example": {},
}
_ALIASES = {
    "markov_chain": "markov",
    "random_xorsat": "xorsat",
    "random_joint": "random",
    "xor": "parity",
}
_OPTIONAL = {("ising", "n"), ("potts", "n"), ("random", "shape"), ("random", "n")}


def available_models() -> tuple[str, ...]:
    """The model names :func:`from_spec` accepts (``example:`` takes a shipped network name).

    Examples
    --------
    >>> available_models()[:3]
    ('parity', 'ising', 'potts')
    """
    return tuple(_KEYS)


#: The type and rule of each numeric key: ("int", minimum) or ("real", check_real keywords);
#: every other key (graph, blocks, shape, marginal) is text, read by its model.
_NUMBERS: dict[str, tuple[str, dict[str, Any]]] = {
    "n": ("int", {"minimum": 1}),
    "q": ("int", {"minimum": 1}),
    "m": ("int", {"minimum": 0}),
    "k": ("int", {"minimum": 1}),
    "seed": ("int", {"minimum": 0}),
    "coupling": ("real", {}),
    "field": ("real", {}),
    "stay": ("real", {"minimum": 0, "maximum": 1}),
    "noise": ("real", {"minimum": 0, "maximum": 1}),
    "alpha": ("real", {"minimum": 0, "open_min": True}),
    "zeros": ("real", {"minimum": 0, "maximum": 1, "open_max": True}),
}


def _value(key: str, raw: str, text: str) -> Any:
    """The value of ``key=raw`` in the spec ``text``: an int or a float checked by the key's
    rule (:data:`_NUMBERS`), else the text; a :class:`ModelError` names the key, the rule and
    the text received."""
    if key not in _NUMBERS:
        return raw
    kind, rules = _NUMBERS[key]
    try:
        if kind == "int":
            if not re.fullmatch(r"[+-]?\d+", raw):
                raise ModelError(f"{key}: must be an integer >= {rules['minimum']}")
            return check_int(int(raw), key, rules["minimum"], error=ModelError)
        try:
            number = float(raw)
        except ValueError:
            raise ModelError(f"{key}: must be a finite real number") from None
        return real_parameter(number, key, **rules)
    except ModelError as exc:
        rule = str(exc).split("; received")[0]
        raise ModelError(f"{rule}; received {raw!r} in the spec {text!r}") from None


def _describe_keys(name: str) -> str:
    """``n, coupling (default 0.5), …``: the keys of a model and their defaults."""
    return ", ".join(k if v is None else f"{k} (default {v})" for k, v in _KEYS[name].items())


def parse_spec(text: str) -> tuple[str, dict[str, Any]]:
    """Split a spec into its canonical model name and its parameters (defaults filled in).

    Names and keys are case-insensitive; a key given twice, an unknown key or a missing required
    key is a :class:`~exactmd.errors.ModelError` that lists the model's keys and defaults.

    Examples
    --------
    >>> parse_spec("markov:n=8,stay=0.8")
    ('markov', {'n': 8, 'q': 2, 'stay': 0.8})
    >>> parse_spec("Potts:N=4,graph=cycle")
    ('potts', {'n': 4, 'q': 3, 'coupling': 0.5, 'graph': 'cycle'})
    >>> parse_spec("ising:n=4,J=1")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    exactmd.errors.ModelError: spec: ising takes the parameters n, coupling (default 0.5), ...
    """
    if not isinstance(text, str) or not text.strip():
        raise ModelError(f"spec: must be a non-empty model string; received {describe(text)}")
    name, _, rest = text.strip().partition(":")
    name = _ALIASES.get(name.strip().lower(), name.strip().lower())
    if name not in _KEYS:
        raise ModelError(
            f"spec: unknown model {name!r} in {text!r}; known models are "
            f"{', '.join(available_models())}, or a path ending in {', '.join(FORMATS)}"
        )
    if name == "example":
        return name, {"name": rest.strip()}
    params = dict(_KEYS[name])
    seen: set[str] = set()
    for item in filter(None, (s.strip() for s in rest.split(","))):
        key, eq, raw = item.partition("=")
        key = key.strip().lower()
        if not eq or key not in params:
            raise ModelError(
                f"spec: {name} takes the parameters {_describe_keys(name)} as key=value; "
                f"received {item!r} in {text!r}"
            )
        if key in seen:
            raise ModelError(f"spec: the parameter {key} is given twice in {text!r}")
        seen.add(key)
        params[key] = _value(key, raw.strip(), text)
    missing = [
        k
        for k, v in params.items()
        if v is None and (name, k) not in _OPTIONAL and not (name == "iid" and k == "marginal")
    ]
    if missing:
        raise ModelError(f"spec: {name} needs {', '.join(missing)}; received {text!r}")
    return name, params


def graph_size(kind: str, n: int | None) -> int:
    """The number of nodes of the spec graph ``kind`` (checked against ``n`` when given), without
    building it.

    Examples
    --------
    >>> graph_size("grid3x4", None), graph_size("cycle", 5)
    (12, 5)
    """
    grid = re.fullmatch(r"grid(\d+)x(\d+)", str(kind))
    if grid:
        rows, cols = int(grid.group(1)), int(grid.group(2))
        if rows < 1 or cols < 1:
            raise ModelError(f"graph: a grid needs R, C >= 1 in gridRxC; received {kind!r}")
        if n is not None and n != rows * cols:
            raise ModelError(f"n: the graph {kind} has {rows * cols} nodes; received n={n}")
        return rows * cols
    if kind not in _GRAPHS:
        raise ModelError(
            f"graph: must be one of {', '.join(_GRAPHS)} or gridRxC; received {kind!r}"
        )
    if n is None:
        raise ModelError(
            f"n: graph={kind} needs the number of nodes, e.g. n=8 (or use graph=gridRxC); "
            "received no n"
        )
    return check_int(n, "n", 1, error=ModelError, noun=f"(graph={kind}) a number of nodes")


_GRAPHS = ("path", "cycle", "complete", "star")


def make_graph(kind: str, n: int | None) -> Any:
    """A networkx graph from its spec name, nodes 0..n-1 (grids numbered row by row).

    Examples
    --------
    >>> g = make_graph("grid2x3", None)
    >>> g.number_of_nodes(), g.number_of_edges()
    (6, 7)
    """
    import networkx as nx

    size = graph_size(kind, n)
    grid = re.fullmatch(r"grid(\d+)x(\d+)", str(kind))
    if grid:
        rows, cols = int(grid.group(1)), int(grid.group(2))
        return nx.convert_node_labels_to_integers(nx.grid_2d_graph(rows, cols))
    makers: dict[str, Callable[[int], Any]] = {
        "path": nx.path_graph,
        "cycle": nx.cycle_graph,
        "complete": nx.complete_graph,
        "star": lambda k: nx.star_graph(k - 1),
    }
    return makers[kind](size)


def _sizes(raw: Any, name: str) -> list[int]:
    text = str(raw)
    match = re.fullmatch(r"(\d+)x(\d+)", text)
    if name == "blocks" and match:  # COUNTxSIZE
        return [int(match.group(2))] * int(match.group(1))
    parts = re.split(r"[x+]", text)
    if not all(p.isdigit() for p in parts):
        raise ModelError(f"{name}: must be written like 2x3 or 2+3; received {text!r}")
    return [int(p) for p in parts]


def _marginal(raw: Any) -> list[float]:
    """``0.2/0.8`` as a list of numbers (checked as a law by :func:`~exactmd.models.iid`)."""
    try:
        return [float(v) for v in str(raw).split("/")]
    except ValueError:
        raise ModelError(
            f"marginal: must be numbers separated by '/', e.g. 0.2/0.8; received {str(raw)!r}"
        ) from None


def _chain(q: Any, stay: Any) -> tuple[np.ndarray, np.ndarray]:
    q = positive_int(q, "q")
    stay = real_parameter(stay, "stay", minimum=0, maximum=1)
    if q == 1:
        return np.ones(1), np.ones((1, 1))
    t = np.full((q, q), (1.0 - stay) / (q - 1))
    np.fill_diagonal(t, stay)
    return np.full(q, 1.0 / q), t


def markov_spec_parameters(text: str) -> tuple[np.ndarray, np.ndarray, int]:
    """``(init, transition, n)`` of a ``markov:`` spec, without enumerating (any n).

    Examples
    --------
    >>> init, t, n = markov_spec_parameters("markov:n=1024,stay=0.9")
    >>> n, t.round(12).tolist()
    (1024, [[0.9, 0.1], [0.1, 0.9]])
    """
    name, params = parse_spec(text)
    if name != "markov":
        raise ModelError(f"spec: must be a markov: spec; received {text!r}")
    init, t = _chain(params["q"], params["stay"])
    return init, t, positive_int(params["n"], "n")


def _is_path(text: str) -> bool:
    return os.path.splitext(text)[1].lower() in FORMATS or os.path.isfile(text)


def spec_shape(text: str | os.PathLike[str]) -> tuple[int, ...] | None:
    """The shape ``(q_0, …, q_{N-1})`` of the law a spec names, found without enumerating it
    (for a file: from its header or its declared cardinalities); None when a file's shape
    cannot be read (:func:`from_spec` then reports what is wrong).

    A memory plan can then be made before anything large is allocated (``exactmd report``
    does so). Parameters are checked as :func:`from_spec` checks them.

    Examples
    --------
    >>> spec_shape("ising:graph=grid2x3")
    (2, 2, 2, 2, 2, 2)
    >>> spec_shape("potts:n=3,q=4"), spec_shape("block_copy:blocks=2+1,q=3")
    ((4, 4, 4), (3, 3, 3))
    >>> len(spec_shape("ising:n=30"))  # no 2^30 table is built
    30
    """
    if isinstance(text, (str, os.PathLike)) and _is_path(os.fspath(text)):
        return file_shape(os.fspath(text))
    name, p = parse_spec(str(text))
    try:
        if name == "example":
            return file_shape(example_path(p["name"]))
        if name in ("ising", "potts"):
            n = graph_size(str(p["graph"]), p["n"])
            return (2 if name == "ising" else positive_int(p["q"], "q"),) * n
        if name == "block_copy":
            n = sum(positive_int(b, "blocks") for b in _sizes(p["blocks"], "blocks"))
            return (positive_int(p["q"], "q"),) * n
        if name == "random" and p["shape"] is not None:
            return tuple(positive_int(q, "shape") for q in _sizes(p["shape"], "shape"))
        if name == "random" and p["n"] is None:
            raise ModelError(f"spec: random needs shape=AxB or n; received {text!r}")
        q = 2 if name in ("parity", "xorsat") else positive_int(p["q"], "q")
        if name == "iid" and p["marginal"] is not None:
            q = len(_marginal(p["marginal"]))
        return (q,) * positive_int(p["n"], "n")
    except ModelError as exc:
        raise type(exc)(f"{exc} (from the spec {text!r})") from exc


def from_spec(text: str, *, backend: str | None = None, device: Any = None) -> Distribution:
    """Build the law a model string names (see the module docstring for the grammar).

    Examples
    --------
    >>> from_spec("parity:n=3").shape
    (2, 2, 2)
    >>> from_spec("ising:graph=grid2x2,coupling=0.3").n
    4
    >>> from_spec("potts:graph=grid2x3,q=3,coupling=0.5").shape  # a 2 x 3 grid, 3 colours
    (3, 3, 3, 3, 3, 3)
    >>> from_spec("example:cancer").names[0]
    'Pollution'
    >>> from_spec("parity:m=3")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    exactmd.errors.ModelError: spec: parity takes the parameters n as key=value; received 'm=3'...
    """
    if isinstance(text, (str, os.PathLike)) and _is_path(os.fspath(text)):
        return load(os.fspath(text), backend=backend, device=device)
    name, p = parse_spec(text)
    kw: dict[str, Any] = {"backend": backend, "device": device}
    try:
        if name == "example":
            if p["name"] not in EXAMPLES:
                raise ModelError(
                    f"spec: unknown example {p['name']!r}; known: {', '.join(EXAMPLES)}"
                )
            return load_example(p["name"], **kw)
        if name == "parity":
            return parity(p["n"], **kw)
        if name in ("ising", "potts"):
            q = 2 if name == "ising" else positive_int(p["q"], "q")
            shape = (q,) * graph_size(str(p["graph"]), p["n"])
            plan_cells(shape, resolve_backend(None, None), copies=1.0, name="n")  # graph next
            graph = make_graph(str(p["graph"]), p["n"])
            if name == "ising":
                return ising(graph, p["coupling"], p["field"], **kw)
            return potts(graph, p["q"], p["coupling"], **kw)
        if name in ("markov", "hmm"):
            init, t = _chain(p["q"], p["stay"])
            if name == "markov":
                return markov_chain(init, t, p["n"], **kw)
            noise = real_parameter(p["noise"], "noise", minimum=0, maximum=1)
            _, e = _chain(p["q"], 1.0 - noise)
            return hmm(init, t, e, p["n"], **kw)
        if name == "block_copy":
            return block_copy(_sizes(p["blocks"], "blocks"), p["q"], **kw)
        if name == "xorsat":
            return random_xorsat(p["n"], p["m"], p["k"], p["seed"], **kw)
        if name == "iid":
            if p["marginal"] is not None:
                marginal = _marginal(p["marginal"])
            else:
                q = positive_int(p["q"], "q")
                marginal = list(np.full(q, 1.0 / q))
            return iid(marginal, p["n"], **kw)
        if p["shape"] is not None:
            dims = _sizes(p["shape"], "shape")
        elif p["n"] is None:
            raise ModelError(f"spec: random needs shape=AxB or n; received {text!r}")
        else:
            dims = [p["q"]] * p["n"]
        return random_joint(dims, p["alpha"], p["seed"], p["zeros"], **kw)
    except ModelError as exc:
        raise type(exc)(f"{exc} (from the spec {text!r})") from exc
    except ValidationError:
        raise
    except (TypeError, ValueError) as exc:
        raise ModelError(f"spec: bad parameter values in {text!r}: {exc}") from exc
