"""Each recipe's own parameters: frozen dataclasses, stored in an artifact's metadata under
the recipe's name and hashed into the reference-model cache (only the fields that recipe
reads). Parsing is strict: an unknown key is bad input, with a "did you mean".

Torch-free, so that checking a spec or an artifact's metadata never imports torch.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, TypeVar

from auditor.artifacts.builtin import model_params
from auditor.errors import AuditInputError, Problem, did_you_mean
from auditor.training.recipes.user import UserTraining


@dataclass(frozen=True)
class TrainParams:
    """A torch model (or a random forest) trained with Adam on cross-entropy: the
    `supervised` and `mimic` recipes, and the training inside every other recipe."""

    architecture: str = "mlp"
    hidden: tuple[int, ...] = (64,)
    epochs: int = 40
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-4
    # keyword parameters of a random forest or of a user's "package.module:function"
    architecture_params: dict[str, Any] = field(default_factory=dict)
    # The user's own training function (spec `[artifact] train`), never from metadata.
    user: UserTraining | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (as stored in metadata and hashed into cache keys)."""
        out = _plain(asdict(replace(self, user=None)))
        del out["user"]
        if self.user is not None:
            out["user"] = self.user.describe()
        return out

    def model_params(self) -> dict[str, Any]:
        """Keyword parameters for `build_model`."""
        return model_params(self.architecture, self.to_dict())


@dataclass(frozen=True)
class DPParams(TrainParams):
    """DP-SGD (`dp_sgd`): training as TrainParams, with Opacus's privacy target."""

    target_epsilon: float = 3.0
    target_delta: float = 1e-5
    max_grad_norm: float = 1.0
    # The noise added, as a multiple of what the accountant planned for the target: 1 is
    # DP-SGD. Less plays a broken implementation whose claim is still the target (the DP
    # audit's fixtures, `auditor.demo.dp_audit`); the claim never reads this field.
    noise_scale: float = 1.0


@dataclass(frozen=True)
class MergeParams(TrainParams):
    """Data vectors (`merge`): a base trained as TrainParams on public records, fine-tuned
    per site, merged as base + lambda * sum of the vectors (None: 1 / number of sites)."""

    n_sites: int = 4  # sites that records are spread over in reference runs
    finetune_epochs: int = 20
    finetune_lr: float = 5e-4
    merge_lambda: float | None = None


# The model a third party trains on released samples (the demo's and the audit's default).
CONSUMER = TrainParams(epochs=200, batch_size=32)


@dataclass(frozen=True)
class CondenseParams:
    """Dataset condensation (`condense`), distribution matching; `consumer` is how a third
    party trains on the condensed samples (reference runs re-run both)."""

    per_class: int = 10
    iterations: int = 300
    lr: float = 0.05
    embed_width: int = 128
    real_batch: int = 256
    init: str = "real"  # "real": start from real records of the class; "noise"
    consumer: TrainParams = CONSUMER

    def to_dict(self) -> dict[str, Any]:
        return {**_plain(asdict(self)), "consumer": self.consumer.to_dict()}


@dataclass(frozen=True)
class StimuliParams:
    """Synthetic stimuli (`stimuli`): a teacher trained on the records, `per_class` inputs
    exciting each output unit (L2 weight `l2`, identity inhibition `inhibit_identity`);
    `consumer` is how a third party trains on them."""

    per_class: int = 100
    iterations: int = 200
    lr: float = 0.05
    l2: float = 0.5
    inhibit_identity: float = 0.0  # weight of the identity penalty (0: off)
    temperature: float = 0.05  # softness of the identity probe's maximum
    teacher: TrainParams = TrainParams()
    consumer: TrainParams = CONSUMER

    def to_dict(self) -> dict[str, Any]:
        return {
            **_plain(asdict(self)),
            "teacher": self.teacher.to_dict(),
            "consumer": self.consumer.to_dict(),
        }


@dataclass(frozen=True)
class ExternalParams:
    """A table released by a generator the auditor does not know (`external`): it can be
    re-run only through the user's own generator (`[artifact] generate`, spec only, never
    from metadata); `consumer` is how a third party trains on the table."""

    consumer: TrainParams = CONSUMER
    generator: Any = None  # training.user_generator.UserGenerator, from the spec

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"consumer": self.consumer.to_dict()}
        if self.generator is not None:
            out["generator"] = self.generator.describe()
        return out


Params = TrainParams | CondenseParams | StimuliParams | ExternalParams
P = TypeVar("P", TrainParams, DPParams, MergeParams, CondenseParams, StimuliParams, ExternalParams)


def _plain(value: Any) -> Any:
    """Tuples as lists, recursively: the JSON form."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _number(value: Any, integer: bool) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return isinstance(value, int) if integer else math.isfinite(float(value))


# Fields whose number must be positive (or, for noise_scale, at least 0) for training to
# run at all: an artifact's metadata sets them, so they are checked before any training.
_POSITIVE = ("lr", "target_epsilon", "target_delta", "max_grad_norm")
_NON_NEGATIVE = ("noise_scale", "weight_decay")


def _check(name: str, default: Any, value: Any) -> tuple[Any, str | None]:
    """(parsed value, None), or (None, what is wrong) for one field."""
    if isinstance(default, TrainParams):
        return value, None  # parsed recursively by the caller
    if isinstance(default, tuple):
        ok = isinstance(value, list | tuple) and all(_number(v, True) and v > 0 for v in value)
        return (tuple(int(v) for v in value), None) if ok else (None, "a list of positive integers")
    if isinstance(default, dict):
        return (dict(value), None) if isinstance(value, dict) else (None, "a table")
    if isinstance(default, str):
        return (value, None) if isinstance(value, str) else (None, "a string")
    if isinstance(default, bool):
        return (value, None) if isinstance(value, bool) else (None, "true or false")
    if isinstance(default, int):
        return (value, None) if _number(value, True) and value >= 1 else (None, "an integer >= 1")
    if default is None or isinstance(default, float):
        if value is None and default is None:
            return None, None
        if not _number(value, False):
            return None, "a finite number"
        if name in _POSITIVE and value <= 0:
            return None, "a number > 0"
        if name in _NON_NEGATIVE and value < 0:
            return None, "a number >= 0"
        return float(value), None
    return value, None


def parse_params(cls: type[P], raw: Any, *, where: str, field_name: str) -> P:
    """`cls` from a JSON object; AuditInputError naming every unknown key (with a "did you
    mean") and every value of the wrong type."""
    if not isinstance(raw, dict):
        raise AuditInputError(
            Problem(where, field_name, "must be a JSON object", "store the recipe's parameters")
        )
    # user, generator: the spec's only
    known = {f.name: f for f in fields(cls) if f.name not in ("user", "generator")}
    defaults = cls()
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            problems.append(
                Problem(
                    where,
                    f"{field_name}.{key}",
                    f"is not a parameter of {cls.__name__}",
                    did_you_mean(str(key), list(known), "use only"),
                )
            )
            continue
        default = getattr(defaults, key)
        if isinstance(default, TrainParams):
            try:
                values[key] = parse_params(
                    type(default), value, where=where, field_name=f"{field_name}.{key}"
                )
            except AuditInputError as exc:
                problems += exc.problems
            continue
        parsed, wrong = _check(key, default, value)
        if wrong:
            problems.append(
                Problem(where, f"{field_name}.{key}", f"must be {wrong}", "fix the value")
            )
        else:
            values[key] = parsed
    if problems:
        raise AuditInputError(problems)
    return cls(**values)


def convert(params: Any, cls: type[P]) -> P:
    """`params` as `cls`: the fields both have are kept, the others take cls's defaults (an
    artifact made by one recipe, audited as another through `[scheme] name`)."""
    if type(params) is cls:  # not isinstance: DPParams is a TrainParams with more fields
        return params
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in params.__dict__.items() if k in names})
