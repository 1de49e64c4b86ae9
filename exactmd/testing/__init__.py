"""exactmd as a test oracle: exact answers and statistical assertions for your own code.

Plug a small exact model into your sampler, denoiser or estimator, and compare with what it
should produce exactly:

- :func:`assert_sampler_matches` — samples of a masked-diffusion sampler against the exact
  output law p_alg (:func:`assert_samples_match` against any exact law);
- :func:`assert_denoiser_matches` / :func:`denoiser_report` — a denoiser against π's
  conditionals; :func:`learning_error_breakdown` — its E_learn, step by step;
- :func:`assert_profile_close` — an estimate of the information profile f;
- :func:`samples_needed` — how many samples the sample test needs to catch a given wrong
  law (its power); a test that cannot reject raises :class:`NoPowerError` instead of
  passing;
- :mod:`exactmd.testing.strategies` — hypothesis strategies (``joints``, ``schedules``,
  ``models``); it needs ``hypothesis`` and is not imported here;
- :mod:`exactmd.testing.examples` — a reference factorized sampler with planted bugs, and
  LLaDA- and MDLM-style sampling loops;
- :mod:`exactmd.testing.loops` — the field's loops (LLaDA, Fast-dLLM, Dream, MDLM, UNI-D2's
  EB-sampler) re-written the way their code is written, calling an
  :class:`~exactmd.denoisers.torch_module.ExactDenoiserModule` in its real convention.

The statistical test (impossible outcomes, chi-square or exact multinomial tests, marginals
with Bonferroni) is described in :mod:`exactmd.testing.goodness` and
:mod:`exactmd.testing.multinomial`; its measured false-alarm rate and power are in
``docs/oracle.md``. The p-values use scipy (imported when a test runs).

Examples
--------
>>> import numpy as np
>>> from exactmd.denoisers.exact import exact_denoiser
>>> from exactmd.testing.examples import factorized_sample
>>> p = np.array([[0.4, 0.1], [0.1, 0.4]])
>>> x = factorized_sample(exact_denoiser(p), p.shape, [1, 1], 2000, seed=0)
>>> assert_sampler_matches(x, p, [1, 1]).level
'joint'
"""

from __future__ import annotations

from exactmd.errors import NoPowerError
from exactmd.testing.asserts import (
    assert_denoiser_matches,
    assert_profile_close,
    assert_sampler_matches,
    assert_samples_match,
)
from exactmd.testing.denoiser_checks import (
    DenoiserReport,
    LearningErrorBreakdown,
    denoiser_report,
    learning_error_breakdown,
)
from exactmd.testing.goodness import GoodnessOfFit, goodness_of_fit
from exactmd.testing.power import samples_needed

__all__ = [
    "assert_sampler_matches",
    "assert_samples_match",
    "assert_denoiser_matches",
    "assert_profile_close",
    "denoiser_report",
    "learning_error_breakdown",
    "goodness_of_fit",
    "samples_needed",
    "NoPowerError",
    "GoodnessOfFit",
    "DenoiserReport",
    "LearningErrorBreakdown",
]
