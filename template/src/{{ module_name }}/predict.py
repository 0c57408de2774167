"""Score new rows with the trained model, tolerating what real inputs contain.

Missing feature columns are an error (the model cannot guess them). Unknown categories, nulls the
data dictionary forbids, non-numbers in numeric columns and out-of-range values still get a
prediction, with a warning in the `warnings` column, so one odd record never blocks a batch. With
the monitoring room, every scored row is appended to the prediction log with the model version
(params/monitor/).

    python -m <package>.predict --input new.csv --output predictions.csv
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ._internal.errors import PipelineError, run_stage
from ._internal.files import atomic_path
from ._internal.paths import LINEAGE_PATH, MODEL_PATH, ROW_ID
from ._internal.scoring import score_rows
from .params import PARAMS_PATH, DataParams, Params, Task, load_params
from .schema import RAW_SCHEMA, allowed_categories, as_category_text, documented_range

if TYPE_CHECKING:
    from ._internal.lineage import ModelVersion

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
    """Per row, what is unusual about its features: unknown categories, forbidden nulls, out of range."""
    notes: list[pd.Series] = []
    for column in data_params.features:
        values = frame[column]
        entry = RAW_SCHEMA.columns.get(column)
        if entry is None or not entry.nullable:  # nulls the data dictionary allows are not news
            notes.append(values.isna().map({True: f"missing {column}", False: ""}))
        if column in data_params.numeric_features:
            not_number = values.notna() & pd.to_numeric(values, errors="coerce").isna()
            notes.append(not_number.map({True: f"{column} not a number", False: ""}))
        allowed = allowed_categories(column)
        if allowed is not None:
            unknown = values.notna() & ~as_category_text(values).isin(allowed)
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
    for column in data_params.categorical_features:  # 0/1 and yes/no read as numbers: the model learned text
        features[column] = as_category_text(features[column])
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


@dataclass(frozen=True)
class Predictor:
    """The model loaded once, with its version and params: how the CLI and the service both score.

    With the monitoring room (copier answer `monitoring`), every scored row is also appended to the
    prediction log with the model version.
    """

    model: Any
    version: ModelVersion
    params: Params
    prediction_log: Any = None  # monitoring.prediction_log.PredictionLog, when rows are logged

    @classmethod
    def load(
        cls,
        model_path: str | Path = MODEL_PATH,
        lineage_path: str | Path = LINEAGE_PATH,
        params_path: str | Path = PARAMS_PATH,
        prediction_log_path: str | Path | None = None,
        log_predictions: bool = True,
    ) -> Predictor:
        """A PipelineError names the file and the fix when anything does not fit."""
        from ._internal.lineage import model_version
        from ._internal.model_store import load_model

        version = model_version(model_path, lineage_path)
        params = load_params(params_path)
        trained_on = json.loads(Path(lineage_path).read_text(encoding="utf-8")).get("features")
        if trained_on is not None and list(trained_on) != list(params.data.features):
            raise PipelineError(
                f"{model_path} was trained on features {trained_on}, but {params_path} lists "
                f"{list(params.data.features)}; run `dvc repro` to retrain, or restore {params_path}"
            )
        prediction_log = None
        if log_predictions and importlib.util.find_spec(f"{__package__}.monitoring") is not None:
            from .monitoring.prediction_log import PredictionLog, monitor_params

            prediction_log = PredictionLog.from_params(monitor_params(params).get("prediction_log", {}))
            if prediction_log_path is not None:
                prediction_log = replace(prediction_log, path=Path(prediction_log_path))
        return cls(load_model(model_path, params.model.trusted_types), version, params, prediction_log)

    def __call__(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Predictions for `frame` (see `predict`), logged when there is a prediction log."""
        scored = predict(self.model, frame, self.params.task, self.params.data)
        if self.prediction_log is not None:
            self.prediction_log.append(frame, scored, self.version)
        return scored


def predict_and_log(frame: pd.DataFrame, model_path: Path | None = None, write_log: bool = True) -> pd.DataFrame:
    """Predict `frame` with the model on disk (logged with monitoring), with a `model_version` column."""
    predictor = Predictor.load(model_path or MODEL_PATH, log_predictions=write_log)
    return predictor(frame).assign(model_version=predictor.version.label)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Score a CSV of new rows and log every prediction.")
    parser.add_argument("--input", type=Path, required=True, help="CSV with the feature columns")
    parser.add_argument("--output", type=Path, required=True, help="where to write predictions (CSV)")
    parser.add_argument("--no-log", action="store_true", help="do not append to the prediction log")
    args = parser.parse_args(argv)
    frame = read_input(args.input)
    result = predict_and_log(frame, write_log=not args.no_log)
    with atomic_path(args.output) as temp_path:
        # Inputs beside their predictions, so each output row explains itself. Full precision: rounded
        # class probabilities would no longer sum to 1.
        pd.concat([frame, result], axis=1).to_csv(temp_path, index=False)
    log.info("wrote %d predictions to %s (model %s)", len(result), args.output, result["model_version"].iloc[0])


if __name__ == "__main__":
    run_stage(main)
