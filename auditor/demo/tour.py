"""What `auditor demo` builds: a quick tour by default (a leaky model, a DP model, a dataset
and merged weights), every fixture with `full` (the label structures and images too)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from auditor.demo import build_fixtures

# The quick tour: one artifact of each kind of question an ethics board asks about, with the
# same attacks, reference models and report as the full tour (about 1.5 minutes on 2 cores).
QUICK = ("overfit", "dp_sgd", "condense", "merge")


def demo_specs(
    out: Path,
    *,
    seed: int,
    bootstrap: int,
    full: bool,
    say: Callable[[str], None] = lambda _: None,
) -> dict[str, Path]:
    """Build the tour's fixtures under `out`; the spec of each fixture to audit, in order.
    The quick tour builds the real-records model too (every spec's utility baseline) but
    does not audit it."""
    say("build fixtures (SUPPORT2 splits, recipes)")
    specs = build_fixtures(out, seed=seed, bootstrap=bootstrap, names=None if full else QUICK)
    if not full:
        return {name: specs[name] for name in QUICK}
    from auditor.demo.coding import build_dp_coding
    from auditor.demo.images import build_merge_images

    say("build fixtures (dp_coding: the multi-label coder, DP-SGD)")
    specs.update(build_dp_coding(out / "coding", seed=seed, bootstrap=bootstrap))
    say("build fixtures (merge_images: a CNN merged from four sites)")
    specs["merge_images"] = build_merge_images(out / "images", seed=seed, bootstrap=bootstrap)
    return specs
