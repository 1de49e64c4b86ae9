"""Generate the exactmd notebooks from the cell texts below (committed WITHOUT outputs).

Usage, from the repository root::

    python notebooks/make_notebooks.py           # (re)write notebooks/*.ipynb
    python notebooks/make_notebooks.py --check   # exit 1 if a notebook differs from this file

The notebooks are executed by the test suite through nbmake
(``pytest --nbmake notebooks/``); each runs in well under a minute on 2 CPU cores. Cell ids
are fixed (``nb01-00``, ...), so regenerating gives byte-identical files.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}

Cell = tuple[str, str]


def md(text: str) -> Cell:
    """A markdown cell."""
    return ("markdown", text)


def code(text: str) -> Cell:
    """A code cell."""
    return ("code", text)


# --------------------------------------------------------------------------------------------
# 01 quickstart
# --------------------------------------------------------------------------------------------


def quickstart() -> list[Cell]:
    return [
        md(r"""
        # exactmd quickstart: a model, its measures, its sampler law

        A **masked diffusion** model generates a sequence of $N$ tokens by starting from a fully
        masked sequence and unmasking it in $K$ steps. At each step a *denoiser* gives, for every
        masked position $i$, a probability over its values given the tokens revealed so far, and
        the sampler draws the $s_k$ new tokens of that step **independently** from these
        conditionals. With $K = N$ (one token per step) and an exact denoiser this is exact
        ancestral sampling from the target law $\pi$. With $K < N$ it is faster but wrong: tokens
        revealed together ignore each other's values. That error is the **factorization error**
        $E_{\mathrm{fact}}$.

        `exactmd` takes a small law $\pi$ (up to ~20 variables), enumerates it exactly, and computes
        every quantity of the theory (Lavenant & Zanella, arXiv 2510.25544) **exactly**: entropies,
        correlations, the information profile $f$, $E_{\mathrm{fact}}$, the exact law
        $p_{\mathrm{alg}}$ of the sampler's output and $\mathrm{KL}(\pi\,\|\,p_{\mathrm{alg}})$.
        All quantities are in **nats** (natural logarithms).
        """),
        code(r"""
        %matplotlib inline
        import math

        import matplotlib.pyplot as plt
        import numpy as np

        import exactmd
        from exactmd.models.zoo import markov_chain, parity
        from exactmd.schedule_families import linear

        LOG2 = math.log(2)
        """),
        md(r"""
        ## 1. A model

        Our model is a *copy chain*: $N = 8$ binary tokens, the first a fair bit, and each next
        token a copy of the previous one with probability $0.9$ (a flip with probability $0.1$).
        It comes from the model zoo, `exactmd.models.zoo`, as a validated `Distribution`
        holding the full joint table of $2^8 = 256$ probabilities (axis $i$ is token $i$).
        """),
        code(r"""
        N, stay = 8, 0.9
        P = np.array([[stay, 1 - stay], [1 - stay, stay]])
        pi = markov_chain([0.5, 0.5], P, N)
        table = pi.numpy()
        print(pi)
        print("outcomes:", table.size, "  total probability:", table.sum())
        print("P(all tokens 0) =", table[(0,) * N], " = 0.5 * 0.9**7 =", 0.5 * stay ** (N - 1))
        assert math.isclose(table[(0,) * N], 0.5 * stay ** (N - 1), rel_tol=1e-12)
        """),
        md(r"""
        ## 2. Its information measures

        * $H$ — the joint entropy: how many nats of randomness the sequence holds.
        * $\mathrm{TC} = \sum_i H(X_i) - H$ — **total correlation**: what is lost when every
          token is drawn from its own marginal, ignoring all others. It is the error of the
          one-step sampler ($K = 1$).
        * $\mathrm{DTC} = H - \sum_i H(X_i \mid X_{-i})$ — **dual total correlation**.
        * $D(\pi) = (\mathrm{TC} + \mathrm{DTC})/N = \frac1N \sum_i I(X_i; X_{-i})$ — the average
          information a token shares with the rest; $0 \le D \le \log q$.
        * The **information profile** $f(i)$, $i = 0..N-1$: reveal the tokens in a uniformly random
          order; $f(i)$ is the mean log-probability of the $(i+1)$-th token given the $i$ before it.
          It is non-decreasing (more context, better prediction), rises by exactly $D$ from
          $f(0)$ to $f(N-1)$, and sums to $-H$.
        """),
        code(r"""
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
        """),
        md(r"""
        These numbers are not just printed: the cell below checks them against closed forms
        that we derive by hand for this chain, and against the identities of the theory.

        * Each token after the first is an independent flip, so $H = \log 2 + (N-1)\,h(0.9)$ with
          $h$ the binary entropy; every marginal is a fair bit, so $\mathrm{TC} = N\log 2 - H$.
        * Given both neighbours $a, b$, a middle token is uniform when $a \ne b$ and equal to $a$
          with probability $0.9^2/(0.9^2 + 0.1^2)$ when $a = b$; an end token given its neighbour
          has entropy $h(0.9)$. This gives $\mathrm{DTC}$ and $f(N-1) = -\frac1N\sum_i
          H(X_i \mid X_{-i})$.
        """),
        code(r"""
        def h2(p):
            return -p * math.log(p) - (1 - p) * math.log(1 - p)

        H_exact = LOG2 + (N - 1) * h2(stay)
        TC_exact = N * LOG2 - H_exact
        same = stay**2 + (1 - stay) ** 2                      # P(both neighbours are equal)
        H_mid = same * h2(stay**2 / same) + (1 - same) * LOG2  # H(X_i | X_{i-1}, X_{i+1})
        cond_sum = 2 * h2(stay) + (N - 2) * H_mid              # Σ_i H(X_i | X_{-i})
        DTC_exact = H_exact - cond_sum

        assert math.isclose(H, H_exact, rel_tol=1e-12)
        assert math.isclose(TC, TC_exact, rel_tol=1e-12)
        assert math.isclose(DTC, DTC_exact, rel_tol=1e-12)
        # identities of the theory
        assert math.isclose(D, (TC + DTC) / N, rel_tol=1e-12)
        assert 0 <= D <= LOG2
        assert np.all(np.diff(f) >= -1e-12), "f must be non-decreasing"
        assert math.isclose(f[0], -LOG2, rel_tol=1e-12)           # no context: a fair bit
        assert math.isclose(f[-1], -cond_sum / N, rel_tol=1e-12)  # full context
        assert math.isclose(f[-1] - f[0], D, rel_tol=1e-10)
        assert math.isclose(f.sum(), -H, rel_tol=1e-12)
        print("all closed forms and identities hold")
        """),
        code(r"""
        fig, ax = plt.subplots(figsize=(6.5, 3.6))
        ax.plot(range(N), f, "o-", label="f(i)")
        ax.axhline(f[0], color="grey", ls=":", lw=1)
        ax.axhline(f[-1], color="grey", ls=":", lw=1)
        ax.annotate("", xy=(N - 1.3, f[-1]), xytext=(N - 1.3, f[0]),
                    arrowprops=dict(arrowstyle="<->", color="C3"))
        ax.text(N - 1.2, (f[0] + f[-1]) / 2, f"D(π) = {D:.3f}", color="C3", va="center")
        ax.set(xlabel="i = number of tokens already revealed",
               ylabel="f(i)  [nats]", title="information profile of the copy chain")
        ax.set_xlim(-0.3, N + 0.2)
        plt.show()
        """),
        md(r"""
        A known answer from the literature: the XOR of two fair bits ($N = 3$, the third token is
        the XOR of the first two) has $\mathrm{TC} = \log 2$, $\mathrm{DTC} = 2\log 2$,
        $D = \log 2$ and $f = (-\log 2, -\log 2, 0)$: any two tokens look independent, the third
        is then determined.
        """),
        code(r"""
        xor = parity(3)
        assert math.isclose(exactmd.total_correlation(xor), LOG2, rel_tol=1e-12)
        assert math.isclose(exactmd.dual_total_correlation(xor), 2 * LOG2, rel_tol=1e-12)
        assert math.isclose(exactmd.complexity(xor), LOG2, rel_tol=1e-12)
        np.testing.assert_allclose(exactmd.information_profile(xor), [-LOG2, -LOG2, 0.0],
                                   atol=1e-12)
        print("XOR: f / log 2 =", np.round(exactmd.information_profile(xor) / LOG2, 12))
        """),
        md(r"""
        ## 3. The sampler and its exact output law

        A **schedule** gives the step sizes $s_1..s_K$ (summing to $N$). With a list of sizes the
        positions revealed at each step are chosen uniformly at random among those still masked
        (an *exchangeable* schedule, as in MaskGIT or LLaDA with random remasking).

        `exactmd.output_distribution(pi, sizes)` returns $p_{\mathrm{alg}}$, the **exact** law of
        the sampler's output when the denoiser is $\pi$'s exact conditionals: a table of the same
        shape as $\pi$, computed by a recursion over the revealed sets (no sampling, no sum over
        orders). The theory says
        $$\mathrm{KL}(\pi\,\|\,p_{\mathrm{alg}}) \le E_{\mathrm{fact}}
        \le (\max_k s_k - 1)\,D(\pi).$$
        """),
        code(r"""
        sizes = [2, 2, 2, 2]
        p_alg = exactmd.output_distribution(pi, sizes)
        KL = exactmd.kl(pi, p_alg)
        E_fact = exactmd.factorization_error(pi, sizes)
        bound = exactmd.exchangeable_bound(pi, sizes)
        print(f"sizes {sizes}:  KL(π‖p_alg) = {KL:.6f} <= E_fact = {E_fact:.6f} "
              f"<= (max s - 1) D = {bound:.6f}")
        assert p_alg.shape == table.shape and math.isclose(p_alg.sum(), 1.0, rel_tol=1e-12)
        assert 0 < KL <= E_fact + 1e-12
        assert E_fact <= bound + 1e-12
        """),
        code(r"""
        fig, ax = plt.subplots(figsize=(4.8, 4.5))
        ax.loglog(table.ravel(), p_alg.ravel(), ".", alpha=0.6)
        lims = [table.min() / 2, 1]
        ax.plot(lims, lims, "k:", lw=1, label="p_alg = π")
        ax.set(xlabel="π(x)", ylabel="p_alg(x)",
               title=f"256 outcomes, sizes {sizes}")
        ax.legend()
        plt.show()
        """),
        md(r"""
        The sampler spreads mass away from the likely, smooth sequences (top right) towards the
        rare, jagged ones (bottom left): tokens revealed in the same step are drawn
        independently, so they disagree more often than the chain allows.

        $p_{\mathrm{alg}}$ is computed, not simulated. As a sanity check, we *run* the sampler
        (`exactmd.montecarlo.sample`, a plain vectorised simulation) and compare its samples
        with $p_{\mathrm{alg}}$ by a goodness-of-fit test (more on this in notebook 04).
        """),
        code(r"""
        from exactmd.montecarlo import empirical_law, sample
        from exactmd.testing.asserts import assert_sampler_matches

        x = sample(pi, sizes, 20_000, seed=0)
        fit = assert_sampler_matches(x, pi, sizes)  # raises AssertionError if inconsistent
        emp = empirical_law(x, pi.shape)
        print(f"20000 simulated runs: p-value {fit.pvalue:.3f}; max |empirical − p_alg| = "
              f"{np.abs(emp - p_alg).max():.4f}")
        """),
        md(r"""

        ## 4. Errors against the number of steps

        For every $K$ we compare the constant schedule (sizes as equal as possible) with the
        **optimal** schedule, the sizes that minimise $E_{\mathrm{fact}}$ (found exactly by
        dynamic programming on $f$, see notebook 03). The checks: $\mathrm{KL} \le
        E_{\mathrm{fact}} \le (N-K)D$, the optimum beats the constant schedule, $K = 1$ gives
        $E_{\mathrm{fact}} = \mathrm{KL} = \mathrm{TC}$, and $K = N$ gives $p_{\mathrm{alg}} = \pi$.
        """),
        code(r"""
        rows = {"constant": [], "optimal": []}
        for K in range(1, N + 1):
            for name, s in (("constant", linear(N, K).sizes),
                            ("optimal", exactmd.optimal_schedule(pi, K))):
                q_alg = exactmd.output_distribution(pi, s)
                kl_k = exactmd.kl(pi, q_alg)
                ef_k = exactmd.factorization_error(pi, s)
                assert kl_k <= ef_k + 1e-12
                assert ef_k <= exactmd.worst_case_bound(pi, K) + 1e-12
                rows[name].append((K, tuple(s), kl_k, ef_k))
        for (K, s_c, kl_c, e_c), (_, s_o, kl_o, e_o) in zip(rows["constant"], rows["optimal"]):
            assert e_o <= e_c + 1e-12
            print(f"K={K}  constant {str(s_c):26} E_fact={e_c:.4f} KL={kl_c:.4f} | "
                  f"optimal {str(s_o):26} E_fact={e_o:.4f} KL={kl_o:.4f}")
        assert math.isclose(rows["constant"][0][3], TC, rel_tol=1e-12)  # K = 1: E_fact = TC
        assert math.isclose(rows["constant"][0][2], TC, rel_tol=1e-12)  # ... and KL = TC
        assert abs(rows["constant"][-1][2]) < 1e-12 and rows["constant"][-1][3] == 0.0  # K = N
        assert np.allclose(exactmd.output_distribution(pi, [1] * N), table, atol=1e-15)
        """),
        code(r"""
        Ks = np.arange(1, N + 1)
        fig, ax = plt.subplots(figsize=(6.5, 4))
        for name, style in (("constant", "s"), ("optimal", "o")):
            ax.plot(Ks, [r[3] for r in rows[name]], style + "-", label=f"E_fact, {name}")
            ax.plot(Ks, [r[2] for r in rows[name]], style + ":", label=f"KL, {name}")
        ax.plot(Ks, (N - Ks) * D, "k--", lw=1, label="(N − K) D(π)")
        ax.set(xlabel="K (steps)", ylabel="nats", yscale="symlog",
               title="error of the parallel sampler on the copy chain")
        ax.set_yscale("symlog", linthresh=1e-2)
        ax.legend(fontsize=8)
        plt.show()
        """),
        md(r"""
        ## 5. Everything at once: the report

        `exactmd report` on the command line (or `exactmd.report.build_report` in Python)
        computes all of the above for a model and a list of $K$ and prints it as a table
        (`--json` for machine-readable output, `--plot out.png` for a figure).
        """),
        code(r"""
        from exactmd.report import build_report, format_report

        rep = build_report(pi, steps=[1, 2, 4, 8], name="copy chain, N = 8, stay = 0.9")
        print(format_report(rep))
        assert math.isclose(rep["total_correlation"], TC, rel_tol=1e-12)
        assert np.allclose(rep["profile"], f, atol=1e-12)
        for row in rep["steps"]:
            for entry in row["schedules"].values():
                assert entry["kl"] <= entry["factorization_error"] + 1e-12
        """),
        md(r"""
        Next: notebook **02** checks the theorems (with imperfect denoisers too), **03** the
        optimal schedules and their scaling theory, **04** uses `exactmd` as a test oracle for
        your own sampler and denoiser, and **05** computes profiles at larger $N$ on the torch
        backend (GPU when available).
        """),
    ]


# --------------------------------------------------------------------------------------------
# 02 theorems
# --------------------------------------------------------------------------------------------


def theorems() -> list[Cell]:
    return [
        md(r"""
        # The theorems, verified exactly

        This notebook checks, on exact numbers rather than simulations, the main results of the
        theory of factorized (parallel) unmasking:

        1. the **decomposition** $\mathrm{KL}(\pi\,\|\,p_{\mathrm{alg}}) \le E_{\mathrm{learn}} +
           E_{\mathrm{fact}}$, for the exact denoiser ($E_{\mathrm{learn}} = 0$) and for imperfect
           ones, with exchangeable, deterministic and random-reveal schedules;
        2. the **worst-case bound** $E_{\mathrm{fact}} \le (N-K)\,D(\pi) \le (N-K)\log q$ for
           constant sizes under any planner, and the law that reaches it (block copy);
        3. the **exchangeable bound** $E_{\mathrm{fact}} \le (\max_k s_k - 1)\,D(\pi)$;
        4. the two extremes: $K = 1$ gives the product of the marginals and
           $E_{\mathrm{fact}} = \mathrm{TC}$; $K = N$ gives $\pi$ itself.

        Every cell ends in `assert`s: if a number were wrong, the notebook would fail.

        **Vocabulary.** A *denoiser* maps a partially masked sequence to a probability over the
        values of each masked position. $E_{\mathrm{learn}}$ is the expected sum, over the tokens
        the sampler reveals, of $\mathrm{KL}$(exact conditional ‖ denoiser's conditional): the
        error of the denoiser itself. $E_{\mathrm{fact}}$ is the expected sum over steps of the
        total correlation of the tokens revealed together, given the context: the error of
        drawing them independently.
        """),
        code(r"""
        %matplotlib inline
        import itertools
        import math
        from functools import reduce

        import matplotlib.pyplot as plt
        import numpy as np

        import exactmd
        from exactmd.bound import check_bound
        from exactmd.denoisers import exact_denoiser, perturbed_denoiser
        from exactmd.models.zoo import block_copy, hmm, markov_chain, parity, random_joint
        from exactmd.optimal import optimal_curve
        from exactmd.schedules import RandomRevealSchedule
        from exactmd.testing.denoiser_checks import learning_error_breakdown

        laws = {
            "random (2,3,2,3), 30% zeros": random_joint((2, 3, 2, 3), alpha=0.5, seed=3,
                                                         zeros=0.3),
            "HMM, N=5, 3 symbols": hmm([0.6, 0.4], [[0.85, 0.15], [0.2, 0.8]],
                                       [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]], 5),
            "parity, N=5": parity(5),
            "copy chain, N=6": markov_chain([0.5, 0.5], [[0.9, 0.1], [0.1, 0.9]], 6),
        }
        for name, p in laws.items():
            print(f"{name:28} shape {p.shape}  zeros {int((p.numpy() == 0).sum()):3d}  "
                  f"TC {exactmd.total_correlation(p):.4f}  D {exactmd.complexity(p):.4f}")
        """),
        md(r"""
        ## 1. $\mathrm{KL} \le E_{\mathrm{learn}} + E_{\mathrm{fact}}$

        For every law we take three planners with $K = 2$ or $3$ steps:

        * **exchangeable** — fixed sizes, positions chosen uniformly at random;
        * **deterministic** — a fixed ordered partition of the positions;
        * **random reveal** — MDLM's sampler: each masked position is revealed at step $k$
          independently with a probability given by the noise schedule (random sizes);

        and four denoisers: the exact one, and `perturbed_denoiser` copies that are tempered
        ($\pi(\cdot\mid\mathrm{ctx})^{1/T}$, renormalised) and/or mixed with a random law. A
        perturbed denoiser is a deterministic function of the context, as the theory requires.
        For each triple we compute the exact $p_{\mathrm{alg}}$, its KL from $\pi$, and the exact
        $E_{\mathrm{learn}}$ and $E_{\mathrm{fact}}$.
        """),
        code(r"""
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
                    records.append(dict(law=lname, kind=kind, den=dname, e_fact=e_fact,
                                        e_learn=e_learn, kl=exactmd.kl(p, p_alg)))

        print(f"{'law':28} {'planner':14} {'denoiser':18} {'KL':>8} {'E_learn':>8} {'E_fact':>8}")
        for r in records:
            print(f"{r['law']:28} {r['kind']:14} {r['den']:18} {r['kl']:8.4f} "
                  f"{r['e_learn']:8.4f} {r['e_fact']:8.4f}")
        """),
        code(r"""
        for r in records:
            assert r["kl"] <= r["e_learn"] + r["e_fact"] + 1e-10, r      # the theorem
            # parity's conditionals are uniform or one-hot, which tempering leaves unchanged
            exact = r["den"] == "exact" or (r["law"].startswith("parity") and r["den"] == "T = 1.5")
            if exact:
                assert abs(r["e_learn"]) < 1e-12, r                      # E_learn = 0
            else:
                assert r["e_learn"] > 0, r
            if r["kind"] == "deterministic":                             # equality there
                assert math.isclose(r["kl"], r["e_learn"] + r["e_fact"], rel_tol=1e-9,
                                    abs_tol=1e-12), r
        print(f"KL <= E_learn + E_fact holds in all {len(records)} cases")

        # E_learn cross-checked against an independent enumeration of the contexts
        for p in laws.values():
            for sched in planners(p).values():
                den = perturbed_denoiser(p, temperature=0.7, noise=0.05, seed=2)
                ref = learning_error_breakdown(p, sched, den).total
                assert math.isclose(exactmd.learning_error(p, sched, den), ref, rel_tol=1e-9)
        # exactmd.bound.check_bound computes the three terms in one call
        p = laws["copy chain, N=6"]
        rep = check_bound(p, planners(p)["exchangeable"], denoisers(p)["10% noise"])
        print(rep)
        row = next(r for r in records if r["law"] == "copy chain, N=6"
                   and r["kind"] == "exchangeable" and r["den"] == "10% noise")
        assert rep.holds and math.isclose(rep.kl, row["kl"], rel_tol=1e-12)
        assert math.isclose(rep.bound, row["e_learn"] + row["e_fact"], rel_tol=1e-12)
        # the exact denoiser passed as a callable gives the same law as the built-in one
        p = laws["HMM, N=5, 3 symbols"]
        assert np.allclose(exactmd.output_distribution(p, [3, 2], exact_denoiser(p)),
                           exactmd.output_distribution(p, [3, 2]), atol=1e-14)
        """),
        md(r"""
        For a **deterministic** planner the bound is an equality: the sampler's law factorizes
        along the same blocks as $\pi$'s chain rule, so $\log \pi(x) / p_{\mathrm{alg}}(x)$
        splits exactly into the two errors. For exchangeable and random planners the KL is
        never larger and typically smaller: averaging over the random order mixes the errors of
        different orders (KL is convex); it is equal when, for example, both errors vanish.
        """),
        code(r"""
        fig, ax = plt.subplots(figsize=(5.5, 5))
        markers = {"exchangeable": "o", "deterministic": "s", "random reveal": "^"}
        for kind, marker in markers.items():
            sel = [r for r in records if r["kind"] == kind]
            ax.scatter([r["e_learn"] + r["e_fact"] for r in sel], [r["kl"] for r in sel],
                       marker=marker, alpha=0.7, label=kind)
        top = max(r["e_learn"] + r["e_fact"] for r in records) * 1.1
        ax.plot([0, top], [0, top], "k:", lw=1, label="KL = E_learn + E_fact")
        ax.set(xlabel="E_learn + E_fact  [nats]", ylabel="KL(π ‖ p_alg)  [nats]",
               title="every point lies on or below the diagonal")
        ax.legend(fontsize=8)
        plt.show()
        """),
        md(r"""
        ## 2. The worst-case bound and the law that reaches it

        With $K$ steps of constant size $s = N/K$, whatever the planner (even one that looks at
        the revealed values), $E_{\mathrm{fact}} \le (N-K)\,D(\pi) \le (N-K)\log q$.

        The bound is reached by **block copy**: split the positions into $K$ blocks of size $s$,
        give each block one uniform value, copied to all its positions, blocks independent.
        Then $D(\pi) = \log q$, and the deterministic planner that reveals exactly one block per
        step draws the $s$ copies independently: a block's tokens agree with probability
        $q^{1-s}$ instead of $1$, and $\mathrm{KL} = E_{\mathrm{fact}} = (N-K)\log q$.

        Below: $N = 6$, $K = 3$, $q = 3$, and **all 90** ordered partitions of the six positions
        into three pairs.
        """),
        code(r"""
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
            bound = exactmd.worst_case_bound(p, K)
            assert bound <= exactmd.worst_case_log_bound(p, K) + 1e-12
            errors[name] = np.array([exactmd.factorization_error(p, z) for z in partitions])
            assert np.all(errors[name] <= bound + 1e-12), name
            print(f"{name:20} max E_fact over 90 planners = {errors[name].max():.6f} "
                  f"<= (N-K) D = {bound:.6f} <= (N-K) log q = "
                  f"{exactmd.worst_case_log_bound(p, K):.6f}")

        aligned = [[0, 1], [2, 3], [4, 5]]
        e_aligned = exactmd.factorization_error(copy, aligned)
        kl_aligned = exactmd.kl(copy, exactmd.output_distribution(copy, aligned))
        print(f"block copy, one block per step: E_fact = {e_aligned:.12f}, "
              f"KL = {kl_aligned:.12f}, (N-K) log q = {worst:.12f}")
        assert math.isclose(e_aligned, worst, rel_tol=1e-12)
        assert math.isclose(kl_aligned, worst, rel_tol=1e-12)
        assert math.isclose(errors["block copy, q = 3"].max(), worst, rel_tol=1e-12)
        """),
        md(r"""
        An **adaptive** planner chooses the next positions from the values already revealed.
        The bound covers it too. `exactmd.adaptive.AdaptiveSchedule(sizes, planner)` computes
        the exact law, $E_{\mathrm{fact}}$ and $E_{\mathrm{learn}}$ of any planner by
        enumerating its states; `most_confident_planner` reveals, at each step, the positions
        whose conditional is the most peaked (largest summed top probability; ties split
        uniformly). Below, the library is checked against an independent enumeration written
        by hand, then we check $\mathrm{KL} \le E_{\mathrm{fact}} \le (N-K)\,D(\pi)$, the
        bound with a learned denoiser, and $K = N$ / $K = 1$.
        A planner that never ties is a function of the revealed values, so given $x$ its path
        is fixed and KL *equals* $E_{\mathrm{learn}} + E_{\mathrm{fact}}$ (random binary law);
        the block-copy law has ties, and there the inequality is strict.
        """),
        code(r"""
        from exactmd.adaptive import AdaptiveSchedule, most_confident_planner


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
                    margs = {i: joint.sum(axis=tuple(k for k, j in enumerate(masked) if j != i))
                             for i in masked}
                    score = {z: round(sum(margs[i].max() for i in z), 12)
                             for z in itertools.combinations(masked, s)}
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
            by_hand, e_hand = peaked_first(p, [2, 2, 2])        # the independent cross-check
            assert np.allclose(law, by_hand, rtol=0, atol=1e-14)
            assert math.isclose(e_ad, e_hand, rel_tol=1e-10, abs_tol=1e-14)
            kl_ad = exactmd.kl(p, law)
            bound = exactmd.worst_case_bound(p, K)
            learned = check_bound(p, planner([2, 2, 2]), perturbed_denoiser(p, 1.3, 0.2, seed=1))
            print(f"{name:20} adaptive planner: KL = {kl_ad:.4f} <= E_fact = {e_ad:.4f} "
                  f"<= (N-K) D = {bound:.4f}; learned denoiser: KL = {learned.kl:.4f} <= "
                  f"E_learn + E_fact = {learned.bound:.4f}")
            assert math.isclose(law.sum(), 1.0, rel_tol=1e-12)
            assert kl_ad <= e_ad + 1e-12 and e_ad <= bound + 1e-12 and learned.holds
            one_each = exactmd.output_distribution(p, planner([1] * n))   # K = N: exact sampling
            assert np.allclose(one_each, p.numpy(), atol=1e-14)
            assert abs(exactmd.factorization_error(p, planner([1] * n))) < 1e-12
            e_1 = exactmd.factorization_error(p, planner([n]))             # K = 1: TC
            assert math.isclose(e_1, exactmd.total_correlation(p), rel_tol=1e-10)
            assert math.isclose(e_1, peaked_first(p, [n])[1], rel_tol=1e-10)
        """),
        md(r"""
        **Outside the theorem: LLaDA's low-confidence remasking.** LLaDA first *draws* a
        proposal for every masked position, then keeps the $s_k$ proposals with the highest
        probability. The positions are chosen **after** looking at the drawn values, so this is
        not a planner in the sense of the theory, and nothing bounds its error by
        $(N-K)\,D(\pi)$. `exactmd.testing.examples.low_confidence_law` enumerates its exact
        law: on the random binary law its KL is above the bound that every planner obeys.
        """),
        code(r"""
        from exactmd.testing.examples import low_confidence_law

        kl_lc = {name: exactmd.kl(p, low_confidence_law(p, [2, 2, 2]))
                 for name, p in pair_laws.items()}
        for name, p in pair_laws.items():
            print(f"{name:20} low-confidence remasking: KL = {kl_lc[name]:.4f}   "
                  f"(N-K) D = {exactmd.worst_case_bound(p, K):.4f}")
        assert kl_lc["random binary law"] > exactmd.worst_case_bound(noisy, K)
        """),
        code(r"""
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
        for ax, (name, errs) in zip(axes, errors.items()):
            p = pair_laws[name]
            ax.hist(errs, bins=30, color="C0", alpha=0.8)
            ax.axvline(exactmd.worst_case_bound(p, K), color="C3", ls="--", label="(N − K) D(π)")
            ax.axvline(exactmd.factorization_error(p, [2, 2, 2]), color="C2",
                       label="exchangeable (mean)")
            ax.set(xlabel="E_fact of a deterministic planner [nats]", ylabel="planners",
                   title=name)
            ax.legend(fontsize=8)
        plt.tight_layout()
        plt.show()
        """),
        md(r"""
        The green line is the **exchangeable** schedule with sizes $(2,2,2)$: choosing the
        partition uniformly at random, its $E_{\mathrm{fact}}$ is exactly the **average** over
        the 90 deterministic planners, and its $p_{\mathrm{alg}}$ is the average of their output
        laws. Both facts are checked next, from first principles.
        """),
        code(r"""
        for name, p in pair_laws.items():
            assert math.isclose(exactmd.factorization_error(p, [2, 2, 2]), errors[name].mean(),
                                rel_tol=1e-10)
            mean_law = np.mean([exactmd.output_distribution(p, z) for z in partitions], axis=0)
            assert np.allclose(exactmd.output_distribution(p, [2, 2, 2]), mean_law, atol=1e-14)
        print("exchangeable = average over the 90 ordered partitions: E_fact and p_alg agree")
        """),
        md(r"""
        ## 3. The exchangeable bound $E_{\mathrm{fact}} \le (\max_k s_k - 1)\,D(\pi)$

        For exchangeable schedules the bound depends only on the largest step. We check it on
        **every** composition of $N$ (all $2^{N-1}$ size sequences) for each law.
        """),
        code(r"""
        def compositions(n):
            for cuts in itertools.product([0, 1], repeat=n - 1):
                sizes, run = [], 1
                for c in cuts:
                    if c:
                        sizes.append(run)
                        run = 1
                    else:
                        run += 1
                yield sizes + [run]

        points = []
        for lname, p in {**laws, "block copy, q = 3": copy}.items():
            comps = list(compositions(p.n))
            assert len(comps) == 2 ** (p.n - 1)
            for s in comps:
                e = exactmd.factorization_error(p, s)
                b = exactmd.exchangeable_bound(p, s)
                assert -1e-12 <= e <= b + 1e-12, (lname, s, e, b)
                points.append((lname, b, e))
        print(f"checked {len(points)} (law, sizes) pairs")

        fig, ax = plt.subplots(figsize=(5.5, 5))
        for lname in dict.fromkeys(pt[0] for pt in points):
            sel = [pt for pt in points if pt[0] == lname]
            ax.scatter([pt[1] for pt in sel], [pt[2] for pt in sel], s=12, alpha=0.6,
                       label=lname)
        top = max(pt[1] for pt in points) * 1.05
        ax.plot([0, top], [0, top], "k:", lw=1)
        ax.set(xlabel="(max s − 1) D(π)", ylabel="E_fact",
               title="exchangeable bound, every composition")
        ax.legend(fontsize=7)
        plt.show()
        """),
        md(r"""
        ## 4. The extremes: $K = 1$ and $K = N$

        * $K = 1$: every token is drawn at once from its marginal, so $p_{\mathrm{alg}}$ is the
          **product of the marginals** and $E_{\mathrm{fact}} = \mathrm{KL}(\pi \,\|\,
          \otimes_i \pi_i) = \mathrm{TC}$. We build the product by hand with numpy.
        * $K = N$: one token per step from the exact conditional is ancestral sampling, so
          $p_{\mathrm{alg}} = \pi$ (for any order) and $E_{\mathrm{fact}} = 0$. With an
          imperfect denoiser only $E_{\mathrm{learn}}$ remains.
        """),
        code(r"""
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
        """),
        code(r"""
        fig, ax = plt.subplots(figsize=(6, 3.8))
        for lname, c in curves.items():
            n = len(c)
            ax.plot((np.arange(1, n + 1) - 1) / (n - 1), c, "o-", label=lname)
        ax.set(xlabel="(K − 1)/(N − 1)", ylabel="min E_fact / TC",
               title="from TC at K = 1 to 0 at K = N (optimal schedules)")
        ax.legend(fontsize=8)
        plt.show()
        """),
    ]


# --------------------------------------------------------------------------------------------
# 03 schedules
# --------------------------------------------------------------------------------------------


def schedules() -> list[Cell]:
    return [
        md(r"""
        # Schedules: the optimum, its shape, and its scaling theory

        With $K$ steps, **which** sizes $s_1..s_K$ should a parallel sampler use? For an
        exchangeable schedule (positions chosen at random) the factorization error depends on
        the law only through its information profile $f$:
        $$E_{\mathrm{fact}} = \sum_{i=0}^{N-1} f(i) - \sum_{k=0}^{K-1} s_{k+1}\, f(a_k),
        \qquad a_k = s_1 + \dots + s_k .$$
        Each step pays $\sum_{i=a_k}^{a_{k+1}-1} (f(i) - f(a_k))$: the information the tokens
        of the step would have given each other. So a step should be **large where $f$ is
        flat** and **small where $f$ rises**. This notebook covers:

        1. the exact optimum (dynamic programming) against the constant, cosine (MaskGIT) and
           log-linear (MDLM's noise, as deterministic sizes $a_k = \lceil N\alpha(k/K)\rceil$)
           schedules. At this small $N$ the log-linear sizes differ from the constant ones only
           because the ceiling turns MDLM's tiny $\varepsilon N$ into whole tokens; MDLM's real
           sampler reveals at random (`RandomRevealSchedule`, notebook 02);
        2. the convex/concave lemma;
        3. the scaling limit $N/K \to \infty$ and the gain formula, against exact values;
        4. the regime $N/K \to \bar s$;
        5. a Markov chain at $N = 1024$, with its exact profile;
        6. estimating $f$ from 100 vs 1000 samples, when $\pi$ is unknown.
        """),
        code(r"""
        %matplotlib inline
        import itertools
        import math

        import matplotlib.pyplot as plt
        import numpy as np

        import exactmd
        from exactmd.factorization import factorization_error_from_profile as e_fact
        from exactmd.models.zoo import hmm, markov_chain, random_xorsat
        from exactmd.optimal import optimal_table
        from exactmd.schedule_families import cosine, geometric, linear, loglinear
        from exactmd.scaling import (
            predicted_error, predicted_gain, sqrt_rule_schedule,
        )
        """),
        md(r"""
        ## 1. The optimal schedule against the usual ones

        The law: the observations of a hidden Markov model ($N = 10$ binary tokens, a sticky
        hidden state seen through 15% noise). Its profile rises fast at first (the first few
        tokens tell a lot about the hidden state) and then flattens.

        `exactmd.optimal_schedule(p, K)` solves the minimisation exactly by dynamic programming
        over the boundaries $a_k$; we also check it against a **brute-force** search over all
        $2^{N-1} = 512$ size sequences.
        """),
        code(r"""
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
            print(f"K={K:2d} optimal {str(opt):32} E_fact={e_opt:.4f}  " +
                  "  ".join(f"{k}={v:.4f}" for k, v in errs.items()))
        """),
        md(r"""
        $E_{\mathrm{fact}}$ bounds the true error $\mathrm{KL}(\pi\,\|\,p_{\mathrm{alg}})$. Does
        the schedule that minimises the bound also reduce the KL? Exactly computed, at $K = 3$
        and $4$:
        """),
        code(r"""
        for K in (3, 4):
            for name, s in (("optimal", exactmd.optimal_schedule(law, K)),
                            ("constant", linear(N, K).sizes), ("cosine", cosine(N, K).sizes)):
                kl = exactmd.kl(law, exactmd.output_distribution(law, s))
                assert kl <= exactmd.factorization_error(law, s) + 1e-12
                print(f"K={K} {name:9} sizes {str(tuple(s)):16} KL(π‖p_alg) = {kl:.4f}")
        """),
        code(r"""
        fig, axes = plt.subplots(1, 2, figsize=(12, 4))
        Ks = np.arange(1, N)  # K = N gives 0 for every schedule
        axes[0].plot(Ks, [r[2] for r in table_rows[:-1]], "o-", lw=2, label="optimal")
        for name in families:
            axes[0].plot(Ks, [r[3][name] for r in table_rows[:-1]], ".--", label=name)
        axes[0].set(xlabel="K", ylabel="E_fact [nats]", yscale="log",
                    title="HMM, N = 10: E_fact against K")
        axes[0].legend()
        K = 4
        shown = [("optimal", exactmd.optimal_schedule(law, K)),
                 *((n, fam(N, K).sizes) for n, fam in families.items())]
        for row, (_, s) in enumerate(shown):
            a = np.concatenate([[0], np.cumsum(s)])
            axes[1].broken_barh([(a[k], s[k]) for k in range(K)], (row - 0.35, 0.7),
                                facecolors=[f"C{k}" for k in range(K)], edgecolor="white")
        axes[1].set_yticks(range(len(shown)), [f"{n} {tuple(s)}" for n, s in shown])
        axes[1].invert_yaxis()
        ax2 = axes[1].twinx()
        ax2.plot(np.arange(N) + 0.5, f, "k.:", label="f(i)")
        ax2.set_ylabel("f(i) (dotted)")
        axes[1].set(xlabel="positions, in the order they are revealed", xlim=(0, N),
                    title=f"K = {K}: one coloured block per step")
        plt.tight_layout()
        plt.show()
        """),
        md(r"""
        ## 2. The convex/concave lemma

        If $f$ is **concave** (information arrives early: increments $\Delta f$ decrease), the
        optimal sizes are **non-decreasing**: small careful steps first, big ones at the end. If
        $f$ is **convex** (information arrives late), they are **non-increasing**.

        The HMM above has a concave profile. A planted random 3-XORSAT instance (the uniform law
        on the solutions of 3 random parity constraints on 10 bits) has a convex one: a
        constraint only helps once two of its three bits are known. We check the lemma for
        every $K$ on both laws and on synthetic profiles.
        """),
        code(r"""
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
            print(f"{name:26} {'convex' if convex else 'concave'}: sizes "
                  f"{'non-increasing' if convex else 'non-decreasing'} for every K; "
                  f"K=4: {exactmd.optimal_schedule(prof, 4)}")
        """),
        code(r"""
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
        for name in ("HMM (concave)", "3-XORSAT (convex)"):
            prof = profiles[name]
            axes[0].plot(np.arange(prof.size), (prof - prof[0]) / (prof[-1] - prof[0]), "o-",
                         label=name)
            axes[1].plot(np.arange(1, 6), exactmd.optimal_schedule(prof, 5), "o-", label=name)
        axes[0].set(xlabel="i", ylabel="(f(i) − f(0)) / D", title="normalised profiles")
        axes[1].set(xlabel="step k", ylabel="optimal size s_k", title="optimal sizes, K = 5")
        axes[0].legend()
        axes[1].legend()
        plt.tight_layout()
        plt.show()
        """),
        md(r"""
        ## 3. The scaling limit $N/K \to \infty$ and the gain formula

        Write $f(i) \approx f(0) + D\,\bar f(i/N)$ with $\bar f(0) = 0$, $\bar f(1) = 1$, and a
        schedule as a curve $a_k = \lceil N\alpha(k/K) \rceil$. When $N/K \to \infty$,
        $$E_{\mathrm{fact}} \approx \frac{D}{2}\,\frac{N}{K} \int_0^1 \bar f'(\alpha_t)\,
        \dot\alpha_t^2\, dt .$$
        The constant schedule ($\alpha_t = t$) gives $\frac{D}{2}\frac{N}{K}$; the optimal curve
        is $\alpha_t = G^{-1}(t\,G(1))$ with $G(y) = \int_0^y \sqrt{\bar f'}$, it takes steps
        $\propto 1/\sqrt{\Delta f}$ (the *square-root rule*), and the **gain** is
        $$\frac{E_{\mathrm{opt}}}{E_{\mathrm{const}}} \to
        \Big(\int_0^1 \sqrt{\bar f'}\Big)^2 \Big/ \int_0^1 \bar f' \;\le 1 .$$
        For $\bar f(x) = x^p$ this is $4p/(p+1)^2$. Below, exact optima by dynamic programming at
        $N = 1000$ against the formula.
        """),
        code(r"""
        N_big, Ks = 1000, [5, 10, 20, 40]
        gains = {}
        for p in (2, 3):
            prof = (np.arange(N_big) / N_big) ** p
            table = optimal_table(prof, max(Ks))
            exact = [table.error(K) / e_fact(prof, linear(N_big, K)) for K in Ks]
            sqrt_rule = [e_fact(prof, sqrt_rule_schedule(prof, K)) / e_fact(prof, linear(N_big, K))
                         for K in Ks]
            formula = 4 * p / (p + 1) ** 2
            assert math.isclose(predicted_gain(prof), formula, rel_tol=2e-3)
            for K, g, g_sqrt in zip(Ks, exact, sqrt_rule):
                assert formula - 0.035 <= g <= formula + 1e-9, (p, K, g)  # approaches from below
                assert g <= g_sqrt + 1e-12                                 # DP is the optimum
            assert abs(exact[-1] - formula) < abs(exact[0] - formula)       # and gets closer
            gains[p] = (exact, sqrt_rule, formula)
            print(f"f̄ = x^{p}: formula {formula:.4f}; exact gain at K={Ks}: "
                  f"{np.round(exact, 4)}; square-root rule {np.round(sqrt_rule, 4)}")
        """),
        code(r"""
        fig, ax = plt.subplots(figsize=(6.5, 4))
        for p, (exact, sqrt_rule, formula) in gains.items():
            line, = ax.plot(Ks, exact, "o-", label=f"exact optimum, f̄ = x^{p}")
            ax.plot(Ks, sqrt_rule, "x:", color=line.get_color(), label="square-root rule")
            ax.axhline(formula, color=line.get_color(), ls="--", lw=1,
                       label=f"4p/(p+1)² = {formula:.3f}")
        ax.set(xscale="log", xlabel="K (N = 1000)", ylabel="E_opt / E_constant",
               title="gain of the optimal schedule vs the scaling formula")
        ax.set_xticks(Ks, [str(k) for k in Ks])
        ax.set_xticks([], minor=True)
        ax.legend(fontsize=7)
        plt.show()
        """),
        md(r"""
        ## 4. The regime $N/K \to \bar s$

        When $K$ grows with $N$ at a fixed mean step size $\bar s = N/K$, $E_{\mathrm{fact}}$
        stays of order $D$ and the large-$N/K$ formula is off: sizes are integers, and the
        $\bar s$ tokens of a step only pay for $\bar s - 1$ of them. The limit is
        $$E_{\mathrm{fact}} \to \frac{D}{2}\Big(\bar s \int_0^1 \bar f'(\alpha_t)\,
        h_{\bar s}(\dot\alpha_t)\, dt - 1\Big),$$
        where $h_{\bar s}$ interpolates $z \mapsto z^2$ linearly at the points $z = m/\bar s$.
        For the constant schedule with $\bar s = 2.5$ (sizes alternating 3 and 2),
        $h_{2.5}(1) = 1.04$ and the limit is $\frac{D}{2}(2.5 \cdot 1.04 - 1) = 0.8\,D$ whereas
        the large-$N/K$ formula gives $1.25\,D$. We take $\bar f(x) = x^2$ and let $N$ grow.
        """),
        code(r"""
        cases = {
            "constant, s̄ = 2.5": (2.5, linear, lambda t: t),
            "geometric(3), s̄ = 3": (3, lambda n, k: geometric(n, k, ratio=3.0),
                                     lambda t: (3.0**t - 1) / 2),
        }
        Ns = [60, 240, 960, 3840]
        regime = {}
        for name, (sbar, family, alpha) in cases.items():
            exact, finite, large = [], [], []
            for n in Ns:
                k = int(round(n / sbar))
                prof = (np.arange(n) / n) ** 2
                scale = prof[-1] - prof[0]
                exact.append(e_fact(prof, family(n, k)) / scale)
                finite.append(predicted_error(prof, alpha, k, regime="finite") / scale)
                large.append(predicted_error(prof, alpha, k, regime="large") / scale)
            regime[name] = (exact, finite, large)
            rel = [abs(e - p) / e for e, p in zip(exact, finite)]
            print(f"{name:20} exact E/D {np.round(exact, 5)}\n{'':20} finite-s̄ theory "
                  f"{np.round(finite, 5)}  (rel. gap {np.round(rel, 5)})\n{'':20} "
                  f"large-N/K theory {np.round(large, 4)}")
            assert rel[-1] < 2e-3                                 # the N/K -> s̄ limit holds
            assert abs(large[-1] - exact[-1]) / exact[-1] > 0.2  # the N/K -> ∞ formula is off
        exact, finite, _ = regime["constant, s̄ = 2.5"]
        assert math.isclose(exact[-1], 0.8, rel_tol=1e-3) and math.isclose(finite[-1], 0.8,
                                                                             rel_tol=1e-3)
        """),
        code(r"""
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
        """),
        md(r"""
        ## 5. A Markov chain at $N = 1024$

        No table of $2^{1024}$ entries is needed: for a Markov chain the entropy of any subset
        depends only on its first element and its gaps, and `exactmd.markov_profile` sums over
        subsets in closed form, giving the exact profile in milliseconds. We first check it
        against full enumeration at $N = 12$, then design schedules at $N = 1024$.
        """),
        code(r"""
        from exactmd.markov_profile import markov_profile

        P = np.array([[0.9, 0.1], [0.1, 0.9]])
        small = markov_chain([0.5, 0.5], P, 12)
        assert np.allclose(markov_profile([0.5, 0.5], P, 12), exactmd.information_profile(small),
                           atol=1e-12)

        N_m = 1024
        fm = markov_profile([0.5, 0.5], P, N_m)
        D_m = fm[-1] - fm[0]
        assert np.all(np.diff(fm) >= -1e-12) and math.isclose(fm[0], -math.log(2), rel_tol=1e-12)
        assert np.all(np.diff(fm, 2) <= 1e-12)  # concave: the lemma applies
        print(f"N = {N_m}: f(0) = {fm[0]:.6f}, D = {D_m:.6f}, "
              f"H = {-fm.sum():.4f} nats")

        K = 32
        tab = optimal_table(fm, K)
        opt = tab.sizes(K)
        assert np.all(np.diff(opt) >= 0)
        named = {"constant": linear(N_m, K), "cosine": cosine(N_m, K),
                 "log-linear": loglinear(N_m, K), "square-root rule": sqrt_rule_schedule(fm, K)}
        errs = {name: e_fact(fm, s) for name, s in named.items()}
        assert all(tab.error(K) <= e + 1e-9 for e in errs.values())
        print(f"K = {K}: optimal E_fact = {tab.error(K):.4f};  " +
              ", ".join(f"{k} {v:.4f}" for k, v in errs.items()))
        g_exact = tab.error(K) / errs["constant"]
        print(f"gain E_opt/E_const = {g_exact:.4f}; scaling formula (∫√f̄')²/∫f̄' = "
              f"{predicted_gain(fm):.4f}")
        assert abs(g_exact - predicted_gain(fm)) < 0.02
        """),
        code(r"""
        fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
        axes[0].plot(np.arange(N_m), fm)
        axes[0].set(xlabel="i", ylabel="f(i)", title="exact profile, copy chain, N = 1024")
        for name, s in (("optimal", opt), *((k, v.sizes) for k, v in named.items())):
            axes[1].plot(np.arange(1, K + 1), s, ".-",
                         label=f"{name}: E_fact = {e_fact(fm, s):.3f}")
        axes[1].set(xlabel="step k", ylabel="size s_k", title=f"schedules, K = {K}")
        axes[1].legend(fontsize=8)
        plt.tight_layout()
        plt.show()
        """),
        md(r"""
        ## 6. Estimating $f$ from samples

        In practice $\pi$ is unknown: we have samples and a trained denoiser. Since
        $f(i) = \mathbb E[\log p(x_{\sigma(i+1)} \mid x_{\sigma(1..i)})]$ over $x \sim \pi$ and a
        random order $\sigma$, `exactmd.estimate.estimate_profile` averages the denoiser's
        log-probabilities along random orders of the samples, with standard errors. Here the
        denoiser is exact, so only the sampling noise remains; we compare 100 and 1000 samples
        from the HMM of section 1, and ask how much $E_{\mathrm{fact}}$ is lost by optimising
        the schedule on the estimate instead of the truth.
        """),
        code(r"""
        from exactmd.denoisers import exact_denoiser
        from exactmd.estimate import estimate_profile
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
            print(f"M = {M:4d}: max |f̂ − f| = {np.abs(est.profile - f).max():.4f}, "
                  f"mean stderr = {est.stderr.mean():.4f}")
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
        """),
        code(r"""
        fig, ax = plt.subplots(figsize=(6.5, 4))
        ax.plot(np.arange(N), f, "k-", lw=2, label="exact f")
        for (M, est), dx in zip(estimates.items(), (-0.08, 0.08)):
            ax.errorbar(np.arange(N) + dx, est.profile, yerr=2 * est.stderr, fmt="o", ms=4,
                        capsize=3, label=f"estimate, {M} samples (± 2 s.e.)")
        ax.set(xlabel="i", ylabel="f(i) [nats]", title="estimating the profile from samples")
        ax.legend()
        plt.show()
        """),
    ]


# --------------------------------------------------------------------------------------------
# 04 test oracle
# --------------------------------------------------------------------------------------------


def test_oracle() -> list[Cell]:
    return [
        md(r"""
        # exactmd as a test oracle for your sampler and your denoiser

        A parallel sampler is **not** supposed to sample from $\pi$: with $K < N$ steps its
        output law is $p_{\mathrm{alg}} \ne \pi$. So "compare the samples with $\pi$" is the
        wrong test, and without the exact $p_{\mathrm{alg}}$ most bugs (a stale context, tokens
        of a step conditioned on each other, a reversed schedule) are invisible.
        `exactmd.testing` gives pytest-ready assertions:

        * `assert_sampler_matches(samples, p, schedule, denoiser=None)` — a goodness-of-fit test
          of the samples against the **exact** $p_{\mathrm{alg}}$ of that schedule and denoiser;
        * `assert_denoiser_matches(denoiser, p)` — compares a denoiser with the exact conditionals
          on every context of positive probability;
        * `assert_profile_close(estimate, p, ...)` — for estimators of the profile $f$;
        * hypothesis strategies (`exactmd.testing.strategies`) to draw random laws and schedules.

        On failure each raises an `AssertionError` whose message says what disagrees. Below we
        write a small sampler and a small denoiser the way a user would, show that the correct
        ones pass, and plant bugs that the oracle catches.
        """),
        code(r"""
        %matplotlib inline
        import math

        import matplotlib.pyplot as plt
        import numpy as np

        import exactmd
        from exactmd.denoisers import exact_denoiser, perturbed_denoiser
        from exactmd.models.zoo import hmm
        from exactmd.testing.asserts import (
            assert_denoiser_matches, assert_sampler_matches, assert_samples_match,
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
        """),
        md(r"""
        ## 1. A sampler under test

        A plain numpy parallel sampler: start fully masked (the mask token id is $q$, the
        largest alphabet size, as in MDLM/LLaDA), pick a uniform random order, and at each step
        draw the next $s_k$ tokens independently from the denoiser's conditionals given the
        tokens revealed **before the step**. The flag `bug=True` plants a subtle bug: it calls
        the denoiser again after **each** token, so tokens of the same step see each other.
        """),
        code(r"""
        def my_sampler(denoiser, shape, sizes, m, seed=0, bug=False):
            rng = np.random.default_rng(seed)
            n, mask = len(shape), max(shape)
            x = np.full((m, n), mask)
            order = rng.permuted(np.tile(np.arange(n), (m, 1)), axis=1)
            rows, start = np.arange(m), 0
            for s in sizes:
                probs = denoiser(x)                       # (m, n, q): one call per step
                for j in range(start, start + s):
                    i = order[:, j]
                    cdf = np.cumsum(probs[rows, i], axis=1)
                    x[rows, i] = (rng.random(m)[:, None] > cdf).sum(axis=1)
                    if bug:
                        probs = denoiser(x)               # BUG: conditions on this step's tokens
                start += s
            return x

        sizes = [3, 1, 1]
        den = exact_denoiser(pi)
        good = my_sampler(den, pi.shape, sizes, 4000, seed=1)
        result = assert_sampler_matches(good, pi, sizes)
        print(f"correct sampler passes: p-value {result.pvalue:.3f} ({result.level} test, "
              f"M = {result.samples})")
        """),
        md(r"""
        The samples of the correct sampler are **not** samples of $\pi$, and the oracle knows:
        testing them against $\pi$ fails, as it should.
        """),
        code(r"""
        err = expect_failure(assert_samples_match, good, pi.numpy())
        print("\nKL(π ‖ p_alg) =", round(exactmd.kl(pi, exactmd.output_distribution(pi, sizes)), 4))
        """),
        md(r"""
        Now the planted bug. Its law is closer to $\pi$ than $p_{\mathrm{alg}}$ (it is "too
        good"), so no test against $\pi$ would find it; the test against $p_{\mathrm{alg}}$
        does, and its message lists the outcomes that are most over- and under-represented.
        """),
        code(r"""
        buggy = my_sampler(den, pi.shape, sizes, 4000, seed=1, bug=True)
        err = expect_failure(assert_sampler_matches, buggy, pi, sizes)
        assert "inconsistent with the exact law" in str(err)
        """),
        md(r"""
        How many samples does the oracle need? The p-value of the correct sampler stays
        uniform whatever $M$, that of the buggy one collapses as $M$ grows. (Seeds are fixed, so
        the notebook is deterministic.)
        """),
        code(r"""
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
        ax.set(xscale="log", yscale="log", xlabel="samples M", ylabel="p-value",
               title="power of the exact oracle")
        ax.set_xticks(Ms, [str(m) for m in Ms])
        ax.set_xticks([], minor=True)
        ax.legend(fontsize=8)
        plt.show()
        """),
        md(r"""
        `exactmd.testing.examples.factorized_sample` is a reference sampler with more planted
        bugs (`"stale_context"`: the denoiser does not see the tokens of the previous step;
        `"one_at_a_time"`; `"reversed_schedule"`). A stale context is caught as well:
        """),
        code(r"""
        from exactmd.testing.examples import factorized_sample

        x = factorized_sample(den, pi.shape, sizes, 4000, seed=0)
        assert_sampler_matches(x, pi, sizes)
        x_stale = factorized_sample(den, pi.shape, sizes, 4000, seed=0, bug="stale_context")
        err = expect_failure(assert_sampler_matches, x_stale, pi, sizes)
        """),
        md(r"""
        ### How many samples does a bug need?

        M = 4000 catches the planted bugs above; it does **not** catch every bug. The sample
        test sees a bug only through the law it produces, and a slightly wrong denoiser moves
        $p_{\mathrm{alg}}$ very little. `samples_needed(law, alternative, alpha, power)` gives
        the M at which `assert_samples_match` catches `alternative` with probability `power`
        (noncentral chi-square approximation, on the test's own tables and pooling;
        `exactmd.testing.power.power_at` is the power curve behind it). A test with too few
        samples to reject at all is refused (`NoPowerError`), never passed.
        """),
        code(r"""
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
        ax.set(xscale="log", xlabel="samples M", ylabel="power at alpha = 1e-3",
               title="power of the sample test against typical bugs")
        ax.legend(fontsize=8)
        plt.show()

        try:  # a single sample can never fail at alpha = 1e-3 here: refused, not passed
            assert_sampler_matches(good[:1], pi, sizes)
            raise RuntimeError("a test that cannot reject was run")
        except NoPowerError as err:
            print("NoPowerError:", err)
        """),
        md(r"""
        When you have the denoiser, test it directly: `assert_denoiser_matches` compares it with
        the exact conditionals on every context, with no sampling, and catches the $T = 1.05$
        denoiser at once, where the sample test needs ~$10^5$ samples.
        """),
        code(r"""
        err = expect_failure(assert_denoiser_matches, perturbed_denoiser(pi, temperature=1.05), pi)
        """),
        md(r"""
        ## 2. A denoiser under test

        A denoiser maps tokens `(B, N)` (mask id $q$) to probabilities `(B, N, q)`. Here is one
        written from the joint table by brute-force marginalisation, and a buggy variant with a
        **limited context window**: it ignores revealed tokens more than two positions away (a
        typical shortcut of a cheap model). `assert_denoiser_matches` checks every context of
        positive probability — here all $4^5 - 3^5 = 781$ partially masked sequences.
        """),
        code(r"""
        def make_denoiser(table, window=None):
            table = np.asarray(table)
            n, qmax = table.ndim, max(table.shape)

            def denoiser(tokens):
                tokens = np.asarray(tokens)
                out = np.zeros((len(tokens), n, qmax))
                for b, row in enumerate(tokens):
                    for i in np.flatnonzero(row == qmax):
                        seen = [j for j in range(n) if row[j] != qmax
                                and (window is None or abs(j - i) <= window)]
                        sub = table[tuple(row[j] if j in seen else slice(None)
                                          for j in range(n))]
                        keep = [j for j in range(n) if j not in seen]
                        m = sub.sum(axis=tuple(k for k, j in enumerate(keep) if j != i))
                        out[b, i, : table.shape[i]] = m / m.sum()
                return out

            return denoiser

        mine = make_denoiser(pi.numpy())
        report = assert_denoiser_matches(mine, pi)
        print(f"correct denoiser passes: {report.contexts} contexts, "
              f"max |error| = {report.max_abs_error:.2e}")
        assert report.exhaustive and report.max_abs_error < 1e-12
        """),
        code(r"""
        windowed = make_denoiser(pi.numpy(), window=2)
        err = expect_failure(assert_denoiser_matches, windowed, pi)
        assert "differs from the exact conditionals" in str(err)
        """),
        md(r"""
        An imperfect denoiser is not necessarily a bug: what matters is how much it costs. The
        exact learning error $E_{\mathrm{learn}}$, step by step
        (`exactmd.testing.denoiser_checks.learning_error_breakdown`), and the theorem
        $\mathrm{KL}(\pi\,\|\,p_{\mathrm{alg}}) \le E_{\mathrm{learn}} + E_{\mathrm{fact}}$ with
        each denoiser:
        """),
        code(r"""
        from exactmd.testing.denoiser_checks import learning_error_breakdown

        sched = sizes  # [3, 1, 1], as above
        candidates = {"window = 2": windowed, "window = 1": make_denoiser(pi.numpy(), window=1),
                      "5% noise": perturbed_denoiser(pi, noise=0.05, seed=0)}
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
            print(f"{name:11} E_learn = {e_learn:.5f}  KL(π‖p_alg) = {kl:.5f} <= "
                  f"E_learn + E_fact = {e_learn + e_fact:.5f}")

        fig, ax = plt.subplots(figsize=(6, 3.6))
        width = 0.27
        for j, (name, per_step) in enumerate(breakdowns.items()):
            ax.bar(np.arange(1, len(sched) + 1) + (j - 1) * width, per_step, width, label=name)
        ax.set(xlabel=f"step k of the schedule {sched}", ylabel="E_learn of the step [nats]",
               title="where each denoiser loses information")
        ax.legend()
        plt.show()
        """),
        md(r"""
        At the first step nothing is revealed, so the windowed denoisers are exact there; they
        pay once distant tokens are revealed. The noisy one pays at every step.

        ## 3. Property tests with hypothesis

        `exactmd.testing.strategies.models()` draws small random laws (with exact zeros, mixed
        alphabets, the classic and zoo laws), so a denoiser implementation can be tested on many
        laws at once. (`database=None` keeps hypothesis from writing files.)
        """),
        code(r"""
        from hypothesis import given, settings

        from exactmd.testing.strategies import models

        checked = []

        @settings(max_examples=25, deadline=None, database=None)
        @given(models(max_n=3))
        def test_my_denoiser_is_exact(p):
            assert_denoiser_matches(make_denoiser(p), p)
            checked.append(np.shape(p))

        test_my_denoiser_is_exact()
        print(f"make_denoiser is exact on {len(checked)} random laws, e.g. shapes "
              f"{sorted(set(checked))[:6]}")
        assert len(checked) >= 10
        """),
        md(r"""
        ## 4. Samplers written the way public code writes them

        `exactmd.testing.examples` holds two loops written like the public masked-diffusion code:
        LLaDA's (`llada_generate`: at each step draw every masked token, then keep the `k` most
        confident, or `k` random ones) and MDLM's (`mdlm_generate`: on a time grid, each masked
        token is revealed with probability $(t-s)/t$). They call a `torch.nn.Module` that returns
        logits with the mask id $q$, exactly as they would call a trained model;
        `ExactDenoiserModule` is π's exact denoiser in that form. exactmd then says what each
        loop must produce:

        * LLaDA with random remasking is the exchangeable sampler with LLaDA's step sizes;
        * MDLM's loop is `RandomRevealSchedule` on the same grid;
        * LLaDA's low-confidence remasking chooses positions *after* seeing its proposals, so it
          is not an exchangeable planner: the oracle tells it apart from the exchangeable law,
          and `low_confidence_law` enumerates its own exact law.
        """),
        code(r"""
        import torch

        from exactmd.schedules import RandomRevealSchedule
        from exactmd.testing.asserts import assert_samples_match
        from exactmd.testing.examples import (
            llada_generate, llada_step_sizes, low_confidence_law, mdlm_generate,
        )
        from exactmd.torch_denoiser import ExactDenoiserModule

        rng = np.random.default_rng(11)
        p_small = rng.dirichlet(np.ones(12)).reshape(2, 3, 2)
        sizes = list(llada_step_sizes(3, 2))
        g = torch.Generator().manual_seed(0)

        llada = ExactDenoiserModule(p_small, style="llada")       # mask id 3 = max q_i
        x = llada_generate(llada, 3, 2, llada.mask_id, batch=3000, remasking="random",
                           generator=g)
        fit = assert_sampler_matches(x, p_small, sizes)
        print(f"LLaDA, random remasking vs exchangeable p_alg: p-value {fit.pvalue:.3f}")

        mdlm = ExactDenoiserModule(p_small)                       # returns the logits tensor
        grid = (1.0, 0.5, 0.0)
        x = mdlm_generate(mdlm, 3, grid, mdlm.mask_id, batch=3000, generator=g)
        fit = assert_sampler_matches(x, p_small, RandomRevealSchedule(grid))
        print(f"MDLM Bernoulli reveal vs RandomRevealSchedule p_alg: p-value {fit.pvalue:.3f}")

        x = llada_generate(llada, 3, 2, llada.mask_id, batch=3000, generator=g)
        print("low-confidence remasking against the exchangeable law:")
        expect_failure(assert_sampler_matches, x, p_small, sizes)
        fit = assert_samples_match(x, low_confidence_law(p_small, sizes))
        print(f"low-confidence remasking vs its own exact law: p-value {fit.pvalue:.3f}")
        """),
    ]


# --------------------------------------------------------------------------------------------
# 05 GPU scaling
# --------------------------------------------------------------------------------------------


def gpu_scaling() -> list[Cell]:
    return [
        md(r"""
        # The information profile at growing N, on the torch backend (GPU when available)

        Every exact quantity comes from the **masked-marginal tensor**: one extra "masked" value
        per axis, $(q+1)^N$ cells, each the probability of the unmasked coordinates. The $2^N$
        subset entropies, hence $f$, TC, DTC and $D$, follow from one pass of $-m\log m$ over it.
        The cost grows like $(q+1)^N$ ($3^N$ for bits), which is what limits exact analysis to
        $N \approx 20$–$24$; exactmd streams the tensor in chunks so that it is never held whole.

        The torch backend runs the same computation in float64 on a CPU or a CUDA device and must
        give the same numbers as numpy. This notebook

        1. checks torch against numpy and against the closed-form profile of a Markov chain;
        2. times the profile at growing $N$ (a small range on the CPU, larger on a GPU);
        3. shows float32 on request (half the memory, about $10^{-6}$ relative error).

        Cells that need CUDA are guarded by `torch.cuda.is_available()`; on a machine without a
        GPU they print a note and the CPU range is used.
        """),
        code(r"""
        %matplotlib inline
        import math
        import time

        import matplotlib.pyplot as plt
        import numpy as np
        import torch

        import exactmd
        from exactmd.distribution import as_distribution
        from exactmd.markov_profile import markov_profile
        from exactmd.models.zoo import markov_chain

        HAS_CUDA = torch.cuda.is_available()
        DEVICE = "cuda" if HAS_CUDA else "cpu"
        if HAS_CUDA:
            print("GPU:", torch.cuda.get_device_name(0))
        else:
            print("no CUDA device: the torch backend runs on the CPU, with a small range of N")
        N_RANGE = list(range(8, 21, 2)) if HAS_CUDA else [6, 8, 10, 12, 14]
        TIME_BUDGET_S = 25.0  # stop growing N once a single size takes this long

        P = np.array([[0.9, 0.1], [0.1, 0.9]])  # the copy chain of the quickstart
        """),
        md(r"""
        ## 1. Same numbers on every backend

        The law is the binary copy chain; `markov_chain(..., backend="torch", device=...)` builds
        its joint table directly on the device. The profile is compared with numpy's and with
        `markov_profile`, which does not enumerate at all (closed form over subsets).
        """),
        code(r"""
        n = 10
        on_torch = markov_chain([0.5, 0.5], P, n, backend="torch", device=DEVICE)
        on_numpy = markov_chain([0.5, 0.5], P, n)
        print(on_torch.backend, "|", on_numpy.backend)
        f_torch = exactmd.information_profile(on_torch)
        f_numpy = exactmd.information_profile(on_numpy)
        f_closed = markov_profile([0.5, 0.5], P, n)
        assert isinstance(f_torch, np.ndarray) and f_torch.dtype == np.float64
        assert np.allclose(f_torch, f_numpy, atol=1e-13)
        assert np.allclose(f_torch, f_closed, atol=1e-12)
        for name in ("entropy", "total_correlation", "dual_total_correlation", "complexity"):
            a, b = getattr(exactmd, name)(on_torch), getattr(exactmd, name)(on_numpy)
            assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-13), name
        sizes = [4, 3, 2, 1]
        assert np.allclose(exactmd.output_distribution(on_torch, sizes),
                           exactmd.output_distribution(on_numpy, sizes), atol=1e-14)
        print("torch and numpy agree on f, H, TC, DTC, D and p_alg; f matches the closed form")
        """),
        md(r"""
        ## 1b. The plan, before any allocation

        Every enumeration is planned first. `exactmd.plan_subset_entropies` takes a shape (or a
        law) and returns a `MemoryPlan` without allocating anything: the bytes needed, the
        bytes available (80% of what the device reports, or a budget you pass), how many
        leading axes are streamed over, and the chunk kernel (`"inplace"`, numpy's default, or
        `"matmul"`, torch's default in float64). When nothing fits, it raises `MemoryPlanError` naming
        both numbers, before any allocation.
        """),
        code(r"""
        from exactmd.errors import MemoryPlanError

        backend = exactmd.get_backend(name="torch", device=DEVICE)
        for n in (20, 24):
            for strategy in ("inplace", "matmul"):
                plan = exactmd.plan_subset_entropies((2,) * n, backend, available=80 * 2**30,
                                                     strategy=strategy)
                print(f"N = {n}: {plan}")
        try:
            exactmd.plan_subset_entropies((2,) * 30, backend, available=80 * 2**30)
        except MemoryPlanError as err:
            print("N = 30:", err)
        """),
        md(r"""
        ## 2. The profile at growing $N$

        For each $N$ we time the full profile (all $2^N$ subset entropies) on the torch backend,
        and on numpy for comparison in the CPU range, and check the result against the closed
        form. The first torch call of a size includes one-off costs (allocation, CUDA kernels),
        so each size is timed after a warm-up at the smallest $N$.
        """),
        code(r"""
        def timed_profile(n, backend, device=None):
            d = markov_chain([0.5, 0.5], P, n, backend=backend, device=device)
            if device == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            f = exactmd.information_profile(d)
            if device == "cuda":
                torch.cuda.synchronize()
            return f, time.perf_counter() - t0

        timed_profile(N_RANGE[0], "torch", DEVICE)  # warm-up
        timings = {"torch " + DEVICE: {}, "numpy": {}}
        profiles = {}
        for n in N_RANGE:
            f, t = timed_profile(n, "torch", DEVICE)
            assert np.allclose(f, markov_profile([0.5, 0.5], P, n), atol=1e-11), n
            timings["torch " + DEVICE][n] = t
            profiles[n] = f
            if n <= 14:
                f_np, t_np = timed_profile(n, "numpy")
                assert np.allclose(f, f_np, atol=1e-12)
                timings["numpy"][n] = t_np
            print(f"N = {n:2d}: {3**n:>13,d} masked cells, torch {DEVICE} {t:7.3f} s"
                  + (f", numpy {timings['numpy'][n]:7.3f} s" if n in timings["numpy"] else ""))
            if t > TIME_BUDGET_S:
                break
        """),
        code(r"""
        fig, axes = plt.subplots(1, 2, figsize=(12, 4))
        for name, t in timings.items():
            axes[0].plot(list(t), list(t.values()), "o-", label=name)
        ns = np.array(list(profiles))
        ref = timings["torch " + DEVICE][ns[-1]] * 3.0 ** (ns - ns[-1])
        axes[0].plot(ns, ref, "k:", label="∝ 3^N")
        axes[0].set(yscale="log", xlabel="N", ylabel="seconds", title="exact profile: time")
        axes[0].legend()
        for n, f in profiles.items():
            axes[1].plot(np.arange(n) / n, (f - f[0]) / (f[-1] - f[0]), ".-", label=f"N = {n}")
        big = markov_profile([0.5, 0.5], P, 1024)
        axes[1].plot(np.arange(1024) / 1024, (big - big[0]) / (big[-1] - big[0]), "k-", lw=1,
                     label="N = 1024 (closed form)")
        axes[1].set(xlabel="i / N", ylabel="(f(i) − f(0)) / D", title="normalised profile f̄")
        axes[1].legend(fontsize=8)
        plt.tight_layout()
        plt.show()
        """),
        md(r"""
        As $N$ grows at a fixed correlation length, the normalised profile
        $(f(i) - f(0))/D$ against $i/N$ converges to a limit shape $\bar f$, already visible at
        $N = 14$: this is the $\bar f$ of the scaling theory (notebook 03). It is concave — the
        first revealed neighbours tell the most — so the optimal schedules start with small
        steps, and exact profiles at small $N$ (or the closed form) are enough to design them
        at large $N$.

        ## 3. float32 on request

        `as_distribution(p, backend="torch", dtype="float32")` halves the memory; the profile
        is then accurate to about $10^{-6}$ relative (measured on this copy chain: $9\cdot10^{-7}$
        at $N = 10$, $1.7\cdot10^{-6}$ at $N = 14$), enough to design schedules.
        """),
        code(r"""
        n = max(profiles)  # the largest N timed above
        table = markov_chain([0.5, 0.5], P, n).numpy()
        d32 = as_distribution(table, backend="torch", device=DEVICE, dtype="float32")
        f32 = exactmd.information_profile(d32)
        err = np.abs(f32 - markov_profile([0.5, 0.5], P, n)).max()
        print(f"N = {n}, float32 on {DEVICE}: max |f32 − f| = {err:.2e}")
        assert err < 1e-5
        """),
        md(r"""
        ## 4. GPU only: a larger random law

        On a CUDA device we also run a law with no structure at all (a Dirichlet random joint of
        $2^{N}$ cells), and check the identities $f(N-1) - f(0) = D$ and $\sum_i f(i) = -H$ on
        it. Without CUDA this cell only prints a note.
        """),
        code(r"""
        if torch.cuda.is_available():
            from exactmd.models.zoo import random_joint

            n = 18
            law = random_joint((2,) * n, alpha=0.5, seed=0, backend="torch", device="cuda")
            t0 = time.perf_counter()
            f = exactmd.information_profile(law)
            torch.cuda.synchronize()
            print(f"random law, N = {n}: profile in {time.perf_counter() - t0:.2f} s on "
                  f"{torch.cuda.get_device_name(0)}")
            assert math.isclose(f[-1] - f[0], exactmd.complexity(law), rel_tol=1e-9)
            assert math.isclose(f.sum(), -exactmd.entropy(law), rel_tol=1e-12)
        else:
            print("skipped: no CUDA device")
        """),
    ]


NOTEBOOKS: dict[str, Callable[[], list[Cell]]] = {
    "01_quickstart": quickstart,
    "02_theorems": theorems,
    "03_schedules": schedules,
    "04_test_oracle": test_oracle,
    "05_gpu_scaling": gpu_scaling,
}


def build(stem: str, cells: list[Cell]) -> nbformat.NotebookNode:
    """One notebook, without outputs, with fixed cell ids."""
    nb = new_notebook()
    for i, (kind, text) in enumerate(cells):
        source = textwrap.dedent(text).strip("\n")
        cell_id = f"nb{stem[:2]}-{i:02d}"
        if kind == "markdown":
            nb.cells.append(new_markdown_cell(source, id=cell_id))
        else:
            nb.cells.append(new_code_cell(source, id=cell_id))
    nb.metadata = nbformat.from_dict(
        {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    )
    nbformat.validate(nb)
    return nb


def build_all() -> dict[Path, str]:
    """``{path: file text}`` of every notebook."""
    return {
        HERE / f"{stem}.ipynb": nbformat.writes(build(stem, make()), version=4) + "\n"
        for stem, make in NOTEBOOKS.items()
    }


def main(argv: list[str]) -> int:
    """Write the notebooks (or, with ``--check``, report those that differ)."""
    stale = []
    for path, text in build_all().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path.name)
        if "--check" not in argv:
            path.write_text(text, encoding="utf-8")
    if "--check" in argv:
        if stale:
            print("out of date:", ", ".join(stale))
            return 1
        print("all notebooks up to date")
        return 0
    print("wrote:", ", ".join(stale) if stale else "nothing (all up to date)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
