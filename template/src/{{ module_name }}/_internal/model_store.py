"""Save and load the model with skops, trusting only the types our pipelines contain.

skops refuses to instantiate anything not on the allowlist, so a tampered or foreign model
file cannot run code on load (unlike pickle/joblib).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import PipelineError
from .files import atomic_path

MODEL_PATH = Path("models/model.skops")

# Beyond skops' built-in safe types, the pipelines we build need exactly these.
TRUSTED_TYPES = (
    "numpy.dtype",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
)


def save_model(model: Any, path: str | Path = MODEL_PATH) -> None:
    import skops.io

    with atomic_path(path) as temp_path:
        skops.io.dump(model, temp_path)


def load_model(path: str | Path = MODEL_PATH) -> Any:
    """Load a model file, refusing any type outside TRUSTED_TYPES by name."""
    import skops.io

    path = Path(path)
    if not path.exists():
        raise PipelineError(f"{path}: no model; run `dvc repro` (or `dvc pull`) first")
    untrusted = sorted(set(skops.io.get_untrusted_types(file=path)) - set(TRUSTED_TYPES))
    if untrusted:
        raise PipelineError(
            f"{path}: refusing to load untrusted types {', '.join(untrusted)}; "
            "if you added a new estimator, review these types and add them to TRUSTED_TYPES"
        )
    return skops.io.load(path, trusted=list(TRUSTED_TYPES))
