"""What a model was made from: code commit, data and code hashes, params, library versions.

Written next to the model so any prediction can be traced to the commit and data behind it.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from .errors import PipelineError
from .files import file_md5
from .paths import LINEAGE_PATH

LIBRARIES = ("scikit-learn", "pandas", "numpy", "pandera", "skops", "dvc", "hydra-core")


def git_state(cwd: str | Path = ".") -> dict[str, Any]:
    """Current commit and whether tracked files differ from it; None outside a git repo."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip()

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return versions


def hashes(paths: list[Path]) -> dict[str, str]:
    """MD5 of each file (the hash dvc.lock records), keyed by its path."""
    return {Path(os.path.relpath(path)).as_posix(): file_md5(path) for path in paths if path.is_file()}


@dataclass(frozen=True)
class ModelVersion:
    """Which model made a prediction: the model file's md5 (as dvc.lock records it) and its commit."""

    model_md5: str
    git_commit: str | None
    git_dirty: bool | None

    @property
    def label(self) -> str:
        """Short form for logs and responses, e.g. `3f2a9c1d0b4e@9a8b7c6d5e4f`."""
        commit = (self.git_commit or "uncommitted")[:12]
        return f"{self.model_md5[:12]}@{commit}{'+dirty' if self.git_dirty else ''}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "model_md5": self.model_md5,
            "git_commit": self.git_commit,
            "git_dirty": self.git_dirty,
        }


def dvc_lock_md5(model_path: Path, lock_path: Path = Path("dvc.lock")) -> str | None:
    """The md5 dvc.lock records for `model_path` as a stage output, or None where it records none."""
    import yaml

    if not lock_path.is_file():
        return None
    stages = (yaml.safe_load(lock_path.read_text(encoding="utf-8")) or {}).get("stages") or {}
    wanted = model_path.resolve()
    for stage in stages.values():
        for out in (stage or {}).get("outs") or []:
            if (lock_path.parent / out.get("path", "")).resolve() == wanted:
                return out.get("md5")
    return None


def model_version(model_path: str | Path, lineage_path: str | Path = LINEAGE_PATH) -> ModelVersion:
    """The version of the model file at `model_path`, from its bytes and the lineage written beside it.

    The md5 is computed from the file, not trusted from the lineage, so a swapped model file can
    never report the version of the one it replaced. It must equal what dvc.lock (committed in git,
    not written beside the model) records for the model, where dvc.lock records it, and what the
    lineage records; a mismatch with either is an error.
    """
    model_path, lineage_path = Path(model_path), Path(lineage_path)
    if not model_path.is_file():
        raise PipelineError(f"{model_path}: no model; run `dvc repro` (or `dvc pull`) first")
    if not lineage_path.is_file():
        raise PipelineError(f"{lineage_path}: no lineage beside the model; run `dvc repro train` to write both")
    lineage = json.loads(lineage_path.read_text())
    actual_md5 = file_md5(model_path)
    recorded_md5 = lineage.get("model_md5")
    if recorded_md5 is not None and recorded_md5 != actual_md5:
        raise PipelineError(
            f"{model_path} (md5 {actual_md5[:12]}) is not the model {lineage_path} describes "
            f"(md5 {recorded_md5[:12]}); restore both with `dvc checkout models` or retrain"
        )
    locked_md5 = dvc_lock_md5(model_path)
    if locked_md5 is not None and locked_md5 != actual_md5:
        raise PipelineError(
            f"{model_path} (md5 {actual_md5[:12]}) is not the model dvc.lock records (md5 {locked_md5[:12]}); "
            "restore it with `dvc checkout models`, or run `dvc repro` and commit dvc.lock"
        )
    git = lineage.get("git") or {}
    return ModelVersion(model_md5=actual_md5, git_commit=git.get("commit"), git_dirty=git.get("dirty"))
