"""Estimating the information profile f from samples and a denoiser (π unknown).

``f(i) = E[log p(x_{σ(i+1)} | x_{σ(1..i)})]`` with ``x ~ π`` and σ a uniform permutation
(docs/design.md, "Information profile"). Given samples ``x^(1..M)`` and, for each, ``R = n_orders``
independent uniform
permutations, the estimator is the average of the log-probabilities that the denoiser gives to
the sampled value of position ``σ(i+1)`` when the positions ``σ(1..i)`` are unmasked:

    f̂(i) = (1/M) Σ_b g_b(i),    g_b(i) = (1/R) Σ_r log p(x^b_{σ_br(i+1)} | x^b_{σ_br(1..i)}).

With the exact denoiser it is unbiased. The g_b are i.i.d. across samples, so the standard
error is ``std(g_b(i)) / √M`` (sample standard deviation, ddof = 1). More orders per sample
reduce the part of the variance that comes from σ, not the part that comes from x.

Cost: ``M · R · len(ranks)`` denoiser rows of N tokens, sent in batches of at most
:data:`~exactmd.denoisers.exact.DEFAULT_BATCH_ELEMENTS` output entries (``B · N · q``). Pass
``ranks`` to estimate f at a few i only.

Examples
--------
>>> import numpy as np
>>> from exactmd.denoisers.exact import exact_denoiser
>>> p = np.array([[0.4, 0.1], [0.1, 0.4]])
>>> rng = np.random.default_rng(0)
>>> flat = rng.choice(4, size=400, p=p.reshape(-1))
>>> samples = np.stack(np.unravel_index(flat, p.shape), axis=1)
>>> est = estimate_profile(samples, exact_denoiser(p), n_orders=2, seed=0)
>>> est.profile.round(2).tolist(), est.stderr.round(2).tolist()  # exact f = (-0.69, -0.5)
([-0.69, -0.51], [0.0, 0.03])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from exactmd._validate import check_int, check_seed
from exactmd.backends import get_backend, to_host
from exactmd.denoisers.calls import (
    _token_kind,
    check_denoiser_output,
    contract_callable,
    invoke,
    private_tokens,
)
from exactmd.denoisers.exact import DEFAULT_BATCH_ELEMENTS
from exactmd.errors import DenoiserError, MemoryPlanError, ValidationError, describe
from exactmd.typing import FloatArray, IntArray

__all__ = ["ProfileEstimate", "estimate_profile"]


@dataclass(frozen=True)
class ProfileEstimate:
    """The estimate f̂ with its standard errors (see :func:`estimate_profile`).

    Attributes
    ----------
    profile
        f̂ at ``ranks`` (all of 0..N−1 by default), float64.
    stderr
        The standard error of each entry of ``profile``.
    ranks
        The i at which f was estimated.
    n_samples, n_orders
        M and R.
    """

    profile: FloatArray
    stderr: FloatArray
    ranks: IntArray
    n_samples: int
    n_orders: int

    def __repr__(self) -> str:
        return (
            f"ProfileEstimate(N={len(self.ranks)} ranks, n_samples={self.n_samples}, "
            f"n_orders={self.n_orders}, max stderr={float(np.max(self.stderr)):.3g})"
        )


def _as_samples(samples: Any) -> IntArray:
    try:
        host = to_host(samples)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"samples: must be an int array (M, N) of outcomes; received {describe(samples)}"
        ) from exc
    if host.ndim != 2 or host.shape[0] < 2 or host.shape[1] < 1:
        raise ValidationError(
            f"samples: must be an int array (M, N) with M >= 2 samples; received shape {host.shape}"
        )
    if not np.issubdtype(host.dtype, np.integer):
        raise ValidationError(f"samples: must be integers; received dtype {host.dtype}")
    if host.min() < 0:
        raise ValidationError(f"samples: values must be >= 0; received {int(host.min())}")
    return host.astype(np.int64)


def _as_input(denoiser: Any, tokens: IntArray) -> Any:
    """``tokens`` as ``denoiser`` takes them: numpy, or torch int64 on its device (there is no
    law here, so "auto" means numpy unless the denoiser is a torch module)."""
    kind, device = _token_kind(denoiser, get_backend(name="numpy"))
    return private_tokens(tokens, kind, device)


def _call(denoiser: Any, tokens: IntArray, shape: tuple[int, ...], offset: int) -> FloatArray:
    out = invoke(contract_callable(denoiser), _as_input(denoiser, tokens))
    return check_denoiser_output(out, tokens, shape, "denoiser", offset)


def _ranks(ranks: Any, n: int) -> IntArray:
    """The ranks i at which f is estimated: distinct integers in range(N), sorted."""
    values = list(ranks) if isinstance(ranks, Sequence | np.ndarray) else None
    if not values or not all(
        isinstance(r, int | np.integer) and not isinstance(r, bool) and 0 <= r < n for r in values
    ):
        raise ValidationError(f"ranks: must be indices in range(N={n}); received {describe(ranks)}")
    return np.unique(np.asarray(values, dtype=np.int64))


def _alphabets(samples: IntArray, denoiser: Any, shape: Any) -> tuple[int, ...]:
    n = samples.shape[1]
    if shape is None:
        out = invoke(contract_callable(denoiser), _as_input(denoiser, samples[:1]))
        dims = tuple(int(s) for s in getattr(out, "shape", ()))
        if len(dims) != 3 or dims[:2] != (1, n) or dims[2] < 1:
            raise DenoiserError(
                f"denoiser: must return shape (B, N, q) = (1, {n}, q) for tokens of shape "
                f"(1, {n}); received shape {dims}"
            )
        alphabets = (dims[2],) * n
    else:
        if isinstance(shape, str | bytes) or not isinstance(shape, Sequence | np.ndarray):
            raise ValidationError(
                f"shape: must be a sequence of alphabet sizes, one per position (N={n}); "
                f"received {describe(shape)}"
            )
        alphabets = tuple(check_int(s, "shape") for s in shape)
        if len(alphabets) != n:
            raise ValidationError(
                f"shape: must give one alphabet size per position (N={n}); received {shape!r}"
            )
    big = np.argwhere(samples >= np.asarray(alphabets)[None, :])
    if big.size:
        r, i = (int(t) for t in big[0])
        raise ValidationError(
            f"samples: entry ({r}, {i}) must lie in range(q_i) = range({alphabets[i]}); "
            f"received {int(samples[r, i])}"
        )
    return alphabets


def estimate_profile(
    samples: Any,
    denoiser: Any,
    n_orders: int = 1,
    seed: int | None = 0,
    *,
    shape: Sequence[int] | None = None,
    ranks: Sequence[int] | None = None,
    batch_size: int | None = None,
) -> ProfileEstimate:
    """Estimate f by random orders on samples, with any contract denoiser (module notes).

    Parameters
    ----------
    samples
        int array ``(M, N)`` of values, ``M >= 2`` (numpy or torch).
    denoiser
        A contract denoiser: int tokens ``(B, N)`` with mask ``q = max q_i`` → probabilities
        ``(B, N, q)``; numpy callables get numpy tokens, a ``torch.nn.Module`` or an
        :func:`~exactmd.denoisers.exact.as_denoiser` wrapper with ``tokens="torch"`` gets tensors.
        Every output is checked (:func:`~exactmd.denoisers.exact.check_denoiser_output`).
    n_orders
        R, independent uniform permutations per sample.
    seed
        Seed of the permutations (``numpy.random.default_rng``).
    shape
        The alphabet sizes ``(q_1..q_N)``; default: all equal to the q of the denoiser's
        output on one unmasked sample.
    ranks
        The i at which to estimate f (default all of 0..N−1).
    batch_size
        Rows per denoiser call (default: ``B · N · q <= DEFAULT_BATCH_ELEMENTS``).

    Returns
    -------
    ProfileEstimate

    Raises
    ------
    DenoiserError
        On a malformed output, or when the denoiser gives probability 0 to a sampled value
        (log 0: its f̂ would be −inf).

    Examples
    --------
    >>> import numpy as np
    >>> from exactmd.denoisers.exact import exact_denoiser
    >>> p = np.array([[0.4, 0.1], [0.1, 0.4]])
    >>> x = np.random.default_rng(0).choice(4, size=500, p=p.ravel())
    >>> samples = np.stack(np.unravel_index(x, p.shape), axis=1)
    >>> est = estimate_profile(samples, exact_denoiser(p), n_orders=2, seed=0)
    >>> est.profile.shape, bool(np.all(est.stderr > 0))
    ((2,), True)
    """
    x = _as_samples(samples)
    m, n = x.shape
    if not callable(denoiser):
        raise DenoiserError(f"denoiser: must be callable; received {describe(denoiser)}")
    reps = check_int(n_orders, "n_orders")
    needed = 4 * 8 * m * reps * n  # the orders, their inverse and two index temporaries
    usable = get_backend(name="numpy").usable_memory()
    if needed > usable:
        raise MemoryPlanError(
            f"n_orders: {reps} orders for each of {m} samples of N = {n} need "
            f"{needed / 2**30:.3g} GiB ({needed} bytes) of index arrays but only "
            f"{usable / 2**30:.3g} GiB ({usable} bytes) may be used"
        )
    q_i = _alphabets(x, denoiser, shape)
    q = max(q_i)
    rk = np.arange(n) if ranks is None else _ranks(ranks, n)
    rng = np.random.default_rng(check_seed(seed))
    orders = rng.permuted(np.tile(np.arange(n), (m * reps, 1)), axis=1)  # (M·R, N)
    owner = np.repeat(np.arange(m), reps)
    # position of each variable in its order: revealed before rank i  <=>  inverse < i
    inverse = np.argsort(orders, axis=1)
    rows_per_call = (
        check_int(batch_size, "batch_size")
        if batch_size is not None
        else max(1, DEFAULT_BATCH_ELEMENTS // (n * q))
    )
    pairs = np.arange(m * reps)
    pair_idx = np.repeat(pairs, rk.size)
    rank_idx = np.tile(rk, pairs.size)
    logp = np.empty(pair_idx.size)
    for start in range(0, pair_idx.size, rows_per_call):
        sl = slice(start, start + rows_per_call)
        pr, ri = pair_idx[sl], rank_idx[sl]
        values = x[owner[pr]]
        tokens = np.where(inverse[pr] < ri[:, None], values, q)
        target = orders[pr, ri]
        out = _call(denoiser, tokens, q_i, start)
        prob = out[np.arange(len(pr)), target, values[np.arange(len(pr)), target]]
        if np.any(prob <= 0):
            r = int(np.argmax(prob <= 0))
            raise DenoiserError(
                f"denoiser: must give positive probability to sampled values; row {start + r} "
                f"(tokens {tokens[r].tolist()}) gives 0 to value {int(values[r, target[r]])} "
                f"at position {int(target[r])}"
            )
        logp[sl] = np.log(prob)
    g = logp.reshape(m, reps, rk.size).mean(axis=1)  # (M, ranks)
    mean = g.mean(axis=0)
    stderr = np.sqrt(np.sum((g - mean) ** 2, axis=0) / (m - 1) / m)
    return ProfileEstimate(mean, stderr, rk, m, reps)
