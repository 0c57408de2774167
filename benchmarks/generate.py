"""Scale the penguins data up to N synthetic rows with the same columns, types, categories and null rates.

    python benchmarks/generate.py SEED_CSV ROWS OUT_CSV [--seed 0]

Each row draws a species at penguins' class frequencies, then its numeric measurements from that
species' multivariate normal (mean and covariance of the real data), and its island, sex and year
from that species' observed frequencies, so a model still learns the same problem. Values are
rounded like the real ones and clipped into the data dictionary's ranges; each column then loses
values at its null rate in penguins. Runs with the rendered project's Python (numpy, pandas, pyarrow).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

NUMERIC = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")
DECIMALS = {"bill_length_mm": 1, "bill_depth_mm": 1, "flipper_length_mm": 0, "body_mass_g": 0}
# The data dictionary's ranges (schema.py), so every generated value is valid.
RANGES = {
    "bill_length_mm": (25, 70),
    "bill_depth_mm": (10, 25),
    "flipper_length_mm": (150, 250),
    "body_mass_g": (2000, 7000),
}
CHUNK_ROWS = 1_000_000


def frequencies(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    counts = values.dropna().value_counts(normalize=True).sort_index()
    return counts.index.to_numpy(), counts.to_numpy()


def chunk(seed_frame: pd.DataFrame, rows: int, rng: np.random.Generator) -> pa.Table:
    species_names, species_p = frequencies(seed_frame["species"])
    species = rng.choice(species_names, size=rows, p=species_p)
    columns: dict[str, np.ndarray] = {"species": species}
    numeric = np.empty((rows, len(NUMERIC)))
    island = np.empty(rows, dtype=object)
    sex = np.empty(rows, dtype=object)
    year = np.empty(rows, dtype=np.int64)
    for name in species_names:
        rows_of = species == name
        count = int(rows_of.sum())
        real = seed_frame[seed_frame["species"] == name]
        complete = real[list(NUMERIC)].dropna()
        numeric[rows_of] = rng.multivariate_normal(complete.mean(), complete.cov(), size=count)
        for target, column in ((island, "island"), (sex, "sex"), (year, "year")):
            values, p = frequencies(real[column])
            target[rows_of] = rng.choice(values, size=count, p=p)
    for index, column in enumerate(NUMERIC):
        low, high = RANGES[column]
        columns[column] = np.clip(np.round(numeric[:, index], DECIMALS[column]), low, high)
    columns.update(island=island, sex=sex, year=year)
    order = list(seed_frame.columns)
    arrays = []
    for column in order:
        rate = float(seed_frame[column].isna().mean())
        mask = rng.random(rows) < rate if rate else None
        arrays.append(pa.array(columns[column], mask=mask))
    return pa.Table.from_arrays(arrays, names=order)


def generate(seed_csv: Path, rows: int, out_csv: Path, seed: int = 0) -> None:
    """Write `rows` synthetic rows to `out_csv` in chunks, so 10M rows need little memory."""
    seed_frame = pd.read_csv(seed_csv)
    rng = np.random.default_rng(seed)
    temp = out_csv.with_suffix(".csv.tmp")
    # No quotes, like the real file (no value holds a comma; pyarrow quotes every string by default).
    options = pa_csv.WriteOptions(quoting_style="none", include_header=False)
    temp.write_text(",".join(seed_frame.columns) + "\n", encoding="utf-8")
    with (
        temp.open("ab") as stream,
        pa_csv.CSVWriter(stream, chunk(seed_frame, 1, rng).schema, write_options=options) as writer,
    ):
        for start in range(0, rows, CHUNK_ROWS):
            writer.write_table(chunk(seed_frame, min(CHUNK_ROWS, rows - start), rng))
    temp.replace(out_csv)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seed_csv", type=Path)
    parser.add_argument("rows", type=int)
    parser.add_argument("out_csv", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    generate(args.seed_csv, args.rows, args.out_csv, args.seed)


if __name__ == "__main__":
    main()
