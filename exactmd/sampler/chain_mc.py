"""E_fact of chain laws by Monte Carlo with the exact block conditionals, at any N.

For an HMM's observations there is no closed-form profile f, so the exact identity
``E_fact = Σ_i f(i) − Σ_k s_{k+1} f(a_k)`` cannot be evaluated; E_fact is estimated instead.
``E_fact = E Σ_k TC(z_k | x_{z<k})``, and for one draw x ~ π and one order σ,

    t_k = log π(x_{z_k} | x_{S_k}) − Σ_{i ∈ z_k} log π(x_i | x_{S_k}),
    S_k = σ(1..a_k),  z_k = σ(a_k + 1..a_{k+1}),

has mean ``E TC(z_k | X_{S_k})`` (the law of ``x_{z_k}`` given ``x_{S_k}`` is π's own). The
block conditional is a ratio of two marginal likelihoods,
``log π(x_z | x_S) = log π(x_{S ∪ z}) − log π(x_S)`` (:func:`block_log_conditional`), each a
scaled forward pass over the hidden chain with evidence at the revealed positions and none
elsewhere (:func:`chain_log_likelihood`); the single-position conditionals come from the exact
denoiser (:class:`~exactmd.denoisers.chains.HMMDenoiser`). The block terms telescope,
``Σ_k log π(x_{z_k} | x_{S_k}) = log π(x)``, but each is kept, so the estimate comes with
its per-step breakdown. Every schedule is run on the same draws and orders (common random
numbers), so the gains, ratios of two correlated means, have small standard errors (delta
method). A Markov chain is run the same way as the HMM whose emission is the identity; there
the Monte Carlo value can be checked against the exact one.

Examples
--------
>>> import numpy as np
>>> from exactmd.models.chains import HMMLaw
>>> law = HMMLaw([0.5, 0.5], [[0.9, 0.1], [0.1, 0.9]], [[0.8, 0.2], [0.2, 0.8]], 16)
>>> mc = mc_factorization_error(law, {"constant": [4] * 4, "one step": [16]}, 200, seed=0)
>>> bool(mc.errors["one step"] > mc.errors["constant"] > 0)
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from exactmd._validate import check_int, check_seed
from exactmd.denoisers.chains import HMMDenoiser, MarkovChainDenoiser
from exactmd.errors import ScheduleError, ValidationError, describe
from exactmd.models.chains import HMMLaw, MarkovChainLaw
from exactmd.schedules.kinds import ExchangeableSchedule, as_schedule
from exactmd.typing import FloatArray, IntArray

__all__ = [
    "chain_parameters",
    "chain_log_likelihood",
    "block_log_conditional",
    "MonteCarloError",
    "mc_factorization_error",
]

_CHAIN_RULE = "a MarkovChainLaw or an HMMLaw (exactmd.models.markov_chain / hmm, table=False)"


def chain_parameters(law: Any) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``(init, transition, emission)`` of a chain law; a Markov chain is the HMM whose
    emission is the identity.

    Examples
    --------
    >>> from exactmd.models.chains import MarkovChainLaw
    >>> chain_parameters(MarkovChainLaw([1.0, 0.0], [[0.5, 0.5], [0.5, 0.5]], 4))[2].tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    if isinstance(law, HMMLaw):
        return law.init, law.transition, law.emission
    if isinstance(law, MarkovChainLaw):
        return law.init, law.transition, np.eye(law.q)
    raise ValidationError(f"law: must be {_CHAIN_RULE}; received {describe(law)}")


def _check_tokens(law: Any, tokens: Any, name: str) -> IntArray:
    tok = np.asarray(tokens)
    if tok.ndim != 2 or tok.shape[1] != law.n or not np.issubdtype(tok.dtype, np.integer):
        raise ValidationError(
            f"{name}: must be an int array (B, {law.n}); received {describe(tokens)}"
        )
    if tok.size and (tok.min() < 0 or tok.max() > law.q):
        raise ValidationError(
            f"{name}: values must lie in range({law.q}) or be the mask {law.q}; received "
            f"values from {int(tok.min())} to {int(tok.max())}"
        )
    return tok.astype(np.int64)


def chain_log_likelihood(law: Any, tokens: Any) -> FloatArray:
    """``log π(x_S)`` for each row: the log-probability of the revealed values (mask = q).

    A forward pass over the hidden chain, normalised at every step, with the emission
    likelihood as evidence at the revealed positions and 1 at the masked ones; the log of the
    normalisers adds up to ``log π(x_S)`` (``−inf`` where it is 0; 0 when nothing is
    revealed). Cost ``O(B N q_h (q_h + q))``.

    Parameters
    ----------
    law
        A :class:`~exactmd.models.chains.MarkovChainLaw` or an
        :class:`~exactmd.models.chains.HMMLaw`.
    tokens
        int array ``(B, N)``: values in ``range(q)``, the mask id ``q`` elsewhere.

    Examples
    --------
    >>> from exactmd.models.chains import MarkovChainLaw
    >>> law = MarkovChainLaw([0.5, 0.5], [[0.9, 0.1], [0.1, 0.9]], 3)
    >>> np.exp(chain_log_likelihood(law, np.array([[0, 2, 0], [2, 2, 2]]))).round(6).tolist()
    [0.41, 1.0]
    """
    init, trans, emission = chain_parameters(law)
    tok = _check_tokens(law, tokens, "tokens")
    b = tok.shape[0]
    evidence = np.vstack([emission.T, np.ones((1, init.size))])  # (q + 1, q_h)
    total = np.zeros(b)
    alive = np.ones(b, dtype=bool)
    a = np.broadcast_to(init, (b, init.size))
    for t in range(law.n):
        a = (a if t == 0 else a @ trans) * evidence[tok[:, t]]
        norm = a.sum(axis=1)
        alive &= norm > 0
        safe = np.where(norm > 0, norm, 1.0)
        # a masked step carries no evidence: its normaliser is 1 up to rounding, left out
        total += np.where(tok[:, t] == law.q, 0.0, np.log(safe))
        a = a / safe[:, None]
    return np.where(alive, total, -np.inf)


def block_log_conditional(law: Any, values: Any, revealed: Any, block: Any) -> FloatArray:
    """``log π(x_z | x_S)`` for each row: ``log π(x_{S ∪ z}) − log π(x_S)`` (module notes).

    Parameters
    ----------
    law
        A :class:`~exactmd.models.chains.MarkovChainLaw` or an
        :class:`~exactmd.models.chains.HMMLaw`.
    values
        int array ``(B, N)`` of values in ``range(q)`` (only those in S ∪ z are read).
    revealed, block
        bool arrays ``(B, N)``: S and z, disjoint.

    Returns
    -------
    float64 array ``(B,)``; ``−inf`` where ``π(x_{S ∪ z}) = 0 < π(x_S)``. A row whose context
    has ``π(x_S) = 0`` raises :class:`~exactmd.errors.ValidationError` (no conditional).

    Examples
    --------
    >>> from exactmd.models.chains import MarkovChainLaw
    >>> law = MarkovChainLaw([0.5, 0.5], [[0.9, 0.1], [0.1, 0.9]], 3)
    >>> s, z = np.array([[True, False, False]]), np.array([[False, True, True]])
    >>> float(np.exp(block_log_conditional(law, np.array([[0, 0, 0]]), s, z))[0])  # 0.9²
    0.81
    """
    x = _check_tokens(law, values, "values")
    if np.any(x == law.q):
        raise ValidationError(f"values: must lie in range({law.q}); received the mask {law.q}")
    s = np.asarray(revealed, dtype=bool)
    z = np.asarray(block, dtype=bool)
    if s.shape != x.shape or z.shape != x.shape or np.any(s & z):
        raise ValidationError(
            f"block: revealed and block must be disjoint bool arrays of shape {x.shape}; "
            f"received shapes {s.shape} and {z.shape}"
        )
    context = chain_log_likelihood(law, np.where(s, x, law.q))
    if np.any(np.isneginf(context)):
        r = int(np.argmax(np.isneginf(context)))
        raise ValidationError(
            f"revealed: row {r} is a context of probability 0 (no conditional); received "
            f"values {np.where(s[r], x[r], law.q).tolist()}"
        )
    joint = chain_log_likelihood(law, np.where(s | z, x, law.q))
    return np.asarray(joint - context, dtype=np.float64)


# -- E_fact by Monte Carlo with the exact block conditionals -----------------------------------


@dataclass(frozen=True)
class MonteCarloError:
    """E_fact of schedules by Monte Carlo (:func:`mc_factorization_error`).

    Attributes
    ----------
    errors, stderr
        The mean of ``Σ_k t_k`` per schedule label and its standard error.
    per_step
        The mean of each ``t_k`` (length K) per label.
    gains, gain_stderr
        ``E_label / E_reference`` and its standard error (delta method on the paired draws);
        the reference is the first label.
    n_samples
        M, the draws (each with one order, shared by every schedule).
    """

    errors: dict[str, float]
    stderr: dict[str, float]
    per_step: dict[str, FloatArray]
    gains: dict[str, float]
    gain_stderr: dict[str, float]
    n_samples: int


def _orders(m: int, n: int, rng: np.random.Generator) -> IntArray:
    return np.asarray(rng.permuted(np.tile(np.arange(n), (m, 1)), axis=1), dtype=np.int64)


def _sample_terms(
    law: Any, x: IntArray, orders: IntArray, boundaries: Sequence[int], denoiser: Any
) -> FloatArray:
    """The terms ``t_k`` (M, K) of the module notes for draws ``x`` and orders ``orders``."""
    m = x.shape[0]
    q = law.q
    inverse = np.argsort(orders, axis=1)  # rank of each position in its order
    bounds = list(boundaries)
    loglik = np.empty((m, len(bounds)))
    for k, a in enumerate(bounds):
        loglik[:, k] = chain_log_likelihood(law, np.where(inverse < a, x, q))
    terms = np.empty((m, len(bounds) - 1))
    rows = np.arange(m)[:, None]
    for k in range(len(bounds) - 1):
        a, b = bounds[k], bounds[k + 1]
        tokens = np.where(inverse < a, x, q)
        probs = np.asarray(denoiser(tokens), dtype=np.float64)  # (M, N, q)
        z = orders[:, a:b]  # the block's positions
        single = np.log(probs[rows, z, x[rows, z]]).sum(axis=1)
        # one position: TC = 0 exactly (the two logs differ only by rounding)
        terms[:, k] = 0.0 if b - a == 1 else (loglik[:, k + 1] - loglik[:, k]) - single
    return terms


def mc_factorization_error(
    law: Any,
    schedules: Mapping[str, Any],
    n_samples: int = 200,
    seed: Any = 0,
    *,
    samples: Any = None,
    batch: int = 64,
) -> MonteCarloError:
    """E_fact of exchangeable schedules on a chain law by Monte Carlo (module notes).

    Parameters
    ----------
    law
        A :class:`~exactmd.models.chains.HMMLaw` or a
        :class:`~exactmd.models.chains.MarkovChainLaw`.
    schedules
        Label → sizes or :class:`~exactmd.schedules.kinds.ExchangeableSchedule`; the first is
        the reference of the gains.
    n_samples
        M (ignored when ``samples`` is given).
    seed
        Seeds the draws (when ``samples`` is None) and the orders.
    samples
        Draws ``(M, N)`` from π to use instead of new ones.
    batch
        Draws per denoiser call.

    Examples
    --------
    >>> from exactmd.models.chains import MarkovChainLaw
    >>> law = MarkovChainLaw([0.5, 0.5], [[0.9, 0.1], [0.1, 0.9]], 8)
    >>> mc = mc_factorization_error(law, {"one step": [8], "all": [1] * 8}, 100, seed=0)
    >>> mc.errors["all"], mc.stderr["all"]  # K = N: every term is 0
    (0.0, 0.0)
    """
    chain_parameters(law)
    if not isinstance(schedules, Mapping) or not schedules:
        raise ValidationError(
            f"schedules: must be a non-empty mapping label -> sizes; received {describe(schedules)}"
        )
    scheds: dict[str, ExchangeableSchedule] = {}
    for label, s in schedules.items():
        sched = as_schedule(s, law.n)
        if sched.kind != "exchangeable":  # the kind says what it is
            raise ScheduleError(
                f"schedules: {label!r} must be an exchangeable schedule (sizes); received {sched!r}"
            )
        scheds[str(label)] = sched  # type: ignore[assignment]
    rng = np.random.default_rng(check_seed(seed))
    if samples is None:
        m = check_int(n_samples, "n_samples", minimum=2)
        x = law.sample(m, seed=rng)
    else:
        x = _check_tokens(law, samples, "samples")
        if x.shape[0] < 2 or np.any(x == law.q):
            raise ValidationError(
                f"samples: must be at least 2 draws with values in range({law.q}); received "
                f"shape {x.shape}"
            )
    m = x.shape[0]
    orders = _orders(m, law.n, rng)
    size = check_int(batch, "batch")
    denoiser = HMMDenoiser(law) if isinstance(law, HMMLaw) else MarkovChainDenoiser(law)
    totals: dict[str, FloatArray] = {}
    per_step: dict[str, FloatArray] = {}
    done: dict[tuple[int, ...], str] = {}  # the same sizes under two labels: run once
    for label, sched in scheds.items():
        if sched.sizes in done:
            totals[label] = totals[done[sched.sizes]]
            per_step[label] = per_step[done[sched.sizes]]
            continue
        parts = [
            _sample_terms(law, x[i : i + size], orders[i : i + size], sched.boundaries, denoiser)
            for i in range(0, m, size)
        ]
        terms = np.concatenate(parts, axis=0)
        totals[label] = terms.sum(axis=1)
        per_step[label] = terms.mean(axis=0)
        done[tuple(sched.sizes)] = label
    ref = next(iter(totals))
    errors = {k: float(v.mean()) for k, v in totals.items()}
    stderr = {k: float(v.std(ddof=1) / math.sqrt(m)) for k, v in totals.items()}
    gains, gain_se = {}, {}
    mu_r = errors[ref]
    for k, v in totals.items():
        if mu_r <= 0:
            gains[k], gain_se[k] = (1.0 if errors[k] <= 0 else math.inf), 0.0
            continue
        ratio = errors[k] / mu_r
        # delta method: Var(mean(v) / mean(r)) ≈ Var(mean(v − ratio · r)) / mean(r)²
        resid = v - ratio * totals[ref]
        gains[k] = ratio
        gain_se[k] = float(resid.std(ddof=1) / math.sqrt(m) / mu_r)
    return MonteCarloError(errors, stderr, per_step, gains, gain_se, m)
