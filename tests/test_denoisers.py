"""The exact and perturbed denoisers, and the checks applied to any denoiser's output."""

from __future__ import annotations

import re

import numpy as np
import pytest
from brute import brute_conditional
from helpers import random_law

from exactmd.denoisers.calls import check_denoiser_output, denoiser_law_shape, evaluate_denoiser
from exactmd.denoisers.exact import DENOISER_ATOL, as_denoiser, exact_denoiser, perturbed_denoiser
from exactmd.errors import DenoiserError, ValidationError

SHAPE = (2, 3, 2)


def _all_contexts(shape):
    q = max(shape)
    grids = [[*range(s), q] for s in shape]
    return np.array(np.meshgrid(*grids, indexing="ij")).reshape(len(shape), -1).T


def test_exact_denoiser_matches_sliced_conditionals():
    p = random_law(SHAPE, seed=4, zeros=0.4)
    tokens = _all_contexts(SHAPE)
    out = exact_denoiser(p)(tokens)
    assert isinstance(out, np.ndarray) and out.shape == (len(tokens), 3, 3)
    for row, tok in zip(out, tokens):
        given = {j: int(v) for j, v in enumerate(tok) if v != 3}
        for i in range(3):
            if i not in given:
                np.testing.assert_allclose(
                    row[i, : SHAPE[i]], brute_conditional(p, i, given), atol=1e-15
                )
                assert np.all(row[i, SHAPE[i] :] == 0)


def test_exact_denoiser_follows_the_tokens_type():
    torch = pytest.importorskip("torch")
    p = random_law(SHAPE, seed=4)
    tokens = _all_contexts(SHAPE)
    den = exact_denoiser(torch.as_tensor(p))
    out_t = den(torch.as_tensor(tokens))
    assert isinstance(out_t, torch.Tensor) and out_t.dtype == torch.float64
    assert out_t.device == torch.as_tensor(tokens).device
    out_n = den(tokens)
    assert isinstance(out_n, np.ndarray)
    np.testing.assert_allclose(out_t.numpy(), out_n, atol=1e-15)


def test_perturbed_denoiser_is_deterministic_normalised_and_positive():
    p = random_law(SHAPE, seed=1, zeros=0.4)
    tokens = _all_contexts(SHAPE)
    den = perturbed_denoiser(p, temperature=2.0, noise=0.3, seed=5)
    out = den(tokens)
    again = den(tokens[::-1])[::-1]  # the same context gets the same row in any batch
    np.testing.assert_array_equal(out, again)
    masked = tokens == 3
    sums = out.sum(axis=2)
    np.testing.assert_allclose(sums[masked], 1.0, atol=1e-14)
    valid = np.arange(3)[None, :] < np.array(SHAPE)[:, None]
    assert np.all(out[masked][valid[np.nonzero(masked)[1]]] > 0)
    cleaned = check_denoiser_output(out, tokens, SHAPE)  # passes the contract checks
    np.testing.assert_allclose(np.where(masked[:, :, None], out, 0), cleaned, atol=1e-14)
    other = perturbed_denoiser(p, temperature=2.0, noise=0.3, seed=6)(tokens)
    assert not np.allclose(out[masked], other[masked])
    np.testing.assert_allclose(perturbed_denoiser(p)(tokens), exact_denoiser(p)(tokens), atol=1e-15)
    tempered = perturbed_denoiser(p, temperature=0.5)(tokens)
    exact = exact_denoiser(p)(tokens)
    np.testing.assert_array_equal(tempered == 0, exact == 0)  # tempering keeps π's zeros


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"temperature": -0.5}, "temperature"),
        ({"temperature": float("nan")}, "temperature"),
        ({"temperature": float("inf")}, "temperature"),
        ({"temperature": True}, "temperature"),
        ({"temperature": "1"}, "temperature"),
        ({"noise": 1.5}, "noise"),
        ({"seed": -1}, "seed"),
    ],
)
def test_perturbed_denoiser_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        perturbed_denoiser(np.full((2, 2), 0.25), **kwargs)


def _uniform(tokens, n=3, q=3, shape=SHAPE):
    out = np.zeros((len(tokens), n, q))
    for i, s in enumerate(shape):
        out[:, i, :s] = 1.0 / s
    return out


def test_bad_outputs_are_refused_with_row_position_and_value():
    p = random_law(SHAPE, seed=0)
    tokens = np.array([[0, 3, 3], [1, 2, 3]])

    def corrupt(fn):
        return lambda t: fn(_uniform(t))

    def set_(i, j, v, value):
        def fn(out):
            out[i, j, v] = value
            return out

        return fn

    cases = [
        (
            lambda t: _uniform(t)[:, :2],
            r"shape \(B, N, q\) = \(2, 3, 3\).*received shape \(2, 2, 3\)",
        ),
        (
            corrupt(set_(1, 2, 0, -0.5)),
            r"row 1 \(tokens \[1, 2, 3\]\), position 2: .*>= 0; "
            r"received -0.5 for value 0",
        ),
        (corrupt(set_(0, 1, 1, np.nan)), r"row 0 .*position 1: probabilities must be finite"),
        (
            corrupt(set_(1, 2, 1, 0.9)),
            r"row 1 .*position 2: probabilities must sum to 1 within "
            r"1e-08; received a sum of 1.4",
        ),
        (
            corrupt(set_(0, 2, 2, 0.1)),
            r"row 0 .*position 2: values >= q_i = 2 must have "
            r"probability 0; received 0.1 for value 2",
        ),
        (lambda t: [[["a"]]], r"must return"),
    ]
    for fn, match in cases:
        with pytest.raises(DenoiserError, match=match):
            evaluate_denoiser(fn, tokens, p)


def test_unmasked_rows_are_ignored_and_tolerance_is_documented():
    p = random_law(SHAPE, seed=0)
    tokens = np.array([[0, 3, 3]])

    def fn(t):
        out = _uniform(t)
        out[:, 0] = np.nan  # position 0 is unmasked: ignored
        out[:, 1, 0] += DENOISER_ATOL / 10  # within tolerance: renormalised
        return out

    got = evaluate_denoiser(fn, tokens, p)
    np.testing.assert_allclose(got[0, 1].sum(), 1.0, atol=1e-15)
    assert np.all(got[0, 0] == 0)

    def low_precision(t):
        out = _uniform(t).astype(np.float32)
        out[:, 1, 0] += 1e-6
        return out

    got = evaluate_denoiser(low_precision, tokens, p)  # float32 gets 1e-5
    np.testing.assert_allclose(got[0, 1].sum(), 1.0, atol=1e-15)

    def too_far(t):
        out = _uniform(t).astype(np.float32)
        out[:, 1, 0] += 1e-4
        return out

    with pytest.raises(DenoiserError, match="within 1e-05"):
        evaluate_denoiser(too_far, tokens, p)


def test_batching_and_token_types():
    torch = pytest.importorskip("torch")
    p = random_law(SHAPE, seed=0)
    tokens = _all_contexts(SHAPE)
    calls: list[tuple[str, int]] = []

    def spy(t):
        calls.append((type(t).__module__.split(".")[0], len(t)))
        return exact_denoiser(p)(t)

    want = exact_denoiser(p)(tokens)
    got = evaluate_denoiser(as_denoiser(spy, batch_size=7), tokens, p)
    assert all(kind == "numpy" and b <= 7 for kind, b in calls)
    assert sum(b for _, b in calls) == len(tokens)
    masked = (tokens == 3)[:, :, None]
    np.testing.assert_allclose(np.where(masked, got, 0), np.where(masked, want, 0), atol=1e-15)
    calls.clear()
    evaluate_denoiser(as_denoiser(spy, tokens="torch"), tokens, p)
    assert {kind for kind, _ in calls} == {"torch"}

    class Module(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(()))

        def forward(self, t):
            assert isinstance(t, torch.Tensor)
            return exact_denoiser(p)(t) * self.scale.detach()

    out = evaluate_denoiser(Module(), tokens, p)  # a Module gets torch tokens automatically
    np.testing.assert_allclose(np.where(masked, out, 0), np.where(masked, want, 0), atol=1e-15)
    with pytest.raises(ValidationError, match="tokens"):
        as_denoiser(spy, tokens="jax")
    with pytest.raises(ValidationError, match="batch_size"):
        as_denoiser(spy, batch_size=0)
    with pytest.raises(DenoiserError, match="callable"):
        as_denoiser(42)  # type: ignore[arg-type]
    assert evaluate_denoiser(spy, np.zeros((0, 3), dtype=np.int64), p).shape == (0, 3, 3)


def test_bad_tokens_are_refused():
    p = random_law(SHAPE, seed=0)
    with pytest.raises(ValidationError, match="entry"):
        evaluate_denoiser(None, np.array([[0, 2, 2]]), p)  # 2 is not a value of X_2


def test_exact_denoiser_of_another_law_is_checked():
    # an exact denoiser built for alphabets (3, 2) is refused for the law of shape (2, 3),
    # naming both shapes (before, it was trusted or blamed the caller's tokens)
    other = exact_denoiser(np.full((3, 2), 1 / 6))
    with pytest.raises(DenoiserError, match=r"shape of p, \(2, 3\).*built for shape \(3, 2\)"):
        evaluate_denoiser(other, np.array([[3, 3]]), np.full((2, 3), 1 / 6))


def _denoisers_for(law):
    """Every denoiser kind that exposes the law it was built for."""
    out = [exact_denoiser(law), perturbed_denoiser(law, temperature=1.5, noise=0.1)]
    out.append(as_denoiser(out[0], tokens="numpy"))
    try:
        from exactmd.denoisers.torch_module import ExactDenoiserModule
    except ImportError:  # no torch
        return out
    module = ExactDenoiserModule(law)
    return [*out, module, module.probabilities, as_denoiser(module.probabilities)]


@pytest.mark.parametrize("other_shape", [(2, 2, 2), (2, 2), (2, 3, 2, 2), (3, 2, 2)])
def test_a_denoiser_for_another_law_is_refused_up_front(other_shape):
    from exactmd.sampler.learning import learning_error
    from exactmd.sampler.montecarlo import sample
    from exactmd.sampler.p_alg import output_distribution

    p = random_law(SHAPE, seed=1)
    calls = {
        "output_distribution": lambda den: output_distribution(p, [2, 1], den),
        "learning_error": lambda den: learning_error(p, [2, 1], den),
        "sample": lambda den: sample(p, [2, 1], 3, den, seed=0),
        "evaluate_denoiser": lambda den: evaluate_denoiser(den, np.array([[3, 3, 3]]), p),
    }
    want = r"denoiser: must be built for a law of the shape of p, \(2, 3, 2\); received .*"
    want += rf"built for shape {re.escape(str(other_shape))}"
    for den in _denoisers_for(random_law(other_shape, seed=2)):
        for name, call in calls.items():
            with pytest.raises(DenoiserError, match=want):
                call(den)
                pytest.fail(f"{name} accepted {den!r}")
    # the same shape (another law of it) is accepted: a learned denoiser need not be exact
    other = random_law(SHAPE, seed=3)
    for den in _denoisers_for(other):
        if den.__class__.__name__ == "ExactDenoiserModule":
            continue  # it returns logits, not the contract's probabilities
        assert np.isfinite(output_distribution(p, [2, 1], den)).all()


def test_a_plain_callable_that_rejects_valid_tokens_is_blamed():
    from exactmd.sampler.p_alg import output_distribution

    p = random_law(SHAPE, seed=1)
    inner = exact_denoiser(random_law((2, 2, 2), seed=2))

    def hidden(tokens):  # a user function wrapping a denoiser of another law
        return inner(tokens)

    with pytest.raises(DenoiserError, match="denoiser: rejected valid tokens") as info:
        output_distribution(p, [2, 1], hidden)
    message = str(info.value)
    assert "p of shape (2, 3, 2)" in message and "mask q = 3" in message
    assert "tokens: entry" in message  # the denoiser's own error is kept, as context
    assert isinstance(info.value.__cause__, ValidationError)
    # its own DenoiserError passes unchanged, other exceptions are not wrapped
    with pytest.raises(DenoiserError, match=r"^denoiser: my own$"):
        evaluate_denoiser(_raise(DenoiserError("denoiser: my own")), np.array([[3, 3, 3]]), p)
    with pytest.raises(ZeroDivisionError):
        evaluate_denoiser(_raise(ZeroDivisionError()), np.array([[3, 3, 3]]), p)


def _raise(exc):
    def den(tokens):
        raise exc

    return den


def test_denoiser_law_shape():
    law = random_law(SHAPE, seed=0)
    for den in _denoisers_for(law):
        assert denoiser_law_shape(den) == SHAPE
    assert denoiser_law_shape(lambda t: t) is None
    assert denoiser_law_shape(np.zeros) is None  # a builtin: __self__ is a module
