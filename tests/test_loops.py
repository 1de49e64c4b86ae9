"""The field's loops (exactmd.testing.loops), run on the exact module, against exact laws.

Each loop of :mod:`exactmd.testing.loops` calls an
:class:`~exactmd.denoisers.torch_module.ExactDenoiserModule` in its real calling convention
(a large mask id, as real models have) and its samples are compared with the exact law of
the matching schedule of :mod:`exactmd.samplers` by :func:`exactmd.testing.assert_samples_match`
(alpha = 1e-3, M stated per test). At T = 0 the laws are point masses and the samples must
all equal the one outcome. A test whose schedule has not landed in exactmd.samplers is
skipped (by name only).
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import random_law

torch = pytest.importorskip("torch")

import exactmd.samplers as samplers  # noqa: E402
from exactmd.denoisers.torch_module import ExactDenoiserModule  # noqa: E402
from exactmd.law.distribution import as_distribution  # noqa: E402
from exactmd.samplers import exact_run, llada  # noqa: E402
from exactmd.testing import assert_samples_match, loops  # noqa: E402

MASK = 9  # a mask id above q, as real vocabularies have
M = 4000  # samples per Monte Carlo comparison


def builder(name: str):
    """The schedule builder ``exactmd.samplers.<name>``; skip while it has not landed."""
    if not hasattr(samplers, name):
        pytest.skip(f"exactmd.samplers.{name} has not landed yet")
    return getattr(samplers, name)


def empty_prompt(rows: int) -> torch.Tensor:
    return torch.zeros((rows, 0), dtype=torch.long)


def law_of(p: np.ndarray, sched, prompt: dict[int, int] | None = None) -> np.ndarray:
    return exact_run(as_distribution(p), sched, None, prompt=prompt).law


def assert_point_mass(x: torch.Tensor, law: np.ndarray) -> None:
    """A T = 0 run: the law is one outcome and every sample is it."""
    assert np.isclose(law.max(), 1.0, atol=1e-12)
    outcome = np.unravel_index(np.argmax(law), law.shape)
    assert np.all(x.numpy() == np.array(outcome)[None, :])


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# -- LLaDA --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "steps", "block", "remasking", "temperature"),
    [
        ((2, 3, 2), 2, 3, "low_confidence", 1.0),
        ((2, 3, 2), 3, 3, "random", 0.7),
        ((2, 3, 2, 2), 4, 2, "low_confidence", 1.5),
        ((3, 2, 2, 2), 4, 2, "random", 1.0),
        ((3, 2, 2, 2), 2, 2, "random", 1.0),  # k = 2 from groups of several states
    ],
)
def test_llada_generate_matches_the_exact_law(shape, steps, block, remasking, temperature):
    p = random_law(shape, seed=sum(shape) + steps, zeros=0.25)
    model = ExactDenoiserModule(p, style="llada", mask_id=MASK)
    n = len(shape)
    x = loops.generate_llada(
        model, empty_prompt(M), steps, n, block, temperature, remasking, MASK, generator=gen(1)
    )
    sched = llada(steps, block_length=block, remasking=remasking, temperature=temperature)
    assert_samples_match(x.numpy(), law_of(p, sched))


def test_llada_generate_with_a_prompt_and_an_attention_mask() -> None:
    p = random_law((2, 3, 2, 3), seed=4, zeros=0.2)
    model = ExactDenoiserModule(p, style="llada", mask_id=MASK)
    prompt = torch.ones((M, 1), dtype=torch.long)  # x_0 = 1
    x = loops.generate_llada(
        model,
        prompt,
        steps=3,
        gen_length=3,
        block_length=3,
        temperature=1.0,
        mask_id=MASK,
        attention_mask=torch.ones((M, 1), dtype=torch.long),
        generator=gen(2),
    )
    assert bool(torch.all(x[:, 0] == 1))
    assert_samples_match(x.numpy(), law_of(p, llada(3, temperature=1.0), prompt={0: 1}))


def test_llada_prompt_filling_whole_blocks_is_llada_with_the_steps_scaled() -> None:
    """exactmd's blocks tile all N positions, the prompt's too; LLaDA's tile the generated
    part after the prompt. A prompt of whole blocks gives the same law once exactmd's steps
    count the prompt's blocks (whose steps reveal nothing)."""
    p = random_law((2, 3, 2, 2, 3, 2), seed=9, zeros=0.2)
    model = ExactDenoiserModule(p, style="llada", mask_id=MASK)
    prompt = torch.tensor([[1, 0]] * M)
    x = loops.generate_llada(model, prompt, 4, 4, 2, 1.0, mask_id=MASK, generator=gen(11))
    exact = law_of(p, llada(6, block_length=2, temperature=1.0), prompt={0: 1, 1: 0})
    assert_samples_match(x.numpy(), exact)


def test_llada_low_confidence_is_told_apart_from_random_remasking() -> None:
    p = random_law((2, 3, 2), seed=7, zeros=0.0, alpha=0.3)
    model = ExactDenoiserModule(p, style="llada", mask_id=MASK)
    x = loops.generate_llada(model, empty_prompt(M), 2, 3, 3, 1.0, mask_id=MASK, generator=gen(3))
    assert_samples_match(x.numpy(), law_of(p, llada(2, temperature=1.0)))
    with pytest.raises(AssertionError):
        assert_samples_match(x.numpy(), law_of(p, llada(2, remasking="random", temperature=1.0)))


def test_llada_generate_at_temperature_zero_is_the_argmax_path() -> None:
    p = random_law((2, 3, 2, 2), seed=12, zeros=0.2)
    model = ExactDenoiserModule(p, style="llada", mask_id=MASK)
    x = loops.generate_llada(model, empty_prompt(50), 4, 4, 2, 0.0, mask_id=MASK)
    assert_point_mass(x, law_of(p, llada(4, block_length=2)))


def test_llada_generate_refuses_what_the_code_asserts() -> None:
    model = ExactDenoiserModule(random_law((2, 2, 2), seed=0), style="llada", mask_id=MASK)
    with pytest.raises(Exception, match="block_length: must divide gen_length = 3"):
        loops.generate_llada(model, empty_prompt(2), 2, 3, 2, mask_id=MASK)
    with pytest.raises(Exception, match="steps: must be a multiple of the number of blocks 3"):
        loops.generate_llada(model, empty_prompt(2), 2, 3, 1, mask_id=MASK)
    with pytest.raises(Exception, match=r"generator: must be None or a torch\.Generator"):
        loops.generate_llada(model, empty_prompt(2), 3, 3, 3, mask_id=MASK, generator=0)
    with pytest.raises(Exception, match=r"model: must have a \.device attribute"):
        loops.generate_llada(object(), empty_prompt(2), 3, 3, 3, mask_id=MASK)


# -- Fast-dLLM ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "block", "temperature"),
    [
        ({"threshold": 0.45}, None, 1.0),
        ({"threshold": 0.6}, 2, 0.8),
        ({"factor": 1.0}, None, 1.0),
        ({"factor": 0.6}, 2, 1.3),
        ({"steps": 2}, None, 1.0),
        ({"steps": 4}, 2, 0.9),
    ],
)
def test_fast_dllm_generate_matches_the_exact_law(kwargs, block, temperature) -> None:
    fast_dllm = builder("fast_dllm")
    shape = (2, 3, 2, 2)
    p = random_law(shape, seed=30 + len(kwargs) + (block or 0), zeros=0.25)
    model = ExactDenoiserModule(p, style="fast_dllm", mask_id=MASK)
    steps = kwargs.get("steps", 4)
    x, nfe = loops.generate_fast(
        model,
        empty_prompt(M),
        steps,
        4,
        block or 4,
        temperature,
        mask_id=MASK,
        threshold=kwargs.get("threshold"),
        factor=kwargs.get("factor"),
        generator=gen(4),
    )
    sched = fast_dllm(block_length=block, temperature=temperature, **kwargs)
    run = exact_run(as_distribution(p), sched, None)
    assert_samples_match(x.numpy(), run.law)
    assert nfe <= max(run.calls)  # the batch's count is the slowest row's


@pytest.mark.slow
@pytest.mark.parametrize("kwargs", [{"threshold": 0.45}, {"factor": 1.0}])
def test_fast_dllm_number_of_calls_matches_the_exact_call_law(kwargs) -> None:
    fast_dllm = builder("fast_dllm")
    p = random_law((2, 3, 2, 2), seed=41, zeros=0.25)
    model = ExactDenoiserModule(p, style="fast_dllm", mask_id=MASK)
    g = gen(5)
    runs = 400  # one row per run: the code's nfe counts the batch
    counts = [
        loops.generate_fast(
            model, empty_prompt(1), 4, 4, 4, 1.0, mask_id=MASK, generator=g, **kwargs
        )[1]
        for _ in range(runs)
    ]
    calls = exact_run(as_distribution(p), fast_dllm(temperature=1.0, **kwargs), None).calls
    law = np.zeros(max(calls) + 1)
    for c, w in calls.items():
        law[c] = w
    assert_samples_match(np.array(counts)[:, None], law)


def test_fast_dllm_generate_with_a_prompt() -> None:
    fast_dllm = builder("fast_dllm")
    p = random_law((2, 3, 2, 2), seed=45, zeros=0.2)
    model = ExactDenoiserModule(p, style="fast_dllm", mask_id=MASK)
    v = int(np.argmax(p.sum(axis=(1, 2, 3))))
    x, _ = loops.generate_fast(
        model,
        torch.full((M, 1), v),
        3,
        3,
        3,
        1.0,
        mask_id=MASK,
        threshold=0.4,
        generator=gen(12),
    )
    exact = law_of(p, fast_dllm(threshold=0.4, temperature=1.0), prompt={0: v})
    assert_samples_match(x.numpy(), exact)


def test_fast_dllm_at_temperature_zero_is_deterministic() -> None:
    fast_dllm = builder("fast_dllm")
    p = random_law((2, 3, 2, 2), seed=44, zeros=0.2)
    model = ExactDenoiserModule(p, style="fast_dllm", mask_id=MASK)
    x, _ = loops.generate_fast(model, empty_prompt(20), 4, 4, 4, 0.0, mask_id=MASK, threshold=0.5)
    assert_point_mass(x, law_of(p, fast_dllm(threshold=0.5)))


# -- Dream --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alg", "steps", "temperature", "extra"),
    [
        ("origin", 3, 1.0, {}),
        ("origin", 2, 0.8, {"top_p": 0.8}),
        ("maskgit_plus", 3, 1.0, {}),
        ("maskgit_plus", 2, 1.2, {"top_k": 2}),
        ("topk_margin", 3, 0.9, {}),
        ("entropy", 2, 1.0, {"eps": 0.05}),
        ("maskgit_plus", 2, 1.0, {"alg_temp": 0.5}),
        ("topk_margin", 3, 0.8, {"alg_temp": 0.3}),
        ("entropy", 3, 1.0, {"alg_temp": 1.0, "top_p": 0.9}),
    ],
)
def test_dream_sample_matches_the_exact_law(alg, steps, temperature, extra) -> None:
    dream = builder("dream")
    p = random_law((2, 3, 2, 3), seed=50 + steps, zeros=0.2)
    model = ExactDenoiserModule(p, style="dream", mask_id=MASK)
    v = int(np.argmax(p.sum(axis=(1, 2, 3))))  # a prompt token of positive mass
    x = loops.sample_dream(
        model,
        torch.full((M, 1), v, dtype=torch.long),
        4,
        MASK,
        steps,
        alg=alg,
        temperature=temperature,
        generator=gen(6),
        **extra,
    )
    sched = dream(steps, alg=alg, temperature=temperature, **extra)
    assert_samples_match(x.numpy(), law_of(p, sched, prompt={0: v}))


def test_dream_sample_at_temperature_zero_is_deterministic() -> None:
    dream = builder("dream")
    p = random_law((2, 3, 2, 3), seed=57, zeros=0.2)
    model = ExactDenoiserModule(p, style="dream", mask_id=MASK)
    prompt = torch.zeros((10, 1), dtype=torch.long)
    x = loops.sample_dream(model, prompt, 4, MASK, 3, alg="maskgit_plus")
    assert_point_mass(x, law_of(p, dream(3, alg="maskgit_plus"), prompt={0: 0}))


def test_dream_without_a_prompt_is_refused_by_the_module() -> None:
    model = ExactDenoiserModule(random_law((2, 2, 2), seed=1), style="dream", mask_id=MASK)
    with pytest.raises(Exception, match="positions 0 and 1 both masked"):
        loops.sample_dream(model, empty_prompt(2), 3, MASK, 2)


# -- MDLM ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("steps", "dtype"), [(1, "float32"), (3, "float32"), (5, "float64")])
def test_mdlm_sample_matches_the_exact_law(steps, dtype) -> None:
    mdlm = builder("mdlm")
    p = random_law((2, 3, 2), seed=60 + steps, zeros=0.25)
    model = ExactDenoiserModule(p, style="mdlm_backbone", mask_id=MASK)
    x = loops.sample_mdlm(model, M, 3, MASK, steps, dtype=dtype, generator=gen(7))
    assert_samples_match(x.numpy(), law_of(p, mdlm(steps)))


# -- the EB-sampler -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gamma", "proxy", "temperature"),
    [(0.0, "entropy", 1.0), (0.6, "entropy", 0.8), (0.4, "confidence", 1.0), (1.0, "margin", 1.2)],
)
def test_eb_generate_matches_the_exact_law(gamma, proxy, temperature) -> None:
    eb = builder("eb")
    p = random_law((2, 3, 2, 2), seed=70, zeros=0.25)
    model = ExactDenoiserModule(p, style="mdlm", mask_id=MASK)
    x = loops.generate_eb(
        model,
        M,
        4,
        MASK,
        gamma=gamma,
        error_proxy=proxy,
        temperature=temperature,
        generator=gen(8),
    )
    assert_samples_match(x.numpy(), law_of(p, eb(gamma, proxy=proxy, temperature=temperature)))


def test_eb_generate_refuses_temperature_zero() -> None:
    model = ExactDenoiserModule(random_law((2, 2), seed=0), style="mdlm", mask_id=MASK)
    with pytest.raises(Exception, match="temperature: must be"):
        loops.generate_eb(model, 2, 2, MASK, temperature=0.0)
