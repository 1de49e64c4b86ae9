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
# # exactmd quickstart: a model, its measures, its sampler law
#
# A **masked diffusion** model generates a sequence of $N$ tokens by starting from a fully
# masked sequence and unmasking it in $K$ steps. At each step a *denoiser* gives, for every
# masked position $i$, a probability over its values given the tokens revealed so far, and
# the sampler draws the $s_k$ new tokens of that step **independently** from these
# conditionals. With $K = N$ (one token per step) and an exact denoiser this is exact
# ancestral sampling from the target law $\pi$. With $K < N$ it is faster but wrong: tokens
# revealed together ignore each other's values. That error is the **factorization error**
# $E_{\mathrm{fact}}$.
#
# `exactmd` takes a small law $\pi$ (up to ~20 variables), enumerates it exactly, and computes
# every quantity of the theory (Lavenant & Zanella, arXiv 2510.25544) **exactly**: entropies,
# correlations, the information profile $f$, $E_{\mathrm{fact}}$, the exact law
# $p_{\mathrm{alg}}$ of the sampler's output and $\mathrm{KL}(\pi\,\|\,p_{\mathrm{alg}})$.
# All quantities are in **nats** (natural logarithms).

# %%
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import numpy as np

import exactmd
from exactmd.models.zoo import markov_chain, parity
from exactmd.schedules.families import linear

LOG2 = math.log(2)

# %% [markdown]
# ## 1. A model
#
# Our model is a *copy chain*: $N = 8$ binary tokens, the first a fair bit, and each next
# token a copy of the previous one with probability $0.9$ (a flip with probability $0.1$).
# It comes from the model zoo, `exactmd.models.zoo`, as a validated `Distribution`
# holding the full joint table of $2^8 = 256$ probabilities (axis $i$ is token $i$).

# %%
N, stay = 8, 0.9
P = np.array([[stay, 1 - stay], [1 - stay, stay]])
pi = markov_chain([0.5, 0.5], P, N)
table = pi.numpy()
print(pi)
print("outcomes:", table.size, "  total probability:", table.sum())
print("P(all tokens 0) =", table[(0,) * N], " = 0.5 * 0.9**7 =", 0.5 * stay ** (N - 1))
assert math.isclose(table[(0,) * N], 0.5 * stay ** (N - 1), rel_tol=1e-12)

# %% [markdown]
# ## 2. Its information measures
#
# * $H$ — the joint entropy: how many nats of randomness the sequence holds.
# * $\mathrm{TC} = \sum_i H(X_i) - H$ — **total correlation**: what is lost when every
#   token is drawn from its own marginal, ignoring all others. It is the error of the
#   one-step sampler ($K = 1$).
# * $\mathrm{DTC} = H - \sum_i H(X_i \mid X_{-i})$ — **dual total correlation**.
# * $D(\pi) = (\mathrm{TC} + \mathrm{DTC})/N = \frac1N \sum_i I(X_i; X_{-i})$ — the average
#   information a token shares with the rest; $0 \le D \le \log q$.
# * The **information profile** $f(i)$, $i = 0..N-1$: reveal the tokens in a uniformly random
#   order; $f(i)$ is the mean log-probability of the $(i+1)$-th token given the $i$ before it.
#   It is non-decreasing (more context, better prediction), rises by exactly $D$ from
#   $f(0)$ to $f(N-1)$, and sums to $-H$.

# %%
H = exactmd.entropy(pi)
TC = exactmd.total_correlation(pi)
DTC = exactmd.dual_total_correlation(pi)
D = exactmd.complexity(pi)
f = exactmd.information_profile(pi)
print(f"H    = {H:.6f} nats   (8 fair bits would be {N * LOG2:.6f})")
print(f"TC   = {TC:.6f}")
print(f"DTC  = {DTC:.6f}")
print(f"D(π) = {D:.6f}   (at most log 2 = {LOG2:.6f})")
print("f    =", np.round(f, 4))


# %% [markdown]
# These numbers are not just printed: the cell below checks them against closed forms
# that we derive by hand for this chain, and against the identities of the theory.
#
# * Each token after the first is an independent flip, so $H = \log 2 + (N-1)\,h(0.9)$ with
#   $h$ the binary entropy; every marginal is a fair bit, so $\mathrm{TC} = N\log 2 - H$.
# * Given both neighbours $a, b$, a middle token is uniform when $a \ne b$ and equal to $a$
#   with probability $0.9^2/(0.9^2 + 0.1^2)$ when $a = b$; an end token given its neighbour
#   has entropy $h(0.9)$. This gives $\mathrm{DTC}$ and $f(N-1) = -\frac1N\sum_i
#   H(X_i \mid X_{-i})$.


# %%
def h2(p):
    return -p * math.log(p) - (1 - p) * math.log(1 - p)


H_exact = LOG2 + (N - 1) * h2(stay)
TC_exact = N * LOG2 - H_exact
same = stay**2 + (1 - stay) ** 2  # P(both neighbours are equal)
H_mid = same * h2(stay**2 / same) + (1 - same) * LOG2  # H(X_i | X_{i-1}, X_{i+1})
cond_sum = 2 * h2(stay) + (N - 2) * H_mid  # Σ_i H(X_i | X_{-i})
DTC_exact = H_exact - cond_sum

assert math.isclose(H, H_exact, rel_tol=1e-12)
assert math.isclose(TC, TC_exact, rel_tol=1e-12)
assert math.isclose(DTC, DTC_exact, rel_tol=1e-12)
# identities of the theory
assert math.isclose(D, (TC + DTC) / N, rel_tol=1e-12)
assert 0 <= D <= LOG2
assert np.all(np.diff(f) >= -1e-12), "f must be non-decreasing"
assert math.isclose(f[0], -LOG2, rel_tol=1e-12)  # no context: a fair bit
assert math.isclose(f[-1], -cond_sum / N, rel_tol=1e-12)  # full context
assert math.isclose(f[-1] - f[0], D, rel_tol=1e-10)
assert math.isclose(f.sum(), -H, rel_tol=1e-12)
print("all closed forms and identities hold")

# %%
fig, ax = plt.subplots(figsize=(6.5, 3.6))
ax.plot(range(N), f, "o-", label="f(i)")
ax.axhline(f[0], color="grey", ls=":", lw=1)
ax.axhline(f[-1], color="grey", ls=":", lw=1)
ax.annotate(
    "", xy=(N - 1.3, f[-1]), xytext=(N - 1.3, f[0]), arrowprops=dict(arrowstyle="<->", color="C3")
)
ax.text(N - 1.2, (f[0] + f[-1]) / 2, f"D(π) = {D:.3f}", color="C3", va="center")
ax.set(
    xlabel="i = number of tokens already revealed",
    ylabel="f(i)  [nats]",
    title="information profile of the copy chain",
)
ax.set_xlim(-0.3, N + 0.2)
plt.show()

# %% [markdown]
# A known answer from the literature: the XOR of two fair bits ($N = 3$, the third token is
# the XOR of the first two) has $\mathrm{TC} = \log 2$, $\mathrm{DTC} = 2\log 2$,
# $D = \log 2$ and $f = (-\log 2, -\log 2, 0)$: any two tokens look independent, the third
# is then determined.

# %%
xor = parity(3)
assert math.isclose(exactmd.total_correlation(xor), LOG2, rel_tol=1e-12)
assert math.isclose(exactmd.dual_total_correlation(xor), 2 * LOG2, rel_tol=1e-12)
assert math.isclose(exactmd.complexity(xor), LOG2, rel_tol=1e-12)
np.testing.assert_allclose(exactmd.information_profile(xor), [-LOG2, -LOG2, 0.0], atol=1e-12)
print("XOR: f / log 2 =", np.round(exactmd.information_profile(xor) / LOG2, 12))

# %% [markdown]
# ## 3. The sampler and its exact output law
#
# A **schedule** gives the step sizes $s_1..s_K$ (summing to $N$). With a list of sizes the
# positions revealed at each step are chosen uniformly at random among those still masked
# (an *exchangeable* schedule, as in MaskGIT or LLaDA with random remasking).
#
# `exactmd.output_distribution(pi, sizes)` returns $p_{\mathrm{alg}}$, the **exact** law of
# the sampler's output when the denoiser is $\pi$'s exact conditionals: a table of the same
# shape as $\pi$, computed by a recursion over the revealed sets (no sampling, no sum over
# orders). The theory says
# $$\mathrm{KL}(\pi\,\|\,p_{\mathrm{alg}}) \le E_{\mathrm{fact}}
# \le (\max_k s_k - 1)\,D(\pi).$$

# %%
sizes = [2, 2, 2, 2]
p_alg = exactmd.output_distribution(pi, sizes)
KL = exactmd.kl(pi, p_alg)
E_fact = exactmd.factorization_error(pi, sizes)
bound = exactmd.schedules.exchangeable_bound(pi, sizes)
print(
    f"sizes {sizes}:  KL(π‖p_alg) = {KL:.6f} <= E_fact = {E_fact:.6f} "
    f"<= (max s - 1) D = {bound:.6f}"
)
assert p_alg.shape == table.shape and math.isclose(p_alg.sum(), 1.0, rel_tol=1e-12)
assert 0 < KL <= E_fact + 1e-12
assert E_fact <= bound + 1e-12

# %%
fig, ax = plt.subplots(figsize=(4.8, 4.5))
ax.loglog(table.ravel(), p_alg.ravel(), ".", alpha=0.6)
lims = [table.min() / 2, 1]
ax.plot(lims, lims, "k:", lw=1, label="p_alg = π")
ax.set(xlabel="π(x)", ylabel="p_alg(x)", title=f"256 outcomes, sizes {sizes}")
ax.legend()
plt.show()

# %% [markdown]
# The sampler spreads mass away from the likely, smooth sequences (top right) towards the
# rare, jagged ones (bottom left): tokens revealed in the same step are drawn
# independently, so they disagree more often than the chain allows.
#
# $p_{\mathrm{alg}}$ is computed, not simulated. As a sanity check, we *run* the sampler
# (`exactmd.sampler.montecarlo.sample`, a plain vectorised simulation) and compare its samples
# with $p_{\mathrm{alg}}$ by a goodness-of-fit test (more on this in notebook 04).

# %%
from exactmd.sampler.montecarlo import empirical_law, sample
from exactmd.testing.asserts import assert_sampler_matches

x = sample(pi, sizes, 20_000, seed=0)
fit = assert_sampler_matches(x, pi, sizes)  # raises AssertionError if inconsistent
emp = empirical_law(x, pi.shape)
print(
    f"20000 simulated runs: p-value {fit.pvalue:.3f}; max |empirical − p_alg| = "
    f"{np.abs(emp - p_alg).max():.4f}"
)

# %% [markdown]
# ## 4. Errors against the number of steps
#
# For every $K$ we compare the constant schedule (sizes as equal as possible) with the
# **optimal** schedule, the sizes that minimise $E_{\mathrm{fact}}$ (found exactly by
# dynamic programming on $f$, see notebook 03). The checks: $\mathrm{KL} \le
# E_{\mathrm{fact}} \le (N-K)D$, the optimum beats the constant schedule, $K = 1$ gives
# $E_{\mathrm{fact}} = \mathrm{KL} = \mathrm{TC}$, and $K = N$ gives $p_{\mathrm{alg}} = \pi$.

# %%
rows = {"constant": [], "optimal": []}
for K in range(1, N + 1):
    for name, s in (("constant", linear(N, K).sizes), ("optimal", exactmd.optimal_schedule(pi, K))):
        q_alg = exactmd.output_distribution(pi, s)
        kl_k = exactmd.kl(pi, q_alg)
        ef_k = exactmd.factorization_error(pi, s)
        assert kl_k <= ef_k + 1e-12
        assert ef_k <= exactmd.schedules.worst_case_bound(pi, K) + 1e-12
        rows[name].append((K, tuple(s), kl_k, ef_k))
for (K, s_c, kl_c, e_c), (_, s_o, kl_o, e_o) in zip(rows["constant"], rows["optimal"]):
    assert e_o <= e_c + 1e-12
    print(
        f"K={K}  constant {s_c!s:26} E_fact={e_c:.4f} KL={kl_c:.4f} | "
        f"optimal {s_o!s:26} E_fact={e_o:.4f} KL={kl_o:.4f}"
    )
assert math.isclose(rows["constant"][0][3], TC, rel_tol=1e-12)  # K = 1: E_fact = TC
assert math.isclose(rows["constant"][0][2], TC, rel_tol=1e-12)  # ... and KL = TC
assert abs(rows["constant"][-1][2]) < 1e-12 and rows["constant"][-1][3] == 0.0  # K = N
assert np.allclose(exactmd.output_distribution(pi, [1] * N), table, atol=1e-15)

# %%
Ks = np.arange(1, N + 1)
fig, ax = plt.subplots(figsize=(6.5, 4))
for name, style in (("constant", "s"), ("optimal", "o")):
    ax.plot(Ks, [r[3] for r in rows[name]], style + "-", label=f"E_fact, {name}")
    ax.plot(Ks, [r[2] for r in rows[name]], style + ":", label=f"KL, {name}")
ax.plot(Ks, (N - Ks) * D, "k--", lw=1, label="(N − K) D(π)")
ax.set(
    xlabel="K (steps)",
    ylabel="nats",
    yscale="symlog",
    title="error of the parallel sampler on the copy chain",
)
ax.set_yscale("symlog", linthresh=1e-2)
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 5. Everything at once: the report
#
# `exactmd report` on the command line (or `exactmd.cli.report.build_report` in Python)
# computes all of the above for a model and a list of $K$ and prints it as a table
# (`--json` for machine-readable output, `--plot out.png` for a figure).

# %%
from exactmd.cli.report import build_report, format_report

rep = build_report(pi, steps=[1, 2, 4, 8], name="copy chain, N = 8, stay = 0.9")
print(format_report(rep))
assert math.isclose(rep["total_correlation"], TC, rel_tol=1e-12)
assert np.allclose(rep["profile"], f, atol=1e-12)
for row in rep["steps"]:
    for entry in row["schedules"].values():
        assert entry["kl"] <= entry["factorization_error"] + 1e-12

# %% [markdown]
# Next: notebook **02** checks the theorems (with imperfect denoisers too), **03** the
# optimal schedules and their scaling theory, **04** uses `exactmd` as a test oracle for
# your own sampler and denoiser, and **05** computes profiles at larger $N$ on the torch
# backend (GPU when available).
