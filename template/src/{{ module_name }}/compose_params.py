"""Compose params.yaml from the Hydra config in params/, or check that it is in sync.

`dvc repro` reads params.yaml as it is; only `dvc exp run` recomposes it. So after editing
params/, run `python -m <package>.compose_params` (or `dvc exp run`). `--check` exits 1 when
the committed params.yaml differs from the composition (CI and the pre-commit hook use it).
The output matches what DVC's Hydra integration writes, so the two never fight over the file.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from .files import atomic_path
from .params import PARAMS_PATH

CONFIG_DIR = Path("params")
CONFIG_NAME = "config"


def compose(overrides: list[str] | None = None, config_dir: Path = CONFIG_DIR) -> str:
    """The composed config as YAML text, exactly as `dvc exp run` would write it."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from omegaconf import OmegaConf

    with initialize_config_dir(config_dir=str(config_dir.resolve()), version_base=None):
        config = hydra_compose(config_name=CONFIG_NAME, overrides=overrides or [])
    OmegaConf.resolve(config)
    return OmegaConf.to_yaml(config)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if params.yaml is stale")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. model=random_forest")
    args = parser.parse_args(argv)
    composed = compose(args.overrides)
    current = PARAMS_PATH.read_text(encoding="utf-8") if PARAMS_PATH.exists() else ""
    if args.check:
        if current == composed:
            print(f"{PARAMS_PATH} is in sync with {CONFIG_DIR}/")
            return 0
        diff = difflib.unified_diff(
            current.splitlines(keepends=True),
            composed.splitlines(keepends=True),
            f"{PARAMS_PATH} (committed)",
            f"{PARAMS_PATH} (composed from {CONFIG_DIR}/)",
        )
        sys.stdout.writelines(diff)
        print(
            f"error: {PARAMS_PATH} differs from the composition of {CONFIG_DIR}/; "
            f"edit {CONFIG_DIR}/ and run `python -m {__package__}.compose_params` to regenerate it",
            file=sys.stderr,
        )
        return 1
    if current != composed:
        with atomic_path(PARAMS_PATH) as temp_path:
            temp_path.write_text(composed, encoding="utf-8")
        print(f"wrote {PARAMS_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
