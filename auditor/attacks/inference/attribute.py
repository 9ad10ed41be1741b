"""Attribute inference: with a patient's sensitive attribute hidden, infer it from the model.

Three attackers, all fitted on population records only, judged on members and on
non-members separately (the excess on members is the leak):
- `art_blackbox`: ART's AttributeInferenceBlackBox (the other features, the true label and
  the model's predicted label on the record -> the attribute);
- `art_baseline`: ART's AttributeInferenceBaseline, the same attack without the model:
  what the other features alone reveal;
- `loss_membership`: the membership-based variant (as ART's AttributeInferenceMembership,
  with the LOSS attack): try every value of the attribute and keep the one whose completed
  record the model fits best, log p_y computed in float64.
Advantage = attack accuracy - baseline accuracy, with paired bootstrap intervals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from auditor.core.encoding import FeatureEncoding
from auditor.core.estimates import percentile_interval, proportion
from auditor.core.scores import softmax, true_class_log_prob
from auditor.core.types import LogitsFn


def attribute_block(encoding: FeatureEncoding, attribute: str) -> np.ndarray:
    """Column indices of a categorical feature's one-hot block."""
    start = len(encoding.numeric)
    for feature in encoding.categorical:
        if feature.name == attribute:
            return np.arange(start, start + len(feature.categories))
        start += len(feature.categories)
    raise ValueError(f"{attribute!r} is not a categorical feature of the model")


def loss_membership_guess(
    logits: LogitsFn, x: np.ndarray, y: np.ndarray, block: np.ndarray
) -> np.ndarray:
    """Index (within the block) of the value whose completed record has the lowest loss."""
    scores = []
    for k in range(len(block)):
        filled = x.copy()
        filled[:, block] = 0.0
        filled[:, block[k]] = 1.0
        scores.append(true_class_log_prob(logits(filled), y))
    return np.argmax(np.stack(scores), axis=0)


def _art_attackers(
    logits: LogitsFn,
    block: np.ndarray,
    population: tuple[np.ndarray, np.ndarray],
    n_classes: int,
    seed: int,
) -> Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Fit ART's black-box and baseline attacks once on the population; returns a function
    giving both attacks' guesses (indices within the block) for target records."""
    from art.attacks.inference.attribute_inference import (
        AttributeInferenceBaseline,
        AttributeInferenceBlackBox,
    )
    from art.estimators.classification import BlackBoxClassifier
    from sklearn.ensemble import RandomForestClassifier

    feature = slice(int(block[0]), int(block[-1]) + 1)
    pop_x, pop_y = population
    estimator = BlackBoxClassifier(
        predict_fn=lambda x: softmax(logits(np.asarray(x, dtype=np.float32))),
        input_shape=(pop_x.shape[1],),
        nb_classes=n_classes,
    )
    blackbox = AttributeInferenceBlackBox(estimator, attack_model_type="rf", attack_feature=feature)
    baseline = AttributeInferenceBaseline(attack_model_type="rf", attack_feature=feature)
    # ART builds unseeded forests; the same models, seeded, keep results reproducible.
    blackbox.attack_model = RandomForestClassifier(random_state=seed)
    baseline.attack_model = RandomForestClassifier(random_state=seed + 1)
    blackbox.fit(pop_x, pop_y)
    baseline.fit(pop_x)
    values = [[0, 1] for _ in block]

    def guesses(targets: np.ndarray, target_y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rest = np.delete(targets, block, axis=1)
        # ART's black-box attack fits on the model's predicted label, so it is given the same.
        pred = logits(targets).argmax(axis=1).reshape(-1, 1).astype(np.float32)
        guess_bb = blackbox.infer(rest, y=target_y, pred=pred, values=values)
        guess_base = baseline.infer(rest, values=values)
        return np.asarray(guess_bb).argmax(axis=1), np.asarray(guess_base).argmax(axis=1)

    return guesses


def _advantage(
    hits: np.ndarray, base: np.ndarray, rng: np.random.Generator, replicates: int, confidence: float
) -> dict[str, Any]:
    diff = hits.astype(float) - base.astype(float)
    reps = np.array([diff[rng.integers(0, len(diff), len(diff))].mean() for _ in range(replicates)])
    return percentile_interval(float(diff.mean()), reps, confidence).to_dict()


def attribute_inference(
    logits: LogitsFn,
    encoding: FeatureEncoding,
    attribute: str,
    *,
    members: tuple[np.ndarray, np.ndarray],
    non_members: tuple[np.ndarray, np.ndarray],
    population: tuple[np.ndarray, np.ndarray],
    n_classes: int,
    seed: int,
    replicates: int,
    confidence: float,
) -> dict[str, Any]:
    """Accuracy of each attacker on members and non-members, and advantages over the
    baseline (per set, and the excess on members) with intervals."""
    block = attribute_block(encoding, attribute)
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {"attribute": attribute, "values": len(block)}
    hits = {}
    art = _art_attackers(logits, block, population, n_classes, seed)
    for name, (x, y) in (("members", members), ("non_members", non_members)):
        truth = x[:, block].argmax(axis=1)
        guess_bb, guess_base = art(x, y)
        guess_loss = loss_membership_guess(logits, x, y, block)
        hits[name] = {
            "art_blackbox": guess_bb == truth,
            "art_baseline": guess_base == truth,
            "loss_membership": guess_loss == truth,
        }
        out[name] = {
            attack: proportion(int(h.sum()), len(h), confidence) for attack, h in hits[name].items()
        }
    for attack in ("art_blackbox", "loss_membership"):
        adv = {
            n: _advantage(hits[n][attack], hits[n]["art_baseline"], rng, replicates, confidence)
            for n in ("members", "non_members")
        }
        diff_m = hits["members"][attack].astype(float) - hits["members"]["art_baseline"]
        diff_n = hits["non_members"][attack].astype(float) - hits["non_members"]["art_baseline"]
        excess = [
            diff_m[rng.integers(0, len(diff_m), len(diff_m))].mean()
            - diff_n[rng.integers(0, len(diff_n), len(diff_n))].mean()
            for _ in range(replicates)
        ]
        out[f"advantage_{attack}"] = {
            **adv,
            "excess_on_members": percentile_interval(
                float(diff_m.mean() - diff_n.mean()), np.array(excess), confidence
            ).to_dict(),
        }
    return out
