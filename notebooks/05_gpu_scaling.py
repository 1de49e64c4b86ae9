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
# # The information profile at growing N, on the torch backend (GPU when available)
#
# Every exact quantity comes from the **masked-marginal tensor**: one extra "masked" value
# per axis, $(q+1)^N$ cells, each the probability of the unmasked coordinates. The $2^N$
# subset entropies, hence $f$, TC, DTC and $D$, follow from one pass of $-m\log m$ over it.
# The cost grows like $(q+1)^N$ ($3^N$ for bits), which is what limits exact analysis to
# $N \approx 20$–$24$; exactmd streams the tensor in chunks so that it is never held whole.
#
# The torch backend runs the same computation in float64 on a CPU or a CUDA device and must
# give the same numbers as numpy. This notebook
#
# 1. checks torch against numpy and against the closed-form profile of a Markov chain;
# 2. times the profile at growing $N$ (a small range on the CPU, larger on a GPU);
# 3. shows float32 on request (half the memory, about $10^{-6}$ relative error).
#
# Cells that need CUDA are guarded by `torch.cuda.is_available()`; on a machine without a
# GPU they print a note and the CPU range is used.

# %%
# %matplotlib inline
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

import exactmd
from exactmd.law.distribution import as_distribution
from exactmd.measures.markov import markov_profile
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

# %% [markdown]
# ## 1. Same numbers on every backend
#
# The law is the binary copy chain; `markov_chain(..., backend="torch", device=...)` builds
# its joint table directly on the device. The profile is compared with numpy's and with
# `markov_profile`, which does not enumerate at all (closed form over subsets).

# %%
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
assert np.allclose(
    exactmd.output_distribution(on_torch, sizes),
    exactmd.output_distribution(on_numpy, sizes),
    atol=1e-14,
)
print("torch and numpy agree on f, H, TC, DTC, D and p_alg; f matches the closed form")

# %% [markdown]
# ## 1b. The plan, before any allocation
#
# Every enumeration is planned first. `exactmd.enumeration.plan_subset_entropies` takes a shape
# (or a law) and returns a `MemoryPlan` without allocating anything: the bytes needed, the
# bytes available (80% of what the device reports, or a budget you pass), how many
# leading axes are streamed over, and the chunk kernel (`"inplace"`, numpy's default, or
# `"matmul"`, torch's default in float64). When nothing fits, it raises `MemoryPlanError` naming
# both numbers, before any allocation.

# %%
from exactmd.errors import MemoryPlanError

backend = exactmd.backends.get_backend(name="torch", device=DEVICE)
for n in (20, 24):
    for strategy in ("inplace", "matmul"):
        plan = exactmd.enumeration.plan_subset_entropies(
            (2,) * n, backend, available=80 * 2**30, strategy=strategy
        )
        print(f"N = {n}: {plan}")
try:
    exactmd.enumeration.plan_subset_entropies((2,) * 30, backend, available=80 * 2**30)
except MemoryPlanError as err:
    print("N = 30:", err)


# %% [markdown]
# ## 2. The profile at growing $N$
#
# For each $N$ we time the full profile (all $2^N$ subset entropies) on the torch backend,
# and on numpy for comparison in the CPU range, and check the result against the closed
# form. The first torch call of a size includes one-off costs (allocation, CUDA kernels),
# so each size is timed after a warm-up at the smallest $N$.


# %%
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
    print(
        f"N = {n:2d}: {3**n:>13,d} masked cells, torch {DEVICE} {t:7.3f} s"
        + (f", numpy {timings['numpy'][n]:7.3f} s" if n in timings["numpy"] else "")
    )
    if t > TIME_BUDGET_S:
        break

# %%
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
axes[1].plot(
    np.arange(1024) / 1024,
    (big - big[0]) / (big[-1] - big[0]),
    "k-",
    lw=1,
    label="N = 1024 (closed form)",
)
axes[1].set(xlabel="i / N", ylabel="(f(i) − f(0)) / D", title="normalised profile f̄")
axes[1].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# As $N$ grows at a fixed correlation length, the normalised profile
# $(f(i) - f(0))/D$ against $i/N$ converges to a limit shape $\bar f$, already visible at
# $N = 14$: this is the $\bar f$ of the scaling theory (notebook 03). It is concave — the
# first revealed neighbours tell the most — so the optimal schedules start with small
# steps, and exact profiles at small $N$ (or the closed form) are enough to design them
# at large $N$.
#
# ## 3. float32 on request
#
# `as_distribution(p, backend="torch", dtype="float32")` halves the memory; the profile
# is then accurate to about $10^{-6}$ relative (measured on this copy chain: $9\cdot10^{-7}$
# at $N = 10$, $1.7\cdot10^{-6}$ at $N = 14$), enough to design schedules.

# %%
n = max(profiles)  # the largest N timed above
table = markov_chain([0.5, 0.5], P, n).numpy()
d32 = as_distribution(table, backend="torch", device=DEVICE, dtype="float32")
f32 = exactmd.information_profile(d32)
err = np.abs(f32 - markov_profile([0.5, 0.5], P, n)).max()
print(f"N = {n}, float32 on {DEVICE}: max |f32 − f| = {err:.2e}")
assert err < 1e-5

# %% [markdown]
# ## 4. GPU only: a larger random law
#
# On a CUDA device we also run a law with no structure at all (a Dirichlet random joint of
# $2^{N}$ cells), and check the identities $f(N-1) - f(0) = D$ and $\sum_i f(i) = -H$ on
# it. Without CUDA this cell only prints a note.

# %%
if torch.cuda.is_available():
    from exactmd.models.zoo import random_joint

    n = 18
    law = random_joint((2,) * n, alpha=0.5, seed=0, backend="torch", device="cuda")
    t0 = time.perf_counter()
    f = exactmd.information_profile(law)
    torch.cuda.synchronize()
    print(
        f"random law, N = {n}: profile in {time.perf_counter() - t0:.2f} s on "
        f"{torch.cuda.get_device_name(0)}"
    )
    assert math.isclose(f[-1] - f[0], exactmd.complexity(law), rel_tol=1e-9)
    assert math.isclose(f.sum(), -exactmd.entropy(law), rel_tol=1e-12)
else:
    print("skipped: no CUDA device")
