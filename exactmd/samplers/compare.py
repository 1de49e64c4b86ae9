"""Compute as well as accuracy: the law of a sampler's denoiser calls, and schedules side by side.

- :func:`nfe_distribution` is the exact law ``{calls: probability}`` of the number of denoiser
  calls (network function evaluations) of one run. For a sampler of :mod:`exactmd.samplers`
  it is the engine's (``calls`` of :class:`~exactmd.samplers.RunLaw`: LLaDA makes its
  ``steps`` calls, a sampler that stops early fewer). For the kinds of the theory:
  exchangeable sizes, a deterministic partition and an adaptive schedule make one call per
  step, ``K``; **random reveal** makes one call per step that reveals at least one position
  (a step that reveals nothing needs no rows, and :func:`exactmd.sample` calls the denoiser
  only for the rows that reveal something; MDLM's own loop, which caches the last output,
  is ``exactmd.samplers.mdlm``, with its own call law). Its law is computed by a dynamic
  program over the number ``m`` of positions still masked: at step k, ``j ~ Binomial(m, r_k)``
  positions are revealed and a call is counted when ``j > 0``.
- :func:`compare` puts schedules side by side on one law: for each, the exact ``KL(π ‖ p_alg)``
  (against :func:`exactmd.conditional_law` under a prompt), the expected calls and E_fact where
  it is defined (``None`` for sample-then-select samplers, which refuse it; under a prompt it is
  that of the run on the free positions); then, as the reference at the same cost, the optimal
  exchangeable schedule (:func:`exactmd.optimal_schedule`) for ``K = ⌊c⌋`` and ``K = ⌈c⌉`` steps
  around each schedule's expected calls ``c`` (one K when c is an integer; K clamped to 1..M, M
  the positions to reveal; each K once), so a sampler's accuracy is read against what the best
  schedule of the theory reaches with the same number of denoiser calls.

Under a prompt (``prompt={position: value}``) both use the same semantics as
:func:`exactmd.output_distribution`: the samplers take the prompt themselves, the kinds of the
theory cover the free positions (:mod:`exactmd.sampler.prompted`).

Examples
--------
>>> import numpy as np
>>> from exactmd.samplers import llada
>>> from exactmd.schedules.kinds import RandomRevealSchedule
>>> nfe_distribution(np.full((2, 2), 0.25), [1, 1])
{2: 1.0}
>>> nfe_distribution(np.full((2, 2), 0.25), RandomRevealSchedule((1.0, 0.5, 0.0)))
{1: 0.5, 2: 0.5}
>>> p = np.array([[0.4, 0.1], [0.1, 0.4]])
>>> table = compare(p, [[2], llada(steps=2, temperature=1.0, ties="split")])
>>> [(row.name, row.expected_calls) for row in table.rows]  # doctest: +NORMALIZE_WHITESPACE
[('exchangeable', 1.0), ('llada', 2.0), ('optimal exchangeable', 1.0),
 ('optimal exchangeable', 2.0)]
>>> round(table.rows[0].kl, 6), table.rows[3].schedule, table.rows[3].kl
(0.192745, 'sizes (1, 1)', 0.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from exactmd.denoisers.calls import check_denoiser_law
from exactmd.errors import ScheduleError
from exactmd.law.conditional import conditional_law
from exactmd.law.distribution import Distribution, as_distribution
from exactmd.law.prompt import as_prompt
from exactmd.measures.information import kl
from exactmd.sampler.p_alg import output_distribution
from exactmd.sampler.prompted import Reduction
from exactmd.samplers.base import SamplerSchedule
from exactmd.schedules.custom import is_core_schedule
from exactmd.schedules.factorization import factorization_error
from exactmd.schedules.kinds import (
    Schedule,
    _plain,
    as_schedule,
)
from exactmd.schedules.optimum import optimal_schedule

__all__ = ["nfe_distribution", "compare", "Comparison", "ComparisonRow"]


def _normalised(calls: dict[int, float]) -> dict[int, float]:
    total = math.fsum(calls.values())
    return {k: w / total for k, w in calls.items()}


def _free_schedule(d: Distribution, schedule: Any, prompt: Any) -> tuple[Any, Any]:
    """(law the schedule runs on, validated schedule of that law), the prompt reduced."""
    if as_prompt(prompt, d.shape):
        red = Reduction.of(d, prompt)
        return red, red.schedule(schedule)
    return None, as_schedule(schedule, d.n)


def nfe_distribution(
    p: Any, schedule: Any, denoiser: Any = None, prompt: Any = None
) -> dict[int, float]:
    """The exact law ``{number of denoiser calls: probability}`` of one run (see the notes).

    Parameters
    ----------
    p
        The law π (any accepted form).
    schedule
        A sampler of :mod:`exactmd.samplers`, sizes, a partition or a schedule object.
    denoiser
        The sampler's denoiser (None: π's exact conditionals); it matters for samplers whose
        number of steps depends on the drawn values.
    prompt
        ``{position: value}`` fixed as revealed, as in :func:`exactmd.output_distribution`.

    Returns
    -------
    dict
        Sorted by the number of calls; the probabilities sum to 1.

    Examples
    --------
    >>> from exactmd.samplers import llada
    >>> nfe_distribution(np.full((2, 2, 2), 0.125), llada(steps=4, remasking="random"))
    {4: 1.0}
    >>> nfe_distribution(np.full((2, 2, 2), 0.125), [2], prompt={0: 1})
    {1: 1.0}
    """
    d = as_distribution(p)
    if isinstance(schedule, SamplerSchedule):
        return _normalised(schedule.run_law(d, denoiser, prompt).calls)
    if denoiser is not None:
        check_denoiser_law(denoiser, d.shape)
    red, sched = _free_schedule(d, schedule, prompt)
    return sched.call_law(d.n if red is None else len(red.free))  # the kind's own law


@dataclass(frozen=True)
class ComparisonRow:
    """One schedule of a :class:`Comparison`.

    Attributes
    ----------
    name
        The sampler's name (``"llada"``), the kind (``"exchangeable"``, ``"deterministic"``,
        ``"random reveal"``, ``"adaptive"``) or ``"optimal exchangeable"``; a label if set.
    schedule
        The schedule as written (its repr, or the sizes of an optimal row).
    kl
        ``KL(π ‖ p_alg)`` in nats (π given the prompt under a prompt); ``inf`` when p_alg
        misses a point of π's support.
    expected_calls
        The expected number of denoiser calls.
    calls
        The law of the number of calls (:func:`nfe_distribution`).
    e_fact
        E_fact in nats, or None where it is not defined (see ``note``).
    note
        Why E_fact is missing, or which rows an optimal row is the reference of.
    """

    name: str
    schedule: str
    kl: float
    expected_calls: float
    calls: dict[int, float] = field(repr=False)
    e_fact: float | None
    note: str = ""


def _num(x: float | None, spec: str = ".6g") -> str:
    return "n/a" if x is None else format(x, spec)


@dataclass(frozen=True)
class Comparison:
    """Schedules side by side on one law (see :func:`compare`); ``str()`` is a text table,
    :meth:`to_markdown` a Markdown one.

    Attributes
    ----------
    rows
        One :class:`ComparisonRow` per schedule given, in order, then the optimal rows.
    target
        ``"π"``, or ``"π(x | x_prompt)"`` under a prompt.
    prompt
        The prompt as a dict (empty without one).
    """

    rows: tuple[ComparisonRow, ...]
    target: str
    prompt: dict[int, int]

    _HEAD = ("#", "name", "schedule", "KL (nats)", "E[calls]", "E_fact (nats)", "note")

    def _cells(self) -> list[tuple[str, ...]]:
        return [
            (
                str(i),
                r.name,
                r.schedule,
                _num(r.kl),
                _num(r.expected_calls, ".4g"),
                _num(r.e_fact),
                r.note,
            )
            for i, r in enumerate(self.rows, 1)
        ]

    def _title(self) -> str:
        given = f" given the prompt {self.prompt}" if self.prompt else ""
        return f"KL({self.target} ‖ p_alg){given}, expected denoiser calls and E_fact"

    def __str__(self) -> str:
        cells = [self._HEAD, *self._cells()]
        width = [max(len(c[j]) for c in cells) for j in range(len(self._HEAD))]
        lines = [self._title()]
        for k, c in enumerate(cells):
            lines.append("  ".join(v.ljust(w) for v, w in zip(c, width, strict=True)).rstrip())
            if k == 0:
                lines.append("  ".join("-" * w for w in width))
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """The table in Markdown (a title line, then the table).

        Examples
        --------
        >>> p = np.array([[0.4, 0.1], [0.1, 0.4]])
        >>> print(compare(p, [[1, 1]]).to_markdown().splitlines()[2])
        | # | name | schedule | KL (nats) | E[calls] | E_fact (nats) | note |
        """
        lines = [f"**{self._title()}**", ""]
        lines.append("| " + " | ".join(self._HEAD) + " |")
        lines.append("|---:|---|---|---:|---:|---:|---|")
        for c in self._cells():
            lines.append("| " + " | ".join(v.replace("|", "\\|") for v in c) + " |")
        return "\n".join(lines) + "\n"


def _name(sched: Any) -> str:
    label = getattr(sched, "label", None)
    if label:
        return str(label)
    if isinstance(sched, SamplerSchedule):
        return sched.name
    return str(sched.kind)


def _written(schedule: Any) -> str:
    if isinstance(schedule, Schedule):
        return repr(schedule)
    plain = _plain(schedule)
    if isinstance(plain, list | tuple):
        plain = [_plain(b) for b in plain]
    return repr(plain)


def _row(
    d: Distribution,
    target: np.ndarray,
    schedule: Any,
    denoiser: Any,
    prompt: Any,
    name: str | None = None,
    written: str | None = None,
    note: str = "",
) -> ComparisonRow:
    if isinstance(schedule, SamplerSchedule):
        run = schedule.run_law(d, denoiser, prompt)
        law, calls, kind = run.law, _normalised(run.calls), schedule
        red = Reduction.of(d, prompt) if as_prompt(prompt, d.shape) else None
        base, den = (d, denoiser) if red is None else (red.law, red.denoiser(denoiser))
        try:  # under a prompt: on the free positions, as the run itself
            e_fact = float(schedule.factorization_error(base, den))
        except ScheduleError:
            e_fact, note = None, f"E_fact: undefined ({schedule.family})"
    else:
        law = output_distribution(d, schedule, denoiser, prompt=prompt)
        calls = nfe_distribution(d, schedule, denoiser, prompt)
        red, kind = _free_schedule(d, schedule, prompt)
        base = d if red is None else red.law
        if is_core_schedule(kind):
            e_fact = float(factorization_error(base, kind))
        else:
            den = denoiser if red is None or denoiser is None else red.denoiser(denoiser)
            hook = kind.factorization_error
            e_fact = float(hook(base, den) if den is not None else hook(base))
    return ComparisonRow(
        name=name if name is not None else _name(kind),
        schedule=written if written is not None else _written(schedule),
        kl=float(kl(target, law)),
        expected_calls=float(math.fsum(k * w for k, w in calls.items())),
        calls=calls,
        e_fact=e_fact,
        note=note,
    )


def compare(
    p: Any, schedules: Sequence[Any], denoiser: Any = None, prompt: Any = None
) -> Comparison:
    """Schedules side by side on ``p``: exact KL, expected calls, E_fact, and the optimum.

    Parameters
    ----------
    p
        The law π (any accepted form).
    schedules
        Samplers of :mod:`exactmd.samplers`, sizes, partitions or schedule objects (at least
        one).
    denoiser
        The denoiser every schedule runs with (None: π's exact conditionals).
    prompt
        ``{position: value}`` fixed as revealed; KL is then taken against
        :func:`exactmd.conditional_law`.

    Returns
    -------
    Comparison
        One row per schedule, then the optimal exchangeable rows at the same cost (see the
        module notes: K = ⌊c⌋ and ⌈c⌉ around each expected number of calls c).

    Examples
    --------
    >>> p = np.array([[0.4, 0.1], [0.1, 0.4]])
    >>> print(compare(p, [[2]]))  # doctest: +NORMALIZE_WHITESPACE
    KL(π ‖ p_alg), expected denoiser calls and E_fact
    #  name                  schedule    KL (nats)  E[calls]  E_fact (nats)  note
    -  --------------------  ----------  ---------  --------  -------------  -----------------
    1  exchangeable          [2]         0.192745   1         0.192745
    2  optimal exchangeable  sizes (2,)  0.192745   1         0.192745       K = 1 (cost of 1)
    """
    d = as_distribution(p)
    items = list(schedules) if not isinstance(schedules, str | bytes) else []
    if not items:
        raise ScheduleError(
            f"schedules: must be a non-empty sequence of schedules; received {schedules!r}"
        )
    pr = as_prompt(prompt, d.shape)
    target = conditional_law(d, prompt) if pr else d.numpy()
    rows = [_row(d, target, s, denoiser, prompt) for s in items]
    free = d.n - len(pr)
    base: Any = Reduction.of(d, prompt).law if pr else d
    costs: dict[int, list[int]] = {}
    for i, r in enumerate(rows, 1):
        c = r.expected_calls
        for k in sorted({math.floor(c + 1e-9), math.ceil(c - 1e-9)}):
            k = min(max(k, 1), free)
            if i not in costs.setdefault(k, []):
                costs[k].append(i)
    for k, of in sorted(costs.items()):
        sizes = optimal_schedule(base, k)
        who = ", ".join(str(i) for i in of)
        rows.append(
            _row(
                d,
                target,
                list(sizes),
                denoiser,
                prompt,
                name="optimal exchangeable",
                written=f"sizes {sizes}",
                note=f"K = {k} (cost of {who})",
            )
        )
    return Comparison(tuple(rows), "π(x | x_prompt)" if pr else "π", dict(pr))
