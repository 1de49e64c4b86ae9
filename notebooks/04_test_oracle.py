# ---
# jupyter:
#   jupytext:
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # exactmd as a test oracle for your sampler and your denoiser
#
# A parallel sampler is **not** supposed to sample from $\pi$: with $K < N$ steps its
# output law is $p_{\mathrm{alg}} \ne \pi$. So "compare the samples with $\pi$" is the
# wrong test, and without the exact $p_{\mathrm{alg}}$ most bugs (a stale context, tokens
# of a step conditioned on each other, a reversed schedule) are invisible.
# `exactmd.testing` gives pytest-ready assertions:
#
# * `assert_sampler_matches(samples, p, schedule, denoiser=None)` — a goodness-of-fit test
#   of the samples against the **exact** $p_{\mathrm{alg}}$ of that schedule and denoiser;
# * `assert_denoiser_matches(denoiser, p)` — compares a denoiser with the exact conditionals
#   on every context of positive probability;
# * `assert_profile_close(estimate, p, ...)` — for estimators of the profile $f$;
# * hypothesis strategies (`exactmd.testing.strategies`) to draw random laws and schedules.
#
# On failure each raises an `AssertionError` whose message says what disagrees. Below we
# write a small sampler and a small denoiser the way a user would, show that the correct
# ones pass, and plant bugs that the oracle catches.

# %%
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import numpy as np

import exactmd
from exactmd.denoisers.exact import exact_denoiser, perturbed_denoiser
from exactmd.models.zoo import hmm
from exactmd.testing.asserts import (
    assert_denoiser_matches,
    assert_sampler_matches,
    assert_samples_match,
)
from exactmd.testing.goodness import goodness_of_fit

pi = hmm([0.5, 0.5], [[0.8, 0.2], [0.2, 0.8]], [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]], 5)
N, q = pi.n, pi.q
print(pi, "-", pi.size, "outcomes")


def expect_failure(check, *args, **kwargs):
    # run an exactmd.testing assertion that SHOULD fail; show its message
    try:
        check(*args, **kwargs)
    except AssertionError as err:
        print("AssertionError:", err)
        return err
    raise RuntimeError(f"{check.__name__} did not catch the planted bug")


# %% [markdown]
# ## 1. A sampler under test
#
# A plain numpy parallel sampler: start fully masked (the mask token id is $q$, the
# largest alphabet size, as in MDLM/LLaDA), pick a uniform random order, and at each step
# draw the next $s_k$ tokens independently from the denoiser's conditionals given the
# tokens revealed **before the step**. The flag `bug=True` plants a subtle bug: it calls
# the denoiser again after **each** token, so tokens of the same step see each other.


# %%
def my_sampler(denoiser, shape, sizes, m, seed=0, bug=False):
    rng = np.random.default_rng(seed)
    n, mask = len(shape), max(shape)
    x = np.full((m, n), mask)
    order = rng.permuted(np.tile(np.arange(n), (m, 1)), axis=1)
    rows, start = np.arange(m), 0
    for s in sizes:
        probs = denoiser(x)  # (m, n, q): one call per step
        for j in range(start, start + s):
            i = order[:, j]
            cdf = np.cumsum(probs[rows, i], axis=1)
            x[rows, i] = (rng.random(m)[:, None] > cdf).sum(axis=1)
            if bug:
                probs = denoiser(x)  # BUG: conditions on this step's tokens
        start += s
    return x


sizes = [3, 1, 1]
den = exact_denoiser(pi)
good = my_sampler(den, pi.shape, sizes, 4000, seed=1)
result = assert_sampler_matches(good, pi, sizes)
print(
    f"correct sampler passes: p-value {result.pvalue:.3f} ({result.level} test, "
    f"M = {result.samples})"
)

# %% [markdown]
# The samples of the correct sampler are **not** samples of $\pi$, and the oracle knows:
# testing them against $\pi$ fails, as it should.

# %%
err = expect_failure(assert_samples_match, good, pi.numpy())
print("\nKL(π ‖ p_alg) =", round(exactmd.kl(pi, exactmd.output_distribution(pi, sizes)), 4))

# %% [markdown]
# Now the planted bug. Its law is closer to $\pi$ than $p_{\mathrm{alg}}$ (it is "too
# good"), so no test against $\pi$ would find it; the test against $p_{\mathrm{alg}}$
# does, and its message lists the outcomes that are most over- and under-represented.

# %%
buggy = my_sampler(den, pi.shape, sizes, 4000, seed=1, bug=True)
err = expect_failure(assert_sampler_matches, buggy, pi, sizes)
assert "inconsistent with the exact law" in str(err)

# %% [markdown]
# How many samples does the oracle need? The p-value of the correct sampler stays
# uniform whatever $M$, that of the buggy one collapses as $M$ grows. (Seeds are fixed, so
# the notebook is deterministic.)

# %%
law = exactmd.output_distribution(pi, sizes)
Ms = [250, 500, 1000, 2000, 4000, 8000]
pvals = {"correct": [], "bug: step conditioned on itself": []}
for M in Ms:
    for name, bug in (("correct", False), ("bug: step conditioned on itself", True)):
        xs = my_sampler(den, pi.shape, sizes, M, seed=M, bug=bug)
        pvals[name].append(goodness_of_fit(xs, law).pvalue)
assert pvals["bug: step conditioned on itself"][-1] < 1e-3
assert min(pvals["correct"]) > 1e-3

fig, ax = plt.subplots(figsize=(6, 3.8))
for name, pv in pvals.items():
    ax.plot(Ms, np.maximum(pv, 1e-300), "o-", label=name)
ax.axhline(1e-3, color="k", ls=":", label="alpha = 1e-3")
ax.set(
    xscale="log",
    yscale="log",
    xlabel="samples M",
    ylabel="p-value",
    title="power of the exact oracle",
)
ax.set_xticks(Ms, [str(m) for m in Ms])
ax.set_xticks([], minor=True)
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# `exactmd.testing.examples.factorized_sample` is a reference sampler with more planted
# bugs (`"stale_context"`: the denoiser does not see the tokens of the previous step;
# `"one_at_a_time"`; `"reversed_schedule"`). A stale context is caught as well:

# %%
from exactmd.testing.examples import factorized_sample

x = factorized_sample(den, pi.shape, sizes, 4000, seed=0)
assert_sampler_matches(x, pi, sizes)
x_stale = factorized_sample(den, pi.shape, sizes, 4000, seed=0, bug="stale_context")
err = expect_failure(assert_sampler_matches, x_stale, pi, sizes)

# %% [markdown]
# ### How many samples does a bug need?
#
# M = 4000 catches the planted bugs above; it does **not** catch every bug. The sample
# test sees a bug only through the law it produces, and a slightly wrong denoiser moves
# $p_{\mathrm{alg}}$ very little. `samples_needed(law, alternative, alpha, power)` gives
# the M at which `assert_samples_match` catches `alternative` with probability `power`
# (noncentral chi-square approximation, on the test's own tables and pooling;
# `exactmd.testing.power.power_at` is the power curve behind it). A test with too few
# samples to reject at all is refused (`NoPowerError`), never passed.

# %%
from exactmd.testing import NoPowerError, samples_needed
from exactmd.testing.power import power_at


def p_alg(denoiser=None, schedule=sizes):
    return np.asarray(exactmd.output_distribution(pi, schedule, denoiser))


bugs = {
    "denoiser tempered, T = 1.05": p_alg(perturbed_denoiser(pi, temperature=1.05)),
    "denoiser tempered, T = 1.3": p_alg(perturbed_denoiser(pi, temperature=1.3)),
    "denoiser noise 0.1": p_alg(perturbed_denoiser(pi, noise=0.1, seed=0)),
    "wrong schedule [1, 3, 1]": p_alg(schedule=[1, 3, 1]),
}
Ms = np.unique(np.geomspace(50, 3e5, 30).astype(int))
fig, ax = plt.subplots(figsize=(6, 3.8))
for name, alt in bugs.items():
    needed = samples_needed(law, alt, alpha=1e-3, power=0.9)
    print(f"{name:28} needs M = {needed:>7,} samples (alpha 1e-3, power 0.9)")
    ax.plot(Ms, [power_at(law, alt, int(m), 1e-3) for m in Ms], label=name)
ax.axvline(4000, color="k", ls=":", label="M = 4000")
ax.set(
    xscale="log",
    xlabel="samples M",
    ylabel="power at alpha = 1e-3",
    title="power of the sample test against typical bugs",
)
ax.legend(fontsize=8)
plt.show()

try:  # a single sample can never fail at alpha = 1e-3 here: refused, not passed
    assert_sampler_matches(good[:1], pi, sizes)
    raise RuntimeError("a test that cannot reject was run")
except NoPowerError as err:
    print("NoPowerError:", err)

# %% [markdown]
# When you have the denoiser, test it directly: `assert_denoiser_matches` compares it with
# the exact conditionals on every context, with no sampling, and catches the $T = 1.05$
# denoiser at once, where the sample test needs ~$10^5$ samples.

# %%
err = expect_failure(assert_denoiser_matches, perturbed_denoiser(pi, temperature=1.05), pi)


# %% [markdown]
# ## 2. A denoiser under test
#
# A denoiser maps tokens `(B, N)` (mask id $q$) to probabilities `(B, N, q)`. Here is one
# written from the joint table by brute-force marginalisation, and a buggy variant with a
# **limited context window**: it ignores revealed tokens more than two positions away (a
# typical shortcut of a cheap model). `assert_denoiser_matches` checks every context of
# positive probability — here all $4^5 - 3^5 = 781$ partially masked sequences.


# %%
def make_denoiser(table, window=None):
    table = np.asarray(table)
    n, qmax = table.ndim, max(table.shape)

    def denoiser(tokens):
        tokens = np.asarray(tokens)
        out = np.zeros((len(tokens), n, qmax))
        for b, row in enumerate(tokens):
            for i in np.flatnonzero(row == qmax):
                seen = [
                    j
                    for j in range(n)
                    if row[j] != qmax and (window is None or abs(j - i) <= window)
                ]
                sub = table[tuple(row[j] if j in seen else slice(None) for j in range(n))]
                keep = [j for j in range(n) if j not in seen]
                m = sub.sum(axis=tuple(k for k, j in enumerate(keep) if j != i))
                out[b, i, : table.shape[i]] = m / m.sum()
        return out

    return denoiser


mine = make_denoiser(pi.numpy())
report = assert_denoiser_matches(mine, pi)
print(
    f"correct denoiser passes: {report.contexts} contexts, max |error| = {report.max_abs_error:.2e}"
)
assert report.exhaustive and report.max_abs_error < 1e-12

# %%
windowed = make_denoiser(pi.numpy(), window=2)
err = expect_failure(assert_denoiser_matches, windowed, pi)
assert "differs from the exact conditionals" in str(err)

# %% [markdown]
# An imperfect denoiser is not necessarily a bug: what matters is how much it costs. The
# exact learning error $E_{\mathrm{learn}}$, step by step
# (`exactmd.testing.denoiser_checks.learning_error_breakdown`), and the theorem
# $\mathrm{KL}(\pi\,\|\,p_{\mathrm{alg}}) \le E_{\mathrm{learn}} + E_{\mathrm{fact}}$ with
# each denoiser:

# %%
from exactmd.testing.denoiser_checks import learning_error_breakdown

sched = sizes  # [3, 1, 1], as above
candidates = {
    "window = 2": windowed,
    "window = 1": make_denoiser(pi.numpy(), window=1),
    "5% noise": perturbed_denoiser(pi, noise=0.05, seed=0),
}
e_fact = exactmd.factorization_error(pi, sched)
breakdowns = {}
for name, d in candidates.items():
    b = learning_error_breakdown(pi, sched, d)
    e_learn = exactmd.learning_error(pi, sched, d)
    kl = exactmd.kl(pi, exactmd.output_distribution(pi, sched, d))
    assert math.isclose(b.total, e_learn, rel_tol=1e-9)
    assert math.isclose(b.per_step.sum(), b.total, rel_tol=1e-9)
    assert kl <= e_learn + e_fact + 1e-12
    breakdowns[name] = b.per_step
    print(
        f"{name:11} E_learn = {e_learn:.5f}  KL(π‖p_alg) = {kl:.5f} <= "
        f"E_learn + E_fact = {e_learn + e_fact:.5f}"
    )

fig, ax = plt.subplots(figsize=(6, 3.6))
width = 0.27
for j, (name, per_step) in enumerate(breakdowns.items()):
    ax.bar(np.arange(1, len(sched) + 1) + (j - 1) * width, per_step, width, label=name)
ax.set(
    xlabel=f"step k of the schedule {sched}",
    ylabel="E_learn of the step [nats]",
    title="where each denoiser loses information",
)
ax.legend()
plt.show()

# %% [markdown]
# At the first step nothing is revealed, so the windowed denoisers are exact there; they
# pay once distant tokens are revealed. The noisy one pays at every step.
#
# ## 3. Property tests with hypothesis
#
# `exactmd.testing.strategies.models()` draws small random laws (with exact zeros, mixed
# alphabets, the classic and zoo laws), so a denoiser implementation can be tested on many
# laws at once. (`database=None` keeps hypothesis from writing files.)

# %%
from hypothesis import given, settings

from exactmd.testing.strategies import models

checked = []


@settings(max_examples=25, deadline=None, database=None)
@given(models(max_n=3))
def test_my_denoiser_is_exact(p):
    assert_denoiser_matches(make_denoiser(p), p)
    checked.append(np.shape(p))


test_my_denoiser_is_exact()
print(
    f"make_denoiser is exact on {len(checked)} random laws, e.g. shapes {sorted(set(checked))[:6]}"
)
assert len(checked) >= 10

# %% [markdown]
# ## 4. Samplers written the way public code writes them
#
# `exactmd.testing.examples` holds two loops written like the public masked-diffusion code:
# LLaDA's (`llada_generate`: at each step draw every masked token, then keep the `k` most
# confident, or `k` random ones) and MDLM's (`mdlm_generate`: on a time grid, each masked
# token is revealed with probability $(t-s)/t$). They call a `torch.nn.Module` that returns
# logits with the mask id $q$, exactly as they would call a trained model;
# `ExactDenoiserModule` is π's exact denoiser in that form. exactmd then says what each
# loop must produce:
#
# * LLaDA with random remasking is the exchangeable sampler with LLaDA's step sizes;
# * MDLM's loop is `RandomRevealSchedule` on the same grid;
# * LLaDA's low-confidence remasking chooses positions *after* seeing its proposals, so it
#   is not an exchangeable planner: the oracle tells it apart from the exchangeable law,
#   and `low_confidence_law` enumerates its own exact law.

# %%
import torch

from exactmd.denoisers.torch_module import ExactDenoiserModule
from exactmd.schedules.kinds import RandomRevealSchedule
from exactmd.testing.asserts import assert_samples_match
from exactmd.testing.examples import (
    llada_generate,
    llada_step_sizes,
    low_confidence_law,
    mdlm_generate,
)

rng = np.random.default_rng(11)
p_small = rng.dirichlet(np.ones(12)).reshape(2, 3, 2)
sizes = list(llada_step_sizes(3, 2))
g = torch.Generator().manual_seed(0)

llada = ExactDenoiserModule(p_small, style="llada")  # mask id 3 = max q_i
x = llada_generate(llada, 3, 2, llada.mask_id, batch=3000, remasking="random", generator=g)
fit = assert_sampler_matches(x, p_small, sizes)
print(f"LLaDA, random remasking vs exchangeable p_alg: p-value {fit.pvalue:.3f}")

mdlm = ExactDenoiserModule(p_small)  # returns the logits tensor
grid = (1.0, 0.5, 0.0)
x = mdlm_generate(mdlm, 3, grid, mdlm.mask_id, batch=3000, generator=g)
fit = assert_sampler_matches(x, p_small, RandomRevealSchedule(grid))
print(f"MDLM Bernoulli reveal vs RandomRevealSchedule p_alg: p-value {fit.pvalue:.3f}")

x = llada_generate(llada, 3, 2, llada.mask_id, batch=3000, generator=g)
print("low-confidence remasking against the exchangeable law:")
expect_failure(assert_sampler_matches, x, p_small, sizes)
fit = assert_samples_match(x, low_confidence_law(p_small, sizes))
print(f"low-confidence remasking vs its own exact law: p-value {fit.pvalue:.3f}")
