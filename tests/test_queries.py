"""The public queries (exactmd.enumeration.queries): any input, host results, strict variable
indices."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from brute import brute_conditional, brute_entropy_of, brute_marginal, brute_subset_entropies
from helpers import random_law

from exactmd.enumeration.plan import MemoryPlan
from exactmd.enumeration.queries import (
    conditional,
    marginal,
    masked_tensor,
    plan_subset_entropies,
    subset_entropies,
    subset_entropy,
)
from exactmd.errors import MemoryPlanError, ValidationError
from exactmd.law.distribution import as_distribution

SHAPES = [(2, 3, 2), (3, 2), (2, 2, 2, 2)]


def _inputs(p: np.ndarray, backend: str) -> list[Any]:
    """The same law as a plain array, nested lists and a Distribution (of the backend)."""
    if backend == "numpy":
        return [p, p.tolist(), as_distribution(p)]
    import torch

    t = torch.as_tensor(p)
    return [t, as_distribution(t), as_distribution(p, backend="torch", dtype="float32")]


def _brute_masked(p: np.ndarray) -> np.ndarray:
    """M[y] by enumeration: the mass of the joint outcomes agreeing with y off the mask."""
    out = np.zeros(tuple(q + 1 for q in p.shape))
    for y in itertools.product(*(range(q + 1) for q in p.shape)):
        index = tuple(slice(None) if v == q else v for v, q in zip(y, p.shape, strict=True))
        out[y] = p[index].sum()
    return out


@pytest.mark.parametrize("shape", SHAPES)
def test_public_queries_take_any_input_and_return_host_values(
    backend: str, shape: tuple[int, ...]
) -> None:
    p = random_law(shape, seed=sum(shape))
    tol = 1e-12
    expected_h = brute_subset_entropies(p)
    expected_m = _brute_masked(p)
    for x in _inputs(p, backend):
        low = isinstance(x, type(as_distribution(p))) and x.backend.dtype == "float32"
        t = 1e-5 if low else tol
        for k in range(len(shape) + 1):
            for s in itertools.combinations(range(len(shape)), k):
                m = marginal(x, list(s))
                assert type(m) is np.ndarray and m.dtype == np.float64
                np.testing.assert_allclose(m, brute_marginal(p, s), atol=t)
                h = subset_entropy(x, s)
                assert type(h) is float
                assert abs(h - brute_entropy_of(p, s)) <= 10 * t
        hs = subset_entropies(x)
        assert type(hs) is np.ndarray and hs.dtype == np.float64 and hs.shape == (2,) * len(shape)
        for b in itertools.product((0, 1), repeat=len(shape)):
            subset = frozenset(i for i in range(len(shape)) if b[i])
            assert abs(hs[b] - expected_h[subset]) <= 10 * t
        mt = masked_tensor(x)
        assert type(mt) is np.ndarray and mt.dtype == np.float64
        np.testing.assert_allclose(mt, expected_m, atol=t)
        c = conditional(x, 0, {1: 1})
        assert type(c) is np.ndarray and c.dtype == np.float64
        np.testing.assert_allclose(c, brute_conditional(p, 0, {1: 1}), atol=10 * t)


def test_results_are_copies_not_the_cache() -> None:
    d = as_distribution(random_law((2, 3), seed=4))
    h = subset_entropies(d)
    h[...] = -1.0
    assert subset_entropies(d)[0, 1] > 0
    m = masked_tensor(d)
    m[...] = 7.0
    assert masked_tensor(d)[-1, -1] == 1.0


def test_symbolic_laws_give_exact_values() -> None:
    import sympy

    law = [[Fraction(1, 2), Fraction(0)], [Fraction(1, 4), Fraction(1, 4)]]
    assert subset_entropy(law, [0]) == sympy.log(2)
    m = marginal(law, [1])
    assert m.dtype == object and m.tolist() == [sympy.Rational(3, 4), sympy.Rational(1, 4)]
    assert conditional(law, 1, {0: 1}).tolist() == [sympy.Rational(1, 2)] * 2
    assert masked_tensor(law)[2, 2] == 1
    assert subset_entropies(law).dtype == object


# untyped aliases: these calls break the annotations on purpose
_marginal: Any = marginal
_subset_entropy: Any = subset_entropy
_conditional: Any = conditional


@pytest.mark.parametrize(
    ("call", "fragments"),
    [
        (lambda p: _marginal(p, [0.9]), ["subset: ", "ints", "[0.9]"]),
        (lambda p: _marginal(p, [np.float64(1.0)]), ["subset: ", "ints"]),
        (lambda p: _marginal(p, [True]), ["subset: ", "bools", "[True]"]),
        (lambda p: _marginal(p, "01"), ["subset: ", "collection", "'01'"]),
        (lambda p: _marginal(p, 0), ["subset: ", "collection", "0"]),
        (lambda p: _subset_entropy(p, [1.5]), ["subset: ", "ints", "[1.5]"]),
        (lambda p: _conditional(p, 1.9, {0: 1}), ["i: ", "int", "1.9"]),
        (lambda p: _conditional(p, True, {}), ["i: ", "bool", "True"]),
        (lambda p: _conditional(p, 1, {0.0: 1}), ["i and given: ", "ints", "0.0"]),
        (lambda p: _conditional(p, 1, {0: 0.5}), ["given: ", "variable 0", "0.5"]),
        (lambda p: _conditional(p, 1, {0: True}), ["given: ", "variable 0", "True"]),
        (lambda p: _conditional(p, 1, [0]), ["given: ", "mapping", "[0]"]),
    ],
)
def test_indices_are_validated_not_truncated(
    call: Callable[[Any], Any], fragments: list[str]
) -> None:
    p = random_law((2, 3, 2), seed=7)
    with pytest.raises(ValidationError) as info:
        call(p)
    assert isinstance(info.value, ValueError)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_numpy_integers_are_indices() -> None:
    p = random_law((2, 3, 2), seed=8)
    idx = np.array([2, 0])
    # the law is normalised at validation (one rounding), the brute force sums the raw table
    np.testing.assert_allclose(marginal(p, idx), brute_marginal(p, [0, 2]), rtol=1e-15)
    np.testing.assert_array_equal(
        conditional(p, np.int64(1), {np.int32(0): np.int64(1)}), conditional(p, 1, {0: 1})
    )


def test_plan_from_a_shape_a_name_or_a_law() -> None:
    from exactmd.backends import get_backend

    plan = plan_subset_entropies((2,) * 26, "numpy", available=2**40)
    assert isinstance(plan, MemoryPlan) and plan.path == "streamed"
    plan_be = plan_subset_entropies((2,) * 26, get_backend(name="numpy"), available=2**40)
    assert plan == plan_be
    # from a shape the table itself (2^26 float64) is counted; from a law it is in memory
    p = random_law((2, 3, 2), seed=1)
    from_shape = plan_subset_entropies([2, 3, 2], available=2**30)
    from_law = plan_subset_entropies(p, available=2**30)
    assert from_shape.bytes_needed == from_law.bytes_needed + p.size * 8
    with pytest.raises(MemoryPlanError, match=r"\(100 bytes\) are available"):
        plan_subset_entropies((2,) * 10, available=100)
    with pytest.raises(ValidationError, match="shape"):
        plan_subset_entropies((2, 0))
    d = as_distribution(p)
    masked_tensor(d)
    assert plan_subset_entropies(d, available=2**30).path == "cached"


def test_plan_of_a_torch_law(backend: str, as_backend: Callable[[Any], Any]) -> None:
    p = as_backend(random_law((2, 2, 3), seed=2))
    plan = plan_subset_entropies(p, available=2**30)
    assert plan.path == "full" and plan.bytes_needed <= 2**30


def test_the_package_exports_the_public_versions() -> None:
    import exactmd
    from exactmd.enumeration import queries

    for name in queries.__all__:
        assert getattr(exactmd.enumeration, name) is getattr(queries, name), name
    p = np.array([[0.5, 0.0], [0.0, 0.5]])
    assert type(exactmd.enumeration.subset_entropy(p, [0])) is float
    assert exactmd.marginal(p, [1]).tolist() == [0.5, 0.5]
