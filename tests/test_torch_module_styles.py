"""ExactDenoiserModule in every calling convention, against a brute-force conditional.

Each style's output goes through the sampler's own post-processing, written here from
SAMPLERS.md independently of the module (softmax for LLaDA / Fast-dLLM / diffusers, Dream's
right shift, MDLM's SUBS, SEDD's score-to-probability map), and must give the conditionals
of a brute force over every joint (pure-Python loops, dicts) to 1e-12, on random laws with
zeros and mixed alphabets, at every context, for the default and a large mask id.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from helpers import laws, random_law
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from exactmd.denoisers.torch_module import (  # noqa: E402
    NEG_LOGIT,
    STYLES,
    DenoiserOutput,
    ExactDenoiserModule,
)
from exactmd.errors import ValidationError  # noqa: E402

TOL = 1e-12
SHAPES = [(2, 3, 2), (3, 2), (2, 2, 3, 2)]


def brute_row(p: np.ndarray, i: int, ctx: dict[int, int]) -> list[float] | None:
    """π(x_i = · | ctx) by a loop over every joint; None when ctx has probability 0."""
    mass: dict[int, float] = {}
    total = 0.0
    for x in itertools.product(*(range(s) for s in p.shape)):
        if all(x[j] == v for j, v in ctx.items()):
            w = float(p[x])
            mass[x[i]] = mass.get(x[i], 0.0) + w
            total += w
    if total == 0.0:
        return None
    return [mass.get(v, 0.0) / total for v in range(p.shape[i])]


def contexts(shape: tuple[int, ...], mask: int) -> list[list[int]]:
    """Every partial assignment, the masked positions holding ``mask``."""
    return [list(t) for t in itertools.product(*([*range(s), mask] for s in shape))]


def expected(p: np.ndarray, row: list[int], i: int, mask: int, width: int) -> np.ndarray:
    """The row position ``i`` must get in ``width`` columns: the conditional (uniform on
    range(q_i) for a context of probability 0) when masked, the one-hot of its token else."""
    out = np.zeros(width)
    if row[i] != mask:
        out[row[i]] = 1.0
        return out
    ctx = {j: v for j, v in enumerate(row) if v != mask}
    cond = brute_row(p, i, ctx)
    out[: p.shape[i]] = [1.0 / p.shape[i]] * p.shape[i] if cond is None else cond
    return out


def softmax(a: np.ndarray) -> np.ndarray:
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.fixture(params=list(itertools.product(range(len(SHAPES)), (None, 7))))
def case(request: pytest.FixtureRequest) -> tuple[np.ndarray, int | None]:
    k, mask_id = request.param
    return random_law(SHAPES[k], seed=20 + k, zeros=0.3), mask_id


def _setup(case, style, vocab_size=None):
    p, mask_id = case
    m = ExactDenoiserModule(p, style=style, mask_id=mask_id, vocab_size=vocab_size)
    mask = m.mask_id
    rows = contexts(p.shape, mask)
    return p, m, mask, rows


@pytest.mark.parametrize("style", ["mdlm", "llada", "fast_dllm", "logits"])
def test_softmax_styles_give_the_conditionals(case, style: str) -> None:
    law, mask_id = case
    vocab = (max(law.shape) if mask_id is None else mask_id) + 3  # padding columns too
    p, m, mask, rows = _setup(case, style, vocab_size=vocab)
    x = torch.tensor(rows)
    out = m(x, attention_mask=None) if style in ("llada", "fast_dllm") else m(x)
    wrapped = style in ("llada", "fast_dllm")
    assert isinstance(out, DenoiserOutput) == wrapped
    logits = (out.logits if wrapped else out).numpy()
    assert logits.dtype == np.float64 and logits.shape == (len(rows), p.ndim, m.vocab_size)
    finite = logits != NEG_LOGIT  # log p of a positive p, moderate for LLaDA's exp()
    assert np.all(logits[finite] <= 0.0) and np.all(logits[finite] > -746.0)
    probs = softmax(logits)
    for r, row in enumerate(rows):
        for i in range(p.ndim):
            np.testing.assert_allclose(
                probs[r, i], expected(p, row, i, mask, m.vocab_size), atol=TOL, rtol=0
            )
    assert np.all(probs[..., mask] == 0.0)  # exactly zero mass on the mask id


def test_dream_right_shift_gives_the_conditionals(case) -> None:
    p, m, mask, rows = _setup(case, "dream")
    usable = [r for r in rows if not (r[0] == mask and r[1] == mask)]
    out = m(torch.tensor(usable), "full", None)
    assert isinstance(out, DenoiserOutput)
    raw = out.logits.numpy()
    # Dream: position 0 keeps index 0, position j >= 1 reads index j - 1
    shifted = np.concatenate([raw[:, :1], raw[:, :-1]], axis=1)
    probs = softmax(shifted)
    checked = 0
    for r, row in enumerate(usable):
        for i in range(p.ndim):
            if row[i] == mask:  # Dream reads the masked positions' rows only
                want = expected(p, row, i, mask, m.vocab_size)
                np.testing.assert_allclose(probs[r, i], want, atol=TOL, rtol=0)
                checked += 1
    assert checked == sum(row.count(mask) for row in usable) > 0
    with pytest.raises(ValidationError, match="positions 0 and 1 both masked"):
        m(torch.tensor([[mask, mask] + [0] * (p.ndim - 2)]), "full", None)


def test_mdlm_backbone_under_subs_gives_the_log_conditionals(case) -> None:
    p, m, mask, rows = _setup(case, "mdlm_backbone")
    x = np.array(rows)
    sigma = torch.full((len(rows),), 0.3)
    logits = m(torch.tensor(rows), sigma).numpy().copy()
    # MDLM's SUBS, written here: mask column += -1e6, log-softmax, unmasked rows one-hot
    logits[:, :, mask] += -1e6
    top = logits.max(axis=-1, keepdims=True)
    logits = logits - (top + np.log(np.exp(logits - top).sum(axis=-1, keepdims=True)))
    unmasked = x != mask
    logits[unmasked] = -1e6
    r, c = np.nonzero(unmasked)
    logits[r, c, x[r, c]] = 0.0
    for k, row in enumerate(rows):
        for i in range(p.ndim):
            want = expected(p, row, i, mask, m.vocab_size)
            np.testing.assert_allclose(np.exp(logits[k, i]), want, atol=TOL, rtol=0)
            pos = want > 0
            np.testing.assert_allclose(logits[k, i][pos], np.log(want[pos]), atol=TOL, rtol=0)


def test_sedd_scores_map_back_to_the_conditionals(case) -> None:
    p, m, mask, rows = _setup(case, "sedd")
    assert m.vocab_size == mask + 1
    rng = np.random.default_rng(0)
    sigma = rng.uniform(1e-3, 8.0, size=len(rows))
    scores = m(torch.tensor(rows), torch.tensor(sigma)).numpy()
    assert scores.shape == (len(rows), p.ndim, mask + 1)
    for k, row in enumerate(rows):
        factor = math.expm1(sigma[k])  # p(y) = s(y) · (e^σ − 1) (SAMPLERS.md §6(b))
        for i in range(p.ndim):
            s = np.exp(scores[k, i])
            if row[i] == mask:
                assert scores[k, i, mask] == 0.0
                want = expected(p, row, i, mask, mask)
                np.testing.assert_allclose(s[:mask] * factor, want, atol=TOL, rtol=0)
                # SEDD's own rate: Σ_y s(y) = α/(1 − α) with α = e^{-σ}
                assert s[:mask].sum() == pytest.approx(1 / factor, rel=1e-12)
            else:  # own entry 0, everything else of probability 0
                assert scores[k, i, row[i]] == 0.0
                assert np.all(s[np.arange(mask + 1) != row[i]] == 0.0)
    # sigma of shape (B, 1) and as a keyword are read the same way
    again = m(torch.tensor(rows), sigma=torch.tensor(sigma)[:, None]).numpy()
    np.testing.assert_array_equal(again, scores)


@pytest.mark.parametrize("style", STYLES)
def test_every_style_has_a_device_and_the_contract_probabilities(style: str) -> None:
    p = random_law((2, 3, 2), seed=5, zeros=0.25)
    m = ExactDenoiserModule(p, style=style, mask_id=9)
    assert m.device == m.table.device and m.device.type == "cpu"
    assert m.to(torch.float32).device.type == "cpu"
    m.double()
    q = max(p.shape)
    rows = contexts(p.shape, q)  # the contract's tokens: masks hold q, whatever mask_id is
    probs = m.probabilities(torch.tensor(rows)).numpy()
    for k, row in enumerate(rows):
        for i in range(p.ndim):
            np.testing.assert_allclose(probs[k, i], expected(p, row, i, q, q), atol=TOL, rtol=0)


def test_float32_buffer_gives_float32_outputs() -> None:
    p = random_law((2, 3), seed=1)
    m = ExactDenoiserModule(p, style="sedd").float()
    assert m(torch.tensor([[3, 0]]), torch.tensor([1.0])).dtype == torch.float32


def test_bad_arguments_name_the_argument() -> None:
    p = random_law((2, 3, 2), seed=2)
    with pytest.raises(ValidationError, match=r"mask_id: must be .*>= 3"):
        ExactDenoiserModule(p, mask_id=2)
    with pytest.raises(ValidationError, match=r"vocab_size: must be at least mask_id \+ 1 = 8"):
        ExactDenoiserModule(p, mask_id=7, vocab_size=7)
    with pytest.raises(ValidationError, match=r"vocab_size: must be mask_id \+ 1 = 4 for style"):
        ExactDenoiserModule(p, style="sedd", vocab_size=6)
    with pytest.raises(ValidationError, match="style: must be"):
        ExactDenoiserModule(p, style="gpt2")
    m = ExactDenoiserModule(p, mask_id=6)
    with pytest.raises(ValidationError, match=r"tokens: entry \(0, 1\) must be a value in "):
        m(torch.tensor([[0, 3, 6]]))  # 3 = q is not the mask here
    with pytest.raises(ValidationError, match=r"tokens: must have shape \(B, 3\)"):
        m(torch.tensor([0, 1, 6]))
    sedd = ExactDenoiserModule(p, style="sedd")
    x = torch.tensor([[3, 3, 3]])
    with pytest.raises(ValidationError, match="sigma: style 'sedd' needs"):
        sedd(x)
    with pytest.raises(ValidationError, match="sigma: must hold 1 finite values > 0"):
        sedd(x, torch.tensor([0.0]))


def test_genuine_diffusers_step_reads_the_logits_style() -> None:
    """diffusers' BlockRefinementScheduler.step (pip, 0.42.1) on the "logits" output: at
    T = 0 its sampled tokens are the argmax and its confidences the exact max probability."""
    sched_mod = pytest.importorskip("diffusers.schedulers.scheduling_block_refinement")
    p = random_law((2, 3, 2, 3), seed=8, zeros=0.2)
    m = ExactDenoiserModule(p, style="logits", mask_id=5)
    rows = [r for r in contexts(p.shape, 5) if 5 in r]
    sched = sched_mod.BlockRefinementScheduler()
    sched.set_timesteps(2, block_length=4)
    x = torch.tensor(rows)
    out = sched.step(m(x), 0, x, mask_token_id=5, temperature=0.0, threshold=2.0)
    for k, row in enumerate(rows):
        for i in range(p.ndim):
            if row[i] == 5:
                want = expected(p, row, i, 5, 6)
                assert int(out.sampled_tokens[k, i]) == int(np.argmax(want))
                assert float(out.sampled_probs[k, i]) == pytest.approx(want.max(), abs=1e-6)
    # the quota of step 0 (2 of a block of 4) is written at masked positions only
    changed = out.prev_sample != x
    assert bool(torch.all(x[changed] == 5))
    assert torch.equal(changed.sum(dim=1), torch.clamp((x == 5).sum(dim=1), max=2))


def post_processed(style: str, m: ExactDenoiserModule, x: np.ndarray, sigma: np.ndarray):
    """Each sampler's own post-processing of the style's output, written from SAMPLERS.md:
    the probabilities ``(B, N, mask_id)`` it reads at the masked positions."""
    t = torch.tensor(x)
    mask = m.mask_id
    if style == "sedd":
        s = np.exp(m(t, torch.tensor(sigma)).numpy())
        return s[..., :mask] * np.expm1(sigma)[:, None, None]
    if style == "mdlm_backbone":
        logits = m(t, torch.tensor(sigma)).numpy().copy()
        logits[:, :, mask] += -1e6
        top = logits.max(axis=-1, keepdims=True)
        logits -= top + np.log(np.exp(logits - top).sum(axis=-1, keepdims=True))
        return np.exp(logits)[..., :mask]
    out = m(t, "full", None) if style == "dream" else m(t)
    logits = (out.logits if isinstance(out, DenoiserOutput) else out).numpy()
    if style == "dream":
        logits = np.concatenate([logits[:, :1], logits[:, :-1]], axis=1)
    return softmax(logits)[..., :mask]


@settings(max_examples=15, deadline=None)
@given(p=laws(max_n=4), extra=st.integers(0, 4), seed=st.integers(0, 2**16))
def test_every_style_gives_the_conditionals_for_any_law(p, extra, seed) -> None:
    rng = np.random.default_rng(seed)
    q = max(p.shape)
    mask = q + extra
    rows = [r for r in contexts(p.shape, mask) if not (r[0] == mask and r[1] == mask)]
    x = np.array(rows)
    sigma = rng.uniform(0.01, 5.0, size=len(rows))
    want = np.array([[expected(p, row, i, mask, mask) for i in range(p.ndim)] for row in rows])
    masked = x == mask
    for style in STYLES:
        m = ExactDenoiserModule(p, style=style, mask_id=mask)
        got = post_processed(style, m, x, sigma)
        np.testing.assert_allclose(got[masked], want[masked], atol=TOL, rtol=0, err_msg=style)
