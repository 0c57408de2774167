"""The yardstick: the pipeline's work done by hand, in one process, without DVC or Hydra.

    python benchmarks/bare.py PROJECT_DIR METRICS_JSON

Read the raw CSV, validate it with the project's own schema, clean, split, fit the same sklearn
pipeline with the same params, score the test split, write the metrics. Runs with the rendered
project's Python; prints seconds per step to stderr (where the time goes).
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

STEPS: dict[str, float] = {}


def timed(step: str, started: list[float]) -> None:
    now = time.perf_counter()
    STEPS[step] = round(now - started[0], 3)
    started[0] = now


def main() -> None:
    project, metrics_path = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    package = next((project / "src").iterdir()).name
    sys.path.insert(0, str(project / "src"))
    # The project's data dictionary (schema.yaml, read by schema.py): the same checks as validate.
    schema = importlib.import_module(f"{package}.schema")
    categorical_columns, raw_schema = schema.CATEGORICAL_COLUMNS, schema.RAW_SCHEMA
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, log_loss
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    started = [time.perf_counter()]
    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    data, model_params = params["data"], dict(params["model"])
    assert model_params.pop("name") == "hist_gradient_boosting" and params["task"] == "classification"
    del model_params["_target_"], model_params["trusted_types"]  # which class, and what skops may load
    target, numeric, categorical = data["target"], data["numeric_features"], data["categorical_features"]

    frame = pd.read_csv(project / data["raw_path"], engine="pyarrow")
    timed("read", started)
    frame = raw_schema.validate(frame[list(raw_schema.columns)], lazy=True)
    timed("validate", started)
    frame = (
        frame.drop_duplicates().dropna(subset=[target]).astype(dict.fromkeys(categorical_columns, "category"))
    )
    train, test = train_test_split(
        frame,
        test_size=params["split"]["test_size"],
        random_state=params["split"]["seed"],
        stratify=frame[target],
    )
    # In row order, as the pipeline's prepare stage writes them: the same rows in the same order.
    train, test = train.sort_index(), test.sort_index()
    timed("clean+split", started)
    preprocess = ColumnTransformer(
        [
            ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            (
                "categorical",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="missing"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                categorical,
            ),
        ]
    )
    model = Pipeline([("preprocess", preprocess), ("model", HistGradientBoostingClassifier(**model_params))])
    model.fit(train[numeric + categorical], train[target])
    timed("fit", started)
    # As a careful hand-written script would: one model pass, labels compared as integer codes.
    probabilities = model.predict_proba(test[numeric + categorical])
    classes = list(model.classes_)
    actual = pd.Index(classes).get_indexer(test[target].astype(object))
    predicted = probabilities.argmax(axis=1)
    metrics = {
        "log_loss": log_loss(actual, probabilities, labels=list(range(len(classes)))),
        "balanced_accuracy": balanced_accuracy_score(actual, predicted),
        "accuracy": accuracy_score(actual, predicted),
        "f1_macro": f1_score(actual, predicted, average="macro"),
    }
    metrics_path.write_text(json.dumps({k: round(float(v), 6) for k, v in metrics.items()}, indent=2) + "\n")
    timed("evaluate", started)
    print(json.dumps({"bare_steps": STEPS}), file=sys.stderr)


if __name__ == "__main__":
    main()
