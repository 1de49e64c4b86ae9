"""Chain-structured laws held by their parameters: no q^N table, any N.

:class:`MarkovChainLaw` and :class:`HMMLaw` are what :func:`exactmd.models.markov_chain` and
:func:`exactmd.models.hmm` return with ``table=False``: the initial law, the transition (and
emission) matrices and the length N, and nothing of size q^N. Their exact conditionals are
computed without enumeration (:mod:`exactmd.denoisers.chains`), so these work at N = 1024:

- :func:`exactmd.exact_denoiser` (nearest revealed neighbours for a chain, forward–backward
  for an HMM) and :func:`exactmd.estimate_profile` with it;
- :func:`exactmd.markov_profile` (Markov chains only: an HMM's observations have no closed-form
  profile);
- :meth:`MarkovChainLaw.sample` / :meth:`HMMLaw.sample`: exact draws from π (ancestral
  sampling), the samples an estimate of f needs.

Everything that needs the table (entropies, ``information_profile``, ``output_distribution``,
``sample`` of the factorized sampler…) starts with :func:`exactmd.as_distribution`, which
refuses these laws with a :class:`~exactmd.errors.MemoryPlanError` naming the shape and the
bytes the table would need, before allocating anything (the law says ``holds_table = False``).

Examples
--------
>>> law = MarkovChainLaw([0.5, 0.5], [[0.9, 0.1], [0.2, 0.8]], 1024)
>>> law.n, law.q, len(law.shape)
(1024, 2, 1024)
>>> law.sample(3, seed=0).shape
(3, 1024)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from exactmd._validate import check_int, check_seed
from exactmd.backends import get_backend
from exactmd.backends._memory import require_fits
from exactmd.errors import ModelError
from exactmd.models._base import positive_int, prob_vector, stochastic_matrix
from exactmd.typing import FloatArray, IntArray

__all__ = ["MarkovChainLaw", "HMMLaw", "WITHOUT_TABLE"]

#: The functions that work on a parameter-only law (named in the refusal of the others).
WITHOUT_TABLE = (
    "exactmd.exact_denoiser",
    "exactmd.estimate_profile",
    "law.sample",
)


def _frozen(a: np.ndarray) -> FloatArray:
    out = np.array(a, dtype=np.float64, copy=True)
    out.setflags(write=False)
    return out


def _chain_parameters(init: Any, transition: Any) -> tuple[FloatArray, FloatArray]:
    """``init`` as a law on q states and ``transition`` as a q × q stochastic matrix, each
    normalised exactly (they are accepted within 1e-8 of a law, as by the table builders)."""
    p0 = prob_vector(init, "init")
    q = p0.size
    t = stochastic_matrix(transition, "transition", rows=q)
    if t.shape != (q, q):
        raise ModelError(f"transition: must be a {q}x{q} matrix; received shape {t.shape}")
    return _frozen(p0 / p0.sum()), _frozen(t / t.sum(axis=1, keepdims=True))


def _plan_draws(m: int, n: int, name: str) -> None:
    # the draws, the uniforms and one temporary
    what = f"{name}: {m} samples of N = {n}"
    require_fits(3 * 8 * m * n, get_backend(name="numpy"), what, hint="; draw them in batches")


def _draw(cdf: FloatArray, u: FloatArray) -> IntArray:
    """One value per row: ``cdf`` (m, q) cumulative rows, ``u`` (m,) uniforms."""
    idx = (u[:, None] * cdf[:, -1:] >= cdf).sum(axis=1)
    return np.minimum(idx, cdf.shape[1] - 1).astype(np.int64)


@dataclass(frozen=True, eq=False, repr=False, init=False)
class MarkovChainLaw:
    """A homogeneous Markov chain X_0 → … → X_{N−1} on q states, held by its parameters.

    π(x) = init[x_0] Π_{t≥1} T[x_{t−1}, x_t]; axis t is X_t. No table is ever formed: the
    exact denoiser (:func:`exactmd.exact_denoiser`), :func:`exactmd.markov_profile`,
    :func:`exactmd.estimate_profile` and :meth:`sample` work at any N; functions that need
    the q^N table refuse it (module notes).

    Parameters
    ----------
    init
        The law of X_0 (q entries, summing to 1 within 1e-8).
    transition
        The q × q transition matrix (rows summing to 1 within 1e-8).
    n
        N, the number of variables.

    Examples
    --------
    >>> law = MarkovChainLaw([1.0, 0.0], [[0.0, 1.0], [1.0, 0.0]], 4)
    >>> law.sample(2, seed=0).tolist()  # deterministic alternation
    [[0, 1, 0, 1], [0, 1, 0, 1]]
    >>> law
    MarkovChainLaw(q=2, n=4)
    """

    init: FloatArray
    transition: FloatArray
    n: int
    kind: ClassVar[str] = "markov_chain"
    #: Marks a law without a table: :func:`exactmd.as_distribution` refuses it.
    holds_table: ClassVar[bool] = False
    without_table: ClassVar[tuple[str, ...]] = (*WITHOUT_TABLE, "exactmd.markov_profile")

    def __init__(self, init: Any, transition: Any, n: Any) -> None:
        p0, t = _chain_parameters(init, transition)
        object.__setattr__(self, "init", p0)
        object.__setattr__(self, "transition", t)
        object.__setattr__(self, "n", positive_int(n, "n"))

    @property
    def q(self) -> int:
        """The number of states (the mask id of the denoiser's tokens)."""
        return int(self.init.size)

    @property
    def shape(self) -> tuple[int, ...]:
        """``(q,) * N``, the shape the table would have."""
        return (self.q,) * self.n

    def __repr__(self) -> str:
        return f"MarkovChainLaw(q={self.q}, n={self.n})"

    def sample(self, m: int, seed: Any = 0) -> IntArray:
        """``m`` exact draws from π (ancestral sampling), int64 ``(m, N)``.

        Examples
        --------
        >>> MarkovChainLaw([0.5, 0.5], [[1.0, 0.0], [0.0, 1.0]], 3).sample(4, seed=1).tolist()
        [[1, 1, 1], [1, 1, 1], [0, 0, 0], [1, 1, 1]]
        """
        count = check_int(m, "m", minimum=0)
        _plan_draws(count, self.n, "m")
        rng = _rng(seed)
        out = np.empty((count, self.n), dtype=np.int64)
        if count == 0:
            return out
        cdf = np.cumsum(self.transition, axis=1)
        out[:, 0] = _draw(np.broadcast_to(np.cumsum(self.init), (count, self.q)), rng.random(count))
        for t in range(1, self.n):
            out[:, t] = _draw(cdf[out[:, t - 1]], rng.random(count))
        return out


@dataclass(frozen=True, eq=False, repr=False, init=False)
class HMMLaw:
    """The law of the observations Y_0..Y_{N−1} of a hidden Markov model, held by its
    parameters.

    π(y) = Σ_h init[h_0] E[h_0, y_0] Π_{t≥1} T[h_{t−1}, h_t] E[h_t, y_t]: the hidden chain has
    q_h states (``transition`` q_h × q_h) and ``emission`` is q_h × q (q observed values,
    the mask id of the denoiser's tokens). No table is ever formed (module notes).

    Examples
    --------
    >>> law = HMMLaw([1.0, 0.0], [[0.5, 0.5], [0.5, 0.5]], [[1.0, 0.0], [0.0, 1.0]], 5)
    >>> law.q, law.q_hidden, law.shape
    (2, 2, (2, 2, 2, 2, 2))
    >>> law.sample(2, seed=0)[:, 0].tolist()  # y_0 = h_0 = 0
    [0, 0]
    """

    init: FloatArray
    transition: FloatArray
    emission: FloatArray
    n: int
    kind: ClassVar[str] = "hmm"
    holds_table: ClassVar[bool] = False
    without_table: ClassVar[tuple[str, ...]] = WITHOUT_TABLE

    def __init__(self, init: Any, transition: Any, emission: Any, n: Any) -> None:
        p0, t = _chain_parameters(init, transition)
        e = stochastic_matrix(emission, "emission", rows=p0.size)
        object.__setattr__(self, "init", p0)
        object.__setattr__(self, "transition", t)
        object.__setattr__(self, "emission", _frozen(e / e.sum(axis=1, keepdims=True)))
        object.__setattr__(self, "n", positive_int(n, "n"))

    @property
    def q(self) -> int:
        """The number of observed values."""
        return int(self.emission.shape[1])

    @property
    def q_hidden(self) -> int:
        """The number of hidden states."""
        return int(self.init.size)

    @property
    def shape(self) -> tuple[int, ...]:
        """``(q,) * N``, the shape the table of the observations would have."""
        return (self.q,) * self.n

    def __repr__(self) -> str:
        return f"HMMLaw(q={self.q}, q_hidden={self.q_hidden}, n={self.n})"

    def sample(self, m: int, seed: Any = 0) -> IntArray:
        """``m`` exact draws of the observations (ancestral sampling), int64 ``(m, N)``.

        Examples
        --------
        >>> law = HMMLaw([0.5, 0.5], [[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]], 3)
        >>> law.sample(3, seed=1).tolist()  # y = h, constant
        [[1, 1, 1], [1, 1, 1], [0, 0, 0]]
        """
        count = check_int(m, "m", minimum=0)
        _plan_draws(2 * count, self.n, "m")
        rng = _rng(seed)
        out = np.empty((count, self.n), dtype=np.int64)
        if count == 0:
            return out
        t_cdf = np.cumsum(self.transition, axis=1)
        e_cdf = np.cumsum(self.emission, axis=1)
        h = _draw(np.broadcast_to(np.cumsum(self.init), (count, self.q_hidden)), rng.random(count))
        for t in range(self.n):
            if t:
                h = _draw(t_cdf[h], rng.random(count))
            out[:, t] = _draw(e_cdf[h], rng.random(count))
        return out


def _rng(seed: Any) -> np.random.Generator:
    seed = check_seed(seed)
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
