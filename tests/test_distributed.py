"""The sharded enumeration (exactmd.distributed) against the single process and brute force.

Two gloo ranks on the CPU are spawned by the tests themselves (plain subprocesses with the
environment torchrun would set, and once torchrun itself for the command line), each bounded
by the process group's timeout and a subprocess timeout. Brute force: ``tests/brute.py``
(every subset's marginal by summing axes, its entropy by its definition), written without the
enumeration code under test.
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch.distributed")

from brute import brute_profile, brute_subset_entropies  # noqa: E402
from helpers import random_law  # noqa: E402

import exactmd  # noqa: E402
from exactmd.backends import get_backend  # noqa: E402
from exactmd.distributed import (  # noqa: E402
    Distributed,
    FactorSource,
    TableSource,
    information_profile,
    plan_shards,
    scaling_model,
    source_from_spec,
)
from exactmd.distributed.plan import masked_sum_transfers  # noqa: E402
from exactmd.distributed.scaling import receive_bytes  # noqa: E402
from exactmd.enumeration import subset_entropies  # noqa: E402
from exactmd.enumeration.plan import plan_subset_entropies  # noqa: E402
from exactmd.enumeration.streamed import streamed_subset_entropies  # noqa: E402
from exactmd.errors import MemoryPlanError, ValidationError  # noqa: E402
from exactmd.models import from_spec  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TOL = 1e-12
#: Seconds a spawned run may take before it is killed (the group's own timeout is 20 s).
LAUNCH_TIMEOUT_S = 90
SPECS = ("ising:graph=grid3x4,coupling=0.4,field=0.1", "example:asia")

WORKER = textwrap.dedent(
    """
    import json, os, sys
    import numpy as np
    from exactmd.distributed import (
        Distributed, DistributedError, TableSource, information_profile, subset_entropies,
    )
    from exactmd.errors import ValidationError

    mode, data, out = sys.argv[1], sys.argv[2], sys.argv[3]
    rank = int(os.environ["RANK"])
    with Distributed(backend="gloo", timeout_s=20) as group:
        if mode == "agree":
            laws = dict(np.load(data))
            res = {}
            for key, p in sorted(laws.items()):
                res["f/" + key] = information_profile(p, group=group)
                res["h/" + key] = subset_entropies(p, group=group, backend="numpy")
            for i, spec in enumerate(json.loads(os.environ["SPECS"])):
                res[f"f/spec{i}"] = information_profile(spec, group=group)
                res[f"h/spec{i}"] = subset_entropies(spec, group=group)
            p = laws["n12"]
            res["h/matched"] = subset_entropies(p, group=group, shard_axes=3, chunk_cells=3**9)
            spec = json.loads(os.environ["SPECS"])[0]
            res["f/fixed"] = information_profile(spec, group=group, shard_axes=2)
            if rank == 0:
                np.savez(out, **res)
        elif mode == "die":
            class Dying(TableSource):
                def block(self, prefix, be):
                    if rank == 1:
                        os._exit(3)
                    return super().block(prefix, be)
            try:
                information_profile(Dying(np.load(data)["n12"]), group=group, shard_axes=2)
            except DistributedError as exc:
                print("DistributedError:", exc, flush=True)
                os._exit(1)
        elif mode == "mismatch":
            p = np.load(data)["n5mixed"]
            lines = []
            try:
                information_profile(p, group=group, shard_axes=1 + rank)
            except ValidationError as exc:
                lines.append(f"shard_axes refused: {exc}")
            try:
                information_profile(p if rank == 0 else p[::-1], group=group)
            except ValidationError as exc:
                lines.append(f"p refused: {exc}")
            f = information_profile(p, group=group)
            lines.append(f"then ran: {len(f)}")
            with open(f"{out}.{rank}", "w") as fh:
                fh.write("\\n".join(lines))
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"  # the same per-rank thread count for every R (bit-identity)
    env["SPECS"] = json.dumps(SPECS)
    env.update(extra or {})
    return env


def launch(tmp: Path, mode: str, ranks: int, data: Path, out: Path) -> list[tuple[int, str]]:
    """Run the worker on ``ranks`` gloo ranks; (exit status, output) per rank, bounded."""
    script = tmp / "worker.py"
    script.write_text(WORKER)
    port = str(_free_port())
    procs = []
    for r in range(ranks):
        env = _env(
            {
                "RANK": str(r),
                "LOCAL_RANK": str(r),
                "WORLD_SIZE": str(ranks),
                "LOCAL_WORLD_SIZE": str(ranks),
                "MASTER_ADDR": "127.0.0.1",
                "MASTER_PORT": port,
            }
        )
        cmd = [sys.executable, str(script), mode, str(data), str(out)]
        procs.append(
            subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        )
    results = []
    deadline = time.monotonic() + LAUNCH_TIMEOUT_S
    for proc in procs:
        try:
            text, _ = proc.communicate(timeout=max(deadline - time.monotonic(), 1))
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            pytest.fail(f"the {mode} run of {ranks} rank(s) hung past {LAUNCH_TIMEOUT_S} s")
        results.append((proc.returncode, text.decode(errors="replace")))
    return results


@pytest.fixture(scope="module")
def laws(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, np.ndarray]]:
    tables = {
        "n12": random_law((2,) * 12, seed=1, zeros=0.3),
        "n13mixed": random_law((2, 3, 2, 2, 3, 2, 2, 2, 2, 3, 2, 2, 2), seed=2, zeros=0.4),
        "n14": random_law((2,) * 14, seed=3, zeros=0.2),
        "n5mixed": random_law((3, 2, 3, 2, 2), seed=4, zeros=0.5),
    }
    path = tmp_path_factory.mktemp("laws") / "laws.npz"
    np.savez(path, **tables)
    return path, tables


def _agree(tmp: Path, data: Path, ranks: int) -> dict[str, np.ndarray]:
    out = tmp / f"agree{ranks}.npz"
    results = launch(tmp, "agree", ranks, data, out)
    for rc, text in results:
        assert rc == 0, text[-3000:]
    return dict(np.load(out))


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory: pytest.TempPathFactory, laws) -> dict[str, np.ndarray]:
    return _agree(tmp_path_factory.mktemp("r2"), laws[0], 2)


def _single(key: str, tables: dict[str, np.ndarray]) -> np.ndarray:
    if key.startswith("spec"):
        return from_spec(SPECS[int(key[4:])]).numpy()
    return tables[key]


@pytest.mark.slow  # the shared 2-rank run takes about 20 s on 2 cores
def test_two_ranks_match_the_single_process(two_ranks, laws) -> None:
    """Profile and all subset entropies on 2 ranks vs exactmd in one process, to 1e-12."""
    _, tables = laws
    keys = [*sorted(tables), "spec0", "spec1"]
    for key in keys:
        p = _single(key, tables)
        np.testing.assert_allclose(
            two_ranks["f/" + key], exactmd.information_profile(p), rtol=0, atol=TOL, err_msg=key
        )
        np.testing.assert_allclose(
            two_ranks["h/" + key], subset_entropies(p), rtol=0, atol=TOL, err_msg=key
        )


@pytest.mark.slow  # the shared 2-rank run takes about 20 s on 2 cores
def test_two_ranks_match_brute_force(two_ranks, laws) -> None:
    """The 2-rank results against tests/brute.py (marginals by summing axes)."""
    _, tables = laws
    for key in ("n5mixed", "n12", "spec1"):
        p = _single(key, tables)
        brute = brute_subset_entropies(p)
        h = two_ranks["h/" + key]
        for subset, value in brute.items():
            idx = tuple(1 if i in subset else 0 for i in range(p.ndim))
            assert abs(h[idx] - value) <= TOL, (key, sorted(subset))
    np.testing.assert_allclose(
        two_ranks["f/n5mixed"], brute_profile(tables["n5mixed"]), rtol=0, atol=TOL
    )


@pytest.mark.slow  # the shared 2-rank run takes about 20 s on 2 cores
def test_matched_split_is_bit_identical_to_the_single_process(two_ranks, laws) -> None:
    """shard_axes = the single plan's lead axes, one chunk per block: the same additions."""
    _, tables = laws
    be = get_backend(name="torch")
    d = exactmd.as_distribution(tables["n12"], backend="torch")
    plan = plan_subset_entropies(d.shape, be, chunk_cells=3**9)
    assert plan.lead_axes == 3
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the ranks run
    try:
        h = streamed_subset_entropies(d.table, d.shape, be, plan)
    finally:
        torch.set_num_threads(threads)
    h[(0,) * d.n] = 0.0
    assert np.array_equal(two_ranks["h/matched"], h)


@pytest.mark.slow
def test_one_and_two_ranks_are_bit_identical(tmp_path: Path, two_ranks, laws) -> None:
    """The reduction order does not depend on R: 1 and 2 ranks give the same bits."""
    one = _agree(tmp_path, laws[0], 1)
    for key in ("f/n12", "f/n13mixed", "f/spec0", "h/n14", "h/spec1"):
        # the default split depends on R (1 shard axis on one rank, 2 on two): to rounding
        np.testing.assert_allclose(one[key], two_ranks[key], rtol=0, atol=TOL, err_msg=key)
    for key in ("h/matched", "f/fixed"):  # the same shard axes: the same bits
        assert np.array_equal(one[key], two_ranks[key]), key


def test_a_rank_that_dies_gives_a_clear_error(tmp_path: Path, laws) -> None:
    start = time.monotonic()
    results = launch(tmp_path, "die", 2, laws[0], tmp_path / "none")
    elapsed = time.monotonic() - start
    (rc0, text0), (rc1, _) = results
    assert rc1 == 3
    assert rc0 == 1, text0[-3000:]
    assert "DistributedError: rank 0 of 2" in text0 and "another rank may have died" in text0
    assert elapsed < LAUNCH_TIMEOUT_S


def test_mismatched_arguments_are_refused(tmp_path: Path, laws) -> None:
    out = tmp_path / "mismatch"
    results = launch(tmp_path, "mismatch", 2, laws[0], out)
    for rank, (rc, text) in enumerate(results):
        assert rc == 0, text[-3000:]
        lines = Path(f"{out}.{rank}").read_text().splitlines()
        assert lines[0].startswith("shard_axes refused: shard_axes: must be the same on every")
        assert lines[1].startswith("p refused: p: must be the same on every rank")
        assert lines[2] == "then ran: 5"


@pytest.mark.slow
def test_torchrun_command_line(tmp_path: Path) -> None:
    """``torchrun --nproc-per-node 2 -m exactmd.distributed profile MODEL --out f.json``."""
    spec = "potts:graph=grid3x4,q=2,coupling=0.7"
    out = tmp_path / "f.json"
    cmd = [
        *(sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node"),
        *("2", "-m", "exactmd.distributed", "profile", spec, "--out", str(out)),
        *("--no-progress", "--timeout", "20"),
    ]
    done = subprocess.run(
        cmd, env=_env(), capture_output=True, text=True, timeout=LAUNCH_TIMEOUT_S, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads(out.read_text())
    assert record["ranks"] == 2 and record["shape"] == [2] * 12
    f = exactmd.information_profile(from_spec(spec))
    np.testing.assert_allclose(record["profile"], f, rtol=0, atol=TOL)


# -- in this process: a 1-rank group, sources, plans and the scaling model ---------------------


@pytest.fixture()
def one_rank(monkeypatch: pytest.MonkeyPatch):
    for key, value in {
        "RANK": "0",
        "WORLD_SIZE": "1",
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(_free_port()),
        "LOCAL_WORLD_SIZE": "1",
    }.items():
        monkeypatch.setenv(key, value)
    with Distributed(backend="gloo", timeout_s=20) as group:
        yield group


def test_one_rank_in_process_and_refusals(one_rank) -> None:
    p = random_law((2, 3, 2, 2, 3, 2), seed=5)
    f = information_profile(p, group=one_rank, shard_axes=2)
    np.testing.assert_allclose(f, exactmd.information_profile(p), rtol=0, atol=TOL)
    big = FactorSource([(np.zeros(2), [i]) for i in range(44)], (2,) * 44)
    with pytest.raises(MemoryPlanError, match=r"p: a sharded profile of shape .* needs about"):
        information_profile(big, group=one_rank)
    with pytest.raises(ValidationError, match="backend: must be one of"):
        information_profile(p, group=one_rank, backend="jax")
    with pytest.raises(ValidationError, match="shard_axes: must be below N = 6"):
        information_profile(p, group=one_rank, shard_axes=6)


def test_no_group_is_refused() -> None:
    with pytest.raises(ValidationError, match="group: a sharded run needs an initialised"):
        information_profile(np.full((2, 2), 0.25))


@pytest.mark.parametrize("spec", [*SPECS, "markov:n=5,q=3,stay=0.6", "potts:n=4,q=3"])
def test_factor_slices_are_the_law(spec: str) -> None:
    """exp(log-weights) of every slice, normalised, is the enumerated law's slice."""
    src = source_from_spec(spec)
    assert isinstance(src, FactorSource)
    table = from_spec(spec).numpy()
    be = get_backend(name="numpy")
    weights = {a: np.exp(src.block((a,), be)) for a in range(src.shape[0])}
    z = math.fsum(float(w.sum()) for w in weights.values())
    for a, w in weights.items():
        np.testing.assert_allclose(w / z, table[a], rtol=0, atol=TOL)


def test_table_source_and_bad_factors() -> None:
    assert isinstance(source_from_spec("parity:n=4"), TableSource)
    with pytest.raises(ValidationError, match="log_factors: a factor over axes"):
        FactorSource([(np.zeros(3), [0])], (2, 2))
    with pytest.raises(ValidationError, match="log_factors: values must be finite or -inf"):
        FactorSource([(np.array([0.0, np.inf]), [0])], (2, 2))


def _brute_transfers(shape: tuple[int, ...], s: int, ranks: int) -> int:
    """Masked blocks summed from blocks of another rank, by walking every index tuple."""
    head = shape[:s]
    grid = list(np.ndindex(*(q + 1 for q in head)))
    count = 0
    for b, y in enumerate(grid):
        masked = [i for i in range(s) if y[i] == head[i]]
        if masked:
            j = masked[0]
            for v in range(head[j]):
                c = grid.index(tuple(v if i == j else y[i] for i in range(s)))
                count += c % ranks != b % ranks
    return count


def test_plan_parts_and_transfers(monkeypatch: pytest.MonkeyPatch) -> None:
    shape = (2, 3, 2, 2, 2, 2, 2, 2)
    for ranks in (1, 2, 3, 8):
        plan = plan_shards(shape, ranks, "numpy", shard_axes=2, available=2**30)
        blocks = 3 * 4
        per = -(-blocks // ranks)
        assert (plan.blocks, plan.blocks_per_rank) == (blocks, per)
        assert plan.parts["owned blocks"] == per * 2**6 * 8
        assert plan.bytes_per_rank == sum(plan.parts.values())
        assert plan.transfers == _brute_transfers(shape, 2, ranks)
        assert masked_sum_transfers(shape, 2, ranks) == plan.transfers
        recv, sends = receive_bytes(shape, 2, ranks)
        assert sends == plan.transfers and sum(recv) == plan.transfer_bytes
    be = get_backend(name="numpy")
    monkeypatch.setattr(be, "available_memory", lambda: 10**9 + 1)
    shared = plan_shards((2,) * 10, 2, be, local_world_size=2)  # two ranks on one host
    alone = plan_shards((2,) * 10, 2, be, local_world_size=1)
    assert (alone.bytes_available, shared.bytes_available) == (8 * 10**8, 4 * 10**8)
    with pytest.raises(MemoryPlanError, match=r"needs about .* owned blocks \d+ bytes"):
        plan_shards((2,) * 30, 2, be, local_world_size=2)


def test_scaling_model_by_hand() -> None:
    """The model's terms recomputed from their definitions."""
    shape, r, theta, link = (2,) * 20, 4, 1e8, 1e9
    est = scaling_model(shape, r, theta, link_bytes_per_s=link, latency_s=0.0)
    s = est.shard_axes
    blocks = 3**s
    assert est.blocks == blocks and -(-blocks // r) == est.blocks_per_rank
    assert math.isclose(est.compute_s, est.blocks_per_rank * 3 ** (20 - s) / theta)
    assert math.isclose(est.single_s, 3**20 / theta)
    recv, _ = receive_bytes(shape, s, r)
    assert math.isclose(est.transfer_s, max(recv) / link)
    gather = (r - 1) * est.blocks_per_rank * 21 * 8 / link
    assert math.isclose(est.gather_s, gather)
    assert math.isclose(est.total_s, est.compute_s + est.transfer_s + est.gather_s)
    assert est.speedup == pytest.approx(est.single_s / est.total_s)
    one = scaling_model(shape, 1, theta)
    assert math.isclose(one.total_s, one.single_s)
