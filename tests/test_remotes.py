"""DVC remotes for real, each on a server on 127.0.0.1: push, clear the cache, pull byte for byte.

S3 on moto, SSH on an asyncssh SFTP server (tests/support/sftp_server.py), Azure on Azurite (npm), GCS on
gcp-storage-emulator: all but Azurite are Python packages of the test venv, none needs root. DVC reaches
each through the environment or `.dvc/config.local` (git-ignored), never the committed `.dvc/config`.
`nox -s tests` installs the servers; a missing one fails the test with the command that installs it.
"""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh
import palmerpenguins
import pytest
from support.projects import TOOLS_BIN, AnswerSet, Project, rendered_project
from support.servers import free_port, require, serving

pytestmark = pytest.mark.remote
BUCKET = "penguins-dvc"
RAW = "data/raw/penguins.csv"
KINDS = ["s3", "ssh", "azure", "gcs"]
# Azurite's well-known development account (public, documented by Microsoft), not a secret.
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
CREATE_CONTAINER = """
import os
from azure.storage.blob import BlobServiceClient
client = BlobServiceClient.from_connection_string(os.environ["AZURE_STORAGE_CONNECTION_STRING"])
client.create_container("penguins")
"""
INSTALLED_BY_NOX = "run the tests with `nox -s tests`, which installs it"
SFTP_SERVER = Path(__file__).parent / "support" / "sftp_server.py"


@dataclass(frozen=True)
class Remote:
    """A rendered project whose `storage` remote is a live server, and the env DVC needs to reach it."""

    project: Project
    env: dict[str, str] = field(default_factory=dict)
    # Values that may reach DVC only through the environment or .dvc/config.local.
    local_only: tuple[str, ...] = ()
    # What the store held right after the setup task (S3 only: there the setup task's push succeeds).
    after_setup: str = ""

    def run(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(arg) for arg in args],
            cwd=self.project.path,
            env={**self.project.env(), **self.env},
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        assert done.returncode == 0, f"{' '.join(map(str, args))}:\n{done.stdout}{done.stderr}"
        return done

    def dvc(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(self.project.venv_bin / "dvc", *args)


def render_with_env(answer_set: AnswerSet, env: dict[str, str], tmp_path_factory) -> Project:
    """Render with `env` set, so the setup task's `dvc push` reaches the server as a user's would."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        return rendered_project(answer_set, tmp_path_factory)


def remote_answers(kind: str, url: str) -> AnswerSet:
    name = f"Penguins {kind.upper()}"
    module = f"penguins_{kind}"
    return AnswerSet(
        f"{kind}-remote", {"project_name": name, "data_remote": kind, "remote_url": url}, module=module
    )


def objects_in_bucket(endpoint: str) -> str:
    return urllib.request.urlopen(f"{endpoint}/{BUCKET}?list-type=2", timeout=5).read().decode()


@pytest.fixture(scope="module")
def s3_remote(tmp_path_factory) -> Iterator[Remote]:
    """moto's S3 server, with the bucket created before the render: the setup task pushes to it."""
    port, log = free_port(), tmp_path_factory.mktemp("moto") / "moto.log"
    with serving([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], port, log):
        endpoint = f"http://127.0.0.1:{port}"
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/{BUCKET}", method="PUT"), timeout=5)
        env = {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing-key-id",
            "AWS_SECRET_ACCESS_KEY": "testing-secret",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        project = render_with_env(remote_answers("s3", f"s3://{BUCKET}/store"), env, tmp_path_factory)
        local_only = (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], endpoint)
        yield Remote(project, env, local_only, after_setup=objects_in_bucket(endpoint))


def ssh_keygen(path: Path) -> Path:
    """An unencrypted ed25519 key pair at `path` and `path`.pub, made by asyncssh: no ssh-keygen needed."""
    key = asyncssh.generate_private_key("ssh-ed25519")
    key.write_private_key(path)
    path.chmod(0o600)
    key.write_public_key(path.with_suffix(".pub"))
    return path


@pytest.fixture(scope="module")
def ssh_remote(tmp_path_factory) -> Iterator[Remote]:
    """An SFTP server on 127.0.0.1 (asyncssh, from the test venv) with one authorized user key.

    The project is rendered before the server starts: the setup task's push is refused at once and
    only warns, as for a user without access yet, and no key of the user running the tests is tried
    (an encrypted one would prompt). The key then goes to .dvc/config.local with `dvc remote modify
    --local`. dvc-ssh does not check host keys (sshfs passes known_hosts=None to asyncssh): nothing
    prompts.
    """
    base = tmp_path_factory.mktemp("sftp")
    user_key = ssh_keygen(base / "user_key")
    (base / "authorized_keys").write_text(user_key.with_suffix(".pub").read_text())
    port = free_port()
    url = f"ssh://{getpass.getuser()}@127.0.0.1:{port}{base / 'store'}"
    project = rendered_project(remote_answers("ssh", url), tmp_path_factory)
    remote = Remote(project, local_only=(str(user_key),))
    remote.dvc("remote", "modify", "--local", "storage", "keyfile", str(user_key))
    command = [sys.executable, str(SFTP_SERVER), str(port), str(ssh_keygen(base / "host_key"))]
    with serving([*command, str(base / "authorized_keys")], port, base / "sftp.log"):
        yield remote


@pytest.fixture(scope="module")
def azure_remote(tmp_path_factory) -> Iterator[Remote]:
    """Azurite's blob service with its development account; the connection string only in the env.

    Azurite starts with no containers, as a new storage account: the setup task's push fails and
    warns, then the container is created with the project's own Azure SDK (a dvc-azure dependency).
    """
    azurite = require(
        os.environ.get("AZURITE_BLOB"), f"AZURITE_BLOB names no azurite-blob program; {INSTALLED_BY_NOX}"
    )
    base, port = tmp_path_factory.mktemp("azurite"), free_port()
    command = [azurite, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(base / "data")]
    command += ["--skipApiVersionCheck", "--loose", "--silent", "--disableTelemetry"]
    with serving(command, port, base / "azurite.log"):
        connection = (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{port}/{AZURITE_ACCOUNT};"
        )
        env = {"AZURE_STORAGE_CONNECTION_STRING": connection}
        project = render_with_env(remote_answers("azure", "azure://penguins/store"), env, tmp_path_factory)
        remote = Remote(project, env, local_only=(AZURITE_KEY,))
        remote.run(project.venv_bin / "python", "-c", CREATE_CONTAINER)
        yield remote


@pytest.fixture(scope="module")
def gcs_remote(tmp_path_factory) -> Iterator[Remote]:
    """gcp-storage-emulator with the bucket made at start; gcsfs finds it through STORAGE_EMULATOR_HOST."""
    emulator = require(
        TOOLS_BIN / "gcp-storage-emulator", f"pip install -r requirements-test.txt, or {INSTALLED_BY_NOX}"
    )
    port, log = free_port(), tmp_path_factory.mktemp("gcs") / "gcs.log"
    command = [
        emulator,
        "start",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--default-bucket",
        BUCKET,
        "--in-memory",
    ]
    with serving(command, port, log):
        env = {"STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{port}"}
        project = render_with_env(remote_answers("gcs", f"gs://{BUCKET}/store"), env, tmp_path_factory)
        yield Remote(project, env)


@pytest.fixture(scope="module", params=KINDS)
def remote(request) -> Remote:
    return request.getfixturevalue(f"{request.param}_remote")


def test_setup_pushed_raw_data_to_s3(s3_remote: Remote):
    assert "<Key>store/files/md5/" in s3_remote.after_setup


def test_raw_data_is_tracked_by_dvc_and_credentials_stay_out_of_git(remote: Remote):
    project = remote.project
    assert "data/raw/penguins.csv.dvc" in project.tracked_files
    assert RAW not in project.tracked_files
    config = (project.path / ".dvc" / "config").read_text()
    assert f"url = {project.answer_set.answers['remote_url']}" in config
    leaked = [value for value in remote.local_only if value in config]
    assert not leaked, f"credentials written to the committed .dvc/config: {leaked}"
    ignored = project.run("git", "check-ignore", ".dvc/config.local", check=False)
    assert ignored.returncode == 0, ".dvc/config.local must be git-ignored"


def test_push_clear_cache_pull_restores_byte_for_byte(remote: Remote):
    outputs = [RAW]
    if remote.project.answer_set.answers["data_remote"] == "s3":
        # Models and prepared data take the same code path as raw data: one kind covers them.
        remote.dvc("repro")
        outputs += ["models/model.skops", "data/prepared/train.parquet"]
    remote.dvc("push")
    before = {name: (remote.project.path / name).read_bytes() for name in outputs}
    shutil.rmtree(remote.project.path / ".dvc" / "cache")
    for name in outputs:
        (remote.project.path / name).unlink()
    remote.dvc("pull", *outputs)
    assert {name: (remote.project.path / name).read_bytes() for name in outputs} == before
    packaged = Path(palmerpenguins.__file__).parent / "data" / "penguins.csv"
    assert before[RAW] == packaged.read_bytes()
