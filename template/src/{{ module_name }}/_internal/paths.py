"""Every file a stage writes, in one place: raw -> validated -> prepared -> model -> metrics/reports.

Code imports these names; dvc.yaml must list the same files, and a generated test
(tests/integration/test_pipeline_repro.py) checks that it does. Plain constants with no heavy
imports, so any stage can name a file without paying for pandera or scikit-learn.
"""

from __future__ import annotations

from pathlib import Path

# Every prepared row keeps the id of its raw row, so predictions of two model versions pair up.
ROW_ID = "row_id"
# validate
VALIDATION_REPORT_PATH = Path("reports/validation.json")
VALIDATED_PATH = Path("data/validated/raw.parquet")
# prepare
TRAIN_PATH = Path("data/prepared/train.parquet")
TEST_PATH = Path("data/prepared/test.parquet")
# train
MODEL_PATH = Path("models/model.skops")
LINEAGE_PATH = Path("models/model.json")
# evaluate
METRICS_PATH = Path("metrics/metrics.json")
QUALITY_GATE_PATH = Path("metrics/quality_gate.json")
PREDICTIONS_PATH = Path("reports/predictions.csv")
IMPORTANCE_PATH = Path("reports/importance.csv")
STAGE_OUTPUTS = {
    "validate": (VALIDATION_REPORT_PATH, VALIDATED_PATH),
    "prepare": (TRAIN_PATH, TEST_PATH),
    "train": (MODEL_PATH, LINEAGE_PATH),
    "evaluate": (METRICS_PATH, QUALITY_GATE_PATH, PREDICTIONS_PATH, IMPORTANCE_PATH),
}
