"""Bring your own data: point the whole pipeline at your CSV and a target column.

    python -m <package>.data_tools.adopt_data data/raw/churn.csv --target churned [--name churn]

Infers a draft data dictionary (schema.yaml, marked INFERRED, with `review:` notes on the
shakiest guesses), regenerates docs/data_dictionary.md, writes params/data/<name>.yaml (target,
features, raw path) and params/evaluate/<name>.yaml (a neutral quality bar: a dummy model's
score), switches params/config.yaml to them and recomposes params.yaml. dvc.yaml reads the raw
path from params, so `dvc repro` then runs on the new data. Penguin-only tests and fixtures are
removed (they test facts about the penguins). All files are written at the end, or none.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from .._internal.errors import PipelineError, run_stage
from .._internal.files import atomic_path
from ..params import PARAMS_PATH, Task, load_params
from .infer_schema import ColumnGuess, infer_columns, is_unedited_inference, render_schema

PACKAGE = (__package__ or "package").split(".")[0]  # the project's package, not this room
SCHEMA_PATH = Path("src") / PACKAGE / "schema.yaml"
CONFIG_DIR = Path("params")
PENGUINS_SCHEMA_NAME = "\nname: penguins_raw\n"
# Tests of facts about the penguins data (row counts, textbook birds): meaningless on other data.
PENGUIN_ONLY_TESTS = (
    Path("tests/data/test_penguins.py"),
    Path("tests/data/test_edge_cases.py"),
    Path("tests/data/edge_cases.csv"),
)


def data_name(raw_path: Path, name: str | None) -> str:
    """The config option name: --name, or the file's stem as a lowercase identifier."""
    chosen = name or re.sub(r"[^a-z0-9_]+", "_", raw_path.stem.lower()).strip("_")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", chosen or ""):
        raise PipelineError(f"--name '{chosen}' must be lowercase letters, digits and _ (e.g. churn)")
    if chosen == "ci":
        raise PipelineError("--name 'ci' is taken by params/data/ci.yaml (the CI subset); choose another name")
    return chosen


def project_relative(csv_path: Path) -> Path:
    """The CSV's path inside the project: DVC tracks dependencies inside the repository only."""
    root = Path.cwd().resolve()
    resolved = csv_path.resolve()
    if not resolved.is_relative_to(root):
        raise PipelineError(f"{csv_path}: outside the project; copy it to data/raw/ first and pass that path")
    if not resolved.is_file():
        raise PipelineError(f"{csv_path}: file not found")
    return resolved.relative_to(root)


def read_csv(path: Path) -> pd.DataFrame:
    """The CSV as pandas reads it in `validate`; unreadable files become one-line errors."""
    from ..validate import read_raw_csv

    return read_raw_csv(path)


@dataclass(frozen=True)
class PlaceholderBar:
    """A quality bar at the score of a model that learned nothing (`how` says which)."""

    metric: str
    threshold: float
    tolerance: float
    how: str


@dataclass(frozen=True)
class Adoption:
    """Everything adopt_data writes and removes, computed before anything is written."""

    option: str
    guesses: list[ColumnGuess]
    files: dict[Path, str]
    remove: list[Path]
    bar: PlaceholderBar


def dummy_bar(frame: pd.DataFrame, target: str, task: Task) -> PlaceholderBar:
    """The score of a model that learned nothing: log loss of the class frequencies, or the spread.

    A neutral bar: it only fails a model no better than predicting the class frequencies (or
    the mean). The user must replace it with what would be good enough to use.
    """
    import numpy as np

    values = frame[target].dropna()
    if task == "classification":
        shares = values.astype(str).value_counts(normalize=True).to_numpy()
        log_loss = float(-(shares * np.log(shares)).sum())
        return PlaceholderBar("log_loss", round(log_loss, 4), 0.02, "predicting the class frequencies")
    spread = float(values.std(ddof=0))  # the RMSE of predicting the mean
    return PlaceholderBar("rmse", float(f"{spread:.4g}"), float(f"{0.02 * spread:.2g}"), "predicting the mean")


def data_yaml(name: str, raw_path: Path, target: str, guesses: list[ColumnGuess]) -> str:
    numeric = [g.name for g in guesses if g.kind == "numeric" and g.name != target]
    categorical = [g.name for g in guesses if g.kind == "categorical" and g.name != target]
    ignored = [g.name for g in guesses if not g.is_feature and g.name != target]
    lines = [
        f"# {name}: written by `python -m {PACKAGE}.data_tools.adopt_data`. Columns, types, ranges and categories live",
        f"# in the data dictionary (src/{PACKAGE}/schema.yaml); this file says which columns play which role.",
        f"# Not features (identifiers, free text, dates, constant or empty; see `review:` in the schema): "
        f"{', '.join(ignored) or 'none'}.",
        f"raw_path: {raw_path.as_posix()}",
        f"target: {target}",
        f"numeric_features: [{', '.join(numeric)}]",
        f"categorical_features: [{', '.join(categorical)}]",
        "# Train on a random fraction of the training split (1.0 = all). CI uses data=ci to stay fast.",
        "subset:",
        "  fraction: 1.0",
        "  seed: 42",
        "",
    ]
    return "\n".join(lines)


def evaluate_yaml(name: str, raw_path: Path, bar: PlaceholderBar) -> str:
    return "\n".join(
        [
            f"# PLACEHOLDER quality bar for {name}, set by adopt_data: {bar.how} on {raw_path.as_posix()}",
            f"# scores {bar.metric} = {bar.threshold}, so this bar only fails a model that learned nothing.",
            "# Set a real one: the score that would be good enough to use, and a tolerance you care about.",
            f"primary_metric: {bar.metric}",
            "direction: lower",
            f"threshold: {bar.threshold}",
            f"tolerance: {bar.tolerance}",
            "# Permutation importance: test rows sampled, and shuffles per feature.",
            "importance_rows: 1000",
            "importance_repeats: 5",
            "",
        ]
    )


def switch_default(text: str, group: str, option: str, source: str) -> str:
    """Point `- <group>: <old>` in a Hydra defaults list at `option`, keeping comments."""
    pattern = re.compile(rf"^(\s*-\s*{group}\s*:\s*)[\w.-]+\s*$", re.MULTILINE)
    if not pattern.search(text):
        raise PipelineError(f"{source}: no `- {group}: <option>` in its defaults list; add one and rerun")
    return pattern.sub(lambda found: found.group(1) + option, text, count=1)


def switch_ci_parent(text: str, option: str) -> str:
    """params/data/ci.yaml extends one data option (`- penguins`): make it extend `option`."""
    pattern = re.compile(r"^(\s*-\s*)(?!_self_\b)[\w.-]+\s*$", re.MULTILINE)
    return pattern.sub(lambda found: found.group(1) + option, text, count=1)


def check_schema_text(text: str) -> pa.DataFrameSchema:
    """Load a schema.yaml text as schema.py will: proves it is a valid data dictionary."""
    from ..schema import load_schema

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "schema.yaml"
        path.write_text(text, encoding="utf-8")
        return load_schema(path)


def compose_with(files: dict[Path, str]) -> str:
    """params.yaml as it will be once `files` are written: compose a scratch copy of params/."""
    import shutil

    from ..compose_params import compose

    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder) / "params"
        shutil.copytree(CONFIG_DIR, scratch)
        for path, text in files.items():
            if path.is_relative_to(CONFIG_DIR):
                target = scratch / path.relative_to(CONFIG_DIR)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
        return compose(config_dir=scratch)


def write_all(files: dict[Path, str], remove: list[Path]) -> None:
    """Stage every file beside its target first, then move them all into place, then remove."""
    from contextlib import ExitStack

    with ExitStack() as stack:
        for path, text in files.items():
            temp_path = stack.enter_context(atomic_path(path))
            temp_path.write_text(text, encoding="utf-8")
    for path in remove:
        path.unlink(missing_ok=True)


def check_can_replace(schema_text: str, force: bool) -> None:
    if force or PENGUINS_SCHEMA_NAME in schema_text or is_unedited_inference(schema_text):
        return
    raise PipelineError(
        f"src/{PACKAGE}/schema.yaml has been edited since it was written (it is neither the penguins schema "
        f"nor an unedited inferred one); for a new batch of the same data run `python -m {PACKAGE}.data_tools."
        "evolve_schema <csv>` instead; to start over on other data, commit it, then pass --force"
    )


def adopt(csv_path: Path, target: str, name: str | None, force: bool, sensitive: tuple[str, ...]) -> Adoption:
    """Everything adopt_data will write, computed without writing anything."""
    raw_path = project_relative(csv_path)
    option = data_name(raw_path, name)
    task = load_params(PARAMS_PATH).task
    check_can_replace(SCHEMA_PATH.read_text(encoding="utf-8"), force)
    frame = read_csv(raw_path)
    unknown = [column for column in sensitive if column not in frame.columns]
    if unknown:
        raise PipelineError(f"--sensitive: {', '.join(map(repr, unknown))} not in {raw_path}")
    guesses = infer_columns(frame, target, task)
    if not any(g.is_feature for g in guesses if g.name != target):
        raise PipelineError(
            f"{raw_path}: no column besides '{target}' can be a feature "
            "(all identifiers, free text, dates, constant or empty)"
        )
    schema_text = render_schema(guesses, raw_path.as_posix(), f"{option}_raw", PACKAGE, target, sensitive)
    from ..data_dictionary import DICTIONARY_PATH, render

    dictionary = render(check_schema_text(schema_text))
    bar = dummy_bar(frame, target, task)
    config_path, ci_path = CONFIG_DIR / "config.yaml", CONFIG_DIR / "data" / "ci.yaml"
    config = config_path.read_text(encoding="utf-8")
    config = switch_default(config, "data", option, str(config_path))
    config = switch_default(config, "evaluate", option, str(config_path))
    files = {
        CONFIG_DIR / "data" / f"{option}.yaml": data_yaml(option, raw_path, target, guesses),
        CONFIG_DIR / "evaluate" / f"{option}.yaml": evaluate_yaml(option, raw_path, bar),
        config_path: config,
    }
    if ci_path.exists():
        files[ci_path] = switch_ci_parent(ci_path.read_text(encoding="utf-8"), option)
    files[PARAMS_PATH] = compose_with(files)
    files[SCHEMA_PATH] = schema_text
    files[DICTIONARY_PATH] = dictionary
    remove = [path for path in PENGUIN_ONLY_TESTS if path.exists()]
    return Adoption(option, guesses, files, remove, bar)


def report(adoption: Adoption, target: str) -> None:
    """What was inferred and written, and what the user must do next."""
    reviews = sum(len(g.review) for g in adoption.guesses)
    print(f"inferred {len(adoption.guesses)} columns ({reviews} `review:` notes):")
    for guess in adoption.guesses:
        role = "target" if guess.name == target else ("feature" if guess.is_feature else "NOT a feature")
        nulls = f", {guess.nulls} nulls" if guess.nulls else ""
        print(f"  {guess.name}: {guess.kind} {guess.dtype}, {role}{nulls}")
    excluded = [g for g in adoption.guesses if not g.is_feature and g.name != target]
    if excluded:
        print(f"kept out of the features ({len(excluded)}; optional in the data, checked when present):")
    for guess in excluded:
        print(f"  {guess.name}: {guess.excluded}")
    for path in adoption.files:
        print(f"wrote {path}")
    for path in adoption.remove:
        print(f"removed {path} (a penguins-only test)")
    bar = adoption.bar
    print(
        f"quality bar: PLACEHOLDER {bar.metric} <= {bar.threshold}, the score of {bar.how}; "
        f"set a real one in params/evaluate/{adoption.option}.yaml"
    )
    print(
        f"next: review src/{PACKAGE}/schema.yaml (INFERRED), rerun `python -m {PACKAGE}.data_dictionary` "
        "after edits, then `uv run dvc repro` and commit"
    )
    if Path("data/raw/penguins.csv.dvc").exists():
        print("raw data is tracked by DVC here: `uv run dvc add <your csv>`, commit the .dvc file, `uv run dvc push`")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path, help="the raw CSV, inside the project (e.g. data/raw/churn.csv)")
    parser.add_argument("--target", required=True, help="the column to predict")
    parser.add_argument("--name", help="config option name (default: the CSV's file name)")
    parser.add_argument("--sensitive", default="", help="comma-separated personal-data columns (schema metadata)")
    parser.add_argument("--force", action="store_true", help="replace a schema.yaml you have edited")
    args = parser.parse_args(argv)
    sensitive = tuple(column.strip() for column in args.sensitive.split(",") if column.strip())
    adoption = adopt(args.csv, args.target, args.name, args.force, sensitive)
    write_all(adoption.files, adoption.remove)
    report(adoption, args.target)


if __name__ == "__main__":
    run_stage(lambda: main(sys.argv[1:]))
