"""Where the stages hand data to each other: raw -> validated -> prepared (train/test).

Plain constants with no heavy imports, so `train` and `evaluate` can name a file without paying
for pandera (which `validate` and `prepare` need and import).
"""

from __future__ import annotations

from pathlib import Path

# Every prepared row keeps the id of its raw row, so predictions of two model versions pair up.
ROW_ID = "row_id"
VALIDATED_PATH = Path("data/validated/raw.parquet")
TRAIN_PATH = Path("data/prepared/train.parquet")
TEST_PATH = Path("data/prepared/test.parquet")
