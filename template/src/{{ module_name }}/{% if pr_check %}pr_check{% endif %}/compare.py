"""A/B comparison of two model versions on the same test rows, paired by row_id.

Each metric's difference (head - base) gets a 95% paired-bootstrap interval: the same resampled
rows are scored for both versions, so row difficulty cancels out and small real changes show.
Metrics are computed from bootstrap weights in one matrix product per metric (no Python loop
over resamples), with formulas checked against scikit-learn in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._internal.errors import PipelineError
from .._internal.paths import ROW_ID
from .._internal.scoring import probability_columns
from ..metrics import DIRECTIONS, TASK_METRICS, Direction

MIN_PAIRED_ROWS = 30
# The comparison's one significance level: a change is significant when its two-sided 95%
# paired-bootstrap interval excludes zero (the PR verdict and every row of the report).
INTERVAL_LEVEL = 0.95
LOG_LOSS_EPS = np.finfo(float).eps
# Resample weights held in memory at once (x 8 bytes): 32 MB, whatever the size of the test split.
MAX_WEIGHT_CELLS = 4_000_000


@dataclass(frozen=True)
class MetricComparison:
    metric: str
    direction: Direction
    base: float
    head: float
    delta: float
    ci_low: float
    ci_high: float

    @property
    def significant(self) -> bool:
        """The interval excludes zero."""
        return self.ci_low > 0 or self.ci_high < 0

    @property
    def worse(self) -> bool:
        return self.delta > 0 if self.direction == "lower" else self.delta < 0


@dataclass(frozen=True)
class Comparison:
    metrics: list[MetricComparison]
    paired_rows: int
    base_only_rows: int
    head_only_rows: int

    @property
    def enough_rows(self) -> bool:
        return self.paired_rows >= MIN_PAIRED_ROWS

    def get(self, metric: str) -> MetricComparison:
        return next(m for m in self.metrics if m.metric == metric)


def row_terms(predictions: pd.DataFrame, task: str) -> dict[str, np.ndarray]:
    """Per-row quantities every metric of `task` is a weighted sum of.

    They depend only on the rows, so the bootstrap computes them once and reuses them for every
    block of resample weights.
    """
    if task == "regression":
        actual = predictions["actual"].to_numpy(float)
        error = predictions["predicted"].to_numpy(float) - actual
        return {"actual": actual, "error": error}
    proba_columns, classes = probability_columns(predictions)
    actual = predictions["actual"].astype(str).to_numpy()
    predicted = predictions["predicted"].astype(str).to_numpy()
    is_actual = np.stack([actual == label for label in classes], axis=1).astype(float)
    is_predicted = np.stack([predicted == label for label in classes], axis=1).astype(float)
    # sklearn's log_loss renormalises each row and clips at machine epsilon; so do we.
    probabilities = predictions[proba_columns].to_numpy(float)
    probabilities = probabilities / probabilities.sum(axis=1, keepdims=True)
    p_true = np.clip((probabilities * is_actual).sum(axis=1), LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
    return {
        "is_actual": is_actual,
        "is_predicted": is_predicted,
        "true_positive": is_actual * is_predicted,
        "log_loss": -np.log(p_true),
        "correct": (actual == predicted).astype(float),
    }


def metrics_from_terms(terms: dict[str, np.ndarray], task: str, weights: np.ndarray) -> dict[str, np.ndarray]:
    """Every metric of `task` for each row of `weights` (resamples x rows of counts)."""
    n = weights.sum(axis=1)
    if task == "regression":
        actual, error = terms["actual"], terms["error"]
        squared = weights @ error**2
        mean_actual = (weights @ actual) / n
        total = weights @ actual**2 - n * mean_actual**2
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = 1 - squared / total
        return {"rmse": np.sqrt(squared / n), "mae": (weights @ np.abs(error)) / n, "r2": r2}
    true_positive = weights @ terms["true_positive"]
    support = weights @ terms["is_actual"]
    predicted_count = weights @ terms["is_predicted"]
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = np.where(support > 0, true_positive / support, np.nan)
        f1 = np.where(support + predicted_count > 0, 2 * true_positive / (support + predicted_count), 0.0)
    present = (support > 0) | (predicted_count > 0)
    return {
        "log_loss": (weights @ terms["log_loss"]) / n,
        "balanced_accuracy": np.nanmean(recall, axis=1),
        "accuracy": (weights @ terms["correct"]) / n,
        "f1_macro": np.where(present, f1, 0.0).sum(axis=1) / present.sum(axis=1),
    }


def weighted_metrics(predictions: pd.DataFrame, task: str, weights: np.ndarray) -> dict[str, np.ndarray]:
    """Every metric of `task` for each row of `weights` (resamples x rows of counts)."""
    return metrics_from_terms(row_terms(predictions, task), task, weights)


def pair_rows(base: pd.DataFrame, head: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows both versions scored, in the same order, with the same actual value."""
    shared = np.intersect1d(base[ROW_ID].to_numpy(), head[ROW_ID].to_numpy())
    base_rows = base.set_index(ROW_ID).loc[shared].reset_index()
    head_rows = head.set_index(ROW_ID).loc[shared].reset_index()
    if not (base_rows["actual"].astype(str) == head_rows["actual"].astype(str)).all():
        raise PipelineError("base and head disagree on the actual value of some row_id; data changed")
    return base_rows, head_rows


def bootstrap_deltas(
    base_rows: pd.DataFrame, head_rows: pd.DataFrame, task: str, resamples: int, generator: np.random.Generator
) -> dict[str, np.ndarray]:
    """head - base of every metric on each of `resamples` paired resamples of the rows.

    The weights are drawn a block of resamples at a time: all at once would be resamples x rows
    floats, gigabytes on a large test split (2000 x 200k rows = 3.2 GB). Blocks draw the same
    numbers from `generator` as one draw would, so the intervals do not depend on the block size.
    """
    rows = len(base_rows)
    block = max(1, MAX_WEIGHT_CELLS // rows)
    base_terms, head_terms = row_terms(base_rows, task), row_terms(head_rows, task)
    # The registry's metrics that have a bootstrap formula here (a new metric compares once it has one).
    with_formula = metrics_from_terms(base_terms, task, np.ones((1, rows)))
    parts: dict[str, list[np.ndarray]] = {metric: [] for metric in TASK_METRICS[task] if metric in with_formula}
    for start in range(0, resamples, block):
        size = min(block, resamples - start)
        weights = generator.multinomial(rows, np.full(rows, 1 / rows), size=size).astype(float)
        base_boot = metrics_from_terms(base_terms, task, weights)
        head_boot = metrics_from_terms(head_terms, task, weights)
        for metric, values in parts.items():
            values.append(head_boot[metric] - base_boot[metric])
    return {metric: np.concatenate(values) for metric, values in parts.items()}


def compare(
    base: pd.DataFrame,
    head: pd.DataFrame,
    task: str,
    resamples: int = 2000,
    seed: int = 0,
) -> Comparison:
    """Paired comparison of two per-row prediction tables (as written by `evaluate`)."""
    base_rows, head_rows = pair_rows(base, head)
    rows = len(base_rows)
    if rows == 0:
        raise PipelineError("base and head share no row_id; nothing to compare")
    point_weights = np.ones((1, rows))
    base_point = weighted_metrics(base_rows, task, point_weights)
    head_point = weighted_metrics(head_rows, task, point_weights)
    deltas = bootstrap_deltas(base_rows, head_rows, task, resamples, np.random.default_rng(seed))
    comparisons = []
    for metric in deltas:
        tail = 100 * (1 - INTERVAL_LEVEL) / 2
        low, high = np.nanpercentile(deltas[metric], [tail, 100 - tail])
        base_value, head_value = float(base_point[metric][0]), float(head_point[metric][0])
        comparisons.append(
            MetricComparison(
                metric=metric,
                direction=DIRECTIONS[metric],
                base=base_value,
                head=head_value,
                delta=head_value - base_value,
                ci_low=float(low),
                ci_high=float(high),
            )
        )
    shared = set(base_rows[ROW_ID])
    return Comparison(
        metrics=comparisons,
        paired_rows=rows,
        base_only_rows=int((~base[ROW_ID].isin(shared)).sum()),
        head_only_rows=int((~head[ROW_ID].isin(shared)).sum()),
    )
