"""The reference-model cache: a hit trains nothing, a corrupt entry is retrained, a killed
run resumes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from auditor.training.cache import DiskCache
from auditor.training.recipes import RecipeInput, TrainParams
from auditor.training.references import reference_outputs

HP = TrainParams(hidden=(8,), epochs=2, batch_size=32)


def _run(cache: DiskCache, mode: str = "online", hp: TrainParams = HP):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 5)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    return reference_outputs(
        mode=mode,  # type: ignore[arg-type]
        recipe="supervised",
        hp=hp,
        candidates=RecipeInput(x[:100], y[:100]),
        population=RecipeInput(x[100:], y[100:], x[100:]),
        k=4,
        seed=3,
        cache=cache,
        device="cpu",
        shard_size=2,
    )


@pytest.fixture
def cache(tmp_path: Path) -> DiskCache:
    return DiskCache(tmp_path / "cache")


def test_hit_trains_nothing(cache: DiskCache) -> None:
    cold = _run(cache)
    warm = _run(cache)
    assert (cold.trained, warm.trained) == (4, 0)
    np.testing.assert_array_equal(cold.logits, warm.logits)
    assert len(cache.entries()) == 2  # one per shard


def test_another_recipes_parameters_leave_supervised_entries_valid(cache: DiskCache) -> None:
    """Cache keys hash the parameters the recipe reads: a merge-only change (the fine-tuning
    rate, the sites) keeps every supervised entry; a change supervised reads does not."""
    from dataclasses import replace

    from auditor.training.recipes import MergeParams
    from auditor.training.recipes.params import convert

    _run(cache)
    merge = replace(MergeParams(**HP.__dict__), finetune_lr=0.1, n_sites=7, merge_lambda=0.5)
    assert _run(cache, hp=convert(merge, TrainParams)).trained == 0
    assert _run(cache, hp=replace(HP, lr=HP.lr * 2)).trained == 4


def test_corrupt_entry_is_detected_and_retrained(cache: DiskCache) -> None:
    cold = _run(cache)
    victim = sorted(cache.folder.glob("*.safetensors"))[0]
    data = bytearray(victim.read_bytes())
    data[-8] ^= 0xFF  # flip bits inside the tensor bytes, header intact
    victim.write_bytes(bytes(data))
    again = _run(cache)
    assert again.trained == 2
    np.testing.assert_array_equal(cold.logits, again.logits)


def test_truncated_entry_is_retrained(cache: DiskCache) -> None:
    _run(cache)
    victim = sorted(cache.folder.glob("*.safetensors"))[1]
    victim.write_bytes(victim.read_bytes()[:40])
    assert _run(cache).trained == 2


def test_killed_run_resumes_from_finished_shards(cache: DiskCache) -> None:
    cold = _run(cache)
    sorted(cache.folder.glob("*.safetensors"))[0].unlink()  # as if killed after one shard
    resumed = _run(cache)
    assert resumed.trained == 2
    np.testing.assert_array_equal(cold.logits, resumed.logits)


def test_disabled_cache_stores_nothing(tmp_path: Path) -> None:
    off = DiskCache(tmp_path / "off", enabled=False)
    assert _run(off).trained == 4 and _run(off).trained == 4
    assert not (tmp_path / "off").exists()


def test_offline_models_never_saw_a_candidate(cache: DiskCache) -> None:
    refs = _run(cache, mode="offline")
    assert not refs.candidates_in.any()
    assert refs.in_mask[:, refs.n_candidates :].sum(axis=1).tolist() == [100] * 4


def test_cache_command_shows_and_clears(cache: DiskCache, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from auditor.cli import app

    _run(cache)
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(cache.folder))
    monkeypatch.setenv("COLUMNS", "200")
    shown = CliRunner().invoke(app, ["cache"])
    assert shown.exit_code == 0 and "2 entries" in shown.output
    assert "supervised online reference models 0-1 of 4" in shown.output
    cleared = CliRunner().invoke(app, ["cache", "--clear"])
    assert cleared.exit_code == 0 and "removed 2 entries" in cleared.output
    assert cache.entries() == []


def test_two_concurrent_runs_share_the_cache_safely(cache: DiskCache) -> None:
    """Two audits training the same references at once (two CI jobs on one cache, two
    processes): both get the same models, and every entry left behind is whole."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from pathlib import Path\n"
        "import numpy as np\n"
        "from test_cache import _run\n"
        "from auditor.training.cache import DiskCache\n"
        "out = _run(DiskCache(Path(sys.argv[1])))\n"
        "np.save(sys.argv[2], out.logits)\n"
    )
    folder = cache.folder.parent
    runs = [
        subprocess.Popen([sys.executable, "-c", code, str(cache.folder), str(folder / f"{i}.npy")])
        for i in range(2)
    ]
    assert [run.wait(timeout=300) for run in runs] == [0, 0]
    np.testing.assert_array_equal(np.load(folder / "0.npy"), np.load(folder / "1.npy"))
    assert _run(cache).trained == 0
    assert len(cache.entries()) == 2
    assert not list(cache.folder.glob(".tmp-*"))


def test_reference_logits_are_held_and_cached_as_the_float32_torch_computed(
    cache: DiskCache,
) -> None:
    """float32 in memory and on disk (half of float64 at scale), and nothing lost: the
    vectorised ensemble's logits are float32 before any cast, so LiRA's statistics from the
    held logits equal those from a float64 copy bit for bit."""
    from auditor.attacks.membership.lira import reference_statistics
    from auditor.core.scores import logit_scaled_confidence

    refs = _run(cache)
    assert refs.logits.dtype == np.float32
    from safetensors.numpy import load_file

    for entry in cache.folder.glob("*.safetensors"):
        assert load_file(str(entry))["logits"].dtype == np.float32
    labels = np.arange(refs.logits.shape[1]) % 2
    wide = refs.logits.astype(np.float64)
    k, n, c = wide.shape
    dense = logit_scaled_confidence(wide.reshape(k * n, c), np.tile(labels, k)).reshape(k, n)
    np.testing.assert_array_equal(reference_statistics(refs.logits, labels), dense)
