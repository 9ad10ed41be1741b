"""Multi-class and multi-label figures against their references: the scores against torch
and closed forms, utility against scikit-learn, fairness against fairlearn, on the
predictions of real models of SUPPORT2's diagnoses."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fairlearn.metrics import MetricFrame
from sklearn import metrics as skm
from sklearn.ensemble import RandomForestClassifier

from auditor.artifacts.query import sklearn_logits
from auditor.attacks.membership.thresholds import modified_entropy
from auditor.core.encoding import fit_encoding
from auditor.core.scores import (
    logit_scaled_confidence,
    predicted_labels,
    probabilities,
    true_class_log_prob,
)
from auditor.data.embedded import (
    DIAGNOSES,
    DIAGNOSIS_CATEGORICAL,
    DISEASE_GROUP,
    NUMERIC,
    load_support2_diagnoses,
    split_patients,
)
from auditor.metrics.fairness import structured_fairness_figures
from auditor.metrics.utility import per_label_recall, structured_utility_figures
from auditor.training.losses import record_losses

SIZES = {"members": 1500, "non_members": 500, "test": 1500}


@pytest.fixture(scope="module")
def diagnoses() -> dict[str, np.ndarray]:
    """A forest's outputs on real test patients, for both structures, and their groups."""
    splits = split_patients(load_support2_diagnoses(), seed=3, sizes=SIZES)
    enc = fit_encoding(
        splits.members, numeric=list(NUMERIC), categorical=list(DIAGNOSIS_CATEGORICAL)
    )
    x, x_test = enc.encode(splits.members), enc.encode(splits.test)
    out = {"sex": splits.test["sex"].to_numpy(), "race": splits.test["race"].to_numpy()}
    for name, y, y_test in (
        ("multiclass", splits.members[DISEASE_GROUP], splits.test[DISEASE_GROUP]),
        ("multilabel", splits.members[list(DIAGNOSES)], splits.test[list(DIAGNOSES)]),
    ):
        forest = RandomForestClassifier(n_estimators=60, min_samples_leaf=3, random_state=0)
        forest.fit(x, y.to_numpy())
        out[name] = (y_test.to_numpy(), sklearn_logits(forest)(x_test), forest, x_test)
    return out


def test_multilabel_log_likelihood_is_minus_the_summed_binary_cross_entropy() -> None:
    rng = np.random.default_rng(0)
    z, y = rng.normal(0, 4, (200, 5)), rng.integers(0, 2, (200, 5))
    torch_loss = record_losses(torch.tensor(z), torch.tensor(y, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(true_class_log_prob(z, y), -torch_loss, rtol=1e-12)


def test_joint_logit_is_the_logit_of_the_label_vector_probability_and_never_saturates() -> None:
    rng = np.random.default_rng(1)
    z, y = rng.normal(0, 2, (300, 4)), rng.integers(0, 2, (300, 4))
    joint = np.exp(true_class_log_prob(z, y))
    np.testing.assert_allclose(
        logit_scaled_confidence(z, y), np.log(joint / (1 - joint)), rtol=1e-9, atol=1e-9
    )
    # one label: the logit itself (signed by the label)
    one = rng.normal(0, 3, (50, 1))
    np.testing.assert_allclose(
        logit_scaled_confidence(one, np.ones((50, 1), int)), one[:, 0], atol=1e-12
    )
    # every label right at logit 60: P = 1 - 3e-60 in exact arithmetic, 1.0 in float64
    confident = logit_scaled_confidence(np.full((2, 3), 60.0), np.ones((2, 3), int))
    np.testing.assert_allclose(confident, 60.0 - np.log(3.0), rtol=1e-12)


def test_multilabel_modified_entropy_sums_each_labels_two_class_entropy() -> None:
    rng = np.random.default_rng(2)
    z, y = rng.normal(0, 2, (100, 3)), rng.integers(0, 2, (100, 3))
    p = 1 / (1 + np.exp(-z))
    p_true = np.where(y == 1, p, 1 - p)
    expected = (-(1 - p_true) * np.log(p_true) - (1 - p_true) * np.log(p_true)).sum(axis=1)
    np.testing.assert_allclose(modified_entropy(z, y), expected, rtol=1e-10)


def test_a_multi_output_forest_gives_one_logit_per_label(diagnoses: dict) -> None:
    _, logits, forest, x_test = diagnoses["multilabel"]
    expected = np.stack([p[:, 1] for p in forest.predict_proba(x_test)], axis=1)
    assert logits.shape == (len(x_test), len(DIAGNOSES))
    np.testing.assert_allclose(probabilities(logits, True), expected, atol=1e-12)


def test_multiclass_utility_equals_scikit_learn(diagnoses: dict) -> None:
    y, logits, _, _ = diagnoses["multiclass"]
    proba = probabilities(logits, False)
    figures = structured_utility_figures(
        y, logits, rng=np.random.default_rng(0), replicates=50, confidence=0.95
    )
    pred = proba.argmax(axis=1)
    assert figures["accuracy"]["value"] == pytest.approx(skm.accuracy_score(y, pred))
    macro = skm.roc_auc_score(y, proba, multi_class="ovr", average="macro")
    assert figures["auroc"]["value"] == pytest.approx(macro, abs=1e-12)
    assert figures["f1_macro"]["value"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert figures["balanced_accuracy"]["value"] == pytest.approx(
        skm.balanced_accuracy_score(y, pred)
    )
    for name, figure in figures.items():
        assert figure["lower"] <= figure["value"] <= figure["upper"], name


def test_multilabel_utility_equals_scikit_learn(diagnoses: dict) -> None:
    y, logits, _, _ = diagnoses["multilabel"]
    proba = probabilities(logits, True)
    pred = (proba >= 0.5).astype(int)
    figures = structured_utility_figures(
        y, logits, rng=np.random.default_rng(0), replicates=50, confidence=0.95
    )
    reference = {
        "f1_micro": skm.f1_score(y, pred, average="micro"),
        "f1_macro": skm.f1_score(y, pred, average="macro", zero_division=0),
        "auroc": skm.roc_auc_score(y, proba, average="micro"),
        "auroc_macro": skm.roc_auc_score(y, proba, average="macro"),
        "recall_micro": skm.recall_score(y, pred, average="micro"),
        "subset_accuracy": skm.accuracy_score(y, pred),
        "hamming_loss": skm.hamming_loss(y, pred),
    }
    assert set(figures) == set(reference)
    for name, value in reference.items():
        assert figures[name]["value"] == pytest.approx(value, abs=1e-12), name
    recalls = per_label_recall(y, logits, DIAGNOSES, 0.95)
    sk = skm.recall_score(y, predicted_labels(logits, True), average=None, zero_division=0)
    for j, name in enumerate(DIAGNOSES):
        assert recalls[name]["value"] == pytest.approx(sk[j]), name
        assert recalls[name]["lower"] <= sk[j] <= recalls[name]["upper"]


@pytest.mark.parametrize("structure", ["multiclass", "multilabel"])
def test_micro_recall_by_group_and_its_gap_equal_fairlearns(
    diagnoses: dict, structure: str
) -> None:
    y, logits, _, _ = diagnoses[structure]
    figures = structured_fairness_figures(
        y,
        logits,
        {"sex": diagnoses["sex"], "race": diagnoses["race"]},
        rng=np.random.default_rng(0),
        replicates=60,
    )
    pred = predicted_labels(logits, structure == "multilabel")
    for attribute in ("sex", "race"):
        frame = MetricFrame(
            metrics=(
                (lambda a, b: skm.recall_score(a, b, average="micro", zero_division=0))
                if structure == "multilabel"
                else skm.accuracy_score  # multi-class micro recall is accuracy
            ),
            y_true=y,
            y_pred=pred,
            sensitive_features=diagnoses[attribute],
        )
        ours = figures[attribute]
        for group, value in frame.by_group.items():
            assert ours["groups"][str(group)]["recall"]["value"] == pytest.approx(value, abs=1e-12)
            assert ours["groups"][str(group)]["n"] == int((diagnoses[attribute] == group).sum())
        gap = ours["recall_gap"]
        assert gap["value"] == pytest.approx(frame.difference(), abs=1e-12)
        assert gap["lower"] <= gap["upper"]
    sex = figures["sex"]["groups"]
    for group in sex.values():
        recall = group["recall"]  # the estimate shape of every figure
        assert recall["lower"] <= recall["value"] <= recall["upper"]
