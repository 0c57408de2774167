"""Compose params.yaml from the Hydra config in params/, or check that it is in sync.

`dvc repro` reads params.yaml as it is; only `dvc exp run` recomposes it. So after editing
params/, run `python -m <package>.compose_params` (or `dvc exp run`). `--check` exits 1 when
the committed params.yaml differs from the composition (CI and the pre-commit hook use it).
The output matches what DVC's Hydra integration writes, so the two never fight over the file.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
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


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def experiment_in_workspace(params_path: Path = PARAMS_PATH) -> str | None:
    """The DVC experiment whose params.yaml the workspace holds, if any.

    `dvc exp run` leaves its composition of params/ plus the `-S` overrides in the workspace and
    records the run under refs/exps/<baseline>/<name>: an experiment not yet kept, not a stale file.
    """
    head, blob = git("rev-parse", "HEAD"), git("hash-object", str(params_path))
    if not head or not blob:
        return None
    for ref in git("for-each-ref", "--format=%(refname)", "refs/exps/").split():
        parts = ref.split("/")  # refs/exps/<sha[:2]>/<sha[2:]>/<name>
        if (
            len(parts) == 5
            and parts[2] + parts[3] == head
            and git("rev-parse", f"{ref}:{params_path.as_posix()}") == blob
        ):
            return parts[4]
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if params.yaml is stale")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. model=random_forest")
    args = parser.parse_args(argv)
    status = sync_generated_file(
        PARAMS_PATH,
        compose(args.overrides),
        check=args.check,
        regenerate=f"python -m {__package__}.compose_params (edit {CONFIG_DIR}/, not {PARAMS_PATH})",
    )
    experiment = experiment_in_workspace() if status else None
    if experiment:
        keep = (
            f"`python -m {__package__}.data_tools.experiments keep {experiment}`"
            if importlib.util.find_spec(f"{__package__}.data_tools") is not None
            else f"put its overrides in {CONFIG_DIR}/ and recompose"
        )
        print(
            f"{PARAMS_PATH} holds experiment {experiment} (dvc exp run): to keep it, {keep}; "
            f"to drop it, `git checkout {PARAMS_PATH} dvc.lock && dvc checkout`",
            file=sys.stderr,
        )
    return status


if __name__ == "__main__":
    raise SystemExit(main())
