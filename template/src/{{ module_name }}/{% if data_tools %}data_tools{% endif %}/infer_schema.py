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

# A string column with at most this many distinct values, each seen about twice or more, is
# categorical; otherwise it is free text (names, ids, comments), which is not a model feature.
MAX_CATEGORIES = 30
# A whole-number target with at most this many values can be a class label (e.g. 0/1).
MAX_CLASSES = 20
# Ranges are the observed min/max widened by this share of the span on each side, then rounded
# outwards, so the next batch's slightly larger values pass and impossible ones do not.
RANGE_MARGIN = 0.25
BOOLEAN_PAIRS = ({"true", "false"}, {"yes", "no"}, {"y", "n"}, {"t", "f"})
FINGERPRINT_LINE = "# adopt_data fingerprint: {} (editing this file changes it; adopt_data then needs --force)"
FINGERPRINT_PATTERN = re.compile(r"^# adopt_data fingerprint: ([0-9a-f]{12}) .*$", re.MULTILINE)
INFERRED_MARK = "INFERRED - review before trusting"

Kind = Literal["numeric", "categorical", "text"]


@dataclasses.dataclass(frozen=True)
class ColumnGuess:
    """What one raw column looks like in the sample, and what the schema will say about it."""

    name: str
    kind: Kind
    dtype: Literal["int", "float", "str"]
    nullable: bool
    rows: int
    nulls: int
    distinct: int
    categories: tuple[str, ...] | None = None
    observed: tuple[float, float] | None = None
    limits: tuple[float, float] | None = None
    review: tuple[str, ...] = ()

    @property
    def is_feature(self) -> bool:
        return self.kind != "text"

    def summary(self) -> str:
        """A few words for the description column of the data dictionary."""
        if self.kind == "categorical":
            return f"{len(self.categories or ())} categories seen"
        if self.kind == "numeric" and self.observed:
            low, high = self.observed
            return f"{self.dtype}, {number(low)} to {number(high)} seen"
        what = "text" if self.dtype == "str" else "identifier"
        return f"{what}, {self.distinct} distinct values; not a feature"


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
    """True/false, yes/no and similar two-valued columns (as read by pandas, or as words)."""
    if pd.api.types.is_bool_dtype(values):
        return True
    words = {str(value).strip().lower() for value in values.unique()}
    return any(words <= pair for pair in BOOLEAN_PAIRS)


def looks_like_dates(values: pd.Series) -> bool:
    try:
        pd.to_datetime(values.astype(str), format="ISO8601")
    except (ValueError, TypeError):
        return False
    return True


def infer_column(series: pd.Series) -> ColumnGuess:
    """Type, kind (numeric, categorical or free text), nullability, range or categories of a column."""
    values = series.dropna()
    rows, nulls = len(series), int(series.isna().sum())
    common = {"name": str(series.name), "nullable": nulls > 0, "rows": rows, "nulls": nulls}
    if values.empty:
        return ColumnGuess(
            **common,
            kind="text",
            dtype="str",
            distinct=0,
            review=("every value is missing: not a feature; drop the column or find its data",),
        )
    distinct = int(values.nunique())
    if is_boolean(values):
        categories = tuple(sorted(str(value) for value in values.unique()))
        return ColumnGuess(
            **common,
            kind="categorical",
            dtype="str",
            distinct=distinct,
            categories=categories,
            review=(f"a yes/no column, kept as the categories {', '.join(categories)}",),
        )
    if pd.api.types.is_numeric_dtype(values):
        return infer_numeric(values, common, distinct)
    if distinct <= MAX_CATEGORIES and distinct <= max(2, len(values) // 2):
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
    what = "dates" if looks_like_dates(values) else "free text or an identifier"
    return ColumnGuess(
        **common,
        kind="text",
        dtype="str",
        distinct=distinct,
        review=(
            f"{distinct} distinct values in {len(values)} rows: {what}, not a feature; "
            "if its values are a fixed set, give it `categories:` and add it to categorical_features",
        ),
    )


def infer_numeric(values: pd.Series, common: dict, distinct: int) -> ColumnGuess:
    low, high = float(values.min()), float(values.max())
    integral = bool((values == values.round()).all())
    if integral and distinct == len(values) > 2 and high - low == len(values) - 1:
        return ColumnGuess(
            **common,
            kind="text",
            dtype="int" if not common["nullable"] else "float",
            distinct=distinct,
            observed=(low, high),
            review=("numbered 1, 2, 3, ... without gaps: a row identifier, not a feature",),
        )
    review: tuple[str, ...] = ()
    dtype: Literal["int", "float"] = "float"
    if integral and not common["nullable"] and pd.api.types.is_integer_dtype(values):
        dtype = "int"
    elif integral:
        review = ("whole numbers with missing values: stored as float, so nulls stay nulls",)
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
        guess = infer_column(frame[name])
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
    if guess.categories is not None:
        entry["categories"] = list(guess.categories)
    if guess.limits is not None:
        entry["range"] = [number_value(guess.limits[0]), number_value(guess.limits[1])]
    if guess.nullable:
        entry["nullable"] = True
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
