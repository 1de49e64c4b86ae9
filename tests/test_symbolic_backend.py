"""The numeric code paths on the symbolic backend, against the exact oracle of
``tests/symbolic_oracle.py`` (sympy brute force over permutations, ordered partitions, reveal
steps and contexts, written without exactmd).

Every comparison is exact: rationals with ``==``, expressions by ``symbolic_oracle.is_zero`` of
their difference (logs of rationals split into logs of primes, expanded; ``simplify`` only with
free symbols). Laws: random rationals with zeros on mixed alphabets (2, 3), (2, 2, 2), (3, 2, 2),
(2, 3, 2), and laws with free symbols.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
import symbolic_oracle as oracle
import sympy as sp

from exactmd.enumeration.masked import masked_tensor, subset_entropies
from exactmd.law.distribution import SymbolicDistribution, as_distribution
from exactmd.measures.information import information_profile, kl, mean_subset_entropies
from exactmd.sampler.learning import learning_error
from exactmd.sampler.p_alg import output_distribution
from exactmd.schedules.factorization import factorization_error
from exactmd.schedules.kinds import RandomRevealSchedule
from exactmd.symbolic import general_law, symmetric_pair

SHAPES = [(2, 3), (2, 2, 2), (3, 2, 2), (2, 3, 2)]


def _rational_law(shape: tuple[int, ...], seed: int) -> Any:
    """A random law of exact rationals with zeros (about a third of the cells)."""
    rng = np.random.default_rng(seed)
    weights = rng.integers(0, 4, size=int(np.prod(shape)))
    weights[rng.random(weights.size) < 0.3] = 0
    weights[0] += 1
    total = int(weights.sum())
    return sp.Array([sp.Rational(int(w), total) for w in weights], shape)


def _schedules(n: int) -> list[tuple[Any, Any]]:
    """(exactmd schedule, oracle schedule) pairs: sizes, partitions, random-reveal grids
    (floats that are not dyadic, so an inexact weight would show)."""
    sizes = [[n], [1] * n, [2, n - 2] if n > 2 else [1, 1], [1, n - 1]]
    parts = [[[n - 1], list(range(n - 1))], [[0, n - 1], list(range(1, n - 1))]]
    parts = [[b for b in p if b] for p in parts]
    grids = [(1.0, 0.5, 0.0), (1.0, 2 / 3, 1 / 3, 0.0), (1.0, 0.7, 0.1, 0.0)]
    out: list[tuple[Any, Any]] = [(s, ("sizes", s)) for s in sizes]
    out += [(p, ("partition", p)) for p in parts]
    out += [(RandomRevealSchedule(g), ("grid", g)) for g in grids]
    return out


def _table(p_alg: Any) -> dict[tuple[int, ...], Any]:
    arr = np.asarray(p_alg, dtype=object)
    return {x: arr[x] for x in itertools.product(*(range(s) for s in arr.shape))}


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_measures_and_tensor_on_the_backend_match_the_oracle(shape: tuple[int, ...]) -> None:
    law = _rational_law(shape, seed=sum(shape))
    d = as_distribution(law)
    assert isinstance(d, SymbolicDistribution) and d.backend.exact
    table, _ = oracle.as_law(law)
    n = len(shape)
    m = masked_tensor(d)
    for y in itertools.product(*(range(q + 1) for q in shape)):
        fixed = {i: v for i, v in enumerate(y) if v < shape[i]}
        assert m[y] == sum(v for x, v in table.items() if all(x[i] == a for i, a in fixed.items()))
    assert m[shape] == 1 and isinstance(m[shape], sp.Integer)
    h = subset_entropies(d)
    for b in itertools.product((0, 1), repeat=n):
        subset = [i for i in range(n) if b[i]]
        assert not isinstance(h[b], sp.Float)
        assert oracle.is_zero(h[b] - oracle.subset_entropy(table, subset)), (b, h[b])
    f = information_profile(d)
    assert isinstance(f, list) and len(f) == n
    for got, want in zip(f, oracle.profile(table, n), strict=True):
        assert oracle.is_zero(got - want), (got, want)
    hbar = mean_subset_entropies(d)
    assert oracle.is_zero(hbar[-1] - oracle.subset_entropy(table, range(n)))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_efact_palg_and_kl_on_the_backend_match_the_oracle(shape: tuple[int, ...]) -> None:
    law = _rational_law(shape, seed=7 * len(shape) + shape[0])
    table, _ = oracle.as_law(law)
    n = len(shape)
    for sched, spec in _schedules(n):
        e = factorization_error(law, sched)
        assert isinstance(e, sp.Expr) and not e.atoms(sp.Float)
        assert oracle.is_zero(e - oracle.factorization_error(table, n, spec)), (sched, e)
        p_alg = output_distribution(law, sched)
        assert p_alg.dtype == object and p_alg.shape == shape
        want = oracle.output_distribution(table, shape, spec)
        assert _table(p_alg) == want, sched  # rationals: equal exactly
        assert oracle.is_zero(kl(law, p_alg) - oracle.kl(table, want))


def test_a_float_grid_is_read_as_its_decimals() -> None:
    """(1, 2/3, 1/3, 0) as floats: r_2 = 1/2 of 0.6666666666666666 and so on, exactly."""
    law = _rational_law((2, 2, 2), seed=3)
    table, shape = oracle.as_law(law)
    grid = (1.0, 2 / 3, 1 / 3, 0.0)
    p_alg = _table(output_distribution(law, RandomRevealSchedule(grid)))
    assert p_alg == oracle.output_distribution(table, shape, ("grid", grid))
    assert sum(p_alg.values()) == 1
    third = sp.Rational("0.6666666666666666")
    assert third != sp.Rational(2, 3)  # the decimal, not 2/3: what "read exactly" means


def test_denoisers_on_the_backend_match_the_oracle() -> None:
    law = _rational_law((2, 3, 2), seed=11)
    table, shape = oracle.as_law(law)
    n, q = len(shape), max(shape)
    model = np.zeros((n, q))
    for i, s in enumerate(shape):
        model[i, :s] = np.arange(1, s + 1) / (s * (s + 1) / 2)  # 1/6, 2/6, 3/6: not dyadic

    def skewed(tokens: np.ndarray) -> np.ndarray:
        return np.broadcast_to(model, (tokens.shape[0], n, q)).copy()

    a = sp.Symbol("a", positive=True)

    def symbolic(tokens: np.ndarray) -> np.ndarray:
        rows = np.zeros((tokens.shape[0], n, q), dtype=object)
        for i, s in enumerate(shape):
            rows[:, i, : s - 1] = sp.Rational(1, s)
            rows[:, i, s - 1] = sp.Rational(1, s)
        rows[:, 0, 0], rows[:, 0, 1] = a, 1 - a
        return rows

    for sched, spec in _schedules(n)[:5]:
        got = _table(output_distribution(law, sched, skewed))
        assert got == oracle.output_distribution(table, shape, spec, skewed), sched
        e = learning_error(law, sched, skewed)
        assert oracle.is_zero(e - oracle.learning_error(table, shape, spec, skewed)), sched
    sym = _table(output_distribution(law, [1, 2], symbolic))
    want = oracle.output_distribution(table, shape, ("sizes", [1, 2]), symbolic)
    assert all(sp.expand(sym[x] - want[x]) == 0 for x in want)
    assert a in sym[(0, 0, 0)].free_symbols


def test_learning_error_is_infinite_where_the_model_misses() -> None:
    law = _rational_law((2, 2), seed=5)

    def certain(tokens: np.ndarray) -> np.ndarray:
        rows = np.zeros((tokens.shape[0], 2, 2))
        rows[:, :, 0] = 1.0
        return rows

    assert learning_error(law, [1, 1], certain) == sp.oo
    table, shape = oracle.as_law(law)
    assert oracle.learning_error(table, shape, ("sizes", [1, 1]), certain) == sp.oo


def test_free_symbols_on_the_backend_match_the_oracle() -> None:
    law = general_law((2, 2))
    table, shape = oracle.as_law(law)
    for sched, spec in [([2], ("sizes", [2])), ([[1], [0]], ("partition", [[1], [0]]))]:
        got = _table(output_distribution(law, sched))
        want = oracle.output_distribution(table, shape, spec)
        assert all(sp.cancel(got[x] - want[x]) == 0 for x in want), sched
    t = sp.Symbol("t", real=True)
    pair = symmetric_pair(t)
    table, _ = oracle.as_law(pair)
    e = factorization_error(pair, [2])
    assert t in e.free_symbols
    assert oracle.is_zero(e - oracle.factorization_error(table, 2, ("sizes", [2])))
