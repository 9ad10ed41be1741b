"""Where the shards of a reference ensemble train: in this process (the default) or as Ray
tasks on a cluster.

One small interface, `run_shards(fn, data, tasks, on_done)`: every task is one vectorised
sub-ensemble (`ShardTask`), `data` is what all of them read (`ShardData`: the pooled records,
the query rows, the recipe), and `on_done(task, logits)` is called in this process as each
shard finishes, in whatever order, so that the caller can put it in the content-hash cache at
once (a killed driver then resumes from the cache). The in-process executor never imports Ray.

Ray is used as it is, not re-implemented: the data goes into its object store once
(`ray.put`) and every task gets a reference to it; tasks ask for a GPU where the cluster has
one; a task whose worker process dies is retried by Ray (`max_retries`).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:  # torch and the recipes load only when shards run
    from auditor.training.recipes import Params, RecipeInput

EXECUTORS = ("in_process", "ray")  # the executor names `make_executor` knows
INSTALL_RAY = 'pip install ".[ray]"  (or pip install "ray[default]>=2.40")'


@dataclass(frozen=True)
class ShardTask:
    """Reference models start..stop-1: the rows each trains on and their seeds."""

    start: int
    stop: int
    subsets: np.ndarray  # (stop - start, rows per model) indices into the pool
    seeds: tuple[int, ...]


@dataclass(frozen=True)
class ShardData:
    """What every shard of one ensemble reads: moved to the workers once."""

    recipe: str
    hp: Params
    pool: RecipeInput
    query_x: np.ndarray
    device: str  # torch device type the shards train on ("cpu", "cuda")


ShardFn = Callable[[ShardData, ShardTask], np.ndarray]
OnDone = Callable[[ShardTask, np.ndarray], None]


class Executor(Protocol):
    """Runs shard tasks somewhere and hands each finished shard back to this process."""

    @property
    def name(self) -> str:
        """The executor's name in the spec ("in_process", "ray")."""
        ...

    def device_type(self, requested: str) -> str:
        """The torch device type shards will train on, for `requested` (auto, cpu, cuda)."""
        ...

    def run_shards(
        self, fn: ShardFn, data: ShardData, tasks: list[ShardTask], on_done: OnDone
    ) -> None:
        """Run `fn(data, task)` for every task; `on_done` in this process as each finishes."""
        ...


class ExecutorUnavailable(RuntimeError):
    """The chosen executor cannot run here (Ray not installed, cluster unreachable)."""


# The function while worker processes are forked: they inherit it, so neither it nor what
# it closes over is pickled (the pool of records, the user's training code).
_FORKED: Callable[[Any], Any] | None = None


def _forked_worker(threads: int) -> None:
    from auditor.training.threads import set_threads

    set_threads(threads)


def _forked_call(item: Any) -> Any:
    assert _FORKED is not None, "a worker runs only while fork_map forks it"
    return _FORKED(item)


def fork_map(
    fn: Callable[[Any], Any],
    items: list[Any],
    on_done: Callable[[Any, Any], None],
    device: str = "cpu",
) -> None:
    """`fn(item)` for every item under the thread policy (`training.threads`): in forked
    worker processes, one per available core, one thread each; one after another in this
    process where that is all there is. `on_done(item, result)` runs in this process as
    each finishes, in whatever order; items and results are pickled, `fn` is not."""
    from auditor.training.threads import limited_threads, shard_threads, shard_workers

    threads, workers = shard_threads(), shard_workers(len(items), device)
    if workers <= 1:
        with limited_threads(threads):
            for item in items:
                on_done(item, fn(item))
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    global _FORKED
    _FORKED = fn
    try:
        with ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_forked_worker,
            initargs=(threads,),
        ) as pool:
            pending = {pool.submit(_forked_call, item): item for item in items}
            for done in as_completed(pending):
                on_done(pending[done], done.result())
    finally:
        _FORKED = None


@dataclass(frozen=True)
class InProcess:
    """Shards on this machine under the thread policy (`fork_map`): side by side in forked
    worker processes, one thread each and one per available core; one after another in
    this process where that is all there is (one shard, one core, a GPU, no fork)."""

    name: str = "in_process"

    def device_type(self, requested: str) -> str:
        from auditor.training.ensembles import device_for

        return device_for(requested).type

    def run_shards(
        self, fn: ShardFn, data: ShardData, tasks: list[ShardTask], on_done: OnDone
    ) -> None:
        fork_map(lambda task: fn(data, task), tasks, on_done, data.device)


def ray_installed() -> bool:
    """Whether `import ray` would find Ray, without importing it (it is slow to import)."""
    if "ray" in sys.modules:
        return sys.modules["ray"] is not None
    return importlib.util.find_spec("ray") is not None


def import_ray() -> Any:
    """The `ray` module, or ExecutorUnavailable saying how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise ExecutorUnavailable(
            f"the Ray executor needs Ray, which is not installed: {INSTALL_RAY}"
        ) from exc
    return ray


def _run_shard(fn: ShardFn, data: ShardData, task: ShardTask, threads: int) -> np.ndarray:
    """Body of one Ray task: train the shard with as many torch threads as CPUs it was given."""
    import torch

    torch.set_num_threads(max(1, threads))
    return fn(data, task)


@dataclass(frozen=True)
class RayExecutor:
    """Shards as Ray tasks. `address`: "HOST:PORT" of a running cluster, "auto" (the cluster
    this machine belongs to), or None to start a private local Ray for this process."""

    address: str | None = None
    cpus_per_task: int = 1
    max_retries: int = 3
    name: str = "ray"

    def connect(self) -> Any:
        """Connect to the cluster once per process; ExecutorUnavailable if it cannot."""
        ray = import_ray()
        if not ray.is_initialized():
            try:
                ray.init(
                    address=self.address or "local",  # never an unrelated cluster by accident
                    include_dashboard=False,
                    log_to_driver=False,
                    configure_logging=False,
                )
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = self.address or "a local Ray instance"
                raise ExecutorUnavailable(
                    f"cannot connect to {where}: {str(exc).splitlines()[0][:200]}; start the "
                    "cluster first (ray start --head --port=6379) and pass its HOST:PORT"
                ) from exc
        return ray

    def device_type(self, requested: str) -> str:
        gpus = float(self.connect().cluster_resources().get("GPU", 0.0))
        if requested == "cpu":
            return "cpu"
        if requested == "cuda" and gpus < 1:
            raise ExecutorUnavailable(
                'device = "cuda" but the Ray cluster has no GPU: use "auto" or "cpu"'
            )
        return "cuda" if gpus >= 1 else "cpu"

    def run_shards(
        self, fn: ShardFn, data: ShardData, tasks: list[ShardTask], on_done: OnDone
    ) -> None:
        if not tasks:
            return
        ray = self.connect()
        shared = ray.put(data)  # the data moves once; every task gets a reference to it
        remote = ray.remote(_run_shard).options(
            num_cpus=self.cpus_per_task,
            num_gpus=1 if data.device == "cuda" else 0,
            max_retries=self.max_retries,
            name="auditor-reference-shard",
        )
        pending = {remote.remote(fn, shared, task, self.cpus_per_task): task for task in tasks}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                task = pending.pop(ref)
                try:
                    logits = ray.get(ref)
                except ray.exceptions.WorkerCrashedError as exc:
                    raise ExecutorUnavailable(
                        f"reference models {task.start}-{task.stop - 1}: their worker process "
                        f"died and all {self.max_retries} retries were used; finished shards are "
                        "cached, so a re-run resumes (raise max_retries or check the nodes)"
                    ) from exc
                on_done(task, logits)


def make_executor(
    name: str, address: str | None = None, cpus_per_task: int = 1, max_retries: int = 3
) -> Executor:
    """The executor called `name` ("in_process" or "ray"); ValueError for another name."""
    if name == "in_process":
        return InProcess()
    if name == "ray":
        import_ray()  # fail early, before any work, if Ray is missing
        return RayExecutor(address, cpus_per_task, max_retries)
    raise ValueError(f"unknown executor {name!r}: use in_process or ray")
