"""Build the model, one sklearn Pipeline, from params.

Preprocessing and estimator live in one object, so training, evaluation and prediction can
never disagree about how features are prepared.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._internal.errors import PipelineError
from .params import DataParams, ModelParams, Task


def make_estimator(task: Task, model_params: ModelParams) -> Any:
    """Instantiate the class `_target_` names, checked to be an estimator for `task`, rejecting
    params it does not accept by name.

    sklearn only complains about an unknown keyword at construction, and a typo in a `-S +key=`
    override would otherwise be silently ignored; we name the key and the file to fix.
    """
    from sklearn.base import is_classifier, is_regressor

    source = f"params/model/{model_params.name}.yaml"
    module_name, _, class_name = model_params.target.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError):
        raise PipelineError(f"{source}: _target_ '{model_params.target}' is not an importable class") from None
    try:
        defaults = cls()  # its default params, and what kind of estimator it is
    except TypeError:  # needs constructor arguments: not a scikit-learn estimator
        defaults = None
    fits = defaults is not None and (is_classifier(defaults) if task == "classification" else is_regressor(defaults))
    if not fits:
        raise PipelineError(f"{source}: {class_name} is not a {task} estimator (task in params/config.yaml)")
    accepted = set(defaults.get_params())
    unknown = sorted(set(model_params.estimator_params) - accepted)
    if unknown:
        raise PipelineError(
            f"{source}: {cls.__name__} does not accept "
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
    # Many one-hot levels make the matrix sparse; estimators that need dense input (histogram
    # boosting) get it dense, the rest keep sklearn's default.
    sparse_threshold = 0.3 if accepts_sparse(estimator) else 0.0
    preprocess = ColumnTransformer(transformers, sparse_threshold=sparse_threshold)
    return Pipeline([("preprocess", preprocess), ("model", estimator)])


def accepts_sparse(estimator: Any) -> bool:
    """Whether the estimator takes a sparse matrix (scikit-learn's input tags say so)."""
    try:
        return bool(estimator.__sklearn_tags__().input_tags.sparse)
    except AttributeError:
        return False
