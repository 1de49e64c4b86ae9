"""Symbolic small-N (issue 7): sympy laws in, exact expressions out, identities proved.

The 50-digit reference below is written here, independently of exactmd: mpmath at 60 digits,
entropies by summing the joint, the profile by averaging log-conditionals over ALL permutations,
E_fact from its definition (expected TC of each block given the past, averaged over ALL ordered
partitions obtained from permutations), p_alg by pushing probability mass forward block by block.

How the identities are *proved*: every quantity is an exact sympy expression in the free
parameters; ``simplify_exact`` expands it (and, under the documented positivity assumption,
``expand_log(force=True)`` with logs of rationals split into primes) and the test asserts that
the difference is the expression 0. For the Ising closed form, which needs hyperbolic identities,
the proof is by differentiation in J (the derivative simplifies to 0) plus the value at J = 0.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exactmd.backends._symbolic import SymbolicArray, SymbolicBackend, tidy, to_exact
from exactmd.errors import DenoiserError, DistributionError, MemoryPlanError, ValidationError
from exactmd.measures.information import (
    complexity,
    dual_total_correlation,
    entropy,
    information_profile,
    kl,
    mean_subset_entropies,
    total_correlation,
)
from exactmd.sampler.p_alg import output_distribution
from exactmd.schedules.factorization import factorization_error
from exactmd.schedules.kinds import RandomRevealSchedule
from exactmd.symbolic import (
    POSITIVITY,
    SymbolicDistribution,
    as_symbolic_distribution,
    block_copy_law,
    compositions,
    general_law,
    ising_pair,
    reveal_counts,
    simplify_exact,
    symbolic_output_distribution,
    symmetric_pair,
    verify_block_copy,
    verify_identities,
)

DPS = 60
TOL = mpmath.mpf(10) ** -45
LOG2 = sp.log(2)

# -- the independent 50-digit reference ---------------------------------------------------------


def _mp_table(law: Any) -> dict[tuple[int, ...], Any]:
    """A rational sympy law as {x: mpf} (exact rationals turned into 60-digit floats)."""
    arr = np.asarray(law.tolist() if hasattr(law, "tolist") else law, dtype=object)
    with mpmath.workdps(DPS):
        return {
            x: mpmath.mpf(int(sp.Rational(arr[x]).p)) / int(sp.Rational(arr[x]).q)
            for x in itertools.product(*(range(s) for s in arr.shape))
        }


def _marg(p: dict[tuple[int, ...], Any], subset: Sequence[int], x: tuple[int, ...]) -> Any:
    return mpmath.fsum(v for y, v in p.items() if all(y[i] == x[i] for i in subset))


def _mp_h(p: dict[tuple[int, ...], Any], subset: Sequence[int]) -> Any:
    groups: dict[tuple[int, ...], Any] = {}
    for x, v in p.items():
        key = tuple(x[i] for i in subset)
        groups[key] = groups.get(key, 0) + v
    return -mpmath.fsum(m * mpmath.log(m) for m in groups.values() if m > 0)


def _mp_profile(p: dict[tuple[int, ...], Any], n: int) -> list[Any]:
    """f(i) = E[log π(x_{σ(i+1)} | x_{σ(1..i)})], averaged over all N! permutations."""
    perms = list(itertools.permutations(range(n)))
    out = []
    for i in range(n):
        acc = []
        for sigma in perms:
            for x, v in p.items():
                if v == 0:
                    continue
                num = _marg(p, sigma[: i + 1], x)
                den = _marg(p, sigma[:i], x)
                acc.append(v * (mpmath.log(num) - mpmath.log(den)))
        out.append(mpmath.fsum(acc) / len(perms))
    return out


def _mp_det_error(p: dict[tuple[int, ...], Any], partition: Sequence[Sequence[int]]) -> Any:
    """Σ_k E[log π(x_{z_k} | x_c) − Σ_{i∈z_k} log π(x_i | x_c)], from the definition."""
    acc = []
    context: list[int] = []
    for block in partition:
        for x, v in p.items():
            if v == 0:
                continue
            c = _marg(p, context, x)
            joint = mpmath.log(_marg(p, [*context, *block], x) / c)
            singles = mpmath.fsum(mpmath.log(_marg(p, [*context, i], x) / c) for i in block)
            acc.append(v * (joint - singles))
        context.extend(block)
    return mpmath.fsum(acc)


def _partitions_from_permutations(
    n: int, sizes: Sequence[int]
) -> list[tuple[tuple[int, ...], ...]]:
    bounds = np.concatenate([[0], np.cumsum(sizes)]).tolist()
    found = {
        tuple(tuple(sorted(perm[a:b])) for a, b in itertools.pairwise(bounds))
        for perm in itertools.permutations(range(n))
    }
    return sorted(found)


def _mp_palg(
    p: dict[tuple[int, ...], Any], shape: tuple[int, ...], parts: list[tuple[Any, Any]]
) -> dict[tuple[int, ...], Any]:
    """Push probability mass forward block by block (uniform on zero-probability contexts)."""
    out = {x: mpmath.mpf(0) for x in p}
    for part, weight in parts:
        states: dict[tuple[tuple[int, int], ...], Any] = {(): mpmath.mpf(weight)}
        for block in part:
            new: dict[tuple[tuple[int, int], ...], Any] = {}
            for ctx, mass in states.items():
                fixed = dict(ctx)
                rows = [v for y, v in p.items() if all(y[j] == a for j, a in fixed.items())]
                den = mpmath.fsum(rows)
                conds = []
                for i in block:
                    if den == 0:
                        conds.append([mpmath.mpf(1) / shape[i]] * shape[i])
                        continue
                    conds.append(
                        [
                            mpmath.fsum(
                                v
                                for y, v in p.items()
                                if y[i] == a and all(y[j] == b for j, b in fixed.items())
                            )
                            / den
                            for a in range(shape[i])
                        ]
                    )
                for vals in itertools.product(*(range(shape[i]) for i in block)):
                    w = mass * mpmath.fprod(c[a] for c, a in zip(conds, vals))
                    key = tuple(sorted((*ctx, *zip(block, vals))))
                    new[key] = new.get(key, 0) + w
            states = new
        for ctx, mass in states.items():
            out[tuple(a for _, a in sorted(ctx))] += mass
    return out


def _close(expr: Any, ref: Any) -> bool:
    value = sp.N(expr, 50)
    assert not value.free_symbols, expr
    with mpmath.workdps(DPS):
        return bool(abs(mpmath.mpf(str(value)) - ref) < TOL)


def _rational_law(weights: Sequence[int], shape: tuple[int, ...]) -> Any:
    total = sum(weights)
    return sp.Array([sp.Rational(w, total) for w in weights], shape)


SHAPES = [(2, 2), (2, 3), (2, 2, 2), (3, 2, 2)]


@st.composite
def rational_laws(draw: Any) -> Any:
    shape = draw(st.sampled_from(SHAPES))
    size = int(np.prod(shape))
    weights = draw(st.lists(st.integers(0, 6), min_size=size, max_size=size))
    if sum(weights) == 0:
        weights[0] = 1
    return _rational_law(weights, shape)


# -- the backend --------------------------------------------------------------------------------


def test_backend_keeps_float_operands_exact() -> None:
    be = SymbolicBackend()
    x = be.asarray([sp.Rational(1, 3), 0.5, 0])
    assert isinstance(x, SymbolicArray)
    y = x * 1.0 + 0.0
    assert y.tolist() == [sp.Rational(1, 3), sp.Rational(1, 2), 0]
    assert all(not isinstance(v, sp.Float) for v in y.tolist())
    m = be.matmul(np.array([[1.0, 1.0, 1.0]]), be.reshape(x, (3, 1)))
    assert m.reshape(-1).tolist() == [sp.Rational(5, 6)]
    a = sp.Symbol("a")
    assert be.neg_xlogx_(be.asarray([a, 0, 1])).tolist() == [-a * sp.log(a), 0, 0]
    assert be.to_float(np.array(sp.log(4) / 4, dtype=object)) == sp.log(2) / 2
    assert to_exact(0.1) == sp.Rational(1, 10) and tidy(sp.log(sp.Rational(1, 8))) == -3 * LOG2


# -- validation ---------------------------------------------------------------------------------


def test_rational_tables_are_validated_exactly() -> None:
    third = sp.Rational(1, 3)
    with pytest.raises(DistributionError, match="sum to exactly 1; received a total of 2/3"):
        entropy(sp.Array([third, third]))
    with pytest.raises(DistributionError, match=">= 0; received -1/3"):
        entropy(sp.Array([-third, third, third, 2 * third]))
    with pytest.raises(DistributionError, match="finite"):
        entropy(sp.Array([sp.oo, 0]))
    with pytest.raises(DistributionError, match="real"):
        entropy(sp.Array([sp.I / 2, 1 - sp.I / 2]))
    with pytest.raises(DistributionError, match="at least one value"):
        as_symbolic_distribution(np.empty((0, 2), dtype=object))
    with pytest.raises(DistributionError, match="at least one axis"):
        as_symbolic_distribution(sp.Integer(1))
    with pytest.raises(MemoryPlanError, match="4096 outcomes"):
        as_symbolic_distribution(np.full((2,) * 13, sp.Rational(1, 2**13), dtype=object))
    # float64 rounding would accept 1/3 + 1/3 + 1/3 + 1e-30; exact validation does not
    tiny = sp.Rational(1, 10**30)
    with pytest.raises(DistributionError, match="exactly 1"):
        as_symbolic_distribution(sp.Array([third, third, third + tiny]))
    # algebraic totals are proved
    s = sp.sqrt(2) / 4
    d = as_symbolic_distribution(sp.Array([s, s, 1 - 2 * s]))
    assert d.assumptions == ()
    # floats in an object array are read as the decimals they print as
    d = as_symbolic_distribution(np.array([0.1, 0.9], dtype=object))
    assert np.asarray(d.table).tolist() == [sp.Rational(1, 10), sp.Rational(9, 10)]
    assert d.numpy().tolist() == [0.1, 0.9]


def test_free_symbols_check_the_total_and_state_assumptions() -> None:
    a = sp.Symbol("a", positive=True)
    with pytest.raises(DistributionError, match="identically"):
        as_symbolic_distribution(sp.Array([a, a]))
    with pytest.raises(DistributionError, match=">= 0"):
        as_symbolic_distribution(sp.Array([-a, 1 + a]))
    d = as_symbolic_distribution(general_law((2, 2)))
    assert isinstance(d, SymbolicDistribution) and d.backend.name == "symbolic"
    assert [str(s) for s in d.symbols] == ["p0", "p1", "p2"]
    assert d.assumptions == ("-p0 - p1 - p2 + 1 >= 0", POSITIVITY)
    with pytest.raises(ValidationError, match="free symbols"):
        d.numpy()
    t = sp.Symbol("t", real=True)
    assert as_symbolic_distribution(symmetric_pair(t)).assumptions[:2] == (
        "t/4 + 1/4 >= 0",
        "1/4 - t/4 >= 0",
    )
    # Ising entries are provably positive: only the global convention remains
    assert as_symbolic_distribution(ising_pair()).assumptions == (POSITIVITY,)
    # a large rational function (p_alg at N = 3) is checked at random points, and says so
    p_alg = symbolic_output_distribution(general_law((2, 2, 2)), [2, 1])
    notes = as_symbolic_distribution(p_alg).assumptions
    assert any("random rational points" in n for n in notes)
    broken = p_alg.copy()
    broken[0, 0, 0] = broken[0, 0, 0] * 2
    with pytest.raises(DistributionError, match="identically"):
        as_symbolic_distribution(broken)


# -- contract functions on exact inputs ---------------------------------------------------------


def _xor() -> Any:
    q = sp.Rational(1, 4)
    return sp.Array([[[q, 0], [0, q]], [[0, q], [q, 0]]])


@pytest.mark.parametrize("kind", ["array", "object", "sympy-matrix"])
def test_contract_functions_return_exact_expressions(kind: str) -> None:
    if kind == "sympy-matrix":
        half = sp.Rational(1, 2)
        law: Any = sp.Matrix([[half, 0], [0, half]])
        assert entropy(law) == LOG2 and total_correlation(law) == LOG2
        assert information_profile(law) == [-LOG2, 0]
        return
    law = _xor() if kind == "array" else np.array(_xor().tolist(), dtype=object)
    assert entropy(law) == 2 * LOG2
    assert total_correlation(law) == LOG2
    assert dual_total_correlation(law) == 2 * LOG2
    assert complexity(law) == LOG2
    assert information_profile(law) == [-LOG2, -LOG2, 0]
    assert mean_subset_entropies(law) == [0, LOG2, 2 * LOG2, 2 * LOG2]
    assert factorization_error(law, [3]) == LOG2  # K = 1: TC
    assert factorization_error(law, [[0, 1], [2]]) == 0
    assert factorization_error(law, [1, 2]) == LOG2  # -2L - f(0) - 2 f(1) = L
    assert factorization_error(law, [2, 1]) == 0  # -2L - 2 f(0) - f(2) = 0
    p_alg = output_distribution(law, [3])  # one step: product of uniform marginals
    assert np.asarray(p_alg).tolist() == np.full((2, 2, 2), sp.Rational(1, 8)).tolist()
    assert kl(law, p_alg) == LOG2
    assert kl(law, np.full((2, 2, 2), 0.125)) == LOG2  # a float r is read exactly
    assert kl(sp.Array([sp.Rational(1, 2)] * 2), sp.Array([1, 0])) == sp.oo


def test_free_symbols_stay_free_and_substitute_consistently() -> None:
    law = general_law((2, 2))
    point = dict(zip(sp.symbols("p0:3", positive=True), [sp.Rational(k, 7) for k in (1, 2, 3)]))
    concrete = law.subs(point)
    for fn in (entropy, total_correlation, dual_total_correlation, complexity):
        expr = fn(law)
        assert expr.free_symbols == set(point)
        assert simplify_exact(expr.subs(point) - fn(concrete)) == 0
    f = information_profile(law)
    assert isinstance(f, list) and len(f) == 2
    assert simplify_exact(f[0].subs(point) - information_profile(concrete)[0]) == 0


# -- identities, proved symbolically ------------------------------------------------------------

LAWS = {
    "general (2,2)": lambda: general_law((2, 2)),
    "general (2,2,2)": lambda: general_law((2, 2, 2)),
    "general (2,3)": lambda: general_law((2, 3)),
    "symmetric pair": lambda: symmetric_pair(),
    "ising pair": lambda: ising_pair(),
    "ising pair with field": lambda: ising_pair(field=sp.Symbol("h", real=True)),
}


@pytest.mark.parametrize("name", list(LAWS))
def test_identities_are_proved(name: str) -> None:
    law = LAWS[name]()
    result = verify_identities(law)
    n = len(law.shape)
    assert len(result) == 4 + 2 * len(list(compositions(n)))
    assert result == dict.fromkeys(result, 0), {k: v for k, v in result.items() if v != 0}


def test_identity_checks_are_not_vacuous() -> None:
    """The same simplifier does not prove false statements (D != TC in general)."""
    law = general_law((2, 2))
    f = information_profile(law)
    assert simplify_exact(f[-1] - f[0] - 2 * total_correlation(law)) != 0
    law3 = general_law((2, 2, 2))
    f3 = information_profile(law3)
    point = dict(zip(sp.symbols("p0:7", positive=True), [sp.Rational(k, 40) for k in range(1, 8)]))
    for wrong in (
        f3[-1] - f3[0] - total_correlation(law3),
        factorization_error(law3, [2, 1]) - factorization_error(law3, [1, 2]),
    ):
        assert sp.expand(wrong) != 0 and abs(sp.N(wrong.subs(point), 30)) > 1e-6
    assert reveal_counts([2, 1]) == [2, 2] and reveal_counts([1, 2]) == [1, 3]


@pytest.mark.parametrize(
    ("partition", "q"),
    [([[0, 1]], 2), ([[0, 1]], 3), ([[0, 2], [1]], 2), ([[0, 1, 2]], 2), ([[1], [0, 2, 3]], 2)],
)
def test_block_copy_reaches_the_worst_case(partition: list[list[int]], q: int) -> None:
    result = verify_block_copy(partition, q)
    assert result == dict.fromkeys(result, 0)
    law = block_copy_law(partition, q)
    n, k = len(law.shape), len(partition)
    # D = (1/N) Σ_i I(X_i; X_−i): log q for each position in a block of size >= 2, 0 otherwise
    copied = sum(len(b) for b in partition if len(b) >= 2)
    assert complexity(law) == tidy(sp.Rational(copied, n) * sp.log(q))
    assert factorization_error(law, partition) == (n - k) * tidy(sp.log(q))


def test_parametric_families_closed_forms() -> None:
    t = sp.Symbol("t", real=True)
    law = symmetric_pair(t)
    mi = (1 + t) / 2 * sp.log(1 + t) + (1 - t) / 2 * sp.log(1 - t)  # I(X;Y), nats
    assert simplify_exact(total_correlation(law) - mi) == 0
    assert simplify_exact(complexity(law) - mi) == 0  # N = 2: D = TC = DTC = I
    assert simplify_exact(factorization_error(law, [2]) - mi) == 0
    # Ising pair: TC = J tanh J − log cosh J, proved by d/dJ and the value at J = 0
    j = sp.Symbol("J", real=True)
    diff = total_correlation(ising_pair(j)) - (j * sp.tanh(j) - sp.log(sp.cosh(j)))
    assert sp.simplify(sp.diff(diff, j).rewrite(sp.exp)) == 0
    assert sp.simplify(diff.subs(j, 0)) == 0


# -- rational inputs against the 50-digit reference ---------------------------------------------


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(law=rational_laws(), data=st.data())
def test_rational_laws_match_a_50_digit_brute_force(law: Any, data: Any) -> None:
    shape = tuple(law.shape)
    n = len(shape)
    p = _mp_table(law)
    with mpmath.workdps(DPS):
        h_all = _mp_h(p, range(n))
        singles = mpmath.fsum(_mp_h(p, [i]) for i in range(n))
        cofaces = mpmath.fsum(_mp_h(p, [j for j in range(n) if j != i]) for i in range(n))
        assert _close(entropy(law), h_all)
        assert _close(total_correlation(law), singles - h_all)
        assert _close(dual_total_correlation(law), cofaces - (n - 1) * h_all)
        assert _close(complexity(law), (singles + cofaces - n * h_all) / n)
        for expr, ref in zip(information_profile(law), _mp_profile(p, n), strict=True):
            assert _close(expr, ref)
        sizes = data.draw(st.sampled_from(list(compositions(n))), label="sizes")
        parts = _partitions_from_permutations(n, sizes)
        ref_e = mpmath.fsum(_mp_det_error(p, z) for z in parts) / len(parts)
        assert _close(factorization_error(law, list(sizes)), ref_e)
        part = data.draw(st.sampled_from(parts), label="partition")
        assert _close(factorization_error(law, [list(b) for b in part]), _mp_det_error(p, part))
        p_alg = output_distribution(law, list(sizes))
        ref_alg = _mp_palg(p, shape, [(z, mpmath.mpf(1) / len(parts)) for z in parts])
        for x, ref in ref_alg.items():
            assert _close(p_alg[x], ref)
        ref_kl = mpmath.fsum(
            v * (mpmath.log(v) - mpmath.log(ref_alg[x])) for x, v in p.items() if v > 0
        )
        assert _close(kl(law, p_alg), ref_kl)


def test_symbolic_and_float64_engines_agree() -> None:
    """Rational laws with zeros: the exact results, rounded, match the float64 code paths."""
    rng = np.random.default_rng(7)
    for shape in [(2, 3), (2, 2, 2), (3, 2, 2)]:
        weights = rng.integers(0, 4, size=int(np.prod(shape)))
        weights[0] += 1
        law = _rational_law(weights.tolist(), shape)
        floats = np.array(weights / weights.sum(), dtype=np.float64).reshape(shape)
        for fn in (entropy, total_correlation, dual_total_correlation, complexity):
            assert math.isclose(float(fn(law)), fn(floats), rel_tol=1e-12, abs_tol=1e-12)
        assert np.allclose(
            [float(v) for v in information_profile(law)], information_profile(floats), atol=1e-12
        )
        grid = RandomRevealSchedule((1.0, 0.5, 0.25, 0.0))
        for sched in ([1, 2] if len(shape) == 3 else [1, 1], grid):
            assert math.isclose(
                float(factorization_error(law, sched)),
                factorization_error(floats, sched),
                abs_tol=1e-12,
            )
            exact = np.asarray(output_distribution(law, sched)).astype(np.float64)
            assert np.allclose(exact, output_distribution(floats, sched), atol=1e-12)


def test_random_reveal_is_exact_for_rational_grids() -> None:
    law = _xor()
    grid = RandomRevealSchedule((1.0, 0.5, 0.0))
    # each position is revealed at step 1 or 2 with probability 1/2: sizes (3), (2,1), (1,2),
    # (1,1,1)-like paths have weights 1/8, 3/8, 3/8, 1/8 (step sizes (3,0), (2,1), (1,2), (0,3))
    f = [-LOG2, -LOG2, 0]
    expected = sp.Rational(1, 4) * (sum(f) - 3 * f[0])  # K=1 paths: (3,0) and (0,3)
    expected += sp.Rational(3, 8) * (sum(f) - 2 * f[0] - f[2])
    expected += sp.Rational(3, 8) * (sum(f) - f[0] - 2 * f[1])
    assert simplify_exact(factorization_error(law, grid) - expected) == 0


# -- denoisers ----------------------------------------------------------------------------------


def test_output_distribution_with_a_denoiser() -> None:
    law = _xor()

    def uniform(tokens: np.ndarray) -> np.ndarray:
        return np.full((tokens.shape[0], 3, 2), 0.5)

    p_alg = output_distribution(law, [1, 1, 1], uniform)
    assert np.asarray(p_alg).tolist() == np.full((2, 2, 2), sp.Rational(1, 8)).tolist()

    def wrong_shape(tokens: np.ndarray) -> np.ndarray:
        return np.full((1, 3, 3), 0.5)

    with pytest.raises(DenoiserError, match="shape"):
        symbolic_output_distribution(law, [3], wrong_shape)

    def not_normalised(tokens: np.ndarray) -> np.ndarray:
        return np.full((1, 3, 2), 0.4)

    with pytest.raises(DenoiserError, match="summing to 1"):
        symbolic_output_distribution(law, [3], not_normalised)

    a = sp.Symbol("a", positive=True)

    def symbolic(tokens: np.ndarray) -> np.ndarray:
        return np.array([[[a, 1 - a]] * 3], dtype=object)

    out = symbolic_output_distribution(law, [3], symbolic)
    assert out[0, 0, 0] == a**3 and simplify_exact(sum(out.reshape(-1)) - 1) == 0


def test_mixed_alphabet_zero_context_policy_matches_float64() -> None:
    """Zero-probability contexts: uniform conditionals, as the numeric sampler."""
    w = [Fraction(0), Fraction(1, 2), Fraction(0), Fraction(0), Fraction(0), Fraction(1, 2)]
    law = sp.Array([sp.Rational(v.numerator, v.denominator) for v in w], (2, 3))
    floats = np.array([float(v) for v in w]).reshape(2, 3)
    for sched in ([1, 1], [[1], [0]], [2]):
        exact = np.asarray(output_distribution(law, sched)).astype(np.float64)
        assert np.allclose(exact, output_distribution(floats, sched), atol=1e-15)


def test_learning_error_and_optimal_schedule_accept_exact_laws() -> None:
    from exactmd.sampler.learning import learning_error
    from exactmd.schedules.optimum import optimal_schedule

    law = _xor()

    def uniform(tokens: np.ndarray) -> np.ndarray:
        return np.full((tokens.shape[0], 3, 2), 0.5)

    assert learning_error(law, [1, 1, 1], uniform) == LOG2  # the last position is determined
    assert learning_error(law, [3], uniform) == 0  # uniform marginals
    assert learning_error(law, [1, 2], None) == 0
    rng = np.random.default_rng(3)
    for shape in [(2, 3), (2, 2, 2)]:
        weights = rng.integers(0, 4, size=int(np.prod(shape)))
        weights[-1] += 1
        exact = _rational_law(weights.tolist(), shape)
        floats = (weights / weights.sum()).reshape(shape)
        q = max(shape)
        model = np.zeros((len(shape), q))
        for i, s in enumerate(shape):
            model[i, :s] = np.arange(1, s + 1) / (s * (s + 1) / 2)

        def skewed(tokens: np.ndarray, model: np.ndarray = model) -> np.ndarray:
            return np.broadcast_to(model, (tokens.shape[0], *model.shape)).copy()

        sizes = [1] * len(shape)
        assert math.isclose(
            float(learning_error(exact, sizes, skewed)),
            learning_error(floats, sizes, skewed),
            rel_tol=1e-12,
        )
        assert optimal_schedule(exact, 2) == optimal_schedule(floats, 2)
    assert optimal_schedule([-LOG2, -LOG2, 0], 2) == (2, 1)  # an exact profile
    with pytest.raises(ValidationError, match="substitute the free symbols"):
        optimal_schedule(general_law((2, 2)), 1)


# -- bounds on symbolic laws: exact expressions, or a clear error -------------------------------


def test_bounds_of_symbolic_laws_are_exact() -> None:
    from exactmd.schedules.factorization import (
        exchangeable_bound,
        worst_case_bound,
        worst_case_log_bound,
    )

    t = sp.Symbol("t", positive=True)
    # a law with a free symbol, N = 3
    cube = sp.Array([[[t / 2, 0], [0, 0]], [[0, 0], [(1 - t) / 2, sp.Rational(1, 2)]]])
    d = as_symbolic_distribution(cube)
    c = complexity(d)
    for sizes in ([3], [2, 1], [1, 1, 1]):
        bound = exchangeable_bound(d, sizes)
        assert isinstance(bound, sp.Expr)
        assert (t in bound.free_symbols) == (max(sizes) > 1)
        assert simplify_exact(bound - (max(sizes) - 1) * c) == 0
    for k in (1, 2, 3):
        assert simplify_exact(worst_case_bound(d, k) - (3 - k) * c) == 0
        assert worst_case_log_bound(d, k) == (3 - k) * sp.log(2)
    # at a rational point, the same numbers as the float law
    point = sp.Rational(1, 5)
    numeric = np.array([[[0.1, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.4, 0.5]]], dtype=np.float64)
    exact_value = float(exchangeable_bound(d, [3]).subs(t, point))
    assert abs(exact_value - exchangeable_bound(numeric, [3])) < 1e-12
    assert abs(float(worst_case_bound(d, 1).subs(t, point)) - worst_case_bound(numeric, 1)) < 1e-12
    assert abs(float(worst_case_log_bound(d, 1)) - worst_case_log_bound(numeric, 1)) < 1e-15


def test_check_bound_is_numeric_only() -> None:
    from exactmd.sampler.bound import check_bound

    t = sp.Symbol("t", positive=True)
    with pytest.raises(ValidationError, match="check_bound is numeric only"):
        check_bound(symmetric_pair(t), [2])
    half = sp.Rational(1, 2)
    rep = check_bound(sp.Array([[half, 0], [0, half]]), [2])
    assert rep.holds and abs(rep.kl - math.log(2)) < 1e-12
    assert abs(rep.factorization_error - math.log(2)) < 1e-12


def test_assumptions_are_stated_once_each() -> None:
    import sympy as sp

    from exactmd.symbolic import as_symbolic_distribution, symmetric_pair

    t = sp.Symbol("t")
    d = as_symbolic_distribution(symmetric_pair(t))
    assert len(d.assumptions) == len(set(d.assumptions))
    assert "t/4 + 1/4 >= 0" in d.assumptions and "1/4 - t/4 >= 0" in d.assumptions
