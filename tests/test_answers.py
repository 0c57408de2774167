"""Bad copier answers are refused with the validator's message; setup fails with a hint."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from support.projects import render

BAD_ANSWERS = [
    ({"module_name": "2fast"}, "is not a lowercase Python identifier"),
    ({"module_name": "class"}, "is a Python keyword"),
    ({"module_name": "pandas"}, "would shadow a library"),
    ({"project_slug": "My Project"}, "must be lowercase letters, digits and single dashes"),
    ({"author_email": "nobody"}, "is not an e-mail address"),
    ({"python_version": "3.9"}, "must be 3.11 or newer"),
    ({"task": "regression", "model": "logistic_regression"}, "is a classifier"),
    ({"task": "classification", "model": "ridge"}, "is a regressor"),
    ({"data_remote": "s3", "remote_url": "gs://bucket/x"}, "must start with s3://"),
    ({"data_remote": "local", "remote_url": "relative/dir"}, "must be an absolute path"),
    ({"data_remote": "ssh", "remote_url": "ssh://"}, "names no bucket, container or host"),
    # Line breaks would start new lines in pyproject.toml, .dvc/config, README.md; `$` let one through.
    ({"project_name": "Evil\n[tool.evil]"}, "project_name must be one line of text"),
    ({"project_name": "Line\u2028separator"}, "project_name must be one line of text"),
    ({"author_name": "Jane\tDoe"}, "author_name must be one line of text"),
    ({"author_name": "Doe, Jane"}, "must not contain a comma"),
    ({"author_email": "jane@example.com\x1b"}, "author_email must be one line of text"),
    ({"author_email": "jane@example.com\n"}, "author_email must be one line of text"),
    ({"module_name": "penguins_model\n"}, "is not a lowercase Python identifier"),
    ({"project_slug": "penguins-model\n"}, "must be lowercase letters, digits and single dashes"),
    ({"python_version": "3.11\n"}, "must be 3.11 or newer"),
    ({"data_remote": "s3", "remote_url": "s3://b/x\n[core]\nremote = evil"}, "remote_url must be one line"),
    ({"data_remote": "local", "remote_url": "/srv/it's"}, "must not contain quotes"),
    ({"data_remote": "ssh", "remote_url": "ssh://me:hunter2@example.com/srv"}, "dvc remote modify --local"),
    ({"data_remote": "s3", "remote_url": "s3://KEY:SECRET@bucket/x"}, "holds a password"),
]


@pytest.mark.parametrize(("answers", "message"), BAD_ANSWERS, ids=[m for _, m in BAD_ANSWERS])
def test_bad_answer_is_refused_with_its_message(tmp_path, answers, message):
    done = render(tmp_path / "project", answers, "--skip-tasks")
    assert done.returncode != 0
    assert message in done.stderr
    assert not (tmp_path / "project" / "dvc.yaml").exists()


def test_password_in_remote_url_is_not_echoed(tmp_path):
    answers = {"data_remote": "ssh", "remote_url": "ssh://me:hunter2@example.com/srv/dvc"}
    done = render(tmp_path / "project", answers, "--skip-tasks")
    assert done.returncode != 0
    assert "holds a password" in done.stderr
    assert "hunter2" not in done.stdout + done.stderr


def test_setup_without_git_identity_fails_with_a_hint(tmp_path):
    done = render(tmp_path / "project", {}, "--skip-tasks")
    assert done.returncode == 0, done.stderr
    assert "Setup did not run (--skip-tasks or --pretend); run it once first:" in done.stderr
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", XDG_CONFIG_HOME=str(home))
    setup = subprocess.run(
        [sys.executable, "scripts/bootstrap.py"],
        cwd=tmp_path / "project",
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert setup.returncode == 1
    last_line = setup.stderr.strip().splitlines()[-1]
    assert last_line.startswith("bootstrap: error: git has no identity")
    assert "git config --global user.email" in last_line
    assert not (tmp_path / "project" / ".venv").exists()
