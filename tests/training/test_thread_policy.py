"""The thread policy (`training.threads`): shards of reference models train with one
intra-op thread each, side by side in forked worker processes, one per available core;
OMP_NUM_THREADS and the CPU affinity mask are respected; the models do not change with
the number of workers, and a worker's bad-input error reaches the caller intact."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from auditor.errors import AuditInputError, fail
from auditor.training import threads
from auditor.training.cache import DiskCache
from auditor.training.executors import InProcess, ShardData, ShardTask
from auditor.training.recipes import PRESETS, RecipeInput
from auditor.training.references import reference_outputs


def _task(start: int) -> ShardTask:
    return ShardTask(start, start + 1, np.zeros((1, 1), dtype=np.int64), (start,))


def _data(device: str = "cpu") -> ShardData:
    pool = RecipeInput(np.zeros((2, 1), np.float32), np.zeros(2, np.int64))
    return ShardData("supervised", PRESETS["default"], pool, pool.x, device)


def _where(data: ShardData, task: ShardTask) -> np.ndarray:
    """Which process trained the shard, with how many torch threads."""
    return np.array([[os.getpid(), torch.get_num_threads()]], dtype=np.float64)


def test_the_policy_reads_the_affinity_mask_and_omp_num_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if hasattr(os, "sched_getaffinity"):
        assert threads.available_cores() == len(os.sched_getaffinity(0))
    monkeypatch.setattr(threads, "available_cores", lambda: 4)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert threads.shard_threads() == 1
    assert threads.shard_workers(8) == 4 and threads.shard_workers(3) == 3
    assert threads.shard_workers(8, device="cuda") == 1  # the GPU is the parallelism
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert threads.shard_threads() == 2 and threads.shard_workers(8) == 2
    monkeypatch.setenv("OMP_NUM_THREADS", "lots")  # not a count: ignored
    assert threads.declared_threads() is None


def test_shards_train_in_forked_workers_with_one_thread_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(threads, "available_cores", lambda: 2)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    seen: dict[int, np.ndarray] = {}

    def keep(task: ShardTask, out: np.ndarray) -> None:
        seen[task.start] = out

    InProcess().run_shards(_where, _data(), [_task(i) for i in range(4)], keep)
    rows = np.concatenate([seen[start] for start in sorted(seen)])
    assert len(rows) == 4 and os.getpid() not in rows[:, 0]
    assert len(set(rows[:, 0])) <= 2 and set(rows[:, 1]) == {1.0}
    before = torch.get_num_threads()
    InProcess().run_shards(_where, _data("cuda"), [_task(0), _task(1)], keep)
    assert seen[0][0, 0] == os.getpid()  # on a GPU: this process, one shard after another
    assert torch.get_num_threads() == before  # and its thread count restored


def _refuse(data: ShardData, task: ShardTask) -> np.ndarray:
    raise fail("train.py", "artifact.train", "raised ValueError at train.py:3", "fix it")


def test_a_workers_bad_input_reaches_the_caller_with_its_problems(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(threads, "available_cores", lambda: 2)
    with pytest.raises(AuditInputError) as caught:
        InProcess().run_shards(_refuse, _data(), [_task(0), _task(1)], lambda t, x: None)
    assert caught.value.problems[0].field == "artifact.train"


def test_the_models_do_not_depend_on_the_number_of_workers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(240, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    hp = PRESETS["default"].__class__(hidden=(16,), epochs=3)
    logits = {}
    for cores in (1, 2):
        monkeypatch.setattr(threads, "available_cores", lambda cores=cores: cores)
        logits[cores] = reference_outputs(
            mode="offline",
            recipe="supervised",
            hp=hp,
            candidates=RecipeInput(x[:80], y[:80], n_classes=2),
            population=RecipeInput(x[80:], y[80:], x[80:], 2, public_y=y[80:]),
            k=4,
            seed=3,
            cache=DiskCache(tmp_path / "cache", enabled=False),
            shard_size=2,
        ).logits
    np.testing.assert_array_equal(logits[1], logits[2])
