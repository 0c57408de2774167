"""Save and load the model with skops, trusting only the types our pipelines contain.

skops refuses to instantiate anything not on the allowlist, so a tampered or foreign model
file cannot run code on load (unlike pickle/joblib). The allowlist is the chosen estimator's
`trusted_types` (params/model/<name>.yaml) plus what every pipeline holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import PipelineError
from .files import atomic_path
from .paths import MODEL_PATH

# Beyond skops' built-in safe types, every pipeline we build (preprocessing included) holds these.
PIPELINE_TYPES = ("numpy.dtype",)


def save_model(model: Any, path: str | Path = MODEL_PATH) -> None:
    import skops.io

    with atomic_path(path) as temp_path:
        skops.io.dump(model, temp_path)


def load_model(path: str | Path = MODEL_PATH, trusted_types: tuple[str, ...] = ()) -> Any:
    """Load a model file, refusing any type outside PIPELINE_TYPES and `trusted_types` by name."""
    import skops.io

    path = Path(path)
    if not path.exists():
        raise PipelineError(f"{path}: no model; run `dvc repro` (or `dvc pull`) first")
    trusted = [*PIPELINE_TYPES, *trusted_types]
    untrusted = sorted(set(skops.io.get_untrusted_types(file=path)) - set(trusted))
    if untrusted:
        raise PipelineError(
            f"{path}: refusing to load untrusted types {', '.join(untrusted)}; if the model's estimator "
            "holds them, review them and add them to its trusted_types in params/model/"
        )
    return skops.io.load(path, trusted=trusted)
