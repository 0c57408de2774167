"""Stage 2: clean the validated raw data and split it into train and test parquet files.

Every row keeps `row_id`, its position in the raw file, so predictions of two model versions
can be paired row by row, and a prediction traced back to its raw record. Reads the typed
parquet `validate` wrote, and copies the frame as few times as it can (it may be millions of rows).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ._internal.errors import PipelineError, run_stage
from ._internal.files import atomic_path
from ._internal.paths import ROW_ID, TEST_PATH, TRAIN_PATH, VALIDATED_PATH
from .params import Params, load_params
from .schema import CATEGORICAL_COLUMNS, RAW_SCHEMA

log = logging.getLogger(__name__)


def clean(raw_frame: pd.DataFrame, target: str) -> pd.DataFrame:
    """Add row ids, drop exact duplicates and rows without a target, use categorical dtypes.

    One copy of the rows: both filters are combined into one mask before anything is taken.
    """
    present = [name for name in RAW_SCHEMA.columns if name in raw_frame.columns]  # optional ones may be absent
    duplicated = raw_frame.duplicated(subset=present, keep="first").to_numpy()
    no_target = raw_frame[target].isna().to_numpy()
    if duplicated.any():
        log.info("dropped %d duplicated rows (kept the first of each)", int(duplicated.sum()))
    if no_target.any():
        log.info("dropped %d rows without a value for target '%s'", int(no_target.sum()), target)
    keep = ~(duplicated | no_target)
    frame = raw_frame.loc[keep].reset_index(drop=True)
    frame.insert(0, ROW_ID, raw_frame.index.to_numpy()[keep])
    for name in CATEGORICAL_COLUMNS:
        if name in frame.columns and not isinstance(frame[name].dtype, pd.CategoricalDtype):
            frame[name] = frame[name].astype("category")
    return frame


def split(frame: pd.DataFrame, params: Params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out a test set; stratify by the label for classification so every class is tested.

    Splits row positions, not the frame, then takes each part once, in row_id order.
    """
    from sklearn.model_selection import train_test_split

    stratify = frame[params.data.target] if params.task == "classification" else None
    try:
        train_rows, test_rows = train_test_split(
            np.arange(len(frame)),
            test_size=params.split.test_size,
            random_state=params.split.seed,
            stratify=stratify,
        )
    except ValueError as error:
        raise PipelineError(f"cannot split {len(frame)} rows: {error}") from None
    # clean() keeps rows in row_id order, so sorted positions give sorted row ids.
    return frame.take(np.sort(train_rows)), frame.take(np.sort(test_rows))


def write_parquet(frame: pd.DataFrame, target: Path) -> None:
    with atomic_path(target) as temp_path:
        frame.to_parquet(temp_path, index=False)


def main() -> None:
    params = load_params()
    frame = clean(pd.read_parquet(VALIDATED_PATH), params.data.target)
    train_frame, test_frame = split(frame, params)
    write_parquet(train_frame, TRAIN_PATH)
    write_parquet(test_frame, TEST_PATH)
    log.info("wrote %d train and %d test rows", len(train_frame), len(test_frame))


if __name__ == "__main__":
    run_stage(main)
