"""Take a new batch of the same data: show the data dictionary changes it needs, apply them on request.

    python -m <package>.data_tools.evolve_schema data/raw/next_batch.csv           # show, change nothing
    python -m <package>.data_tools.evolve_schema data/raw/next_batch.csv --apply   # write them

`validate` refuses a batch with a category, a null or a value the dictionary has not allowed;
that is the point of a dictionary. When the batch is legitimate, this prints what would let it
through as a diff of schema.yaml (new levels with their counts, columns becoming nullable,
widened ranges, new and missing columns) and, with --apply, writes only those keys: your
descriptions, comments and other edits stay as they are. docs/data_dictionary.md is regenerated.
Text in a numeric feature or a missing feature column is not a change to accept: it is refused.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .._internal.errors import PipelineError, run_stage
from ..params import PARAMS_PATH, load_params
from .infer_schema import column_entry, infer_column, number, number_value, widen

PACKAGE = (__package__ or "package").split(".")[0]  # the project's package, not this room
SCHEMA_PATH = Path("src") / PACKAGE / "schema.yaml"
# New or reworded keys go before these, so an entry keeps reading type, checks, then prose.
PROSE_KEYS = ("sensitive", "description", "review")


@dataclass(frozen=True)
class Change:
    """One key of one column's entry, from its old value to the new one, and the evidence."""

    column: str
    key: str
    old: Any
    new: Any
    why: str


@dataclass(frozen=True)
class Proposal:
    changes: list[Change]
    refused: list[str]  # what no schema change should accept (text in a numeric feature, ...)
    new_columns: dict[str, dict[str, Any]]


def yaml_round_trip():
    """ruamel.yaml in round-trip mode: it knows the line of every key, so edits can be in place."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    return yaml


def load_document(path: Path) -> Any:
    try:
        document = yaml_round_trip().load(path.read_text(encoding="utf-8"))
    except Exception as error:  # ruamel raises many types; any of them means the same to the user
        raise PipelineError(f"{path}: not a readable data dictionary ({str(error).splitlines()[0]})") from None
    if not isinstance(document, dict) or not isinstance(document.get("columns"), dict):
        raise PipelineError(f"{path}: needs a `columns:` mapping of column name to its entry")
    return document


def count_list(counts: pd.Series, limit: int = 8) -> str:
    shown = ", ".join(f"{value} ({count} rows)" for value, count in counts.head(limit).items())
    return shown + (f" and {len(counts) - limit} more" if len(counts) > limit else "")


def numeric_changes(name: str, entry: dict, present: pd.Series, is_role: bool) -> tuple[list[Change], list[str]]:
    """Type and range changes of an int or float column; text in a feature is refused."""
    numbers = pd.to_numeric(present, errors="coerce")
    text = present[numbers.isna()]
    if not text.empty:
        examples = ", ".join(map(repr, text.astype(str).unique()[:3]))
        if is_role or "range" in entry:  # a feature, or a column someone gave a range: not text
            return [], [f"column '{name}': {len(text)} values are not numbers (e.g. {examples}); fix the batch"]
        why = f"{len(text)} text values (e.g. {examples}) in a column that is not a feature"
        return [Change(name, "type", entry["type"], "str", why)], []
    changes = []
    whole = bool((numbers == numbers.round()).all())
    if entry["type"] == "int" and not whole:
        changes.append(
            Change(
                name,
                "type",
                "int",
                "float",
                f"values with decimals (e.g. {number(float(numbers[numbers != numbers.round()].iloc[0]))})",
            )
        )
    limits = entry.get("range")
    if limits is not None and not numbers.empty:
        low, high = float(limits[0]), float(limits[1])
        seen_low, seen_high = float(numbers.min()), float(numbers.max())
        if seen_low < low or seen_high > high:
            below, above = int((numbers < low).sum()), int((numbers > high).sum())
            wider = widen(min(low, seen_low), max(high, seen_high), integral=whole and entry["type"] == "int")
            new = [
                number_value(wider[0] if seen_low < low else low),
                number_value(wider[1] if seen_high > high else high),
            ]
            why = f"{below + above} values outside (seen {number(seen_low)} to {number(seen_high)})"
            if max(low - seen_low, seen_high - high) > high - low:  # farther out than the range is wide
                why += "; FAR outside the old range: check these values are real, not errors"
            changes.append(Change(name, "range", [number_value(low), number_value(high)], new, why))
    return changes, []


def column_changes(name: str, entry: dict, values: pd.Series, is_role: bool) -> tuple[list[Change], list[str]]:
    """What one present column needs so that the batch's values pass."""
    from ..schema import ISO_DATE, as_date_text, as_text, parses_as_dates

    changes: list[Change] = []
    nulls = int(values.isna().sum())
    present = values.dropna()
    if nulls and not entry.get("nullable", False):
        share = f"{100 * nulls / len(values):.1f} percent"
        changes.append(Change(name, "nullable", False, True, f"{nulls} missing values ({share})"))
        if entry["type"] == "int":
            changes.append(Change(name, "type", "int", "float", "whole numbers with nulls are read as floats"))
    if entry["type"] in ("int", "float"):
        found, refused = numeric_changes(name, entry, present, is_role)
        changes += [c for c in found if not any(c.key == seen.key for seen in changes)]
        return changes, refused
    if entry["type"] == "date":
        date_format = entry.get("format") or ISO_DATE
        ok = parses_as_dates(as_date_text(present, date_format), date_format)
        if not bool(ok.all()):
            examples = ", ".join(map(repr, present[~ok].astype(str).unique()[:3]))
            return changes, [f"column '{name}': values that are not dates in its format (e.g. {examples})"]
    if "categories" in entry:
        known = {str(value) for value in entry["categories"]}
        labels = as_text(present).astype(str)
        counts = labels[~labels.isin(known)].value_counts()
        if not counts.empty:
            new_levels = [*entry["categories"], *sorted(counts.index)]
            why = f"new levels: {count_list(counts)}"
            changes.append(Change(name, "categories", list(entry["categories"]), new_levels, why))
    return changes, []


def propose(document: Any, batch: pd.DataFrame, roles: tuple[str, ...], source: str) -> Proposal:
    """Every change the dictionary needs to accept `batch`, computed without writing anything."""
    changes: list[Change] = []
    refused: list[str] = []
    columns = document["columns"]
    for key, entry in columns.items():
        name = str(key)
        if name not in batch.columns:
            if name in roles:
                refused.append(f"column '{name}' is missing, and the model uses it; fix the batch")
            elif entry.get("required", True):
                changes.append(Change(name, "required", True, False, "absent from the batch; not a feature"))
            continue
        found, blocked = column_changes(name, to_plain(entry), batch[name], name in roles)
        changes += found
        refused += blocked
    new_columns = {}
    for name in batch.columns:
        if name in columns:
            continue
        guess = infer_column(batch[name])
        entry = column_entry(guess, target="", sensitive=())
        entry["required"] = False
        entry["description"] = f"new in {source}: {guess.summary()} (say what it means)"
        entry["review"] = [
            *entry.get("review", []),
            "added by evolve_schema: not a feature until you list it in params/data/",
        ]
        entry = {key: entry[key] for key in (*[k for k in entry if k not in PROSE_KEYS], *PROSE_KEYS) if key in entry}
        new_columns[name] = entry
    return Proposal(changes, refused, new_columns)


def key_text(key: str, value: Any, indent: int) -> list[str]:
    """`key: value` as YAML lines at `indent` spaces, written the way schema.py reads (PyYAML).

    Lists are flow sequences ([a, b]) as adopt_data writes them; a mapping (a new column) is a
    block of such lines; values like yes or 1.0 are quoted where PyYAML would misread them.
    """
    if isinstance(value, dict):
        inner = [line for k, v in value.items() for line in key_text(str(k), v, indent + 2)]
        return [f"{' ' * indent}{flow_text(key)}:\n", *inner]
    return [f"{' ' * indent}{flow_text(key)}: {flow_text(value)}\n"]


def flow_text(value: Any) -> str:
    """One value as one line of YAML (flow style, never wrapped, no document-end marker)."""
    import yaml

    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=1 << 20)
    return text.removesuffix("\n...\n").strip()


def value_end(lines: list[str], start: int) -> int:
    """The line after the value that starts on line `start`: continuation lines are indented deeper."""
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = start + 1
    while end < len(lines):
        line = lines[end]
        if not line.strip() or line.lstrip().startswith("#") or len(line) - len(line.lstrip()) <= indent:
            break
        end += 1
    return end


def edited_text(old_text: str, document: Any, proposal: Proposal) -> str:
    """schema.yaml with only the changed keys rewritten, in place; every other line byte for byte.

    Line numbers come from ruamel's parse of the unchanged text; edits go bottom-up so the
    numbers of the edits still to do stay right.
    """
    lines = old_text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    columns = document["columns"]
    edits: list[tuple[int, int, list[str]]] = []  # (first line, line after, replacement)
    for change in proposal.changes:
        entry = columns[change.column]
        if change.key in entry:
            line, column = entry.lc.key(change.key)
            edits.append((line, value_end(lines, line), key_text(change.key, change.new, column)))
            continue
        keys = list(entry)
        indent = entry.lc.key(keys[0])[1]
        prose = [k for k in keys if k in PROSE_KEYS]
        at = entry.lc.key(prose[0])[0] if prose else value_end(lines, entry.lc.key(keys[-1])[0])
        edits.append((at, at, key_text(change.key, change.new, indent)))
    if proposal.new_columns:
        names = list(columns)
        indent = columns.lc.key(names[0])[1]
        last = columns[names[-1]]
        at = value_end(lines, last.lc.key(list(last)[-1])[0])
        added = [line for name, entry in proposal.new_columns.items() for line in key_text(name, entry, indent)]
        edits.append((at, at, added))
    for first, after, replacement in sorted(edits, key=lambda edit: (edit[0], edit[1]), reverse=True):
        lines[first:after] = replacement
    return "".join(lines)


def to_plain(value: Any) -> Any:
    """ruamel's commented maps and quoted-string types as plain dicts, lists, str, int and float."""
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    for plain in (bool, int, float, str):
        if isinstance(value, plain):
            return plain(value)
    return value


def evolved_data(old_text: str, proposal: Proposal) -> dict[str, Any]:
    """The data the edited schema.yaml must hold, as schema.py reads it: the old entries, new keys."""
    import yaml

    data = yaml.safe_load(old_text)
    columns = {str(name): entry for name, entry in data["columns"].items()}
    for change in proposal.changes:
        columns[change.column][change.key] = change.new
    columns.update(proposal.new_columns)
    return {**data, "columns": columns}


def check_accepts(schema_text: str, batch: pd.DataFrame, source: str) -> None:
    """The evolved dictionary must accept the batch, or nothing is written."""
    from pandera.errors import SchemaErrors

    from ..validate import describe_failures
    from .adopt_data import check_schema_text

    raw_schema = check_schema_text(schema_text)
    present = [name for name in raw_schema.columns if name in batch.columns]
    try:
        raw_schema.validate(batch[present], lazy=True)
    except SchemaErrors as errors:
        failures = describe_failures(errors.failure_cases)
        raise PipelineError(f"{source}: still refused after the changes: {failures}") from None


def report(proposal: Proposal, old_text: str, new_text: str, source: str) -> None:
    for change in proposal.changes:
        print(f"  {change.column}: {change.key} {change.old} -> {change.new}  ({change.why})")
    for name, entry in proposal.new_columns.items():
        print(f"  {name}: new column, {entry['type']}, optional, not a feature")
    for problem in proposal.refused:
        print(f"  REFUSED {problem}")
    diff = difflib.unified_diff(
        old_text.splitlines(keepends=True),
        new_text.splitlines(keepends=True),
        fromfile=f"{SCHEMA_PATH} (now)",
        tofile=f"{SCHEMA_PATH} (accepting {source})",
    )
    sys.stdout.writelines(diff)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path, help="the new batch (a CSV with the raw file's columns)")
    parser.add_argument("--apply", action="store_true", help="write the changes to schema.yaml")
    args = parser.parse_args(argv)
    import yaml

    from ..validate import read_raw_csv

    batch = read_raw_csv(args.csv)
    data = load_params(PARAMS_PATH).data
    roles = (data.target, *data.features)
    old_text = SCHEMA_PATH.read_text(encoding="utf-8")
    document = load_document(SCHEMA_PATH)
    proposal = propose(document, batch, roles, args.csv.as_posix())
    new_text = edited_text(old_text, document, proposal)
    if yaml.safe_load(new_text) != evolved_data(old_text, proposal):
        raise PipelineError(f"{SCHEMA_PATH}: cannot edit its layout in place; apply the changes above by hand")
    if not proposal.changes and not proposal.new_columns and not proposal.refused:
        print(f"{SCHEMA_PATH} already accepts {args.csv}: nothing to change")
        return
    changed = len(proposal.changes) + len(proposal.new_columns)
    print(f"{args.csv}: {changed} change(s) to the data dictionary, {len(proposal.refused)} refused:")
    report(proposal, old_text, new_text, args.csv.as_posix())
    if proposal.refused:
        if args.apply:
            raise PipelineError(f"{args.csv}: not applied: {'; '.join(proposal.refused)}")
        return
    check_accepts(new_text, batch, str(args.csv))
    if not args.apply:
        print(f"nothing written; to apply: python -m {PACKAGE}.data_tools.evolve_schema {args.csv} --apply")
        return
    from ..data_dictionary import DICTIONARY_PATH, render
    from .adopt_data import check_schema_text, write_all

    dictionary = render(check_schema_text(new_text))
    write_all({SCHEMA_PATH: new_text, DICTIONARY_PATH: dictionary}, [])
    print(f"wrote {SCHEMA_PATH} and {DICTIONARY_PATH}; review the diff, then `dvc repro` and commit")


if __name__ == "__main__":
    run_stage(lambda: main(sys.argv[1:]))
