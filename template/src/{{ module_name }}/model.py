"""Build the model, one sklearn Pipeline, from params.

Preprocessing and estimator live in one object, so training, evaluation and prediction can
never disagree about how features are prepared.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._internal.errors import PipelineError
from .params import DataParams, ModelParams, Task

# (task, model name) -> estimator class path. Imported lazily: sklearn.ensemble is slow to load.
ESTIMATORS: dict[tuple[str, str], str] = {
    ("classification", "logistic_regression"): "sklearn.linear_model.LogisticRegression",
    ("regression", "ridge"): "sklearn.linear_model.Ridge",
    ("classification", "random_forest"): "sklearn.ensemble.RandomForestClassifier",
    ("regression", "random_forest"): "sklearn.ensemble.RandomForestRegressor",
    ("classification", "hist_gradient_boosting"): "sklearn.ensemble.HistGradientBoostingClassifier",
    ("regression", "hist_gradient_boosting"): "sklearn.ensemble.HistGradientBoostingRegressor",
}


def estimator_class(task: Task, name: str) -> type:
    """The estimator class for a model name, or a PipelineError listing the valid names."""
    path = ESTIMATORS.get((task, name))
    if path is None:
        valid = sorted(model for model_task, model in ESTIMATORS if model_task == task)
        raise PipelineError(f"model '{name}' is not available for {task}; choose one of {valid}")
    module_name, class_name = path.rsplit(".", 1)
    return getattr(importlib.import_module(module_name), class_name)


def make_estimator(task: Task, model_params: ModelParams) -> Any:
    """Instantiate the estimator, rejecting params it does not accept by name.

    sklearn only complains about an unknown keyword at construction, and a typo in a `-S +key=`
    override would otherwise be silently ignored; we name the key and the file to fix.
    """
    cls = estimator_class(task, model_params.name)
    accepted = set(cls().get_params())
    unknown = sorted(set(model_params.estimator_params) - accepted)
    if unknown:
        raise PipelineError(
            f"params/model/{model_params.name}.yaml: {cls.__name__} does not accept "
            f"{', '.join(map(repr, unknown))}; accepted: {', '.join(sorted(accepted))}"
        )
    return cls(**model_params.estimator_params)


def build_pipeline(task: Task, data_params: DataParams, model_params: ModelParams) -> Any:
    """ColumnTransformer (impute + scale numerics, impute + one-hot categoricals) + estimator."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    estimator = make_estimator(task, model_params)
    transformers = []
    if data_params.numeric_features:
        numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
        transformers.append(("numeric", numeric, list(data_params.numeric_features)))
    if data_params.categorical_features:
        # A missing category becomes its own level; an unseen one encodes as all zeros.
        categorical = make_pipeline(
            SimpleImputer(strategy="constant", fill_value="missing"),
            OneHotEncoder(handle_unknown="ignore"),
        )
        transformers.append(("categorical", categorical, list(data_params.categorical_features)))
    if not transformers:
        raise PipelineError("params/data: no features; set numeric_features or categorical_features")
    return Pipeline([("preprocess", ColumnTransformer(transformers)), ("model", estimator)])
