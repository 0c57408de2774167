"""Score new rows with the trained model, tolerating what real inputs contain.

Missing feature columns are an error (the model cannot guess them). Unknown categories, nulls,
non-numbers in numeric columns and out-of-range values still get a prediction, with a warning in
the `warnings` column, so one odd record never blocks a batch. With the monitoring room, every
scored row is appended to the prediction log with the model version (params/monitor/).

    python -m <package>.predict --input new.csv --output predictions.csv
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from ._internal.errors import PipelineError, run_stage
from ._internal.files import atomic_path
from ._internal.paths import ROW_ID
from ._internal.scoring import score_rows
from .params import DataParams, Task, load_params
from .schema import RAW_SCHEMA, allowed_categories, documented_range

log = logging.getLogger(__name__)


def check_input_columns(frame: pd.DataFrame, data_params: DataParams) -> None:
    """Fail on missing feature columns, naming them; unknown columns are ignored with a warning."""
    missing = [name for name in data_params.features if name not in frame.columns]
    # Columns of the data dictionary (and the row id) are expected even when the model ignores them.
    known = {*data_params.features, *RAW_SCHEMA.columns, ROW_ID}
    unknown = [name for name in frame.columns if name not in known]
    if missing:
        hint = f"; unexpected columns {', '.join(map(repr, unknown))} (renamed?)" if unknown else ""
        raise PipelineError(
            f"input is missing feature column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}{hint}"
        )
    if unknown:
        log.warning("ignoring input columns not in the data dictionary: %s", ", ".join(unknown))


def input_warnings(frame: pd.DataFrame, data_params: DataParams) -> pd.Series:
    """Per row, what is unusual about its features: unknown categories, nulls, out of range."""
    notes: list[pd.Series] = []
    for column in data_params.features:
        values = frame[column]
        notes.append(values.isna().map({True: f"missing {column}", False: ""}))
        if column in data_params.numeric_features:
            not_number = values.notna() & pd.to_numeric(values, errors="coerce").isna()
            notes.append(not_number.map({True: f"{column} not a number", False: ""}))
        allowed = allowed_categories(column)
        if allowed is not None:
            unknown = values.notna() & ~values.astype("string").isin(allowed)
            notes.append(unknown.map({True: f"unknown {column}", False: ""}))
        limits = documented_range(column)
        if limits is not None:
            numbers = pd.to_numeric(values, errors="coerce")
            outside = (numbers < limits[0]) | (numbers > limits[1])
            notes.append(outside.map({True: f"{column} out of range", False: ""}))
    if not notes:
        return pd.Series("", index=frame.index)
    joined = pd.concat(notes, axis=1).apply(lambda row: "; ".join(n for n in row if n), axis=1)
    return joined.astype(str)


def predict(model: Any, frame: pd.DataFrame, task: Task, data_params: DataParams) -> pd.DataFrame:
    """Predictions (and class probabilities) for `frame`, with a `warnings` column."""
    check_input_columns(frame, data_params)
    features = frame[list(data_params.features)].copy()
    # A non-number in a numeric column becomes missing (flagged in `warnings`), not a crash.
    for column in data_params.numeric_features:
        features[column] = pd.to_numeric(features[column], errors="coerce")
    result = score_rows(model, features, task)
    result["warnings"] = input_warnings(frame, data_params)
    flagged = int((result["warnings"] != "").sum())
    if flagged:
        log.warning("%d of %d rows predicted despite unusual inputs", flagged, len(frame))
    return result


def read_input(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise PipelineError(f"{path}: file not found") from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as error:
        reason = str(error).splitlines()[0][:200]
        raise PipelineError(f"{path}: not a readable CSV file with a header row ({reason})") from None
    if frame.empty:
        raise PipelineError(f"{path}: has a header but no rows to score")
    return frame


def predict_and_log(frame: pd.DataFrame, model_path: Path | None = None, write_log: bool = True) -> pd.DataFrame:
    """Predict `frame` with the model on disk and append every row to the prediction log.

    The returned frame carries the model version in a `model_version` column.
    """
    from ._internal.lineage import model_version
    from ._internal.model_store import load_model
    from ._internal.paths import MODEL_PATH

    params = load_params()
    model_path = model_path or MODEL_PATH
    version = model_version(model_path)
    result = predict(load_model(model_path, params.model.trusted_types), frame, params.task, params.data)
    if write_log and importlib.util.find_spec(f"{__package__}.monitoring") is not None:
        # Rendered with the monitoring room (copier answer `monitoring`): log every row.
        from .monitoring.prediction_log import PredictionLog, monitor_params

        PredictionLog.from_params(monitor_params().get("prediction_log", {})).append(frame, result, version)
    return result.assign(model_version=version.label)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Score a CSV of new rows and log every prediction.")
    parser.add_argument("--input", type=Path, required=True, help="CSV with the feature columns")
    parser.add_argument("--output", type=Path, required=True, help="where to write predictions (CSV)")
    parser.add_argument("--no-log", action="store_true", help="do not append to the prediction log")
    args = parser.parse_args(argv)
    frame = read_input(args.input)
    result = predict_and_log(frame, write_log=not args.no_log)
    with atomic_path(args.output) as temp_path:
        # Inputs beside their predictions, so each output row explains itself.
        pd.concat([frame, result], axis=1).to_csv(temp_path, index=False, float_format="%.6g")
    log.info("wrote %d predictions to %s (model %s)", len(result), args.output, result["model_version"].iloc[0])


if __name__ == "__main__":
    run_stage(main)
