"""Exact information measures and E_fact of symbolic laws, by name.

There is one implementation of every quantity: the contract functions of
:mod:`exactmd.measures.information` and :mod:`exactmd.schedules.factorization`, which run on the
symbolic backend (:class:`exactmd.backends._symbolic.SymbolicBackend`, numpy object arrays of
sympy expressions) exactly as they run on numpy. The functions here read any input as an exact
law first (:func:`symbolic_law`: a numeric law's floats as the decimals they print as) and call
them; what is sympy-specific is :func:`simplify_exact` and :func:`float_profile`.

Examples
--------
>>> import sympy
>>> from exactmd.symbolic.law import as_symbolic_distribution
>>> half = sympy.Rational(1, 2)
>>> d = as_symbolic_distribution(sympy.Array([[half, 0], [0, half]]))
>>> symbolic_information_profile(d)
[-log(2), 0]
>>> symbolic_factorization_error(d, [2])
log(2)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from exactmd.backends._symbolic import split_integer_logs
from exactmd.enumeration.masked import masked_tensor, subset_entropies
from exactmd.law.distribution import (
    Distribution,
    SymbolicDistribution,
    as_symbolic_distribution,
)
from exactmd.measures.information import information_profile, kl, mean_subset_entropies
from exactmd.schedules.factorization import factorization_error
from exactmd.schedules.optimum import as_profile

__all__ = [
    "symbolic_law",
    "exact_masked_tensor",
    "exact_subset_entropies",
    "symbolic_mean_subset_entropies",
    "symbolic_information_profile",
    "symbolic_factorization_error",
    "symbolic_kl",
    "ordered_partitions",
    "simplify_exact",
    "is_symbolic_input",
    "float_profile",
]


def symbolic_law(p: Any, name: str = "p") -> SymbolicDistribution:
    """Return ``p`` as a symbolic law (a numeric law is read exactly, floats as decimals).

    Examples
    --------
    >>> symbolic_law([0.25, 0.75]).table.tolist()
    [1/4, 3/4]
    """
    if isinstance(p, SymbolicDistribution):
        return p
    if isinstance(p, Distribution):
        return as_symbolic_distribution(
            np.asarray(p.backend.to_numpy(p.table)).astype(object),
            name=name,
            names=p.names,
            state_names=p.state_names,
        )
    return as_symbolic_distribution(p, name=name)


def exact_masked_tensor(d: Any) -> np.ndarray:
    """The masked-marginal tensor as an object array, its all-masked corner exactly 1.

    The corner holds the total of the table, which validation proved to be 1 but which sympy
    may not have written as ``1`` (e.g. for :func:`~exactmd.symbolic.families.ising_pair`).
    """
    law = symbolic_law(d)
    return law.backend.host(masked_tensor(law))


def exact_subset_entropies(p: Any) -> np.ndarray:
    """H(X_S) for all 2^N subsets as an object array of shape ``(2,)*N`` (``H[0…0] = 0``).

    Examples
    --------
    >>> import sympy
    >>> half = sympy.Rational(1, 2)
    >>> h = exact_subset_entropies(sympy.Array([[half, 0], [0, half]]))
    >>> h[1, 0], h[1, 1], h[0, 0]
    (log(2), log(2), 0)
    """
    law = symbolic_law(p)
    return law.backend.host(subset_entropies(law))


def symbolic_mean_subset_entropies(p: Any) -> list[Any]:
    """h̄(k), k = 0..N: the mean of H(X_S) over the subsets of size k, as exact expressions."""
    return mean_subset_entropies(symbolic_law(p))  # type: ignore[return-value]


def symbolic_information_profile(p: Any) -> list[Any]:
    """The information profile ``f(i) = h̄(i) − h̄(i+1)``, i = 0..N−1, as exact expressions."""
    return information_profile(symbolic_law(p))  # type: ignore[return-value]


def symbolic_factorization_error(p: Any, schedule: Any) -> Any:
    """E_fact as an exact expression (:func:`~exactmd.schedules.factorization.factorization_error`
    on the exact law; a random-reveal grid is read as the decimals it prints as).

    Examples
    --------
    >>> import sympy
    >>> q = sympy.Rational(1, 4)
    >>> symbolic_factorization_error(sympy.Array([[q, q], [q, q]]), [[1], [0]])
    0
    """
    return factorization_error(symbolic_law(p), schedule)


def symbolic_kl(p: Any, r: Any) -> Any:
    """KL(p ‖ r) = Σ_{p(x) ≠ 0} p(x) (log p(x) − log r(x)), exactly; ``sympy.oo`` when r is
    exactly 0 where p is not.

    Entries that are not identically zero are treated as positive (the positivity assumption).

    Examples
    --------
    >>> import sympy
    >>> h = sympy.Rational(1, 2)
    >>> symbolic_kl(sympy.Array([h, h]), sympy.Array([sympy.Rational(1, 4), sympy.Rational(3, 4)]))
    -log(3)/2 + log(2)
    """
    return kl(symbolic_law(p, "p"), symbolic_law(r, "r"))


def ordered_partitions(n: int, sizes: Sequence[int]) -> Iterator[tuple[tuple[int, ...], ...]]:
    """All ordered partitions ``(z_1, …, z_K)`` of ``range(n)`` with ``|z_k| = sizes[k]``.

    Examples
    --------
    >>> list(ordered_partitions(3, [2, 1]))
    [((0, 1), (2,)), ((0, 2), (1,)), ((1, 2), (0,))]
    """

    def rec(rest: tuple[int, ...], k: int) -> Iterator[tuple[tuple[int, ...], ...]]:
        if k == len(sizes):
            if not rest:
                yield ()
            return
        for block in itertools.combinations(rest, sizes[k]):
            left = tuple(i for i in rest if i not in block)
            for tail in rec(left, k + 1):
                yield (block, *tail)

    yield from rec(tuple(range(n)), 0)


def simplify_exact(expr: Any) -> Any:
    """Simplify an exact expression, trying cheap steps first; 0 when they prove it is 0.

    Steps: ``expand``; then ``expand_log(force=True)`` (valid under the positivity assumption)
    with logs of rationals split into logs of primes; then ``sympy.simplify`` with exponentials
    rewritten. Returns the first result that is 0, else the last one.

    Examples
    --------
    >>> import sympy
    >>> x = sympy.Symbol("x", positive=True)
    >>> simplify_exact(sympy.log(4 * x) - 2 * sympy.log(2) - sympy.log(x))
    0
    """
    import sympy as sp

    e = sp.expand(sp.sympify(expr))
    if e == 0:
        return e
    e = split_integer_logs(sp.expand(sp.expand_log(e, force=True)))
    if e == 0:
        return e
    return sp.simplify(sp.expand_log(sp.simplify(e), force=True))


def is_symbolic_input(x: Any) -> bool:
    """Whether ``x`` is a symbolic law or exact profile: a symbolic Distribution, a numpy
    object array, a sympy object, or (nested) lists holding a sympy object.

    Examples
    --------
    >>> import sympy
    >>> is_symbolic_input([sympy.log(2), 0]), is_symbolic_input([0.5, 0.5])
    (True, False)
    """
    if isinstance(x, Distribution):
        return x.backend.exact
    if isinstance(x, np.ndarray):
        return x.dtype == object
    if type(x).__module__.startswith("sympy"):
        return True
    if isinstance(x, list | tuple):
        return any(is_symbolic_input(v) for v in x)
    return False


def float_profile(p_or_profile: Any) -> np.ndarray:
    """The information profile as float64, from a symbolic law or an exact 1-D profile.

    Each ``f(i)`` is evaluated to 50 digits and then rounded, for the float algorithms (the
    optimal schedule's dynamic programme, which reads exact input this way). Free symbols must
    be substituted first.

    Examples
    --------
    >>> import sympy
    >>> float_profile([-sympy.log(2), 0]).round(6).tolist()
    [-0.693147, 0.0]
    """
    if isinstance(p_or_profile, Distribution) and not p_or_profile.backend.exact:
        p_or_profile = symbolic_law(p_or_profile)
    elif not is_symbolic_input(p_or_profile):
        p_or_profile = np.asarray(p_or_profile, dtype=object)
    return as_profile(p_or_profile)
