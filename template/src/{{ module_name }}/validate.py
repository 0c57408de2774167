"""Stage 1: check the raw data against the data dictionary before anything is overwritten.

DVC deletes a stage's outputs before it runs the stage, so validation is a stage of its own,
first in the pipeline: bad raw data stops `dvc repro` here and the last good prepared data,
model and metrics stay as they were. Besides a small report it writes the validated rows as a
typed parquet file (categorical dtypes), which `prepare` reads: the CSV is parsed and checked
once, not twice, and prepare's deps make DVC run validation first, also for `dvc repro train`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
from pandera.errors import SchemaErrors

from ._internal.errors import PipelineError, run_stage
from ._internal.files import atomic_path, file_md5, write_json
from ._internal.paths import VALIDATED_PATH, VALIDATION_REPORT_PATH
from .params import DataParams, load_params
from .schema import CATEGORICAL_COLUMNS, RAW_SCHEMA

log = logging.getLogger(__name__)
MAX_ROWS_SHOWN = 5


def read_raw_csv(path: Path) -> pd.DataFrame:
    """Read the raw CSV; an empty, missing or non-CSV file becomes a PipelineError.

    pyarrow's parser reads on all cores, several times faster than pandas' own on large files.
    """
    try:
        frame = pd.read_csv(path, engine="pyarrow")
    except FileNotFoundError:
        raise PipelineError(f"{path}: file not found; check data.raw_path in params/data/") from None
    except pd.errors.EmptyDataError:
        raise PipelineError(f"{path}: file is empty; expected a CSV with a header row") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        reason = str(error).splitlines()[0][:200]
        raise PipelineError(f"{path}: not a readable CSV file ({reason})") from None
    if frame.empty:
        raise PipelineError(f"{path}: has a header but no data rows")
    return frame


def check_raw(frame: pd.DataFrame, path: Path, data_params: DataParams) -> pd.DataFrame:
    """Validate against the schema; return the frame with schema columns only, types coerced."""
    unknown_roles = [c for c in (data_params.target, *data_params.features) if c not in RAW_SCHEMA.columns]
    if unknown_roles:
        raise PipelineError(
            f"params/data: {', '.join(map(repr, unknown_roles))} not in the data dictionary; "
            "add the column to schema.yaml or fix the name in params/data/"
        )
    missing = [name for name, column in RAW_SCHEMA.columns.items() if column.required and name not in frame.columns]
    if missing:
        raise PipelineError(
            f"{path}: missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(map(repr, missing))}; expected {', '.join(RAW_SCHEMA.columns)}"
        )
    extra = [name for name in frame.columns if name not in RAW_SCHEMA.columns]
    if extra:
        log.warning("%s: ignoring columns not in the data dictionary: %s", path, ", ".join(extra))
    schema_frame = frame[[name for name in RAW_SCHEMA.columns if name in frame.columns]]
    try:
        return RAW_SCHEMA.validate(schema_frame, lazy=True)
    except SchemaErrors as errors:
        raise PipelineError(f"{path}: {describe_failures(errors.failure_cases)}") from None


def describe_failures(failure_cases: pd.DataFrame) -> str:
    """Summarise pandera's failure cases as one line: column, problem, CSV line numbers."""
    problems = []
    for (column, check), cases in failure_cases.groupby(["column", "check"], sort=False, dropna=False):
        rows = cases["index"].dropna()
        # Data row i is on CSV line i + 2 (line 1 is the header).
        lines = sorted({int(row) + 2 for row in rows})
        shown = ", ".join(map(str, lines[:MAX_ROWS_SHOWN]))
        more = f" and {len(lines) - MAX_ROWS_SHOWN} more" if len(lines) > MAX_ROWS_SHOWN else ""
        where = f" at line{'s' if len(lines) > 1 else ''} {shown}{more}" if lines else ""
        values = cases["failure_case"].dropna().astype(str).unique()[:3]
        seen = f" (e.g. {', '.join(map(repr, values))})" if len(values) and lines else ""
        problems.append(f"column '{column}' fails {describe_check(str(check))}{seen}{where}")
    return "; ".join(problems)


def describe_check(check: str) -> str:
    """Turn pandera's check names into words a data owner understands."""
    if check.startswith("not_nullable"):
        return "not-null (it has missing values)"
    if check.startswith("isin"):
        return f"allowed categories {check.removeprefix('isin')} (unknown category)"
    if check.startswith("in_range"):
        return f"range {check.removeprefix('in_range')} (out-of-range value)"
    if check.startswith("coerce_dtype") or check.startswith("dtype"):
        return f"type {check.split('(', 1)[-1].rstrip(')')} (wrong type)"
    return check


def write_validated(valid: pd.DataFrame, target: Path = VALIDATED_PATH) -> None:
    """The validated rows as parquet; categories stored as such (smaller, faster to read and fit)."""
    typed = valid.astype(dict.fromkeys(CATEGORICAL_COLUMNS, "category"))  # copy-on-write: only these columns
    with atomic_path(target) as temp_path:
        typed.to_parquet(temp_path)  # keeps the index: a row's position in the raw file


def main() -> None:
    params = load_params()
    path = params.data.raw_path
    frame = read_raw_csv(path)
    valid = check_raw(frame, path, params.data)
    write_validated(valid)
    write_json(
        VALIDATION_REPORT_PATH,
        {
            "raw_path": str(path),
            "raw_md5": file_md5(path),
            "rows": len(valid),
            "columns": list(valid.columns),
            "ignored_columns": [c for c in frame.columns if c not in valid.columns],
            "nulls": {c: int(n) for c, n in valid.isna().sum().items() if n},
        },
    )
    log.info("%s: %d rows match the data dictionary", path, len(valid))


if __name__ == "__main__":
    run_stage(main)
