"""The metric registry: each metric's task, direction and display name, and how it is computed.

The quality bar (params/evaluate/) names one of these as the primary metric; `evaluate`, the
gate and the PR report read this registry. A new metric is one `Metric` entry plus its
line in `classification_metrics` or `regression_metrics` (and its paired-bootstrap formula in
pr_check/compare.py, where that room exists).
"""

from __future__ import annotations

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


METRICS = {
    metric.name: metric
    for metric in (
        Metric("log_loss", "classification", "lower", "log loss"),
        Metric("balanced_accuracy", "classification", "higher", "balanced accuracy"),
        Metric("accuracy", "classification", "higher", "accuracy"),
        Metric("f1_macro", "classification", "higher", "macro F1"),
        Metric("rmse", "regression", "lower", "RMSE"),
        Metric("mae", "regression", "lower", "MAE"),
        Metric("r2", "regression", "higher", "R²"),
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
    from sklearn import metrics

    actual_codes, predicted_codes = label_codes(actual, classes), label_codes(predicted, classes)
    return {
        "log_loss": float(metrics.log_loss(actual_codes, probabilities, labels=list(range(len(classes))))),
        "balanced_accuracy": float(metrics.balanced_accuracy_score(actual_codes, predicted_codes)),
        "accuracy": float(metrics.accuracy_score(actual_codes, predicted_codes)),
        "f1_macro": float(metrics.f1_score(actual_codes, predicted_codes, average="macro")),
    }


def regression_metrics(actual: Any, predicted: Any) -> dict[str, float]:
    from sklearn import metrics

    return {
        "rmse": float(metrics.root_mean_squared_error(actual, predicted)),
        "mae": float(metrics.mean_absolute_error(actual, predicted)),
        "r2": float(metrics.r2_score(actual, predicted)),
    }


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
