"""Typed access to params.yaml, the composed config that every stage reads.

params.yaml is composed from params/ (Hydra); edit params/ and recompose with
`python -m <package>.compose_params`, or let `dvc exp run` compose it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from ._internal.errors import PipelineError

PARAMS_PATH = Path("params.yaml")
Task = Literal["classification", "regression"]


@dataclass(frozen=True)
class SubsetParams:
    fraction: float
    seed: int


@dataclass(frozen=True)
class DataParams:
    raw_path: Path
    target: str
    numeric_features: tuple[str, ...]
    categorical_features: tuple[str, ...]
    subset: SubsetParams

    @property
    def features(self) -> tuple[str, ...]:
        return self.numeric_features + self.categorical_features


@dataclass(frozen=True)
class SplitParams:
    test_size: float
    seed: int


@dataclass(frozen=True)
class ModelParams:
    """One file of params/model/: the estimator's class, what its saved files may hold, its params."""

    name: str
    target: str  # `_target_`: the estimator class, e.g. sklearn.ensemble.RandomForestClassifier
    trusted_types: tuple[str, ...]
    estimator_params: dict[str, Any]

    @classmethod
    def from_config(cls, config: dict[str, Any], source: str = "params") -> ModelParams:
        settings = dict(config)
        name = settings.pop("name", None)
        if not name:
            raise PipelineError(f"{source}: missing key 'model.name'; pick a model with model=<name>")
        target = settings.pop("_target_", None)
        if not target:
            raise PipelineError(f"{source}: params/model/{name}.yaml needs `_target_:` the estimator's class")
        trusted = tuple(settings.pop("trusted_types", None) or ())
        return cls(name=name, target=str(target), trusted_types=trusted, estimator_params=settings)


@dataclass(frozen=True)
class EvaluateParams:
    primary_metric: str
    direction: Literal["lower", "higher"]
    threshold: float
    tolerance: float
    # Permutation importance on at most this many test rows, each feature shuffled this often.
    importance_rows: int
    importance_repeats: int


@dataclass(frozen=True)
class Params:
    task: Task
    data: DataParams
    split: SplitParams
    model: ModelParams
    evaluate: EvaluateParams
    # prediction_log and drift settings, read by the monitoring room (None when it is not rendered).
    monitor: dict[str, Any] | None = None


def load_params(path: str | Path = PARAMS_PATH) -> Params:
    """Read and check params.yaml; a missing or mistyped key is reported by its dotted name."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PipelineError(f"{path} not found: run `python -m <package>.compose_params` in the project root") from None
    if not isinstance(raw, dict):
        raise PipelineError(f"{path} must hold a mapping, got {type(raw).__name__}")
    return parse_params(raw, source=str(path))


def parse_params(raw: dict[str, Any], source: str = "params") -> Params:
    """Build Params from a composed config mapping."""

    def need(mapping: dict[str, Any], key: str, where: str) -> Any:
        if not isinstance(mapping, dict) or key not in mapping:
            raise PipelineError(f"{source}: missing key '{where}{key}'; recompose params.yaml")
        return mapping[key]

    task = need(raw, "task", "")
    if task not in ("classification", "regression"):
        raise PipelineError(f"{source}: task must be classification or regression, got {task!r}")
    data, split = need(raw, "data", ""), need(raw, "split", "")
    model, evaluate = dict(need(raw, "model", "")), need(raw, "evaluate", "")
    subset = need(data, "subset", "data.")
    fraction = float(need(subset, "fraction", "data.subset."))
    if not 0.0 < fraction <= 1.0:
        raise PipelineError(f"{source}: data.subset.fraction must be in (0, 1], got {fraction}")
    test_size = float(need(split, "test_size", "split."))
    if not 0.0 < test_size < 1.0:
        raise PipelineError(f"{source}: split.test_size must be in (0, 1), got {test_size}")
    direction = need(evaluate, "direction", "evaluate.")
    if direction not in ("lower", "higher"):
        raise PipelineError(f"{source}: evaluate.direction must be lower or higher")
    return Params(
        task=task,
        data=DataParams(
            raw_path=Path(need(data, "raw_path", "data.")),
            target=need(data, "target", "data."),
            numeric_features=tuple(need(data, "numeric_features", "data.") or ()),
            categorical_features=tuple(need(data, "categorical_features", "data.") or ()),
            subset=SubsetParams(fraction=fraction, seed=int(need(subset, "seed", "data.subset."))),
        ),
        split=SplitParams(test_size=test_size, seed=int(need(split, "seed", "split."))),
        model=ModelParams.from_config(model, source),
        evaluate=EvaluateParams(
            primary_metric=need(evaluate, "primary_metric", "evaluate."),
            direction=direction,
            threshold=float(need(evaluate, "threshold", "evaluate.")),
            tolerance=float(need(evaluate, "tolerance", "evaluate.")),
            importance_rows=int(need(evaluate, "importance_rows", "evaluate.")),
            importance_repeats=int(need(evaluate, "importance_repeats", "evaluate.")),
        ),
        monitor=raw.get("monitor"),
    )


def flat_params(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested params as dotted keys, as `-S` overrides name them (model.max_depth)."""
    items: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, dict):
            items.update(flat_params(value, f"{prefix}{key}."))
        else:
            items[f"{prefix}{key}"] = value
    return items
