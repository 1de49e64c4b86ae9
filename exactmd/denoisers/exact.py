"""Denoisers: the exact one, a perturbed one for tests, and the checked batched call.

A denoiser follows the contract of docs/design.md ("Denoiser contract"): it takes int tokens ``(B,
N)`` whose masked
positions hold ``q = max q_i`` and returns probabilities ``(B, N, q)``; rows of unmasked
positions are ignored and values ``>= q_i`` must carry no mass.

- :func:`exact_denoiser` returns π's own conditionals
  (:func:`exactmd.enumeration.conditionals.exact_conditionals`);
  contexts of probability zero get the uniform law
  (:data:`~exactmd.enumeration.ZERO_CONTEXT_POLICY`).
- :func:`perturbed_denoiser` tempers and mixes them with a fixed pseudo-random law per context: a
  deterministic, imperfect denoiser for tests and notebooks.
- :func:`as_denoiser` wraps any callable (numpy or torch) to fix the token type and batch size;
  :func:`evaluate_denoiser` calls it in bounded batches and checks every row it returns.

Output rules (checked on the rows of masked positions only): shape ``(B, N, q)``; finite;
``>= 0``; mass on values ``>= q_i`` at most the tolerance; row sums within the tolerance of 1.
The tolerance is :data:`DENOISER_ATOL` (``1e-8``) for float64 output and
:data:`DENOISER_ATOL_LOW` (``1e-5``) for lower precision. Accepted rows are then cleaned in
float64: mass on values ``>= q_i`` is set to 0 and each row is divided by its sum.

Examples
--------
>>> import numpy as np
>>> p = np.array([[0.5, 0.0], [0.25, 0.25]])
>>> den = exact_denoiser(p)
>>> den(np.array([[1, 2]]))[0, 1].tolist()  # π(x_1 | x_0 = 1)
[0.5, 0.5]
>>> bad = lambda tokens: np.ones((len(tokens), 2, 2))
>>> from exactmd.denoisers.calls import evaluate_denoiser
>>> evaluate_denoiser(bad, np.array([[2, 2]]), p)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
exactmd.errors.DenoiserError: denoiser: row 0 (tokens [2, 2]), position 0: probabilities ...
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from exactmd._validate import check_choice, check_int, check_real
from exactmd.backends import Backend, get_backend, is_torch_tensor, to_host
from exactmd.backends._tuning import Tuning
from exactmd.denoisers.chains import HMMDenoiser, MarkovChainDenoiser, chain_denoiser
from exactmd.enumeration.conditionals import check_tokens, exact_conditionals
from exactmd.errors import DenoiserError, describe
from exactmd.law.distribution import Distribution, as_distribution

__all__ = [
    "ExactDenoiser",
    "PerturbedDenoiser",
    "BatchedDenoiser",
    "exact_denoiser",
    "perturbed_denoiser",
    "as_denoiser",
    "DENOISER_ATOL",
    "DENOISER_ATOL_LOW",
    "DEFAULT_BATCH_ELEMENTS",
    "ARGMAX_RTOL",
]

#: Tolerance on row sums (and on mass at values ``>= q_i``) for float64 denoiser output.
DENOISER_ATOL = 1e-8
#: The same tolerance for float32 / float16 / bfloat16 output.
DENOISER_ATOL_LOW = 1e-5
#: At temperature 0 (:func:`perturbed_denoiser`), values within this relative distance of the
#: largest conditional count as tied for the argmax and share its mass equally.
ARGMAX_RTOL = 1e-12
#: Default bound on ``B * N * q`` per denoiser call (about 16 MiB of float64 output): the
#: ``denoiser_batch_elements`` of every device's tuning (``exactmd.backends._tuning``), named
#: here for the callers that batch a denoiser on the host without a law's backend.
DEFAULT_BATCH_ELEMENTS = Tuning.denoiser_batch_elements


class ExactDenoiser:
    """π's exact conditionals as a contract denoiser (see :func:`exact_denoiser`)."""

    def __init__(self, dist: Distribution) -> None:
        self.dist = dist
        self._by_key: dict[str, Distribution] = {}

    def __repr__(self) -> str:
        return f"ExactDenoiser(shape={self.dist.shape})"

    def law_for(self, tokens: Any) -> Distribution:
        """The law held by the backend matching ``tokens`` (numpy, or torch on its device)."""
        if is_torch_tensor(tokens):
            be = get_backend(name="torch", device=tokens.device)
        else:
            be = get_backend(name="numpy")
        key = repr(be)
        if key not in self._by_key:
            self._by_key[key] = as_distribution(self.dist, backend=be.name, device=_device(be))
        return self._by_key[key]

    def __call__(self, tokens: Any) -> Any:
        d = self.law_for(tokens)
        return exact_conditionals(d, to_host(tokens))


def _device(be: Backend) -> Any:
    return getattr(be, "device", None)


def exact_denoiser(p: Any) -> ExactDenoiser | MarkovChainDenoiser | HMMDenoiser:
    """The exact denoiser of π: ``tokens -> π(x_i = v | unmasked tokens)``.

    numpy tokens give a numpy array and torch tokens a torch tensor on the tokens' device,
    float64, shape ``(B, N, q)``. Unmasked positions get the one-hot of their value; contexts
    of probability zero give the uniform law on ``X_i``.

    A parameter-only chain law (:class:`~exactmd.models.chains.MarkovChainLaw`,
    :class:`~exactmd.models.chains.HMMLaw`, from ``markov_chain(..., table=False)`` or
    ``hmm(..., table=False)``) gets its denoiser without enumeration, at any N
    (:mod:`exactmd.denoisers.chains`); any other law is enumerated.

    Examples
    --------
    >>> import numpy as np
    >>> den = exact_denoiser(np.full((2, 3), 1 / 6))
    >>> den(np.array([[3, 3]])).round(3).tolist()
    [[[0.5, 0.5, 0.0], [0.333, 0.333, 0.333]]]
    """
    chain = chain_denoiser(p)
    if chain is not None:
        return chain
    return ExactDenoiser(as_distribution(p))


def _splitmix(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser on a uint64 array (wrapping arithmetic)."""
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@dataclass(eq=False, repr=False)
class PerturbedDenoiser:
    """A deterministic imperfect denoiser (see :func:`perturbed_denoiser`)."""

    exact: ExactDenoiser
    temperature: float
    noise: float
    seed: int

    def __repr__(self) -> str:
        return (
            f"PerturbedDenoiser(shape={self.exact.dist.shape}, temperature={self.temperature}, "
            f"noise={self.noise}, seed={self.seed})"
        )

    def _noise_rows(self, tok: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        b, n = tok.shape
        q = max(shape)
        h = _splitmix(np.full(b, self.seed, dtype=np.uint64))
        for j in range(n):
            h = _splitmix(h ^ tok[:, j].astype(np.uint64))
        pos = np.arange(n, dtype=np.uint64)[None, :, None] * np.uint64(0x9E3779B97F4A7C15)
        val = np.arange(q, dtype=np.uint64)[None, None, :] * np.uint64(0xC2B2AE3D27D4EB4F)
        z = _splitmix(_splitmix(h[:, None, None] ^ pos) ^ val)
        u = ((z >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0**53
        g = -np.log(u) * (np.arange(q)[None, :] < np.asarray(shape)[:, None])[None, :, :]
        return np.asarray(g / g.sum(axis=2, keepdims=True), dtype=np.float64)

    def log_probabilities(self, tokens: Any) -> np.ndarray:
        """``log`` of the masked rows, computed in log space (float64 numpy ``(B, N, q)``).

        Tempering is ``(1/T) log π(·|ctx)`` minus its log-sum-exp, so no row underflows to
        ``0 / 0`` however small ``T`` is; ``T = 0`` is the argmax law (ties share the mass
        equally, see :func:`perturbed_denoiser`). Values of probability 0 get ``-inf``. Rows
        of unmasked positions are ``log`` of the one-hot of their token.
        """
        d = self.exact.dist
        tok = check_tokens(to_host(tokens), d.shape)
        base = np.asarray(d.backend.to_numpy(exact_conditionals(d, tok)), dtype=np.float64)
        with np.errstate(divide="ignore"):
            log_base = np.log(base)
        if self.temperature == 0.0:
            top = base.max(axis=2, keepdims=True)
            ties = base >= top * (1.0 - ARGMAX_RTOL)
            with np.errstate(divide="ignore"):
                tempered = np.log(ties / ties.sum(axis=2, keepdims=True))
        else:  # (log π − max log π) / T: no difference of two huge numbers for a tiny T
            with np.errstate(invalid="ignore"):
                shifted = (log_base - log_base.max(axis=2, keepdims=True)) / self.temperature
            shifted = np.where(np.isnan(shifted), -np.inf, shifted)  # a row's -inf − -inf
            tempered = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
        if self.noise > 0.0:
            with np.errstate(divide="ignore"):
                log_noise = np.log(self._noise_rows(tok, d.shape))
                keep = np.log1p(-self.noise) if self.noise < 1.0 else -np.inf
                tempered = np.logaddexp(keep + tempered, np.log(self.noise) + log_noise)
        masked = (tok == d.q)[:, :, None]
        return np.where(masked, tempered, log_base)

    def __call__(self, tokens: Any) -> Any:
        out = np.exp(self.log_probabilities(tokens))
        if is_torch_tensor(tokens):
            import torch

            return torch.as_tensor(out, dtype=torch.float64, device=tokens.device)
        return out


def perturbed_denoiser(
    p: Any, temperature: float = 1.0, noise: float = 0.0, seed: int = 0
) -> PerturbedDenoiser:
    """A tempered and noised copy of the exact denoiser, deterministic in the context.

    Each masked row is ``(1 − noise) · π(·|ctx)^{1/T} / Z + noise · g(ctx, i)``, where ``g`` is
    a Dirichlet(1) law on ``X_i`` drawn from a hash of ``(seed, tokens row, i)``: the same
    context always gets the same row, as the sampler's theory requires. ``noise > 0`` gives
    every value positive mass, so E_learn is finite; ``temperature`` alone keeps π's zeros.

    The tempering is done in log space (``log π / T`` minus its log-sum-exp), so a small
    ``T`` never gives ``0 / 0``: as ``T → 0`` the rows tend to the **argmax law**, and
    ``T = 0`` is that law itself. Its tie rule is the limit's: the values whose conditional
    lies within a relative :data:`ARGMAX_RTOL` (``1e-12``) of the largest share its mass
    equally. The denoiser also offers :meth:`PerturbedDenoiser.log_probabilities`, which
    :func:`exactmd.learning_error` uses, so E_learn stays finite (and exact) where the
    probabilities themselves underflow float64 (``T = 0.002`` gives values below 1e-308).

    Parameters
    ----------
    p
        The law π.
    temperature
        ``T >= 0``; 1 keeps the exact conditionals, large T flattens them, ``T = 0`` is the
        argmax law. Any real scalar (Python or numpy); bools and strings are refused.
    noise
        Mixing weight in ``[0, 1]``.
    seed
        Integer seed of the hash.

    Examples
    --------
    >>> import numpy as np
    >>> den = perturbed_denoiser(np.full((2, 2), 0.25), noise=0.5, seed=1)
    >>> out = den(np.array([[2, 2]]))
    >>> out.shape, bool(np.allclose(out.sum(axis=2), 1.0))
    ((1, 2, 2), True)
    """
    temperature = check_real(temperature, "temperature", minimum=0.0)
    noise = check_real(noise, "noise", minimum=0.0, maximum=1.0)
    seed = check_int(seed, "seed", minimum=0)
    exact = ExactDenoiser(as_distribution(p))
    return PerturbedDenoiser(exact, temperature, noise, seed)


@dataclass(eq=False, repr=False)
class BatchedDenoiser:
    """A user denoiser with its token type, device and batch size fixed (:func:`as_denoiser`)."""

    fn: Callable[[Any], Any]
    tokens: str = "auto"
    device: Any = None
    batch_size: int | None = None

    def __repr__(self) -> str:
        return (
            f"BatchedDenoiser({describe(self.fn, 40)}, tokens={self.tokens!r}, "
            f"batch_size={self.batch_size})"
        )

    def __call__(self, tokens: Any) -> Any:
        return self.fn(tokens)


def _is_torch_module(fn: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(fn, torch.nn.Module)


def as_denoiser(
    fn: Callable[[Any], Any],
    *,
    tokens: str = "auto",
    device: Any = None,
    batch_size: int | None = None,
) -> BatchedDenoiser:
    """Wrap a denoiser callable, fixing how exactmd calls it.

    Parameters
    ----------
    fn
        Callable ``tokens (B, N) -> probabilities (B, N, q)`` (numpy, torch or lists).
    tokens
        ``"numpy"`` (int64 arrays), ``"torch"`` (int64 tensors on ``device``) or ``"auto"``:
        a ``torch.nn.Module`` gets torch tokens on its parameters' device, any other callable
        gets tokens of the computation's backend (numpy for numpy laws, torch on the law's
        device for torch laws).
    device
        Torch device for ``tokens="torch"`` (default: the computation's device, else CPU).
    batch_size
        Rows per call; default: as many as keep ``B * N * q <= DEFAULT_BATCH_ELEMENTS``.

    Examples
    --------
    >>> import numpy as np
    >>> den = as_denoiser(lambda t: np.full((len(t), 1, 2), 0.5), tokens="numpy", batch_size=3)
    >>> from exactmd.denoisers.calls import evaluate_denoiser
    >>> evaluate_denoiser(den, np.full((7, 1), 2), np.array([0.5, 0.5])).shape
    (7, 1, 2)
    """
    if isinstance(fn, BatchedDenoiser):
        fn = fn.fn
    if not callable(fn):
        raise DenoiserError(f"fn: must be callable (a denoiser); received {describe(fn)}")
    check_choice(tokens, "tokens", ("auto", "numpy", "torch"))
    size = None if batch_size is None else check_int(batch_size, "batch_size")
    return BatchedDenoiser(fn, tokens, device, size)
