"""pgmpy models to exact joints: :func:`from_pgmpy` and the factor contraction behind it.

A discrete graphical model is a product of factors, π(x) = (1/Z) Π_a φ_a(x_{S_a}). The joint is
enumerated from the factors' numpy tables (on numpy, by broadcast products into one table in
place; on torch, by one ``torch.einsum``), never through pgmpy's factor products, and then
normalised exactly by Z = Σ_x Π_a φ_a(x_{S_a}) (Z = 1 up to rounding for a Bayesian network).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from exactmd.backends import Backend, to_host
from exactmd.errors import ModelError, describe
from exactmd.law.distribution import Distribution
from exactmd.models._base import finish, one_line, plan_cells, quiet_pgmpy, resolve_backend

__all__ = [
    "from_pgmpy",
    "contract_factors",
    "joint_from_factors",
    "order_variables",
    "normalise_conditional",
    "CPD_ATOL",
]

#: Tolerance on the column sums of a CPD (pgmpy's own ``check_model`` allows 0.01).
#: Columns within it are renormalised exactly; columns outside it are an error.
CPD_ATOL = 1e-6

Factor = tuple[np.ndarray, Sequence[int]]


def contract_factors(factors: Sequence[Factor], shape: Sequence[int], backend: Backend) -> Any:
    """The unnormalised product Π_a φ_a as a native array of ``shape``.

    numpy multiplies each factor, broadcast, into one preallocated table in place (peak memory:
    one table; about as fast as ``numpy.einsum(optimize="greedy")`` at N = 22–24 and lighter);
    torch contracts all factors with one ``torch.einsum`` on the backend's device.

    Parameters
    ----------
    factors
        Pairs ``(values, axes)``: ``values`` has one axis per entry of ``axes`` (indices into
        ``shape``), in that order.
    shape
        Alphabet sizes of the output, axis ``i`` of size ``shape[i]``.
    backend
        The numpy or torch backend that will hold the result.

    Examples
    --------
    >>> import numpy as np
    >>> from exactmd.backends import get_backend
    >>> a = np.array([0.5, 0.5]); b = np.array([[0.9, 0.1], [0.2, 0.8]])
    >>> out = contract_factors([(a, [0]), (b, [0, 1])], (2, 2), get_backend(name="numpy"))
    >>> out.tolist()
    [[0.45, 0.05], [0.1, 0.4]]
    """
    n = len(shape)
    if backend.name != "torch":
        table = np.ones(tuple(int(q) for q in shape))
        for values, axes in factors:
            ax = [int(i) for i in axes]
            vals = np.transpose(np.asarray(values, dtype=np.float64), np.argsort(ax))
            bshape = [1] * n
            for a in ax:
                bshape[a] = int(shape[a])
            table *= vals.reshape(bshape)
        return table
    covered = {int(i) for _, axes in factors for i in axes}
    ops: list[Any] = []
    for values, axes in factors:
        ops.append(np.ascontiguousarray(values, dtype=np.float64))
        ops.append([int(i) for i in axes])
    for i in range(n):  # an axis no factor touches is uniform (factor 1)
        if i not in covered:
            ops.append(np.ones(int(shape[i])))
            ops.append([i])
    torch = backend.torch  # type: ignore[attr-defined]
    dev = backend.device  # type: ignore[attr-defined]
    targs = [
        torch.as_tensor(x, dtype=torch.float64, device=dev) if k % 2 == 0 else x
        for k, x in enumerate(ops)
    ]
    result = torch.einsum(*targs, list(range(n)))
    return result.to(dtype=torch.float32) if backend.dtype == "float32" else result


def _kind(model: Any) -> str:
    try:
        from pgmpy.models import DiscreteBayesianNetwork, DiscreteMarkovNetwork, FactorGraph
    except ImportError as exc:  # pragma: no cover - exercised only without pgmpy
        raise ImportError("from_pgmpy needs pgmpy: pip install 'exactmd[models]'") from exc
    if isinstance(model, DiscreteBayesianNetwork):
        return "bn"
    if isinstance(model, DiscreteMarkovNetwork):
        return "mn"
    if isinstance(model, FactorGraph):
        return "fg"
    raise ModelError(
        "model: must be a pgmpy DiscreteBayesianNetwork, DiscreteMarkovNetwork or FactorGraph; "
        f"received {type(model).__name__} {describe(model, 60)}"
    )


def _values(factor: Any, name: Hashable) -> np.ndarray:
    arr = to_host(factor.values, dtype=np.float64)  # pgmpy's torch backend gives tensors
    if not np.all(np.isfinite(arr)):
        raise ModelError(f"model: the factor of {name!s} has NaN or infinite values")
    if np.any(arr < 0):
        raise ModelError(
            f"model: the factor of {name!s} has negative values (min {float(arr.min()):.6g})"
        )
    return arr


def normalise_conditional(table: np.ndarray, axis: int, what: str, child: str) -> np.ndarray:
    """Check that a conditional table sums to 1 over its ``axis`` (the child) for every parent
    configuration, within :data:`CPD_ATOL`, and return it renormalised exactly.

    ``what`` names the table in the error message and ``child`` the variable summed over.

    Examples
    --------
    >>> normalise_conditional(np.array([[0.25, 1.0], [0.75, 0.0]]), 0, "model: the CPD of B", "B")
    array([[0.25, 1.  ],
           [0.75, 0.  ]])
    """
    sums = np.sum(table, axis=axis, keepdims=True)
    gap = np.abs(sums - 1.0)
    if float(np.max(gap)) > CPD_ATOL:
        raise ModelError(
            f"{what} must sum to 1 over {child} for every parent configuration (within "
            f"{CPD_ATOL:g}); one parent configuration sums to "
            f"{float(sums.flat[int(np.argmax(gap))]):.12g}"
        )
    return table / sums


def _cpd_values(cpd: Any) -> np.ndarray:
    arr = _values(cpd, f"CPD of {cpd.variable}")
    return normalise_conditional(arr, 0, f"model: the CPD of {cpd.variable!s}", str(cpd.variable))


def _collect(model: Any, kind: str) -> tuple[list[Hashable], list[tuple[np.ndarray, list[Any]]]]:
    """Variables (default order) and factors ``(values, variables)`` of a checked model."""
    if kind == "bn":
        import networkx as nx

        if not nx.is_directed_acyclic_graph(model):
            cycle = nx.find_cycle(model)
            raise ModelError(f"model: a Bayesian network must be acyclic; found the cycle {cycle}")
        variables = list(model.nodes())
        factors = []
        for node in variables:
            cpd = model.get_cpds(node)
            factors.append((_cpd_values(cpd), list(cpd.variables)))
        return variables, factors
    from pgmpy.factors.discrete import DiscreteFactor

    if kind == "fg":
        variables = [v for v in model.nodes() if not isinstance(v, DiscreteFactor)]
    else:
        variables = list(model.nodes())
    raw = list(model.get_factors())
    covered = {v for f in raw for v in f.variables}
    missing = [v for v in variables if v not in covered]
    if missing:
        raise ModelError(
            f"model: every variable needs a factor; no factor mentions {describe(missing)}"
        )
    factors = [
        (_values(f, "(" + ", ".join(map(str, f.variables)) + ")"), list(f.variables)) for f in raw
    ]
    return variables, factors


def _state_names(model: Any, kind: str, variables: Sequence[Hashable]) -> dict[Any, list[Any]]:
    found: dict[Any, list[Any]] = {}
    sources = model.get_cpds() if kind == "bn" else model.get_factors()
    for f in sources:
        for v in f.variables:
            states = list(f.state_names.get(v, [])) if getattr(f, "state_names", None) else []
            if v in found and states and states != found[v]:
                raise ModelError(
                    f"model: the state names of {v!s} differ between factors: {describe(found[v])} "
                    f"and {describe(states)}"
                )
            if states:
                found.setdefault(v, states)
    return found


def order_variables(variables: list[Any], order: Sequence[Any] | None) -> list[Any]:
    """Check that ``order`` permutes ``variables`` (matched as given or by ``str``); return it.

    Examples
    --------
    >>> order_variables(["a", "b"], ["b", "a"])
    ['b', 'a']
    """
    if order is None:
        return variables
    by_str = {str(v): v for v in variables}
    chosen: list[Hashable] = []
    for item in order:
        if item in variables:
            chosen.append(item)
        elif str(item) in by_str:
            chosen.append(by_str[str(item)])
        else:
            raise ModelError(
                f"order: {item!r} is not a variable of the model; its variables are "
                f"{describe([str(v) for v in variables])}"
            )
    if len(set(chosen)) != len(chosen) or len(chosen) != len(variables):
        raise ModelError(
            f"order: must list each of the {len(variables)} variables exactly once; received "
            f"{describe(list(order))}"
        )
    return chosen


def from_pgmpy(
    model: Any,
    order: Sequence[Any] | None = None,
    *,
    backend: str | None = None,
    device: Any = None,
    max_bytes: int | None = None,
) -> Distribution:
    """The exact, normalised joint of a pgmpy model.

    π(x) = Π_i P(x_i | x_pa(i)) for a ``DiscreteBayesianNetwork``, and
    π(x) = (1/Z) Π_a φ_a(x_{S_a}) with Z = Σ_x Π_a φ_a(x_{S_a}) for a
    ``DiscreteMarkovNetwork`` or ``FactorGraph`` (normalised exactly, unlike pgmpy's own
    variable elimination on Markov networks).

    Parameters
    ----------
    model
        A pgmpy ``DiscreteBayesianNetwork``, ``DiscreteMarkovNetwork`` or ``FactorGraph``.
    order
        The axis order, a permutation of the model's variables (names or their ``str``). The
        default is ``model.nodes()`` in insertion order (for a ``FactorGraph``, its variable
        nodes in that order); for a file this is the order the file declares its variables.
    backend, device
        ``"numpy"`` (default) multiplies the factors into one table in place; ``"torch"``
        contracts them with ``torch.einsum`` on ``device``.
    max_bytes
        A limit on the memory the enumeration may use (default: what the device has free).

    Returns
    -------
    Distribution
        Axis ``i`` is variable ``order[i]``; ``names`` holds ``str`` of the variables and
        ``state_names`` the model's state names.

    Raises
    ------
    ModelError
        A model that is not a pgmpy discrete model, a cyclic or incomplete network (a missing
        CPD or factor; the check of ``model.check_model()``), a CPD whose columns do not sum to
        1 within :data:`CPD_ATOL`, negative or non-finite factor values, a partition function
        of 0, a bad ``order``; and :class:`~exactmd.errors.ModelSizeError` (also a
        ``MemoryPlanError``) for a joint too large to enumerate, before allocating it.

    Examples
    --------
    >>> from pgmpy.models import DiscreteBayesianNetwork
    >>> from pgmpy.factors.discrete import TabularCPD
    >>> bn = DiscreteBayesianNetwork([("rain", "wet")])
    >>> bn.add_cpds(TabularCPD("rain", 2, [[0.8], [0.2]]),
    ...             TabularCPD("wet", 2, [[0.9, 0.1], [0.1, 0.9]], ["rain"], [2]))
    >>> d = from_pgmpy(bn)
    >>> d.names, d.numpy().round(3).tolist()
    (('rain', 'wet'), [[0.72, 0.08], [0.02, 0.18]])
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
        states = _state_names(model, kind, variables)
    if not variables:
        raise ModelError("model: the model has no variables")
    variables = order_variables(variables, order)
    index = {v: i for i, v in enumerate(variables)}
    shape: list[int] = [0] * len(variables)
    for values, fvars in factors:
        if values.ndim != len(fvars):
            raise ModelError(f"model: the factor over {describe(fvars)} has shape {values.shape}")
        for v, q in zip(fvars, values.shape, strict=True):
            if v not in index:
                raise ModelError(f"model: a factor mentions {v!r}, which is not a variable")
            if shape[index[v]] not in (0, q):
                raise ModelError(
                    f"model: variable {v!s} has cardinality {shape[index[v]]} in one factor "
                    f"and {q} in another"
                )
            shape[index[v]] = int(q)
    state_names = [states.get(v, list(range(q))) for v, q in zip(variables, shape, strict=True)]
    for v, s, q in zip(variables, state_names, shape, strict=True):
        if len(s) != q:
            raise ModelError(f"model: variable {v!s} has {q} states but names {describe(s)}")
    return joint_from_factors(
        [(vals, [index[v] for v in fv]) for vals, fv in factors],
        shape,
        [str(v) for v in variables],
        state_names,
        backend=backend,
        device=device,
        max_bytes=max_bytes,
    )


def _at_most_one(values: np.ndarray) -> np.ndarray:
    top = float(values.max()) if values.size else 0.0
    return values / top if top > 1.0 else values


def joint_from_factors(
    factors: Sequence[Factor],
    shape: Sequence[int],
    names: Sequence[str] | None = None,
    state_names: Sequence[Sequence[Any]] | None = None,
    *,
    backend: str | None = None,
    device: Any = None,
    max_bytes: int | None = None,
) -> Distribution:
    """π = (1/Z) Π_a φ_a as a Distribution: plan the memory, contract, normalise exactly.

    Parameters
    ----------
    factors, shape
        As in :func:`contract_factors` (non-negative, finite values).
    names, state_names
        Stored on the result.
    backend, device, max_bytes
        As in :func:`from_pgmpy`.

    Examples
    --------
    >>> import numpy as np
    >>> d = joint_from_factors([(np.array([[2.0, 1.0], [1.0, 0.0]]), [0, 1])], (2, 2))
    >>> d.numpy().tolist()
    [[0.5, 0.25], [0.25, 0.0]]
    """
    be = resolve_backend(backend, device)
    # numpy: one table built in place (plus validation masks); torch: einsum intermediates
    copies = 3.0 if be.name == "torch" else 1.5
    plan_cells(shape, be, copies=copies, name="model", max_bytes=max_bytes)
    # a factor above 1 is divided by its largest value (the law is unchanged): the product of
    # factors <= 1 cannot overflow, so huge Markov-network potentials give a law, not inf / inf
    factors = [(_at_most_one(np.asarray(v, dtype=np.float64)), axes) for v, axes in factors]
    table = contract_factors(factors, shape, be)
    total = float(table.sum())
    if not np.isfinite(total) or total <= 0:
        raise ModelError(
            f"model: the partition function Z = Σ_x Π φ(x) is {total:.6g}; the factors must give "
            "some configuration a positive, finite weight"
        )
    table /= total
    return finish(table, be, names, state_names, name="model")
