"""An append-only JSON-lines log of every prediction: when, which model version, what in, what out.

One line per scored row, so any prediction can be traced to the model file (its md5, the hash
dvc.lock records) and the commit that trained it, and the drift monitor can read what the model
actually saw. Columns marked sensitive in the data dictionary are hashed or dropped before
anything is written. Appends and rotation happen under an exclusive lock, so several worker
processes can share one log without interleaving or losing lines.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from .._internal.errors import PipelineError
from .._internal.lineage import ModelVersion
from ..params import Params
from ..schema import RAW_SCHEMA

SALT_VARIABLE = "PREDICTION_LOG_SALT"
# A logged text value is cut to this many characters: one client's huge strings must not fill the
# log and rotate everyone else's history away (the service also refuses such requests).
MAX_LOGGED_TEXT = 256
SensitivePolicy = Literal["hash", "drop"]


def sensitive_columns() -> tuple[str, ...]:
    """Columns the data dictionary marks with metadata={"sensitive": True}."""
    return tuple(name for name, column in RAW_SCHEMA.columns.items() if (column.metadata or {}).get("sensitive"))


def secret_salt() -> bytes | None:
    """The secret that sensitive columns are hashed with, or None when it is not set.

    A hash without a secret is no protection (anyone can hash "male" and compare), so without a
    salt sensitive columns are dropped from the log, never hashed with an empty one.
    """
    value = os.environ.get(SALT_VARIABLE, "")
    return value.encode() if value else None


def pseudonymise(value: Any, salt: bytes) -> str | None:
    """A keyed hash of `value`: equal inputs stay equal (countable), the value itself is gone."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return "sha256:" + hmac.new(salt, str(value).encode(), hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True)
class PredictionLog:
    path: Path
    max_bytes: int = 10_000_000
    backups: int = 5
    sensitive: SensitivePolicy = "hash"

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> PredictionLog:
        """Build from the `monitor.prediction_log` mapping of params.yaml."""
        missing = sorted({"path", "max_bytes", "backups", "sensitive"} - set(params))
        if missing:
            raise PipelineError(f"monitor.prediction_log: missing {', '.join(missing)}; see params/monitor/")
        policy = params["sensitive"]
        if policy not in ("hash", "drop"):
            raise PipelineError(f"monitor.prediction_log.sensitive must be hash or drop, got {policy!r}")
        return cls(Path(params["path"]), int(params["max_bytes"]), int(params["backups"]), policy)

    def records(self, inputs: pd.DataFrame, outputs: pd.DataFrame, version: ModelVersion) -> list[dict[str, Any]]:
        """One log record per row: inputs (sensitive columns protected), outputs, model version."""
        salt = secret_salt()
        hidden = [name for name in sensitive_columns() if name in inputs.columns]
        if hidden and self.sensitive == "hash" and salt is None:
            warnings.warn(
                f"{SALT_VARIABLE} is not set: sensitive columns {', '.join(hidden)} are dropped from the "
                "prediction log instead of hashed; set it to a secret to keep comparable hashes",
                stacklevel=2,
            )
        shown_inputs = inputs.drop(columns=hidden)
        timestamp = datetime.now(UTC).isoformat(timespec="milliseconds")
        # 15 digits, not pandas' default 10: a logged prediction should equal the one returned.
        input_rows = json.loads(shown_inputs.to_json(orient="records", date_format="iso", double_precision=15))
        output_rows = json.loads(outputs.to_json(orient="records", double_precision=15))
        if self.sensitive == "hash" and salt is not None:
            hashed = {name: [pseudonymise(value, salt) for value in inputs[name]] for name in hidden}
            for position, input_row in enumerate(input_rows):
                input_row.update({name: values[position] for name, values in hashed.items()})
        for input_row in input_rows:
            for name, value in input_row.items():
                if isinstance(value, str) and len(value) > MAX_LOGGED_TEXT:
                    input_row[name] = f"{value[:MAX_LOGGED_TEXT]}…(+{len(value) - MAX_LOGGED_TEXT} characters)"
        records = []
        for input_row, output_row in zip(input_rows, output_rows, strict=True):
            records.append(
                {
                    "timestamp": timestamp,
                    "model_version": version.label,
                    "model_md5": version.model_md5,
                    "git_commit": version.git_commit,
                    "input": input_row,
                    "output": output_row,
                }
            )
        return records

    def append(self, inputs: pd.DataFrame, outputs: pd.DataFrame, version: ModelVersion) -> int:
        """Append one line per row, rotating first if the file is full; returns lines written."""
        records = self.records(inputs, outputs, version)
        payload = "".join(json.dumps(record, sort_keys=True) + "\n" for record in records).encode("utf-8")
        with self._locked():
            if self.path.exists() and self.path.stat().st_size + len(payload) > self.max_bytes:
                self._rotate()
            # One write() of whole lines on an O_APPEND descriptor, under the lock: no torn lines.
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                os.write(descriptor, payload)
            finally:
                os.close(descriptor)
        return len(records)

    def files(self) -> list[Path]:
        """The log and its rotated files, oldest first."""
        rotated = [self.path.with_name(f"{self.path.name}.{n}") for n in range(self.backups, 0, -1)]
        return [path for path in [*rotated, self.path] if path.exists()]

    def _rotate(self) -> None:
        oldest = self.path.with_name(f"{self.path.name}.{self.backups}")
        oldest.unlink(missing_ok=True)
        for number in range(self.backups - 1, 0, -1):
            source = self.path.with_name(f"{self.path.name}.{number}")
            if source.exists():
                source.replace(self.path.with_name(f"{self.path.name}.{number + 1}"))
        if self.backups > 0:
            self.path.replace(self.path.with_name(f"{self.path.name}.1"))
        else:
            self.path.unlink()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        # A separate lock file: the log itself is renamed by rotation while others wait.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.with_name(f".{self.path.name}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def read_log(paths: list[Path]) -> pd.DataFrame:
    """The logged predictions as a frame: one row per line, inputs and outputs as columns.

    Output columns are prefixed `output.`; `timestamp` is parsed as UTC. The log comes from outside
    (a service, a shipped file): a line that is not a whole record (not JSON, a key missing, a bad
    timestamp) is skipped and counted in `frame.attrs["skipped_lines"]`, never a crash.
    """
    rows, skipped = [], 0
    for path in paths:
        with path.open(encoding="utf-8", errors="replace") as stream:
            for line in stream:
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    row = {
                        "timestamp": record["timestamp"],
                        "model_version": str(record["model_version"]),
                        **dict(record["input"]),
                        **{f"output.{key}": value for key, value in dict(record["output"]).items()},
                    }
                except (ValueError, TypeError, KeyError, AttributeError):
                    skipped += 1
                    continue
                rows.append(row)
    frame = pd.DataFrame(rows)
    if not frame.empty:
        # One vectorised parse; a line whose time is not a time is skipped like any broken line.
        times = pd.to_datetime(frame["timestamp"].astype(str), utc=True, errors="coerce", format="ISO8601")
        skipped += int(times.isna().sum())
        frame = frame.assign(timestamp=times)[times.notna()].reset_index(drop=True)
    frame.attrs["skipped_lines"] = skipped
    return frame


def monitor_params(params: Params) -> dict[str, Any]:
    """The `monitor` section of the loaded params.yaml (prediction log and drift settings)."""
    if not isinstance(params.monitor, dict):
        package = (__package__ or "package").split(".")[0]
        raise PipelineError(
            f"params.yaml: no 'monitor' section; recompose it with `python -m {package}.compose_params`"
        )
    return params.monitor
