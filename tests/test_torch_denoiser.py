"""The nn.Module exact denoiser, and LLaDA- / MDLM-style samplers tested with exactmd."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from helpers import random_law
from test_testing_power import brute_conditional, brute_p_alg, brute_p_alg_random_reveal

torch = pytest.importorskip("torch")

from exactmd.denoisers.torch_module import NEG_LOGIT, DenoiserOutput, ExactDenoiserModule  # noqa: E402
from exactmd.errors import ValidationError  # noqa: E402
from exactmd.testing import assert_denoiser_matches, assert_samples_match  # noqa: E402
from exactmd.testing.examples import (  # noqa: E402
    llada_generate,
    llada_step_sizes,
    low_confidence_law,
    mdlm_generate,
)

SHAPE = (2, 3, 2)


@pytest.fixture(scope="module")
def law() -> np.ndarray:
    return random_law(SHAPE, seed=11, zeros=0.25)


def all_contexts(shape: tuple[int, ...]) -> np.ndarray:
    q = max(shape)
    return np.array(list(itertools.product(*([*range(s), q] for s in shape))))


def test_logits_are_log_conditionals_with_documented_zeros(law: np.ndarray) -> None:
    m = ExactDenoiserModule(law)
    tokens = all_contexts(SHAPE)
    logits = m(torch.as_tensor(tokens))
    assert logits.shape == (len(tokens), 3, 4) and logits.dtype == torch.float64
    assert torch.all(logits[..., 3] == NEG_LOGIT)  # the mask column
    probs = torch.softmax(logits, -1).numpy()
    for row, t in zip(probs, tokens, strict=True):
        ctx = {i: int(v) for i, v in enumerate(t) if v < 3}
        if law[tuple(ctx.get(i, slice(None)) for i in range(3))].sum() == 0:
            continue
        for i in range(3):
            expected = np.zeros(4)
            if i in ctx:
                expected[ctx[i]] = 1.0
            else:
                expected[: SHAPE[i]] = brute_conditional(law, i, ctx)
            np.testing.assert_allclose(row[i], expected, atol=1e-12)
            zero = expected == 0
            assert np.all(logits.numpy()[tokens.tolist().index(t.tolist()), i][zero] == NEG_LOGIT)


def test_styles_vocab_dtype_and_extra_arguments(law: np.ndarray) -> None:
    x = torch.tensor([[3, 3, 3], [1, 3, 0]])
    mdlm = ExactDenoiserModule(law)
    llada = ExactDenoiserModule(law, style="llada", vocab_size=8)
    out = llada(x)
    assert isinstance(out, DenoiserOutput) and out.logits.shape == (2, 3, 8)
    torch.testing.assert_close(out.logits[..., :4], mdlm(x, torch.ones(2)))
    assert torch.all(out.logits[..., 4:] == NEG_LOGIT)
    assert mdlm.float()(x).dtype == torch.float32
    np.testing.assert_allclose(mdlm.probabilities(x).sum(-1).numpy(), 1.0, atol=1e-6)
    assert "mask_id=3" in repr(mdlm)


def test_bad_arguments(law: np.ndarray) -> None:
    with pytest.raises(ValidationError, match="style: must be"):
        ExactDenoiserModule(law, style="gpt")
    with pytest.raises(ValidationError, match="vocab_size: must be at least q \\+ 1 = 4"):
        ExactDenoiserModule(law, vocab_size=3)
    with pytest.raises(ValidationError, match="tokens: entry"):
        ExactDenoiserModule(law)(torch.tensor([[0, 0, 2]]))


def test_module_passes_the_denoiser_oracle(law: np.ndarray) -> None:
    m = ExactDenoiserModule(law)
    assert assert_denoiser_matches(m.probabilities, law, atol=1e-12).exhaustive


def test_llada_random_remasking_is_the_exchangeable_sampler(law: np.ndarray) -> None:
    model = ExactDenoiserModule(law, style="llada")
    g = torch.Generator().manual_seed(0)
    x = llada_generate(model, 3, 2, model.mask_id, batch=3000, remasking="random", generator=g)
    assert_samples_match(x, brute_p_alg(law, llada_step_sizes(3, 2)))


def test_llada_low_confidence_matches_its_exact_adaptive_law(law: np.ndarray) -> None:
    model = ExactDenoiserModule(law, style="llada")
    g = torch.Generator().manual_seed(1)
    x = llada_generate(model, 3, 2, model.mask_id, batch=3000, generator=g)
    exact = low_confidence_law(law, llada_step_sizes(3, 2))
    assert exact.sum() == pytest.approx(1.0)
    assert_samples_match(x, exact)
    # and it is not the exchangeable p_alg: exactmd tells the two planners apart
    with pytest.raises(AssertionError):
        assert_samples_match(x, brute_p_alg(law, llada_step_sizes(3, 2)))


def test_low_confidence_law_one_step_is_the_product_of_marginals(law: np.ndarray) -> None:
    marg = [law.sum(axis=tuple(j for j in range(3) if j != i)) for i in range(3)]
    product = np.einsum("a,b,c->abc", *marg)
    np.testing.assert_allclose(low_confidence_law(law, [3]), product, atol=1e-12)


def test_mdlm_bernoulli_reveal_is_the_random_reveal_sampler(law: np.ndarray) -> None:
    model = ExactDenoiserModule(law)
    grid = (1.0, 0.5, 0.0)
    g = torch.Generator().manual_seed(2)
    x = mdlm_generate(model, 3, grid, model.mask_id, batch=3000, generator=g)
    assert_samples_match(x, brute_p_alg_random_reveal(law, grid))


# -- devices: a model (or law) off the CPU ------------------------------------------------------
# No GPU on CI: the "meta" device stands in for CUDA. A meta tensor mixed with a CPU tensor
# raises, so a sampler that creates a tensor on the CPU for a meta model fails here as it
# would on CUDA.


class MetaModel(torch.nn.Module):
    """Uniform logits on its buffer's ("meta") device; records the devices of its inputs."""

    def __init__(self, vocab: int, llada: bool) -> None:
        super().__init__()
        self.register_buffer("anchor", torch.zeros(1, device="meta"))
        self.vocab, self.llada = vocab, llada
        self.seen: list[torch.device] = []

    def forward(self, x: torch.Tensor, *args: torch.Tensor) -> object:
        self.seen += [x.device, *(a.device for a in args)]
        logits = torch.zeros((*x.shape, self.vocab), device=self.anchor.device)
        return DenoiserOutput(logits) if self.llada else logits


@pytest.mark.parametrize("remasking", ["low_confidence", "random"])
def test_llada_creates_every_tensor_on_the_models_device(remasking: str) -> None:
    model = MetaModel(4, llada=True)
    x = llada_generate(model, 3, 2, 3, batch=2, remasking=remasking)
    assert x.device.type == "meta" and x.shape == (2, 3) and x.dtype == torch.long
    assert [d.type for d in model.seen] == ["meta", "meta"]  # the tokens, at both steps


def test_mdlm_creates_every_tensor_on_the_models_device() -> None:
    model = MetaModel(4, llada=False)
    x = mdlm_generate(model, 3, (1.0, 0.5, 0.0), 3, batch=2)
    assert x.device.type == "meta" and x.shape == (2, 3) and x.dtype == torch.long
    assert [d.type for d in model.seen] == ["meta"] * 4  # the tokens and the time, two steps


def test_a_generator_off_the_models_device_is_refused() -> None:
    g = torch.Generator()  # a CPU generator for a meta model
    with pytest.raises(ValidationError, match=r"generator: must live on the model's device meta"):
        llada_generate(MetaModel(4, llada=True), 3, 2, 3, generator=g)
    with pytest.raises(ValidationError, match=r"generator: .*received a generator on cpu"):
        mdlm_generate(MetaModel(4, llada=False), 3, (1.0, 0.0), 3, generator=g)
    with pytest.raises(ValidationError, match=r"generator: must be None or a torch\.Generator"):
        mdlm_generate(MetaModel(4, llada=False), 3, (1.0, 0.0), 3, generator=0)
    with pytest.raises(ValidationError, match="remasking: must be"):
        llada_generate(MetaModel(4, llada=True), 3, 2, 3, remasking="greedy")


def test_a_model_without_tensors_samples_on_the_cpu(law: np.ndarray) -> None:
    module = ExactDenoiserModule(law, style="llada")

    def plain(x: torch.Tensor) -> DenoiserOutput:  # no parameters, no buffers
        return module(x)

    x = llada_generate(plain, 3, 3, module.mask_id, batch=4, generator=torch.Generator())
    assert x.device.type == "cpu" and bool(torch.all(x < 3))


def test_module_buffer_starts_on_the_laws_device(law: np.ndarray) -> None:
    from exactmd.backends._torch import TorchBackend
    from exactmd.law.distribution import Distribution, as_distribution

    assert ExactDenoiserModule(law).table.device.type == "cpu"  # numpy law: the CPU
    d32 = as_distribution(law, backend="torch", device="cpu", dtype="float32")
    m = ExactDenoiserModule(d32)
    assert m.table.device == d32.backend.device and m.table.dtype == torch.float64
    # a torch law off the CPU (meta stands in for CUDA): its table is read on the host, and
    # the buffer must start on the law's device, not on the CPU
    meta_law = Distribution(torch.as_tensor(law), TorchBackend(device="meta"))
    m = ExactDenoiserModule(meta_law)
    assert m.table.device.type == "meta" and m.table.dtype == torch.float64
    assert m.table.shape == SHAPE
