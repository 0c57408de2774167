"""The data dictionary (schema.yaml beside this file) as the pandera schema that `validate` checks.

The dictionary is data, not code: people and `adopt_data` edit schema.yaml; this module only
reads it. A malformed entry is an error naming the column and what to fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandera.pandas as pa
import yaml

from ._internal.errors import PipelineError

SCHEMA_PATH = Path(__file__).with_name("schema.yaml")
TYPES = {"str": str, "int": int, "float": float}
KEYS = {"type", "categories", "range", "nullable", "sensitive", "description", "review"}


def column_schema(name: str, entry: dict[str, Any], source: Path) -> pa.Column:
    """One column of the dictionary as a pandera Column."""
    where = f"{source}: column '{name}'"
    if not isinstance(entry, dict) or entry.get("type") not in TYPES:
        raise PipelineError(f"{where}: needs `type:` str, int or float")
    unknown = sorted(set(entry) - KEYS)
    if unknown:
        raise PipelineError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(KEYS))}")
    checks = []
    if "categories" in entry:
        checks.append(pa.Check.isin([str(value) for value in entry["categories"]]))
    if "range" in entry:
        low, high = entry["range"]
        checks.append(pa.Check.in_range(low, high))
    return pa.Column(
        TYPES[entry["type"]],
        checks,
        nullable=bool(entry.get("nullable", False)),
        # Numbers as text and 0/1 class codes are read as the dictionary's type.
        coerce=True,
        description=entry.get("description"),
        metadata={"sensitive": bool(entry.get("sensitive", False))},
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
