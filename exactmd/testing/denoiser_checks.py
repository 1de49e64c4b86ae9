"""Checks of a denoiser against π's exact conditionals, and E_learn with a per-step breakdown.

- :func:`denoiser_report` compares a denoiser with the exact conditionals on every context of
  positive probability (or on a sample of them when there are too many), and reports the
  largest absolute errors with the contexts where they occur.
- :func:`learning_error_breakdown` computes
  ``E_learn = E[Σ_k Σ_{i∈z_k} KL(π(x_i | x_{z<k}) ‖ p(x_i | x_{z<k}))]`` exactly, step by
  step, by enumerating the contexts: for an exchangeable schedule the k-th term is
  ``s_k · g(a_{k−1})`` where ``g(a)`` is the mean of ``E KL`` over revealed sets of size a and
  masked positions; for MDLM's random reveal it is ``Σ_a P[a_{k−1} = a] r_k (N − a) g(a)``;
  for a partition it is the sum over ``z_k`` with context ``z_{<k}``.

Denoisers follow the contract: int tokens ``(B, N)`` with mask ``q = max q_i`` →
probabilities ``(B, N, q)``, numpy or torch. They are called through
:func:`exactmd.denoisers.calls.evaluate_denoiser`, which batches the calls, gives a
``torch.nn.Module`` torch tokens, and checks every row (a malformed output raises
:class:`~exactmd.errors.DenoiserError`); wrap a denoiser with
:func:`exactmd.denoisers.exact.as_denoiser` to choose the token type, device or batch size.

Examples
--------
>>> import numpy as np
>>> p = np.array([[0.4, 0.1], [0.1, 0.4]])
>>> uniform = lambda t: np.full((t.shape[0], 2, 2), 0.5)
>>> b = learning_error_breakdown(p, [1, 1], uniform)
>>> b.per_step.round(6).tolist()  # step 1: KL(marginal ‖ uniform) = 0; 2: log 2 − H(0.8)
[0.0, 0.192745]
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from math import comb
from typing import Any

import numpy as np

from exactmd._validate import check_flag, check_int, check_seed
from exactmd.enumeration.conditionals import exact_conditionals
from exactmd.enumeration.masked import marginal, masked_tensor
from exactmd.law.distribution import Distribution, as_distribution
from exactmd.schedules.custom import schedule_method
from exactmd.schedules.kinds import as_schedule
from exactmd.schedules.program import revealed_count

__all__ = [
    "DenoiserReport",
    "LearningErrorBreakdown",
    "denoiser_report",
    "learning_error_breakdown",
]


def _host_law(p: Any) -> Distribution:
    """π validated (at the tolerance of its own dtype), held in float64 by numpy."""
    return as_distribution(p, backend="numpy", dtype="float64")


def _batched(denoiser: Callable[[Any], Any], tokens: np.ndarray, d: Distribution) -> np.ndarray:
    """Checked float64 output of ``denoiser`` on ``tokens`` (see ``evaluate_denoiser``)."""
    from exactmd.denoisers.calls import evaluate_denoiser

    return np.asarray(evaluate_denoiser(denoiser, tokens, d), dtype=np.float64)


@dataclass
class DenoiserReport:
    """The comparison of a denoiser with the exact conditionals.

    Attributes
    ----------
    contexts : int
        Number of contexts checked.
    exhaustive : bool
        Whether these were all contexts of positive probability (else a random sample).
    max_abs_error : float
        Largest ``|p(x_i = v | ctx) − π(x_i = v | ctx)|`` over the checked contexts, masked
        positions i and values v (including values ``>= q_i``, where π gives 0).
    worst : list
        Up to five ``(tokens, position, expected row, received row, error)``, worst first.
    zero_contexts : int
        How many of the checked contexts have probability 0 (checked against the uniform law
        of :data:`~exactmd.enumeration.ZERO_CONTEXT_POLICY`; 0 unless asked for).
    """

    contexts: int
    exhaustive: bool
    max_abs_error: float
    worst: list[tuple[tuple[int, ...], int, list[float], list[float], float]] = field(
        default_factory=list
    )
    zero_contexts: int = 0

    def message(self, atol: float) -> str:
        """The assertion message for tolerance ``atol``."""
        how = "all" if self.exhaustive else "a random sample of"
        lines = [
            f"denoiser differs from the exact conditionals: max |error| = "
            f"{self.max_abs_error:.3g} > atol = {atol:g} (checked {how} {self.contexts} "
            f"contexts of positive probability; mask id = q)"
        ]
        if self.zero_contexts:
            lines[0] = lines[0].replace(
                "of positive probability",
                f"({self.zero_contexts} of probability 0, where the expected row is the "
                "uniform law)",
            )
        for tokens, i, exp, got, err in self.worst:
            if err <= atol:
                break
            lines.append(
                f"  context {tokens}, position {i}: expected {np.round(exp, 6).tolist()}, "
                f"received {np.round(got, 6).tolist()} (error {err:.3g})"
            )
        return "\n".join(lines)


def _all_contexts(d: Distribution, zeros: bool = False) -> np.ndarray:
    """Every context with a masked position: of positive probability, and also the others
    when ``zeros``."""
    plus = tuple(q + 1 for q in d.shape)
    grid = np.stack(np.unravel_index(np.arange(int(np.prod(plus))), plus), axis=1)
    mt = np.asarray(d.backend.to_numpy(masked_tensor(d))).reshape(-1)
    keep = ((mt > 0) | zeros) & np.any(grid == np.asarray(d.shape)[None, :], axis=1)
    tokens = grid[keep]
    return np.where(tokens == np.asarray(d.shape)[None, :], d.q, tokens).astype(np.int64)


def _zero_contexts(d: Distribution, count: int, seed: int) -> np.ndarray:
    """Up to ``count`` distinct contexts of probability 0 (with a masked position), from
    ``8 · count`` draws uniform among all ``Π (q_i + 1)`` masked layouts."""
    rng = np.random.default_rng(seed)
    shape = np.asarray(d.shape)
    grid = rng.integers(0, shape + 1, size=(8 * count, d.n))
    grid = grid[np.any(grid == shape[None, :], axis=1)]
    mt = np.asarray(d.backend.to_numpy(masked_tensor(d)))
    grid = grid[mt[tuple(grid.T)] <= 0]
    tokens = np.unique(np.where(grid == shape[None, :], d.q, grid), axis=0).astype(np.int64)
    return tokens[rng.permutation(len(tokens))[:count]]


def _sampled_contexts(d: Distribution, count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    flat = d.numpy().reshape(-1)
    draws = rng.choice(flat.size, size=count, p=flat / flat.sum())
    x = np.stack(np.unravel_index(draws, d.shape), axis=1).astype(np.int64)
    sizes = rng.integers(1, d.n + 1, size=count)
    ranks = np.argsort(np.argsort(rng.random((count, d.n)), axis=1), axis=1)
    x[ranks < sizes[:, None]] = d.q
    return np.unique(x, axis=0)


def denoiser_report(
    denoiser: Callable[[Any], Any],
    p: Any,
    *,
    max_contexts: int = 20_000,
    seed: int = 0,
    check_zero_contexts: bool = False,
) -> DenoiserReport:
    """Compare ``denoiser`` with π's exact conditionals.

    Every context of positive probability with at least one masked position is checked when
    the masked layout has at most ``4 · max_contexts`` cells and at most ``max_contexts`` of
    them qualify; otherwise ``max_contexts`` contexts are drawn (x ~ π, a uniform number
    1..N of masked positions, uniform positions; duplicates removed) with ``seed``.

    With ``check_zero_contexts``, contexts of probability 0 are checked as well, against the
    uniform law on ``X_i`` (:data:`~exactmd.enumeration.ZERO_CONTEXT_POLICY`, what
    :func:`~exactmd.denoisers.exact.exact_denoiser` returns there): all of them in the exhaustive
    case, else up to ``max_contexts`` more, drawn uniformly among the masked layouts.

    Examples
    --------
    >>> from exactmd.enumeration.conditionals import exact_conditionals
    >>> d = as_distribution([[0.5, 0.0], [0.25, 0.25]])
    >>> r = denoiser_report(lambda t: exact_conditionals(d, t) * 0.9 + 0.05, d)
    >>> r.contexts, r.exhaustive, round(r.max_abs_error, 3)
    (5, True, 0.05)
    """
    max_contexts = check_int(max_contexts, "max_contexts")
    seed = check_seed(seed)
    check_zero_contexts = check_flag(check_zero_contexts, "check_zero_contexts")
    d = _host_law(p)
    cells = int(np.prod([q + 1 for q in d.shape], dtype=np.float64))
    tokens = _all_contexts(d) if cells <= 4 * max_contexts else None
    exhaustive = tokens is not None and tokens.shape[0] <= max_contexts
    if not exhaustive:
        tokens = _sampled_contexts(d, max_contexts, seed)
    elif check_zero_contexts:
        tokens = _all_contexts(d, zeros=True)
    if check_zero_contexts and not exhaustive:
        tokens = np.concatenate([tokens, _zero_contexts(d, max_contexts, seed)])
    assert tokens is not None
    got = _batched(denoiser, tokens, d)
    exp = np.asarray(exact_conditionals(d, tokens), dtype=np.float64)
    err = np.abs(got - exp) * (tokens == d.q)[:, :, None]
    per_row = err.max(axis=2)  # (B, N)
    order = np.argsort(per_row.reshape(-1), kind="stable")[::-1][:5]
    worst = []
    for flat in order:
        b, i = divmod(int(flat), d.n)
        worst.append(
            (
                tuple(int(v) for v in tokens[b]),
                i,
                exp[b, i].tolist(),
                got[b, i].tolist(),
                float(per_row[b, i]),
            )
        )
    mt = np.asarray(d.backend.to_numpy(masked_tensor(d)))
    y = np.where(tokens == d.q, np.asarray(d.shape)[None, :], tokens)
    zeros = int(np.count_nonzero(mt[tuple(y.T)] <= 0))
    return DenoiserReport(
        int(tokens.shape[0]), exhaustive, float(err.max(initial=0.0)), worst, zeros
    )


@dataclass
class LearningErrorBreakdown:
    """E_learn and its decomposition.

    Attributes
    ----------
    total : float
        E_learn in nats.
    per_step : numpy.ndarray
        Length K: the contribution of step k (``total == per_step.sum()``).
    by_revealed : numpy.ndarray or None
        For exchangeable and random-reveal schedules, ``g(a)`` for a = 0..N−1: the mean over
        revealed sets of size a and masked positions i of ``E_π KL(π(x_i|x_S) ‖ p(x_i|x_S))``.
    """

    total: float
    per_step: np.ndarray
    by_revealed: np.ndarray | None = None


def _subset_kl(
    d: Distribution,
    subsets: Sequence[tuple[int, ...]],
    denoiser: Callable[[Any], Any],
) -> dict[tuple[int, ...], np.ndarray]:
    """For each subset S: the vector over i of ``Σ_{x_S} π(x_S) KL_i(x_S)`` (0 for i in S)."""
    toks, weights, owner = [], [], []
    for j, s in enumerate(subsets):
        marg = np.asarray(d.backend.to_numpy(marginal(d, s)), dtype=np.float64).reshape(-1)
        sub_shape = tuple(d.shape[i] for i in s)
        pos = np.flatnonzero(marg > 0) if s else np.array([0])
        t = np.full((pos.size, d.n), d.q, dtype=np.int64)
        if s:
            t[:, list(s)] = np.stack(np.unravel_index(pos, sub_shape), axis=1)
        toks.append(t)
        weights.append(marg[pos] if s else np.ones(1))
        owner.append(np.full(pos.size, j))
    tokens = np.concatenate(toks)
    w = np.concatenate(weights)
    who = np.concatenate(owner)
    exp = np.asarray(exact_conditionals(d, tokens), dtype=np.float64)
    got = _batched(denoiser, tokens, d)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(exp > 0, exp * (np.log(exp) - np.log(got)), 0.0)
    kl = np.where(tokens == d.q, terms.sum(axis=2), 0.0)  # (B, N), inf where p misses
    weighted = np.where(kl > 0, w[:, None] * kl, 0.0)
    out = {}
    for j, s in enumerate(subsets):
        out[s] = weighted[who == j].sum(axis=0)
    return out


def learning_error_breakdown(
    p: Any, schedule: Any, denoiser: Callable[[Any], Any]
) -> LearningErrorBreakdown:
    """E_learn of ``denoiser`` for ``schedule`` on π, exactly, with a per-step breakdown.

    The denoiser is called on every context of positive probability that the schedule can
    reach (all ``Π (q_i + 1)`` for exchangeable and random-reveal schedules, the K prefix
    contexts for a partition), so this is for small N. KL uses the denoiser's probabilities
    on the values ``< q_i`` as returned; it is ``inf`` when the denoiser gives 0 to a value
    of positive π-probability.

    Examples
    --------
    >>> from exactmd.enumeration.conditionals import exact_conditionals
    >>> d = as_distribution([[0.5, 0.0], [0.25, 0.25]])
    >>> learning_error_breakdown(d, [[0], [1]], lambda t: exact_conditionals(d, t)).total
    0.0
    """
    d = _host_law(p)
    n = d.n
    sched = as_schedule(schedule, n)
    program = schedule_method(sched, "level_program")(n)  # the kind's moves between levels
    if isinstance(program.final, tuple):  # one fixed revealed set per step (a partition)
        moves = [move for (move,) in program.steps]
        kl = _subset_kl(d, [m.source for m in moves], denoiser)
        steps = [float(sum(kl[m.source][i] for i in m.new)) for m in moves]
        per_step = np.asarray(steps, dtype=np.float64)
        return LearningErrorBreakdown(float(per_step.sum()), per_step, None)
    subsets = [s for a in range(n) for s in itertools.combinations(range(n), a)]
    kl = _subset_kl(d, subsets, denoiser)
    g = np.zeros(n)
    for s in subsets:
        g[len(s)] += kl[s].sum()
    g /= np.array([comb(n, a) * (n - a) for a in range(n)], dtype=np.float64)
    # P[a_k = a] pushed through the program's moves; a step from level a reveals, on average,
    # Σ_b weight · C(N − a, b − a) · (b − a) positions, each with the mean KL g[a]
    occupied = np.zeros(n + 1)
    occupied[0] = 1.0
    per_step = np.zeros(len(program.steps))
    for k, step in enumerate(program.steps):
        after = np.zeros(n + 1)
        for m in step:
            a, b = revealed_count(m.source), revealed_count(m.target)
            if occupied[a] == 0 or m.weight == 0:  # no mass moves (and 0 · inf KL is not NaN)
                continue
            patterns = comb(n - a, b - a)
            after[b] += occupied[a] * m.weight * patterns
            if b > a:
                per_step[k] += occupied[a] * m.weight * patterns * (b - a) * g[a]
        occupied = after
    return LearningErrorBreakdown(float(per_step.sum()), per_step, g)
