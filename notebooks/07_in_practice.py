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
# # In practice, with the truth
#
# The theory's practical step: the law $\pi$ is unknown, so a denoiser estimates the
# information profile $f(i) = \mathbb{E}[\log \pi(x_{\sigma(i+1)} \mid x_{\sigma(\le i)})]$
# from samples, and the schedule follows from the estimate $\hat f$ (by the DP, or by the
# rule $s_{k+1} \propto 1/\sqrt{\Delta \hat f(a_k)}$). How far is $\hat f$ from $f$, and
# what does its schedule really gain? For laws with exact conditionals at any $N$
# (Markov chains, HMMs) exactmd can say so exactly at $N = 1024$:
#
# 1. $\hat f$ from 100 and from 1000 samples at $N = 1024$, with its 95% intervals, against
#    the exact $f$; the optimal schedule from $\hat f$ and from $f$;
# 2. the realised gain $E_{\mathrm{fact}}(\text{schedule}) / E_{\mathrm{fact}}(\text{constant})$,
#    exact by the exchangeable identity, against the predicted
#    $(\int\sqrt{\bar f'})^2 / \int \bar f'$; for an HMM, by Monte Carlo with the exact block
#    conditionals;
# 3. a denoiser **trained here** (a small MDLM-style transformer), where
#    $\mathrm{KL} \le E_{\mathrm{learn}} + E_{\mathrm{fact}}$ is measured term by term.
#
# The settings here are small, so that the notebook runs in about a minute; the full study
# (10 seeds, $K$ up to 256, a network at $N = 12$) is in `docs/practice/`, made by
# `python docs/practice/run_chains.py` and `python docs/practice/run_learned.py`.

# %%
# %matplotlib inline
import time

import matplotlib.pyplot as plt
import numpy as np

from exactmd.models import from_spec, hmm, markov_chain
from exactmd.sampler.practice import practice_study

start = time.perf_counter()

# %% [markdown]
# ## 1. $\hat f$ at $N = 1024$ from 100 and from 1000 samples
#
# A 4-state Markov chain, held by its parameters (no $4^{1024}$ table). Its exact $f$ comes
# from `exactmd.markov_profile`; $\hat f$ from `exactmd.estimate_profile` with the exact
# denoiser on a grid of ranks, with standard errors. `practice_study` does the rest:
# it fits $\hat f$ by a non-decreasing cubic $\tilde f$ (the $\sqrt{\ }$ rule needs a
# monotone profile), computes the schedules of $\tilde f$ and of $f$, and judges each by
# its exact $E_{\mathrm{fact}}$.

# %%
N = 1024
chain = markov_chain(
    np.full(4, 0.25),
    [
        [0.85, 0.05, 0.05, 0.05],
        [0.10, 0.70, 0.10, 0.10],
        [0.05, 0.05, 0.60, 0.30],
        [0.20, 0.00, 0.20, 0.60],
    ],
    N,
    table=False,
)
study = practice_study(chain, (100, 1000), (16, 64), grid=32, seed=0)
f = study.profile
print(chain, f"D = f(N-1) - f(0) = {f[-1] - f[0]:.4f} nats")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
x = np.arange(N) / N
for ax, m in zip(axes, (100, 1000)):
    est = study.estimates[m]
    low, high = est.interval(0.95)
    ax.plot(x, f, "k-", lw=1.5, label="exact f")
    ax.errorbar(
        est.ranks / N,
        est.profile,
        yerr=[est.profile - low, high - est.profile],
        fmt="o",
        ms=3,
        label="f̂ ± 95%",
    )
    ax.plot(x, study.smoothed[m], "C1-", lw=1, label="f̃ (monotone cubic fit)")
    cover = np.mean((low <= f[est.ranks]) & (f[est.ranks] <= high))
    ax.set_title(f"{m} samples: {cover:.0%} of the intervals cover f")
    ax.set_xlabel("i / N")
    ax.legend(fontsize=8)
axes[0].set_ylabel("f(i) (nats)")
plt.tight_layout()
plt.show()

# %% [markdown]
# The optimal schedule at $K = 64$: the DP on the exact $f$ against the DP on $\tilde f$.
# $f$ is concave here (it rises fastest at the start), so the optimal sizes grow.

# %%
K = 64
rows = {(r.n_samples, r.steps): r for r in study.rows}
fig, ax = plt.subplots(figsize=(6, 4))
ax.step(range(K), rows[100, K].sizes["optimal (f)"], where="post", color="k", label="from f")
for m in (100, 1000):
    ax.step(range(K), rows[m, K].sizes["optimal (f̂)"], where="post", label=f"from f̂, M = {m}")
ax.axhline(N / K, color="grey", ls=":", label="constant")
ax.set_xlabel("step k")
ax.set_ylabel("size")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 2. The realised gain
#
# Every $E_{\mathrm{fact}}$ below is exact (the identity
# $E_{\mathrm{fact}} = \sum_i f(i) - \sum_k s_{k+1} f(a_k)$ with the exact $f$), whatever
# profile the schedule was computed from. The gain of the exact optimum is the most any
# schedule can realise; the predicted gain is the theory's value for $N/K \to \infty$.

# %%
print(study.table())
for r in study.rows:
    # no schedule beats the DP on the exact f, whatever f̂ suggested
    assert r.errors["optimal (f)"] <= min(r.errors.values()) + 1e-12
    assert r.gains["optimal (f)"] <= 1.0

# %% [markdown]
# The fit matters. The local alternative, $\hat f$ made monotone by isotonic regression,
# has flat stretches where $\Delta\tilde f = 0$: both rules then reveal large blocks there,
# and the "optimal" schedule of the estimate is worse than the constant one (gain > 1).

# %%
naive = practice_study(chain, (100,), (64,), grid=32, seed=0, smooth="isotonic")
r = naive.rows[0]
print(f"isotonic f̃, M = 100, K = 64: realised gain of its DP schedule {r.gains['optimal (f̂)']:.3f}")

# %% [markdown]
# An HMM's observations have no closed-form $f$. There $E_{\mathrm{fact}}$ is estimated by
# Monte Carlo: for a draw $x \sim \pi$ and an order σ, the step terms
# $\log\pi(x_{z_k} \mid x_{S_k}) - \sum_{i\in z_k}\log\pi(x_i \mid x_{S_k})$ have mean
# $\mathbb{E}\,\mathrm{TC}(z_k \mid X_{S_k})$, and the block conditional is a ratio of two
# forward-pass likelihoods. All schedules share the draws, so their gains have small
# standard errors.

# %%
law = hmm(
    np.full(3, 1 / 3),
    [[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.05, 0.05, 0.9]],
    [[0.7, 0.1, 0.1, 0.1], [0.1, 0.7, 0.1, 0.1], [0.1, 0.1, 0.4, 0.4]],
    N,
    table=False,
)
hmm_study = practice_study(law, (100,), (16,), grid=16, seed=0, mc_samples=32)
print(hmm_study.table())
assert all(se > 0 for se in hmm_study.rows[0].stderr.values())

# %% [markdown]
# ## 3. A denoiser trained here
#
# A small MDLM-style transformer (2 layers, width 64), trained from a seed on exact draws of
# an Ising cycle of $N = 8$ bits (`exactmd.testing.learned.train_denoiser`). Nothing is
# downloaded: the network exists once trained. It is then tabulated on every token pattern
# and analysed exactly: $E_{\mathrm{learn}}$ with its per-step breakdown, $E_{\mathrm{fact}}$
# and $\mathrm{KL}(\pi \| p_{\mathrm{alg}})$ for the constant, cosine and optimal
# schedules, $\hat f$ estimated with the network (its expectation is $f - g$, $g(i)$ the
# network's mean KL at $i$ revealed positions), and LLaDA's low-confidence against random
# remasking.

# %%
from exactmd.testing.learned import learned_study, train_denoiser

p = from_spec("ising:n=8,coupling=0.5,graph=cycle")
# one torch thread: on a small shared CPU, two threads of tiny matrix products mostly wait
run = train_denoiser(
    p, epochs=8, n_train=4000, batch_size=128, seed=0, checkpoints=(1, 3), threads=1
)
print(f"trained in {run.seconds:.1f} s; loss per epoch {np.round(run.history, 4).tolist()}")
learned = learned_study(run, (2, 4), n_samples=500, n_orders=2, seed=0)

# %%
print("schedule   K  E_learn   E_fact    bound     KL        holds")
for (name, k), rep in learned.bounds.items():
    print(
        f"{name:9s} {k:2d}  {rep.learning_error:.5f}  {rep.factorization_error:.5f}  "
        f"{rep.bound:.5f}  {rep.kl:.5f}  {rep.holds}"
    )
    assert rep.holds
for k in (2, 4):
    print(f"E_learn per step, constant, K = {k}:", np.round(learned.breakdown["constant", k], 5))
for k, row in learned.samplers.items():
    print(
        f"LLaDA, K = {k}: KL low_confidence {row['low_confidence']:.4f}, random {row['random']:.4f}"
    )
for k, row in learned.from_estimate.items():
    print(
        f"K = {k}: schedule of f {row['f'][0]} (KL {row['f'][2]:.4f}), of f̂ {row['f̂'][0]} "
        f"(KL {row['f̂'][2]:.4f})"
    )

# %%
epochs = sorted(learned.checkpoints)
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
ax = axes[0]
for key in ("E_learn (K=N)", "E_learn (constant)", "KL (constant)"):
    ax.plot(epochs, [learned.checkpoints[e][key] for e in epochs], "o-", label=key)
ax.axhline(
    learned.checkpoints[epochs[0]]["E_fact (constant)"],
    color="grey",
    ls="--",
    label="E_fact (constant)",
)
ax.set_xlabel("epoch")
ax.set_ylabel("nats")
ax.set_title(f"Training checkpoints (K = {learned.trade_off_steps})")
ax.legend(fontsize=8)
ax = axes[1]
i = np.arange(p.n)
ax.plot(i, learned.profile, "k-", label="exact f")
ax.plot(i, learned.expected_estimate, "C1--", label="f − g (the network's profile)")
ax.errorbar(
    i,
    learned.estimate,
    yerr=1.96 * learned.estimate_stderr,
    fmt="o",
    ms=3,
    label="f̂ with the network",
)
ax.set_xlabel("i")
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()
first, last = learned.checkpoints[epochs[0]], learned.checkpoints[epochs[-1]]
assert last["E_learn (K=N)"] < first["E_learn (K=N)"]

# %%
print(f"notebook time: {time.perf_counter() - start:.0f} s")
