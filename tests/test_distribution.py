"""Validation at the boundary and the Distribution object (exactmd.law.distribution)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from helpers import random_law

from exactmd.backends import get_backend
from exactmd.errors import DistributionError, ValidationError
from exactmd.law.distribution import Distribution, as_distribution
from exactmd.law.tables import TOTAL_ATOL, TOTAL_ATOL_FLOAT32
from exactmd.measures.information import (
    complexity,
    dual_total_correlation,
    entropy,
    information_profile,
    kl,
    total_correlation,
)
from exactmd.schedules.factorization import factorization_error

# -- accepted inputs ------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(2,), (3,), (2, 3), (2, 3, 2), (3, 2, 2, 3)])
def test_numpy_input_round_trips(shape: tuple[int, ...]) -> None:
    p = random_law(shape, seed=len(shape), zeros=0.3)
    d = as_distribution(p)
    assert isinstance(d, Distribution)
    assert d.shape == shape
    assert d.n == len(shape)
    assert d.q == max(shape)
    assert d.size == int(np.prod(shape))
    assert d.backend.name == "numpy"
    assert d.backend.dtype == "float64"
    # the table divided by its total (within an ulp of 1): equal up to one rounding
    np.testing.assert_allclose(np.asarray(d), p / p.sum(), rtol=0, atol=0)
    np.testing.assert_allclose(np.asarray(d), p, rtol=4e-16, atol=0)
    assert d.numpy().dtype == np.float64
    np.testing.assert_array_equal(d.numpy(), np.asarray(d))
    assert np.asarray(d, dtype=np.float32).dtype == np.float32


def test_nested_lists_and_ints_are_accepted() -> None:
    d = as_distribution([[0.5, 0.0], [0.25, 0.25]])
    assert d.shape == (2, 2)
    np.testing.assert_array_equal(np.asarray(d), [[0.5, 0.0], [0.25, 0.25]])
    one = as_distribution([0, 1, 0])  # integer dtype, a point mass
    assert one.shape == (3,)
    assert np.asarray(one).dtype == np.float64


def test_backend_fixture_input_keeps_backend(
    backend: str, as_backend: Callable[[Any], Any]
) -> None:
    p = random_law((2, 3, 2), seed=3)
    d = as_distribution(as_backend(p))
    assert d.backend.name == backend
    np.testing.assert_allclose(np.asarray(d), p, rtol=0, atol=0)


def test_explicit_backend_choice() -> None:
    p = random_law((2, 2, 3), seed=4)
    d = as_distribution(p, backend="torch")
    assert d.backend.name == "torch"
    back = as_distribution(d, backend="numpy")
    assert back.backend.name == "numpy"
    np.testing.assert_array_equal(np.asarray(back), p)


def test_distribution_is_returned_as_is_and_caches() -> None:
    d = as_distribution(random_law((2, 3), seed=5))
    assert as_distribution(d) is d
    assert d.with_backend(d.backend) is d
    entropy(d)
    information_profile(d)
    assert d._derived.subset_entropies is not None and d.subset_entropies_plan is not None
    other = d.with_backend(get_backend(name="torch"))
    assert other is not d and other._derived == type(d._derived)()  # nothing derived carried
    assert other.subset_entropies_plan is None and other.model is None
    assert other.names == d.names and other.state_names == d.state_names


def test_names_and_state_names() -> None:
    p = random_law((2, 3), seed=6)
    d = as_distribution(p)
    assert d.names == ("X0", "X1")
    assert d.state_names == ((0, 1), (0, 1, 2))
    be = get_backend(name="numpy")
    named = Distribution(be.asarray(p), be, names=["a", "b"], state_names=[["x", "y"], "uvw"])
    assert named.names == ("a", "b")
    assert named.state_names == (("x", "y"), ("u", "v", "w"))
    assert "shape=(2, 3)" in repr(named)
    with pytest.raises(DistributionError, match=r"names: .*\(2\).*\['a'\]"):
        Distribution(be.asarray(p), be, names=["a"])
    with pytest.raises(DistributionError, match=r"state_names: axis 1 needs 3 .*\('u', 'v'\)"):
        Distribution(be.asarray(p), be, state_names=[["x", "y"], ["u", "v"]])


# -- bad inputs -----------------------------------------------------------------------------


def _neg() -> np.ndarray:
    p = np.array([[0.5, 0.6], [0.2, -0.3]])
    return p


def _nan() -> np.ndarray:
    return np.array([[0.5, np.nan], [0.25, 0.25]])


def _inf() -> np.ndarray:
    return np.array([0.5, np.inf, 0.0])


def _neginf() -> np.ndarray:
    return np.array([0.5, -np.inf, 0.0])


BAD_INPUTS: list[tuple[str, Callable[[], Any], list[str]]] = [
    # (id, factory, fragments the message must contain: the rule and the value received)
    ("negative", _neg, [">= 0", "-0.3", "(1, 1)"]),
    ("nan", _nan, ["finite", "nan", "(0, 1)"]),
    ("inf", _inf, ["finite", "inf", "(1,)"]),
    ("neg-inf", _neginf, ["finite", "-inf", "(1,)"]),
    ("total-high", lambda: np.array([0.5, 0.6]), ["sum to 1", "1e-08", "1.1"]),
    ("total-low", lambda: np.array([0.25, 0.25]), ["sum to 1", "1e-08", "0.5"]),
    ("all-zero", lambda: np.zeros((2, 2)), ["sum to 1", "total of 0"]),
    ("zero-axis", lambda: np.zeros((2, 0, 3)), ["at least one value", "(2, 0, 3)"]),
    ("empty-list", lambda: [], ["at least one value", "(0,)"]),
    ("scalar", lambda: np.float64(1.0), ["at least one axis", "N >= 1", "array(1.)"]),
    ("scalar-int", lambda: 1, ["at least one axis", "1"]),
    ("ragged", lambda: [[0.5], [0.25, 0.25]], ["rectangular", "[[0.5], [0.25, 0.25]]"]),
    ("strings", lambda: ["0.5", "0.5"], ["real numbers", "<U3"]),
    ("string", lambda: "abc", ["real numbers", "<U3"]),
    ("complex", lambda: np.array([0.5 + 0j, 0.5 + 0j]), ["real", "complex128"]),
    ("complex-list", lambda: [0.5 + 0.1j, 0.5 - 0.1j], ["real", "complex128"]),
]


def _check_message(exc: BaseException, name: str, fragments: list[str]) -> None:
    message = str(exc)
    assert isinstance(exc, ValueError)
    assert isinstance(exc, DistributionError)
    assert message.startswith(f"{name}: "), message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


@pytest.mark.parametrize(
    ("factory", "fragments"), [(f, m) for _, f, m in BAD_INPUTS], ids=[i for i, _, _ in BAD_INPUTS]
)
def test_bad_input_is_rejected_with_a_clear_message(
    factory: Callable[[], Any], fragments: list[str]
) -> None:
    with pytest.raises(DistributionError) as info:
        as_distribution(factory())
    _check_message(info.value, "p", fragments)
    with pytest.raises(DistributionError) as named:
        as_distribution(factory(), name="pi")
    _check_message(named.value, "pi", fragments)


@pytest.mark.parametrize(
    "func",
    [
        entropy,
        total_correlation,
        dual_total_correlation,
        complexity,
        information_profile,
        lambda p: factorization_error(p, [1, 1]),
        lambda p: kl(p, [[0.25, 0.25], [0.25, 0.25]]),
    ],
    ids=["entropy", "tc", "dtc", "complexity", "profile", "efact", "kl"],
)
@pytest.mark.parametrize(
    ("factory", "fragments"),
    [(f, m) for _, f, m in BAD_INPUTS[:8]],
    ids=[i for i, _, _ in BAD_INPUTS[:8]],
)
def test_contract_functions_reject_bad_input(
    func: Callable[[Any], Any], factory: Callable[[], Any], fragments: list[str]
) -> None:
    with pytest.raises(DistributionError) as info:
        func(factory())
    _check_message(info.value, "p", fragments)


def test_kl_names_its_second_argument() -> None:
    with pytest.raises(DistributionError) as info:
        kl([0.5, 0.5], [0.5, -0.5])
    _check_message(info.value, "r", [">= 0", "-0.5"])


@pytest.mark.parametrize(
    ("label", "fragments"),
    [("nan", ["finite", "nan"]), ("negative", [">= 0", "-0.25"]), ("total", ["sum to 1", "1.5"])],
)
def test_bad_torch_input(label: str, fragments: list[str]) -> None:
    torch = pytest.importorskip("torch")
    table = {
        "nan": [[0.5, float("nan")], [0.25, 0.25]],
        "negative": [[0.5, 0.75], [0.0, -0.25]],
        "total": [[0.5, 0.5], [0.25, 0.25]],
    }[label]
    with pytest.raises(DistributionError) as info:
        as_distribution(torch.tensor(table, dtype=torch.float64))
    _check_message(info.value, "p", fragments)
    with pytest.raises(DistributionError):
        entropy(torch.tensor(table, dtype=torch.float64))


def test_complex_torch_input() -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(DistributionError) as info:
        as_distribution(torch.tensor([0.5 + 0j, 0.5 + 0j]))
    _check_message(info.value, "p", ["real", "complex"])


# -- the tolerance on the total -------------------------------------------------------------


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_total_tolerance_float64(sign: float) -> None:
    assert TOTAL_ATOL == 1e-8
    p = random_law((2, 3), seed=7, zeros=0.0)
    inside = p.copy()
    inside[0, 0] += sign * 0.5 * TOTAL_ATOL
    d = as_distribution(inside)  # accepted, and divided by its total once
    np.testing.assert_array_equal(np.asarray(d), inside / inside.sum())
    assert abs(float(np.asarray(d).sum()) - 1.0) < 1e-15
    outside = p.copy()
    outside[0, 0] += sign * 2 * TOTAL_ATOL
    with pytest.raises(DistributionError) as info:
        as_distribution(outside)
    total = float(outside.sum())
    _check_message(info.value, "p", ["sum to 1 within 1e-08", f"{total:.12g}"])


def test_total_tolerance_float32(backend: str) -> None:
    assert TOTAL_ATOL_FLOAT32 == 1e-5
    p = random_law((2, 3), seed=8, zeros=0.0)
    inside = p.copy()
    inside[0, 0] += 0.5 * TOTAL_ATOL_FLOAT32
    outside = p.copy()
    outside[0, 0] += 3 * TOTAL_ATOL_FLOAT32
    # float32 input, or float32 computation asked for: the float32 tolerance applies
    as_distribution(inside.astype(np.float32), backend=backend)
    as_distribution(inside, backend=backend, dtype="float32")
    with pytest.raises(DistributionError, match="within 1e-05"):
        as_distribution(outside.astype(np.float32), backend=backend)
    # float64 input and computation: the strict tolerance
    with pytest.raises(DistributionError, match="within 1e-08"):
        as_distribution(inside, backend=backend)


# -- bad backend options --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "fragments"),
    [
        ({"backend": "jax"}, ["backend: ", "'jax'"]),
        ({"dtype": "float16"}, ["dtype: ", "'float16'"]),
        ({"backend": "numpy", "device": "cuda"}, ["device: ", "'cuda'"]),
        ({"backend": "torch", "device": "no-such-device"}, ["device: ", "'no-such-device'"]),
    ],
)
def test_bad_backend_options(kwargs: dict[str, Any], fragments: list[str]) -> None:
    if kwargs.get("backend") == "torch":
        pytest.importorskip("torch")
    with pytest.raises(ValidationError) as info:
        as_distribution([0.5, 0.5], **kwargs)
    assert isinstance(info.value, ValueError)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_doc_example_error_text() -> None:
    with pytest.raises(
        DistributionError,
        match=re.escape("p: entries must sum to 1 within 1e-08; received a total of 1.1"),
    ):
        as_distribution([0.5, 0.6])


def test_single_variable_law() -> None:
    d = as_distribution([0.25, 0.75])
    assert d.n == 1
    h = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    assert entropy(d) == pytest.approx(h, abs=1e-15)


# -- the symbolic backend by name ---------------------------------------------------------------


def test_symbolic_backend_by_name() -> None:
    import sympy as sp

    be = get_backend(name="symbolic")
    assert be.name == "symbolic" and be.dtype == "object"
    for bad in ({"device": "cuda"}, {"dtype": "float32"}):
        with pytest.raises(ValidationError, match="symbolic backend"):
            get_backend(name="symbolic", **bad)
    d = as_distribution([[0.1, 0.2], [0.3, 0.4]], backend="symbolic", name="q")
    assert d.backend.name == "symbolic"
    assert np.asarray(d.table).tolist() == [
        [sp.Rational(1, 10), sp.Rational(1, 5)],
        [sp.Rational(3, 10), sp.Rational(2, 5)],
    ]
    h = entropy(d)
    assert isinstance(h, sp.Expr)
    p = np.array([[0.1, 0.2], [0.3, 0.4]])
    assert abs(float(sp.N(h, 30)) - entropy(p)) < 1e-14
    # from an existing law (numpy or torch), names kept
    numeric = Distribution(get_backend(name="numpy").asarray(p), get_backend(name="numpy"), "ab")
    exact = as_distribution(numeric, backend="symbolic")
    assert exact.names == ("a", "b") and np.asarray(exact.table).tolist()[1][1] == sp.Rational(2, 5)


def test_symbolic_backend_refuses_inexact_totals_and_converts_back() -> None:
    import sympy as sp

    p = random_law((2, 3), seed=3)
    with pytest.raises(DistributionError, match="q: entries must sum to exactly 1"):
        as_distribution(p, backend="symbolic", name="q")
    half = sp.Rational(1, 2)
    exact = as_distribution(sp.Array([[half, 0], [0, half]]))
    back = as_distribution(exact, backend="numpy")
    assert back.backend.name == "numpy" and back.numpy().tolist() == [[0.5, 0.0], [0.0, 0.5]]
    t = sp.Symbol("t", positive=True)
    with pytest.raises(ValidationError, match="free symbols"):
        as_distribution(sp.Array([t, 1 - t]), backend="numpy")


def test_symbolic_backend_from_torch() -> None:
    torch = pytest.importorskip("torch")
    import sympy as sp

    d = as_distribution(torch.tensor([0.25, 0.75], dtype=torch.float64), backend="symbolic")
    assert np.asarray(d.table).tolist() == [sp.Rational(1, 4), sp.Rational(3, 4)]


# -- model parameters survive a change of backend -----------------------------------------------


def test_with_backend_keeps_model_parameters() -> None:
    pytest.importorskip("torch")
    from exactmd.measures.markov import markov_profile
    from exactmd.models import markov_chain
    from exactmd.models.zoo import markov_chain_parameters

    init, trans = [0.3, 0.7], [[0.9, 0.1], [0.2, 0.8]]
    d = markov_chain(init, trans, 5)
    entropy(d)
    information_profile(d)
    t = as_distribution(d, backend="torch")
    assert t.backend.name == "torch"
    assert t._derived == type(d._derived)()  # derived arrays are not carried
    assert t.model is d.model and t.model is not None and t.model.name == "markov_chain"
    with pytest.raises(TypeError):
        t.model.params["n"] = 3  # type: ignore[index]  # read-only parameters
    got_init, got_trans = markov_chain_parameters(t)
    np.testing.assert_array_equal(got_init, init)
    np.testing.assert_array_equal(got_trans, trans)
    np.testing.assert_allclose(markov_profile(t), information_profile(d), rtol=0, atol=1e-12)
    np.testing.assert_allclose(markov_profile(t), information_profile(t), rtol=0, atol=1e-12)
    back = t.with_backend(get_backend(name="numpy"))
    np.testing.assert_array_equal(markov_profile(back), markov_profile(d))


# -- object arrays, Fraction / Decimal lists, half precision, memory of the copy ------------


def test_object_arrays_of_floats_are_numeric() -> None:
    p = random_law((2, 3), seed=21)
    obj = np.array(p.tolist(), dtype=object)
    assert obj.dtype == object
    d = as_distribution(obj)
    assert d.backend.name == "numpy" and d.table.dtype == np.float64
    value = entropy(obj)
    assert type(value) is float and value == entropy(p)
    ints = np.array([[1, 0], [0, 0]], dtype=object)
    assert entropy(ints) == 0.0 and as_distribution(ints).backend.name == "numpy"
    assert as_distribution([[1, 0], [0, 0]]).backend.name == "numpy"


def test_fractions_are_exact_and_decimals_are_float64() -> None:
    from decimal import Decimal
    from fractions import Fraction

    import sympy

    exact = [[Fraction(1, 4), Fraction(1, 4)], [Fraction(1, 2), 0]]
    d = as_distribution(exact)
    assert d.backend.name == "symbolic"
    assert entropy(exact) == sympy.Rational(3, 2) * sympy.log(2)
    obj = np.array(exact, dtype=object)
    assert as_distribution(obj).backend.name == "symbolic"
    dec = [[Decimal("0.25"), Decimal("0.25")], [Decimal("0.5"), Decimal(0)]]
    d = as_distribution(dec)
    assert d.backend.name == "numpy" and d.table.dtype == np.float64
    assert abs(entropy(dec) - 1.5 * math.log(2)) < 1e-15


@pytest.mark.parametrize(
    ("value", "fragments"),
    [
        ([[0.5], [0.25, 0.25]], ["ragged"]),
        (np.array([[0.5], [0.25, 0.25]], dtype=object), ["ragged"]),
        ([[None, 1.0]], ["real numbers", "None", "(0, 0)"]),
        (np.array([[0.5, "x"]], dtype=object), ["real numbers", "'x'", "(0, 1)"]),
        (np.array([0.5, 0.5j], dtype=object), ["real numbers", "0.5j", "(1,)"]),
    ],
)
def test_object_input_messages(value: Any, fragments: list[str]) -> None:
    with pytest.raises(DistributionError) as info:
        as_distribution(value)
    message = str(info.value)
    assert message.startswith("p: ")
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    if "ragged" not in fragments:
        assert "ragged" not in message


def test_decimal_list_is_not_called_ragged() -> None:
    from decimal import Decimal

    with pytest.raises(DistributionError) as info:
        as_distribution([Decimal("0.5"), Decimal("0.6")])
    assert "sum to 1" in str(info.value) and "ragged" not in str(info.value)


@pytest.mark.parametrize(("dtype", "atol"), [("bfloat16", 1e-2), ("float16", 1e-3)])
def test_half_precision_torch_input(dtype: str, atol: float) -> None:
    torch = pytest.importorskip("torch")
    from exactmd.law.tables import HALF_ATOL

    assert HALF_ATOL[dtype] == atol
    p = random_law((2, 3, 2), seed=5)
    t = torch.tensor(p, dtype=getattr(torch, dtype))
    d = as_distribution(t)
    assert d.backend.name == "torch" and d.backend.dtype == "float64"
    rounded = t.to(torch.float64).numpy()
    np.testing.assert_allclose(d.numpy(), rounded / rounded.sum(), rtol=1e-15)
    assert abs(float(d.numpy().sum()) - 1.0) < 1e-14
    value = entropy(t)
    assert type(value) is float
    assert abs(value - entropy(rounded / rounded.sum())) < 1e-12
    assert abs(value - entropy(p)) < 50 * atol  # the rounding of the entries, not a bug
    d32 = as_distribution(t, dtype="float32")
    assert d32.backend.dtype == "float32"
    bad = torch.tensor([0.5, 0.5 + 3 * atol], dtype=getattr(torch, dtype))
    with pytest.raises(DistributionError, match=re.escape(f"within {atol:g}")):
        as_distribution(bad)


def test_half_precision_numpy_input() -> None:
    p = random_law((3, 2), seed=6)
    half = p.astype(np.float16)
    d = as_distribution(half)
    rounded = half.astype(np.float64)
    assert d.table.dtype == np.float64
    np.testing.assert_allclose(d.numpy(), rounded / rounded.sum(), rtol=1e-15)
    with pytest.raises(DistributionError, match=re.escape("within 0.001")):
        as_distribution(np.array([0.5, 0.504], dtype=np.float16))


def test_large_copies_are_planned_before_allocating(monkeypatch: pytest.MonkeyPatch) -> None:
    from exactmd.backends import NumpyBackend
    from exactmd.errors import MemoryPlanError

    # a zero-stride float32 view of 2^40 cells: the float64 copy would need 8 TiB
    view = np.broadcast_to(np.float32(2.0**-40), (2,) * 40)
    monkeypatch.setattr(NumpyBackend, "available_memory", lambda self: 10 * 2**30)
    with pytest.raises(MemoryPlanError) as info:
        as_distribution(view)
    message = str(info.value)
    assert message.startswith("p: ") and "bytes" in message and "may be used" in message
    assert str(int(0.8 * 10 * 2**30)) in message
