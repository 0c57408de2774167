"""The metric registry: each metric's task, direction and display name, and how it is computed.

The quality bar (params/evaluate/) names one of these as the primary metric; `evaluate`, the
gate and the PR report read this registry. A new metric is one `Metric` entry (and its
paired-bootstrap formula in pr_check/compare.py, where that room exists).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ._internal.errors import PipelineError
from .params import EvaluateParams, Task

Direction = Literal["lower", "higher"]


@dataclass(frozen=True)
class Metric:
    name: str  # the key in metrics/metrics.json
    task: Task
    direction: Direction  # which way is better
    label: str  # how people read it (reports)
    # classification: (actual codes, predicted codes, class probabilities); regression: (actual, predicted)
    compute: Callable[..., float]


def sklearn_metric(name: str, **options: Any) -> Callable[..., float]:
    """sklearn.metrics.<name>, imported at the first call (scikit-learn is slow to import)."""

    def compute(*arrays: Any) -> float:
        from sklearn import metrics

        return float(getattr(metrics, name)(*arrays, **options))

    return compute


def log_loss(actual: np.ndarray, predicted: np.ndarray, probabilities: np.ndarray) -> float:
    labels = list(range(probabilities.shape[1]))  # every class, also those absent from `actual`
    return sklearn_metric("log_loss", labels=labels)(actual, probabilities)


def labels_only(compute: Callable[..., float]) -> Callable[..., float]:
    return lambda actual, predicted, probabilities: compute(actual, predicted)


METRICS = {
    metric.name: metric
    for metric in (
        Metric("log_loss", "classification", "lower", "log loss", log_loss),
        Metric(
            "balanced_accuracy",
            "classification",
            "higher",
            "balanced accuracy",
            labels_only(sklearn_metric("balanced_accuracy_score")),
        ),
        Metric("accuracy", "classification", "higher", "accuracy", labels_only(sklearn_metric("accuracy_score"))),
        Metric(
            "f1_macro", "classification", "higher", "macro F1", labels_only(sklearn_metric("f1_score", average="macro"))
        ),
        Metric("rmse", "regression", "lower", "RMSE", sklearn_metric("root_mean_squared_error")),
        Metric("mae", "regression", "lower", "MAE", sklearn_metric("mean_absolute_error")),
        Metric("r2", "regression", "higher", "R²", sklearn_metric("r2_score")),
    )
}
DIRECTIONS: dict[str, Direction] = {name: metric.direction for name, metric in METRICS.items()}
TASK_METRICS: dict[str, tuple[str, ...]] = {
    task: tuple(name for name, metric in METRICS.items() if metric.task == task)
    for task in ("classification", "regression")
}


def label_codes(labels: Any, classes: Any) -> np.ndarray:
    """`labels` as integer codes over the model's classes.

    sklearn's metrics sort the labels on every call: on a few hundred thousand strings that costs
    seconds per metric, on integer codes milliseconds, and the metrics are the same.
    """
    import pandas as pd

    values = np.asarray(labels, dtype=object)
    codes = pd.Index(list(classes), dtype=object).get_indexer(values)
    if (codes < 0).any():
        unseen = ", ".join(sorted(map(str, pd.unique(values[codes < 0]))))
        raise PipelineError(f"labels the model never saw in training: {unseen}; train on more rows")
    return codes.astype(np.int64)


def classification_metrics(actual: Any, predicted: Any, probabilities: np.ndarray, classes: Any) -> dict[str, float]:
    actual_codes, predicted_codes = label_codes(actual, classes), label_codes(predicted, classes)
    probabilities = np.asarray(probabilities, dtype=float)
    return {
        name: metric.compute(actual_codes, predicted_codes, probabilities)
        for name, metric in METRICS.items()
        if metric.task == "classification"
    }


def regression_metrics(actual: Any, predicted: Any) -> dict[str, float]:
    return {name: metric.compute(actual, predicted) for name, metric in METRICS.items() if metric.task == "regression"}


def passes_threshold(value: float, threshold: float, direction: Direction) -> bool:
    return value <= threshold if direction == "lower" else value >= threshold


def quality_gate(metric_values: dict[str, float], task: Task, bar: EvaluateParams) -> dict[str, Any]:
    """Check the primary metric against the absolute quality bar in params/evaluate/."""
    if bar.primary_metric not in TASK_METRICS[task]:
        raise PipelineError(
            f"params/evaluate: primary_metric '{bar.primary_metric}' is not a {task} metric; "
            f"choose one of {list(TASK_METRICS[task])}"
        )
    expected = DIRECTIONS[bar.primary_metric]
    if bar.direction != expected:
        raise PipelineError(
            f"params/evaluate: {bar.primary_metric} is better when {expected}, but direction is '{bar.direction}'"
        )
    value = metric_values[bar.primary_metric]
    return {
        "metric": bar.primary_metric,
        "value": value,
        "threshold": bar.threshold,
        "direction": bar.direction,
        "passed": passes_threshold(value, bar.threshold, bar.direction),
    }
