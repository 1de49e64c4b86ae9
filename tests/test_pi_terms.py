"""``exactmd.sampler._pi_terms``: π's successor weights, TC and KL of a walk's step, against a
brute force over every joint assignment in plain Python dicts."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from helpers import random_law

from exactmd.sampler._pi_terms import kl_rows, pi_terms


def _entropy(law: dict[tuple[int, ...], float]) -> float:
    return -sum(v * math.log(v) for v in law.values() if v > 0)


def _kl(a: dict[int, float], b: dict[int, float]) -> float:
    out = 0.0
    for x, v in a.items():
        if v > 0:
            if b[x] <= 0:
                return math.inf
            out += v * math.log(v / b[x])
    return out


def _brute(
    p: np.ndarray, state: tuple[int, ...], z: tuple[int, ...], values: np.ndarray
) -> tuple[list[float], float, float]:
    """(π(x_z | x_S) in row-major order of z, TC_π(z | x_S), Σ_{i∈z} KL(π(x_i|x_S) ‖ q_i))."""
    shape, mask = p.shape, max(p.shape)
    cond: dict[tuple[int, ...], float] = {}
    for x in itertools.product(*(range(s) for s in shape)):
        if all(t == mask or t == v for t, v in zip(state, x)):
            cond[x] = float(p[x])
    total = sum(cond.values())
    joint: dict[tuple[int, ...], float] = {}
    for x, v in cond.items():
        key = tuple(x[i] for i in z)
        joint[key] = joint.get(key, 0.0) + v / total
    margs = []
    for k in range(len(z)):
        m: dict[int, float] = {}
        for key, v in joint.items():
            m[key[k]] = m.get(key[k], 0.0) + v
        margs.append(m)
    tc = sum(_entropy({(x,): v for x, v in m.items()}) for m in margs) - _entropy(joint)
    kl = 0.0
    for k, i in enumerate(z):
        kl += _kl(margs[k], {x: float(values[i, x]) for x in range(shape[i])})
    order = itertools.product(*(range(shape[i]) for i in z))
    return [joint[key] for key in order], tc, kl


def _states(p: np.ndarray, masked: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """The states of positive mass masked on ``masked`` (a random few of them), int (B, N)."""
    shape, mask = p.shape, max(p.shape)
    revealed = [i for i in range(p.ndim) if i not in masked]
    out = []
    for xs in itertools.product(*(range(shape[i]) for i in revealed)):
        t = np.full(p.ndim, mask, dtype=np.int64)
        t[revealed] = xs
        idx = tuple(slice(None) if v == mask else int(v) for v in t)
        if p[idx].sum() > 0:
            out.append(t)
    rng.shuffle(out)
    return np.array(out[: max(1, min(len(out), 6))])


@pytest.mark.parametrize(
    "shape", [(2, 2, 2), (2, 3, 2, 3), (3, 2, 2, 3, 2), (3, 3, 3), (2, 2, 2, 2, 2)]
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pi_terms_equal_the_brute_force(shape: tuple[int, ...], seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = random_law(shape, seed, zeros=0.3)
    n, q = len(shape), max(shape)
    for size in range(n + 1):  # masked sets of every size (size 0 masks nothing)
        masked = tuple(sorted(rng.choice(n, size=size, replace=False).tolist()))
        tokens = _states(p, masked, rng)
        values = rng.dirichlet(np.ones(q), size=(len(tokens), n))
        values[rng.random(values.shape) < 0.2] = 0.0  # zeros: some KL are inf
        subsets = [z for k in range(size + 1) for z in itertools.combinations(masked, k)]
        rows = [(b, z) for b in range(len(tokens)) for z in subsets if rng.random() < 0.6]
        rows.append((0, masked))
        source = np.array([b for b, _ in rows], dtype=np.int64)
        reveal = np.zeros((len(rows), n), dtype=bool)
        for r, (_, z) in enumerate(rows):
            reveal[r, list(z)] = True
        seen = np.zeros(len(rows), dtype=int)
        for g in pi_terms(p, tokens, source, reveal, values):
            assert g.joint.shape == (len(g.rows), math.prod(shape[i] for i in g.z))
            for k, r in enumerate(g.rows):
                b, z = rows[r]
                assert g.z == z
                seen[r] += 1
                joint, tc, kl = _brute(p, tuple(tokens[b]), z, values[b])
                np.testing.assert_allclose(g.joint[k], joint, rtol=0, atol=1e-13)
                assert g.tc[k] == pytest.approx(tc, abs=1e-12)
                assert not math.isnan(g.tc[k]) and not math.isnan(g.kl[k])
                if math.isinf(kl):
                    assert g.kl[k] == math.inf
                else:
                    assert g.kl[k] == pytest.approx(kl, abs=1e-12)
        assert (seen == 1).all()  # every planned row in exactly one group


def test_pi_terms_of_no_rows_is_empty() -> None:
    p = random_law((2, 2), 0)
    tokens = np.array([[2, 2]])
    assert (
        pi_terms(p, tokens, np.zeros(0, np.int64), np.zeros((0, 2), bool), np.ones((1, 2, 2))) == []
    )


def test_kl_rows_conventions() -> None:
    a = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    b = np.array([[0.25, 0.75, 0.0], [0.0, 0.5, 0.5], [0.5, 0.5, 0.0]])
    out = kl_rows(a, b)
    assert out[0] == pytest.approx(0.5 * math.log(2) + 0.5 * math.log(2 / 3))
    assert out[1] == math.inf  # a > 0 where b = 0
    assert out[2] == pytest.approx(math.log(2))  # 0 log 0 = 0
