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
# # Schedules: the optimum, its shape, and its scaling theory
#
# With $K$ steps, **which** sizes $s_1..s_K$ should a parallel sampler use? For an
# exchangeable schedule (positions chosen at random) the factorization error depends on
# the law only through its information profile $f$:
# $$E_{\mathrm{fact}} = \sum_{i=0}^{N-1} f(i) - \sum_{k=0}^{K-1} s_{k+1}\, f(a_k),
# \qquad a_k = s_1 + \dots + s_k .$$
# Each step pays $\sum_{i=a_k}^{a_{k+1}-1} (f(i) - f(a_k))$: the information the tokens
# of the step would have given each other. So a step should be **large where $f$ is
# flat** and **small where $f$ rises**. This notebook covers:
#
# 1. the exact optimum (dynamic programming) against the constant, cosine (MaskGIT) and
#    log-linear (MDLM's noise, as deterministic sizes $a_k = \lceil N\alpha(k/K)\rceil$)
#    schedules. At this small $N$ the log-linear sizes differ from the constant ones only
#    because the ceiling turns MDLM's tiny $\varepsilon N$ into whole tokens; MDLM's real
#    sampler reveals at random (`RandomRevealSchedule`, notebook 02);
# 2. the convex/concave lemma;
# 3. the scaling limit $N/K \to \infty$ and the gain formula, against exact values;
# 4. the regime $N/K \to \bar s$;
# 5. a Markov chain at $N = 1024$, with its exact profile;
# 6. estimating $f$ from 100 vs 1000 samples, when $\pi$ is unknown.

# %%
# %matplotlib inline
import itertools
import math

import matplotlib.pyplot as plt
import numpy as np

import exactmd
from exactmd.models.zoo import hmm, markov_chain, random_xorsat
from exactmd.schedules.factorization import factorization_error_from_profile as e_fact
from exactmd.schedules.families import cosine, geometric, linear, loglinear
from exactmd.schedules.optimum import optimal_table
from exactmd.schedules.scaling import (
    predicted_error,
    predicted_gain,
    sqrt_rule_schedule,
)

# %% [markdown]
# ## 1. The optimal schedule against the usual ones
#
# The law: the observations of a hidden Markov model ($N = 10$ binary tokens, a sticky
# hidden state seen through 15% noise). Its profile rises fast at first (the first few
# tokens tell a lot about the hidden state) and then flattens.
#
# `exactmd.optimal_schedule(p, K)` solves the minimisation exactly by dynamic programming
# over the boundaries $a_k$; we also check it against a **brute-force** search over all
# $2^{N-1} = 512$ size sequences.

# %%
N = 10
law = hmm([0.5, 0.5], [[0.95, 0.05], [0.05, 0.95]], [[0.85, 0.15], [0.15, 0.85]], N)
f = exactmd.information_profile(law)
D = exactmd.complexity(law)
families = {"constant": linear, "cosine": cosine, "log-linear": loglinear}


def compositions(n):
    for cuts in itertools.product([0, 1], repeat=n - 1):
        b = [0] + [i + 1 for i, c in enumerate(cuts) if c] + [n]
        yield [b[j + 1] - b[j] for j in range(len(b) - 1)]


brute = {}
for s in compositions(N):
    brute[len(s)] = min(brute.get(len(s), np.inf), e_fact(f, s))

table_rows = []
for K in range(1, N + 1):
    opt = exactmd.optimal_schedule(law, K)
    e_opt = exactmd.factorization_error(law, opt)
    assert math.isclose(e_opt, brute[K], rel_tol=1e-12, abs_tol=1e-15)
    errs = {name: e_fact(f, fam(N, K)) for name, fam in families.items()}
    assert all(e_opt <= e + 1e-12 for e in errs.values())
    table_rows.append((K, opt, e_opt, errs))
    print(
        f"K={K:2d} optimal {opt!s:32} E_fact={e_opt:.4f}  "
        + "  ".join(f"{k}={v:.4f}" for k, v in errs.items())
    )

# %% [markdown]
# $E_{\mathrm{fact}}$ bounds the true error $\mathrm{KL}(\pi\,\|\,p_{\mathrm{alg}})$. Does
# the schedule that minimises the bound also reduce the KL? Exactly computed, at $K = 3$
# and $4$:

# %%
for K in (3, 4):
    for name, s in (
        ("optimal", exactmd.optimal_schedule(law, K)),
        ("constant", linear(N, K).sizes),
        ("cosine", cosine(N, K).sizes),
    ):
        kl = exactmd.kl(law, exactmd.output_distribution(law, s))
        assert kl <= exactmd.factorization_error(law, s) + 1e-12
        print(f"K={K} {name:9} sizes {tuple(s)!s:16} KL(π‖p_alg) = {kl:.4f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
Ks = np.arange(1, N)  # K = N gives 0 for every schedule
axes[0].plot(Ks, [r[2] for r in table_rows[:-1]], "o-", lw=2, label="optimal")
for name in families:
    axes[0].plot(Ks, [r[3][name] for r in table_rows[:-1]], ".--", label=name)
axes[0].set(xlabel="K", ylabel="E_fact [nats]", yscale="log", title="HMM, N = 10: E_fact against K")
axes[0].legend()
K = 4
shown = [
    ("optimal", exactmd.optimal_schedule(law, K)),
    *((n, fam(N, K).sizes) for n, fam in families.items()),
]
for row, (_, s) in enumerate(shown):
    a = np.concatenate([[0], np.cumsum(s)])
    axes[1].broken_barh(
        [(a[k], s[k]) for k in range(K)],
        (row - 0.35, 0.7),
        facecolors=[f"C{k}" for k in range(K)],
        edgecolor="white",
    )
axes[1].set_yticks(range(len(shown)), [f"{n} {tuple(s)}" for n, s in shown])
axes[1].invert_yaxis()
ax2 = axes[1].twinx()
ax2.plot(np.arange(N) + 0.5, f, "k.:", label="f(i)")
ax2.set_ylabel("f(i) (dotted)")
axes[1].set(
    xlabel="positions, in the order they are revealed",
    xlim=(0, N),
    title=f"K = {K}: one coloured block per step",
)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 2. The convex/concave lemma
#
# If $f$ is **concave** (information arrives early: increments $\Delta f$ decrease), the
# optimal sizes are **non-decreasing**: small careful steps first, big ones at the end. If
# $f$ is **convex** (information arrives late), they are **non-increasing**.
#
# The HMM above has a concave profile. A planted random 3-XORSAT instance (the uniform law
# on the solutions of 3 random parity constraints on 10 bits) has a convex one: a
# constraint only helps once two of its three bits are known. We check the lemma for
# every $K$ on both laws and on synthetic profiles.

# %%
xorsat = random_xorsat(10, 3, 3, seed=0)
profiles = {
    "HMM (concave)": f,
    "3-XORSAT (convex)": exactmd.information_profile(xorsat),
    "f = (i/N)^3 (convex)": (np.arange(40) / 40) ** 3,
    "f = sqrt(i/N) (concave)": np.sqrt(np.arange(40) / 40),
    "f = log(1 + i) (concave)": np.log1p(np.arange(40.0)),
}
for name, prof in profiles.items():
    second = np.diff(prof, 2)
    convex = bool(np.all(second > 1e-12))
    concave = bool(np.all(second < -1e-12))
    assert convex != concave, name  # each profile is strictly one of the two
    for K in range(2, len(prof)):
        steps = np.diff(optimal_table(prof, K).sizes(K))
        assert np.all(steps <= 0) if convex else np.all(steps >= 0), (name, K)
    print(
        f"{name:26} {'convex' if convex else 'concave'}: sizes "
        f"{'non-increasing' if convex else 'non-decreasing'} for every K; "
        f"K=4: {exactmd.optimal_schedule(prof, 4)}"
    )

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
for name in ("HMM (concave)", "3-XORSAT (convex)"):
    prof = profiles[name]
    axes[0].plot(np.arange(prof.size), (prof - prof[0]) / (prof[-1] - prof[0]), "o-", label=name)
    axes[1].plot(np.arange(1, 6), exactmd.optimal_schedule(prof, 5), "o-", label=name)
axes[0].set(xlabel="i", ylabel="(f(i) − f(0)) / D", title="normalised profiles")
axes[1].set(xlabel="step k", ylabel="optimal size s_k", title="optimal sizes, K = 5")
axes[0].legend()
axes[1].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 3. The scaling limit $N/K \to \infty$ and the gain formula
#
# Write $f(i) \approx f(0) + D\,\bar f(i/N)$ with $\bar f(0) = 0$, $\bar f(1) = 1$, and a
# schedule as a curve $a_k = \lceil N\alpha(k/K) \rceil$. When $N/K \to \infty$,
# $$E_{\mathrm{fact}} \approx \frac{D}{2}\,\frac{N}{K} \int_0^1 \bar f'(\alpha_t)\,
# \dot\alpha_t^2\, dt .$$
# The constant schedule ($\alpha_t = t$) gives $\frac{D}{2}\frac{N}{K}$; the optimal curve
# is $\alpha_t = G^{-1}(t\,G(1))$ with $G(y) = \int_0^y \sqrt{\bar f'}$, it takes steps
# $\propto 1/\sqrt{\Delta f}$ (the *square-root rule*), and the **gain** is
# $$\frac{E_{\mathrm{opt}}}{E_{\mathrm{const}}} \to
# \Big(\int_0^1 \sqrt{\bar f'}\Big)^2 \Big/ \int_0^1 \bar f' \;\le 1 .$$
# For $\bar f(x) = x^p$ this is $4p/(p+1)^2$. Below, exact optima by dynamic programming at
# $N = 1000$ against the formula.

# %%
N_big, Ks = 1000, [5, 10, 20, 40]
gains = {}
for p in (2, 3):
    prof = (np.arange(N_big) / N_big) ** p
    table = optimal_table(prof, max(Ks))
    exact = [table.error(K) / e_fact(prof, linear(N_big, K)) for K in Ks]
    sqrt_rule = [
        e_fact(prof, sqrt_rule_schedule(prof, K)) / e_fact(prof, linear(N_big, K)) for K in Ks
    ]
    formula = 4 * p / (p + 1) ** 2
    assert math.isclose(predicted_gain(prof), formula, rel_tol=2e-3)
    for K, g, g_sqrt in zip(Ks, exact, sqrt_rule):
        assert formula - 0.035 <= g <= formula + 1e-9, (p, K, g)  # approaches from below
        assert g <= g_sqrt + 1e-12  # DP is the optimum
    assert abs(exact[-1] - formula) < abs(exact[0] - formula)  # and gets closer
    gains[p] = (exact, sqrt_rule, formula)
    print(
        f"f̄ = x^{p}: formula {formula:.4f}; exact gain at K={Ks}: "
        f"{np.round(exact, 4)}; square-root rule {np.round(sqrt_rule, 4)}"
    )

# %%
fig, ax = plt.subplots(figsize=(6.5, 4))
for p, (exact, sqrt_rule, formula) in gains.items():
    (line,) = ax.plot(Ks, exact, "o-", label=f"exact optimum, f̄ = x^{p}")
    ax.plot(Ks, sqrt_rule, "x:", color=line.get_color(), label="square-root rule")
    ax.axhline(formula, color=line.get_color(), ls="--", lw=1, label=f"4p/(p+1)² = {formula:.3f}")
ax.set(
    xscale="log",
    xlabel="K (N = 1000)",
    ylabel="E_opt / E_constant",
    title="gain of the optimal schedule vs the scaling formula",
)
ax.set_xticks(Ks, [str(k) for k in Ks])
ax.set_xticks([], minor=True)
ax.legend(fontsize=7)
plt.show()

# %% [markdown]
# ## 4. The regime $N/K \to \bar s$
#
# When $K$ grows with $N$ at a fixed mean step size $\bar s = N/K$, $E_{\mathrm{fact}}$
# stays of order $D$ and the large-$N/K$ formula is off: sizes are integers, and the
# $\bar s$ tokens of a step only pay for $\bar s - 1$ of them. The limit is
# $$E_{\mathrm{fact}} \to \frac{D}{2}\Big(\bar s \int_0^1 \bar f'(\alpha_t)\,
# h_{\bar s}(\dot\alpha_t)\, dt - 1\Big),$$
# where $h_{\bar s}$ interpolates $z \mapsto z^2$ linearly at the points $z = m/\bar s$.
# For the constant schedule with $\bar s = 2.5$ (sizes alternating 3 and 2),
# $h_{2.5}(1) = 1.04$ and the limit is $\frac{D}{2}(2.5 \cdot 1.04 - 1) = 0.8\,D$ whereas
# the large-$N/K$ formula gives $1.25\,D$. We take $\bar f(x) = x^2$ and let $N$ grow.

# %%
cases = {
    "constant, s̄ = 2.5": (2.5, linear, lambda t: t),
    "geometric(3), s̄ = 3": (3, lambda n, k: geometric(n, k, ratio=3.0), lambda t: (3.0**t - 1) / 2),
}
Ns = [60, 240, 960, 3840]
regime = {}
for name, (sbar, family, alpha) in cases.items():
    exact, finite, large = [], [], []
    for n in Ns:
        k = round(n / sbar)
        prof = (np.arange(n) / n) ** 2
        scale = prof[-1] - prof[0]
        exact.append(e_fact(prof, family(n, k)) / scale)
        finite.append(predicted_error(prof, alpha, k, regime="finite") / scale)
        large.append(predicted_error(prof, alpha, k, regime="large") / scale)
    regime[name] = (exact, finite, large)
    rel = [abs(e - p) / e for e, p in zip(exact, finite)]
    print(
        f"{name:20} exact E/D {np.round(exact, 5)}\n{'':20} finite-s̄ theory "
        f"{np.round(finite, 5)}  (rel. gap {np.round(rel, 5)})\n{'':20} "
        f"large-N/K theory {np.round(large, 4)}"
    )
    assert rel[-1] < 2e-3  # the N/K -> s̄ limit holds
    assert abs(large[-1] - exact[-1]) / exact[-1] > 0.2  # the N/K -> ∞ formula is off
exact, finite, _ = regime["constant, s̄ = 2.5"]
assert math.isclose(exact[-1], 0.8, rel_tol=1e-3) and math.isclose(finite[-1], 0.8, rel_tol=1e-3)

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharex=True)
for ax, (name, (exact, finite, large)) in zip(axes, regime.items()):
    ax.plot(Ns, exact, "o-", label="exact E_fact / D")
    ax.plot(Ns, finite, "s--", label="N/K → s̄ theory")
    ax.plot(Ns, large, "^:", label="N/K → ∞ theory")
    ax.set(xscale="log", xlabel="N", ylabel="E_fact / D", title=name)
    ax.set_xticks(Ns, [str(n) for n in Ns])
    ax.set_xticks([], minor=True)
    ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 5. A Markov chain at $N = 1024$
#
# No table of $2^{1024}$ entries is needed: for a Markov chain the entropy of any subset
# depends only on its first element and its gaps, and `exactmd.markov_profile` sums over
# subsets in closed form, giving the exact profile in milliseconds. We first check it
# against full enumeration at $N = 12$, then design schedules at $N = 1024$.

# %%
from exactmd.measures.markov import markov_profile

P = np.array([[0.9, 0.1], [0.1, 0.9]])
small = markov_chain([0.5, 0.5], P, 12)
assert np.allclose(
    markov_profile([0.5, 0.5], P, 12), exactmd.information_profile(small), atol=1e-12
)

N_m = 1024
fm = markov_profile([0.5, 0.5], P, N_m)
D_m = fm[-1] - fm[0]
assert np.all(np.diff(fm) >= -1e-12) and math.isclose(fm[0], -math.log(2), rel_tol=1e-12)
assert np.all(np.diff(fm, 2) <= 1e-12)  # concave: the lemma applies
print(f"N = {N_m}: f(0) = {fm[0]:.6f}, D = {D_m:.6f}, H = {-fm.sum():.4f} nats")

K = 32
tab = optimal_table(fm, K)
opt = tab.sizes(K)
assert np.all(np.diff(opt) >= 0)
named = {
    "constant": linear(N_m, K),
    "cosine": cosine(N_m, K),
    "log-linear": loglinear(N_m, K),
    "square-root rule": sqrt_rule_schedule(fm, K),
}
errs = {name: e_fact(fm, s) for name, s in named.items()}
assert all(tab.error(K) <= e + 1e-9 for e in errs.values())
print(
    f"K = {K}: optimal E_fact = {tab.error(K):.4f};  "
    + ", ".join(f"{k} {v:.4f}" for k, v in errs.items())
)
g_exact = tab.error(K) / errs["constant"]
print(f"gain E_opt/E_const = {g_exact:.4f}; scaling formula (∫√f̄')²/∫f̄' = {predicted_gain(fm):.4f}")
assert abs(g_exact - predicted_gain(fm)) < 0.02

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
axes[0].plot(np.arange(N_m), fm)
axes[0].set(xlabel="i", ylabel="f(i)", title="exact profile, copy chain, N = 1024")
for name, s in (("optimal", opt), *((k, v.sizes) for k, v in named.items())):
    axes[1].plot(np.arange(1, K + 1), s, ".-", label=f"{name}: E_fact = {e_fact(fm, s):.3f}")
axes[1].set(xlabel="step k", ylabel="size s_k", title=f"schedules, K = {K}")
axes[1].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 6. Estimating $f$ from samples
#
# In practice $\pi$ is unknown: we have samples and a trained denoiser. Since
# $f(i) = \mathbb E[\log p(x_{\sigma(i+1)} \mid x_{\sigma(1..i)})]$ over $x \sim \pi$ and a
# random order $\sigma$, `exactmd.sampler.estimate.estimate_profile` averages the denoiser's
# log-probabilities along random orders of the samples, with standard errors. Here the
# denoiser is exact, so only the sampling noise remains; we compare 100 and 1000 samples
# from the HMM of section 1, and ask how much $E_{\mathrm{fact}}$ is lost by optimising
# the schedule on the estimate instead of the truth.

# %%
from exactmd.denoisers.exact import exact_denoiser
from exactmd.sampler.estimate import estimate_profile
from exactmd.testing.asserts import assert_profile_close

rng = np.random.default_rng(2024)
probs = law.numpy().ravel()
estimates = {}
for M in (100, 1000):
    flat = rng.choice(probs.size, size=M, p=probs)
    samples = np.stack(np.unravel_index(flat, law.shape), axis=1)
    est = estimate_profile(samples, exact_denoiser(law), n_orders=4, seed=M)
    # within 3.9 standard errors (Bonferroni over the N entries); atol covers f(0), whose
    # estimate is exact up to rounding here (every token alone is a fair bit)
    assert_profile_close(est.profile, law, atol=1e-9, stderr=est.stderr, alpha=1e-3)
    estimates[M] = est
    print(
        f"M = {M:4d}: max |f̂ − f| = {np.abs(est.profile - f).max():.4f}, "
        f"mean stderr = {est.stderr.mean():.4f}"
    )
ratio = estimates[100].stderr[1:].mean() / estimates[1000].stderr[1:].mean()
print(f"stderr ratio 100 vs 1000 samples: {ratio:.2f} (√10 = {math.sqrt(10):.2f})")
assert 2 < ratio < 5

for K in (2, 3, 4):
    best = exactmd.optimal_schedule(f, K)
    line = f"K={K}: optimal on f {best} E_fact {e_fact(f, best):.4f}"
    for M, est in estimates.items():
        s_hat = exactmd.optimal_schedule(np.maximum.accumulate(est.profile), K)
        regret = e_fact(f, s_hat) - e_fact(f, best)
        assert regret >= -1e-12
        line += f" | on f̂_{M}: {s_hat} (+{regret:.4f})"
    print(line)

# %%
fig, ax = plt.subplots(figsize=(6.5, 4))
ax.plot(np.arange(N), f, "k-", lw=2, label="exact f")
for (M, est), dx in zip(estimates.items(), (-0.08, 0.08)):
    ax.errorbar(
        np.arange(N) + dx,
        est.profile,
        yerr=2 * est.stderr,
        fmt="o",
        ms=4,
        capsize=3,
        label=f"estimate, {M} samples (± 2 s.e.)",
    )
ax.set(xlabel="i", ylabel="f(i) [nats]", title="estimating the profile from samples")
ax.legend()
plt.show()
