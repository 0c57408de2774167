"""Two-sample shift tests between datasets: train vs test (skew), base vs head data (PR check).

Numeric columns get a two-sample Kolmogorov-Smirnov test, categorical ones a chi-squared test
of the category counts (missing values count as a category). With many columns some p-values
are small by chance, so p-values are adjusted (Benjamini-Hochberg) before a column is called
shifted. The drift monitor (monitoring/drift.py) builds its sliding windows on these.

Real columns are not textbook ones: KS is computed on the values as numbers (ties in counts and
years are fine: the statistic is exact, the p-value only conservative), and categories too rare
to expect a handful of rows in the smaller sample are pooled, so chance counts of rare levels
neither make the chi-squared p-value too small nor inflate the PSI.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..schema import RAW_SCHEMA, documented_range

# False-discovery rate at which a column counts as shifted between two datasets.
SHIFT_ALPHA = 0.05
# A category expected fewer times than this in the smaller sample is pooled with the other rare
# ones (the usual validity rule of the chi-squared test).
MIN_EXPECTED_COUNT = 5
MISSING, RARE = "<missing>", "<rare levels>"
EXACT_KS_PAIRS = 1_000_000


@dataclass(frozen=True)
class ColumnShift:
    column: str
    test: str
    statistic: float
    p_value: float
    p_adjusted: float
    shifted: bool


def label_counts(values: pd.Series) -> pd.Series:
    """Rows per value as text, missing as its own label: 0 read from a CSV and "0" from a model are one label."""
    counts = values.value_counts(dropna=False)
    labels = [MISSING if pd.isna(value) else str(value) for value in counts.index]
    return pd.Series(counts.to_numpy(), index=labels).groupby(level=0).sum()


def category_counts(reference: pd.Series, current: pd.Series) -> pd.DataFrame:
    """A 2 x k table of category counts, missing values as their own category, rare ones pooled.

    A level is rare when its pooled share would give it fewer than MIN_EXPECTED_COUNT rows in the
    smaller sample; rare levels count together, so a rare level that becomes common still shows.
    """
    table = pd.DataFrame({"reference": label_counts(reference), "current": label_counts(current)}).fillna(0)
    counts = table.to_numpy(dtype=float).T
    levels = table.index.to_numpy()
    seen = counts.sum(axis=0) > 0
    counts, levels = counts[:, seen], levels[seen]
    totals = counts.sum(axis=1)
    rare = counts.sum(axis=0) / totals.sum() * totals.min() < MIN_EXPECTED_COUNT
    if rare.any():
        counts = np.column_stack([counts[:, ~rare], counts[:, rare].sum(axis=1)])
        levels = [*levels[~rare], RARE]
    return pd.DataFrame(counts, index=["reference", "current"], columns=list(levels))


def distribution_shift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    numeric: list[str] | tuple[str, ...],
    categorical: list[str] | tuple[str, ...],
    alpha: float = SHIFT_ALPHA,
) -> list[ColumnShift]:
    """Test every column for a shift; `shifted` uses BH-adjusted p-values at level `alpha`."""
    from scipy import stats

    raw = [
        (column, *column_test(reference[column], current[column], numeric=column in numeric)[:3])
        for column in [*numeric, *categorical]
    ]
    if not raw:
        return []
    adjusted = stats.false_discovery_control([p for *_, p in raw], method="bh")
    return [
        ColumnShift(column, test, statistic, p_value, float(p_adj), bool(p_adj < alpha))
        for (column, test, statistic, p_value), p_adj in zip(raw, adjusted, strict=True)
    ]


def population_stability_index(reference: pd.Series, current: pd.Series) -> float:
    """PSI over categories (missing is a category); 0.1 is a common "look at it", 0.25 "shifted"."""
    return table_psi(category_counts(reference, current))


def table_psi(table: pd.DataFrame) -> float:
    """PSI of a category_counts table; +0.5 per cell: no log(0) for a category one side lacks."""
    smoothed = table.to_numpy(dtype=float) + 0.5
    expected, actual = smoothed / smoothed.sum(axis=1, keepdims=True)
    return float(((actual - expected) * np.log(actual / expected)).sum())


def column_test(reference: pd.Series, current: pd.Series, numeric: bool) -> tuple[str, float, float, float]:
    """(test name, statistic, p-value, effect size) for one column: KS, or chi-squared with PSI."""
    from scipy import stats

    if numeric:
        reference_values, current_values = numbers(reference), numbers(current)
        if reference_values.size == 0 or current_values.size == 0:
            if reference_values.size == current_values.size:  # missing on both sides: nothing differs
                return "ks", 0.0, 1.0, 0.0
            # Values on one side only: the whole distribution moved to (or from) missing; the
            # chi-squared test of missing against present says how surely.
            _, _, p_value, _ = column_test(reference.isna(), current.isna(), numeric=False)
            return "ks", 1.0, p_value, 1.0
        # The exact p-value costs n*m and, with ties, can fail and warn; past a million pairs the
        # asymptotic one is as good.
        large = reference_values.size * current_values.size > EXACT_KS_PAIRS
        result = stats.ks_2samp(reference_values, current_values, method="asymp" if large else "auto")
        return "ks", float(result.statistic), float(result.pvalue), float(result.statistic)
    table = category_counts(reference, current)
    if table.shape[1] < 2:  # one category on both sides: nothing can differ
        return "chi2", 0.0, 1.0, 0.0
    result = stats.chi2_contingency(table.to_numpy(dtype=float))
    return "chi2", float(result.statistic), float(result.pvalue), table_psi(table)


def numbers(values: pd.Series) -> np.ndarray:
    """The non-missing values as floats: nullable integers, JSON numbers and numeric text alike."""
    return pd.to_numeric(values, errors="coerce").astype(float).dropna().to_numpy()


def shifted_columns(shifts: list[ColumnShift]) -> list[str]:
    return [shift.column for shift in shifts if shift.shifted]


def range_violations(frame: pd.DataFrame) -> dict[str, int]:
    """Per numeric column, how many values fall outside the data dictionary's documented range."""
    counts = {}
    for column in RAW_SCHEMA.columns:
        limits = documented_range(column)
        if limits is None or column not in frame.columns:
            continue
        values = pd.to_numeric(frame[column], errors="coerce")
        outside = int(((values < limits[0]) | (values > limits[1])).sum())
        if outside:
            counts[column] = outside
    return counts
