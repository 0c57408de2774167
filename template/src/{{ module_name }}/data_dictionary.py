"""Write docs/data_dictionary.md from the data dictionary (schema.yaml), or check that it is current.

schema.yaml is the source of truth; the markdown is for people. A test fails when it is stale.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandera.pandas as pa

from ._internal.files import sync_generated_file

DICTIONARY_PATH = Path("docs/data_dictionary.md")


def render(raw_schema: pa.DataFrameSchema | None = None) -> str:
    """The markdown for `raw_schema` (the project's own by default)."""
    from .schema import RAW_SCHEMA, allowed_categories, documented_range

    raw_schema = raw_schema or RAW_SCHEMA
    lines = [
        "# Data dictionary",
        "",
        f"Generated from `schema.yaml` ({raw_schema.name}) by `python -m {__package__}.data_dictionary`;"
        " do not edit by hand.",
        "",
        "| column | type | nulls | allowed values | description |",
        "|---|---|---|---|---|",
    ]
    for name, column in raw_schema.columns.items():
        categories = allowed_categories(name, raw_schema)
        limits = documented_range(name, raw_schema)
        if categories is not None:
            allowed = ", ".join(categories)
        elif limits is not None:
            allowed = f"{limits[0]:g} to {limits[1]:g}"
        else:
            allowed = "any"
        nulls = "allowed" if column.nullable else "not allowed"
        if not column.required:
            nulls += "; column optional"
        date_format = (column.metadata or {}).get("date_format")
        kind = f"date ({date_format})" if date_format else column.dtype
        lines.append(f"| `{name}` | {kind} | {nulls} | {allowed} | {column.description} |")
    lines += [
        "",
        "Columns not listed here are ignored with a warning; an optional column may be absent (it is",
        "checked when present). Rows repeated exactly are dropped (the count is logged); rows without a",
        "target value are dropped before training.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is stale")
    args = parser.parse_args(argv)
    return sync_generated_file(
        DICTIONARY_PATH,
        render(),
        check=args.check,
        regenerate=f"python -m {__package__}.data_dictionary",
    )


if __name__ == "__main__":
    raise SystemExit(main())
