"""Samplers written the way users write them, to be tested with :mod:`exactmd.testing`.

- :func:`factorized_sample` — a plain numpy factorized sampler for any denoiser and schedule,
  with optional planted bugs (``bug=``) used to measure the power of the oracle:

  * ``"stale_context"``: the denoiser sees the context of the previous step (the tokens
    revealed in the previous step are not visible);
  * ``"one_at_a_time"``: the tokens of a step are revealed one at a time, each conditioned on
    the ones before it (too exact: the law becomes closer to π than p_alg);
  * ``"reversed_schedule"``: the step sizes (or the blocks of a partition) are applied in the
    reverse order.

- :func:`llada_generate` — a LLaDA-style loop (torch): a model returning logits, Gumbel-max
  proposals at every masked position, and top-k remasking by confidence (``"low_confidence"``)
  or at random (``"random"``), with LLaDA's ``get_num_transfer_tokens`` step sizes.
- :func:`mdlm_generate` — an MDLM-style loop (torch): on a time grid, every masked position is
  revealed with probability ``(t - s) / t`` by sampling from the model's probabilities.

With ``remasking="random"`` the LLaDA loop is exactly the exchangeable schedule with sizes
:func:`llada_step_sizes`; the MDLM loop is exactly
:class:`~exactmd.schedules.kinds.RandomRevealSchedule` on its grid. The low-confidence loop is an
adaptive planner whose exact law is :func:`low_confidence_law` (enumerated, small N only).

Examples
--------
>>> import numpy as np
>>> from exactmd.law.distribution import as_distribution
>>> from exactmd.enumeration.conditionals import exact_conditionals
>>> d = as_distribution(np.full((2, 2), 0.25))
>>> x = factorized_sample(lambda t: exact_conditionals(d, t), d.shape, [1, 1], 5, seed=0)
>>> x.shape
(5, 2)
>>> llada_step_sizes(5, 2)
(3, 2)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from exactmd._validate import check_int, check_real, check_shape
from exactmd.backends import to_host
from exactmd.enumeration.conditionals import exact_conditionals
from exactmd.errors import ValidationError, describe
from exactmd.law.distribution import as_distribution
from exactmd.schedules.kinds import (
    ExchangeableSchedule,
    as_schedule,
)

__all__ = [
    "BUGS",
    "factorized_sample",
    "llada_step_sizes",
    "llada_generate",
    "mdlm_generate",
    "low_confidence_law",
]

BUGS = ("stale_context", "one_at_a_time", "reversed_schedule")


def _probs(denoiser: Callable[[Any], Any], tokens: np.ndarray) -> np.ndarray:
    return to_host(denoiser(tokens), dtype=np.float64)


def _draw(probs: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draws: ``probs`` (B, q) rows (renormalised), ``u`` (B,) uniforms."""
    cdf = np.cumsum(probs, axis=1)
    cdf /= cdf[:, -1:]
    return np.minimum((u[:, None] > cdf).sum(axis=1), probs.shape[1] - 1)


def factorized_sample(
    denoiser: Callable[[Any], Any],
    shape: Sequence[int],
    schedule: Any,
    m: int,
    seed: int | None = None,
    bug: str | None = None,
) -> np.ndarray:
    """Draw ``m`` samples from the factorized sampler (optionally with a planted bug).

    Parameters
    ----------
    denoiser
        Contract denoiser: int tokens ``(B, N)`` with mask ``q = max(shape)`` → ``(B, N, q)``.
    shape
        The alphabet sizes ``(q_0, …, q_{N-1})``.
    schedule
        Sizes (exchangeable), an ordered partition, or a schedule object.
    m
        Number of samples (run as one batch of chains).
    seed
        Seed of ``numpy.random.default_rng``.
    bug
        None, or one of :data:`BUGS`.

    Returns
    -------
    numpy.ndarray
        int64 array ``(m, N)``.
    """
    if bug is not None and bug not in BUGS:
        raise ValidationError(f"bug: must be None or one of {BUGS}; received {describe(bug)}")
    m = check_int(m, "m")
    shape = check_shape(shape, "shape")
    n, q = len(shape), max(shape)
    sched = as_schedule(schedule, n)
    rng = np.random.default_rng(seed)
    tokens = np.full((m, n), q, dtype=np.int64)
    rows = np.arange(m)
    if sched.kind == "random reveal":  # the kind says what it is
        steps: list[np.ndarray] = []  # boolean (m, n) reveal masks, decided as we go
        rates = list(sched.reveal_probabilities)  # type: ignore[attr-defined]
    else:
        sizes = list(sched.sizes)  # type: ignore[attr-defined]
        if sched.kind == "deterministic":
            blocks = [list(b) for b in sched.partition]  # type: ignore[attr-defined]
            if bug == "reversed_schedule":
                blocks = blocks[::-1]
            order = np.tile(np.array([i for b in blocks for i in b]), (m, 1))
            sizes = [len(b) for b in blocks]
        else:
            if bug == "reversed_schedule":
                sizes = sizes[::-1]
            order = np.argsort(rng.random((m, n)), axis=1)
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        steps = []
        for k in range(len(sizes)):
            reveal = np.zeros((m, n), dtype=bool)
            reveal[rows[:, None], order[:, bounds[k] : bounds[k + 1]]] = True
            steps.append(reveal)
        rates = []
    previous = tokens.copy()
    for k in range(len(steps) if steps else len(rates)):
        if rates:
            reveal = (tokens == q) & (rng.random((m, n)) < rates[k])
        else:
            reveal = steps[k]
        context = previous if bug == "stale_context" else tokens
        previous = tokens.copy()
        if bug == "one_at_a_time":
            new = tokens.copy()
            for i in range(n):
                probs = _probs(denoiser, new)
                draw = _draw(probs[:, i, :], rng.random(m))
                new[:, i] = np.where(reveal[:, i], draw, new[:, i])
            tokens = new
            continue
        probs = _probs(denoiser, context)  # (m, n, q)
        draws = _draw(probs.reshape(m * n, q), rng.random(m * n)).reshape(m, n)
        tokens = np.where(reveal, draws, tokens)
    return tokens


def llada_step_sizes(n: int, steps: int) -> tuple[int, ...]:
    """LLaDA's ``get_num_transfer_tokens``: ``n // steps`` per step, the remainder first.

    Examples
    --------
    >>> llada_step_sizes(7, 3)
    (3, 2, 2)
    """
    n = check_int(n, "n")
    steps = check_int(steps, "steps", maximum=n)
    base, rem = divmod(n, steps)
    return tuple(base + (1 if k < rem else 0) for k in range(steps))


def _model_device(model: Any) -> Any:
    """The torch device of ``model``: its first parameter's, else its first buffer's, else CPU."""
    import torch

    for attr in ("parameters", "buffers"):
        tensors = getattr(model, attr, None)
        if callable(tensors):
            for tensor in tensors():
                return tensor.device
    return torch.device("cpu")


def _check_generator(generator: Any, device: Any) -> None:
    """Refuse a ``torch.Generator`` that does not live on ``device`` (the model's)."""
    import torch

    if generator is None:
        return
    if not isinstance(generator, torch.Generator):
        raise ValidationError(
            f"generator: must be None or a torch.Generator; received {describe(generator)}"
        )
    g = torch.device(generator.device)
    if g.type != device.type or (
        g.index is not None and device.index is not None and g.index != device.index
    ):
        raise ValidationError(
            f"generator: must live on the model's device {device} "
            f"(torch.Generator(device={str(device)!r})); received a generator on {g}"
        )


def llada_generate(
    model: Any,
    n: int,
    steps: int,
    mask_id: int,
    batch: int = 1,
    remasking: str = "low_confidence",
    temperature: float = 1.0,
    generator: Any = None,
) -> Any:
    """A LLaDA-style sampler: Gumbel-max proposals and top-k remasking (torch).

    ``model(x).logits`` gives ``(B, n, V)``; every step proposes ``x0`` at all positions by
    ``argmax(exp(logits) / (-log U) ** temperature)`` (LLaDA's ``add_gumbel_noise``), scores
    the masked ones by the proposal's probability (``"low_confidence"``) or a uniform draw
    (``"random"``), and keeps the ``k`` best, ``k`` from :func:`llada_step_sizes`.
    Requires ``steps <= n``.

    Parameters
    ----------
    model
        A callable ``model(x)`` with a ``.logits`` output. Every tensor of the loop (the
        tokens, the draws) is created on the model's device: that of its first parameter,
        else of its first buffer, else the CPU.
    n
        Sequence length.
    steps
        Number of steps, ``1 <= steps <= n``.
    mask_id
        The mask token id.
    batch
        Number of sequences.
    remasking
        ``"low_confidence"`` or ``"random"``.
    temperature
        Exponent of the Gumbel noise.
    generator
        None, or a ``torch.Generator`` on the model's device
        (``torch.Generator(device=...)``); a generator on another device raises
        :class:`~exactmd.errors.ValidationError`.

    Returns
    -------
    torch.Tensor
        ``torch.long`` tensor ``(batch, n)`` on the model's device.
    """
    import torch

    batch = check_int(batch, "batch")
    temperature = check_real(temperature, "temperature", minimum=0.0)
    sizes = llada_step_sizes(n, steps)
    if remasking not in ("low_confidence", "random"):
        raise ValidationError(
            f"remasking: must be 'low_confidence' or 'random'; received {describe(remasking)}"
        )
    device = _model_device(model)
    _check_generator(generator, device)
    x = torch.full((batch, n), mask_id, dtype=torch.long, device=device)
    neg_inf = torch.tensor(-np.inf, dtype=torch.float64, device=device)
    for k in range(steps):
        mask_index = x == mask_id
        logits = model(x).logits.to(torch.float64)
        noise = torch.rand(logits.shape, dtype=torch.float64, generator=generator, device=device)
        gumbel = (-torch.log(noise)) ** temperature
        x0 = torch.argmax(logits.exp() / gumbel, dim=-1)
        if remasking == "low_confidence":
            p = torch.softmax(logits, dim=-1)
            x0_p = torch.gather(p, -1, x0.unsqueeze(-1)).squeeze(-1)
        else:
            x0_p = torch.rand(x0.shape, dtype=torch.float64, generator=generator, device=device)
        x0 = torch.where(mask_index, x0, x)
        confidence = torch.where(mask_index, x0_p, neg_inf)
        transfer = torch.zeros_like(x0, dtype=torch.bool)
        for j in range(batch):
            _, idx = torch.topk(confidence[j], k=sizes[k])
            transfer[j, idx] = True
        x = torch.where(transfer, x0, x)
    return x


def mdlm_generate(
    model: Any, n: int, grid: Sequence[float], mask_id: int, batch: int = 1, generator: Any = None
) -> Any:
    """An MDLM-style sampler (torch): Bernoulli reveals on a time grid ``1 = t_0 > … > 0``.

    From ``t`` to ``s`` every masked position is revealed with probability ``(t − s) / t``,
    with a token drawn from ``softmax(model(x, t))``; this is MDLM's ``_ddpm_update`` with
    ``q_xs = p_x0 · (t − s)`` and ``q_xs[mask] = s``.

    Parameters
    ----------
    model
        A callable ``model(x, t)`` returning logits ``(B, n, V)``. The tokens and the time
        tensor are created on the model's device: that of its first parameter, else of its
        first buffer, else the CPU.
    n
        Sequence length.
    grid
        The time grid, decreasing from 1 to 0.
    mask_id
        The mask token id.
    batch
        Number of sequences.
    generator
        None, or a ``torch.Generator`` on the model's device
        (``torch.Generator(device=...)``); a generator on another device raises
        :class:`~exactmd.errors.ValidationError`.

    Returns
    -------
    torch.Tensor
        ``torch.long`` tensor ``(batch, n)`` on the model's device.
    """
    import torch

    batch = check_int(batch, "batch")
    device = _model_device(model)
    _check_generator(generator, device)
    x = torch.full((batch, n), mask_id, dtype=torch.long, device=device)
    for t, s in itertools.pairwise(grid):
        logits = model(x, torch.full((batch,), t, dtype=torch.float64, device=device))
        p_x0 = torch.softmax(logits.to(torch.float64), dim=-1)
        q_xs = p_x0 * (t - s)
        q_xs[:, :, mask_id] = s
        q_xs = q_xs / q_xs.sum(-1, keepdim=True)
        flat = torch.multinomial(q_xs.reshape(-1, q_xs.shape[-1]), 1, generator=generator)
        x_new = flat.reshape(batch, n)
        x = torch.where(x == mask_id, x_new, x)
    return x


def low_confidence_law(p: Any, sizes: Sequence[int]) -> np.ndarray:
    """The exact output law of :func:`llada_generate` with ``"low_confidence"`` remasking.

    Enumerates, at every state, all proposal vectors of the masked positions (independent
    draws from the exact conditionals) and keeps the ``s_k`` most confident; ties are split
    uniformly among the tied positions. Cost ``O(Π (q_i+1) · q^N)``: N ≤ 5 or so.

    Examples
    --------
    >>> law = low_confidence_law(np.full((2, 2), 0.25), [1, 1])
    >>> law.round(6).tolist()
    [[0.25, 0.25], [0.25, 0.25]]
    """
    d = as_distribution(np.asarray(p, dtype=np.float64))
    shape, n, q = d.shape, d.n, d.q
    ExchangeableSchedule(tuple(sizes)).validate(n)
    states: dict[tuple[int, ...], float] = {(q,) * n: 1.0}
    for size in sizes:
        nxt: dict[tuple[int, ...], float] = {}
        for state, w in states.items():
            probs = np.asarray(exact_conditionals(d, np.array([state]))[0])
            masked = [i for i in range(n) if state[i] == q]
            for vals in itertools.product(*(range(shape[i]) for i in masked)):
                pv = float(np.prod([probs[i, v] for i, v in zip(masked, vals)]))
                if pv == 0.0:
                    continue
                conf = {i: probs[i, v] for i, v in zip(masked, vals)}
                value = dict(zip(masked, vals))
                for chosen, share in _top_k_sets(conf, size):
                    new = list(state)
                    for i in chosen:
                        new[i] = value[i]
                    key = tuple(new)
                    nxt[key] = nxt.get(key, 0.0) + w * pv * share
        states = nxt
    law = np.zeros(shape)
    for state, w in states.items():
        law[state] += w
    return law


def _top_k_sets(conf: dict[int, float], k: int) -> list[tuple[tuple[int, ...], float]]:
    """The top-k index sets of ``conf`` with their probabilities, ties split uniformly."""
    values = sorted(conf.values(), reverse=True)
    threshold = values[k - 1]
    sure = tuple(i for i, c in conf.items() if c > threshold)
    tied = [i for i, c in conf.items() if c == threshold]
    rest = k - len(sure)
    combos = list(itertools.combinations(tied, rest))
    return [(sure + c, 1.0 / len(combos)) for c in combos]
