"""The generated workflows: secure (zizmor), valid (GitHub's schema), shell-clean, pinned."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml
from conftest import TOOLS_BIN, Project
from workflow_harness import CHECKED_PINS

PINNED = re.compile(r"^(?P<action>[\w.-]+/[\w.-]+)@(?P<sha>[0-9a-f]{40}) # (?P<tag>v\d+(\.\d+)*)$")


def workflows(project: Project) -> list[Path]:
    found = sorted((project.path / ".github" / "workflows").glob("*.yml"))
    always = {"ci", "daily", "model-check-comment", "monitor", "pr", "release", "train"}
    assert {path.stem for path in found} >= always, found
    return found


def tool(name: str, *args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TOOLS_BIN / name), *map(str, args)], capture_output=True, text=True, check=False, cwd=cwd
    )


def test_zizmor_finds_nothing(project: Project):
    # All of .github/ (dependabot.yml too, e.g. its cooldown), not only the workflows.
    done = tool("zizmor", "--offline", project.path / ".github")
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
