"""The thread policy: how many threads, and how many processes, the training of reference
models uses.

A vectorised ensemble of small layers runs thousands of short kernels per epoch. With two
intra-op threads, every kernel ends at a barrier where one thread waits for the other; when
another process takes one of the cores, the waiting thread spins until the descheduled
one gets its turn again, at every kernel. Measured on a 2-core machine (issue 28): the 16
reference models of the held-out MLP audit took 7.4 to 22 s alone with two threads, 166 s
beside one busy-looping process, and 7.0 s alone and 15.5 s beside it with one thread.

So each shard of reference models trains with one intra-op thread, and shards run side by
side in worker processes, one per core this process may use (its CPU affinity mask, as a
container or `taskset` sets it). A process that loses its core waits alone; nothing else
waits on it. `OMP_NUM_THREADS`, when set, is the threads per shard instead of one (and
the workers are the cores divided by it). Worker processes are forked (Linux), as torch's
DataLoader forks its workers: the pool, the recipe and the user's training code are
inherited, not pickled. Where fork is unavailable (macOS and Windows default to spawn),
on a GPU, and for a single shard, shards run in this process one after another.

Bootstraps and the attacks' own scoring are numpy, single-threaded, and unaffected.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from contextlib import contextmanager

THREADS_ENV = "OMP_NUM_THREADS"


def available_cores() -> int:
    """The cores this process may run on: its CPU affinity mask where the platform has
    one, else the machine's count."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def declared_threads() -> int | None:
    """The threads per process the user set with OMP_NUM_THREADS, if a positive integer."""
    value = os.environ.get(THREADS_ENV, "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def shard_threads() -> int:
    """Intra-op threads for one shard of reference models: OMP_NUM_THREADS, else 1."""
    return declared_threads() or 1


def shard_workers(tasks: int, device: str = "cpu") -> int:
    """Worker processes for `tasks` shards: one per `shard_threads()` available cores, at
    most one per shard; 1 (this process) on a GPU or where fork is unavailable."""
    if device != "cpu" or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(tasks, available_cores() // shard_threads()))


_LIMITS: list[object] = []  # a worker's thread-pool limits, held for its life


def set_threads(threads: int) -> None:
    """torch's intra-op threads and the native thread pools set to `threads` for the rest
    of this process's life (a shard worker's, which runs shards only)."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    _LIMITS.append(threadpool_limits(limits=threads))


@contextmanager
def limited_threads(threads: int) -> Iterator[None]:
    """torch's intra-op threads and the native thread pools (OpenMP, BLAS: scikit-learn's
    and LightGBM's trees) limited to `threads` inside the block, restored after it."""
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        torch.set_num_threads(before)
