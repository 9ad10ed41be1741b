"""Artifact metadata: what the auditor needs to know about a model besides its weights, and
the rule that an artifact never chooses code for the auditor to run."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from auditor.artifacts.builtin import BUILTIN
from auditor.core.encoding import EncodingError, FeatureEncoding
from auditor.core.tensors import TensorEncoding
from auditor.data.raw import RawColumns
from auditor.errors import AuditInputError, Problem, fail

METADATA_VERSION = 1


@dataclass(frozen=True)
class ArtifactMetadata:
    """What an auditor needs to know about a model besides its weights."""

    architecture: str
    n_features: int
    n_classes: int
    label: str
    encoding: FeatureEncoding
    recipe: str = "supervised"
    # The recipe's parameters as stored (a JSON object, under the recipe's name): the recipe
    # parses and checks its own (`auditor.training.recipes`); this layer imports no training.
    recipe_params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    # Training settings the file does not state (`recipe.fit`: epochs, lr, ...), which the
    # audit fits on population records (`auditor init` writes them for a graph it read).
    fit: tuple[str, ...] = ()
    # Written before per-recipe parameters: all recipes' fields under "hyperparameters".
    legacy_params: bool = False
    claims: dict[str, float] = field(default_factory=dict)
    output: Literal["logits", "probabilities"] = "logits"
    details: dict[str, Any] = field(default_factory=dict)  # recipe specifics (merge: lambda)
    # A model that reads the table as it is (a Pipeline, an ONNX model with named inputs):
    # its raw input columns in order; then `encoding` is empty until the data is read.
    raw_columns: tuple[str, ...] = ()
    # A multi-label model (one independent logit per label): its label columns, in output
    # order; then `label` is empty and n_classes is the number of labels.
    labels: tuple[str, ...] = ()
    # A model of tensor records (images, series): their shape and normalisation; then
    # `encoding` is empty and the data splits are tensor files.
    tensor: TensorEncoding | None = None

    @property
    def multilabel(self) -> bool:
        return bool(self.labels)

    @staticmethod
    def empty_encoding() -> FeatureEncoding:
        """The encoding of a model that reads raw columns or tensors (none)."""
        return FeatureEncoding.from_dict({"numeric": [], "categorical": []})

    @property
    def features(self) -> FeatureEncoding | RawColumns | TensorEncoding:
        """What the model reads: the auditor's encoding, raw columns, or tensors."""
        if self.tensor is not None:
            return self.tensor
        return RawColumns(self.raw_columns) if self.raw_columns else self.encoding

    def to_dict(self) -> dict[str, Any]:
        features: dict[str, Any] = (
            {"raw_columns": list(self.raw_columns)}
            if self.raw_columns
            else {"tensor": self.tensor.to_dict()}
            if self.tensor is not None
            else {"encoding": self.encoding.to_dict()}
        )
        return {
            "auditor_metadata_version": METADATA_VERSION,
            "architecture": self.architecture,
            "n_features": self.n_features,
            "n_classes": self.n_classes,
            "label": list(self.labels) if self.labels else self.label,
            "output": self.output,
            **features,
            "recipe": {
                "name": self.recipe,
                self.params_key: dict(self.recipe_params),
                "seed": self.seed,
                **({"fit": list(self.fit)} if self.fit else {}),
            },
            "claims": dict(self.claims),
            "details": dict(self.details),
        }

    @property
    def params_key(self) -> str:
        """Where the recipe's parameters are stored in the metadata's `recipe` object."""
        return "hyperparameters" if self.legacy_params else self.recipe

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> ArtifactMetadata:
        """Parse metadata; AuditInputError naming `where` and the field when malformed, or
        when a key is not one the auditor reads (a typo would otherwise go unnoticed)."""
        fix = "regenerate the metadata with the auditor's recipes, or see README 'Artifacts'"
        if not isinstance(data, dict):
            raise fail(where, "metadata", f"is a JSON {type(data).__name__}, not an object", fix)
        version = data.get("auditor_metadata_version")
        if version != METADATA_VERSION:
            raise fail(where, "auditor_metadata_version", f"is {version!r}, expected 1", fix)
        problems = [
            Problem(where, key, "is missing", fix)
            for key in ("architecture", "n_features", "n_classes", "label")
            if key not in data
        ]
        if sum(key in data for key in ("encoding", "raw_columns", "tensor")) != 1:
            problems.append(
                Problem(
                    where,
                    "encoding",
                    "needs exactly one of encoding, raw_columns and tensor",
                    "encoding: the auditor encodes the table for the model; raw_columns: "
                    "the model reads these columns as they are (auditor init writes either); "
                    "tensor: the records are images or series (shape, mean, std)",
                )
            )
        problems += _unknown_keys(data, where)
        if problems:
            raise AuditInputError(problems)
        raw = _raw_columns(data.get("raw_columns"), where)  # AuditInputError: outside the try
        labels = _labels(data["label"], data["n_classes"], where)
        try:
            tensor = TensorEncoding.from_dict(data["tensor"]) if "tensor" in data else None
        except ValueError as exc:  # names the entry, never a value
            raise fail(where, "tensor", str(exc), "store the shape and normalisation") from exc
        recipe_fit = data.get("recipe", {})
        fit = _fit(recipe_fit.get("fit", []) if isinstance(recipe_fit, dict) else [], where)
        try:
            encoding = (
                FeatureEncoding.from_dict(data["encoding"])
                if "encoding" in data
                else cls.empty_encoding()
            )
            recipe = data.get("recipe", {})
            name = str(recipe.get("name", "supervised"))
            legacy = name not in recipe and "hyperparameters" in recipe
            return cls(
                architecture=str(data["architecture"]),
                n_features=int(data["n_features"]),
                n_classes=int(data["n_classes"]),
                label="" if labels else str(data["label"]),
                encoding=encoding,
                recipe=name,
                recipe_params=dict(recipe.get("hyperparameters" if legacy else name, {})),
                seed=int(recipe.get("seed", 0)),
                fit=fit,
                legacy_params=legacy,
                claims={k: float(v) for k, v in data.get("claims", {}).items()},
                output=data.get("output", "logits"),
                details=dict(data.get("details", {})),
                raw_columns=raw,
                labels=labels,
                tensor=tensor,
            )
        except EncodingError as exc:  # its message names the entry, never a value
            raise fail(where, "encoding", str(exc), fix) from exc
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # Not quoting `exc`: it can repeat metadata values (category levels).
            raise fail(where, "encoding/recipe", "is malformed", fix) from exc


_KEYS = {
    *("auditor_metadata_version", "architecture", "n_features", "n_classes", "label"),
    *("output", "encoding", "raw_columns", "tensor", "recipe", "claims", "details"),
}


FITTABLE = ("epochs", "lr", "weight_decay", "batch_size")


def _fit(value: Any, where: str) -> tuple[str, ...]:
    """The settings `recipe.fit` names; AuditInputError for anything but FITTABLE names."""
    if not isinstance(value, list) or any(v not in FITTABLE for v in value):
        raise fail(
            where,
            "recipe.fit",
            "must list training settings the audit fits",
            f"use some of {', '.join(FITTABLE)}, or drop it and state them",
        )
    return tuple(dict.fromkeys(value))


def _raw_columns(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(c, str) and c for c in value)
        or len(set(value)) != len(value)
    ):
        raise fail(
            where,
            "raw_columns",
            "must be a non-empty list of distinct column names",
            "list the table columns the model reads, in its order",
        )
    return tuple(value)


def _labels(value: Any, n_classes: Any, where: str) -> tuple[str, ...]:
    """A multi-label model's label columns (`label` a list), or () for one outcome column."""
    if not isinstance(value, list):
        return ()
    if (
        not value
        or not all(isinstance(c, str) and c for c in value)
        or len(set(value)) != len(value)
        or len(value) != n_classes
    ):
        raise fail(
            where,
            "label",
            "as a list (a multi-label model) must name n_classes distinct label columns",
            "list one column per output of the model, in its order, and set n_classes to "
            "their number",
        )
    return tuple(value)


_CLAIMS = ("epsilon", "delta", "noise_multiplier")
_OUTPUTS = ("logits", "probabilities")


def _unknown_keys(data: dict[str, Any], where: str) -> list[Problem]:
    """Keys and values the auditor does not know: each a problem naming the field."""
    problems = [
        Problem(
            where, str(key)[:40], "is not a metadata field", f"use only {', '.join(sorted(_KEYS))}"
        )
        for key in data
        if key not in _KEYS
    ]
    claims = data.get("claims", {})
    if isinstance(claims, dict):
        problems += [
            Problem(
                where, f"claims.{str(k)[:40]}", "is not a known claim", f"use {', '.join(_CLAIMS)}"
            )
            for k in claims
            if k not in _CLAIMS
        ]
    if data.get("output", "logits") not in _OUTPUTS:
        fix = f"use one of {', '.join(_OUTPUTS)}"
        problems.append(Problem(where, "output", "is not a known output", fix))
    recipe = data.get("recipe", {})
    if isinstance(recipe, dict):
        own = {"name", "seed", "fit", "hyperparameters", str(recipe.get("name", "supervised"))}
        problems += [
            Problem(
                where,
                f"recipe.{str(k)[:40]}",
                "is not a recipe field",
                "use name, seed and the parameters under the recipe's name",
            )
            for k in recipe
            if k not in own
        ]
    return problems


def trusted_metadata(
    meta: ArtifactMetadata, architecture: str | None, where: str
) -> ArtifactMetadata:
    """`meta` with its architecture settled by the user, never by the artifact.

    An architecture `package.module:function` is code that the auditor imports and calls
    (to load the weights and to train reference models), so only the user may name it: in
    the spec (`[artifact] architecture`) or on the command line (`architecture`). Metadata
    may name the built-in architectures only; otherwise AuditInputError.
    """
    architecture = architecture or None  # an empty string chooses nothing
    named = {"architecture": meta.architecture}
    if "architecture" in meta.recipe_params:
        named[f"recipe.{meta.params_key}.architecture"] = meta.recipe_params["architecture"]
    problems = [
        Problem(
            where,
            field,
            f"names code to import and run ({_printable(str(value))}); an artifact cannot choose "
            "code for the auditor to call",
            "if you trust that function, name it yourself in the spec: [artifact] "
            f'architecture = "package.module:function"; otherwise use one of {", ".join(BUILTIN)}',
        )
        for field, value in named.items()
        if not (isinstance(value, str) and value in BUILTIN) and value != architecture
    ]
    if architecture is None and problems:
        raise AuditInputError(problems)
    resolved = architecture or meta.architecture
    params = {**meta.recipe_params, "architecture": resolved}
    return replace(meta, architecture=resolved, recipe_params=params)


def _printable(value: str) -> str:
    """A metadata string fit for a message: control characters escaped, length capped."""
    return ascii(value[:80])
