"""DVC remotes for real: an S3 remote served by moto on 127.0.0.1, push, clear, pull."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import palmerpenguins
import pytest
from conftest import AnswerSet, Project, rendered_project

BUCKET = "penguins-dvc"
S3_REMOTE = AnswerSet(
    "s3-remote",
    answers={"project_name": "Penguins S3", "data_remote": "s3", "remote_url": f"s3://{BUCKET}/store"},
    module="penguins_s3",
)
RAW = "data/raw/penguins.csv"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server():
    """moto's S3 server on loopback, with the bucket created; its env for DVC (boto) clients."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/{BUCKET}", method="PUT"), timeout=5)
        yield {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def s3_project(s3_server, tmp_path_factory) -> Project:
    old = {k: os.environ.get(k) for k in s3_server}
    os.environ.update(s3_server)  # the setup task's `dvc push` reads them too
    try:
        return rendered_project(S3_REMOTE, tmp_path_factory)
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def objects_in_bucket(endpoint: str) -> str:
    return urllib.request.urlopen(f"{endpoint}/{BUCKET}?list-type=2", timeout=5).read().decode()


def test_setup_pushed_raw_data_to_s3(s3_project: Project, s3_server):
    assert "data/raw/penguins.csv.dvc" in s3_project.tracked_files
    assert "data/raw/penguins.csv" not in s3_project.tracked_files
    assert "<Key>store/files/md5/" in objects_in_bucket(s3_server["AWS_ENDPOINT_URL"])
    config = (s3_project.path / ".dvc" / "config").read_text()
    assert f"url = s3://{BUCKET}/store" in config
    assert "testing" not in config, "credentials must never be written to the repo"


def test_push_clear_cache_pull_restores_byte_for_byte(s3_project: Project, s3_server, tmp_path):
    env = {**s3_project.env(), **s3_server}
    dvc = str(s3_project.venv_bin / "dvc")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [dvc, *args], cwd=s3_project.path, env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    run("repro")
    run("push")
    outputs = [RAW, "models/model.skops", "data/prepared/train.parquet"]
    before = {name: (s3_project.path / name).read_bytes() for name in outputs}
    shutil.rmtree(s3_project.path / ".dvc" / "cache")
    for name in outputs:
        (s3_project.path / name).unlink()
    run("pull")
    assert {name: (s3_project.path / name).read_bytes() for name in outputs} == before
    packaged = Path(palmerpenguins.__file__).parent / "data" / "penguins.csv"
    assert before[RAW] == packaged.read_bytes()
