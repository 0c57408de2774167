"""What a model was made from: code commit, data and code hashes, params, library versions.

Written next to the model so any prediction can be traced to the commit and data behind it.
"""

from __future__ import annotations

import os
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from .files import file_md5

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
