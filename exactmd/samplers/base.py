"""The interface of a sampler schedule: what one step of a real sampler does, exactly and drawn.

A :class:`SamplerSchedule` describes one step of a sampler the field runs (LLaDA, Fast-dLLM,
Dream, MDLM, the EB-sampler, diffusers' block refinement) in two ways, which the engine of
:mod:`exactmd.samplers._engine` turns into the exact law, the law of the number of denoiser
calls and the Monte Carlo run:

- **exactly**: :meth:`SamplerSchedule.moves` receives a :class:`StepBatch` (states sharing the
  step index, the rule's integer memory and the masked set, with the denoiser's rows) and
  returns every successor with its probability (:class:`Moves`). A value-independent sampler
  (the positions do not depend on the drawn values) may instead return a :class:`Plan` from
  :meth:`SamplerSchedule.plan` and its value law from :meth:`SamplerSchedule.values`; the
  engine then forms the moves, and E_fact and E_learn are defined (docs/design.md, "The
  sampler");
- **drawn**: :meth:`SamplerSchedule.draw` performs one step of the real algorithm on a batch of
  rows (each with its own masked set), vectorised, with a numpy Generator.

The state of the exact law is (revealed values, step index, memory): ``memory`` is a small
int the rule keeps between steps (for example a block's size schedule), 0 for most rules.
A state without masks is finished; :meth:`SamplerSchedule.trailing_calls` adds the denoiser
calls a sampler still makes after its last reveal (LLaDA runs all its steps).

Examples
--------
>>> import numpy as np
>>> import exactmd
>>> from exactmd.samplers import llada
>>> p = np.array([[0.4, 0.1], [0.1, 0.4]])
>>> law = exactmd.output_distribution(p, llada(steps=2, remasking="random", temperature=1))
>>> bool(np.allclose(law, p))  # one token per step from the exact conditionals: π itself
True
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from exactmd.errors import ScheduleError
from exactmd.law.distribution import Distribution
from exactmd.law.prompt import as_prompt
from exactmd.sampler.prompted import Reduction
from exactmd.samplers._engine import (
    RunLaw,
    exact_run,
    expand_plan,
    monte_carlo_run,
    walk_under_pi,
)
from exactmd.samplers._records import STS, VALUE_INDEPENDENT, Draw, Moves, Plan, StepBatch
from exactmd.schedules.custom import CustomSchedule

__all__ = ["StepBatch", "Moves", "Plan", "Draw", "SamplerSchedule", "STS", "VALUE_INDEPENDENT"]


class SamplerSchedule(CustomSchedule):
    """Base class of the samplers of :mod:`exactmd.samplers` (see the module notes).

    A subclass sets ``family`` (:data:`STS` or :data:`VALUE_INDEPENDENT`) and implements
    :meth:`max_steps`, :meth:`draw`, and either :meth:`moves` or :meth:`plan` with
    :meth:`values`. The core functions reach it through the hooks of
    :class:`~exactmd.schedules.custom.CustomSchedule`.
    """

    #: A short name shown in reports and errors.
    name: ClassVar[str] = "sampler"

    @property
    def shared_masked(self) -> bool:
        """Whether each :class:`StepBatch` of the exact run holds states with one masked set
        (True, the default); False batches the states that share the number of masks, for a
        rule whose :meth:`moves` reads each row's masked set (fewer, larger batches)."""
        return True

    @property
    def family(self) -> str:
        """:data:`STS` (positions depend on the drawn values) or :data:`VALUE_INDEPENDENT`."""
        return STS

    # -- what a subclass provides ------------------------------------------------------------
    def max_steps(self, n: int) -> int:
        """The most denoiser rounds a run may take on N = ``n`` positions (a guard)."""
        raise NotImplementedError

    def start_memory(self, n: int) -> int:
        """The memory of the starting state."""
        return 0

    def moves(self, batch: StepBatch) -> Moves:
        """Every successor of the batch's states with its probability (the exact step)."""
        plan = self.plan(batch)
        if plan is None:
            raise NotImplementedError
        return expand_plan(batch, plan, self.values(batch))

    def plan(self, batch: StepBatch) -> Plan | None:
        """The revealed subsets of a value-independent step (None for sample-then-select)."""
        return None

    def values(self, batch: StepBatch) -> np.ndarray:
        """The value law ``(B, N, q)`` the step draws from (tempered, filtered) at the batch."""
        raise NotImplementedError

    def draw(
        self,
        step: int,
        memory: np.ndarray,
        tokens: np.ndarray,
        probs: np.ndarray,
        shape: tuple[int, ...],
        rng: np.random.Generator,
    ) -> Draw:
        """One step of the real algorithm on rows ``tokens`` (each with its own masks)."""
        raise NotImplementedError

    def trailing_calls(self, step: int, memory: int) -> int:
        """Denoiser calls made after the last reveal, the run having made ``step`` rounds."""
        return 0

    # -- the CustomSchedule hooks -------------------------------------------------------------
    @property
    def num_steps(self) -> int:
        """Not fixed for a sampler; see :meth:`max_steps` and :func:`nfe_distribution`."""
        raise ScheduleError(
            f"schedule: {self!r} has no fixed number of steps; use "
            "exactmd.samplers.nfe_distribution for the law of its denoiser calls"
        )

    def validate(self, n: int) -> SamplerSchedule:
        self.max_steps(n)  # the rule's own checks against N
        return self

    def run_law(self, d: Distribution, denoiser: Any = None, prompt: Any = None) -> RunLaw:
        """The exact law and call law of a run (:func:`~exactmd.samplers.exact_run`).

        Under a prompt the **generation region is the free positions** (those the prompt
        leaves masked), as in the public code, where the prompt precedes the generated
        tokens: the sampler (its blocks, sizes and time grid) runs on the ``M = N − |prompt|``
        free positions, in their order, with the denoiser seeing the prompt (π's exact
        conditionals given the prompt by default; a user denoiser gets full-length tokens),
        and the law is embedded back into the full shape, zero off the prompt. So
        ``llada(4, block_length=2)`` with a prompt of 2 positions at N = 6 is LLaDA's
        ``generate`` with a 2-token prompt, ``gen_length=4``, 2 blocks of 2 steps. (The
        engine's own ``prompt`` argument instead pre-fills tokens inside the generation
        region, whose blocks then tile all N positions.)
        """
        red = self._reduction(d, prompt)
        if red is None:
            return exact_run(d, self, denoiser)
        run = exact_run(red.law, self, red.denoiser(denoiser))
        return RunLaw(red.embed_law(run.law), run.calls)

    def _reduction(self, d: Distribution, prompt: Any) -> Reduction | None:
        if not as_prompt(prompt, d.shape):
            return None
        red = Reduction.of(d, prompt)
        try:
            self.validate(len(red.free))
        except ScheduleError as exc:
            raise ScheduleError(
                f"{exc} (under a prompt the generation region is the N − |prompt| = "
                f"{d.n} − {len(red.prompt)} = {len(red.free)} free positions {list(red.free)})"
            ) from exc
        return red

    def output_distribution(
        self,
        d: Distribution,
        denoiser: Any = None,
        *,
        native: bool = False,
        prompt: Any = None,
    ) -> Any:
        """p_alg of the sampler, for :func:`exactmd.output_distribution` (a prompt as in
        :meth:`run_law`)."""
        law = self.run_law(d, denoiser, prompt).law
        if d.backend.dtype == "float32":
            law = law.astype(np.float32)
        return d.backend.asarray(law) if native else law

    def _no_decomposition(self, what: str) -> ScheduleError:
        return ScheduleError(
            f"schedule: {what} is not defined for {self!r}: it is a {self.family} sampler "
            "(the positions it reveals depend on the values it draws), so the theory's "
            "decomposition KL(π ‖ p_alg) <= E_learn + E_fact does not apply; compare laws "
            "with exactmd.kl(p, exactmd.output_distribution(p, schedule)) instead"
        )

    def factorization_error(self, d: Distribution, denoiser: Any = None) -> float:
        """E_fact of a value-independent sampler (π's TC along its plan); refused for STS."""
        if self.family != VALUE_INDEPENDENT:
            raise self._no_decomposition("E_fact")
        return walk_under_pi(d, self, denoiser)[0]

    def learning_error(self, d: Distribution, denoiser: Any) -> float:
        """E_learn of a value-independent sampler against its value law; refused for STS."""
        if self.family != VALUE_INDEPENDENT:
            raise self._no_decomposition("E_learn")
        return walk_under_pi(d, self, denoiser)[1]

    def sample_run(
        self,
        d: Distribution,
        denoiser: Any,
        count: int,
        rng: np.random.Generator,
        prompt: Any = None,
    ) -> np.ndarray:
        """``count`` outputs of the real algorithm, for :func:`exactmd.sample` (a prompt as in
        :meth:`run_law`: the run is on the free positions)."""
        red = self._reduction(d, prompt)
        if red is None:
            return monte_carlo_run(d, self, denoiser, count, rng)
        den = red.denoiser(denoiser)
        return red.embed_samples(monte_carlo_run(red.law, self, den, count, rng))
