"""File helpers every stage shares: atomic writes, fast CSV output and content hashes."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def current_umask() -> int:
    """The process umask (reading it means setting it: put it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; move it into place only if the block succeeds.

    An interrupted or failed write leaves no half-written file behind: readers see the old
    file or the new one, never a mix (rename is atomic within one filesystem). The file gets the
    mode any new file gets under the umask (mkstemp's own 0600 would lock out, say, the service
    user of a container image that copies it).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    temp_path = Path(temp_name)
    try:
        yield temp_path
        temp_path.chmod(0o666 & ~current_umask())
        temp_path.replace(target)
    finally:
        temp_path.unlink(missing_ok=True)


def write_json(target: str | Path, payload: Any) -> None:
    """Write `payload` as indented JSON, atomically (paths and dates become strings)."""
    with atomic_path(target) as temp_path:
        temp_path.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")


def write_table_csv(target: str | Path, frame: Any) -> None:
    """Write a typed DataFrame as CSV, atomically, with pyarrow's writer.

    About ten times faster than pandas' `to_csv` on a large test split, and floats keep full
    precision, so metrics recomputed from the file (the PR report) equal metrics.json.
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    table = pa.Table.from_pandas(frame, preserve_index=False)
    with atomic_path(target) as temp_path:
        pa_csv.write_csv(table, temp_path, pa_csv.WriteOptions(quoting_style="needed"))


def file_md5(path: str | Path) -> str:
    """MD5 of a file's bytes, the hash DVC records for files in dvc.lock."""
    digest = hashlib.md5(usedforsecurity=False)
    with Path(path).open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sync_generated_file(path: Path, content: str, check: bool, regenerate: str) -> int:
    """Write a generated file, or with `check` compare it; 1 (and a diff) when it is stale."""
    import difflib
    import sys

    current = path.read_text(encoding="utf-8") if path.exists() else ""
    if check:
        if current == content:
            print(f"{path} is up to date")
            return 0
        sys.stdout.writelines(
            difflib.unified_diff(
                current.splitlines(keepends=True),
                content.splitlines(keepends=True),
                f"{path} (committed)",
                f"{path} (generated)",
            )
        )
        print(f"error: {path} is stale; regenerate it with `{regenerate}`", file=sys.stderr)
        return 1
    if current != content:
        with atomic_path(path) as temp_path:
            temp_path.write_text(content, encoding="utf-8")
        print(f"wrote {path}")
    return 0
