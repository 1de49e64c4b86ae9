"""The denoiser trained here (exactmd.testing.learned): tabulation is the network, training is
deterministic, and the exact study's identities hold. Brute forces: the network's profile
E[log p_θ(x_j | x_S)] by pure-Python sums over every x, every S and every j (dicts), against
f − g; E_learn per step against exactmd.learning_error; LLaDA's random remasking against the
exchangeable schedule of its step sizes, at the K where both run."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import exactmd  # noqa: E402
from exactmd.errors import DenoiserError, MemoryPlanError, ValidationError  # noqa: E402
from exactmd.models import from_spec, markov_chain  # noqa: E402
from exactmd.samplers import llada  # noqa: E402
from exactmd.schedules.families import linear  # noqa: E402
from exactmd.testing.learned import (  # noqa: E402
    TinyMDLM,
    learned_study,
    tabulate,
    train_denoiser,
)


@pytest.fixture(scope="module")
def run():
    # N = 5 bits on a cycle; 6 epochs of 600 draws (about 2 s)
    p = from_spec("ising:n=5,coupling=0.6,graph=cycle")
    return train_denoiser(
        p, epochs=6, n_train=600, batch_size=64, seed=3, checkpoints=(1, 3), threads=1
    )


def test_the_table_is_the_network(run):
    den = run.denoiser()
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 3, size=(50, 5))
    want = run.model.probabilities(tokens).numpy()
    assert np.array_equal(den(tokens), want)
    assert den.table.shape == (3**5, 5, 2)
    masked = tokens == 2
    assert np.allclose(den(tokens).sum(-1), 1.0, atol=1e-12)
    assert np.all(den(tokens)[~masked].max(-1) == 1.0)  # one-hot at unmasked positions


def test_training_is_deterministic_and_leaves_the_global_seed():
    p = markov_chain([0.5, 0.5], [[0.8, 0.2], [0.2, 0.8]], 4)
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = train_denoiser(p, epochs=2, n_train=200, batch_size=50, seed=7, threads=1)
    after = torch.rand(1)
    b = train_denoiser(p, epochs=2, n_train=200, batch_size=50, seed=7, threads=1)
    assert torch.equal(before, after)  # the global torch stream was not consumed
    assert a.history == b.history
    for k, v in a.model.state_dict().items():
        assert torch.equal(v, b.model.state_dict()[k])
    c = train_denoiser(p, epochs=2, n_train=200, batch_size=50, seed=8, threads=1)
    assert c.history != a.history


def _network_profile_brute(p: np.ndarray, den) -> list[float]:
    """E over x ~ π, a uniform S of size i and a uniform j ∉ S of log p_θ(x_j | x_S)."""
    n = p.ndim
    out = []
    for i in range(n):
        total, count = 0.0, 0
        for s in itertools.combinations(range(n), i):
            for j in (j for j in range(n) if j not in s):
                count += 1
                cache: dict[tuple[int, ...], np.ndarray] = {}
                for x in itertools.product(range(2), repeat=n):
                    px = float(p[x])
                    if px == 0:
                        continue
                    key = tuple(x[t] for t in s)
                    if key not in cache:
                        tok = [2] * n
                        for t in s:
                            tok[t] = x[t]
                        cache[key] = den(np.array([tok]))[0, j]
                    total += px * math.log(cache[key][x[j]])
        out.append(total / count)
    return out


@pytest.mark.slow
def test_the_exact_study_of_a_trained_network(run):
    p = run.law.numpy()
    study = learned_study(run, (2, 3, 5), n_samples=300, n_orders=2, seed=0)
    # the bound holds, E_learn per step adds up to the exact E_learn of each schedule
    for (name, k), rep in study.bounds.items():
        assert rep.holds, (name, k)
        assert abs(study.breakdown[name, k].sum() - rep.learning_error) < 1e-10
        sched = {"constant": linear(5, k)}.get(name)
        if sched is not None:
            assert (
                abs(exactmd.learning_error(p, sched, run.denoiser()) - rep.learning_error) < 1e-10
            )
    assert study.bounds["constant", 5].factorization_error == 0.0  # K = N
    # the network's profile is f − g exactly (brute force over x, S and j)
    brute = _network_profile_brute(p, run.denoiser())
    assert np.allclose(study.expected_estimate, brute, atol=1e-12)
    assert np.allclose(study.profile, exactmd.information_profile(p), atol=1e-12)
    assert np.all(study.by_revealed >= -1e-15)
    assert np.all(
        np.abs(study.estimate - study.expected_estimate) < 6 * study.estimate_stderr + 1e-12
    )
    # the optimal schedule of f has the least E_fact; every KL is finite
    for k, row in study.from_estimate.items():
        assert row["f"][1] <= row["f̂"][1] + 1e-12
        assert all(math.isfinite(v[2]) for v in row.values())
        assert math.isfinite(study.samplers[k]["low_confidence"])
    # training lowers E_learn between the first and the last checkpoint
    epochs = sorted(study.checkpoints)
    assert epochs == [1, 3, 6]
    first, last = study.checkpoints[1], study.checkpoints[6]
    assert last["E_learn (K=N)"] < first["E_learn (K=N)"]
    assert last["E_fact (constant)"] == first["E_fact (constant)"]  # E_fact is the law's


def test_llada_random_is_the_exchangeable_schedule_of_its_sizes(run):
    # at temperature 1, random remasking is a uniform subset of the quota's size per step
    p, den = run.law, run.denoiser()
    for k in (1, 2, 3, 5):
        sampler = llada(steps=k, remasking="random", temperature=1.0)
        a = exactmd.output_distribution(p, sampler, denoiser=den)
        b = exactmd.output_distribution(p, linear(5, k), denoiser=den)
        assert np.allclose(a, b, atol=1e-12)


def test_refusals():
    with pytest.raises(MemoryPlanError, match="MAX_TABLE_BYTES"):
        tabulate(lambda t: t, 30, 2)
    with pytest.raises(DenoiserError, match="fn: must return finite rows"):
        tabulate(lambda t: np.zeros((len(t), 2)), 2, 2)
    with pytest.raises(ValidationError, match="one alphabet size"):
        train_denoiser(np.full((2, 3), 1 / 6), epochs=1, n_train=10)
    net = TinyMDLM(3, 2)
    den = tabulate(net.probabilities, 3, 2)
    with pytest.raises(ValidationError, match="tokens: values must lie in range"):
        den(np.array([[0, 5, 1]]))
