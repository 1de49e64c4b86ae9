"""Adaptive planners: ``z_k`` chosen from the revealed values (docs/design.md, "The sampler"),
computed exactly.

An :class:`AdaptiveSchedule` has fixed sizes ``s_1..s_K`` and a *planner*
``planner(tokens, size, probs)`` that, at each state, receives

- ``tokens``: the current int tokens, shape ``(N,)``, masked positions holding ``q = max q_i``;
- ``size``: the step size ``s``;
- ``probs``: the denoiser's probabilities in that context, shape ``(N, q)`` (rows of unmasked
  positions carry no meaning); the denoiser is the sampler's, π's exact one by default,

and returns one subset (a tuple of ``s`` masked positions) or a mapping ``{subset: weight}``
over ``s``-subsets of the masked positions (weights ``>= 0`` summing to 1 within 1e-9).
Both arrays are read-only. A bad answer raises :class:`~exactmd.errors.ScheduleError`. Under a
prompt (``exactmd.output_distribution(p, schedule, prompt={position: value})``) the sizes sum
to ``N − |prompt|``, the planner still sees the full-length tokens (the prompt's values filled in)
and must answer with masked free positions (see :mod:`exactmd.sampler.prompted`). The
built-in planners and the check of an answer live in :mod:`exactmd.sampler.planners`; the core
functions (:func:`exactmd.output_distribution`, :func:`exactmd.learning_error`,
:func:`exactmd.factorization_error`, :func:`exactmd.sample`, :func:`exactmd.check_bound`)
reach this module through the schedule's own methods (see :mod:`exactmd.schedules.custom`).

Everything is computed by enumerating the reachable states ``(S, x_S)`` step by step (each a
flat index of the masked layout), with the denoiser called once per state, in batches:

- p_alg: the state's mass moves to ``(S ∪ z, x_{S∪z})`` with ``w(z) · Π_{i∈z} p(x_i | x_S)``;
- E_fact ``= E_{x~π}[Σ_k TC_π(z_k | x_{z<k})]`` and E_learn: π's mass moves by
  ``w(z) · π(x_z | x_S)`` and adds ``TC_π(z | x_S)``, resp. ``Σ_{i∈z} KL(π(x_i|·) ‖ p(x_i|·))``.

With a learned denoiser the planner sees that denoiser's probabilities (it is part of the
algorithm), while TC and KL are π's; the bound ``KL(π ‖ p_alg) ≤ E_learn + E_fact`` holds for
any planner, and ``E_fact ≤ (N − K) D(π)`` for constant sizes. The enumeration is for small N:
it refuses (:class:`~exactmd.errors.MemoryPlanError`) past :data:`MAX_STATES` states in a step.

Examples
--------
>>> from exactmd.sampler.planners import most_confident_planner
>>> import numpy as np
>>> p = np.array([[0.45, 0.05], [0.0, 0.5]])
>>> sched = AdaptiveSchedule([1, 1], most_confident_planner)
>>> adaptive_output_distribution(p, sched).round(6).tolist()  # K = N: exactly π (K = 1: TC)
[[0.45, 0.05], [0.0, 0.5]]
>>> round(adaptive_factorization_error(p, AdaptiveSchedule([2], most_confident_planner)), 6)
0.525597
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

import numpy as np

from exactmd.denoisers.calls import check_denoiser_law, denoiser_rows
from exactmd.denoisers.exact import ExactDenoiser
from exactmd.errors import MemoryPlanError, ScheduleError, ValidationError, describe
from exactmd.law.distribution import Distribution, as_distribution
from exactmd.sampler._pi_terms import pi_terms
from exactmd.sampler.planners import (
    Choices,
    planner_choices,
)
from exactmd.schedules.custom import CustomSchedule
from exactmd.schedules.kinds import _check_sizes, as_schedule

__all__ = [
    "AdaptiveSchedule",
    "adaptive_output_distribution",
    "adaptive_factorization_error",
    "adaptive_learning_error",
    "adaptive_reveal",
    "MAX_STATES",
]

#: Most states (revealed set and values) one step of the enumeration may hold.
MAX_STATES = 2_000_000


@dataclass(frozen=True)
class AdaptiveSchedule(CustomSchedule):
    """Fixed sizes and a planner choosing ``z_k`` from the revealed values.

    Parameters
    ----------
    sizes
        ``(s_1, …, s_K)``, positive integers summing to N.
    planner
        ``planner(tokens, size, probs) -> subset | {subset: weight}`` (see the module notes).
    label
        An optional name shown in reports.

    Examples
    --------
    >>> from exactmd.sampler.planners import most_confident_planner
    >>> AdaptiveSchedule((2, 1), most_confident_planner)
    AdaptiveSchedule(sizes=(2, 1), planner=most_confident_planner)
    >>> AdaptiveSchedule((2, 1), "first").validate(3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    exactmd.errors.ScheduleError: planner: must be callable (tokens, size, probs) -> ...
    """

    sizes: tuple[int, ...]
    planner: Callable[[np.ndarray, int, np.ndarray], Any]
    label: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sizes", _check_sizes(self.sizes, None))
        if not callable(self.planner):
            raise ScheduleError(
                "planner: must be callable (tokens, size, probs) -> subset or {subset: weight}; "
                f"received {describe(self.planner)}"
            )

    def __repr__(self) -> str:
        tag = f", label={self.label!r}" if self.label else ""
        return f"AdaptiveSchedule(sizes={self.sizes}, planner={self.planner_name}{tag})"

    @property
    def planner_name(self) -> str:
        """The planner's ``__name__``, else its repr."""
        return str(getattr(self.planner, "__name__", describe(self.planner, 40)))

    @property
    def num_steps(self) -> int:
        return len(self.sizes)

    @property
    def kind(self) -> str:
        return f"adaptive ({self.planner_name})"

    def call_law(self, n: int) -> dict[int, float]:
        """One denoiser call per step: ``{K: 1.0}``."""
        return {self.num_steps: 1.0}

    def on_free_positions(self, red: Any) -> AdaptiveSchedule:
        """Sizes over the free positions; the planner sees the full-length tokens (the prompt
        filled in) and probabilities ``(N, q)`` (the prompt's rows are the one-hots of its
        values), and answers with masked free positions."""
        return AdaptiveSchedule(self.sizes, _FreePlanner(self, red), self.label).validate(
            len(red.free)
        )

    def validate(self, n: int) -> AdaptiveSchedule:
        _check_sizes(self.sizes, n)
        return self

    # the hooks the core modules call (see exactmd.schedules.custom)
    def output_distribution(
        self, d: Distribution, denoiser: Any = None, *, native: bool = False
    ) -> Any:
        """p_alg (:func:`adaptive_output_distribution`), for :func:`exactmd.output_distribution`."""
        return adaptive_output_distribution(d, self, denoiser, native=native)

    def learning_error(self, d: Distribution, denoiser: Any) -> float:
        """E_learn (:func:`adaptive_learning_error`), for :func:`exactmd.learning_error`."""
        return adaptive_learning_error(d, self, denoiser)

    def factorization_error(self, d: Distribution, denoiser: Any = None) -> float:
        """E_fact, the planner seeing ``denoiser``'s probabilities (π's exact ones by default):
        :func:`adaptive_factorization_error`, for :func:`exactmd.factorization_error` and
        :func:`exactmd.check_bound` (which passes the sampler's denoiser)."""
        return adaptive_factorization_error(d, self, denoiser)

    def reveal(
        self,
        step: int,
        tokens: np.ndarray,
        d: Distribution,
        denoiser: Any,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """The positions to reveal, drawn (:func:`adaptive_reveal`), for :func:`exactmd.sample`."""
        return adaptive_reveal(self, step, tokens, d, denoiser, rng)

    def choices(self, tokens: np.ndarray, size: int, probs: np.ndarray) -> Choices:
        """The planner's answer at ``tokens``, validated: ``[(sorted subset, weight > 0)]``.

        See :func:`~exactmd.sampler.planners.planner_choices`.
        """
        out = self.planner(tokens, size, probs)
        return planner_choices(out, tokens, size, probs.shape[-1], self.planner_name)


class _FreePlanner:
    """An adaptive planner seen from the free positions of a prompt (``red``, the prompt's
    reduction): it is shown the full tokens and probabilities, and its answer (in full
    positions) is renumbered."""

    def __init__(self, sched: AdaptiveSchedule, red: Any) -> None:
        self.planner, self.red = sched.planner, red
        self.__name__ = sched.planner_name

    def __call__(self, tokens: np.ndarray, size: int, probs: np.ndarray) -> dict[Any, float]:
        red = self.red
        full = red.full_tokens(tokens[None, :])[0]
        full.flags.writeable = False
        rows = np.zeros((red.full.n, red.full.q))
        rows[list(red.free), : probs.shape[1]] = probs
        for pos, val in red.prompt:
            rows[pos, val] = 1.0
        rows.flags.writeable = False
        out = self.planner(full, size, rows)
        choices = planner_choices(out, full, size, red.full.q, self.__name__)
        rank = red.rank
        return {tuple(rank[i] for i in z): w for z, w in choices}


def _check_inputs(p: Any, schedule: Any, denoiser: Any, what: str) -> tuple[Distribution, Any]:
    d = p if isinstance(p, Distribution) else as_distribution(p)
    if d.backend.exact:  # Monte Carlo and planners read float probabilities
        raise ValidationError(
            f"p: {what} of an adaptive planner is numeric only; received a symbolic law {d!r}"
        )
    sched = as_schedule(schedule, d.n)
    if not isinstance(sched, AdaptiveSchedule):
        raise ScheduleError(f"schedule: must be an AdaptiveSchedule; received {sched!r}")
    if denoiser is not None:  # before any work: a denoiser for another law
        check_denoiser_law(denoiser, d.shape)
    return d, sched


class _Layer:
    """The next step's states: (key, mass) pairs merged as they come, capped at ``limit``."""

    def __init__(self, limit: int, step: int, steps: int, merge: int) -> None:
        self.keys: np.ndarray = np.zeros(0, dtype=np.int64)
        self.mass: np.ndarray = np.zeros(0)
        self.pending: list[tuple[np.ndarray, np.ndarray]] = []
        self.count = 0
        self.limit, self.step, self.steps = limit, step, steps
        self.merge_at = merge  # pending successor entries before they are merged

    def add(self, keys: np.ndarray, mass: np.ndarray) -> None:
        keep = mass > 0
        self.pending.append((keys[keep], mass[keep]))
        self.count += int(keep.sum())
        if self.count >= self.merge_at:
            self.merge()

    def merge(self) -> tuple[np.ndarray, np.ndarray]:
        keys = np.concatenate([self.keys, *(k for k, _ in self.pending)])
        mass = np.concatenate([self.mass, *(m for _, m in self.pending)])
        self.keys, inverse = np.unique(keys, return_inverse=True)
        self.mass = np.bincount(inverse.reshape(-1), weights=mass, minlength=len(self.keys))
        self.pending, self.count = [], 0
        if len(self.keys) > self.limit:
            raise MemoryPlanError(
                f"schedule: the adaptive enumeration reaches {len(self.keys):,} states or more "
                f"after step {self.step + 1} of {self.steps} (limit max_states = {self.limit:,}); "
                "use a smaller law or raise max_states"
            )
        return self.keys, self.mass


def _walk(
    d: Distribution, sched: AdaptiveSchedule, denoiser: Any, under_pi: bool, max_states: int
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Enumerate the states step by step: final (keys, mass), and (E_fact, E_learn) under π.

    The mass moves by the denoiser's product (``under_pi=False``: p_alg) or by π's joint
    conditional (``under_pi=True``, which also adds the TC and KL terms).
    """
    table, shape, n, q = d.numpy(), d.shape, d.n, d.q
    dims = tuple(s + 1 for s in shape)  # the masked layout: digit q_i means masked
    if math.prod(dims) >= 2**62:
        raise MemoryPlanError(
            f"p: the adaptive enumeration indexes states by the masked layout of {math.prod(dims)}"
            f" entries, above 2**62; received shape {shape}"
        )
    radix = np.array([math.prod(dims[i + 1 :]) for i in range(n)], dtype=np.int64)
    tuning = d.backend.tuning
    chunk = tuning.planner_chunk_states
    den = denoiser if denoiser is not None else ExactDenoiser(d)
    keys, mass = np.array([int(np.dot(shape, radix))]), np.ones(1)
    offsets: dict[tuple[int, ...], np.ndarray] = {}
    e_fact = e_learn = 0.0
    for step, size in enumerate(sched.sizes):
        layer = _Layer(max_states, step, sched.num_steps, tuning.planner_merge_entries)
        digits = np.stack(np.unravel_index(keys, dims), axis=1)
        tokens = np.where(digits == np.asarray(shape), q, digits).astype(np.int64)
        tokens.flags.writeable = False
        for lo in range(0, len(keys), chunk):  # states per denoiser call
            tok = tokens[lo : lo + chunk]
            probs = denoiser_rows(den, tok, d).view()  # a read-only view for the planner
            probs.flags.writeable = False
            planned: list[tuple[int, tuple[int, ...], float]] = []  # (state, z, weight)
            for b in range(len(tok)):
                w, t, pr = mass[lo + b], tok[b], probs[b]
                for z, share in sched.choices(t, size, pr):
                    if z not in offsets:
                        grid = np.indices([shape[i] for i in z]).reshape(len(z), -1)
                        shift = [(grid[j] - shape[i]) * radix[i] for j, i in enumerate(z)]
                        offsets[z] = np.sum(shift, axis=0)
                    if under_pi:
                        planned.append((b, z, w * share))
                    else:
                        step_law = reduce(np.multiply.outer, [pr[i, : shape[i]] for i in z])
                        layer.add(keys[lo + b] + offsets[z], w * share * np.ravel(step_law))
            if planned:  # π's terms, by masked set, of the chunk's planned rows at once
                fact, learn = _pi_step(
                    table, tok, probs, keys[lo : lo + chunk], planned, offsets, layer
                )
                e_fact, e_learn = e_fact + fact, e_learn + learn
        keys, mass = layer.merge()
    return keys, mass, e_fact, e_learn


def _pi_step(
    table: np.ndarray,
    tokens: np.ndarray,
    probs: np.ndarray,
    keys: np.ndarray,
    planned: list[tuple[int, tuple[int, ...], float]],
    offsets: dict[tuple[int, ...], np.ndarray],
    layer: _Layer,
) -> tuple[float, float]:
    """Move π's mass of the planned rows ``(state, z, weight)`` of a chunk of states (their
    ``tokens``, denoiser rows ``probs`` and ``keys``) into ``layer``; the rows' (E_fact,
    E_learn) terms (see :func:`~exactmd.sampler._pi_terms.pi_terms`)."""
    q = max(table.shape)
    src = np.array([b for b, _, _ in planned], dtype=np.int64)
    share = np.array([w for _, _, w in planned])
    rev = np.zeros((len(planned), table.ndim), dtype=bool)
    for r, (_, z, _) in enumerate(planned):
        rev[r, list(z)] = True
    bits = (tokens[src] == q).astype(np.int64) @ (1 << np.arange(table.ndim, dtype=np.int64))
    e_fact = e_learn = 0.0
    for code in np.unique(bits):
        rows = np.flatnonzero(bits == code)  # the rows whose states share a masked set
        states, local = np.unique(src[rows], return_inverse=True)
        groups = pi_terms(table, tokens[states], local, rev[rows], probs[states])
        for g in groups:
            r = rows[g.rows]
            e_fact += float(np.sum(share[r] * g.tc))
            e_learn += float(np.sum(share[r] * g.kl))
            nxt = keys[src[r]][:, None] + offsets[g.z][None, :]
            layer.add(nxt.reshape(-1), (share[r][:, None] * g.joint).reshape(-1))
    return e_fact, e_learn


def adaptive_output_distribution(
    p: Any,
    schedule: Any,
    denoiser: Any = None,
    *,
    native: bool = False,
    max_states: int = MAX_STATES,
) -> Any:
    """p_alg of an adaptive planner, same shape as ``p`` (what ``output_distribution`` returns).

    ``p`` is the law (any accepted form; computed in float64 on the host), ``schedule`` an
    :class:`AdaptiveSchedule` and ``denoiser`` None for π's exact conditionals, else a contract
    denoiser: the sampler draws from it and the planner sees its probabilities. ``native``
    returns the law's backend array (e.g. a torch tensor); past ``max_states`` states in a
    step it raises :class:`~exactmd.errors.MemoryPlanError`.

    Examples
    --------
    >>> from exactmd.sampler.planners import most_confident_planner
    >>> p = np.array([[0.5, 0.0], [0.0, 0.5]])
    >>> adaptive_output_distribution(p, AdaptiveSchedule([2], most_confident_planner)).tolist()
    [[0.25, 0.25], [0.25, 0.25]]
    """
    d, sched = _check_inputs(p, schedule, denoiser, "p_alg")
    keys, mass, _, _ = _walk(d, sched, denoiser, False, max_states)
    digits = np.unravel_index(keys, tuple(s + 1 for s in d.shape))
    flat = np.ravel_multi_index(digits, d.shape)
    law = np.bincount(flat, weights=mass, minlength=d.size).reshape(d.shape)
    if d.backend.dtype == "float32":
        law = law.astype(np.float32)
    return d.backend.asarray(law) if native else law


def adaptive_factorization_error(
    p: Any, schedule: Any, denoiser: Any = None, *, max_states: int = MAX_STATES
) -> float:
    """E_fact ``= E_{x~π}[Σ_k TC_π(z_k | x_{z<k})]`` of an adaptive planner, in nats.

    ``z_k`` is planned on x's revealed values, the planner seeing ``denoiser``'s probabilities
    (π's exact ones by default, as :func:`exactmd.factorization_error` uses); TC is π's.
    Pass the sampler's denoiser to get the E_fact of the bound for that sampler.

    Examples
    --------
    >>> from exactmd.sampler.planners import most_confident_planner
    >>> import math
    >>> p = np.zeros((2, 2, 2)); p[0, 0, 0] = p[1, 1, 1] = 0.5
    >>> sched = AdaptiveSchedule([3], most_confident_planner)  # K = 1: TC = 2 log 2
    >>> round(adaptive_factorization_error(p, sched) / math.log(2), 12)
    2.0
    """
    d, sched = _check_inputs(p, schedule, denoiser, "E_fact")
    total = _walk(d, sched, denoiser, True, max_states)[2]
    return max(float(total), 0.0) if total > -1e-12 else float(total)


def adaptive_learning_error(
    p: Any, schedule: Any, denoiser: Any, *, max_states: int = MAX_STATES
) -> float:
    """E_learn ``= E_{x~π}[Σ_k Σ_{i∈z_k} KL(π(x_i|x_{z<k}) ‖ p(x_i|x_{z<k}))]``, in nats.

    ``z_k`` is planned on x's revealed values with ``denoiser``'s probabilities; ``None``
    means π's exact conditionals (then 0). ``inf`` when the denoiser puts 0 where π does not.

    Examples
    --------
    >>> from exactmd.sampler.planners import most_confident_planner
    >>> p = np.full((2, 2), 0.25)
    >>> wrong = lambda t: np.tile([0.9, 0.1], (t.shape[0], t.shape[1], 1))
    >>> sched = AdaptiveSchedule([1, 1], most_confident_planner)
    >>> round(adaptive_learning_error(p, sched, wrong), 6)  # 2 KL(Bern(1/2) ‖ Bern(1/10))
    1.021651
    """
    d, sched = _check_inputs(p, schedule, denoiser, "E_learn")
    if denoiser is None:
        return 0.0
    return max(float(_walk(d, sched, denoiser, True, max_states)[3]), 0.0)


def adaptive_reveal(
    sched: AdaptiveSchedule,
    step: int,
    tokens: np.ndarray,
    d: Distribution,
    denoiser: Any,
    rng: np.random.Generator,
) -> np.ndarray:
    """The positions each row reveals at ``step`` (bool ``(B, N)``), drawn from the planner.

    Used by :func:`exactmd.sampler.montecarlo.sample`; ``denoiser`` is the sampler's (not None).

    Examples
    --------
    >>> from exactmd.sampler.planners import most_confident_planner
    >>> from exactmd.denoisers.exact import exact_denoiser
    >>> p = as_distribution(np.array([[0.5, 0.0], [0.1, 0.4]]))
    >>> sched = AdaptiveSchedule([1, 1], most_confident_planner)
    >>> rng = np.random.default_rng(0)
    >>> adaptive_reveal(sched, 0, np.full((1, 2), 2), p, exact_denoiser(p), rng).tolist()
    [[False, True]]
    """
    probs = denoiser_rows(denoiser, tokens, d).view()  # a read-only view for the planner
    probs.flags.writeable = False
    reveal = np.zeros(tokens.shape, dtype=bool)
    for b in range(len(tokens)):
        row = np.array(tokens[b], dtype=np.int64)
        row.flags.writeable = False
        options = sched.choices(row, sched.sizes[step], probs[b])
        weights = np.array([w for _, w in options])
        pick = rng.choice(len(options), p=weights / weights.sum())
        reveal[b, list(options[pick][0])] = True
    return reveal
