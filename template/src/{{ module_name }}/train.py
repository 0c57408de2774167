"""Stage 3: fit the model pipeline on the training split and save it with its lineage."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from ._internal.errors import PipelineError, run_stage
from ._internal.files import file_md5, write_json
from ._internal.lineage import git_state, hashes, library_versions
from ._internal.model_store import save_model
from ._internal.paths import LINEAGE_PATH, MODEL_PATH, TRAIN_PATH
from .model import build_pipeline
from .params import DataParams, Params, load_params

log = logging.getLogger(__name__)
CODE_DIR = Path(__file__).parent


def training_subset(train_frame: pd.DataFrame, data_params: DataParams) -> pd.DataFrame:
    """The rows to train on: all, or a seeded random fraction (CI trains on a subset)."""
    subset = data_params.subset
    if subset.fraction >= 1.0:
        return train_frame
    return train_frame.sample(frac=subset.fraction, random_state=subset.seed).sort_index()


def train(train_frame: pd.DataFrame, params: Params):
    """Fit the pipeline on `train_frame`; return the fitted model."""
    data = params.data
    model = build_pipeline(params.task, data, params.model)
    if params.task == "classification" and train_frame[data.target].nunique() < 2:
        raise PipelineError(f"training data has one class of '{data.target}'; raise data.subset.fraction")
    model.fit(train_frame[list(data.features)], train_frame[data.target])
    # Trained on every core, predicts on one: a forest's parallel predict_proba adds the trees'
    # votes in thread order, so the last bits of a probability (and the metrics) would vary by run.
    model.set_params(**{name: 1 for name, value in model.get_params().items() if name.endswith("n_jobs") and value})
    return model


def main() -> None:
    params = load_params()
    # Only the columns the model uses: the file also holds row ids and unused raw columns.
    available = pd.read_parquet(TRAIN_PATH, columns=[*params.data.features, params.data.target])
    train_frame = training_subset(available, params.data)
    started = time.perf_counter()
    model = train(train_frame, params)
    train_seconds = time.perf_counter() - started
    save_model(model)
    code_files = sorted(CODE_DIR.glob("*.py"))
    write_json(
        LINEAGE_PATH,
        {
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "git": git_state(),
            # The same md5 dvc.lock records for the model: predictions log it as the model version.
            "model_md5": file_md5(MODEL_PATH),
            "data_md5": hashes([params.data.raw_path, TRAIN_PATH]),
            "code_md5": hashes(code_files),
            "params": asdict(params),
            "libraries": library_versions(),
            "train_seconds": round(train_seconds, 3),
            "rows": {"train_available": len(available), "train_used": len(train_frame)},
            "features": list(params.data.features),
            "target": params.data.target,
        },
    )
    log.info(
        "trained %s on %d of %d rows in %.2f s -> %s",
        params.model.name,
        len(train_frame),
        len(available),
        train_seconds,
        MODEL_PATH,
    )


if __name__ == "__main__":
    run_stage(main)
