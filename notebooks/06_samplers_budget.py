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
# # Which sampler for a compute budget?
#
# A masked-diffusion sampler spends **denoiser calls** (network function evaluations) and
# buys **accuracy**. On a law small enough to enumerate both are exact: `exactmd.samplers`
# computes the output law $p_{\mathrm{alg}}$ of the samplers the field runs (LLaDA,
# Fast-dLLM, Dream, MDLM, the EB-sampler, diffusers' block refinement) together with the
# exact law of their number of calls, and `exactmd.samplers.compare(p, [s1, s2, ...])`
# tabulates, for each, $\mathrm{KL}(\pi \,\|\, p_{\mathrm{alg}})$, the expected number of
# calls and, as the reference at the same cost, the **optimal exchangeable schedule** of the
# theory (`exactmd.optimal_schedule`: the sizes $s_1..s_K$ minimising $E_{\mathrm{fact}}$,
# revealed at uniformly random positions, one call per step).
#
# Every sampler here runs with $\pi$'s **exact conditionals** as its denoiser, so there is
# no learning error: what is measured is what the sampling rule itself costs. Two families:
#
# * **value-independent** (VI): which positions to reveal is decided before (or without
#   looking at) the values drawn there: LLaDA `remasking="random"`, Dream `origin` and
#   `entropy`, MDLM, the EB-sampler. The theory's bound
#   $\mathrm{KL} \le E_{\mathrm{fact}} + E_{\mathrm{learn}}$ applies and `compare` reports
#   $E_{\mathrm{fact}}$;
# * **sample-then-select** (STS): a value is drawn at every masked position, scored by its
#   own probability, and the best-scored draws are kept: LLaDA `low_confidence`, Fast-dLLM
#   (threshold and factor rules), Dream `maskgit_plus`, block refinement. The draws that are
#   kept are a *selected* sample, so they are not distributed as $\pi$'s conditionals.
#   exactmd refuses $E_{\mathrm{fact}}$ for them, and the bound, stated for planners that
#   choose the positions before the values, does not cover them.
#
# For three laws we draw each sampler's exact **KL-against-expected-calls frontier** over a
# range of its parameters, beside the theory's frontier (the optimal schedule at each K),
# and tabulate where sample-then-select beats or loses to the optimum at equal cost.

# %%
# %matplotlib inline
import functools
import itertools
import math
from collections import namedtuple

import matplotlib.pyplot as plt
import numpy as np

import exactmd
from exactmd.errors import TieError
from exactmd.models import from_spec, load_example
from exactmd.samplers import (
    block_refinement,
    compare,
    dream,
    eb,
    fast_dllm,
    llada,
    mdlm,
    nfe_distribution,
)
from exactmd.samplers.dream import dream_sizes

# %% [markdown]
# ## 1. Three laws
#
# * an **Ising chain** of $N = 6$ spins, coupling 0.6 and no field (a symmetric law: every
#   single-site marginal is uniform);
# * the **survey** Bayesian network shipped with exactmd ($N = 6$, alphabets 3, 2, 2, 2, 2, 3;
#   the joint law of age, sex, education, occupation, residence and travel);
# * a **random law** on the mixed shape $(2, 3, 2, 2, 3, 2)$: Dirichlet(0.5) weights with 30%
#   of the cells set to exactly zero (seeded).
#
# $N = 6$ keeps every exact law below a second or so on a laptop CPU (the largest cost is the
# exact $E_{\mathrm{fact}}$ of MDLM's and Dream-`origin`'s Bernoulli reveals, a walk over
# every subset of the masks).

# %%
models = {
    "Ising chain": from_spec("ising:n=6,coupling=0.6"),
    "survey (BN)": load_example("survey"),
    "random law": from_spec("random:shape=2x3x2x2x3x2,alpha=0.5,zeros=0.3,seed=3"),
}
for name, p in models.items():
    table = p.numpy()
    print(
        f"{name:12s} N = {p.n}, shape {p.shape}, {table.size} cells, "
        f"{int((table == 0).sum())} zeros, H = {exactmd.entropy(p):.3f} nats"
    )
    assert p.n == 6 and abs(table.sum() - 1) < 1e-12
assert int((models["random law"].numpy() == 0).sum()) > 0

# %% [markdown]
# ## 2. Two things to settle first: ties and temperature 0
#
# **Ties.** On the Ising chain every position's first conditional is $(1/2, 1/2)$, so every
# draw scores exactly $1/2$: the "most confident" positions are a tie of probability one.
# The real code breaks it with `torch.topk`, whose choice on ties is not documented. exactmd
# refuses to guess (`ties="error"`, the default, raises a `TieError` naming the state), or
# splits the tie uniformly (`ties="split"`): among the tied candidates every choice is
# equally likely, which is what a random tie-break does. On a symmetric law this is the only
# choice that does not favour some positions by their index (a real run's tie-break, whatever
# it is, has its own law, which exactmd does not guess). On the survey network and the random
# law, the runs checked below meet no tie (`"error"` runs through) and `"split"` gives the
# same law bit for bit. We use `ties="split"` everywhere.

# %%
ising = models["Ising chain"]
try:
    exactmd.output_distribution(ising, llada(steps=3, temperature=1.0))
    raise AssertionError("expected a TieError on the symmetric Ising chain")
except TieError as exc:
    print("TieError:", str(exc)[:230], "...")

for name in ("survey (BN)", "random law"):
    p = models[name]
    for make in (
        lambda ties: llada(steps=3, temperature=1.0, ties=ties),
        lambda ties: dream(steps=3, alg="maskgit_plus", temperature=1.0, ties=ties),
    ):
        strict = exactmd.output_distribution(p, make("error"))  # no tie was met
        assert np.array_equal(strict, exactmd.output_distribution(p, make("split")))
print("survey, random law: ties='error' runs through and equals ties='split'")

# %% [markdown]
# **Temperature 0** (the default of LLaDA, Fast-dLLM, Dream and block refinement) writes the
# argmax at every position. Here the output is then one sequence $x^\ast$ whatever order the
# tie-splitting picks (checked below): $p_{\mathrm{alg}}$ is a point mass, and
# $\mathrm{KL}(\pi \,\|\, p_{\mathrm{alg}}) = \infty$ as soon as $\pi$ has more than one
# point (the other points of $\pi$'s support get no mass). `compare` reports `inf` (never
# NaN). That is not a failure of the sampler, only the wrong yardstick: a greedy decoder does
# not try to sample $\pi$. The reverse direction is finite,
# $\mathrm{KL}(p_{\mathrm{alg}} \,\|\, \pi) = -\log \pi(x^\ast)$, and says how typical the
# greedy sequence is. Below, the $T = 0$ configurations are kept in the tables as `inf` and
# drawn on a strip above the sample-then-select plots; the frontier is drawn at $T = 1$ (and
# $T = 0.5$
# for LLaDA), where the samplers do sample.

# %%
greedy = [
    llada(steps=3, temperature=0.0, ties="split"),
    fast_dllm(threshold=0.91, temperature=0.0, ties="split"),
    block_refinement(steps=6, block_length=6, threshold=0.94, temperature=0.0, ties="split"),
]
for name, p in models.items():
    rows = compare(p, greedy).rows[: len(greedy)]
    for s, r in zip(greedy, rows):
        law = exactmd.output_distribution(p, s)
        x_star = np.unravel_index(int(law.argmax()), law.shape)
        assert law.max() == 1.0 and r.kl == math.inf
        reverse = exactmd.kl(law, p)
        assert abs(reverse + math.log(p.numpy()[x_star])) < 1e-9
        print(
            f"{name:12s} {r.name:17s} KL(π‖p_alg) = {r.kl}, x* = {tuple(map(int, x_star))}, "
            f"KL(p_alg‖π) = −log π(x*) = {reverse:.3f}"
        )

# %% [markdown]
# ## 3. The configurations
#
# Each sampler over a range of its parameters, at temperature 1 (LLaDA also at 0.5), one
# block of length $N$, with the $T = 0$ runs above as a reminder. `expected calls` is the
# mean of the exact law of the number of denoiser calls (`exactmd.samplers.nfe_distribution`):
# LLaDA, Dream and the exchangeable schedules make exactly one call per step; Fast-dLLM and
# block refinement stop when the block is full (a random number of calls); MDLM's cached
# loop calls only after a step that changed $x$, plus one noise-removal call; the
# EB-sampler makes one call per round, and its number of rounds depends on the law.
#
# The thresholds and factors are chosen off the laws' score values (the survey network's
# tables have round entries such as 0.3, 0.7 and 0.9, hence $\tau = 0.71$ rather than 0.7): a
# threshold exactly at a score of positive probability leaves its side to the real code's
# floating-point rounding, and the sampler's law is then not defined.


# %%
def configurations(n):
    """(family, kind, label, sampler): kind is "STS" (sample-then-select) or "VI"."""
    T = 1.0
    out = [
        ("llada low_confidence", "STS", f"steps={k}", llada(steps=k, temperature=T, ties="split"))
        for k in range(1, n + 1)
    ]
    out += [
        (
            "llada low_confidence T=0.5",
            "STS",
            f"steps={k}",
            llada(steps=k, temperature=0.5, ties="split"),
        )
        for k in (2, n)
    ]
    out += [
        (
            "fast_dllm threshold",
            "STS",
            f"τ={t}",
            fast_dllm(threshold=t, temperature=T, ties="split"),
        )
        for t in (0.33, 0.55, 0.71, 0.91)
    ]
    out += [
        ("fast_dllm factor", "STS", f"f={f}", fast_dllm(factor=f, temperature=T, ties="split"))
        for f in (0.55, 1.1, 2.21, 3.9)
    ]
    out += [
        (
            "dream maskgit_plus",
            "STS",
            f"steps={k}",
            dream(steps=k, alg="maskgit_plus", temperature=T, ties="split"),
        )
        for k in (2, 3, 4, n)
    ]
    out += [
        (
            "block_refinement",
            "STS",
            f"steps={k}, τ=0.71",
            block_refinement(steps=k, block_length=n, threshold=0.71, temperature=T, ties="split"),
        )
        for k in (2, 4, n)
    ]
    out += [
        (
            "block_refinement",
            "STS",
            f"steps={n}, τ=0.94",
            block_refinement(steps=n, block_length=n, threshold=0.94, temperature=T, ties="split"),
        )
    ]
    out += [("T = 0", "STS", s.name, s) for s in greedy]
    out += [
        ("llada random", "VI", f"steps={k}", llada(steps=k, remasking="random", temperature=T))
        for k in range(1, n + 1)
    ]
    out += [
        ("dream origin", "VI", f"steps={k}", dream(steps=k, alg="origin", temperature=T))
        for k in (2, 4)
    ]
    out += [
        (
            "dream entropy",
            "VI",
            f"steps={k}",
            dream(steps=k, alg="entropy", temperature=T, ties="split"),
        )
        for k in (2, 3, 4)
    ]
    out += [("mdlm", "VI", f"steps={k}", mdlm(steps=k)) for k in (1, 2, 4)]
    out += [
        ("eb", "VI", f"γ={g}", eb(gamma=g, temperature=T, ties="split"))
        for g in (0.0, 0.5, 1.0, 2.0, math.inf)
    ]
    return out


configs = configurations(6)
KIND = {family: kind for family, kind, _, _ in configs}
print(len(configs), "configurations per law:", sorted({c[0] for c in configs}))

# %% [markdown]
# ## 4. The frontier
#
# One `compare` call per law computes every row: the configurations in order, then the
# optimal exchangeable schedule at $K = \lfloor c \rfloor$ and $\lceil c \rceil$ around each
# configuration's expected calls $c$ (every $K = 1..6$ appears, since LLaDA runs every
# number of steps). The optimal rows are the theory's frontier $K \mapsto \mathrm{KL}^\ast(K)$.
#
# Between the integers we read the frontier **linearly**: at an expected cost
# $c = \lfloor c \rfloor + \lambda$,
# $$\mathrm{KL}^\ast(c) = (1 - \lambda)\, \mathrm{KL}^\ast(\lfloor c \rfloor)
# + \lambda\, \mathrm{KL}^\ast(\lceil c \rceil).$$
# This is an honest budget line: running the $\lfloor c \rfloor$-step optimum with
# probability $1 - \lambda$ and the $\lceil c \rceil$-step one otherwise costs $c$ calls on
# average, and since KL is convex in its second argument that mixture's KL is **at most**
# the line. (Costs are clamped to $1..N$; at $K = N$ the optimum reveals one position at a
# time and is exact, $\mathrm{KL}^\ast(N) = 0$.)


# %%
def frontier_of(table, n_configs):
    """{K: KL of the optimal exchangeable schedule with K steps} from a Comparison."""
    return {round(r.expected_calls): r.kl for r in table.rows[n_configs:]}


def kl_star(frontier, c):
    """The optimum's KL at expected cost c, linear between the integers (see above)."""
    n = max(frontier)
    c = min(max(c, 1.0), float(n))
    lo, hi = math.floor(c + 1e-9), math.ceil(c - 1e-9)
    if lo >= hi:
        return frontier[lo]
    lam = c - lo
    return (1 - lam) * frontier[lo] + lam * frontier[hi]


def compositions(n):
    """Every size sequence (s_1, ..., s_K) summing to n: 2^(n-1) of them."""
    for cuts in itertools.product([0, 1], repeat=n - 1):
        b = [0] + [i + 1 for i, c in enumerate(cuts) if c] + [n]
        yield [b[j + 1] - b[j] for j in range(len(b) - 1)]


results, best_exchangeable, not_kl_best = {}, {}, set()
for name, p in models.items():
    table = compare(p, [c[3] for c in configs])
    rows = table.rows[: len(configs)]
    frontier = frontier_of(table, len(configs))
    assert sorted(frontier) == list(range(1, p.n + 1)) and frontier[p.n] < 1e-12
    for r in table.rows:
        assert r.kl >= -1e-12 and not math.isnan(r.kl) and r.expected_calls >= 1
    results[name] = (rows, frontier)
    # every exchangeable schedule (32 size sequences), to see how far the E_fact-optimum
    # is from the exchangeable schedule of least KL at each K
    sizes = list(compositions(p.n))
    best = {}
    for sz, r in zip(sizes, compare(p, sizes).rows):
        if len(sz) not in best or r.kl < best[len(sz)][1]:
            best[len(sz)] = (tuple(sz), r.kl)
    best_exchangeable[name] = best
    assert all(best[k][1] <= frontier[k] + 1e-12 for k in frontier)
    print(name, " KL*(K):", {k: round(v, 4) for k, v in frontier.items()})
    for k in frontier:
        if best[k][1] < frontier[k] - 1e-9:
            not_kl_best.add((name, k))
            print(f"   K = {k}: the E_fact-optimum is not the KL-best exchangeable schedule;")
            print(f"          {best[k][0]} has KL {best[k][1]:.4f}")
assert not_kl_best == {("Ising chain", 2)}

# %% [markdown]
# Top row: sample-then-select (warm colours, filled markers, solid lines); bottom row:
# value-independent (cool colours, hollow markers, dashed lines). The black line is the optimum
# (interpolated as above), the grey dotted line the exchangeable schedule of least KL at each
# K (found by trying all 32 size sequences; it differs from the $E_{\mathrm{fact}}$-optimum
# only on the Ising chain at $K = 2$). The vertical axis is linear below $10^{-3}$ and logarithmic
# above (`symlog`), so that exact zeros show. $T = 0$ runs ($\mathrm{KL} = \infty$) sit on
# the strip at the top.

# %%
STYLE = {
    "llada low_confidence": ("tab:red", "o"),
    "llada low_confidence T=0.5": ("darkred", "v"),
    "fast_dllm threshold": ("tab:orange", "s"),
    "fast_dllm factor": ("goldenrod", "D"),
    "dream maskgit_plus": ("tab:pink", "^"),
    "block_refinement": ("tab:brown", "P"),
    "T = 0": ("black", "x"),
    "llada random": ("tab:blue", "o"),
    "dream origin": ("tab:cyan", "s"),
    "dream entropy": ("tab:green", "^"),
    "mdlm": ("tab:purple", "D"),
    "eb": ("teal", "P"),
}
TOP = 20.0  # where the infinite KLs are drawn

fig, axes = plt.subplots(2, 3, figsize=(16, 9), sharex=True, sharey=True)
for col, (name, (rows, frontier)) in enumerate(results.items()):
    ks = sorted(frontier)
    best = best_exchangeable[name]
    for row, kind in enumerate(("STS", "VI")):
        ax = axes[row, col]
        ax.plot(
            ks,
            [frontier[k] for k in ks],
            "k-",
            lw=2.2,
            marker="o",
            ms=4,
            label="optimal exchangeable",
        )
        ax.plot(
            ks, [best[k][1] for k in ks], ls=":", color="grey", lw=2, label="exchangeable, least KL"
        )
        for family, (colour, marker) in STYLE.items():
            if KIND[family] != kind:
                continue
            pts = sorted((r.expected_calls, r.kl) for c, r in zip(configs, rows) if c[0] == family)
            if family == "T = 0":
                ax.scatter(
                    [x for x, _ in pts],
                    [TOP] * len(pts),
                    c=colour,
                    marker=marker,
                    s=50,
                    label="T = 0 (KL = ∞)",
                )
                continue
            filled = kind == "STS"
            ax.plot(
                [x for x, _ in pts],
                [y for _, y in pts],
                color=colour,
                marker=marker,
                ls="-" if filled else "--",
                lw=1,
                ms=6,
                mfc=colour if filled else "white",
                label=f"{family} ({kind})",
            )
        ax.axhline(TOP / 2, color="grey", lw=0.5)
        ax.set_yscale("symlog", linthresh=1e-3)
        ax.set_ylim(0, TOP * 2)
        ax.grid(alpha=0.3)
        ax.set_title(f"{name}: {'sample-then-select' if kind == 'STS' else 'value-independent'}")
        if col == 0:
            ax.set_ylabel("KL(π ‖ p_alg)  [nats]")
        if row == 1:
            ax.set_xlabel("expected denoiser calls")
        if col == 2:
            ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
fig.suptitle("Exact KL against expected calls (N = 6, exact conditionals as the denoiser)")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 5. Sample-then-select against the optimum at equal cost
#
# For each configuration: its exact KL, its expected calls $c$, the optimum's
# $\mathrm{KL}^\ast(c)$ (linear between $\lfloor c \rfloor$ and $\lceil c \rceil$, as above)
# and the difference $\mathrm{KL} - \mathrm{KL}^\ast(c)$: **negative means the sampler
# beats** the theory's optimal schedule at that budget. $E_{\mathrm{fact}}$ is shown where
# it is defined (value-independent samplers). The value-independent rows are there for
# contrast.


# %%
Fact = namedtuple("Fact", "calls kl e_fact ref d")  # ref = KL*(calls), d = kl - ref
facts = {}  # (law, family, label) -> Fact
for name, (rows, frontier) in results.items():
    for (family, _, label, _), r in zip(configs, rows):
        ref = kl_star(frontier, r.expected_calls)
        facts[name, family, label] = Fact(r.expected_calls, r.kl, r.e_fact, ref, r.kl - ref)


def verdict(d):
    if d == math.inf:
        return "loses (∞)"
    return "beats" if d < -1e-9 else ("loses" if d > 1e-9 else "equal")


def show(name):
    print(f"{name}: KL in nats; d = KL − KL*(c)")
    cols = ("sampler", "", "config", "E[calls]", "KL", "E_fact", "KL*(c)", "d")
    widths = (-27, -3, -17, 8, 9, 8, 8, 10)
    line = " ".join(f"{c:{'<' if w < 0 else '>'}{abs(w)}}" for c, w in zip(cols, widths))
    print(line + "\n" + "-" * len(line))
    for (law, family, label), v in facts.items():
        if law == name:
            e = "—" if v.e_fact is None else f"{v.e_fact:.4f}"
            print(
                f"{family:27s} {KIND[family]:3s} {label:17s} {v.calls:8.3f} {v.kl:9.4f} "
                f"{e:>8s} {v.ref:8.4f} {v.d:+10.2e}  {verdict(v.d)}"
            )


show("Ising chain")


# %%
show("survey (BN)")

# %%
show("random law")

# %% [markdown]
# ## 6. What the numbers show
#
# The cell below checks each statement of this section against the tables (an `assert` per
# claim), so the text cannot drift from the numbers.
#
# * **One call** reveals everything at once from the marginals, whatever the rule: every
#   sampler at $c = 1$ has the optimum's KL, $\mathrm{KL}^\ast(1) = \mathrm{TC}(\pi)$.
# * **Sample-then-select loses almost everywhere, by a lot, and more compute makes it
#   worse.** With one position per call (LLaDA `steps=6`, Fast-dLLM at a high threshold,
#   block refinement at `steps=6`) the optimum, like any random-order sequential sampler, is
#   exact, yet low-confidence selection stays 1.5 to 2.7 nats away. The kept draw is the most
#   confident of all the draws made at that step: its value is biased towards the likely
#   values of each position, and each step adds that bias again. So the sample-then-select
#   curves are far from decreasing: on every law 6 steps are worse than 2, and on the survey
#   network each step added makes LLaDA's low-confidence run worse, from 1 call on. On the
#   survey network and the random law every sample-then-select configuration with more than
#   one call loses to the optimum at the same cost (the smallest loss: 0.016 nats, Fast-dLLM
#   `factor=3.9` at 1.06 calls on the random law).
# * **Where sample-then-select wins (the Ising chain only), the reasons are specific.**
#   Dream `maskgit_plus` at 2 steps is, on this law, an exchangeable schedule in disguise: its
#   float32 time grid gives sizes $(2, 4)$, the first step's tie is split uniformly and the
#   second step takes every remaining mask, so no selection happens; it beats the
#   $E_{\mathrm{fact}}$-optimal sizes $(3, 3)$ because $E_{\mathrm{fact}}$ is an upper bound
#   on KL, and the sizes minimising the bound are not those minimising KL here (the grey line
#   at $K = 2$). LLaDA at $T = 0.5$ with 2 steps is $(3, 3)$ with the second step tempered: a
#   sharper agreement with the revealed neighbours happens to make up for the correlation a
#   parallel step ignores on this ferromagnetic chain (the same setting loses by 2.0 nats on
#   the survey network). Fast-dLLM's `factor=2.2` is a genuinely adaptive win. Its
#   thresholds $1 - 2.2/(n+1)$ make the first call write 3 of the 6 tied positions
#   (uniformly); on the second it writes the three remaining draws unless the second most
#   confident scores below $1 - 2.2/3 \approx 0.27$ (a draw against its neighbours), and then
#   it keeps only the best one and draws the other two again with more context (a third
#   call, in 3.0% of the runs). At 2.03 calls it is 0.022 nats below the budget line. The
#   same factor loses by 1.3 and 0.87 nats on the other two laws. (`factor=2` would put the
#   threshold $1 - 2/4$ exactly on the first call's scores $1/2$, where the real code's
#   rounding decides which side they fall; we keep the parameters off such boundaries.)
# * **Value-independent samplers stay near the frontier when they reveal like an
#   exchangeable schedule.** LLaDA `random` is one (LLaDA's sizes, remainder first) and
#   equals the optimum whenever those sizes are optimal (at every K on the survey network).
#   Dream `origin` and MDLM reveal a random (Binomial) number of positions per step, which
#   costs accuracy: at 2 and 4 steps `origin` is worse than LLaDA `random` on every law, and
#   MDLM pays one more call for its noise-removal pass. The
#   adaptive ones (EB, Dream `entropy`) can beat the exchangeable optimum, since they are not
#   exchangeable: on the random law the EB-sampler with $\gamma \le 0.5$ is exact at 5.99
#   calls, because the law's zeros make some positions certain given others, and those come
#   for free; on the survey network $\gamma = 0.5$ reaches $8 \times 10^{-6}$ nats at 5 calls,
#   where the optimum has $2 \times 10^{-4}$. These wins are small; the losses of the same
#   rules elsewhere are not: the EB-sampler at $\gamma = 1$ is 0.33 nats above the line on the
#   random law, and Dream `entropy` 0.6 nats. An adaptive order is not automatically a good
#   one.
# * The bound $\mathrm{KL} \le E_{\mathrm{fact}} + E_{\mathrm{learn}}$ with
#   $E_{\mathrm{learn}} = 0$ (exact conditionals at $T = 1$) holds on every value-independent
#   row but MDLM's. MDLM's noise removal writes the **argmax** at the masks left after the
#   loop, which is not a draw from $\pi$'s conditional: its $E_{\mathrm{learn}}$ is infinite
#   and the bound promises nothing. It shows: on the survey network, `mdlm(steps=1)` has
#   KL above its $E_{\mathrm{fact}}$ by about $7 \times 10^{-7}$ nats (noise removal acts
#   only in the runs that leave a mask, about $1 - (1 - 10^{-5})^6 \approx 6 \times 10^{-5}$ of
#   them at $\varepsilon = 10^{-5}$); with `eps=0` the last step reveals every mask and the
#   excess is gone (to rounding).


# %%
def fact(name, family, label):
    return facts[name, family, label]


def sts(name, more_than_one_call=False):
    """The sample-then-select rows of one law (optionally those with more than one call)."""
    return {
        (family, label): v
        for (law, family, label), v in facts.items()
        if law == name and KIND[family] == "STS" and (v.calls > 1 + 1e-9 or not more_than_one_call)
    }


for name, (_, frontier) in results.items():
    one_call = [v for key, v in facts.items() if key[0] == name and abs(v.calls - 1) < 1e-12]
    assert one_call and all(abs(v.kl - frontier[1]) < 1e-9 for v in one_call)
    assert abs(frontier[1] - exactmd.total_correlation(models[name])) < 1e-9
    # one position per call: exact for the optimum, far for low-confidence selection
    assert 1.5 <= fact(name, "llada low_confidence", "steps=6").kl <= 2.75
    for family, label in (
        ("fast_dllm threshold", "τ=0.91"),
        ("block_refinement", "steps=6, τ=0.94"),
    ):
        assert (
            1.5 <= fact(name, family, label).kl <= 2.75 and fact(name, family, label).calls > 5.99
        )
    # more compute, worse
    for family in ("llada low_confidence", "dream maskgit_plus"):
        assert fact(name, family, "steps=6").kl > fact(name, family, "steps=2").kl
    # Bernoulli reveals cost accuracy at the same (mean) number of steps
    for k in (2, 4):
        assert (
            fact(name, "dream origin", f"steps={k}").kl
            > fact(name, "llada random", f"steps={k}").kl
        )
    assert fact(name, "mdlm", "steps=1").calls == 2  # one step, plus noise removal
    # the bound KL <= E_fact (E_learn = 0) on every value-independent row but MDLM's
    for (law, family, label), v in facts.items():
        if law == name and KIND[family] == "VI" and family != "mdlm":
            assert v.e_fact is not None and v.kl <= v.e_fact + 1e-12, (name, family, label)

survey_llada = [fact("survey (BN)", "llada low_confidence", f"steps={k}").kl for k in range(1, 7)]
assert all(a < b for a, b in itertools.pairwise(survey_llada))
# LLaDA random's sizes are the optimum's on the survey network: equal at every K
assert all(abs(fact("survey (BN)", "llada random", f"steps={k}").d) < 1e-9 for k in range(1, 7))

for name in ("survey (BN)", "random law"):
    assert min(v.d for v in sts(name, True).values()) > 0.01
smallest = min((v.d, key) for key, v in sts("random law", True).items())
assert smallest[1] == ("fast_dllm factor", "f=3.9") and abs(smallest[0] - 0.016) < 1e-3

wins = {key: v for key, v in sts("Ising chain").items() if v.d < -1e-9}
assert set(wins) == {
    ("llada low_confidence T=0.5", "steps=2"),
    ("fast_dllm factor", "f=2.21"),
    ("dream maskgit_plus", "steps=2"),
}
assert abs(wins["fast_dllm factor", "f=2.21"].d + 0.022) < 1e-3
calls = nfe_distribution(ising, fast_dllm(factor=2.21, temperature=1.0, ties="split"))
assert set(calls) == {2, 3} and abs(calls[3] - 0.030) < 1e-3
assert fact("survey (BN)", "llada low_confidence T=0.5", "steps=2").d > 1.9
assert min(fact(m, "fast_dllm factor", "f=2.21").d for m in ("survey (BN)", "random law")) > 0.85
# Dream maskgit_plus with 2 steps, on the Ising chain, is the exchangeable schedule (2, 4)
assert dream_sizes(6, 2) == (2, 4)
ex = compare(ising, [[2, 4], [3, 3]]).rows
assert abs(fact("Ising chain", "dream maskgit_plus", "steps=2").kl - ex[0].kl) < 1e-12
assert ex[0].kl < ex[1].kl and ex[0].e_fact > ex[1].e_fact
print(
    f"Ising, K = 2: sizes (2, 4) KL {ex[0].kl:.4f}, E_fact {ex[0].e_fact:.4f}; "
    f"sizes (3, 3) KL {ex[1].kl:.4f}, E_fact {ex[1].e_fact:.4f}"
)
# MDLM's argmax noise removal: KL > E_fact on the survey network, E_learn = inf; eps = 0 fixes it
survey = models["survey (BN)"]
v = fact("survey (BN)", "mdlm", "steps=1")
assert 1e-7 < v.kl - v.e_fact < 1e-6
assert exactmd.learning_error(survey, mdlm(steps=1), None) == math.inf
r = compare(survey, [mdlm(steps=1, eps=0.0)]).rows[0]
assert r.kl <= r.e_fact + 1e-12
print(f"survey, mdlm(steps=1): KL − E_fact = {v.kl - v.e_fact:.1e} (E_learn = ∞)")
print(f"survey, mdlm(steps=1, eps=0): KL − E_fact = {r.kl - r.e_fact:.1e}")
# adaptive value-independent samplers beating the exchangeable optimum, and one losing
for label in ("γ=0.0", "γ=0.5"):
    v = fact("random law", "eb", label)
    assert v.kl < 1e-12 and 5.9 < v.calls < 6 - 1e-3
v = fact("survey (BN)", "eb", "γ=0.5")
assert v.kl < 1e-5 and abs(v.calls - 5) < 1e-12 and v.ref > 1e-4
assert fact("random law", "dream entropy", "steps=3").d > 0.6
assert 0.3 < fact("random law", "eb", "γ=1.0").d < 0.35
for name in models:
    rows = sts(name)
    worst = max((v.d, key) for key, v in rows.items() if v.kl < math.inf)
    print(
        f"{name:12s} sample-then-select at T > 0: {sum(v.d < -1e-9 for v in rows.values())} "
        f"win(s); largest loss {worst[0]:.2f} nats ({worst[1][0]}, {worst[1][1]})"
    )

# %% [markdown]
# ## 7. Checking the striking case by brute force
#
# That LLaDA's low-confidence rule, revealing one position per call with the exact
# conditionals, ends 1.5 nats from $\pi$ on the Ising chain is the surprising number above.
# Here it is again from a plain-Python enumeration that shares no code with exactmd: at each
# step draw a value at every masked position from $\pi$'s conditional (all joint draws, with
# their probabilities), keep the draw of highest probability (ties split uniformly), and
# recurse; the `random` rule keeps a uniformly chosen position instead. The law from a state
# on depends only on the state, so the recursion is memoised over the $3^6$ partial states.
# Ties are taken within $10^{-12}$: the conditionals of mirror-image positions are equal in
# exact arithmetic but not always in floating point, and exact float comparisons would
# break those ties by the last bits of the sums (exactmd compares scores within rounding too).

# %%
table6 = ising.numpy()


def conditional(x, j):
    """π(x_j = · | the revealed positions of x), by summing the table (x: None = masked)."""
    w = np.zeros(table6.shape[j])
    for full in itertools.product(*(range(q) for q in table6.shape)):
        if all(x[i] is None or x[i] == full[i] for i in range(len(x))):
            w[full[j]] += table6[full]
    return w / w.sum()


def one_per_step(rule):
    """The exact output law of LLaDA with one position per step, by enumeration."""

    @functools.cache
    def walk(x):  # the law of the final sequence from the partial state x
        law = np.zeros(table6.shape)
        masked = [j for j in range(len(x)) if x[j] is None]
        if not masked:
            law[x] = 1.0
            return law
        rows = {j: conditional(x, j) for j in masked}
        for draw in itertools.product(*(range(len(rows[j])) for j in masked)):
            pd = math.prod(rows[j][v] for j, v in zip(masked, draw))
            if pd == 0:
                continue
            score = {j: rows[j][v] for j, v in zip(masked, draw)}
            top = max(score.values())
            keep = [j for j in masked if rule == "random" or score[j] >= top - 1e-12]
            for j in keep:
                y = list(x)
                y[j] = draw[masked.index(j)]
                law += pd / len(keep) * walk(tuple(y))
        return law

    return walk((None,) * table6.ndim)


brute_kl = {}
for rule in ("low_confidence", "random"):
    brute = one_per_step(rule)
    exact = exactmd.output_distribution(
        ising, llada(steps=6, remasking=rule, temperature=1.0, ties="split")
    )
    gap, brute_kl[rule] = np.abs(brute - exact).max(), exactmd.kl(ising, brute)
    assert gap < 1e-12
    print(f"{rule:15s} brute force = exactmd to {gap:.1e};  KL(π‖p_alg) = {brute_kl[rule]:.4f}")
assert (
    abs(brute_kl["low_confidence"] - fact("Ising chain", "llada low_confidence", "steps=6").kl)
    < 1e-12
)
assert brute_kl["random"] < 1e-12

# %% [markdown]
# ## 8. The cost is random
#
# Fast-dLLM and block refinement run until the block is full and MDLM calls only when a step
# changed $x$, so their number of calls is a random variable; `compare` keeps its exact law
# (`row.calls`, the same as `nfe_distribution(p, sampler)`), and the tables above use its
# mean. A budget is a bound on the *mean* here; the spread can matter more (a latency budget).

# %%
shown = [
    ("fast_dllm threshold", "τ=0.55"),
    ("fast_dllm threshold", "τ=0.71"),
    ("block_refinement", "steps=6, τ=0.71"),
    ("mdlm", "steps=4"),
]
fig, axes = plt.subplots(1, 3, figsize=(15, 3.6), sharey=True)
width = 0.2
for ax, (name, (rows, _)) in zip(axes, results.items()):
    for i, key in enumerate(shown):
        j = next(j for j, c in enumerate(configs) if (c[0], c[2]) == key)
        law = rows[j].calls
        assert law == nfe_distribution(models[name], configs[j][3])
        assert abs(sum(law.values()) - 1) < 1e-12
        ax.bar(
            np.array(list(law)) + (i - 1.5) * width,
            list(law.values()),
            width,
            label=f"{key[0]} {key[1]}",
        )
    ax.set(title=name, xlabel="denoiser calls", xticks=range(1, 8))
axes[0].set_ylabel("probability")
axes[2].legend(fontsize=7)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Conclusion
#
# With an exact denoiser, at temperature 1, on these three laws: for a budget of $c$
# denoiser calls the theory's optimal exchangeable schedule (or a value-independent sampler
# whose sizes are close to it) is the safe choice. An adaptive value-independent rule (the
# EB-sampler) can do slightly better where some positions are nearly determined by others,
# and worse elsewhere.
# Sample-then-select samplers (LLaDA low-confidence, Fast-dLLM, Dream `maskgit_plus`, block
# refinement) are far from $\pi$ and get further with more calls, because selecting the
# most confident draws biases the values; their occasional wins come from a tie that turns
# them into an exchangeable schedule, from tempering, or from a law that suits the rule.
# At $T = 0$ none of them samples $\pi$ at all (KL $= \infty$).
#
# What this does not say: these are $N = 6$ laws and the denoiser is exact. With a learned
# denoiser the confidence rules are used for what they are good at, picking likely
# sequences, and $\mathrm{KL}(\pi \,\|\, p_{\mathrm{alg}})$, which punishes exactly that
# mode-seeking, is not the only measure of a sampler. `exactmd report MODEL --sampler SPEC`
# draws the same comparison for any model small enough to enumerate.
