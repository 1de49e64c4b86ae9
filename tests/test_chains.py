"""Parameter-only chain laws (exactmd.models.chains) and their exact denoisers
(exactmd.denoisers.chains): enumeration at N <= 12 to 1e-12, independent computations at
N = 1024, the refusal of functions that need the table, and the functions that do not."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import exactmd
from exactmd.denoisers.chains import HMMDenoiser, MarkovChainDenoiser
from exactmd.errors import MemoryPlanError, ModelError
from exactmd.models import HMMLaw, MarkovChainLaw, hmm, markov_chain
from exactmd.sampler.montecarlo import empirical_law


def _stochastic(rng: np.random.Generator, rows: int, cols: int, zeros: float) -> np.ndarray:
    """A random stochastic matrix with about ``zeros`` of its entries set to 0 (never a whole
    row)."""
    m = rng.random((rows, cols)) + 0.05
    m[rng.random((rows, cols)) < zeros] = 0.0
    for r in range(rows):
        if not m[r].any():
            m[r, rng.integers(cols)] = 1.0
    return m / m.sum(axis=1, keepdims=True)


def _chain(seed: int, q: int, zeros: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return _stochastic(rng, 1, q, zeros)[0], _stochastic(rng, q, q, zeros)


def _hmm(seed: int, qh: int, qo: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    init, trans = _stochastic(rng, 1, qh, 0.3)[0], _stochastic(rng, qh, qh, 0.3)
    return init, trans, _stochastic(rng, qh, qo, 0.3)


def _tokens(seed: int, b: int, n: int, q: int) -> np.ndarray:
    """Mixed revealed patterns: every density of masks, random values."""
    rng = np.random.default_rng(seed)
    density = rng.random((b, 1))
    values = rng.integers(0, q, size=(b, n))
    return np.where(rng.random((b, n)) < density, q, values)


def _host(out: object) -> np.ndarray:
    return out.cpu().numpy() if hasattr(out, "cpu") else np.asarray(out)  # type: ignore[attr-defined]


def _as_input(tokens: np.ndarray, backend: str) -> object:
    if backend == "numpy":
        return tokens
    import torch

    return torch.as_tensor(tokens)


# -- agreement with the enumerated exact denoiser -------------------------------------------


@pytest.mark.parametrize("seed, q, n", [(0, 2, 1), (1, 2, 6), (2, 3, 7), (3, 4, 5), (4, 2, 12)])
def test_markov_denoiser_matches_enumeration(backend, seed, q, n):
    init, trans = _chain(seed, q)
    law = markov_chain(init, trans, n, table=False)
    den = exactmd.exact_denoiser(law)
    assert isinstance(den, MarkovChainDenoiser)
    tokens = _tokens(seed, 400, n, q)
    out = den(_as_input(tokens, backend))
    if backend == "torch":
        import torch

        assert isinstance(out, torch.Tensor) and out.dtype == torch.float64
    ref = exactmd.exact_denoiser(markov_chain(init, trans, n))(tokens)
    np.testing.assert_allclose(_host(out), ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "seed, qh, qo, n", [(0, 2, 2, 1), (1, 2, 3, 6), (2, 3, 2, 8), (3, 3, 4, 5)]
)
def test_hmm_denoiser_matches_enumeration(backend, seed, qh, qo, n):
    init, trans, emission = _hmm(seed, qh, qo)
    law = hmm(init, trans, emission, n, table=False)
    den = exactmd.exact_denoiser(law)
    assert isinstance(den, HMMDenoiser)
    tokens = _tokens(seed + 10, 400, n, qo)
    out = _host(den(_as_input(tokens, backend)))
    ref = exactmd.exact_denoiser(hmm(init, trans, emission, n))(tokens)
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-12)


def test_zero_probability_contexts_are_uniform_as_in_the_enumeration():
    # X_1 = X_0 surely: the context (x_0, x_1) = (0, 1) has probability 0, also for x_2
    trans = np.eye(2)
    law = markov_chain([0.5, 0.5], trans, 3, table=False)
    tokens = np.array([[0, 1, 2], [0, 2, 1], [2, 2, 2]])
    out = exactmd.exact_denoiser(law)(tokens)
    ref = exactmd.exact_denoiser(markov_chain([0.5, 0.5], trans, 3))(tokens)
    np.testing.assert_allclose(out, ref, atol=1e-15)
    assert out[0, 2].tolist() == [0.5, 0.5] and out[1, 1].tolist() == [0.5, 0.5]


_N_HYP, _Q_HYP = 10, 3
_MARKOV = _chain(7, _Q_HYP)
_HMM = _hmm(8, 2, _Q_HYP)
_REF: dict[str, object] = {}


def _reference(kind: str) -> object:
    if kind not in _REF:
        table = markov_chain(*_MARKOV, _N_HYP) if kind == "markov" else hmm(*_HMM, _N_HYP)
        _REF[kind] = exactmd.exact_denoiser(table)
    return _REF[kind]


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(["markov", "hmm"]),
    revealed=st.lists(st.booleans(), min_size=_N_HYP, max_size=_N_HYP),
    values=st.lists(st.integers(0, _Q_HYP - 1), min_size=_N_HYP, max_size=_N_HYP),
)
def test_random_revealed_patterns_match_enumeration(kind, revealed, values):
    law = (
        markov_chain(*_MARKOV, _N_HYP, table=False)
        if kind == "markov"
        else hmm(*_HMM, _N_HYP, table=False)
    )
    tokens = np.where(np.array(revealed), np.array(values), _Q_HYP)[None, :]
    out = exactmd.exact_denoiser(law)(tokens)
    np.testing.assert_allclose(out, _reference(kind)(tokens), rtol=0, atol=1e-12)  # type: ignore[operator]


# -- N = 1024: no NaN, rows sum to 1, agreement with a second computation --------------------

_N = 1024


def _brute_markov_row(init, trans, tokens_row, i):
    """π(x_i | x_S) from explicit matrix powers (np.linalg.matrix_power: repeated squaring)."""
    q = init.size
    revealed = np.flatnonzero(tokens_row != q)
    left = revealed[revealed < i]
    right = revealed[revealed > i]
    if left.size:
        lf = np.linalg.matrix_power(trans, i - left[-1])[tokens_row[left[-1]]]
    else:
        lf = init @ np.linalg.matrix_power(trans, i)
    rf = np.linalg.matrix_power(trans, right[0] - i)[:, tokens_row[right[0]]] if right.size else 1.0
    row = lf * rf
    return row / row.sum()


def test_markov_at_n_1024_against_explicit_matrix_powers(backend):
    init, trans = _chain(11, 4, zeros=0.2)
    law = markov_chain(init, trans, _N, table=False)
    x = law.sample(6, seed=3)
    rng = np.random.default_rng(4)
    masked = rng.random((6, _N)) < np.array([0.0, 0.3, 0.9, 0.99, 1.0, 0.5])[:, None]
    tokens = np.where(masked, 4, x)  # sampled values: every context has positive probability
    out = _host(exactmd.exact_denoiser(law)(_as_input(tokens, backend)))
    assert out.shape == (6, _N, 4) and not np.isnan(out).any()
    np.testing.assert_allclose(out.sum(axis=2), 1.0, atol=1e-12)
    for b in range(1, 6):
        for i in rng.choice(np.flatnonzero(masked[b]), size=5, replace=False):
            np.testing.assert_allclose(
                out[b, i], _brute_markov_row(init, trans, tokens[b], i), rtol=1e-9, atol=1e-12
            )


def _log_forward_backward(init, trans, emission, tokens_row):
    """π(y_i | y_S) at every i, by an unscaled forward–backward in log space."""
    q = emission.shape[1]
    with np.errstate(divide="ignore"):
        lt, le, li = np.log(trans), np.log(emission), np.log(init)
    n = tokens_row.size
    ev = np.where((tokens_row != q)[:, None], le.T[np.minimum(tokens_row, q - 1)], 0.0)  # (N, qh)
    la = np.empty_like(ev)
    lb = np.zeros_like(ev)
    la[0] = li + ev[0]
    for t in range(1, n):
        la[t] = np.logaddexp.reduce(la[t - 1][:, None] + lt, axis=0) + ev[t]
    for t in range(n - 2, -1, -1):
        lb[t] = np.logaddexp.reduce(lt + (ev[t + 1] + lb[t + 1])[None, :], axis=1)
    lg = la + lb
    lp = np.logaddexp.reduce(lg[:, :, None] + le[None, :, :], axis=1)  # (N, q)
    return np.exp(lp - np.logaddexp.reduce(lp, axis=1, keepdims=True))


def test_hmm_at_n_1024_against_a_log_space_forward_backward(backend):
    init, trans, emission = _hmm(12, 3, 4)
    law = hmm(init, trans, emission, _N, table=False)
    y = law.sample(3, seed=5)
    rng = np.random.default_rng(6)
    masked = rng.random((3, _N)) < np.array([0.1, 0.6, 1.0])[:, None]
    tokens = np.where(masked, 4, y)
    out = _host(exactmd.exact_denoiser(law)(_as_input(tokens, backend)))
    assert not np.isnan(out).any()
    np.testing.assert_allclose(out.sum(axis=2), 1.0, atol=1e-12)
    for b in range(3):
        ref = _log_forward_backward(init, trans, emission, tokens[b])
        rows = masked[b]
        np.testing.assert_allclose(out[b][rows], ref[rows], rtol=1e-9, atol=1e-12)


# -- the law objects: what refuses them, what works ----------------------------------------


def test_markov_chain_keeps_its_table_by_default_and_hints_table_false_when_too_large():
    assert isinstance(markov_chain([0.5, 0.5], np.eye(2), 3), exactmd.law.Distribution)
    with pytest.raises(ModelError, match=r"too large to enumerate.*table=False") as info:
        markov_chain([0.5, 0.5], np.eye(2), _N)
    assert isinstance(info.value, MemoryPlanError)
    with pytest.raises(ModelError, match="table=False"):
        hmm([0.5, 0.5], np.eye(2), np.eye(2), _N)
    for bad in (1, "no", None, np.array([True])):
        with pytest.raises(ModelError, match=r"table: must be a bool \(True or False\)"):
            markov_chain([0.5, 0.5], np.eye(2), 3, table=bad)  # type: ignore[call-overload]


def test_parameter_only_laws_hold_no_table():
    law = markov_chain([0.5, 0.5], [[0.9, 0.1], [0.2, 0.8]], 10**6, table=False)
    assert isinstance(law, MarkovChainLaw) and law.n == 10**6 and law.q == 2
    assert law.init.nbytes + law.transition.nbytes == 48
    h = hmm([0.5, 0.5], np.eye(2), [[0.9, 0.05, 0.05], [0.1, 0.1, 0.8]], _N, table=False)
    assert isinstance(h, HMMLaw) and h.shape == (3,) * _N and h.q_hidden == 2
    with pytest.raises(ValueError):
        law.init[0] = 1.0  # read-only parameters


@pytest.mark.parametrize(
    "call",
    [
        exactmd.as_distribution,
        exactmd.entropy,
        exactmd.information_profile,
        lambda p: exactmd.output_distribution(p, [512, 512]),
        lambda p: exactmd.sample(p, [512, 512], 4, seed=0),
        exactmd.perturbed_denoiser,
    ],
)
def test_functions_that_need_the_table_refuse_before_allocating(call):
    law = markov_chain([0.5, 0.5], [[0.9, 0.1], [0.2, 0.8]], _N, table=False)
    with pytest.raises(MemoryPlanError) as info:
        call(law)
    message = str(info.value)
    assert message.startswith("p: a markov_chain law of N = 1024 variables")
    assert "(2,) * 1024" in message and "2^1027 bytes" in message
    assert "exactmd.exact_denoiser" in message and "exactmd.markov_profile" in message
    h = hmm([0.5, 0.5], np.eye(2), np.eye(2), 12, table=False)
    with pytest.raises(MemoryPlanError, match=r"hmm law of N = 12 .*\(32768 bytes"):
        call(h)


def test_markov_profile_reads_the_parameters_of_a_chain_law_and_refuses_an_hmm():
    init, trans = _chain(3, 3, zeros=0.0)
    law = markov_chain(init, trans, _N, table=False)
    np.testing.assert_array_equal(
        exactmd.markov_profile(law), exactmd.markov_profile(init, trans, _N)
    )
    small = markov_chain(init, trans, 6, table=False)
    np.testing.assert_allclose(
        exactmd.markov_profile(small),
        exactmd.information_profile(markov_chain(init, trans, 6)),
        atol=1e-12,
    )
    with pytest.raises(ModelError, match="init: an HMM's observations are not a Markov chain"):
        exactmd.markov_profile(hmm(init, trans, np.eye(3), 6, table=False))


@pytest.mark.parametrize("kind", ["markov", "hmm"])
def test_law_sample_draws_from_pi(kind):
    if kind == "markov":
        init, trans = _chain(5, 2, zeros=0.0)
        law: MarkovChainLaw | HMMLaw = markov_chain(init, trans, 3, table=False)
        table = markov_chain(init, trans, 3).numpy()
    else:
        params = _hmm(5, 2, 2)
        law = hmm(*params, 3, table=False)
        table = hmm(*params, 3).numpy()
    x = law.sample(40_000, seed=0)
    freq = empirical_law(x, table.shape)
    assert np.abs(freq - table).max() < 0.012  # about 5 binomial standard errors
    assert law.sample(0).shape == (0, 3)
    np.testing.assert_array_equal(law.sample(5, seed=1), law.sample(5, seed=1))


def test_denoiser_refuses_bad_tokens_naming_them():
    den = exactmd.exact_denoiser(markov_chain([0.5, 0.5], np.eye(2), 4, table=False))
    with pytest.raises(exactmd.errors.ValidationError, match=r"tokens: must have shape \(B, 4\)"):
        den(np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(exactmd.errors.ValidationError, match=r"entry \(0, 1\) .* received 3"):
        den(np.array([[0, 3, 2, 2]]))
    with pytest.raises(exactmd.errors.ValidationError, match="must be integers"):
        den(np.zeros((1, 4)))


def test_estimate_profile_with_the_chain_denoiser_at_n_1024():
    init, trans = _chain(9, 4, zeros=0.0)
    law = markov_chain(init, trans, _N, table=False)
    x = law.sample(60, seed=2)
    ranks = [0, 100, 500, 1023]
    est = exactmd.estimate_profile(x, exactmd.exact_denoiser(law), seed=0, ranks=ranks)
    f = exactmd.markov_profile(law)[ranks]
    assert np.all(np.isfinite(est.profile)) and np.all(est.stderr > 0)
    assert np.all(np.abs(est.profile - f) < 6 * est.stderr)


@pytest.mark.slow
def test_the_95_percent_intervals_cover_the_exact_profile_over_seeds():
    # measured (benchmarks/bench_estimate.py's chain, M = 100, 64-point grid, 100 seeds):
    # 0.937 ± 0.003, a little under 95% (log p is skewed at small M); M = 1000, 20 seeds:
    # 0.946 ± 0.007. Here a loose bound
    trans = [
        [0.85, 0.05, 0.05, 0.05],
        [0.1, 0.7, 0.1, 0.1],
        [0.05, 0.05, 0.6, 0.3],
        [0.2, 0, 0.2, 0.6],
    ]
    law = markov_chain(np.full(4, 0.25), trans, _N, table=False)
    den = exactmd.exact_denoiser(law)
    f = exactmd.markov_profile(law)
    hits = []
    for seed in range(20):
        est = exactmd.estimate_profile(law.sample(100, seed=100 + seed), den, seed=seed, grid=16)
        low, high = est.interval(0.95)
        hits.append((low <= f[est.ranks]) & (f[est.ranks] <= high))
    rate = float(np.mean(hits))
    assert 0.85 <= rate <= 0.995, rate


def test_estimate_grid_intervals_and_sample_rule():
    law = markov_chain(*_chain(2, 3, zeros=0.0), 50, table=False)
    x = law.sample(40, seed=0)
    den = exactmd.exact_denoiser(law)
    est = exactmd.estimate_profile(x, den, seed=1, grid=6)
    assert est.ranks.tolist() == [0, 10, 20, 29, 39, 49]
    same = exactmd.estimate_profile(x, den, seed=1, ranks=est.ranks.tolist())
    np.testing.assert_allclose(est.profile, same.profile, atol=1e-12)
    low, high = est.interval(0.95)
    np.testing.assert_allclose((high - low) / 2, 1.959963984540054 * est.stderr, rtol=1e-12)
    assert est.samples_for(float(est.stderr.max()) / 2) == 160
    with pytest.raises(exactmd.errors.ValidationError, match="grid: give ranks or grid"):
        exactmd.estimate_profile(x, den, ranks=[0], grid=4)
    with pytest.raises(exactmd.errors.ValidationError, match="grid"):
        exactmd.estimate_profile(x, den, grid=0)
    with pytest.raises(exactmd.errors.ValidationError, match="level"):
        est.interval(1.5)


def test_estimate_checks_only_the_rows_it_uses_and_names_a_bad_row():
    law = markov_chain(*_chain(2, 3, zeros=0.0), 8, table=False)
    x = law.sample(10, seed=0)
    den = exactmd.exact_denoiser(law)

    def broken(tokens: np.ndarray) -> np.ndarray:
        out = den(tokens).copy()
        out[:, :, 0] += 0.5  # rows no longer sum to 1
        return out

    with pytest.raises(
        exactmd.errors.DenoiserError, match=r"denoiser: row \d+ \(tokens .*sum to 1"
    ):
        exactmd.estimate_profile(x, broken, seed=0, ranks=[3])
    torch = pytest.importorskip("torch")
    as_torch = exactmd.as_denoiser(den, tokens="torch")
    ref = exactmd.estimate_profile(x, den, seed=0)
    got = exactmd.estimate_profile(x, as_torch, seed=0)
    np.testing.assert_allclose(got.profile, ref.profile, atol=1e-12)
    low = exactmd.as_denoiser(lambda t: den(t).to(torch.float32), tokens="torch")
    f32 = exactmd.estimate_profile(x, low, seed=0)
    np.testing.assert_allclose(f32.profile, ref.profile, atol=1e-5)


def test_the_chain_denoiser_refuses_matrix_powers_that_do_not_fit() -> None:
    """The one memory check (backends/_memory.require_fits), before any allocation."""
    import exactmd
    from exactmd.models import markov_chain

    law = markov_chain([0.5, 0.5], [[0.9, 0.1], [0.1, 0.9]], n=10**11, table=False)
    with pytest.raises(
        MemoryPlanError,
        match=r"law: the exact chain denoiser's matrix powers "
        r"need about .* GiB \(\d+ bytes\) but only .* may be used",
    ):
        exactmd.exact_denoiser(law)
