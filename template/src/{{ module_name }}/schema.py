"""The data dictionary: every raw column with its type, range, categories and nullability.

This pandera schema is the single definition of what valid raw data looks like. `validate`
checks the raw file against it before any stage with outputs runs. Ranges are wider than the
observed values on purpose: they reject impossible values, not unusual penguins.
"""

from __future__ import annotations

import pandera.pandas as pa

SPECIES = ("Adelie", "Chinstrap", "Gentoo")
ISLANDS = ("Biscoe", "Dream", "Torgersen")
SEXES = ("female", "male")

RAW_SCHEMA = pa.DataFrameSchema(
    {
        "species": pa.Column(str, pa.Check.isin(SPECIES), description="Penguin species (label for classification)"),
        "island": pa.Column(str, pa.Check.isin(ISLANDS), description="Island in the Palmer Archipelago"),
        "bill_length_mm": pa.Column(
            float,
            pa.Check.in_range(25, 70),
            nullable=True,
            coerce=True,
            description="Culmen length in millimetres",
        ),
        "bill_depth_mm": pa.Column(
            float,
            pa.Check.in_range(10, 25),
            nullable=True,
            coerce=True,
            description="Culmen depth in millimetres",
        ),
        "flipper_length_mm": pa.Column(
            float,
            pa.Check.in_range(150, 250),
            nullable=True,
            coerce=True,
            description="Flipper length in millimetres",
        ),
        "body_mass_g": pa.Column(
            float,
            pa.Check.in_range(2000, 7000),
            nullable=True,
            coerce=True,
            description="Body mass in grams (target for regression; rows without it are dropped)",
        ),
        "sex": pa.Column(
            str,
            pa.Check.isin(SEXES),
            nullable=True,
            description="Sex; missing for 11 penguins, kept as its own 'missing' category",
            # Sensitive columns are hashed or dropped in the prediction log (params/monitor/).
            metadata={"sensitive": True},
        ),
        "year": pa.Column(int, pa.Check.in_range(2000, 2100), coerce=True, description="Year of the study"),
    },
    name="penguins_raw",
    # Extra columns are allowed and dropped with a warning: upstream exports often add columns,
    # and the model only ever reads the declared features.
    strict=False,
)

# Columns whose values are categories: prepare stores them with a categorical dtype.
CATEGORICAL_COLUMNS = ("species", "island", "sex")


def allowed_categories(column: str) -> tuple[str, ...] | None:
    """The categories the data dictionary allows for `column`, or None if it is not categorical."""
    for check in RAW_SCHEMA.columns[column].checks:
        if "allowed_values" in check.statistics:
            return tuple(check.statistics["allowed_values"])
    return None


def documented_range(column: str) -> tuple[float, float] | None:
    """The (min, max) the data dictionary allows for `column`, or None if it has no range."""
    for check in RAW_SCHEMA.columns[column].checks:
        if "min_value" in check.statistics and "max_value" in check.statistics:
            return float(check.statistics["min_value"]), float(check.statistics["max_value"])
    return None
