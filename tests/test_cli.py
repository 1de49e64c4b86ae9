"""The ``exactmd report`` command and the report it prints (issue 9)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from exactmd.cli.main import main
from exactmd.cli.report import build_report, default_model
from exactmd.measures.information import complexity, information_profile, kl, total_correlation
from exactmd.schedules.factorization import factorization_error


def test_default_report_prints_the_measures(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--steps", "2", "5"]) == 0
    out = capsys.readouterr().out
    d = default_model()
    assert f"{total_correlation(d):.6f}" in out
    assert f"{complexity(d):.6f}" in out
    for name in ("constant", "cosine", "loglinear", "optimal"):
        assert name in out


def test_json_keys_follow_the_contract_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "parity:n=3", "--steps", "1", "2", "3", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    log2 = math.log(2)
    assert rep["entropy"] == pytest.approx(2 * log2, abs=1e-12)
    assert rep["total_correlation"] == pytest.approx(log2, abs=1e-12)
    assert rep["dual_total_correlation"] == pytest.approx(2 * log2, abs=1e-12)
    assert rep["complexity"] == pytest.approx(log2, abs=1e-12)
    np.testing.assert_allclose(rep["profile"], [-log2, -log2, 0.0], atol=1e-12)
    by_k = {row["steps"]: row for row in rep["steps"]}
    # K = 1 gives TC, K = N gives 0, for every schedule family; KL equals E_fact at K = 1
    for entry in by_k[1]["schedules"].values():
        assert entry["factorization_error"] == pytest.approx(log2, abs=1e-12)
        assert entry["kl"] == pytest.approx(log2, abs=1e-12)
    for entry in by_k[3]["schedules"].values():
        assert entry["factorization_error"] == pytest.approx(0.0, abs=1e-12)
        assert entry["kl"] == pytest.approx(0.0, abs=1e-12)


def test_report_values_match_the_library_and_the_bounds() -> None:
    d = default_model(7, 0.8)
    rep = build_report(d, [2, 3])
    f = information_profile(d)
    np.testing.assert_allclose(rep["profile"], f, atol=0)
    from exactmd.sampler.p_alg import output_distribution

    for row in rep["steps"]:
        best = row["schedules"]["optimal"]["factorization_error"]
        for name, entry in row["schedules"].items():
            e = factorization_error(d, entry["sizes"])
            assert entry["factorization_error"] == pytest.approx(e, abs=1e-12), name
            assert best <= e + 1e-12
            assert entry["kl"] == pytest.approx(
                kl(d, output_distribution(d, entry["sizes"])), abs=1e-12
            )
            assert entry["kl"] <= e + 1e-12  # exact denoiser: KL <= E_fact
        const = row["schedules"]["constant"]["factorization_error"]
        assert const <= row["bounds"]["exchangeable_bound"] + 1e-12
        assert const <= row["bounds"]["worst_case_bound"] + 1e-12


def test_plot_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.png"
    assert main(["report", "--steps", "2", "3", "--plot", str(out), "--no-kl"]) == 0
    assert out.stat().st_size > 10_000
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_bif_file_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from exactmd.models import example_path

    assert main(["report", str(example_path("cancer")), "--json", "--steps", "2"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["n"] == 5


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["report", "/no/such/file.bif"], "file.bif"),
        (["report", "nosuchmodel:n=3"], "nosuchmodel"),
        (["report", "--steps", "0"], "steps"),
        (["report", "parity:n=3", "--steps", "9"], "steps"),
        (["report", "--plot", "/no/such/folder/x.png"], "--plot"),
        (["report", "--plot", "out.jpeg2"], "--plot"),
    ],
)
def test_errors_are_one_line_and_exit_2(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("exactmd: error:")
    assert "\n" not in err
    assert needle in err
    assert "Traceback" not in err


def test_malformed_and_too_large_models(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.bif"
    bad.write_text("network x { this is not BIF")
    assert main(["report", str(bad)]) == 2
    assert "bad.bif" in capsys.readouterr().err
    assert main(["report", "parity:n=60"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("exactmd: error:") and "\n" not in err.strip()


def test_a_missing_optional_package_names_its_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import builtins

    real_import = builtins.__import__

    def no_networkx(name: str, *args: object, **kwargs: object) -> object:
        if name.split(".")[0] == "networkx":
            raise ModuleNotFoundError("No module named 'networkx'", name="networkx")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_networkx)
    assert main(["report", "ising:n=4"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "exactmd: error: this needs the optional package 'networkx': pip install 'exactmd[models]'"
    )


# -- the report is planned from the model's shape, before the joint exists (issue 13, item 9) --


def _traced_peak(fn: object) -> tuple[object, int]:
    import tracemalloc

    tracemalloc.start()
    try:
        result = fn()  # type: ignore[operator]
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("n", [27, 30])
def test_a_report_too_large_is_refused_from_the_shape(
    n: int, capsys: pytest.CaptureFixture[str]
) -> None:
    # the 2^30 joint alone would be 8 GiB: refused before it (or the graph) is built
    main(["report", "parity:n=3", "--steps", "1", "--no-kl"])  # imports done once
    capsys.readouterr()
    rc, peak = _traced_peak(lambda: main(["report", f"ising:n={n}", "--steps", "2", "--no-kl"]))
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert err.startswith(f"exactmd: error: ising:n={n}: the subset entropies of a law of shape")
    assert "GiB" in err and "bytes) may be used" in err and "\n" not in err
    assert peak < 4 * 2**20, f"{peak} bytes traced"


def test_report_plan_names_the_model_and_checks_steps_first() -> None:
    from exactmd.cli.report import plan_report
    from exactmd.errors import MemoryPlanError, ScheduleError

    with pytest.raises(MemoryPlanError, match=r"^ising:n=40: the joint of 40 variables"):
        plan_report((2,) * 40, name="ising:n=40")
    with pytest.raises(MemoryPlanError, match=r"^parity:n=10\^6: the joint of 1000000 variables"):
        plan_report((2,) * 10**6, name="parity:n=10^6")
    with pytest.raises(ScheduleError, match="steps"):
        plan_report((2,) * 4, [9])
    assert plan_report((2,) * 8, [2]).bytes_needed > 2**8 * 8


def _small_memory(monkeypatch: pytest.MonkeyPatch, available: int) -> None:
    from exactmd.backends._numpy import NumpyBackend

    monkeypatch.setattr(NumpyBackend, "available_memory", lambda self: available)


def test_small_usable_memory_refuses_ising_16_before_allocating_the_joint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import networkx as nx

    from exactmd.errors import MemoryPlanError
    from exactmd.models import from_spec, ising

    joint = 2**16 * 8  # 512 KiB
    _small_memory(monkeypatch, joint // 2)
    # the builder itself, the spec and the report all refuse before the joint exists
    graph = nx.path_graph(16)
    for build in (lambda: ising(graph), lambda: from_spec("ising:n=16")):
        with pytest.raises(MemoryPlanError, match="too large to enumerate") as info:
            _, peak = _traced_peak(build)
        assert "bytes" in str(info.value)
    _, peak = _traced_peak(lambda: main(["report", "ising:n=16", "--steps", "2", "--no-kl"]))
    err = capsys.readouterr().err
    assert "exactmd: error: ising:n=16:" in err and "bytes" in err
    assert peak < joint // 4, f"{peak} bytes traced"


def test_every_builder_refuses_before_allocating(monkeypatch: pytest.MonkeyPatch) -> None:
    import tracemalloc

    import networkx as nx

    from exactmd.errors import MemoryPlanError
    from exactmd.models import (
        block_copy,
        from_spec,
        hmm,
        iid,
        markov_chain,
        parity,
        potts,
        random_joint,
        random_xorsat,
    )

    cells = 2**16
    _small_memory(monkeypatch, cells * 8 // 2)
    builders = [  # (build, cells of its joint)
        (lambda: parity(16), cells),
        (lambda: markov_chain([0.5, 0.5], [[0.9, 0.1], [0.1, 0.9]], 16), cells),
        (lambda: hmm([0.5, 0.5], [[0.9, 0.1], [0.1, 0.9]], [[0.9, 0.1], [0.1, 0.9]], 16), cells),
        (lambda: block_copy([4] * 4), cells),
        (lambda: random_xorsat(16, 3, 3), cells),
        (lambda: iid([0.5, 0.5], 16), cells),
        (lambda: random_joint((2,) * 16), cells),
        (lambda: potts(nx.path_graph(8), 4), cells),
        (lambda: from_spec("random:shape=4x4x4x4x4x4x4x4"), cells),
        (lambda: from_spec("example:sachs"), 3**11),  # the file loader's plan (BIF parse)
    ]
    for k, (build, size) in enumerate(builders):
        with pytest.raises(MemoryPlanError):  # a first call does the builder's lazy imports
            build()  # (random_xorsat's seeding imports secrets), which are not its table
        tracemalloc.start()
        try:
            with pytest.raises(MemoryPlanError, match="bytes"):
                build()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < size * 8 // 3, f"builder {k}: {peak} bytes traced"


def test_sampler_rows_are_the_exact_laws(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--sampler: each row's KL and calls are those of the library, beside the optimal schedule."""
    import exactmd
    from exactmd.models import from_spec
    from exactmd.samplers import llada, nfe_distribution

    spec = "ising:n=5,coupling=0.7"
    plot = tmp_path / "s.png"
    args = ["report", spec, "--steps", "2", "5", "--json", "--plot", str(plot)]
    args += ["--sampler", "llada:steps=2,remasking=random,temperature=1.0"]
    args += ["--sampler", "llada:steps=5,temperature=1.0,ties=split"]
    assert main(args) == 0
    rep = json.loads(capsys.readouterr().out)
    assert plot.stat().st_size > 0
    p = from_spec(spec)
    rows = rep["samplers"]
    for row, s in zip(
        rows,
        [llada(2, remasking="random", temperature=1.0), llada(5, temperature=1.0, ties="split")],
        strict=False,
    ):
        assert row["name"] == "llada" and row["schedule"] == repr(s)
        assert math.isclose(row["kl"], kl(p, exactmd.output_distribution(p, s)), abs_tol=1e-12)
        assert row["expected_calls"] == sum(c * w for c, w in nfe_distribution(p, s).items())
    assert rows[0]["factorization_error"] is not None  # random remasking: value-independent
    assert rows[1]["factorization_error"] is None  # low confidence: sample-then-select
    optimal = [r for r in rows if r["name"] == "optimal exchangeable"]
    assert sorted(round(r["expected_calls"]) for r in optimal) == [2, 5]
    k2 = next(r for r in rep["steps"] if r["steps"] == 2)["schedules"]["optimal"]
    assert math.isclose(optimal[0]["kl"], k2["kl"], abs_tol=1e-12)
    # llada(random) at K = 2 is the exchangeable sampler of its sizes: never better than optimal
    assert rows[0]["kl"] >= optimal[0]["kl"] - 1e-12


def test_bad_sampler_specs_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for spec, message in [
        ("nope:steps=2", "--sampler: the sampler must be one of"),
        ("llada:stepz=2", "--sampler: llada takes no argument 'stepz'"),
        ("llada", "--sampler: llada needs the argument(s) ('steps',)"),
        ("llada:steps=0", "steps: must be an integer >= 1"),
    ]:
        assert main(["report", "parity:n=3", "--sampler", spec]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    assert main(["report", "ising:n=13", "--steps", "2", "--sampler", "llada:steps=2"]) == 2
    assert "at most 4096 outcomes" in capsys.readouterr().err
