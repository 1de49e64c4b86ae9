"""Schedule objects: exchangeable sizes, deterministic ordered partitions, random reveal.

A schedule with K steps reveals ``s_1, …, s_K`` positions (sizes sum to N). Three kinds:

- :class:`ExchangeableSchedule` — fixed sizes, ``z_k`` uniform among the masked positions;
- :class:`DeterministicSchedule` — a fixed ordered partition ``(z_1, …, z_K)`` of ``range(N)``;
- :class:`RandomRevealSchedule` — MDLM's sampler on a time grid ``1 = t_0 > … > t_K = 0``:
  each still-masked position is revealed at step k independently with probability
  ``(t_{k−1} − t_k) / t_{k−1}``; the sizes are random, the positions exchangeable.

:func:`as_schedule` turns the contract's plain forms into these objects and validates them.

Examples
--------
>>> as_schedule([2, 1], 3)
ExchangeableSchedule(sizes=(2, 1))
>>> as_schedule([[2], [0, 1]], 3)
DeterministicSchedule(partition=((2,), (0, 1)))
>>> as_schedule([2, 2], 3)
Traceback (most recent call last):
...
exactmd.errors.ScheduleError: schedule: sizes must sum to N=3; received sizes (2, 2) (sum 4)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from math import comb
from typing import Any

import numpy as np

from exactmd._validate import check_int, is_real, to_integer
from exactmd.backends import is_torch_tensor
from exactmd.errors import ScheduleError, describe
from exactmd.schedules.program import ContextWeight, LevelMove, LevelProgram

__all__ = [
    "Schedule",
    "ExchangeableSchedule",
    "DeterministicSchedule",
    "RandomRevealSchedule",
    "as_schedule",
    "parse_schedule",
]


class Schedule:
    """Base class of schedules. ``n`` is the number of positions (None until bound)."""

    @property
    def num_steps(self) -> int:  # pragma: no cover - abstract
        """K, the number of steps."""
        raise NotImplementedError

    def validate(self, n: int) -> Schedule:  # pragma: no cover - abstract
        """Check the schedule against N; return it."""
        raise NotImplementedError

    @property
    def kind(self) -> str:
        """What a report calls this kind of schedule (``"exchangeable"``...)."""
        return type(self).__name__

    def call_law(self, n: int) -> dict[int, float]:
        """The law ``{denoiser calls: probability}`` of one run on ``n`` positions."""
        raise ScheduleError(
            f"schedule: the number of denoiser calls of {self!r} is not known (its kind does "
            "not provide call_law)"
        )

    def on_free_positions(self, red: Any) -> Schedule:
        """This schedule for a run on the free positions of a prompt, as a validated schedule
        of ``len(red.free)`` positions numbered ``0..M-1`` (``red``: the prompt's
        reduction, with ``free`` the free positions in increasing order and ``rank`` their
        new numbers). A kind without it takes no prompt."""
        raise ScheduleError(
            f"schedule: {self!r} takes no prompt (its hooks have no prompt argument, and "
            "prompts run on the free positions for the exchangeable, deterministic, "
            "random-reveal and adaptive kinds only)"
        )


def _plain(value: Any) -> Any:
    """A torch tensor or numpy array as (nested) Python lists; anything else as it is."""
    if is_torch_tensor(value) or isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _block(block: Any) -> tuple[Any, ...]:
    """One block of a partition as a tuple: a sequence, a numpy array or torch tensor, or a
    set / frozenset (a block is a set in the theory; its positions are taken in sorted order)."""
    block = _plain(block)
    if isinstance(block, set | frozenset):
        try:
            return tuple(sorted(block))
        except TypeError as exc:
            raise TypeError(f"not a set of integers: {block!r}") from exc
    if isinstance(block, str | bytes) or not isinstance(block, Sequence):
        raise TypeError(f"not a block: {block!r}")
    return tuple(block)


def _check_sizes(sizes: Sequence[Any], n: int | None) -> tuple[int, ...]:
    try:
        values = tuple(to_integer(s) for s in sizes)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ScheduleError(
            f"schedule: sizes must be positive integers; received {describe(sizes)}"
        ) from exc
    if not values:
        raise ScheduleError("schedule: needs at least one step; received no sizes")
    if any(s <= 0 for s in values):
        raise ScheduleError(
            f"schedule: every size must be >= 1 (no empty step); received sizes {values}"
        )
    if n is not None and sum(values) != n:
        raise ScheduleError(
            f"schedule: sizes must sum to N={n}; received sizes {values} (sum {sum(values)})"
        )
    return values


@dataclass(frozen=True)
class ExchangeableSchedule(Schedule):
    """Fixed sizes; at each step the positions are uniform among the masked ones.

    Parameters
    ----------
    sizes
        ``(s_1, …, s_K)``, positive integers summing to N.
    label
        An optional name shown in reports (e.g. ``"cosine"``).

    Examples
    --------
    >>> ExchangeableSchedule((2, 1)).boundaries
    (0, 2, 3)
    """

    sizes: tuple[int, ...]
    label: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sizes", _check_sizes(self.sizes, None))

    def __repr__(self) -> str:
        tag = f", label={self.label!r}" if self.label else ""
        return f"ExchangeableSchedule(sizes={self.sizes}{tag})"

    @property
    def n(self) -> int:
        """N, the sum of the sizes."""
        return sum(self.sizes)

    kind = "exchangeable"  # type: ignore[assignment]

    def call_law(self, n: int) -> dict[int, float]:
        """One denoiser call per step: ``{K: 1.0}``."""
        return {self.num_steps: 1.0}

    def on_free_positions(self, red: Any) -> ExchangeableSchedule:
        """Sizes summing to the number of free positions."""
        return self.validate(len(red.free))

    @property
    def num_steps(self) -> int:
        return len(self.sizes)

    @property
    def boundaries(self) -> tuple[int, ...]:
        """``(a_0 = 0, a_1, …, a_K = N)``, the revealed counts after each step."""
        return tuple(int(a) for a in np.concatenate([[0], np.cumsum(self.sizes)]))

    def level_program(self, n: int, exact: bool = False) -> LevelProgram:
        """Step k moves every state of level ``a_k`` to level ``a_{k+1}``, each pattern of
        ``s_{k+1}`` new positions with probability ``1 / C(N − a_k, s_{k+1})`` (a
        :class:`fractions.Fraction` when ``exact``, for exact backends).

        Examples
        --------
        >>> ExchangeableSchedule((2, 1)).level_program(3).steps[0]
        (LevelMove(source=0, target=2, new=2, weight=0.3333333333333333),)
        >>> ExchangeableSchedule((2, 1)).level_program(3, exact=True).steps[0][0].weight
        Fraction(1, 3)
        """
        steps = tuple(
            (LevelMove(a, b, b - a, _inverse(comb(n - a, b - a), exact)),)
            for a, b in itertools.pairwise(self.boundaries)
        )
        return LevelProgram(steps, final=n)

    def context_weights(self, n: int, exact: bool = False) -> list[ContextWeight]:
        """A masked position is revealed from level ``a_k`` with probability
        ``s_{k+1} / (N − a_k)`` (a :class:`fractions.Fraction` when ``exact``)."""
        weight: Any = Fraction if exact else (lambda s, r: s / r)
        return [ContextWeight(a, weight(s, n - a)) for a, s in zip(self.boundaries, self.sizes)]

    def reveal(
        self, step: int, tokens: np.ndarray, d: Any, denoiser: Any, rng: np.random.Generator
    ) -> np.ndarray:
        """``s_{step+1}`` positions uniform among each row's masked ones (bool ``(B, N)``)."""
        masked = tokens == d.q
        count, big_n = tokens.shape
        keys = np.where(masked, rng.random((count, big_n)), np.inf)
        chosen = np.argsort(keys, axis=1, kind="stable")[:, : self.sizes[step]]
        reveal = np.zeros_like(masked)
        reveal[np.arange(count)[:, None], chosen] = True
        return reveal

    def validate(self, n: int) -> ExchangeableSchedule:
        # the sizes were checked and converted to ints by __post_init__: only the sum is left
        if sum(self.sizes) != n:
            raise ScheduleError(
                f"schedule: sizes must sum to N={n}; received sizes {self.sizes} "
                f"(sum {sum(self.sizes)})"
            )
        return self


@dataclass(frozen=True)
class DeterministicSchedule(Schedule):
    """A fixed ordered partition ``(z_1, …, z_K)`` of ``range(N)``.

    Examples
    --------
    >>> DeterministicSchedule(((1,), (0, 2))).sizes
    (1, 2)
    """

    partition: tuple[tuple[int, ...], ...]
    label: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        try:
            if isinstance(_plain(self.partition), set | frozenset):
                raise TypeError("an ordered partition cannot be a set")
            blocks = tuple(
                tuple(to_integer(i) for i in _block(block)) for block in _plain(self.partition)
            )
        except (TypeError, ValueError, OverflowError) as exc:
            raise ScheduleError(
                f"schedule: a partition must be a sequence of sequences of ints (ordered blocks, "
                f"each a sequence or set of positions); received {describe(self.partition)}"
            ) from exc
        if not blocks:
            raise ScheduleError("schedule: a partition needs at least one block; received ()")
        if any(len(b) == 0 for b in blocks):
            raise ScheduleError(
                f"schedule: every block must be non-empty; received {describe(blocks)}"
            )
        object.__setattr__(self, "partition", blocks)

    def __repr__(self) -> str:
        tag = f", label={self.label!r}" if self.label else ""
        return f"DeterministicSchedule(partition={self.partition}{tag})"

    kind = "deterministic"  # type: ignore[assignment]

    def call_law(self, n: int) -> dict[int, float]:
        """One denoiser call per block: ``{K: 1.0}``."""
        return {self.num_steps: 1.0}

    def on_free_positions(self, red: Any) -> DeterministicSchedule:
        """A partition of the free positions (written in full positions), renumbered."""
        flat = [i for b in self.partition for i in b]
        free = set(red.free)
        repeated = sorted({i for i in flat if flat.count(i) > 1})
        outside = sorted({i for i in flat if i not in free})
        missing = sorted(free - set(flat))
        if repeated or outside or missing:
            what = (
                f"position(s) {repeated} repeat"
                if repeated
                else f"position(s) {outside} are not free (prompted or outside range(N))"
                if outside
                else f"free position(s) {missing} are missing"
            )
            raise ScheduleError(
                f"schedule: with a prompt, a partition must cover the free positions "
                f"{list(red.free)} once each; {what} in {describe(self.partition)}"
            )
        rank = red.rank
        blocks = tuple(tuple(rank[i] for i in b) for b in self.partition)
        return DeterministicSchedule(blocks, label=self.label).validate(len(red.free))

    @property
    def sizes(self) -> tuple[int, ...]:
        """Block sizes ``(|z_1|, …, |z_K|)``."""
        return tuple(len(b) for b in self.partition)

    @property
    def num_steps(self) -> int:
        return len(self.partition)

    def level_program(self, n: int, exact: bool = False) -> LevelProgram:
        """Step k moves the state on ``z_1 ∪ … ∪ z_k`` to ``z_1 ∪ … ∪ z_{k+1}``, revealing
        ``z_{k+1}`` (probability 1, exact either way)."""
        steps: list[tuple[LevelMove, ...]] = []
        done: tuple[int, ...] = ()
        for block in self.partition:
            target = tuple(sorted(done + block))
            steps.append((LevelMove(tuple(sorted(done)), target, tuple(sorted(block)), 1.0),))
            done = done + block
        return LevelProgram(tuple(steps), final=tuple(range(n)))

    def context_weights(self, n: int, exact: bool = False) -> list[ContextWeight]:
        """From ``z_1 ∪ … ∪ z_k`` (in the order revealed) the positions ``z_{k+1}`` (weight 1,
        exact either way)."""
        out: list[ContextWeight] = []
        done: tuple[int, ...] = ()
        for block in self.partition:
            out.append(ContextWeight(done, positions=block))
            done = done + block
        return out

    def reveal(
        self, step: int, tokens: np.ndarray, d: Any, denoiser: Any, rng: np.random.Generator
    ) -> np.ndarray:
        """The block ``z_{step+1}`` in every row (bool ``(B, N)``)."""
        reveal = np.zeros(tokens.shape, dtype=bool)
        reveal[:, list(self.partition[step])] = True
        return reveal

    def validate(self, n: int) -> DeterministicSchedule:
        flat = [i for b in self.partition for i in b]
        seen: set[int] = set()
        repeated = sorted({i for i in flat if i in seen or seen.add(i)})  # type: ignore[func-returns-value]
        if repeated:
            raise ScheduleError(
                f"schedule: a partition must use each position once; position(s) {repeated} "
                f"repeat in {describe(self.partition)}"
            )
        outside = sorted(i for i in flat if not 0 <= i < n)
        if outside:
            raise ScheduleError(
                f"schedule: positions must lie in range(N) with N={n}; received {outside}"
            )
        missing = sorted(set(range(n)) - set(flat))
        if missing:
            raise ScheduleError(
                f"schedule: a partition must cover range(N) with N={n}; position(s) {missing} "
                f"are missing from {describe(self.partition)}"
            )
        return self


@dataclass(frozen=True)
class RandomRevealSchedule(Schedule):
    """MDLM's random-reveal sampler on a time grid ``1 = t_0 > t_1 > … > t_K = 0``.

    At step k each still-masked position is revealed independently with probability
    ``r_k = (t_{k−1} − t_k) / t_{k−1}``, so the number revealed by step k is
    Binomial(N, 1 − t_k) and, given the sizes, the positions are exchangeable.

    Examples
    --------
    >>> s = RandomRevealSchedule.from_noise(lambda t: t, 4)
    >>> s.grid
    (1.0, 0.75, 0.5, 0.25, 0.0)
    >>> [round(r, 3) for r in s.reveal_probabilities]
    [0.25, 0.333, 0.5, 1.0]
    """

    grid: tuple[float, ...]
    label: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        try:
            items = list(_plain(self.grid))
        except TypeError:
            items = [self.grid]
        real = all(is_real(t) and np.isfinite(float(t)) for t in items)
        if not real or isinstance(self.grid, str | bytes):
            raise ScheduleError(
                f"grid: must be a sequence of times (finite real numbers, not strings or bools); "
                f"received {describe(self.grid)}"
            )
        grid = tuple(float(t) for t in items)
        if len(grid) < 2 or grid[0] != 1.0 or grid[-1] != 0.0:
            raise ScheduleError(
                f"grid: must start at t_0 = 1 and end at t_K = 0; received {describe(grid)}"
            )
        if any(not b < a for a, b in itertools.pairwise(grid)):
            raise ScheduleError(
                f"grid: times must be strictly decreasing; received {describe(grid)}"
            )
        object.__setattr__(self, "grid", grid)

    @classmethod
    def from_noise(
        cls, alpha: Callable[[float], float], steps: int, label: str | None = None
    ) -> RandomRevealSchedule:
        """Grid ``t_k = alpha(1 − k/K)`` from a masking-probability function with
        ``alpha(1) = 1`` and ``alpha(0) = 0`` (e.g. ``lambda t: t`` for MDLM's linear one)."""
        steps = check_int(steps, "steps", error=ScheduleError)
        grid = [float(alpha(1.0 - k / steps)) for k in range(steps + 1)]
        grid[0], grid[-1] = float(round(grid[0], 12)), float(round(grid[-1], 12))
        return cls(tuple(grid), label=label)

    def __repr__(self) -> str:
        tag = f", label={self.label!r}" if self.label else ""
        grid = ", ".join(f"{t:.4g}" for t in self.grid)
        return f"RandomRevealSchedule(grid=({grid}){tag})"

    @property
    def num_steps(self) -> int:
        return len(self.grid) - 1

    @property
    def reveal_probabilities(self) -> tuple[float, ...]:
        """``r_k = (t_{k−1} − t_k) / t_{k−1}`` for k = 1..K."""
        return self._rates(exact=False)

    def _times(self, exact: bool) -> tuple[Any, ...]:
        """The grid, as floats or (``exact``) as the decimals they print as, in Fractions."""
        return tuple(Fraction(repr(t)) for t in self.grid) if exact else self.grid

    def _rates(self, exact: bool) -> tuple[Any, ...]:
        g = self._times(exact)
        return tuple((g[k - 1] - g[k]) / g[k - 1] for k in range(1, len(g)))

    def revealed_count_law(self, n: int, exact: bool = False) -> np.ndarray:
        """``P[a_k = a]`` as an array ``(K + 1, N + 1)``: a_k is Binomial(N, 1 − t_k).

        With ``exact``, an object array of :class:`fractions.Fraction` from the grid read as
        the decimals it prints as (for exact backends)."""
        out = np.zeros((self.num_steps + 1, n + 1), dtype=object if exact else np.float64)
        for k, t in enumerate(self._times(exact)):
            a = range(n + 1) if exact else np.arange(n + 1)
            out[k] = [comb(n, int(j)) * (1 - t) ** j * t ** (n - j) for j in a]
        return out

    def level_program(self, n: int, exact: bool = False) -> LevelProgram:
        """At step k each level ``a`` keeps ``(1 − r_k)^{N−a}`` of its mass and sends, to each
        level ``b > a``, each pattern of ``b − a`` new positions with probability
        ``r_k^{b−a} (1 − r_k)^{N−b}``; the state lives on every level (``keeps_levels``).
        With ``exact`` the weights are :class:`fractions.Fraction` (the grid read as the
        decimals it prints as)."""
        steps = []
        for rk in self._rates(exact):
            moves = []
            for a in range(n + 1):
                moves.append(LevelMove(a, a, 0, (1 - rk) ** (n - a)))
                moves.extend(
                    LevelMove(a, b, b - a, rk ** (b - a) * (1 - rk) ** (n - b))
                    for b in range(a + 1, n + 1)
                )
            steps.append(tuple(moves))
        return LevelProgram(tuple(steps), final=n, keeps_levels=True)

    def context_weights(self, n: int, exact: bool = False) -> list[ContextWeight]:
        """A masked position is revealed from level a with probability
        ``Σ_k P[a_{k−1} = a] r_k`` (a :class:`fractions.Fraction` when ``exact``)."""
        law = self.revealed_count_law(n, exact)
        r = np.asarray(self._rates(exact), dtype=object if exact else None)
        c = (law[:-1, :] * r[:, None]).sum(axis=0)
        return [ContextWeight(a, c[a] if exact else float(c[a])) for a in range(n) if c[a] > 0]

    def reveal(
        self, step: int, tokens: np.ndarray, d: Any, denoiser: Any, rng: np.random.Generator
    ) -> np.ndarray:
        """Each masked position independently with probability ``r_{step+1}``."""
        masked = tokens == d.q
        r = self.reveal_probabilities[step]
        return masked & (rng.random(tokens.shape) < r) if r < 1 else masked.copy()

    def validate(self, n: int) -> RandomRevealSchedule:
        return self

    kind = "random reveal"  # type: ignore[assignment]

    def call_law(self, n: int) -> dict[int, float]:
        """One call per step that reveals at least one of the ``n`` positions (the rows are
        needed only when something is drawn): a dynamic program over the number still
        masked, ``j ~ Binomial(m, r_k)`` revealed at step k."""
        state = {(n, 0): 1.0}  # (still masked, calls so far) -> probability
        for r in self.reveal_probabilities:
            new: dict[tuple[int, int], float] = {}
            for (left, calls), w in state.items():
                for j in range(left + 1):
                    pj = w * comb(left, j) * r**j * (1.0 - r) ** (left - j)
                    if pj > 0:
                        key = (left - j, calls + (j > 0))
                        new[key] = new.get(key, 0.0) + pj
            state = new
        out: dict[int, float] = {}
        for (_, calls), w in state.items():  # r_K = 1: nothing is left masked
            out[calls] = out.get(calls, 0.0) + w
        return dict(sorted(out.items()))

    def on_free_positions(self, red: Any) -> RandomRevealSchedule:
        """Each masked free position revealed with probability ``r_k`` at step k."""
        return self.validate(len(red.free))


def _inverse(count: int, exact: bool) -> Any:
    """``1 / count`` as a float, or as a :class:`fractions.Fraction` when ``exact``."""
    return Fraction(1, count) if exact else 1.0 / count


def as_schedule(schedule: Any, n: int) -> Schedule:
    """Turn a contract schedule argument into a validated :class:`Schedule` for N = ``n``.

    A sequence of ints is an exchangeable schedule with those sizes; a sequence of blocks is a
    deterministic ordered partition, each block a sequence, numpy array, torch tensor, set or
    frozenset of positions (a block is a set in the theory); a :class:`Schedule` is validated
    as is. numpy arrays and torch tensors are read as the lists they hold.

    Examples
    --------
    >>> as_schedule([1, 2], 3).boundaries
    (0, 1, 3)
    >>> as_schedule([{2, 0}, frozenset({1})], 3)
    DeterministicSchedule(partition=((0, 2), (1,)))
    >>> as_schedule([[0], [0, 2]], 3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    exactmd.errors.ScheduleError: schedule: a partition must use each position once; ...repeat...
    """
    n = check_int(n, "n", error=ScheduleError, noun="an integer N")
    return parse_schedule(schedule).validate(n)


def parse_schedule(schedule: Any) -> Schedule:
    """A contract schedule argument as a :class:`Schedule`, not yet checked against N.

    Examples
    --------
    >>> parse_schedule([[1], [0]])
    DeterministicSchedule(partition=((1,), (0,)))
    """
    if isinstance(schedule, Schedule):
        return schedule
    schedule = _plain(schedule)  # numpy arrays and torch tensors as lists (0-d: a number)
    if isinstance(schedule, (str, bytes)) or not isinstance(schedule, Sequence):
        raise ScheduleError(
            f"schedule: must be a sequence of sizes, an ordered partition (a sequence of "
            f"blocks, each a sequence or set of positions) or a Schedule; received "
            f"{describe(schedule)}"
        )
    items = [_plain(b) for b in schedule]
    if items and all(
        isinstance(b, Sequence | set | frozenset) and not isinstance(b, str | bytes) for b in items
    ):
        return DeterministicSchedule(tuple(_block(b) for b in items))
    if any(isinstance(b, (float, np.floating)) and not float(b).is_integer() for b in items):
        raise ScheduleError(f"schedule: sizes must be integers; received {describe(schedule)}")
    return ExchangeableSchedule(tuple(items))
