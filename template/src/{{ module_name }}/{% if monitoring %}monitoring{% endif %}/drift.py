"""Drift of a stream against the training data, in sliding windows (tests in _internal/shift.py).

It monitors a stream (the prediction log, or a new data file) against the training
data in sliding windows, including the model's own output distribution. A window drifts when a
column's adjusted p-value is below alpha *and* its effect size (KS statistic, or PSI for
categories) passes a floor: big windows make trivial shifts significant, the floor ignores them.

    python -m <package>.monitoring.drift --log logs/predictions.jsonl      # or: --data new.csv
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from .._internal.errors import PipelineError, run_stage
from .._internal.shift import column_test

log = logging.getLogger(__name__)
REPORT_DIR = Path("reports/drift")
PREDICTION = "prediction"


@dataclass(frozen=True)
class DriftSettings:
    """The `monitor.drift` section of params.yaml (see params/monitor/default.yaml)."""

    window_rows: int
    step_rows: int
    min_window_rows: int
    alpha: float  # false discovery rate across columns and windows
    min_ks_statistic: float
    min_psi: float
    retrain_when_drifted_windows: int
    stale_after_hours: float

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> DriftSettings:
        unknown = sorted(set(params) - set(cls.__dataclass_fields__))
        if unknown:
            raise PipelineError(f"monitor.drift: unknown setting(s) {', '.join(unknown)}; see params/monitor/")
        missing = sorted(set(cls.__dataclass_fields__) - set(params))
        if missing:
            raise PipelineError(f"monitor.drift: missing setting(s) {', '.join(missing)}; see params/monitor/")
        settings = cls(**params)
        if not 0 < settings.min_window_rows <= settings.window_rows or settings.step_rows < 1:
            raise PipelineError("monitor.drift: need 0 < min_window_rows <= window_rows and step_rows >= 1")
        return settings


@dataclass(frozen=True)
class WindowTest:
    window: int
    column: str
    test: str
    statistic: float
    p_value: float
    effect: float
    p_adjusted: float = 1.0
    drifted: bool = False


@dataclass
class DriftReport:
    windows: list[dict[str, Any]]
    tests: list[WindowTest]
    settings: DriftSettings
    source: str
    rows: int
    newest: str | None = None
    stale: bool | None = None
    skipped_columns: list[str] = field(default_factory=list)
    # A log is outside input: lines that were not whole records, rows stamped in the future.
    skipped_lines: int = 0
    future_rows: int = 0

    @property
    def drifted_windows(self) -> list[int]:
        return sorted({test.window for test in self.tests if test.drifted})

    @property
    def drifted_columns(self) -> list[str]:
        return sorted({test.column for test in self.tests if test.drifted})

    @property
    def retrain(self) -> bool:
        return len(self.drifted_windows) >= self.settings.retrain_when_drifted_windows

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "rows": self.rows,
            "windows_tested": len(self.windows),
            "drifted_windows": self.drifted_windows,
            "drifted_columns": self.drifted_columns,
            "retrain": self.retrain,
            "newest_row": self.newest,
            "stale": self.stale,
            "skipped_columns": self.skipped_columns,
            "skipped_lines": self.skipped_lines,
            "future_rows": self.future_rows,
            "settings": asdict(self.settings),
        }


def sliding_windows(rows: int, settings: DriftSettings) -> list[tuple[int, int]]:
    """[start, stop) row ranges; the last window ends at the newest row; short ones are dropped."""
    if rows < settings.min_window_rows:
        return []
    starts = list(range(0, max(rows - settings.window_rows, 0) + 1, settings.step_rows))
    bounds = [(start, min(start + settings.window_rows, rows)) for start in starts]
    if bounds[-1][1] < rows:  # always test the newest rows
        bounds.append((max(rows - settings.window_rows, 0), rows))
    return [(start, stop) for start, stop in bounds if stop - start >= settings.min_window_rows]


def monitor(
    reference: pd.DataFrame,
    stream: pd.DataFrame,
    numeric: list[str] | tuple[str, ...],
    categorical: list[str] | tuple[str, ...],
    settings: DriftSettings,
    reference_predictions: pd.Series | None = None,
    source: str = "stream",
    numeric_predictions: bool | None = None,
) -> DriftReport:
    """Test every column (and the model's output, when both sides have it) in every window of `stream`.

    `reference_predictions` is the model's output on held-out rows: predictions on its own
    training rows would be overfit, and so a poor picture of what the model normally says.
    `numeric_predictions` says whether they are numbers (regression) or class labels, which are
    compared as labels even when coded 0/1 (default: guessed from their dtype).
    """
    from scipy import stats

    numeric = [c for c in numeric if c in stream.columns]
    categorical = [c for c in categorical if c in stream.columns]
    references = {column: reference[column] for column in [*numeric, *categorical]}
    if PREDICTION in stream.columns and reference_predictions is not None:
        if numeric_predictions is None:
            numeric_predictions = pd.api.types.is_numeric_dtype(reference_predictions)
        (numeric if numeric_predictions else categorical).append(PREDICTION)
        references[PREDICTION] = reference_predictions
    bounds = sliding_windows(len(stream), settings)
    windows, raw = [], []
    for index, (start, stop) in enumerate(bounds):
        window = stream.iloc[start:stop]
        windows.append({"window": index, "start_row": start, "stop_row": stop, "rows": stop - start})
        if "timestamp" in window.columns:
            windows[-1].update(first=str(window["timestamp"].iloc[0]), last=str(window["timestamp"].iloc[-1]))
        for column in [*numeric, *categorical]:
            test = column_test(references[column], window[column], numeric=column in numeric)
            raw.append(WindowTest(index, column, *test))
    tests = []
    if raw:
        adjusted = stats.false_discovery_control([t.p_value for t in raw], method="bh")
        for test, p_adjusted in zip(raw, adjusted, strict=True):
            floor = settings.min_ks_statistic if test.test == "ks" else settings.min_psi
            drifted = bool(p_adjusted < settings.alpha and test.effect >= floor)
            tests.append(WindowTest(**{**asdict(test), "p_adjusted": float(p_adjusted), "drifted": drifted}))
    return DriftReport(windows=windows, tests=tests, settings=settings, source=source, rows=len(stream))


def check_stale(report: DriftReport, stream: pd.DataFrame, now: datetime) -> None:
    """Mark the report stale when the stream's newest row is older than the configured window.

    Rows stamped after `now` (a wrong clock, or a forged line) are counted and do not count as
    fresh: one line dated 2099 must not hide a stream that stopped.
    """
    if "timestamp" not in stream.columns or stream.empty:
        return
    future = stream["timestamp"] > now
    report.future_rows = int(future.sum())
    past = stream.loc[~future, "timestamp"]
    if past.empty:
        report.stale = True
        return
    newest = past.max()
    report.newest = newest.isoformat()
    report.stale = bool((now - newest).total_seconds() > report.settings.stale_after_hours * 3600)


def outside_input_note(report: DriftReport) -> str:
    """What of the stream could not be trusted as it came: skipped lines, rows stamped in the future."""
    notes = []
    if report.skipped_lines:
        notes.append(f" Skipped {report.skipped_lines} log lines that were not whole records.")
    if report.future_rows:
        notes.append(f" {report.future_rows} rows are stamped in the future (not counted as fresh).")
    return "".join(notes)


def render_markdown(report: DriftReport) -> str:
    summary = report.summary()
    if report.stale:
        headline = f"**STALE**: no new rows since {report.newest} (limit {report.settings.stale_after_hours:g} h)."
    elif not report.windows:
        headline = f"Not tested: {report.rows} rows, fewer than the minimum window ({report.settings.min_window_rows})."
    elif report.drifted_columns:
        headline = (
            f"**DRIFT** in {len(report.drifted_windows)} of {len(report.windows)} windows: "
            + ", ".join(f"`{c}`" for c in report.drifted_columns)
            + (" — retrain recommended." if report.retrain else ".")
        )
    else:
        headline = f"No drift in {len(report.windows)} windows."
    s = report.settings
    lines = [
        "# Drift report",
        "",
        headline,
        "",
        f"Source: `{report.source}`, {report.rows} rows; newest row: {report.newest or 'n/a'}. Windows of "
        f"{s.window_rows} rows every {s.step_rows} (min {s.min_window_rows}); BH-adjusted p < {s.alpha:g} and "
        f"effect ≥ {s.min_ks_statistic:g} (KS) / {s.min_psi:g} (PSI)." + outside_input_note(report),
    ]
    if summary["skipped_columns"]:
        lines += ["", "Not compared (dropped from the log as sensitive): " + ", ".join(summary["skipped_columns"])]
    drifted = [t for t in report.tests if t.drifted]
    if drifted:
        lines += ["", "| window | column | test | effect | adjusted p |", "|---|---|---|---|---|"]
        lines += [
            f"| {t.window} | `{t.column}` | {t.test} | {t.effect:.3f} | {t.p_adjusted:.2g} |"
            for t in sorted(drifted, key=lambda t: (t.window, t.column))
        ]
    return "\n".join(lines) + "\n"


def plot_effects(report: DriftReport, path: Path) -> None:
    """Heat map of effect size per column and window; drifted cells are marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .._internal.files import atomic_path

    table = pd.DataFrame([asdict(t) for t in report.tests])
    figure, axes = plt.subplots(figsize=(8, 3.5))
    if not table.empty:
        # KS statistics and PSI live on different scales: show each as a multiple of its floor.
        floors = table["test"].map({"ks": report.settings.min_ks_statistic, "chi2": report.settings.min_psi})
        table["relative"] = table["effect"] / floors.clip(lower=1e-9)
        effects = table.pivot(index="column", columns="window", values="relative")
        image = axes.imshow(effects.to_numpy(), aspect="auto", cmap="viridis", vmin=0, vmax=3)
        axes.set_yticks(range(len(effects.index)), effects.index)
        axes.set_xlabel("window (oldest to newest)")
        figure.colorbar(image, ax=axes, label="effect / its floor (capped at 3)")
        rows = {name: i for i, name in enumerate(effects.index)}
        columns = {name: i for i, name in enumerate(effects.columns)}
        for test in (t for t in report.tests if t.drifted):
            axes.text(columns[test.window], rows[test.column], "x", ha="center", va="center", color="red")
    axes.set_title("Drift by window (x = drifted)")
    figure.tight_layout()
    with atomic_path(path) as temp_path:
        figure.savefig(temp_path, format="png", dpi=100)
    plt.close(figure)


def load_stream(log_paths: list[Path], data_path: Path | None) -> tuple[pd.DataFrame, str]:
    """The rows to monitor, oldest first, with the model's output as a `prediction` column."""
    if data_path is not None:
        from ..predict import Predictor, read_input

        frame = read_input(data_path)
        scored = Predictor.load(log_predictions=False)(frame)  # scored as the service would, not logged
        return frame.assign(**{PREDICTION: scored["prediction"].to_numpy()}), str(data_path)
    from .prediction_log import read_log

    paths: list[Path] = []
    for path in log_paths:
        if path.is_dir():
            paths += sorted(path.glob("*.jsonl*"))
        elif path.exists():
            paths.append(path)
        else:
            raise PipelineError(f"{path}: no prediction log here; score rows with `python -m {__package__}.predict`")
    if not paths:
        raise PipelineError(f"no prediction log files in {', '.join(map(str, log_paths))}")
    frame = read_log(paths)
    skipped_lines = frame.attrs.get("skipped_lines", 0)
    if frame.empty:
        raise PipelineError(f"no whole records in {', '.join(map(str, log_paths))} ({skipped_lines} lines skipped)")
    frame = frame.rename(columns={f"output.{PREDICTION}": PREDICTION}).sort_values("timestamp", kind="stable")
    frame = frame.reset_index(drop=True)
    frame.attrs["skipped_lines"] = skipped_lines
    return frame, ", ".join(map(str, log_paths))


def reference_data(
    sensitive_policy: str | None, numeric: tuple[str, ...], labels: bool = False
) -> tuple[pd.DataFrame, pd.Series, list[str]]:
    """Training rows, the model's predictions on the test split, and columns that cannot be compared.

    With `labels` (classification) the predictions are read as text: a CSV of 0/1 labels reads
    back as integers, while the model and the log give the labels it was trained on.

    When the stream is a prediction log, sensitive columns are protected in the reference the
    same way as in the log (equal salted hashes stay comparable); dropped or numeric ones are skipped.
    """
    from .._internal.paths import PREDICTIONS_PATH, TRAIN_PATH

    for path in (TRAIN_PATH, PREDICTIONS_PATH):
        if not path.exists():
            raise PipelineError(f"{path}: missing; run `dvc repro` (or `dvc pull`) to have the reference data")
    reference = pd.read_parquet(TRAIN_PATH)
    predictions = pd.read_csv(PREDICTIONS_PATH, dtype={"predicted": str} if labels else None)["predicted"]
    skipped: list[str] = []
    if sensitive_policy is not None:
        from .prediction_log import pseudonymise, secret_salt, sensitive_columns

        salt = secret_salt()  # without one, the log dropped these columns
        for column in sensitive_columns():
            hashable = column not in numeric and column in reference.columns
            if sensitive_policy == "hash" and salt is not None and hashable:
                reference[column] = reference[column].map(lambda value: pseudonymise(value, salt))
            else:
                skipped.append(column)
    return reference, predictions, skipped


def main(argv: list[str] | None = None) -> None:
    from .._internal.files import atomic_path, write_json
    from ..params import load_params
    from .prediction_log import monitor_params

    parser = argparse.ArgumentParser(description="Drift of a stream against the training data, in sliding windows.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--log", type=Path, nargs="+", help="prediction log file(s) or folder(s)")
    source.add_argument("--data", type=Path, help="a CSV of new raw rows, in arrival order")
    parser.add_argument("--report-dir", type=Path, default=REPORT_DIR)
    parser.add_argument("--now", help="ISO time to judge staleness against (default: now)")
    args = parser.parse_args(argv)
    params = load_params()
    monitor_config = monitor_params(params)
    settings = DriftSettings.from_params(monitor_config.get("drift", {}))
    policy = None if args.data else monitor_config.get("prediction_log", {}).get("sensitive", "hash")
    stream, source_name = load_stream(args.log or [], args.data)
    classification = params.task == "classification"
    reference, reference_predictions, skipped = reference_data(policy, params.data.numeric_features, classification)
    numeric = [c for c in params.data.numeric_features if c not in skipped]
    categorical = [c for c in params.data.categorical_features if c not in skipped]
    report = monitor(
        reference,
        stream,
        numeric,
        categorical,
        settings,
        reference_predictions,
        source_name,
        numeric_predictions=not classification,
    )
    report.skipped_columns = skipped
    report.skipped_lines = int(stream.attrs.get("skipped_lines", 0))
    now = pd.Timestamp(args.now) if args.now else pd.Timestamp(datetime.now(UTC))
    check_stale(report, stream, now.tz_localize(UTC) if now.tzinfo is None else now)
    with atomic_path(args.report_dir / "drift.md") as temp_path:
        temp_path.write_text(render_markdown(report), encoding="utf-8")
    plot_effects(report, args.report_dir / "drift.png")
    write_json(args.report_dir / "drift.json", report.summary())
    log.info("%s", render_markdown(report).splitlines()[2])


if __name__ == "__main__":
    run_stage(main)
