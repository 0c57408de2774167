"""Guess a data dictionary (schema.yaml) from one CSV sample, for `adopt_data`.

Every answer here is a guess from one sample, so the written schema.yaml says INFERRED at the
top and carries a `review:` note on each guess that is likely to be wrong: a column kept out of
the features, a category list that looks incomplete, whole numbers stored as floats.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
from datetime import date
from typing import Literal

import pandas as pd

from .._internal.errors import PipelineError
from ..params import Task

# A string column with at most this many distinct values (the 50 US states fit), each seen about twice or more, is
# categorical; otherwise it is free text (names, ids, comments), which is not a model feature.
MAX_CATEGORIES = 60
# A whole-number target with at most this many values can be a class label (e.g. 0/1).
MAX_CLASSES = 20
# Ranges are the observed min/max widened by this share of the span on each side, then rounded
# outwards, so the next batch's slightly larger values pass and impossible ones do not.
RANGE_MARGIN = 0.25
BOOLEAN_PAIRS = ({"true", "false"}, {"yes", "no"}, {"y", "n"}, {"t", "f"})
FINGERPRINT_LINE = "# adopt_data fingerprint: {} (editing this file changes it; adopt_data then needs --force)"
FINGERPRINT_PATTERN = re.compile(r"^# adopt_data fingerprint: ([0-9a-f]{12}) .*$", re.MULTILINE)
INFERRED_MARK = "INFERRED - review before trusting"

Kind = Literal["numeric", "categorical", "text", "date"]
# An identifier is told by distinctness (every value different), whatever its numbering; below
# this many rows a distinct whole-number column is as likely a measurement as an id.
MIN_ID_ROWS = 20
# Date formats tried when pandas cannot guess one from the first value (e.g. Mar-2018).
DATE_FORMATS = ("%b-%Y", "%b %Y", "%Y-%m", "%m/%Y", "%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%d-%b-%Y", "%d %b %Y")


@dataclasses.dataclass(frozen=True)
class ColumnGuess:
    """What one raw column looks like in the sample, and what the schema will say about it.

    `excluded` is why the column is not a feature (None for a feature): such a column is kept in
    the dictionary, checked when present, and optional (`required: false`).
    """

    name: str
    kind: Kind
    dtype: Literal["int", "float", "str", "date"]
    nullable: bool
    rows: int
    nulls: int
    distinct: int
    categories: tuple[str, ...] | None = None
    observed: tuple[float, float] | None = None
    limits: tuple[float, float] | None = None
    review: tuple[str, ...] = ()
    excluded: str | None = None
    date_format: str | None = None

    @property
    def is_feature(self) -> bool:
        return self.excluded is None

    def summary(self) -> str:
        """A few words for the description column of the data dictionary."""
        if self.excluded is not None:
            return f"{self.excluded}; not a feature"
        if self.kind == "categorical":
            return f"{len(self.categories or ())} categories seen"
        low, high = self.observed or (math.nan, math.nan)
        return f"{self.dtype}, {number(low)} to {number(high)} seen"


def number(value: float) -> str:
    """A numeric literal as a person would write it: 25, not 25.0; 0.35, not 0.35000000000000003."""
    return repr(number_value(value))


def nice_step(span: float) -> float:
    """The rounding step for a range: half the largest power of ten below the span (27.5 -> 5)."""
    return 10 ** math.floor(math.log10(span)) / 2 if span > 0 else 1.0


def widen(low: float, high: float, integral: bool, margin: float = RANGE_MARGIN) -> tuple[float, float]:
    """Observed (low, high) widened by `margin` of the span and rounded outwards.

    Nonnegative data stays nonnegative (a count or a price below zero is an error, not news);
    whole numbers get whole limits.
    """
    span = high - low
    pad = margin * span if span > 0 else max(abs(high) * margin, 1.0)
    step = nice_step(span if span > 0 else pad)
    if integral:
        step = max(step, 1.0)
    new_low = math.floor((low - pad) / step) * step
    new_high = math.ceil((high + pad) / step) * step
    if low >= 0:
        new_low = max(new_low, 0.0)
    return round(new_low, 10), round(new_high, 10)


def is_boolean(values: pd.Series) -> bool:
    """True/false, yes/no, 0/1 and similar two-valued columns (as read by pandas, or as words)."""
    if pd.api.types.is_bool_dtype(values):
        return True
    if pd.api.types.is_numeric_dtype(values):
        return set(values.unique()) == {0, 1}
    words = {str(value).strip().lower() for value in values.unique()}
    return any(words <= pair for pair in BOOLEAN_PAIRS)


def date_format_of(values: pd.Series) -> str | None:
    """The one format every value is written in, if they are all dates; None otherwise.

    pyarrow reads ISO dates as timestamps already. Text must parse in a single format (guessed
    from the first value, or one of DATE_FORMATS), so codes like 'A1' or '12' are never dates.
    """
    from pandas.tseries.api import guess_datetime_format

    if pd.api.types.is_datetime64_any_dtype(values):
        return "ISO8601"
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return None
    text = values.astype(str)
    if text.str.fullmatch(r"[+-]?\d+(\.\d*)?").any():
        return None  # plain numbers (years, codes) are not dates
    guessed = guess_datetime_format(text.iloc[0])
    sample = text.sample(min(len(text), 1000), random_state=0)
    for candidate in (guessed, *DATE_FORMATS):
        if candidate and pd.to_datetime(sample, format=candidate, errors="coerce").notna().all():
            iso = candidate in ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S")
            return "ISO8601" if iso else candidate
    return None


def infer_column(series: pd.Series, is_target: bool = False) -> ColumnGuess:
    """Type, kind and role (feature, or excluded and why), nullability, range or categories of a column."""
    values = series.dropna()
    rows, nulls = len(series), int(series.isna().sum())
    common = {"name": str(series.name), "nullable": nulls > 0, "rows": rows, "nulls": nulls}
    if values.empty:
        return ColumnGuess(
            **common,
            kind="text",
            dtype="str",
            distinct=0,
            excluded="every value is missing",
            review=("every value is missing: not a feature, optional; drop the column or find its data",),
        )
    distinct = int(values.nunique())
    dtype = "str" if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values) else None
    if distinct == 1 and not is_target:
        shown = str(values.iloc[0])
        return ColumnGuess(
            **common,
            kind="text",
            dtype=dtype or ("int" if pd.api.types.is_integer_dtype(values) else "float"),
            distinct=1,
            excluded=f"one value ({shown[:40]}) in every row",
            review=(
                f"one value ({shown[:40]}) in every row: nothing to learn, not a feature, optional; "
                "if it varies in later data, give it a range or categories and add it to the features",
            ),
        )
    if is_boolean(values):
        labels = as_labels(values)
        categories = tuple(sorted(labels.unique()))
        return ColumnGuess(
            **common,
            kind="categorical",
            dtype="str",
            distinct=distinct,
            categories=categories,
            review=(f"a yes/no column, kept as the categories {', '.join(categories)}",),
        )
    if pd.api.types.is_numeric_dtype(values):
        return infer_numeric(values, common, distinct, is_target)
    date_format = date_format_of(values)
    if date_format is not None and not is_target:
        return ColumnGuess(
            **common,
            kind="date",
            dtype="date",
            distinct=distinct,
            date_format=date_format,
            excluded=f"dates ({date_format})",
            review=(
                f"dates written as {date_format}: checked as dates, not a feature, optional; to learn from "
                "them, derive numbers (year, month, age) in the CSV's export and list those as features",
            ),
        )
    if distinct <= MAX_CATEGORIES and (distinct <= max(2, len(values) // 2) or is_target):
        categories = tuple(sorted(values.astype(str).unique()))
        counts = values.astype(str).value_counts()
        rare = sorted(counts[counts == 1].index)
        review = ()
        if rare:
            shown = ", ".join(rare[:3]) + (" ..." if len(rare) > 3 else "")
            review = (f"{len(rare)} categories seen once ({shown}): the list is likely incomplete",)
        return ColumnGuess(
            **common, kind="categorical", dtype="str", distinct=distinct, categories=categories, review=review
        )
    if distinct == len(values):
        what = f"an identifier: all {distinct} values distinct"
        note = f"{what}, not a feature, optional"
    else:
        what = f"free text: {distinct} distinct values in {len(values)} rows"
        note = (
            f"{what}, not a feature, optional; if its values are a fixed set, "
            "give it `categories:` and add it to categorical_features"
        )
    return ColumnGuess(**common, kind="text", dtype="str", distinct=distinct, excluded=what, review=(note,))


def as_labels(values: pd.Series) -> pd.Series:
    """Values as the data dictionary writes them: 1 not 1.0, True not true (see schema.as_text)."""
    from ..schema import as_text

    return as_text(values).astype(str)


def infer_numeric(values: pd.Series, common: dict, distinct: int, is_target: bool = False) -> ColumnGuess:
    low, high = float(values.min()), float(values.max())
    integral = bool((values == values.round()).all())
    if integral and not is_target and distinct == len(values) >= MIN_ID_ROWS:
        return ColumnGuess(
            **common,
            kind="text",
            dtype="int" if not common["nullable"] and pd.api.types.is_integer_dtype(values) else "float",
            distinct=distinct,
            observed=(low, high),
            excluded=f"an identifier: all {distinct} whole numbers distinct",
            review=(f"every value distinct ({number(low)} to {number(high)}): an identifier, not a feature, optional",),
        )
    review: tuple[str, ...] = ()
    dtype: Literal["int", "float"] = "float"
    if integral and not common["nullable"] and pd.api.types.is_integer_dtype(values):
        dtype = "int"
    elif integral and common["nullable"]:
        review = ("whole numbers with missing values: stored as float, so nulls stay nulls",)
    elif integral:
        review = ("whole numbers written with decimals (e.g. 3.0): stored as float",)
    return ColumnGuess(
        **common,
        kind="numeric",
        dtype=dtype,
        distinct=distinct,
        observed=(low, high),
        limits=widen(low, high, integral),
        review=review,
    )


def as_target(guess: ColumnGuess, series: pd.Series, task: Task) -> ColumnGuess:
    """Check that the target fits the project's task; a whole-number class code becomes a label."""
    name = guess.name
    if task == "classification":
        if guess.kind == "numeric" and guess.dtype == "int" and guess.distinct <= MAX_CLASSES:
            labels = tuple(str(v) for v in sorted(series.dropna().unique()))
            guess = dataclasses.replace(
                guess,
                kind="categorical",
                dtype="str",
                categories=labels,
                observed=None,
                limits=None,
                review=(f"whole-number class codes, read as the labels {', '.join(labels)}",),
            )
        if guess.kind != "categorical":
            raise PipelineError(
                f"target '{name}' has {guess.distinct} distinct {guess.dtype} values, not class labels; "
                "this project predicts a class (task: classification): pick a categorical target"
            )
        if len(guess.categories or ()) < 2:
            raise PipelineError(f"target '{name}' has one class; classification needs at least two")
    elif guess.kind != "numeric":
        raise PipelineError(
            f"target '{name}' is not numeric ({guess.summary()}); this project predicts a number "
            "(task: regression): pick a numeric target"
        )
    if guess.nulls:
        note = f"target: the {guess.nulls} rows without a value are dropped before training"
        guess = dataclasses.replace(guess, review=(*guess.review, note))
    return guess


def infer_columns(frame: pd.DataFrame, target: str, task: Task) -> list[ColumnGuess]:
    """A guess per column of `frame`; the target must be there and fit the task."""
    if target not in frame.columns:
        raise PipelineError(f"target column '{target}' not in the CSV; its columns are {', '.join(frame.columns)}")
    if frame.columns.duplicated().any():
        raise PipelineError("the CSV repeats a column name; give every column a unique header")
    guesses = []
    for name in frame.columns:
        guess = infer_column(frame[name], is_target=name == target)
        guesses.append(as_target(guess, frame[name], task) if name == target else guess)
    return guesses


SCHEMA_HEADER = """\
# The data dictionary of {raw_path}: every raw column, its type, range, categories and nulls.
# {mark}: `python -m {package}.data_tools.adopt_data` guessed it on {today} from
# {rows} rows. One sample is not a specification: ranges are the observed min/max widened by
# {margin} of the span, categories are the values seen, a column may be null only if it was.
# `review:` lists the guesses most likely to be wrong. Check them, write real descriptions, set
# `sensitive: true` on personal data, then delete `review:` and this paragraph. adopt_data
# replaces this file while it is unedited (the fingerprint below matches), never after an edit.
{fingerprint}
"""


def column_entry(guess: ColumnGuess, target: str, sensitive: tuple[str, ...]) -> dict[str, object]:
    """The data dictionary entry of one column (schema.py reads these keys)."""
    entry: dict[str, object] = {"type": guess.dtype}
    if guess.date_format is not None and guess.date_format != "ISO8601":
        entry["format"] = guess.date_format
    if guess.categories is not None:
        entry["categories"] = list(guess.categories)
    if guess.limits is not None:
        entry["range"] = [number_value(guess.limits[0]), number_value(guess.limits[1])]
    if guess.nullable:
        entry["nullable"] = True
    if not guess.is_feature and guess.name != target:
        entry["required"] = False
    if guess.name in sensitive:
        entry["sensitive"] = True
    role = "target; " if guess.name == target else ""
    entry["description"] = f"{role}{guess.summary()} (inferred: say what it means)"
    if guess.review:
        entry["review"] = list(guess.review)
    return entry


def number_value(value: float) -> int | float:
    """25, not 25.0: whole limits are written as integers."""
    value = round(float(value), 10)
    return int(value) if value.is_integer() else value


def render_schema(
    guesses: list[ColumnGuess],
    raw_path: str,
    schema_name: str,
    package: str,
    target: str,
    sensitive: tuple[str, ...] = (),
) -> str:
    """The text of schema.yaml: data (yaml.safe_dump escapes every value), marked INFERRED."""
    import yaml

    dictionary = {
        "name": schema_name,
        "columns": {guess.name: column_entry(guess, target, sensitive) for guess in guesses},
    }
    header = SCHEMA_HEADER.format(
        raw_path=" ".join(raw_path.split()),  # one comment line, whatever the path holds
        mark=INFERRED_MARK,
        package=package,
        today=date.today().isoformat(),
        rows=guesses[0].rows if guesses else 0,
        margin=f"{RANGE_MARGIN * 100:g}%",
        fingerprint=FINGERPRINT_LINE.format("0" * 12),
    )
    body = yaml.safe_dump(dictionary, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None)
    draft = header + body
    return draft.replace(FINGERPRINT_LINE.format("0" * 12), FINGERPRINT_LINE.format(fingerprint_of(draft)))


def fingerprint_of(text: str) -> str:
    """md5 of the schema text with the fingerprint itself blanked out."""
    blank = FINGERPRINT_PATTERN.sub(FINGERPRINT_LINE.format("0" * 12), text)
    return hashlib.md5(blank.encode("utf-8"), usedforsecurity=False).hexdigest()[:12]


def is_unedited_inference(text: str) -> bool:
    """True when `text` is an inferred schema nobody has changed since adopt_data wrote it."""
    found = FINGERPRINT_PATTERN.search(text)
    return bool(found) and found.group(1) == fingerprint_of(text)
