"""The generated workflows: secure (zizmor), valid (GitHub's schema), shell-clean, pinned."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from support.projects import TOOLS_BIN, Project, render
from support.workflow_harness import CHECKED_PINS

PINNED = re.compile(r"^(?P<action>[\w.-]+/[\w.-]+(/[\w.-]+)?)@(?P<sha>[0-9a-f]{40}) # (?P<tag>v\d+(\.\d+)*)$")


def workflows(project: Project) -> list[Path]:
    found = sorted((project.path / ".github" / "workflows").glob("*.yml"))
    answers = project.answer_set.answers
    expected = {"ci", "daily", "release", "train"}
    if answers.get("pr_check", "true") == "true":
        expected |= {"pr", "model-check-comment"}
    if answers.get("monitoring", "true") == "true":
        expected.add("monitor")
    assert {path.stem for path in found} == expected, found
    return found


def tool(name: str, *args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TOOLS_BIN / name), *map(str, args)], capture_output=True, text=True, check=False, cwd=cwd
    )


@pytest.mark.parametrize("persona", ["regular", "auditor"])
def test_zizmor_finds_nothing(project: Project, persona: str):
    # All of .github/ (dependabot.yml too, e.g. its cooldown), not only the workflows; the
    # auditor persona's findings are fixed or justified inline (`# zizmor: ignore[...] why`).
    done = tool("zizmor", "--offline", "--persona", persona, project.path / ".github")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout + done.stderr


def test_workflows_and_dependabot_match_githubs_schemas(project: Project):
    done = tool("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows(project))
    assert done.returncode == 0, done.stdout + done.stderr
    dependabot = project.path / ".github" / "dependabot.yml"
    done = tool("check-jsonschema", "--builtin-schema", "vendor.dependabot", dependabot)
    assert done.returncode == 0, done.stdout + done.stderr


def test_run_steps_pass_shellcheck(project: Project, tmp_path: Path):
    scripts = []
    for workflow in workflows(project):
        for job_id, job in yaml.safe_load(workflow.read_text())["jobs"].items():
            for index, step in enumerate(job["steps"]):
                if "run" in step:
                    script = tmp_path / f"{workflow.stem}-{job_id}-{index}.sh"
                    script.write_text("#!/usr/bin/env bash\nset -eo pipefail\n" + step["run"])
                    scripts.append(script)
    done = tool("shellcheck", "--severity=style", *scripts)
    assert done.returncode == 0, done.stdout


def test_least_privilege_pins_and_no_event_data_in_shell(project: Project):
    for workflow in workflows(project):
        text = workflow.read_text()
        spec = yaml.safe_load(text)
        assert "pull_request_target" not in text, workflow.name
        assert "permissions" in spec, f"{workflow.name}: no top-level permissions"
        assert spec["permissions"] in ({}, {"contents": "read"}), f"{workflow.name}: {spec['permissions']}"
        for job in spec["jobs"].values():
            for step in job["steps"]:
                if "uses" in step:
                    line = next(line.strip() for line in text.splitlines() if step["uses"] in line)
                    pin = PINNED.match(line.removeprefix("- ").removeprefix("uses: "))
                    assert pin, line
                    # The comment names the tag whose commit we checked; the SHA is that commit.
                    assert (pin["sha"], pin["tag"]) == CHECKED_PINS[pin["action"]], line
                if "run" in step:
                    assert "${{" not in step["run"], f"{workflow.name}: expression inside run: {step['run']}"


# One render per kind of DVC remote (setup skipped: only the workflows are read here).
REMOTE_URLS = {
    "s3": "s3://bucket/data",
    "gcs": "gs://bucket/data",
    "azure": "azure://container/data",
    "ssh": "ssh://deploy@dvc.example.com/srv/dvc",
    "local": "/srv/dvc",
}
# The secrets each kind needs in CI, and nothing else (README "CI secrets").
REMOTE_SECRETS = {
    "s3": {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"},
    "gcs": {"GCP_SERVICE_ACCOUNT_KEY"},
    "azure": {"AZURE_STORAGE_CONNECTION_STRING"},
    "ssh": {"SSH_PRIVATE_KEY"},
    "local": set(),
}
TALKS_TO_REMOTE = re.compile(r"dvc (pull|push|repro --pull)")
SECRET = re.compile(r"\$\{\{\s*secrets\.(\w+)\s*\}\}")


@pytest.fixture(scope="module", params=sorted(REMOTE_URLS))
def remote_render(request, tmp_path_factory) -> tuple[str, Path]:
    kind = request.param
    path = tmp_path_factory.mktemp(f"remote-{kind}") / "project"
    answers = {"data_remote": kind, "remote_url": REMOTE_URLS[kind], "cloud_training": "true"}
    done = render(path, answers, "--trust", "--skip-tasks")
    assert done.returncode == 0, done.stdout + done.stderr
    return kind, path


def steps_of(path: Path) -> list[tuple[str, str, dict, dict]]:
    """(workflow, job id, job, step) for every step of every rendered workflow."""
    found = []
    for workflow in sorted((path / ".github" / "workflows").glob("*.yml")):
        for job_id, job in yaml.safe_load(workflow.read_text())["jobs"].items():
            found += [(workflow.stem, job_id, job, {"name": "", **step}) for step in job["steps"]]
    return found


def test_each_remote_kind_renders_clean_workflows(remote_render: tuple[str, Path], tmp_path: Path):
    _, path = remote_render
    for persona in ("regular", "auditor"):
        done = tool("zizmor", "--offline", "--persona", persona, path / ".github")
        assert done.returncode == 0, done.stdout + done.stderr
    found = sorted((path / ".github" / "workflows").glob("*.yml"))
    done = tool("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *found)
    assert done.returncode == 0, done.stdout + done.stderr
    scripts = []
    for index, (workflow, job_id, _, step) in enumerate(steps_of(path)):
        if "run" in step:
            assert "${{" not in step["run"], f"{workflow}: expression inside run"
            scripts.append(tmp_path / f"{workflow}-{job_id}-{index}.sh")
            scripts[-1].write_text("#!/usr/bin/env bash\nset -eo pipefail\n" + step["run"])
    done = tool("shellcheck", "--severity=style", *scripts)
    assert done.returncode == 0, done.stdout


def test_remote_secrets_only_on_the_steps_that_talk_to_the_remote(remote_render: tuple[str, Path]):
    kind, path = remote_render
    pulls = {}
    for workflow, job_id, job, step in steps_of(path):
        assert not SECRET.search(yaml.safe_dump(job.get("env", {}))), (
            f"{workflow}/{job_id}: secrets on the job"
        )
        secrets = set(SECRET.findall(yaml.safe_dump(step.get("env", {}))))
        script = step.get("run", "")
        if TALKS_TO_REMOTE.search(script):
            pulls.setdefault(workflow, []).append(step["name"])
            assert secrets == REMOTE_SECRETS[kind], f"{workflow}: {step['name']}: {secrets}"
            if kind == "gcs":
                assert 'GOOGLE_APPLICATION_CREDENTIALS="$RUNNER_TEMP/gcp-key.json"' in script
            if kind == "ssh":
                assert 'dvc remote modify --local storage keyfile "$RUNNER_TEMP/dvc-ssh-key"' in script
                assert "~/.ssh/known_hosts" in script
        elif workflow == "monitor" and step["name"].startswith("Fetch the prediction log"):
            assert "AWS_ACCESS_KEY_ID" in secrets
        elif workflow == "monitor" and step["name"].startswith("Drift"):
            assert secrets == {"PREDICTION_LOG_SALT"}
        elif job_id != "launch-runner":  # cml runner launch: a PAT and the cloud's keys
            assert not secrets, f"{workflow}: {step['name']}: {secrets}"
    # Every workflow that needs the data gets it from the remote (ci and daily did not).
    assert set(pulls) >= {"ci", "daily", "pr", "train", "release", "monitor"}, pulls


def test_ci_without_the_remotes_secrets_runs_lint_only_and_says_so(remote_render: tuple[str, Path]):
    kind, path = remote_render
    steps = [step for workflow, _, _, step in steps_of(path) if workflow == "ci"]
    [pull] = [s for s in steps if "dvc pull" in s.get("run", "")]
    [first] = REMOTE_SECRETS[kind] - {"AWS_SECRET_ACCESS_KEY"} or [None]
    if first:  # no secrets (fork, Dependabot): a notice, and no test (every test fixture reads the data)
        assert f'if [ -z "${first}" ]; then' in pull["run"] and "only lint ran" in pull["run"]
    lint = next(s for s in steps if s["name"].startswith("Lint"))
    full = next(s for s in steps if s["name"].startswith("Tests, all markers"))
    assert steps.index(lint) < steps.index(pull) < steps.index(full)
    assert full["if"] == "steps.data.outputs.pulled == 'true'"
    assert not any("tests/unit" in s.get("run", "") for s in steps)


@pytest.fixture(scope="module")
def default_render(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("default-render") / "project"
    done = render(path, {}, "--trust", "--skip-tasks")
    assert done.returncode == 0, done.stdout + done.stderr
    return path


FAKE_GH = """#!/usr/bin/env bash
# Records each call; `issue list` prints what the step's --jq filter would: $OPEN_ISSUE.
printf '%s\\n' "$*" >> "$GH_CALLS"
if [ "$1 $2" = "issue list" ]; then printf '%s\\n' "$OPEN_ISSUE"; fi
"""


@pytest.mark.parametrize("open_issue", ["", "12"])
def test_monitor_adds_to_the_open_drift_issue_instead_of_opening_another(
    default_render: Path, tmp_path: Path, open_issue: str
):
    [step] = [
        s
        for w, _, _, s in steps_of(default_render)
        if w == "monitor" and s["name"].startswith("Start retraining")
    ]
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "gh").write_text(FAKE_GH)
    (tmp_path / "bin" / "gh").chmod(0o755)
    (tmp_path / "reports" / "drift").mkdir(parents=True)
    (tmp_path / "reports" / "drift" / "drift.md").write_text("drift")
    env = {
        "PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin",
        "GH_CALLS": str(tmp_path / "calls"),
        "OPEN_ISSUE": open_issue,
        "GITHUB_REF_NAME": "main",
    }
    subprocess.run(["bash", "-eo", "pipefail", "-c", step["run"]], cwd=tmp_path, env=env, check=True)
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls[0].startswith("issue list --state open --author app/github-actions")
    if open_issue:  # retraining was started when the issue was opened: only the new report
        assert calls[1:] == ["issue comment 12 --body-file reports/drift/drift.md"]
    else:
        assert calls[1:] == [
            "workflow run train.yml --ref main",
            "issue create --title Drift detected: retraining started --body-file reports/drift/drift.md",
        ]


def test_pr_check_without_the_remotes_secrets_skips_training_and_says_so(remote_render: tuple[str, Path]):
    kind, path = remote_render
    steps = [step for workflow, _, _, step in steps_of(path) if workflow == "pr"]
    [pull] = [s for s in steps if "dvc pull" in s.get("run", "")]
    train = next(s for s in steps if s["name"].startswith("Train base and head"))
    assert pull["id"] == "data" and 'echo "pulled=true" >> "$GITHUB_OUTPUT"' in pull["run"]
    assert train["if"] == "steps.data.outputs.pulled == 'true'"  # also skipped when the pull is (forks)
    [first] = REMOTE_SECRETS[kind] - {"AWS_SECRET_ACCESS_KEY"} or [None]
    if first:  # Dependabot's PRs come from the repository itself but get no secrets
        assert f'if [ -z "${first}" ]; then' in pull["run"]
        assert ".pr_check skip" in pull["run"] and "Dependabot" in pull["run"]
