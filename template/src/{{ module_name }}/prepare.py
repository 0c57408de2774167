"""Stage 2: clean the validated raw data and split it into train and test parquet files.

Every row keeps `row_id`, its position in the raw file, so predictions of two model versions
can be paired row by row, and a prediction traced back to its raw record.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from .errors import PipelineError, run_stage
from .files import atomic_path
from .params import Params, load_params
from .schema import CATEGORICAL_COLUMNS, RAW_SCHEMA
from .validate import check_raw, read_raw_csv

log = logging.getLogger(__name__)
ROW_ID = "row_id"
TRAIN_PATH = Path("data/prepared/train.parquet")
TEST_PATH = Path("data/prepared/test.parquet")


def clean(raw_frame: pd.DataFrame, target: str) -> pd.DataFrame:
    """Add row ids, drop exact duplicates and rows without a target, use categorical dtypes."""
    frame = raw_frame.rename_axis(ROW_ID).reset_index()
    duplicated = frame.duplicated(subset=list(RAW_SCHEMA.columns), keep="first")
    if duplicated.any():
        log.info("dropped %d duplicated rows (kept the first of each)", int(duplicated.sum()))
        frame = frame.loc[~duplicated]
    no_target = frame[target].isna()
    if no_target.any():
        log.info("dropped %d rows without a value for target '%s'", int(no_target.sum()), target)
        frame = frame.loc[~no_target]
    categories = {name: "category" for name in CATEGORICAL_COLUMNS if name in frame.columns}
    return frame.astype(categories).reset_index(drop=True)


def split(frame: pd.DataFrame, params: Params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out a test set; stratify by the label for classification so every class is tested."""
    from sklearn.model_selection import train_test_split

    stratify = frame[params.data.target] if params.task == "classification" else None
    try:
        train_frame, test_frame = train_test_split(
            frame,
            test_size=params.split.test_size,
            random_state=params.split.seed,
            stratify=stratify,
        )
    except ValueError as error:
        raise PipelineError(f"cannot split {len(frame)} rows: {error}") from None
    return train_frame.sort_values(ROW_ID), test_frame.sort_values(ROW_ID)


def write_parquet(frame: pd.DataFrame, target: Path) -> None:
    with atomic_path(target) as temp_path:
        frame.to_parquet(temp_path, index=False)


def main() -> None:
    params = load_params()
    path = params.data.raw_path
    frame = clean(check_raw(read_raw_csv(path), path, params.data), params.data.target)
    train_frame, test_frame = split(frame, params)
    write_parquet(train_frame, TRAIN_PATH)
    write_parquet(test_frame, TEST_PATH)
    log.info("wrote %d train and %d test rows", len(train_frame), len(test_frame))


if __name__ == "__main__":
    run_stage(main)
