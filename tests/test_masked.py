"""The masked-marginal tensor, subset entropies, marginals and conditionals vs brute force."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from brute import brute_conditional, brute_entropy_of, brute_marginal, brute_subset_entropies
from helpers import random_law

from exactmd.backends import NumpyBackend
from exactmd.enumeration.conditionals import ZERO_CONTEXT_POLICY, conditional, exact_conditionals
from exactmd.enumeration.masked import (
    marginal,
    masked_build_bytes,
    masked_tensor,
    plan_masked,
    subset_entropies,
    subset_entropy,
    subset_index,
)
from exactmd.enumeration.plan import overlap_scratch
from exactmd.errors import MemoryPlanError, ValidationError
from exactmd.law.distribution import Distribution, as_distribution

TOL = 1e-12

SHAPES = [
    (2,),
    (3,),
    (2, 2),
    (3, 2),
    (2, 3, 2),
    (3, 3, 3),
    (2, 2, 2, 2),
    (3, 2, 2, 3),
    (2, 3, 2, 3, 2),
    (2,) * 6,
    (3,) * 5,
    (3, 2, 3, 2, 3, 2),
]


def _np(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("zeros", [0.0, 0.4])
def test_subset_entropies_vs_brute(
    shape: tuple[int, ...], zeros: float, backend: str, as_backend: Callable[[Any], Any]
) -> None:
    p = random_law(shape, seed=hash(shape) % 1000, zeros=zeros)
    d = as_distribution(as_backend(p))
    h = subset_entropies(d)
    assert isinstance(h, np.ndarray) and h.dtype == np.float64
    assert h.shape == (2,) * len(shape)
    for s, value in brute_subset_entropies(p).items():
        b = subset_index(s, len(shape))
        assert abs(h[b] - value) < TOL, (s, h[b], value)
    assert h[(0,) * len(shape)] == 0.0


@pytest.mark.parametrize("shape", [(2, 3, 2), (3, 3, 2, 2), (2,) * 5], ids=str)
def test_subset_entropy_and_marginal_vs_brute(
    shape: tuple[int, ...], backend: str, as_backend: Callable[[Any], Any]
) -> None:
    p = random_law(shape, seed=11, zeros=0.3)
    d = as_distribution(as_backend(p))
    n = len(shape)
    for k in range(n + 1):
        for s in itertools.combinations(range(n), k):
            got = d.backend.to_float(subset_entropy(d, s))
            assert abs(got - (brute_entropy_of(p, s) if s else 0.0)) < TOL
            # the subset may be given in any order; axes come back in increasing order
            m = _np(marginal(d, reversed(s)))
            np.testing.assert_allclose(m, brute_marginal(p, s), rtol=0, atol=TOL)


@pytest.mark.parametrize("shape", [(2,), (2, 3), (3, 2, 2), (2, 3, 2, 2)], ids=str)
def test_masked_tensor_entries_vs_brute(
    shape: tuple[int, ...], backend: str, as_backend: Callable[[Any], Any]
) -> None:
    p = random_law(shape, seed=12, zeros=0.3)
    d = as_distribution(as_backend(p))
    m = _np(masked_tensor(d))
    assert m.shape == tuple(q + 1 for q in shape)
    for y in itertools.product(*[range(q + 1) for q in shape]):
        # index q_i on axis i means masked: sum the joint over that axis
        index = tuple(slice(None) if v == q else v for v, q in zip(y, shape))
        assert abs(m[y] - float(np.sum(p[index]))) < TOL, y
    assert abs(m[tuple(shape)] - 1.0) < TOL
    assert masked_tensor(d) is masked_tensor(d)  # cached


@pytest.mark.parametrize("shape", [(2, 3, 2), (3, 2, 3, 2), (2, 2, 2, 2, 2)], ids=str)
def test_conditional_vs_brute_including_zero_contexts(
    shape: tuple[int, ...], backend: str, as_backend: Callable[[Any], Any]
) -> None:
    p = random_law(shape, seed=13, zeros=0.5)
    d = as_distribution(as_backend(p))
    n = len(shape)
    rng = np.random.default_rng(0)
    zero_contexts = 0
    for i in range(n):
        others = [j for j in range(n) if j != i]
        for k in range(n):
            for s in itertools.combinations(others, k):
                for _ in range(3):
                    given = {j: int(rng.integers(shape[j])) for j in s}
                    got = conditional(d, i, given)
                    want = brute_conditional(p, i, given)
                    assert got.dtype == np.float64 and got.shape == (shape[i],)
                    np.testing.assert_allclose(got, want, rtol=0, atol=TOL)
                    index = tuple(given.get(j, slice(None)) for j in range(n))
                    if float(np.sum(p[index])) == 0.0:
                        zero_contexts += 1
                        np.testing.assert_array_equal(got, np.full(shape[i], 1 / shape[i]))
    assert zero_contexts > 0  # the random law has zeros, so some contexts have probability 0
    assert ZERO_CONTEXT_POLICY == "uniform"


@pytest.mark.parametrize("shape", [(2, 3, 2), (3, 2, 2, 3), (2, 2, 3, 2, 2)], ids=str)
def test_exact_conditionals_batch_vs_brute(
    shape: tuple[int, ...], backend: str, as_backend: Callable[[Any], Any]
) -> None:
    """Heterogeneous alphabets: mask = q = max q_i; values >= q_i carry zero probability."""
    p = random_law(shape, seed=14, zeros=0.5)
    p[0, 1] = 0.0  # the context x_0 = 0, x_1 = 1 has probability 0
    p /= p.sum()
    d = as_distribution(as_backend(p))
    n, q = len(shape), max(shape)
    rng = np.random.default_rng(1)
    batch = 60
    tokens = np.array(
        [[int(rng.integers(s)) if rng.random() < 0.5 else q for s in shape] for _ in range(batch)]
    )
    tokens[0] = q  # all masked
    tokens[1] = [s - 1 for s in shape]  # none masked
    tokens[2] = [0, 1] + [q] * (n - 2)  # a zero context
    out = exact_conditionals(d, tokens)
    assert type(out).__module__.startswith(backend)
    probs = _np(out)
    assert probs.shape == (batch, n, q)
    saw_zero_context = False
    for b in range(batch):
        given = {j: int(tokens[b, j]) for j in range(n) if tokens[b, j] != q}
        index = tuple(given.get(j, slice(None)) for j in range(n))
        zero_context = float(np.sum(p[index])) == 0.0
        saw_zero_context |= zero_context and len(given) < n
        for i in range(n):
            row = probs[b, i]
            np.testing.assert_array_equal(row[shape[i] :], 0.0)
            if i in given:
                expect = np.zeros(q)
                expect[given[i]] = 1.0
                np.testing.assert_array_equal(row, expect)
            else:
                want = brute_conditional(p, i, given)
                np.testing.assert_allclose(row[: shape[i]], want, rtol=0, atol=TOL)
                if zero_context:
                    np.testing.assert_array_equal(row[: shape[i]], 1 / shape[i])
            assert abs(row.sum() - 1.0) < TOL
    assert saw_zero_context


def test_exact_conditionals_accepts_torch_tokens() -> None:
    torch = pytest.importorskip("torch")
    p = random_law((2, 3, 2), seed=15)
    tokens = np.array([[0, 3, 3], [3, 2, 1], [3, 3, 3]])
    d_np = as_distribution(p)
    d_t = as_distribution(torch.as_tensor(p))
    want = exact_conditionals(d_np, tokens)
    got = exact_conditionals(d_t, torch.as_tensor(tokens))
    assert isinstance(got, torch.Tensor)
    np.testing.assert_allclose(_np(got), want, rtol=0, atol=1e-15)


@pytest.mark.parametrize("shape", [(2, 3, 2), (3, 3, 2, 2, 3), (2,) * 6], ids=str)
def test_torch_agrees_with_numpy(shape: tuple[int, ...]) -> None:
    torch = pytest.importorskip("torch")
    p = random_law(shape, seed=16, zeros=0.3)
    d_np = as_distribution(p)
    d_t = as_distribution(torch.as_tensor(p))
    assert d_t.backend.name == "torch"
    np.testing.assert_allclose(subset_entropies(d_t), subset_entropies(d_np), rtol=0, atol=1e-10)
    np.testing.assert_allclose(_np(masked_tensor(d_t)), masked_tensor(d_np), rtol=0, atol=1e-10)
    q = max(shape)
    rng = np.random.default_rng(2)
    tokens = np.where(rng.random((40, len(shape))) < 0.5, q, 0)
    np.testing.assert_allclose(
        _np(exact_conditionals(d_t, tokens)), exact_conditionals(d_np, tokens), atol=1e-10
    )


def test_subset_entropies_cache_does_not_keep_masked_tensor() -> None:
    d = as_distribution(random_law((2, 3, 2), seed=17))
    h1 = subset_entropies(d)
    assert d._derived.masked is None
    assert subset_entropies(d) is h1
    d2 = as_distribution(random_law((2, 3, 2), seed=17))
    m = masked_tensor(d2).copy()
    np.testing.assert_allclose(subset_entropies(d2), h1, rtol=0, atol=TOL)
    # computing the entropies must not overwrite the cached masked tensor in place
    np.testing.assert_array_equal(masked_tensor(d2), m)


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tokens", "fragments"),
    [
        (np.zeros((2, 2), dtype=np.int64), ["tokens: ", "(B, 3)", "(2, 2)"]),
        (np.zeros(3, dtype=np.int64), ["tokens: ", "(B, 3)", "(3,)"]),
        (np.zeros((1, 3)), ["tokens: ", "integers", "float64"]),
        (np.array([[0, 0, 4]]), ["tokens: ", "(0, 2)", "range(2)", "mask 3", "4"]),
        (np.array([[0, -1, 3]]), ["tokens: ", "(0, 1)", "-1"]),
        # value 2 is the mask of nothing: axis 0 has 2 values and the mask is 3
        (np.array([[3, 0, 0], [2, 0, 0]]), ["tokens: ", "(1, 0)", "range(2)", "received 2"]),
    ],
)
def test_bad_tokens(tokens: np.ndarray, fragments: list[str]) -> None:
    d = as_distribution(random_law((2, 3, 2), seed=18))
    with pytest.raises(ValidationError) as info:
        exact_conditionals(d, tokens)
    assert isinstance(info.value, ValueError)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


@pytest.mark.parametrize(
    ("call", "fragments"),
    [
        (lambda d: marginal(d, [0, 3]), ["subset: ", "range(N)", "N=3", "[0, 3]"]),
        (lambda d: marginal(d, [-1]), ["subset: ", "[-1]"]),
        (lambda d: marginal(d, [1, 1]), ["subset: ", "repeat", "[1, 1]"]),
        (
            lambda d: subset_entropy(d, ["a"]),  # type: ignore[list-item]
            ["subset: ", "indices", "['a']"],
        ),
        (lambda d: subset_index([5], 3), ["subset: ", "[5]"]),
        (lambda d: conditional(d, 3, {}), ["i and given: ", "[3]"]),
        (lambda d: conditional(d, 0, {0: 1}), ["i and given: ", "repeat", "[0, 0]"]),
        (lambda d: conditional(d, 0, {1: 7}), ["given: ", "variable 1", "range(3)", "7"]),
        (lambda d: conditional(d, 0, {1: -1}), ["given: ", "range(3)", "-1"]),
        (lambda d: conditional(d, 0, {2: 1.5}), ["given: ", "range(2)", "1.5"]),  # type: ignore[dict-item]
        (lambda d: conditional(d, 0, {2: "1"}), ["given: ", "range(2)", "'1'"]),  # type: ignore[dict-item]
    ],
)
def test_bad_subsets(call: Callable[[Distribution], Any], fragments: list[str]) -> None:
    d = as_distribution(random_law((2, 3, 2), seed=19))
    with pytest.raises(ValidationError) as info:
        call(d)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_memory_plan_refuses_before_allocating() -> None:
    be = NumpyBackend()
    # a zero-stride view: 2**40 logical entries, no memory behind them
    huge = Distribution(np.broadcast_to(np.float64(0.0), (2,) * 40), be)
    with pytest.raises(MemoryPlanError) as info:
        masked_tensor(huge)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert message.startswith("p: ")
    needed = masked_build_bytes(huge)  # built in place: one masked-size array (+ numpy's copies)
    assert 3**40 * 8 < needed < 2 * 3**40 * 8
    assert f"needs about {needed / 2**30:.2f} GiB" in message
    assert "(3, 3, 3" in message
    with pytest.raises(MemoryPlanError):
        subset_entropies(huge)


def test_memory_plan_for_small_law() -> None:
    d = as_distribution(random_law((2, 3), seed=20))
    plan = plan_masked(d)
    assert plan.path == "full"
    assert plan.bytes_needed == (3 * 4 + overlap_scratch((2, 3))) * 8  # one buffer, in place
    assert plan.bytes_needed <= plan.bytes_available
    from fractions import Fraction

    exact = as_distribution(np.full((2, 4), Fraction(1, 8), dtype=object))  # Kronecker blocks
    assert not exact.backend.inplace
    assert plan_masked(exact).bytes_needed == 3 * 5 * exact.backend.itemsize * 2
    assert "GiB needed" in str(plan)


# -- symbolic laws: exact results, never rounded ------------------------------------------------


def _rational_law(shape: tuple[int, ...], seed: int) -> Any:
    """A random law of exact rationals with zeros, and its float64 twin."""
    import sympy as sp

    rng = np.random.default_rng(seed)
    weights = rng.integers(0, 4, size=shape)
    weights.flat[0] += 1
    total = int(weights.sum())
    exact = np.empty(shape, dtype=object)
    exact.reshape(-1)[:] = [sp.Rational(int(w), total) for w in weights.reshape(-1)]
    return exact, weights / total


@pytest.mark.parametrize("shape", [(2, 3), (3, 2, 2), (2, 2, 3)], ids=str)
def test_subset_entropies_of_a_symbolic_law_are_exact(shape: tuple[int, ...]) -> None:
    import sympy as sp

    exact, p = _rational_law(shape, seed=len(shape))
    d = as_distribution(exact)
    h = subset_entropies(d)
    assert h.dtype == object and h.shape == (2,) * len(shape)
    brute = brute_subset_entropies(p)
    for b in itertools.product((0, 1), repeat=len(shape)):
        assert isinstance(h[b], sp.Expr) and not isinstance(h[b], sp.Float), h[b]
        subset = frozenset(i for i in range(len(shape)) if b[i])
        assert abs(float(sp.N(h[b], 30)) - brute[subset]) < TOL


def test_subset_entropies_with_free_symbols() -> None:
    import sympy as sp

    from exactmd.symbolic import exact_subset_entropies, simplify_exact, symmetric_pair

    t = sp.Symbol("t", real=True)
    d = as_distribution(symmetric_pair(t))
    h = subset_entropies(d)
    assert h.dtype == object
    assert all(h[b] == exact_subset_entropies(d)[b] for b in itertools.product((0, 1), repeat=2))
    assert simplify_exact(h[1, 0] - sp.log(2)) == 0
    assert t in h[1, 1].free_symbols
    value = float(sp.N(h[1, 1].subs(t, sp.Rational(1, 3)), 30))
    ref = _rational_twin_entropy(sp.Rational(1, 3))
    assert abs(value - ref) < TOL


def _rational_twin_entropy(t: Any) -> float:
    p = np.array([[(1 + t) / 4, (1 - t) / 4], [(1 - t) / 4, (1 + t) / 4]], dtype=np.float64)
    return brute_entropy_of(p, [0, 1])


def test_conditionals_of_a_symbolic_law_are_exact() -> None:
    import sympy as sp

    t = sp.Symbol("t", positive=True)
    third = sp.Rational(1, 3)
    # x_1 = 1 has probability exactly 0; q_0 = 3, so the zero-context rule gives exactly 1/3
    table = [[t, 0], [1 - t, 0], [0, 0]]
    d = as_distribution(sp.Array(table))
    row = conditional(d, 0, {1: 1})
    assert row.dtype == object and row.tolist() == [third, third, third]
    assert conditional(d, 0, {1: 0}).tolist() == [t, 1 - t, 0]
    tokens = np.array([[3, 1], [3, 0], [1, 3], [3, 3]])
    probs = exact_conditionals(d, tokens)
    assert probs[0, 0].tolist() == [third, third, third]
    assert [sp.simplify(v) for v in probs[1, 0].tolist()] == [t, 1 - t, 0]
    assert probs[2, 1].tolist() == [1, 0, 0]
    assert probs[2, 0].tolist() == [0, 1, 0]  # an unmasked position: its one-hot
    assert [sp.simplify(v) for v in probs[3, 0].tolist()] == [t, 1 - t, 0]
    # the same numbers as the float law, at a rational point
    point = sp.Rational(2, 7)
    ref = np.array([[2 / 7, 0], [5 / 7, 0], [0, 0]])
    for given in ({1: 0}, {1: 1}, {}):
        got = [float(v.subs(t, point)) for v in conditional(d, 0, given)]
        np.testing.assert_allclose(got, brute_conditional(ref, 0, given), atol=TOL)
