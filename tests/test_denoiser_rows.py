"""denoiser_rows: the checked denoiser rows on the host, float64, without a backend round trip.

Checked against an independent brute-force conditional (sums over the table) and against
``to_numpy(evaluate_denoiser(...))``, which it must equal exactly for float64 laws.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from helpers import random_law

from exactmd.denoisers.calls import denoiser_rows, evaluate_denoiser
from exactmd.denoisers.exact import as_denoiser, exact_denoiser, perturbed_denoiser
from exactmd.errors import DenoiserError
from exactmd.law.distribution import as_distribution

SHAPE = (2, 3, 2)


def _all_contexts(shape: tuple[int, ...]) -> np.ndarray:
    """Every token row: each position a value or the mask q = max q_i."""
    q = max(shape)
    rows = itertools.product(*[[*range(s), q] for s in shape])
    return np.array(list(rows), dtype=np.int64)


def _brute_rows(p: np.ndarray, tokens: np.ndarray) -> np.ndarray:
    """π(x_i = v | revealed tokens) at masked positions (uniform on a zero context), else 0."""
    q, n = max(p.shape), p.ndim
    out = np.zeros((len(tokens), n, q))
    for b, t in enumerate(tokens):
        sub = p[tuple(slice(None) if v == q else int(v) for v in t)]
        masked = [i for i in range(n) if t[i] == q]
        total = sub.sum()
        for a, i in enumerate(masked):
            if total > 0:
                other = tuple(c for c in range(len(masked)) if c != a)
                out[b, i, : p.shape[i]] = sub.sum(axis=other) / total
            else:
                out[b, i, : p.shape[i]] = 1.0 / p.shape[i]
    return out


def _user(p: np.ndarray):
    """A numpy contract denoiser (not trusted, so every row is checked): π's rows, brute."""
    return lambda t: _brute_rows(p, np.asarray(t))


@pytest.mark.parametrize("kind", ["none", "exact", "perturbed", "user", "user-batched"])
def test_rows_equal_the_native_rows_and_the_brute_force(backend, as_backend, kind):
    p = random_law(SHAPE, seed=7, zeros=0.3)
    d = as_distribution(as_backend(p))
    tokens = _all_contexts(SHAPE)
    den = {
        "none": None,
        "exact": exact_denoiser(p),
        "perturbed": perturbed_denoiser(p, temperature=1.4, noise=0.2, seed=2),
        "user": _user(p),
        "user-batched": as_denoiser(_user(p), tokens="numpy", batch_size=7),
    }[kind]
    rows = denoiser_rows(den, tokens, d)
    assert isinstance(rows, np.ndarray) and rows.dtype == np.float64
    assert rows.shape == (len(tokens), len(SHAPE), max(SHAPE))
    native = d.backend.to_numpy(evaluate_denoiser(den, tokens, d))
    np.testing.assert_array_equal(rows, native)  # float64: the same numbers, bit for bit
    masked = tokens == max(SHAPE)
    if kind != "perturbed":
        want = _brute_rows(p, tokens)
        np.testing.assert_allclose(rows[masked], want[masked], atol=1e-12)


def test_float32_law_rows_are_not_rounded():
    p = random_law(SHAPE, seed=8, zeros=0.3)
    d32 = as_distribution(p, dtype="float32")
    tokens = _all_contexts(SHAPE)
    den = _user(p)
    rows = denoiser_rows(den, tokens, d32)
    np.testing.assert_array_equal(rows, denoiser_rows(den, tokens, p))
    native = evaluate_denoiser(den, tokens, d32)
    assert native.dtype == np.float32  # the native rows carry float32 rounding
    np.testing.assert_array_equal(native, rows.astype(np.float32))


def test_empty_tokens_and_errors():
    p = random_law(SHAPE, seed=9)
    empty = denoiser_rows(_user(p), np.zeros((0, 3), dtype=np.int64), p)
    assert empty.shape == (0, 3, 3) and empty.dtype == np.float64

    def bad(t):
        out = _brute_rows(p, np.asarray(t))
        out[:, 1, 0] += 0.5
        return out

    tokens = np.array([[0, 3, 3], [3, 3, 3]])
    with pytest.raises(DenoiserError, match=r"row 0 \(tokens \[0, 3, 3\]\), position 1: .*sum"):
        denoiser_rows(bad, tokens, p)
    with pytest.raises(DenoiserError, match="built for a law of the shape of p"):
        denoiser_rows(exact_denoiser(np.full((2, 2), 0.25)), tokens, p)


def test_a_numpy_callable_that_cannot_take_device_tokens_gets_a_hint():
    """On a CUDA law a plain numpy callable receives CUDA tokens and numpy cannot convert
    them (TypeError); the error names the device and the fix (tokens='numpy')."""
    torch = pytest.importorskip("torch")
    from exactmd.sampler.p_alg import output_distribution

    p = random_law((2, 2, 2), seed=3, zeros=0.0)
    exact = exact_denoiser(p)

    def numpy_only(tokens):
        if isinstance(tokens, torch.Tensor):
            raise TypeError("can't convert cuda:0 device type tensor to numpy")
        return exact(tokens)

    law = torch.as_tensor(p)
    with pytest.raises(DenoiserError, match=r"TypeError on int64 torch tokens on cpu .*'numpy'"):
        output_distribution(law, [1, 2], numpy_only)
    fixed = output_distribution(law, [1, 2], as_denoiser(numpy_only, tokens="numpy"))
    np.testing.assert_allclose(fixed, output_distribution(p, [1, 2]), atol=1e-12)
