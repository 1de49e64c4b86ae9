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
:data:`~exactmd.denoisers.exact.DEFAULT_BATCH_ELEMENTS` output entries (``B · N · q``, one row
at least), so ``(B, N, q)`` is never held for more than one batch: at N = 1024 and a vocabulary
of 50,257 that is one row per call. Of each output only the row of the target position
``σ(i+1)`` is used, so only that row is taken (on the output's device) and checked against the
contract; the rest of the batch's output is dropped at once. Pass ``ranks`` (the i to
estimate), or ``grid`` for that many evenly spaced i (:func:`rank_grid`), to estimate f at a
few i only: at N = 1024 a grid of 64 points costs 1/16 of the full profile.

**How many samples.** The error of f̂(i) is ``stderr(i) ≈ sd(i) / √M``, where ``sd(i)`` is the
standard deviation of one sample's term g_b(i) (read it off a pilot run): to divide the error
by c, take c² times the samples. :meth:`ProfileEstimate.samples_for` applies this rule to a
pilot estimate, and :meth:`ProfileEstimate.interval` gives the normal confidence intervals
``f̂ ± z · stderr``. With the exact denoiser of a 4-state chain at N = 1024, the 95% intervals
from M = 100 samples cover the exact f at close to the nominal rate (measured over seeds in
tests/test_chains.py).

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

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

from exactmd._validate import as_integer, check_int, check_real, check_seed
from exactmd.backends import get_backend, is_torch_tensor, to_host
from exactmd.backends._memory import require_fits
from exactmd.denoisers.calls import (
    _token_kind,
    check_denoiser_output,
    contract_callable,
    invoke,
    private_tokens,
)
from exactmd.denoisers.exact import DEFAULT_BATCH_ELEMENTS
from exactmd.errors import DenoiserError, ValidationError, describe
from exactmd.typing import FloatArray, IntArray

__all__ = ["ProfileEstimate", "estimate_profile", "rank_grid"]


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

    def interval(self, level: float = 0.95) -> tuple[FloatArray, FloatArray]:
        """The normal confidence intervals ``f̂ ± z · stderr`` at ``level``: (lower, upper).

        Examples
        --------
        >>> est = ProfileEstimate(np.array([-1.0]), np.array([0.1]), np.array([0]), 100, 1)
        >>> [round(float(v[0]), 4) for v in est.interval(0.95)]
        [-1.196, -0.804]
        """
        level = check_real(level, "level", minimum=0.0, maximum=1.0, open_min=True, open_max=True)
        z = NormalDist().inv_cdf(0.5 + level / 2.0)
        return self.profile - z * self.stderr, self.profile + z * self.stderr

    def samples_for(self, stderr: float) -> int:
        """The samples M that bring every standard error down to ``stderr``: the rule
        ``stderr ∝ 1/√M`` applied to this estimate's largest one, at the same n_orders.

        Examples
        --------
        >>> est = ProfileEstimate(np.array([-1.0]), np.array([0.1]), np.array([0]), 100, 1)
        >>> est.samples_for(0.01)  # 10 times smaller: 100 times the samples
        10000
        """
        target = check_real(stderr, "stderr", minimum=0.0, open_min=True)
        worst = float(np.max(self.stderr))
        return max(2, math.ceil(self.n_samples * (worst / target) ** 2 - 1e-9))

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


def _target_rows(
    denoiser: Any, tokens: IntArray, target: IntArray, shape: tuple[int, ...], offset: int
) -> FloatArray:
    """The checked float64 rows ``(B, q)`` of the denoiser's output at the target positions.

    Only these rows are used, so only they are taken from the output (on its device) and
    checked, by :func:`check_denoiser_output` on a two-position view: the target, masked,
    with its alphabet, beside an unmasked position of the full alphabet (ignored). A failure
    is reported by the check of the whole output, which names the row and its tokens."""
    out = invoke(contract_callable(denoiser), _as_input(denoiser, tokens))
    b, n = tokens.shape
    q = max(shape)
    dims = tuple(int(s) for s in getattr(out, "shape", ()))
    if dims != (b, n, q):  # lists, or a wrong shape: the full check says what is wrong
        full = check_denoiser_output(out, tokens, shape, "denoiser", offset)
        return np.asarray(full[np.arange(b), target], dtype=np.float64)
    sizes = np.asarray(shape, dtype=np.int64)[target]
    checked = np.empty((b, q))
    for size in np.unique(sizes).tolist():
        sel = np.flatnonzero(sizes == size)
        if is_torch_tensor(out):
            import torch

            idx = torch.as_tensor(sel, device=out.device)
            view = out[idx, torch.as_tensor(target[sel], device=out.device)]
            pair: Any = torch.stack([view, torch.zeros_like(view)], dim=1)
        else:
            view = np.asarray(out)[sel, target[sel]]
            pair = np.stack([view, np.zeros_like(view)], axis=1)
        tok = np.tile(np.array([[q, 0]], dtype=np.int64), (len(sel), 1))
        try:
            checked[sel] = check_denoiser_output(pair, tok, (int(size), q), "denoiser")[:, 0]
        except DenoiserError:
            check_denoiser_output(out, tokens, shape, "denoiser", offset)  # names the row
            raise
    return checked


def rank_grid(n: int, points: int) -> IntArray:
    """``points`` ranks spread evenly over ``0..n−1``, both ends included (every rank once
    when ``points >= n``).

    Examples
    --------
    >>> rank_grid(1024, 5).tolist()
    [0, 256, 512, 767, 1023]
    >>> rank_grid(3, 10).tolist()
    [0, 1, 2]
    """
    size = check_int(n, "n")
    count = check_int(points, "points")
    if count == 1:
        return np.zeros(1, dtype=np.int64)
    return np.unique(np.round(np.linspace(0, size - 1, min(count, size))).astype(np.int64))


def _ranks(ranks: Any, n: int) -> IntArray:
    """The ranks i at which f is estimated: distinct integers in range(N), sorted."""
    values = list(ranks) if isinstance(ranks, Sequence | np.ndarray) else None
    ints = [as_integer(r) for r in values] if values else []  # the one rule (2.0 is 2)
    if not ints or not all(r is not None and 0 <= r < n for r in ints):
        raise ValidationError(f"ranks: must be indices in range(N={n}); received {describe(ranks)}")
    return np.unique(np.asarray(ints, dtype=np.int64))


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
    grid: int | None = None,
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
        The rows the estimate uses are checked
        (:func:`~exactmd.denoisers.calls.check_denoiser_output`; module notes).
    n_orders
        R, independent uniform permutations per sample.
    seed
        Seed of the permutations (``numpy.random.default_rng``).
    shape
        The alphabet sizes ``(q_1..q_N)``; default: all equal to the q of the denoiser's
        output on one unmasked sample.
    ranks
        The i at which to estimate f (default all of 0..N−1).
    grid
        Instead of ``ranks``: that many i spread evenly over 0..N−1 (:func:`rank_grid`).
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
    # the orders, their inverse and two index temporaries
    what = f"n_orders: {reps} orders for each of {m} samples of N = {n}"
    require_fits(4 * 8 * m * reps * n, get_backend(name="numpy"), what)
    q_i = _alphabets(x, denoiser, shape)
    q = max(q_i)
    if ranks is not None and grid is not None:
        raise ValidationError(
            f"grid: give ranks or grid, not both; received ranks={describe(ranks)} and "
            f"grid={describe(grid)}"
        )
    if grid is not None:
        rk = rank_grid(n, check_int(grid, "grid"))
    else:
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
        rows = _target_rows(denoiser, tokens, target, q_i, start)
        prob = rows[np.arange(len(pr)), values[np.arange(len(pr)), target]]
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
