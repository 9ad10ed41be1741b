"""Named random streams of one audit, all derived from the spec's seed.

Every stage draws from its own stream, named here, so that adding or reordering a stage
never shifts another stage's numbers, and no two stages share one by accident.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Streams are the SeedSequence's output words; their order is fixed (earlier versions
# indexed the first eight by position, so the same seed keeps giving the same figures).
_WORDS = 12


@dataclass(frozen=True)
class SeedStreams:
    """One integer seed per stage of an audit."""

    attacks: int  # the attacks' own randomness (shadow splits, ART's attack models)
    membership_figures: int  # bootstrap of every membership figure (and of the baselines')
    utility: int  # bootstrap of the utility figures
    baseline_model: int  # training of the real-records model
    fairness: int  # bootstrap of the fairness figures
    dp_baseline: int  # training of the DP-SGD baseline
    references: int  # reference models: data subsets and per-model seeds
    linkage: int  # dataset artifacts: sampling for linkage and the anonymity risks
    consumers: int  # dataset artifacts: training of the consumer models
    attribute_inference: int
    inversion: int
    sites: int  # weights artifacts: per-site membership sampling
    dp_audit: int  # the DP audit's canary game: inclusions, canaries, runs, bound splits
    shadow_releases: int  # dataset artifacts with a generator: pools and generator seeds

    @classmethod
    def from_seed(cls, seed: int) -> SeedStreams:
        """The streams of an audit run with `seed`."""
        w = [int(s) for s in np.random.SeedSequence(seed).generate_state(_WORDS)]
        return cls(
            attacks=w[0],
            membership_figures=w[1],
            utility=w[2],
            baseline_model=w[3],
            # fairness and the DP baseline were derived from the baseline model's word
            # (+1, +2) before streams had names; kept so that results stay comparable.
            fairness=w[3] + 1,
            dp_baseline=w[3] + 2,
            references=w[4],
            linkage=w[5],
            consumers=w[6],
            inversion=w[7],
            # Their own words: sites shared inversion's, attribute inference the consumers'.
            sites=w[8],
            attribute_inference=w[9],
            dp_audit=w[10],
            shadow_releases=w[11],
        )
