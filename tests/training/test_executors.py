"""Reference ensembles on a Ray cluster (started by the test on loopback, 2 CPUs) agree with
the in-process executor: same models, same cache, same result JSON; a killed worker's shard
is retried; without Ray everything else works and `--executor ray` says how to install it.

Tolerance: model outputs must agree to 1e-6 (float32 training, float64 logits); on CPU they
agree bitwise, and the audit's result JSON is compared byte for byte.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from auditor.training.cache import DiskCache
from auditor.training.executors import InProcess, RayExecutor, ShardData, ShardTask
from auditor.training.recipes import PRESETS, RecipeInput
from auditor.training.references import ReferenceOutputs, reference_outputs

pytestmark = pytest.mark.slow
ray = pytest.importorskip("ray", reason="the Ray executor tests need the ray extra")
TOLERANCE = 1e-6


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A one-node Ray cluster on loopback with 2 CPUs, stopped (only it) at the end."""
    port = _free_port()
    # A throwaway loopback cluster: no usage stats, and no token authentication (Ray turns it
    # on when it finds ~/.ray/auth_token from an earlier local run; the driver must agree).
    settings = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
    saved = {key: os.environ.get(key) for key in settings}
    os.environ.update(settings)
    env = dict(os.environ)
    head = subprocess.Popen(
        [
            *(sys.executable, "-m", "ray.scripts.scripts", "start", "--head", "--block"),
            *("--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2"),
            *("--include-dashboard=false", "--disable-usage-stats"),
            "--object-store-memory=300000000",
            f"--temp-dir={tmp_path_factory.mktemp('ray')}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    address = f"127.0.0.1:{port}"
    RayExecutor(address).connect()
    yield address
    ray.shutdown()
    os.killpg(head.pid, signal.SIGTERM)
    try:  # Ray's graceful stop takes half a minute; its state is a temporary folder
        head.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(head.pid, signal.SIGKILL)
        head.wait(timeout=30)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@dataclass(frozen=True)
class Pools:
    candidates: RecipeInput
    population: RecipeInput


@pytest.fixture(scope="module")
def pools() -> Pools:
    """Small encoded SUPPORT2 pools: 400 candidates, 400 population records."""
    from auditor.core.encoding import fit_encoding
    from auditor.data.embedded import CATEGORICAL, LABEL, NUMERIC, load_support2, split_patients

    splits = split_patients(load_support2(), seed=7)
    encoding = fit_encoding(splits.members, numeric=NUMERIC, categorical=CATEGORICAL)

    def xy(frame: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
        frame = frame.iloc[:n]
        return encoding.encode(frame), frame[LABEL].to_numpy().astype(np.int64)

    (mx, my), (nx, ny), (px, py) = (
        xy(splits.members, 200),
        xy(splits.non_members, 200),
        xy(splits.population, 400),
    )
    return Pools(
        RecipeInput(np.concatenate([mx, nx]), np.concatenate([my, ny])),
        RecipeInput(px, py, px, 2, public_y=py),
    )


def _references(pools: Pools, executor: Any, cache: DiskCache, k: int = 8) -> ReferenceOutputs:
    return reference_outputs(
        mode="online",
        recipe="supervised",
        hp=PRESETS["default"],
        candidates=pools.candidates,
        population=pools.population,
        k=k,
        seed=11,
        cache=cache,
        shard_size=2,
        executor=executor,
    )


def _off(tmp_path: Path) -> DiskCache:
    return DiskCache(tmp_path / "unused", enabled=False)


def test_ray_trains_the_same_models_as_in_process(
    cluster: str, pools: Pools, tmp_path: Path
) -> None:
    local = _references(pools, InProcess(), _off(tmp_path))
    remote = _references(pools, RayExecutor(cluster), _off(tmp_path))
    assert remote.trained == local.trained == 8
    assert np.abs(remote.logits - local.logits).max() <= TOLERANCE
    assert np.array_equal(remote.in_mask, local.in_mask)


def test_data_goes_into_the_object_store_once(
    cluster: str, pools: Pools, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    puts: list[Any] = []
    real_put = ray.put
    monkeypatch.setattr(ray, "put", lambda value, **kw: puts.append(value) or real_put(value, **kw))
    _references(pools, RayExecutor(cluster), _off(tmp_path))  # 4 shards, 4 tasks
    assert len(puts) == 1 and isinstance(puts[0], ShardData)


@dataclass(frozen=True)
class KillFirstAttempt:
    """Wraps an executor so that the worker running shard 0 kills itself on its first try."""

    inner: RayExecutor
    marker: Path
    name: str = "ray"

    def device_type(self, requested: str) -> str:
        return self.inner.device_type(requested)

    def run_shards(self, fn: Any, data: ShardData, tasks: list[ShardTask], on_done: Any) -> None:
        marker = str(self.marker)

        def flaky(data: ShardData, task: ShardTask) -> np.ndarray:
            if task.start == 0 and not os.path.exists(marker):
                with open(marker, "w") as handle:
                    handle.write(str(os.getpid()))
                os.kill(os.getpid(), signal.SIGKILL)  # the worker process dies mid-run
            return fn(data, task)

        self.inner.run_shards(flaky, data, tasks, on_done)


def test_a_killed_worker_is_retried_and_the_models_do_not_change(
    cluster: str, pools: Pools, tmp_path: Path
) -> None:
    marker = tmp_path / "killed-worker-pid"
    local = _references(pools, InProcess(), _off(tmp_path))
    remote = _references(pools, KillFirstAttempt(RayExecutor(cluster), marker), _off(tmp_path))
    assert marker.read_text().isdigit()  # a worker really was killed
    assert np.abs(remote.logits - local.logits).max() <= TOLERANCE


def test_a_worker_that_keeps_dying_stops_the_run_with_a_resume_hint(
    cluster: str, pools: Pools, tmp_path: Path
) -> None:
    from auditor.training.executors import ExecutorUnavailable

    no_retry = KillFirstAttempt(RayExecutor(cluster, max_retries=0), tmp_path / "pid")
    with pytest.raises(
        ExecutorUnavailable, match="died and all 0 retries were used; finished shards are cached"
    ):
        _references(pools, no_retry, _off(tmp_path))


class DriverKilled(Exception):
    pass


@dataclass(frozen=True)
class DieAfterFirstShard:
    """The driver dies after the first shard is back (and cached)."""

    inner: InProcess
    name: str = "in_process"

    def device_type(self, requested: str) -> str:
        return self.inner.device_type(requested)

    def run_shards(self, fn: Any, data: ShardData, tasks: list[ShardTask], on_done: Any) -> None:
        on_done(tasks[0], fn(data, tasks[0]))
        raise DriverKilled


def test_ray_shards_land_in_the_same_cache_and_a_killed_driver_resumes(
    cluster: str, pools: Pools, tmp_path: Path
) -> None:
    cache = DiskCache(tmp_path / "cache")
    with pytest.raises(DriverKilled):
        _references(pools, DieAfterFirstShard(InProcess()), cache)
    resumed = _references(pools, RayExecutor(cluster), cache)
    assert resumed.trained == 6  # shard 0 came from the cache
    again = _references(pools, InProcess(), cache)
    assert again.trained == 0  # Ray's shards are the in-process executor's cache entries
    assert np.array_equal(again.logits, resumed.logits)


def _small_spec(spec: Path, tmp_path: Path) -> Path:
    """The demo's supervised spec with two calibrated attacks, 8 reference models, no cache."""
    text = spec.read_text(encoding="utf-8")
    head, _, rest = text.partition("[attacks]")
    rest = rest.split("\n[", 1)[1]
    attacks = '[attacks]\nrun = ["loss", "lira_online", "rmia"]\nbootstrap = 200\n'
    attacks += "reference_models = 8\ncache = false\n\n["
    body = head.replace('sensitive = ["sex", "race", "age_band"]', 'sensitive = ["sex"]')
    body = body.replace('"../', f'"{spec.parent.parent}/')
    out = tmp_path / "small.toml"
    out.write_text(body + attacks + rest.replace('"../', f'"{spec.parent.parent}/'))
    return out


def test_audit_on_ray_writes_the_same_result_json(
    cluster: str, demo_specs: dict[str, Path], tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from auditor.cli import app

    spec = _small_spec(demo_specs["supervised"], tmp_path)
    runner = CliRunner()
    local = runner.invoke(app, ["run", str(spec), "--out", str(tmp_path / "a"), "--no-report"])
    on_ray = ["--executor", "ray", "--address", cluster]
    remote = runner.invoke(
        app, ["run", str(spec), "--out", str(tmp_path / "b"), "--no-report", *on_ray]
    )
    assert local.exit_code in (0, 1) and remote.exit_code == local.exit_code, remote.output
    a, b = (tmp_path / d / "result.json" for d in ("a", "b"))
    assert a.read_bytes() == b.read_bytes()
    assert '"lira_online"' in a.read_text()
