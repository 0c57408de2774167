"""Score new rows with the trained model, tolerating what real inputs contain.

Missing feature columns are an error (the model cannot guess them). Unknown categories, nulls
and out-of-range values still get a prediction, with a warning in the `warnings` column, so
one odd record never blocks a batch.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from .errors import PipelineError
from .params import DataParams, Task
from .prepare import ROW_ID
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
    features = frame[list(data_params.features)]
    result = pd.DataFrame({"prediction": model.predict(features)}, index=frame.index)
    if task == "classification":
        probabilities = model.predict_proba(features)
        for index, label in enumerate(model.classes_):
            result[f"proba_{label}"] = probabilities[:, index]
    result["warnings"] = input_warnings(frame, data_params)
    flagged = int((result["warnings"] != "").sum())
    if flagged:
        log.warning("%d of %d rows predicted despite unusual inputs", flagged, len(frame))
    return result
