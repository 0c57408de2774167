"""Compose params.yaml from the Hydra config in params/, or check that it is in sync.

`dvc repro` reads params.yaml as it is; only `dvc exp run` recomposes it. So after editing
params/, run `python -m <package>.compose_params` (or `dvc exp run`). `--check` exits 1 when
the committed params.yaml differs from the composition (CI and the pre-commit hook use it).
The output matches what DVC's Hydra integration writes, so the two never fight over the file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ._internal.files import sync_generated_file
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
    return sync_generated_file(
        PARAMS_PATH,
        compose(args.overrides),
        check=args.check,
        regenerate=f"python -m {__package__}.compose_params (edit {CONFIG_DIR}/, not {PARAMS_PATH})",
    )


if __name__ == "__main__":
    raise SystemExit(main())
