"""In-process prediction latency: percentiles for single rows and for batches.

A benchmark, not a test: it reports numbers for you to track, it asserts nothing about speed.
It measures the model alone (no HTTP, no concurrency); a served model needs a load test.
    python -m <package>.monitoring.latency [--repeats 200] [--batch-size 1000]
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np
import pandas as pd

from .._internal.model_store import load_model
from .._internal.paths import TEST_PATH
from ..params import load_params
from ..predict import predict

PERCENTILES = (50, 95, 99)


def measure(call: Any, repeats: int) -> dict[str, float]:
    """Wall time of `call()` in milliseconds: p50/p95/p99 over `repeats` runs (after a warm-up)."""
    call()
    durations = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        durations.append((time.perf_counter() - started) * 1000)
    values = np.percentile(durations, PERCENTILES)
    return {f"p{p}_ms": round(float(v), 3) for p, v in zip(PERCENTILES, values, strict=True)}


def latency_report(model: Any, rows: pd.DataFrame, task: str, data_params: Any, repeats: int, batch_size: int):
    single = rows.iloc[[0]]
    batch = rows.sample(n=batch_size, replace=True, random_state=0)
    return {
        "single_row": measure(lambda: predict(model, single, task, data_params), repeats),
        f"batch_{batch_size}": measure(lambda: predict(model, batch, task, data_params), max(repeats // 10, 5)),
        "repeats": repeats,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args(argv)
    params = load_params()
    report = latency_report(
        load_model(trusted_types=params.model.trusted_types),
        pd.read_parquet(TEST_PATH),
        params.task,
        params.data,
        args.repeats,
        args.batch_size,
    )
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
