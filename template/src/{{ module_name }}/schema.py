"""The data dictionary (schema.yaml beside this file) as the pandera schema that `validate` checks.

The dictionary is data, not code: people and `adopt_data` edit schema.yaml; this module only
reads it. A malformed entry is an error naming the column and what to fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa
import yaml

from ._internal.errors import PipelineError

SCHEMA_PATH = Path(__file__).with_name("schema.yaml")
TYPES = {"str": str, "int": int, "float": float, "date": str}
KEYS = {"type", "categories", "range", "nullable", "required", "sensitive", "format", "description", "review"}
# A date column without `format:` is ISO 8601 (2024-03-31, or with a time).
ISO_DATE = "ISO8601"


def as_text(values: pd.Series) -> pd.Series:
    """Values as the dictionary writes categories: 1 not 1.0 (0/1 flags with nulls), True not true.

    pandas reads a 0/1 column with blanks as floats; without this, its categories "0" and "1"
    would never match the "0.0" and "1.0" a plain conversion to text gives.
    """
    if pd.api.types.is_bool_dtype(values):
        return values.map({True: "True", False: "False"})
    if pd.api.types.is_float_dtype(values):
        present = values.dropna()
        if (present == present.round()).all():
            return (
                values.astype("Int64")
                .astype(object)
                .where(values.notna(), None)
                .map(lambda value: value if value is None else str(value))
            )
    return values


def as_category_text(values: pd.Series) -> pd.Series:
    """A categorical feature as the model was trained on it: text, nulls kept (1 -> "1", True -> "True").

    A CSV read for scoring gives 0/1 flags as numbers and yes/no as booleans; the model learned
    their text, and would take 1 for an unknown category.
    """
    text = as_text(values)
    return text.astype(str).astype(object).where(text.notna(), float("nan"))  # NaN: what the imputer fills


def parses_as_dates(values: pd.Series, date_format: str) -> pd.Series:
    """Per value: present values must parse as dates written in `date_format`."""
    present = values.notna()
    parsed = pd.to_datetime(values.where(present), format=date_format, errors="coerce")
    return parsed.notna() | ~present


def as_date_text(values: pd.Series, date_format: str) -> pd.Series:
    """pyarrow reads ISO dates as timestamps: write them back as the text the dictionary checks."""
    if not pd.api.types.is_datetime64_any_dtype(values):
        return values
    written = values.dt.strftime("%Y-%m-%d %H:%M:%S" if date_format == ISO_DATE else date_format)
    return written.where(values.notna(), None)


def column_schema(name: str, entry: dict[str, Any], source: Path) -> pa.Column:
    """One column of the dictionary as a pandera Column."""
    where = f"{source}: column '{name}'"
    if not isinstance(entry, dict) or entry.get("type") not in TYPES:
        raise PipelineError(f"{where}: needs `type:` str, int or float")
    unknown = sorted(set(entry) - KEYS)
    if unknown:
        raise PipelineError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(KEYS))}")
    checks, parsers = [], []
    date_format = entry.get("format")
    if date_format is not None and (entry["type"] != "date" or not isinstance(date_format, str)):
        raise PipelineError(f"{where}: `format:` is for `type: date` columns, e.g. format: '%Y-%m-%d'")
    if entry["type"] == "date":
        date_format = date_format or ISO_DATE
        checks.append(
            pa.Check(lambda v: parses_as_dates(v, date_format), name="date", error=f"dates written as {date_format}")
        )
        parsers.append(pa.Parser(lambda v: as_date_text(v, date_format)))
    elif entry["type"] == "str":
        parsers.append(pa.Parser(as_text))
    if "categories" in entry:
        checks.append(pa.Check.isin([str(value) for value in entry["categories"]]))
    if "range" in entry:
        low, high = entry["range"]
        checks.append(pa.Check.in_range(low, high))
    metadata = {"sensitive": bool(entry.get("sensitive", False))}
    if date_format:
        metadata["date_format"] = date_format
    return pa.Column(
        TYPES[entry["type"]],
        checks,
        parsers=parsers,
        nullable=bool(entry.get("nullable", False)),
        # required: false: a column the model does not use (free text, an id) may be absent.
        required=bool(entry.get("required", True)),
        # Numbers as text and 0/1 class codes are read as the dictionary's type.
        coerce=True,
        description=entry.get("description"),
        metadata=metadata,
    )


def load_schema(path: Path = SCHEMA_PATH) -> pa.DataFrameSchema:
    """The pandera schema of a data dictionary file."""
    try:
        dictionary = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise PipelineError(f"{path}: not a readable data dictionary ({str(error).splitlines()[0]})") from None
    if not isinstance(dictionary, dict) or not isinstance(dictionary.get("columns"), dict):
        raise PipelineError(f"{path}: needs a `columns:` mapping of column name to its entry")
    columns = {str(name): column_schema(str(name), entry, path) for name, entry in dictionary["columns"].items()}
    # strict=False: extra columns are dropped with a warning; upstream exports often add some.
    return pa.DataFrameSchema(columns, name=dictionary.get("name", "raw"), strict=False)


RAW_SCHEMA = load_schema()


def allowed_categories(column: str, schema: pa.DataFrameSchema | None = None) -> tuple[str, ...] | None:
    """The categories the data dictionary allows for `column`, or None if it is not categorical."""
    for check in (schema or RAW_SCHEMA).columns[column].checks:
        if "allowed_values" in check.statistics:
            return tuple(check.statistics["allowed_values"])
    return None


def documented_range(column: str, schema: pa.DataFrameSchema | None = None) -> tuple[float, float] | None:
    """The (min, max) the data dictionary allows for `column`, or None if it has no range."""
    for check in (schema or RAW_SCHEMA).columns[column].checks:
        if "min_value" in check.statistics and "max_value" in check.statistics:
            return float(check.statistics["min_value"]), float(check.statistics["max_value"])
    return None


# Columns whose values are categories: prepare stores them with a categorical dtype.
CATEGORICAL_COLUMNS = tuple(name for name in RAW_SCHEMA.columns if allowed_categories(name) is not None)
