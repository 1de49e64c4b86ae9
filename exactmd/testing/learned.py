"""A denoiser trained here: a small MDLM-style transformer on samples of an exact π, and the
exact analysis of what it learned.

**The network** (:class:`TinyMDLM`): token and position embeddings, ``layers`` pre-norm
transformer encoder layers (width 64, 4 heads, no dropout), a final layer norm and a linear
head to the q values. Called on int tokens ``(B, N)`` (mask id q) it returns logits; its
:meth:`TinyMDLM.probabilities` are the contract's rows (softmax in float64 at the masked
positions, the one-hot of the value at the others: MDLM's carry-over).

**Training** (:func:`train_denoiser`): ``n_train`` exact draws from π (fixed for the run), for
``epochs`` passes in shuffled batches. The loss is MDLM's bound on −log p_θ(x) per position,
with the masking time integrated out: MDLM's continuous-time bound
``E_t[(1/t) Σ_{i masked} −log p_θ(x_i | x_unmasked)]`` (each position masked with
probability t) equals ``N · E_m[(1/m) Σ_{i ∈ M} −log p_θ(x_i | x_{∖M})]`` with the masked
count m uniform on 1..N and M a uniform m-subset (the any-order form of the bound). So each
sample gets a count m (MDLM's low-discrepancy sampler over the batch,
``m_b = 1 + ⌊N ((u + b/B) mod 1)⌋``), a uniform m-subset is masked, and the loss is the mean
cross-entropy over the masked positions: the weight 1/t, up to 1/t_min, becomes N/m ≤ N, so
the gradients stay small and training on a 2-core CPU is stable.
Everything random comes from the seed (torch and numpy generators of its own; the global
torch seed is left as it was), so a run is reproducible on one machine and thread count (the
summation order of CPU kernels can depend on the number of threads). No weights are
downloaded or shipped: the network exists only after it is trained.

**Exact analysis.** A network is a function of the (q + 1)^N token patterns, so
:meth:`TrainedDenoiser.denoiser` tabulates it once (every pattern, in batches) and returns a
contract denoiser that reads the table (:class:`TabulatedDenoiser`): its rows are the
network's, computed once instead of at every call of the exact computations
(:func:`exactmd.output_distribution`, :func:`exactmd.check_bound`,
:func:`~exactmd.testing.learning_error_breakdown`, :func:`exactmd.estimate_profile`). At
N = 12 and q = 2 the table has 531,441 patterns (100 MB in float64).

:func:`learned_study` runs the whole study on a trained network: E_learn with its per-step
breakdown; E_fact, KL(π‖p_alg) and the bound for the constant, cosine and optimal schedules at
several K; f̂ estimated with the network against the exact f (in expectation
``f(i) − g(i)``, g the network's mean KL at i revealed: the learning error shifts the
estimate down); the schedule from f̂ against the one from f, both with their exact KL; LLaDA's
low-confidence against random remasking at equal K; and E_learn and E_fact at each
checkpoint.

This is an example module (it needs torch, imported here, and is not imported by
:mod:`exactmd.testing`); ``tests/test_learned.py`` and notebook 07 import it.

Examples
--------
>>> import numpy as np
>>> from exactmd.models import markov_chain
>>> p = markov_chain([0.5, 0.5], [[0.8, 0.2], [0.2, 0.8]], 4)
>>> run = train_denoiser(p, epochs=2, n_train=256, seed=0, checkpoints=(1, 2))
>>> sorted(run.checkpoints), len(run.history)
([1, 2], 2)
>>> den = run.denoiser()
>>> rows = den(np.array([[2, 0, 2, 2]]))
>>> rows.shape, bool(np.allclose(rows.sum(-1), 1.0))
((1, 4, 2), True)
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

import exactmd
from exactmd._validate import check_int, check_real, check_seed
from exactmd.errors import DenoiserError, MemoryPlanError, ValidationError, describe
from exactmd.law.distribution import Distribution, as_distribution
from exactmd.sampler.estimate import estimate_profile
from exactmd.sampler.practice import profile_from_estimate
from exactmd.samplers import llada
from exactmd.schedules.families import cosine, linear
from exactmd.schedules.kinds import ExchangeableSchedule
from exactmd.schedules.optimum import optimal_table
from exactmd.testing.denoiser_checks import learning_error_breakdown
from exactmd.typing import FloatArray

__all__ = [
    "TinyMDLM",
    "TrainedDenoiser",
    "TabulatedDenoiser",
    "train_denoiser",
    "tabulate",
    "LearnedStudy",
    "learned_study",
    "MAX_TABLE_BYTES",
]

#: :meth:`TrainedDenoiser.denoiser` refuses a table larger than this.
MAX_TABLE_BYTES = 2**30


class TinyMDLM(torch.nn.Module):
    """A small MDLM-style denoiser: embeddings, pre-norm transformer layers, a linear head.

    Parameters
    ----------
    n, q
        Sequence length and number of values (token q is the mask).
    width, layers, heads
        Model width, encoder layers and attention heads.

    Examples
    --------
    >>> net = TinyMDLM(5, 2)
    >>> tuple(net(torch.full((3, 5), 2)).shape)
    (3, 5, 2)
    """

    def __init__(self, n: int, q: int, width: int = 64, layers: int = 2, heads: int = 4) -> None:
        super().__init__()
        self.n, self.q = int(n), int(q)
        self.embed = torch.nn.Embedding(self.q + 1, width)
        self.position = torch.nn.Parameter(torch.randn(self.n, width))  # as nn.Embedding
        layer = torch.nn.TransformerEncoderLayer(
            width, heads, 4 * width, dropout=0.0, batch_first=True, norm_first=True
        )
        self.encoder = torch.nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = torch.nn.LayerNorm(width)
        self.head = torch.nn.Linear(width, self.q)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, N, q)`` (float32) for int tokens ``(B, N)``."""
        h = self.embed(input_ids) + self.position[None]
        return self.head(self.norm(self.encoder(h)))

    @torch.no_grad()
    def probabilities(self, input_ids: Any) -> torch.Tensor:
        """The contract's rows ``(B, N, q)`` in float64: softmax of the logits at masked
        positions, the one-hot of the value at the others."""
        tok = torch.as_tensor(np.asarray(input_ids), dtype=torch.long)
        probs = torch.softmax(self(tok).double(), dim=-1)
        hot = torch.nn.functional.one_hot(tok.clamp(max=self.q - 1), self.q).double()
        return torch.where((tok == self.q)[..., None], probs, hot)


@dataclass(eq=False)
class TabulatedDenoiser:
    """A contract denoiser that reads a network's rows from a table of every token pattern.

    ``table[j]`` holds the rows ``(N, q)`` for the pattern whose base-(q + 1) digits (position
    0 first) make j; tokens are numpy ints ``(B, N)`` with mask q; the output is float64.

    Examples
    --------
    >>> den = tabulate(lambda t: np.full((len(t), 1, 2), 0.5), 1, 2)
    >>> den(np.array([[2], [0]])).tolist()
    [[[0.5, 0.5]], [[0.5, 0.5]]]
    """

    table: FloatArray
    n: int
    q: int
    label: str = "network"

    @property
    def shape(self) -> tuple[int, ...]:
        """``(q,) * N``."""
        return (self.q,) * self.n

    def __repr__(self) -> str:
        return f"TabulatedDenoiser({self.label}, n={self.n}, q={self.q})"

    def __call__(self, tokens: Any) -> FloatArray:
        tok = np.asarray(tokens.cpu() if hasattr(tokens, "cpu") else tokens)
        if tok.ndim != 2 or tok.shape[1] != self.n or not np.issubdtype(tok.dtype, np.integer):
            raise ValidationError(
                f"tokens: must be an int array (B, {self.n}); received {describe(tokens)}"
            )
        if tok.size and (tok.min() < 0 or tok.max() > self.q):
            raise ValidationError(
                f"tokens: values must lie in range({self.q}) or be the mask {self.q}; received "
                f"values from {int(tok.min())} to {int(tok.max())}"
            )
        weights = (self.q + 1) ** np.arange(self.n - 1, -1, -1, dtype=np.int64)
        return np.asarray(self.table[tok @ weights], dtype=np.float64)


def _patterns(n: int, q: int, start: int, stop: int) -> np.ndarray:
    """The token patterns ``start..stop − 1`` in base q + 1 (position 0 the leading digit)."""
    idx = np.arange(start, stop, dtype=np.int64)
    powers = (q + 1) ** np.arange(n - 1, -1, -1, dtype=np.int64)
    return (idx[:, None] // powers[None, :]) % (q + 1)


def tabulate(
    fn: Any, n: int, q: int, *, batch: int = 8192, label: str = "network"
) -> TabulatedDenoiser:
    """Call ``fn`` (tokens ``(B, N)`` → rows ``(B, N, q)``) once on every token pattern.

    Examples
    --------
    >>> den = tabulate(lambda t: np.full((len(t), 2, 2), 0.5), 2, 2, batch=4)
    >>> den.table.shape
    (9, 2, 2)
    """
    size, q = check_int(n, "n"), check_int(q, "q")
    total = (q + 1) ** size
    need = 8 * total * size * q
    if need > MAX_TABLE_BYTES:
        raise MemoryPlanError(
            f"n: the table of every token pattern of N = {size}, q = {q} needs {need} bytes "
            f"(limit MAX_TABLE_BYTES = {MAX_TABLE_BYTES})"
        )
    table = np.empty((total, size, q))
    step = check_int(batch, "batch")
    for start in range(0, total, step):
        tok = _patterns(size, q, start, min(total, start + step))
        out = fn(tok)
        out = out.cpu().numpy() if hasattr(out, "cpu") else np.asarray(out)
        if out.shape != (len(tok), size, q) or not np.all(np.isfinite(out)):
            raise DenoiserError(
                f"fn: must return finite rows of shape ({len(tok)}, {size}, {q}); received "
                f"{describe(out)}"
            )
        table[start : start + len(tok)] = out
    return TabulatedDenoiser(table, size, q, label)


@dataclass(eq=False)
class TrainedDenoiser:
    """A trained :class:`TinyMDLM` with its checkpoints (:func:`train_denoiser`).

    Attributes
    ----------
    law
        The law π it was trained on.
    model
        The network after the last epoch.
    history
        The mean training loss of each epoch (nats per position, MDLM's bound).
    checkpoints
        Epoch → a copy of the weights after that epoch.
    seconds
        The training time.
    config
        The arguments of the run.
    """

    law: Distribution
    model: TinyMDLM
    history: list[float]
    checkpoints: dict[int, dict[str, torch.Tensor]]
    seconds: float
    config: dict[str, Any] = field(default_factory=dict)

    def module(self, epoch: int | None = None) -> TinyMDLM:
        """The network after ``epoch`` (a checkpoint; None: the last epoch)."""
        if epoch is None:
            return self.model
        if epoch not in self.checkpoints:
            raise ValidationError(
                f"epoch: must be a checkpoint, one of {sorted(self.checkpoints)}; received "
                f"{epoch!r}"
            )
        net = _build(self.config)
        net.load_state_dict(self.checkpoints[epoch])
        return net.eval()

    def denoiser(self, epoch: int | None = None) -> TabulatedDenoiser:
        """The network (after ``epoch``) as a contract denoiser, tabulated (module notes)."""
        net = self.module(epoch).eval()
        label = f"TinyMDLM(epoch {self.config['epochs'] if epoch is None else epoch})"
        return tabulate(net.probabilities, self.law.n, self.law.q, label=label)


def _build(config: dict[str, Any]) -> TinyMDLM:
    return TinyMDLM(config["n"], config["q"], config["width"], config["layers"], config["heads"])


def _draws(d: Distribution, m: int, rng: np.random.Generator) -> np.ndarray:
    flat = np.asarray(d.numpy(), dtype=np.float64).reshape(-1)
    idx = rng.choice(flat.size, size=m, p=flat / flat.sum())
    return np.stack(np.unravel_index(idx, d.shape), axis=1).astype(np.int64)


def train_denoiser(
    p: Any,
    *,
    epochs: int = 30,
    n_train: int = 20_000,
    batch_size: int = 256,
    width: int = 64,
    layers: int = 2,
    heads: int = 4,
    lr: float = 3e-3,
    seed: Any = 0,
    checkpoints: Sequence[int] = (),
    threads: int | None = None,
) -> TrainedDenoiser:
    """Train a :class:`TinyMDLM` on exact draws of π (module notes).

    Parameters
    ----------
    p
        The law π (all alphabets equal, q; small N: it is tabulated later).
    epochs, n_train, batch_size
        Passes over the training set, its size, and the batch size.
    width, layers, heads
        The network.
    lr
        Adam's learning rate, decayed by a cosine to 0 over the run.
    seed
        Seeds the draws, the initialisation, the batches and the masks.
    checkpoints
        Epochs after which to keep a copy of the weights (the last is always kept).
    threads
        torch CPU threads during training (restored after); None leaves them.

    Returns
    -------
    TrainedDenoiser
    """
    d = as_distribution(p)
    if len(set(d.shape)) != 1:
        raise ValidationError(
            f"p: the network needs one alphabet size for every position; received shape {d.shape}"
        )
    n, q = d.n, d.q
    n_epochs = check_int(epochs, "epochs")
    size = check_int(n_train, "n_train", minimum=2)
    batch = check_int(batch_size, "batch_size")
    config: dict[str, Any] = {
        "n": n,
        "q": q,
        "epochs": n_epochs,
        "n_train": size,
        "batch_size": batch,
        "width": check_int(width, "width"),
        "layers": check_int(layers, "layers"),
        "heads": check_int(heads, "heads"),
        "lr": check_real(lr, "lr", minimum=0.0, open_min=True),
    }
    keep = sorted({check_int(c, "checkpoints", maximum=n_epochs) for c in checkpoints})
    rng = np.random.default_rng(check_seed(seed))
    data = torch.as_tensor(_draws(d, size, rng))
    gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
    old_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(check_int(threads, "threads"))
    start = time.perf_counter()
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(rng.integers(2**62)))
            net = _build(config)
        opt = torch.optim.Adam(net.parameters(), lr=config["lr"])
        per_epoch = math.ceil(size / batch)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, n_epochs * per_epoch)
        history: list[float] = []
        saved: dict[int, dict[str, torch.Tensor]] = {}
        net.train()
        for epoch in range(1, n_epochs + 1):
            order = torch.randperm(size, generator=gen)
            total, count = 0.0, 0
            for b0 in range(0, size, batch):
                x = data[order[b0 : b0 + batch]]
                b = x.shape[0]
                # the masked count m: uniform on 1..N, low-discrepancy over the batch
                u = torch.rand((), generator=gen, dtype=torch.float64)
                frac = (u + torch.arange(b, dtype=torch.float64) / b) % 1.0
                m = (frac * n).long().clamp(max=n - 1) + 1
                # a uniform m-subset of each row: the m smallest of N uniform keys
                keys = torch.rand((b, n), generator=gen)
                rank = keys.argsort(dim=1).argsort(dim=1)
                masked = rank < m[:, None]
                tokens = torch.where(masked, torch.full_like(x, q), x)
                logp = torch.log_softmax(net(tokens), dim=-1)
                nll = -logp.gather(-1, x[..., None])[..., 0]  # (B, N)
                # the bound per position: the mean cross-entropy at the masked positions
                loss = ((nll * masked).sum(dim=1) / m).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                total += float(loss.detach()) * b
                count += b
            history.append(total / count)
            if epoch in keep or epoch == n_epochs:
                saved[epoch] = {k: v.detach().clone() for k, v in net.state_dict().items()}
    finally:
        torch.set_num_threads(old_threads)
    seconds = time.perf_counter() - start
    net.eval()
    return TrainedDenoiser(d, net, history, saved, seconds, config)


# -- the exact study of a trained network ----------------------------------------------------


@dataclass(frozen=True)
class LearnedStudy:
    """What :func:`learned_study` measured (all in nats, exact unless said otherwise).

    Attributes
    ----------
    profile, by_revealed
        The exact f and the network's mean KL g(i) at i revealed positions (E_learn of any
        exchangeable schedule is ``Σ_k s_{k+1} g(a_k)``).
    estimate, expected_estimate
        f̂ from ``n_samples`` draws with the network (:func:`exactmd.estimate_profile`), and
        its exact expectation ``f − g``.
    bounds
        ``(schedule name, K)`` → :class:`exactmd.BoundReport` (KL, E_learn, E_fact).
    breakdown
        ``(schedule name, K)`` → E_learn per step.
    from_estimate
        K → {"f": (sizes, E_fact, KL), "f̂": (sizes, E_fact, KL)}: the optimal schedule of
        the exact f and of the estimate, with the network as the denoiser.
    samplers
        K → {"low_confidence": KL, "random": KL}: LLaDA at temperature 1.
    checkpoints
        epoch → {"E_learn (K=N)": …, "E_learn (constant, K)": …, "E_fact (constant, K)": …,
        "KL (constant, K)": …} at ``trade_off_steps``.
    """

    profile: FloatArray
    by_revealed: FloatArray
    estimate: FloatArray
    estimate_stderr: FloatArray
    expected_estimate: FloatArray
    bounds: dict[tuple[str, int], Any]
    breakdown: dict[tuple[str, int], FloatArray]
    from_estimate: dict[int, dict[str, tuple[tuple[int, ...], float, float]]]
    samplers: dict[int, dict[str, float]]
    checkpoints: dict[int, dict[str, float]]
    trade_off_steps: int


def _exchangeable_learning(g: FloatArray, sched: ExchangeableSchedule) -> FloatArray:
    """``s_{k+1} g(a_k)`` per step: E_learn of an exchangeable schedule from g."""
    a = np.asarray(sched.boundaries[:-1])
    return np.asarray(sched.sizes, dtype=np.float64) * g[a]


def _schedules(f: FloatArray, n: int, k: int) -> dict[str, ExchangeableSchedule]:
    table = optimal_table(f, k)
    return {
        "constant": linear(n, k),
        "cosine": cosine(n, k),
        "optimal": ExchangeableSchedule(table.sizes(k), label="optimal"),
    }


def learned_study(
    trained: TrainedDenoiser,
    steps: Sequence[int] = (2, 4, 6),
    *,
    n_samples: int = 1000,
    n_orders: int = 4,
    trade_off_steps: int | None = None,
    seed: Any = 0,
) -> LearnedStudy:
    """The exact study of a trained network (module notes).

    Parameters
    ----------
    trained
        From :func:`train_denoiser`.
    steps
        The K of the schedule table.
    n_samples, n_orders
        The draws and orders of the estimate f̂ made with the network.
    trade_off_steps
        The K of the checkpoint table (default: the middle of ``steps``).
    seed
        Seeds the draws and orders of the estimate.
    """
    d = trained.law
    n = d.n
    ks = [check_int(k, "steps", maximum=n) for k in steps]
    k_mid = ks[len(ks) // 2] if trade_off_steps is None else check_int(trade_off_steps, "k")
    f = exactmd.information_profile(d)
    den = trained.denoiser()
    # g(i): one breakdown serves every exchangeable schedule (its by_revealed)
    g = np.asarray(learning_error_breakdown(d, linear(n, ks[0]), den).by_revealed)
    bounds: dict[tuple[str, int], Any] = {}
    breakdown: dict[tuple[str, int], FloatArray] = {}
    for k in ks:
        for name, sched in _schedules(f, n, k).items():
            bounds[name, k] = exactmd.check_bound(d, sched, den)
            breakdown[name, k] = _exchangeable_learning(g, sched)
    rng = np.random.default_rng(check_seed(seed))
    x = _draws(d, check_int(n_samples, "n_samples", minimum=2), rng)
    est = estimate_profile(x, den, n_orders=n_orders, seed=int(rng.integers(2**63)))
    f_hat = profile_from_estimate(est, n, smooth="none")
    from_estimate: dict[int, dict[str, tuple[tuple[int, ...], float, float]]] = {}
    samplers: dict[int, dict[str, float]] = {}
    for k in ks:
        row = {}
        for label, prof in (("f", f), ("f̂", f_hat)):
            sizes = optimal_table(prof, k).sizes(k)
            palg = exactmd.output_distribution(d, sizes, denoiser=den)
            row[label] = (sizes, float(exactmd.factorization_error(d, sizes)), exactmd.kl(d, palg))
        from_estimate[k] = row
        low = exactmd.output_distribution(
            d, llada(steps=k, temperature=1.0, ties="split"), denoiser=den
        )
        rand = exactmd.output_distribution(
            d, llada(steps=k, remasking="random", temperature=1.0), denoiser=den
        )
        samplers[k] = {"low_confidence": exactmd.kl(d, low), "random": exactmd.kl(d, rand)}
    checkpoints: dict[int, dict[str, float]] = {}
    const = linear(n, k_mid)
    for epoch in sorted(trained.checkpoints):
        den_e = trained.denoiser(epoch)
        g_e = np.asarray(learning_error_breakdown(d, const, den_e).by_revealed)
        rep = exactmd.check_bound(d, const, den_e)
        checkpoints[epoch] = {
            "E_learn (K=N)": float(g_e.sum()),
            "E_learn (constant)": rep.learning_error,
            "E_fact (constant)": rep.factorization_error,
            "KL (constant)": rep.kl,
        }
    return LearnedStudy(
        f,
        g,
        est.profile,
        est.stderr,
        f - g,
        bounds,
        breakdown,
        from_estimate,
        samplers,
        checkpoints,
        k_mid,
    )
