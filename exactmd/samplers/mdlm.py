"""MDLM's ``_sample`` with the ``ddpm_cache`` predictor (kuleshov-group/mdlm ``diffusion.py``
at c112c526; SAMPLERS.md §5), exactly.

The time grid is ``torch.linspace(1, eps, steps + 1)`` in float32 (emulated bit for bit by
``time_grid``, tested against torch) and ``dt = (1 − eps) / steps`` a Python float. Step
``i`` uses ``t = timesteps[i]`` and ``s = t − dt`` (float32, as the tensor arithmetic rounds
it), and draws every masked position from the unnormalised weights ``p(v) · (t − s)`` for a
value ``v`` and ``s`` for staying masked (one Gumbel-max draw per position). Since the ``p(v)``
sum to 1, a masked position is revealed **independently** with probability
``r_i = (t − s) / ((t − s) + s)`` (``≈ dt / t``, computed from the float32 ``t − s`` and ``s``
in float64; ``r_i = 1`` when ``s <= 0``) and its value is drawn from ``p``: per-position
Bernoulli reveals on an exact float grid, values from the denoiser's rows (MDLM has no
temperature). After the loop, **noise removal** (``noise_removal=True``, MDLM's default) writes
the argmax of ``p`` (the first maximal index, as ``torch.argmax``) at every remaining mask in
one extra call. Without it masks remain with positive probability (about ``N · eps`` for the
loop's survival ``Π s_i / t_i``), and the exact run refuses: the law over the shape is not
defined.

The sampler is value-independent (a :class:`~exactmd.samplers.base.Plan` with Bernoulli weights
over the subsets of the masks), so E_fact and E_learn are defined. E_learn is ``inf`` whenever
the noise-removal pass has positive probability at a context whose conditional is not a point
mass (its value law is the argmax); with ``eps = 0`` the last step reveals every mask and it
is finite.

**Denoiser calls.** ``ddpm_cache`` reuses the model's output while ``x`` is unchanged (MDLM's
denoiser is not time-conditioned): step ``i`` calls the model when ``i = 0`` or when step
``i − 1`` changed ``x``. The rule's memory is that cache flag (1: valid). The real loop runs
all ``steps`` iterations: after the last reveal one more iteration calls the model (the cache
was just invalidated) unless the loop is over, and noise removal always calls it once, even
when no mask remains (``_sample`` does not check). These calls are counted, so
``RunLaw.calls`` is the exact law of the real code's number of forward
passes.

Not modelled: the float32 rounding of ``p · (t − s)`` and the bounded float32 Gumbel noise
(``1e-10 − log(U + 1e-10)``), which move the step law by about 1e-7 (SAMPLERS.md §5(d));
``MDLM.draw`` does use them, the way the code does. The argmax of noise removal is taken
on the float64 rows (the real model's float32 logits can tie where float64 ones do not), with
values equal within ``SCORE_RTOL`` counted as equal (the first is taken).

Examples
--------
>>> import numpy as np, exactmd
>>> from exactmd.samplers import exact_run
>>> from exactmd.law.distribution import as_distribution
>>> p = np.array([[0.4, 0.2], [0.1, 0.3]])
>>> run = exact_run(as_distribution(p), mdlm(steps=2), None)
>>> run.law.round(4).tolist()
[[0.35, 0.25], [0.15, 0.25]]
>>> {k: round(v, 4) for k, v in run.calls.items()}  # no reveal at step 0: step 1 is cached
{2: 0.25, 3: 0.75}
>>> round(float(time_grid(2)[2][1]), 8)  # the last step reveals with probability 1 − s/t
0.99997997
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np

from exactmd._validate import check_flag, check_int, check_real
from exactmd.errors import ScheduleError
from exactmd.samplers._records import VALUE_INDEPENDENT, Draw, Plan, StepBatch
from exactmd.samplers._select import argmax_onehot, first_argmax
from exactmd.samplers.base import SamplerSchedule

__all__ = ["MDLM", "mdlm", "time_grid"]

_F32 = np.float32


def _round_f32(x: Fraction) -> np.float32:
    """The float32 nearest to the rational ``x`` (ties to even): one rounding, as an FMA."""
    c = _F32(float(x))
    best: tuple[tuple[Fraction, int], np.float32] | None = None
    for cand in (np.nextafter(c, _F32(-np.inf)), c, np.nextafter(c, _F32(np.inf))):
        err = abs(Fraction(float(cand)) - x)
        odd = int(np.asarray(cand, dtype=np.float32).view(np.uint32)) & 1
        if best is None or (err, odd) < best[0]:
            best = ((err, odd), _F32(cand))
    assert best is not None
    return best[1]


def _linspace_f32(start: float, end: float, n: int) -> np.ndarray:
    """``torch.linspace(start, end, n)`` in float32 as torch's CPU kernel computes it.

    ``step = (end − start) / (n − 1)`` in float32, then ``start + step · i`` for the first
    half and ``end − step · (n − 1 − i)`` for the second, each with one rounding (the kernel's
    fused multiply-add).
    """
    a, b = _F32(start), _F32(end)
    if n == 1:
        return np.array([a], dtype=np.float32)
    step = _F32((b - a) / _F32(n - 1))
    fa, fb, fs = Fraction(float(a)), Fraction(float(b)), Fraction(float(step))
    half = n // 2
    out = [
        _round_f32(fa + fs * i) if i < half else _round_f32(fb - fs * (n - 1 - i)) for i in range(n)
    ]
    return np.array(out, dtype=np.float32)


@lru_cache(maxsize=64)
def _grid(steps: int, eps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = _linspace_f32(1.0, eps, steps + 1)[:steps]
    dt = (1.0 - eps) / steps  # a Python float, as in _sample
    s = (t - _F32(dt)).astype(np.float32)  # move_chance_s = t − dt, a float32 tensor
    d = (t - s).astype(np.float32)  # move_chance_t − move_chance_s
    d64, s64 = d.astype(np.float64), s.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(s64 <= 0, 1.0, d64 / (d64 + np.maximum(s64, 0.0)))
    for a in (t, s, r):
        a.flags.writeable = False
    return t, s, r


def time_grid(steps: Any, eps: Any = 1e-5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MDLM's time grid: ``(t, s, r)``, each of length ``steps``.

    ``t[i]`` is ``torch.linspace(1, eps, steps + 1)[i]`` (float32), ``s[i] = t[i] − dt`` in
    float32 with ``dt = (1 − eps) / steps``, and ``r[i]`` (float64) the probability that step
    ``i`` reveals a masked position (see the module notes).

    Examples
    --------
    >>> t, s, r = time_grid(4)
    >>> t.dtype.name, r.round(4).tolist()
    ('float32', [0.25, 0.3333, 0.5, 1.0])
    """
    n = check_int(steps, "steps", error=ScheduleError)
    e = check_real(eps, "eps", minimum=0.0, maximum=1.0, open_max=True, error=ScheduleError)
    return _grid(n, e)


@dataclass(frozen=True, repr=False)
class MDLM(SamplerSchedule):
    """MDLM's ``ddpm_cache`` sampler; build it with :func:`mdlm`."""

    steps: int
    eps: float = 1e-5
    noise_removal: bool = True
    _reveal: np.ndarray = field(init=False, repr=False, compare=False)

    name = "mdlm"

    def __post_init__(self) -> None:
        steps = check_int(self.steps, "steps", error=ScheduleError)
        eps = check_real(
            self.eps, "eps", minimum=0.0, maximum=1.0, open_max=True, error=ScheduleError
        )
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "eps", eps)
        object.__setattr__(
            self, "noise_removal", check_flag(self.noise_removal, "noise_removal", ScheduleError)
        )
        object.__setattr__(self, "_reveal", _grid(steps, eps)[2])

    def __repr__(self) -> str:
        extra = "" if self.noise_removal else ", noise_removal=False"
        return f"mdlm(steps={self.steps}, eps={self.eps!r}{extra})"

    @property
    def family(self) -> str:
        return VALUE_INDEPENDENT

    def max_steps(self, n: int) -> int:
        return self.steps + (1 if self.noise_removal else 0)

    def trailing_calls(self, step: int, memory: int) -> int:
        if step > self.steps:  # finished by the noise-removal pass, whose call is counted
            return 0
        loop = 1 if step < self.steps and memory == 0 else 0  # the iteration after a change
        return loop + (1 if self.noise_removal else 0)

    def values(self, batch: StepBatch) -> np.ndarray:
        if batch.step < self.steps:
            return np.array(batch.probs, dtype=np.float64)
        return argmax_onehot(batch.probs)  # noise removal: the argmax, first index

    def plan(self, batch: StepBatch) -> Plan:
        rows, n, masked = len(batch.tokens), batch.n, batch.masked
        calls = 1 - batch.memory  # 1 when the cache is invalid
        if batch.step >= self.steps:  # noise removal: every remaining mask, one call
            reveal = np.zeros((rows, n), dtype=bool)
            reveal[:, masked] = True
            return Plan(np.arange(rows), reveal, np.ones(rows), 0, 1)
        r = float(self._reveal[batch.step])
        m = len(masked)
        subsets, weights = [], []
        for size in range(m + 1):
            w = r**size * (1.0 - r) ** (m - size)
            if w == 0.0:
                continue
            for z in itertools.combinations(masked.tolist(), size):
                subsets.append(z)
                weights.append(w)
        one = np.zeros((len(subsets), n), dtype=bool)
        for j, z in enumerate(subsets):
            one[j, list(z)] = True
        reveal = np.tile(one, (rows, 1))
        memory = np.tile(np.array([len(z) == 0 for z in subsets], dtype=np.int64), rows)
        return Plan(
            np.repeat(np.arange(rows), len(subsets)),
            reveal,
            np.tile(np.array(weights), rows),
            memory,
            calls,
        )

    def draw(
        self,
        step: int,
        memory: np.ndarray,
        tokens: np.ndarray,
        probs: np.ndarray,
        shape: tuple[int, ...],
        rng: np.random.Generator,
    ) -> Draw:
        mask = max(shape)
        masked = tokens == mask
        calls = (memory == 0).astype(np.int64)
        if step >= self.steps:  # noise removal
            x = np.where(masked, first_argmax(probs), tokens)
            return Draw(x, np.zeros(len(tokens), dtype=np.int64), np.ones(len(tokens), np.int64))
        t, s, _ = _grid(self.steps, self.eps)
        d = _F32(t[step] - s[step])
        # _ddpm_caching_update: q_xs = p · (t − s), the mask column s; _sample_categorical
        q_xs = np.concatenate(
            [
                probs.astype(np.float32) * d,
                np.full((*tokens.shape, 1), s[step], dtype=np.float32),
            ],
            axis=-1,
        )
        u = rng.random(q_xs.shape, dtype=np.float32)
        gumbel = _F32(1e-10) - np.log(u + _F32(1e-10))
        x = np.argmax(q_xs / gumbel, axis=-1)
        new = np.where(masked, x, tokens)
        unchanged = np.all(new == tokens, axis=1)
        return Draw(new, unchanged.astype(np.int64), calls)


def mdlm(steps: Any, eps: Any = 1e-5, noise_removal: Any = True) -> MDLM:
    """MDLM's ``_sample`` with the ``ddpm_cache`` predictor as a schedule (module notes).

    Parameters
    ----------
    steps
        ``num_steps`` of the loop (MDLM's default config uses 128).
    eps
        The end of the time grid, ``0 <= eps < 1`` (``_sample``'s default ``1e-5``).
    noise_removal
        Write the argmax at the masks left after the loop (MDLM's default ``True``); with
        ``False`` masks may remain and the exact run raises a
        :class:`~exactmd.errors.ScheduleError`.

    Examples
    --------
    >>> mdlm(8)
    mdlm(steps=8, eps=1e-05)
    """
    return MDLM(steps, eps, noise_removal)
