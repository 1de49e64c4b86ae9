"""The N = 1024 study of issue 16, item 3: f̂ from 100 and 1000 samples, the schedules it
gives, and their exact E_fact (Markov chain) or Monte Carlo E_fact (HMM).

Run from the repository root (about 10 minutes on the 2-core CPU)::

    MPLBACKEND=Agg python docs/practice/run_chains.py

It writes, next to this file: ``chains.md`` (the tables), ``chains.json`` (every number),
``f_hat_100.png``, ``f_hat_1000.png``, ``schedule.png`` (the three figures of the practical
study, with the exact curve and the 95% intervals) and ``hmm_f_hat.png``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from exactmd.models import hmm, markov_chain  # noqa: E402
from exactmd.sampler.practice import practice_study  # noqa: E402

OUT = Path(__file__).resolve().parent
N = 1024
#: benchmarks/bench_estimate.py's chain: 4 states, uneven stays, one zero transition
CHAIN = (
    np.full(4, 0.25),
    np.array(
        [
            [0.85, 0.05, 0.05, 0.05],
            [0.10, 0.70, 0.10, 0.10],
            [0.05, 0.05, 0.60, 0.30],
            [0.20, 0.00, 0.20, 0.60],
        ]
    ),
)
#: an HMM: 3 sticky hidden states, 4 observed values
HMM = (
    np.full(3, 1 / 3),
    np.array([[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.05, 0.05, 0.9]]),
    np.array([[0.7, 0.1, 0.1, 0.1], [0.1, 0.7, 0.1, 0.1], [0.1, 0.1, 0.4, 0.4]]),
)
SAMPLES = (100, 1000)
STEPS = (16, 64, 256)
SEEDS = range(10)


def _summary(studies: list) -> list[dict]:
    """Mean (and sd) over seeds of the f error and the realised gains, per (M, K)."""
    rows = []
    for i, first in enumerate(studies[0].rows):
        same = [s.rows[i] for s in studies]

        def stat(values: list[float]) -> tuple[float, float]:
            return float(np.mean(values)), float(np.std(values, ddof=1))

        rows.append(
            {
                "M": first.n_samples,
                "K": first.steps,
                "f_error": stat([r.f_error for r in same]),
                "coverage": stat([r.coverage for r in same]),
                "gain_dp_fhat": stat([r.gains["optimal (f̂)"] for r in same]),
                "gain_sqrt_fhat": stat([r.gains["sqrt rule (f̂)"] for r in same]),
                "gain_opt_f": first.gains["optimal (f)"],
                "gain_sqrt_f": first.gains["sqrt rule (f)"],
                "E_const": first.errors["constant"],
                "E_opt_f": first.errors["optimal (f)"],
                "predicted_gain_f": first.predicted_gain_exact,
                "predicted_gain_fhat": stat([r.predicted_gain for r in same]),
            }
        )
    return rows


def _summary_table(rows: list[dict]) -> str:
    head = (
        "| M | K | max abs(f̂ − f) | coverage of the 95% intervals | E_const | E_opt(f) "
        "| gain DP(f̂) | gain √(f̂) | gain opt(f) | gain √(f) | predicted (f) | predicted (f̂) |"
    )
    lines = [head, "|" + "---|" * 12]
    for r in rows:

        def pm(key: str, r: dict = r) -> str:
            mean, sd = r[key]
            return f"{mean:.4f} ± {sd:.4f}"

        lines.append(
            f"| {r['M']} | {r['K']} | {pm('f_error')} | {pm('coverage')} | {r['E_const']:.4f} "
            f"| {r['E_opt_f']:.4f} | {pm('gain_dp_fhat')} | {pm('gain_sqrt_fhat')} "
            f"| {r['gain_opt_f']:.4f} | {r['gain_sqrt_f']:.4f} | {r['predicted_gain_f']:.4f} "
            f"| {pm('predicted_gain_fhat')} |"
        )
    return "\n".join(lines)


def _figures(study, hmm_study) -> None:
    import matplotlib.pyplot as plt

    f = study.profile
    x = np.arange(N) / N
    for m in SAMPLES:
        est = study.estimates[m]
        low, high = est.interval(0.95)
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(x, f, color="black", lw=1.5, label="exact f (markov_profile)")
        ax.errorbar(
            est.ranks / N,
            est.profile,
            yerr=[est.profile - low, high - est.profile],
            fmt="o",
            ms=3,
            color="C0",
            label=f"f̂ from {m} samples, 95% intervals",
        )
        ax.plot(x, study.smoothed[m], color="C1", lw=1, label="f̃: monotone cubic fit of f̂")
        ax.set_xlabel("i / N")
        ax.set_ylabel("f(i)  (nats)")
        ax.set_title(f"The information profile at N = {N}, estimated from {m} samples")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(OUT / f"f_hat_{m}.png", dpi=120)
        plt.close(fig)
    k = 64
    fig, ax = plt.subplots(figsize=(6, 4))
    by = {(r.n_samples, r.steps): r for r in study.rows}
    first = by[SAMPLES[0], k]
    ax.step(
        np.arange(k), first.sizes["optimal (f)"], where="post", color="black", label="optimal (f)"
    )
    for m, color in zip(SAMPLES, ("C0", "C1")):
        ax.step(
            np.arange(k),
            by[m, k].sizes["optimal (f̂)"],
            where="post",
            color=color,
            label=f"optimal (f̂, M = {m})",
        )
    ax.axhline(N / k, color="grey", ls=":", label="constant")
    ax.set_xlabel("step k")
    ax.set_ylabel("size s_{k+1}")
    ax.set_title(f"The optimal schedule, N = {N}, K = {k}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "schedule.png", dpi=120)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 4))
    for m, color in zip(SAMPLES, ("C0", "C1")):
        est = hmm_study.estimates[m]
        low, high = est.interval(0.95)
        ax.errorbar(
            est.ranks / N,
            est.profile,
            yerr=[est.profile - low, high - est.profile],
            fmt="o",
            ms=3,
            color=color,
            label=f"f̂ from {m} samples",
        )
        ax.plot(x, hmm_study.smoothed[m], color=color, lw=1)
    ax.set_xlabel("i / N")
    ax.set_ylabel("f(i)  (nats)")
    ax.set_title(f"HMM (3 hidden, 4 observed), N = {N}: f̂ (no closed form)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "hmm_f_hat.png", dpi=120)
    plt.close(fig)


def main() -> None:
    start = time.perf_counter()
    chain = markov_chain(*CHAIN, N, table=False)
    studies = [practice_study(chain, SAMPLES, STEPS, grid=64, seed=s) for s in SEEDS]
    naive = practice_study(chain, SAMPLES, STEPS, grid=64, seed=0, smooth="isotonic")
    t_chain = time.perf_counter() - start
    law = hmm(*HMM, N, table=False)
    hmm_study = practice_study(law, SAMPLES, STEPS, grid=64, seed=0, mc_samples=200)
    seconds = time.perf_counter() - start
    summary = _summary(studies)
    _figures(studies[0], hmm_study)
    text = [
        "# In practice, with the truth: the N = 1024 study (issue 16, item 3)",
        "",
        "Produced by `MPLBACKEND=Agg python docs/practice/run_chains.py` "
        f"({seconds:.0f} s on the shared 2-core CPU; the chain part {t_chain:.0f} s).",
        "",
        f"Markov chain: {chain!r}, the 4-state chain of `benchmarks/bench_estimate.py`. f̂ by "
        "`estimate_profile` with the exact denoiser, one order per sample, on a 64-point grid; "
        "f̃ its monotone cubic fit (`profile_from_estimate`); every E_fact exact, by the "
        "exchangeable identity with the exact f of `markov_profile`. Gains are E_fact / "
        "E_fact(constant) (smaller is better); 'predicted' is (∫√f̄′)²/∫f̄′.",
        "",
        f"## Over {len(SEEDS)} seeds (mean ± sd)",
        "",
        _summary_table(summary),
        "",
        "## Seed 0, every schedule",
        "",
        studies[0].table(),
        "",
        "## Seed 0, f̃ by isotonic regression instead of the cubic fit (the naive rule)",
        "",
        naive.table(),
        "",
        f"## HMM {law!r}: E_fact by Monte Carlo (200 draws, exact block conditionals)",
        "",
        "Every schedule of one K runs on the same 200 draws and orders; gains ± standard "
        "errors by the delta method.",
        "",
        hmm_study.table(),
        "",
        "## Figures",
        "",
        "![f-hat from 100 samples](f_hat_100.png)",
        "",
        "![f-hat from 1000 samples](f_hat_1000.png)",
        "",
        "![the optimal schedule](schedule.png)",
        "",
        "![f-hat of the HMM](hmm_f_hat.png)",
        "",
    ]
    (OUT / "chains.md").write_text("\n".join(text), encoding="utf-8")
    data = {
        "seconds": seconds,
        "summary": summary,
        "seed0": [r.__dict__ for r in studies[0].rows],
        "isotonic": [r.__dict__ for r in naive.rows],
        "hmm": [r.__dict__ for r in hmm_study.rows],
    }
    (OUT / "chains.json").write_text(json.dumps(data, indent=1, default=list), encoding="utf-8")
    print("\n".join(text))


if __name__ == "__main__":
    main()
