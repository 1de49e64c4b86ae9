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
# # The theorems, verified exactly
#
# This notebook checks, on exact numbers rather than simulations, the main results of the
# theory of factorized (parallel) unmasking:
#
# 1. the **decomposition** $\mathrm{KL}(\pi\,\|\,p_{\mathrm{alg}}) \le E_{\mathrm{learn}} +
#    E_{\mathrm{fact}}$, for the exact denoiser ($E_{\mathrm{learn}} = 0$) and for imperfect
#    ones, with exchangeable, deterministic and random-reveal schedules;
# 2. the **worst-case bound** $E_{\mathrm{fact}} \le (N-K)\,D(\pi) \le (N-K)\log q$ for
#    constant sizes under any planner, and the law that reaches it (block copy);
# 3. the **exchangeable bound** $E_{\mathrm{fact}} \le (\max_k s_k - 1)\,D(\pi)$;
# 4. the two extremes: $K = 1$ gives the product of the marginals and
#    $E_{\mathrm{fact}} = \mathrm{TC}$; $K = N$ gives $\pi$ itself.
#
# Every cell ends in `assert`s: if a number were wrong, the notebook would fail.
#
# **Vocabulary.** A *denoiser* maps a partially masked sequence to a probability over the
# values of each masked position. $E_{\mathrm{learn}}$ is the expected sum, over the tokens
# the sampler reveals, of $\mathrm{KL}$(exact conditional ‖ denoiser's conditional): the
# error of the denoiser itself. $E_{\mathrm{fact}}$ is the expected sum over steps of the
# total correlation of the tokens revealed together, given the context: the error of
# drawing them independently.

# %%
# %matplotlib inline
import itertools
import math
from functools import reduce

import matplotlib.pyplot as plt
import numpy as np

import exactmd
from exactmd.denoisers.exact import exact_denoiser, perturbed_denoiser
from exactmd.models.zoo import block_copy, hmm, markov_chain, parity, random_joint
from exactmd.sampler.bound import check_bound
from exactmd.schedules.kinds import RandomRevealSchedule
from exactmd.schedules.optimum import optimal_curve
from exactmd.testing.denoiser_checks import learning_error_breakdown

laws = {
    "random (2,3,2,3), 30% zeros": random_joint((2, 3, 2, 3), alpha=0.5, seed=3, zeros=0.3),
    "HMM, N=5, 3 symbols": hmm(
        [0.6, 0.4], [[0.85, 0.15], [0.2, 0.8]], [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]], 5
    ),
    "parity, N=5": parity(5),
    "copy chain, N=6": markov_chain([0.5, 0.5], [[0.9, 0.1], [0.1, 0.9]], 6),
}
for name, p in laws.items():
    print(
        f"{name:28} shape {p.shape}  zeros {int((p.numpy() == 0).sum()):3d}  "
        f"TC {exactmd.total_correlation(p):.4f}  D {exactmd.complexity(p):.4f}"
    )


# %% [markdown]
# ## 1. $\mathrm{KL} \le E_{\mathrm{learn}} + E_{\mathrm{fact}}$
#
# For every law we take three planners with $K = 2$ or $3$ steps:
#
# * **exchangeable** — fixed sizes, positions chosen uniformly at random;
# * **deterministic** — a fixed ordered partition of the positions;
# * **random reveal** — MDLM's sampler: each masked position is revealed at step $k$
#   independently with a probability given by the noise schedule (random sizes);
#
# and four denoisers: the exact one, and `perturbed_denoiser` copies that are tempered
# ($\pi(\cdot\mid\mathrm{ctx})^{1/T}$, renormalised) and/or mixed with a random law. A
# perturbed denoiser is a deterministic function of the context, as the theory requires.
# For each triple we compute the exact $p_{\mathrm{alg}}$, its KL from $\pi$, and the exact
# $E_{\mathrm{learn}}$ and $E_{\mathrm{fact}}$.


# %%
def planners(p, seed=0):
    rng = np.random.default_rng(seed)
    order = [int(i) for i in rng.permutation(p.n)]
    cut1, cut2 = p.n // 3, 2 * p.n // 3
    return {
        "exchangeable": [p.n - p.n // 2, p.n // 2],
        "deterministic": [order[:cut1], order[cut1:cut2], order[cut2:]],
        "random reveal": RandomRevealSchedule.from_noise(lambda t: t, 3),
    }


def denoisers(p):
    return {
        "exact": exact_denoiser(p),
        "T = 1.5": perturbed_denoiser(p, temperature=1.5),
        "10% noise": perturbed_denoiser(p, noise=0.1, seed=1),
        "T = 0.7, 5% noise": perturbed_denoiser(p, temperature=0.7, noise=0.05, seed=2),
    }


records = []
for lname, p in laws.items():
    for kind, sched in planners(p).items():
        e_fact = exactmd.factorization_error(p, sched)
        for dname, den in denoisers(p).items():
            p_alg = exactmd.output_distribution(p, sched, den)
            e_learn = exactmd.learning_error(p, sched, den)
            records.append(
                dict(
                    law=lname,
                    kind=kind,
                    den=dname,
                    e_fact=e_fact,
                    e_learn=e_learn,
                    kl=exactmd.kl(p, p_alg),
                )
            )

print(f"{'law':28} {'planner':14} {'denoiser':18} {'KL':>8} {'E_learn':>8} {'E_fact':>8}")
for r in records:
    print(
        f"{r['law']:28} {r['kind']:14} {r['den']:18} {r['kl']:8.4f} "
        f"{r['e_learn']:8.4f} {r['e_fact']:8.4f}"
    )

# %%
for r in records:
    assert r["kl"] <= r["e_learn"] + r["e_fact"] + 1e-10, r  # the theorem
    # parity's conditionals are uniform or one-hot, which tempering leaves unchanged
    exact = r["den"] == "exact" or (r["law"].startswith("parity") and r["den"] == "T = 1.5")
    if exact:
        assert abs(r["e_learn"]) < 1e-12, r  # E_learn = 0
    else:
        assert r["e_learn"] > 0, r
    if r["kind"] == "deterministic":  # equality there
        assert math.isclose(r["kl"], r["e_learn"] + r["e_fact"], rel_tol=1e-9, abs_tol=1e-12), r
print(f"KL <= E_learn + E_fact holds in all {len(records)} cases")

# E_learn cross-checked against an independent enumeration of the contexts
for p in laws.values():
    for sched in planners(p).values():
        den = perturbed_denoiser(p, temperature=0.7, noise=0.05, seed=2)
        ref = learning_error_breakdown(p, sched, den).total
        assert math.isclose(exactmd.learning_error(p, sched, den), ref, rel_tol=1e-9)
# exactmd.sampler.bound.check_bound computes the three terms in one call
p = laws["copy chain, N=6"]
rep = check_bound(p, planners(p)["exchangeable"], denoisers(p)["10% noise"])
print(rep)
row = next(
    r
    for r in records
    if r["law"] == "copy chain, N=6" and r["kind"] == "exchangeable" and r["den"] == "10% noise"
)
assert rep.holds and math.isclose(rep.kl, row["kl"], rel_tol=1e-12)
assert math.isclose(rep.bound, row["e_learn"] + row["e_fact"], rel_tol=1e-12)
# the exact denoiser passed as a callable gives the same law as the built-in one
p = laws["HMM, N=5, 3 symbols"]
assert np.allclose(
    exactmd.output_distribution(p, [3, 2], exact_denoiser(p)),
    exactmd.output_distribution(p, [3, 2]),
    atol=1e-14,
)

# %% [markdown]
# For a **deterministic** planner the bound is an equality: the sampler's law factorizes
# along the same blocks as $\pi$'s chain rule, so $\log \pi(x) / p_{\mathrm{alg}}(x)$
# splits exactly into the two errors. For exchangeable and random planners the KL is
# never larger and typically smaller: averaging over the random order mixes the errors of
# different orders (KL is convex); it is equal when, for example, both errors vanish.

# %%
fig, ax = plt.subplots(figsize=(5.5, 5))
markers = {"exchangeable": "o", "deterministic": "s", "random reveal": "^"}
for kind, marker in markers.items():
    sel = [r for r in records if r["kind"] == kind]
    ax.scatter(
        [r["e_learn"] + r["e_fact"] for r in sel],
        [r["kl"] for r in sel],
        marker=marker,
        alpha=0.7,
        label=kind,
    )
top = max(r["e_learn"] + r["e_fact"] for r in records) * 1.1
ax.plot([0, top], [0, top], "k:", lw=1, label="KL = E_learn + E_fact")
ax.set(
    xlabel="E_learn + E_fact  [nats]",
    ylabel="KL(π ‖ p_alg)  [nats]",
    title="every point lies on or below the diagonal",
)
ax.legend(fontsize=8)
plt.show()


# %% [markdown]
# ## 2. The worst-case bound and the law that reaches it
#
# With $K$ steps of constant size $s = N/K$, whatever the planner (even one that looks at
# the revealed values), $E_{\mathrm{fact}} \le (N-K)\,D(\pi) \le (N-K)\log q$.
#
# The bound is reached by **block copy**: split the positions into $K$ blocks of size $s$,
# give each block one uniform value, copied to all its positions, blocks independent.
# Then $D(\pi) = \log q$, and the deterministic planner that reveals exactly one block per
# step draws the $s$ copies independently: a block's tokens agree with probability
# $q^{1-s}$ instead of $1$, and $\mathrm{KL} = E_{\mathrm{fact}} = (N-K)\log q$.
#
# Below: $N = 6$, $K = 3$, $q = 3$, and **all 90** ordered partitions of the six positions
# into three pairs.


# %%
def ordered_partitions(n, sizes):
    # all ordered partitions of range(n) into blocks of the given sizes
    if not sizes:
        yield []
        return
    for first in itertools.combinations(range(n), sizes[0]):
        rest = [i for i in range(n) if i not in first]
        for tail in ordered_partitions(len(rest), sizes[1:]):
            yield [list(first)] + [[rest[j] for j in block] for block in tail]


n, K, q = 6, 3, 3
partitions = list(ordered_partitions(n, [2, 2, 2]))
assert len(partitions) == math.factorial(6) // 2**3 == 90

copy = block_copy([2, 2, 2], q=q)
noisy = random_joint((2,) * 6, alpha=0.3, seed=7, zeros=0.2)
worst = (n - K) * math.log(q)
assert math.isclose(exactmd.complexity(copy), math.log(q), rel_tol=1e-12)

pair_laws = {"block copy, q = 3": copy, "random binary law": noisy}
errors = {}
for name, p in pair_laws.items():
    bound = exactmd.schedules.worst_case_bound(p, K)
    assert bound <= exactmd.schedules.worst_case_log_bound(p, K) + 1e-12
    errors[name] = np.array([exactmd.factorization_error(p, z) for z in partitions])
    assert np.all(errors[name] <= bound + 1e-12), name
    print(
        f"{name:20} max E_fact over 90 planners = {errors[name].max():.6f} "
        f"<= (N-K) D = {bound:.6f} <= (N-K) log q = "
        f"{exactmd.schedules.worst_case_log_bound(p, K):.6f}"
    )

aligned = [[0, 1], [2, 3], [4, 5]]
e_aligned = exactmd.factorization_error(copy, aligned)
kl_aligned = exactmd.kl(copy, exactmd.output_distribution(copy, aligned))
print(
    f"block copy, one block per step: E_fact = {e_aligned:.12f}, "
    f"KL = {kl_aligned:.12f}, (N-K) log q = {worst:.12f}"
)
assert math.isclose(e_aligned, worst, rel_tol=1e-12)
assert math.isclose(kl_aligned, worst, rel_tol=1e-12)
assert math.isclose(errors["block copy, q = 3"].max(), worst, rel_tol=1e-12)

# %% [markdown]
# An **adaptive** planner chooses the next positions from the values already revealed.
# The bound covers it too. `exactmd.sampler.adaptive.AdaptiveSchedule(sizes, planner)` computes
# the exact law, $E_{\mathrm{fact}}$ and $E_{\mathrm{learn}}$ of any planner by
# enumerating its states; `most_confident_planner` reveals, at each step, the positions
# whose conditional is the most peaked (largest summed top probability; ties split
# uniformly). Below, the library is checked against an independent enumeration written
# by hand, then we check $\mathrm{KL} \le E_{\mathrm{fact}} \le (N-K)\,D(\pi)$, the
# bound with a learned denoiser, and $K = N$ / $K = 1$.
# A planner that never ties is a function of the revealed values, so given $x$ its path
# is fixed and KL *equals* $E_{\mathrm{learn}} + E_{\mathrm{fact}}$ (random binary law);
# the block-copy law has ties, and there the inequality is strict.

# %%
from exactmd.sampler.adaptive import AdaptiveSchedule
from exactmd.sampler.planners import most_confident_planner


def peaked_first(p, sizes):
    # by hand: exact p_alg and E_fact of the planner "most peaked conditionals first"
    table = p.numpy()
    n, mask = table.ndim, max(table.shape)
    start = (mask,) * n
    alg, under_pi = {start: 1.0}, {start: 1.0}  # state -> prob. (sampler / values from π)
    e_fact = 0.0
    for s in sizes:
        new_alg, new_pi = {}, {}
        for state in alg.keys() | under_pi.keys():
            masked = [i for i in range(n) if state[i] == mask]
            sub = table[tuple(slice(None) if v == mask else v for v in state)]
            mass = sub.sum()  # π(x_revealed); the sampler may reach states of mass 0
            joint = sub / mass if mass > 0 else np.full(sub.shape, 1.0 / sub.size)
            margs = {
                i: joint.sum(axis=tuple(k for k, j in enumerate(masked) if j != i)) for i in masked
            }
            score = {
                z: round(sum(margs[i].max() for i in z), 12)
                for z in itertools.combinations(masked, s)
            }
            best = [z for z, v in score.items() if v == max(score.values())]
            for z in best:
                share = 1.0 / len(best)
                jz = joint.sum(axis=tuple(k for k, j in enumerate(masked) if j not in z))
                prod = reduce(np.multiply.outer, [margs[i] for i in z])
                w_alg, w_pi = alg.get(state, 0.0) * share, under_pi.get(state, 0.0) * share
                pos = jz > 0
                e_fact += w_pi * float(np.sum(jz[pos] * np.log(jz[pos] / prod[pos])))
                for vals in itertools.product(*(range(table.shape[i]) for i in z)):
                    new = list(state)
                    for i, v in zip(z, vals):
                        new[i] = v
                    new = tuple(new)
                    if w_alg * prod[vals] > 0:
                        new_alg[new] = new_alg.get(new, 0.0) + w_alg * prod[vals]
                    if w_pi * jz[vals] > 0:
                        new_pi[new] = new_pi.get(new, 0.0) + w_pi * jz[vals]
        alg, under_pi = new_alg, new_pi
    law = np.zeros(table.shape)
    for state, w in alg.items():
        law[state] += w
    return law, e_fact


def planner(sizes):
    return AdaptiveSchedule(sizes, most_confident_planner)


for name, p in pair_laws.items():
    law = exactmd.output_distribution(p, planner([2, 2, 2]))
    e_ad = exactmd.factorization_error(p, planner([2, 2, 2]))
    by_hand, e_hand = peaked_first(p, [2, 2, 2])  # the independent cross-check
    assert np.allclose(law, by_hand, rtol=0, atol=1e-14)
    assert math.isclose(e_ad, e_hand, rel_tol=1e-10, abs_tol=1e-14)
    kl_ad = exactmd.kl(p, law)
    bound = exactmd.schedules.worst_case_bound(p, K)
    learned = check_bound(p, planner([2, 2, 2]), perturbed_denoiser(p, 1.3, 0.2, seed=1))
    print(
        f"{name:20} adaptive planner: KL = {kl_ad:.4f} <= E_fact = {e_ad:.4f} "
        f"<= (N-K) D = {bound:.4f}; learned denoiser: KL = {learned.kl:.4f} <= "
        f"E_learn + E_fact = {learned.bound:.4f}"
    )
    assert math.isclose(law.sum(), 1.0, rel_tol=1e-12)
    assert kl_ad <= e_ad + 1e-12 and e_ad <= bound + 1e-12 and learned.holds
    one_each = exactmd.output_distribution(p, planner([1] * n))  # K = N: exact sampling
    assert np.allclose(one_each, p.numpy(), atol=1e-14)
    assert abs(exactmd.factorization_error(p, planner([1] * n))) < 1e-12
    e_1 = exactmd.factorization_error(p, planner([n]))  # K = 1: TC
    assert math.isclose(e_1, exactmd.total_correlation(p), rel_tol=1e-10)
    assert math.isclose(e_1, peaked_first(p, [n])[1], rel_tol=1e-10)

# %% [markdown]
# **Outside the theorem: LLaDA's low-confidence remasking.** LLaDA first *draws* a
# proposal for every masked position, then keeps the $s_k$ proposals with the highest
# probability. The positions are chosen **after** looking at the drawn values, so this is
# not a planner in the sense of the theory, and nothing bounds its error by
# $(N-K)\,D(\pi)$. `exactmd.testing.examples.low_confidence_law` enumerates its exact
# law: on the random binary law its KL is above the bound that every planner obeys.

# %%
from exactmd.testing.examples import low_confidence_law

kl_lc = {name: exactmd.kl(p, low_confidence_law(p, [2, 2, 2])) for name, p in pair_laws.items()}
for name, p in pair_laws.items():
    print(
        f"{name:20} low-confidence remasking: KL = {kl_lc[name]:.4f}   "
        f"(N-K) D = {exactmd.schedules.worst_case_bound(p, K):.4f}"
    )
assert kl_lc["random binary law"] > exactmd.schedules.worst_case_bound(noisy, K)

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
for ax, (name, errs) in zip(axes, errors.items()):
    p = pair_laws[name]
    ax.hist(errs, bins=30, color="C0", alpha=0.8)
    ax.axvline(exactmd.schedules.worst_case_bound(p, K), color="C3", ls="--", label="(N − K) D(π)")
    ax.axvline(exactmd.factorization_error(p, [2, 2, 2]), color="C2", label="exchangeable (mean)")
    ax.set(xlabel="E_fact of a deterministic planner [nats]", ylabel="planners", title=name)
    ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# The green line is the **exchangeable** schedule with sizes $(2,2,2)$: choosing the
# partition uniformly at random, its $E_{\mathrm{fact}}$ is exactly the **average** over
# the 90 deterministic planners, and its $p_{\mathrm{alg}}$ is the average of their output
# laws. Both facts are checked next, from first principles.

# %%
for name, p in pair_laws.items():
    assert math.isclose(
        exactmd.factorization_error(p, [2, 2, 2]), errors[name].mean(), rel_tol=1e-10
    )
    mean_law = np.mean([exactmd.output_distribution(p, z) for z in partitions], axis=0)
    assert np.allclose(exactmd.output_distribution(p, [2, 2, 2]), mean_law, atol=1e-14)
print("exchangeable = average over the 90 ordered partitions: E_fact and p_alg agree")


# %% [markdown]
# ## 3. The exchangeable bound $E_{\mathrm{fact}} \le (\max_k s_k - 1)\,D(\pi)$
#
# For exchangeable schedules the bound depends only on the largest step. We check it on
# **every** composition of $N$ (all $2^{N-1}$ size sequences) for each law.


# %%
def compositions(n):
    for cuts in itertools.product([0, 1], repeat=n - 1):
        sizes, run = [], 1
        for c in cuts:
            if c:
                sizes.append(run)
                run = 1
            else:
                run += 1
        yield [*sizes, run]


points = []
for lname, p in {**laws, "block copy, q = 3": copy}.items():
    comps = list(compositions(p.n))
    assert len(comps) == 2 ** (p.n - 1)
    for s in comps:
        e = exactmd.factorization_error(p, s)
        b = exactmd.schedules.exchangeable_bound(p, s)
        assert -1e-12 <= e <= b + 1e-12, (lname, s, e, b)
        points.append((lname, b, e))
print(f"checked {len(points)} (law, sizes) pairs")

fig, ax = plt.subplots(figsize=(5.5, 5))
for lname in dict.fromkeys(pt[0] for pt in points):
    sel = [pt for pt in points if pt[0] == lname]
    ax.scatter([pt[1] for pt in sel], [pt[2] for pt in sel], s=12, alpha=0.6, label=lname)
top = max(pt[1] for pt in points) * 1.05
ax.plot([0, top], [0, top], "k:", lw=1)
ax.set(xlabel="(max s − 1) D(π)", ylabel="E_fact", title="exchangeable bound, every composition")
ax.legend(fontsize=7)
plt.show()

# %% [markdown]
# ## 4. The extremes: $K = 1$ and $K = N$
#
# * $K = 1$: every token is drawn at once from its marginal, so $p_{\mathrm{alg}}$ is the
#   **product of the marginals** and $E_{\mathrm{fact}} = \mathrm{KL}(\pi \,\|\,
#   \otimes_i \pi_i) = \mathrm{TC}$. We build the product by hand with numpy.
# * $K = N$: one token per step from the exact conditional is ancestral sampling, so
#   $p_{\mathrm{alg}} = \pi$ (for any order) and $E_{\mathrm{fact}} = 0$. With an
#   imperfect denoiser only $E_{\mathrm{learn}}$ remains.

# %%
curves = {}
for lname, p in laws.items():
    table, n = p.numpy(), p.n
    marginals = [table.sum(axis=tuple(j for j in range(n) if j != i)) for i in range(n)]
    product = reduce(np.multiply.outer, marginals)
    TC = exactmd.total_correlation(p)

    one_step = exactmd.output_distribution(p, [n])
    assert np.allclose(one_step, product, atol=1e-15)
    assert math.isclose(exactmd.factorization_error(p, [n]), TC, rel_tol=1e-12)
    assert math.isclose(exactmd.kl(p, one_step), TC, rel_tol=1e-9)

    assert np.allclose(exactmd.output_distribution(p, [1] * n), table, atol=1e-15)
    reversed_order = [[i] for i in reversed(range(n))]
    assert np.allclose(exactmd.output_distribution(p, reversed_order), table, atol=1e-15)
    assert exactmd.factorization_error(p, [1] * n) == 0.0
    den = perturbed_denoiser(p, noise=0.1, seed=1)
    kl_den = exactmd.kl(p, exactmd.output_distribution(p, [1] * n, den))
    assert kl_den <= exactmd.learning_error(p, [1] * n, den) + 1e-12

    f = exactmd.information_profile(p)
    curves[lname] = optimal_curve(f) / TC  # min E_fact for K = 1..N
print("K = 1: product of marginals, E_fact = TC;  K = N: p_alg = π, E_fact = 0")

# %%
fig, ax = plt.subplots(figsize=(6, 3.8))
for lname, c in curves.items():
    n = len(c)
    ax.plot((np.arange(1, n + 1) - 1) / (n - 1), c, "o-", label=lname)
ax.set(
    xlabel="(K − 1)/(N − 1)",
    ylabel="min E_fact / TC",
    title="from TC at K = 1 to 0 at K = N (optimal schedules)",
)
ax.legend(fontsize=8)
plt.show()
