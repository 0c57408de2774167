"""A local "GitHub" for workflow tests: an origin repository, PR bookkeeping, the harness.

Shared by the PR workflow tests and the corpus lifecycle (tests/support/corpus.py).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from support.projects import GIT_IDENTITY, TOOLS_BIN, Project
from support.workflow_harness import Runner

REPOSITORY = "acme/penguins"


class FakeGitHub:
    """A local origin repo plus the harness, with the PR bookkeeping GitHub would do."""

    def __init__(self, project: Project, root: Path, secrets: dict[str, str] | None = None):
        self.origin = root / "origin"
        subprocess.run(["git", "clone", "--quiet", str(project.path), str(self.origin)], check=True)
        self.project = project
        self.runner = Runner(self.origin, root, TOOLS_BIN, secrets or {})
        self.pulls: dict[str, dict] = {}

    def git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", *args],
            cwd=self.origin,
            capture_output=True,
            text=True,
            check=True,
            env={**subprocess.os.environ, **GIT_IDENTITY},
        )
        return done.stdout.strip()

    def push(self, branch: str, edits: dict[str, tuple[str, str]], message: str) -> str:
        """Commit text replacements (file: (old, new)) on `branch` (made from main if new)."""
        existing = self.git("branch", "--list", branch)
        self.git("checkout", "--quiet", branch if existing else "-b", *([] if existing else [branch, "main"]))
        for name, (old, new) in edits.items():
            path = self.origin / name
            text = path.read_text()
            assert old in text, f"{old!r} not in {name}"
            path.write_text(text.replace(old, new))
        if any(name.startswith("params/") for name in edits):
            module = self.project.answer_set.module
            subprocess.run(
                [str(self.project.venv_bin / "python"), "-m", f"{module}.compose_params"],
                cwd=self.origin,
                check=True,
                capture_output=True,
            )
        self.git("commit", "--quiet", "--all", "-m", message)
        head = self.git("rev-parse", "HEAD")
        self.git("checkout", "--quiet", "main")
        return head

    def open_pr(self, number: int, branch: str, head_sha: str, fork: bool = False) -> dict:
        main_sha = self.git("rev-parse", "main")
        pull = {
            "number": number,
            "base": {"sha": main_sha, "ref": "main"},
            "head": {
                "sha": head_sha,
                "ref": branch,
                "repo": {"full_name": "someone/fork" if fork else REPOSITORY},
            },
        }
        self.pulls[str(number)] = {"head_sha": head_sha}
        write_pulls(self.runner, self.pulls)
        return pull

    def model_check(self, pull: dict):
        workflow = self.workspace_file(".github/workflows/pr.yml")
        github = {
            "repository": REPOSITORY,
            "sha": pull["head"]["sha"],
            "ref": f"refs/pull/{pull['number']}/merge",
            "base_ref": "main",
            "head_ref": pull["head"]["ref"],
            "token": "ghs_fake_token",
        }
        return self.runner.run(workflow, "pull_request", {"pull_request": pull}, github)["model-check"]

    def post_comment(self, pull: dict, conclusion: str):
        workflow = self.workspace_file(".github/workflows/model-check-comment.yml")
        event = {
            "workflow_run": {
                "id": 4242,
                "event": "pull_request",
                "conclusion": conclusion,
                "head_sha": pull["head"]["sha"],
                "head_branch": pull["head"]["ref"],
                "head_repository": {"full_name": pull["head"]["repo"]["full_name"]},
            }
        }
        github = {
            "repository": REPOSITORY,
            "sha": self.git("rev-parse", "main"),
            "ref": "refs/heads/main",
            "token": "ghs_fake_token",
        }
        return self.runner.run(workflow, "workflow_run", event, github)["post"]

    def workspace_file(self, name: str) -> Path:
        return self.origin / name  # workflows run from the default branch's copy

    def comments(self, pr: int) -> list[dict]:
        return comments(self.runner, pr)


def write_pulls(runner: Runner, pulls: dict[str, dict]) -> None:
    """Set the PRs the gh stand-in knows, keeping the comments it recorded."""
    state = json.loads(runner.gh_state.read_text()) if runner.gh_state.exists() else {}
    runner.gh_state.write_text(json.dumps({**state, "pulls": pulls}))


def comments(runner: Runner, pr: int) -> list[dict]:
    """The comments on PR `pr` as the gh stand-in recorded them (posted with `gh api`)."""
    if not runner.gh_state.exists():
        return []
    return [c for c in json.loads(runner.gh_state.read_text()).get("comments", []) if c["pr"] == pr]
