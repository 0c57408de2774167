"""Run a rendered GitHub workflow's steps here, for real, the way a GitHub runner would.

`run:` steps execute in order with bash (-eo pipefail), with the environment GitHub gives
(GITHUB_*, the workflow/job/step `env:`). Each job starts, as on GitHub, in an empty workspace
that is not inside any git repository; only a checkout step puts the local "origin" repo there.
`uses:` steps are emulated: checkout (a clone, shallow unless fetch-depth: 0), setup-uv and
cache (uv is on PATH; caching only saves time), upload/download-artifact (a local folder per
artifact name, rooted like GitHub's at the least common ancestor of the uploaded paths),
setup-cml (puts the recording `cml` stand-in on PATH). Each action must be pinned to the commit
in CHECKED_PINS. Only a short allowlist of `${{ }}` expressions is understood (github.*, secrets.*,
steps.<id>.outputs.*, comparisons joined by &&), and none inside
`run:`; anything else raises HarnessError, so the workflows have to stay simple enough to be
tested this way.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from support.projects import outer_env_removed

STAND_INS = Path(__file__).parent / "stand_ins"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
CONTEXT_PATH = re.compile(r"(github|secrets)(\.[A-Za-z_][A-Za-z0-9_]*)+")
STEP_OUTPUT = re.compile(r"steps\.([A-Za-z_][A-Za-z0-9_-]*)\.outputs\.([A-Za-z_][A-Za-z0-9_-]*)")
# Every action the generated workflows use, at the commit its release tag pointed to when we
# checked it in a clone of the action's repository (`git rev-parse TAG^{commit}`). A pin's
# comment must name that tag; bumping a pin means checking the new tag and updating this table.
CHECKED_PINS = {
    "actions/checkout": ("08c6903cd8c0fde910a37f88322edcfb5dd907a8", "v5.0.0"),
    "astral-sh/setup-uv": ("6b9c6063abd6010835644d4c2e1bef4cf5cd0fca", "v6.0.1"),
    "actions/cache": ("0057852bfaa89a56745cba8c7296529d2fc39830", "v4.3.0"),
    # The same repository and tag: restore-only and save-only halves of actions/cache.
    "actions/cache/restore": ("0057852bfaa89a56745cba8c7296529d2fc39830", "v4.3.0"),
    "actions/cache/save": ("0057852bfaa89a56745cba8c7296529d2fc39830", "v4.3.0"),
    "actions/upload-artifact": ("ea165f8d65b6e75b540449e92b4886f43607fa02", "v4.6.2"),
    "actions/download-artifact": ("d3f86a106a0bac45b974a628896c90dbdf5c8093", "v4.3.0"),
    "iterative/setup-cml": ("f12ea7685438c1fc438d50f77519b3860cf5fa98", "v2.0.1"),
}
KNOWN_ACTIONS = set(CHECKED_PINS)


class HarnessError(Exception):
    """The workflow uses something this harness does not support (on purpose)."""


@dataclass
class StepResult:
    name: str
    outcome: str  # success | failure | skipped
    output: str = ""
    seconds: float = 0.0


@dataclass
class JobResult:
    steps: list[StepResult] = field(default_factory=list)

    @property
    def conclusion(self) -> str:
        return "failure" if any(s.outcome == "failure" for s in self.steps) else "success"

    def failures(self) -> str:
        """The failed steps with the end of their output, for assertion messages."""
        return "\n".join(
            f"{s.name}: {s.outcome}\n{s.output[-1500:]}" for s in self.steps if s.outcome == "failure"
        )

    def step(self, prefix: str) -> StepResult:
        return next(s for s in self.steps if s.name.startswith(prefix))


@dataclass
class Runner:
    origin: Path  # the "GitHub" repository, a local git repo
    root: Path  # scratch space: workspaces, artifacts, state
    tools_bin: Path  # where uv lives (the test venv)
    secrets: dict[str, str] = field(default_factory=dict)
    jobs_run: int = 0

    @property
    def artifacts(self) -> Path:
        return self.root / "artifacts"

    @property
    def cml_state(self) -> Path:
        return self.root / "cml-comments.json"

    @property
    def gh_state(self) -> Path:
        return self.root / "gh-pulls.json"

    def run(
        self, workflow: Path, event_name: str, event: dict[str, Any], github: dict[str, Any]
    ) -> dict[str, JobResult]:
        spec = yaml.safe_load(workflow.read_text())
        triggers = spec.get(True, spec.get("on"))  # YAML 1.1 reads `on:` as True
        if event_name not in triggers:
            raise HarnessError(f"{workflow.name} does not run on {event_name}")
        context = {"github": {**github, "event": event, "event_name": event_name}, "secrets": self.secrets}
        results = {}
        for job_id, job in spec["jobs"].items():
            if "if" in job and not self.condition(job["if"], context, []):
                results[job_id] = JobResult([StepResult("(job)", "skipped")])
                continue
            results[job_id] = self.run_job(spec, job_id, job, context, workflow.stem)
        return results

    def run_job(self, spec, job_id, job, context, workflow_name) -> JobResult:
        self.jobs_run += 1
        workspace = self.root / "work" / f"{self.jobs_run:02d}-{workflow_name}-{job_id}"
        workspace.mkdir(parents=True)
        bin_dir = workspace.parent / f"{workspace.name}-bin"
        bin_dir.mkdir()
        shutil.copy2(STAND_INS / "gh", bin_dir / "gh")  # gh is preinstalled on GitHub runners
        summary = workspace.parent / f"{workspace.name}-summary.md"
        summary.touch()
        github = context["github"]
        base_env = outer_env_removed()
        base_env.update(
            CI="true",
            GITHUB_ACTIONS="true",
            GITHUB_WORKSPACE=str(workspace),
            GITHUB_REPOSITORY=github["repository"],
            GITHUB_SERVER_URL="https://github.com",
            # A runner's workspace is in no repository: git must not find one above it here either.
            GIT_CEILING_DIRECTORIES=str(workspace.parent),
            GITHUB_SHA=github["sha"],
            GITHUB_REF=github.get("ref", ""),
            GITHUB_EVENT_NAME=github["event_name"],
            GITHUB_BASE_REF=github.get("base_ref", ""),
            GITHUB_HEAD_REF=github.get("head_ref", ""),
            GITHUB_WORKFLOW=spec.get("name", workflow_name),
            GITHUB_RUN_ID="4242",
            GITHUB_STEP_SUMMARY=str(summary),
            RUNNER_TEMP=str(workspace.parent),
            CML_STAND_IN_STATE=str(self.cml_state),
            GH_STAND_IN_STATE=str(self.gh_state),
        )
        env_layers = [spec.get("env", {}), job.get("env", {})]
        result = JobResult()
        # `steps.<id>.outputs.<name>`: what a step with an id wrote to $GITHUB_OUTPUT (key=value lines).
        ids = [step["id"] for step in job["steps"] if "id" in step]
        context = {**context, "steps": {step_id: {"outputs": {}} for step_id in ids}}
        output_file = workspace.parent / f"{workspace.name}-output"
        for index, step in enumerate(job["steps"]):
            name = step.get("name") or step.get("uses") or f"step {index}"
            failed = result.conclusion == "failure"
            condition = step.get("if", "success()")
            if not self.condition(condition, context, result.steps, failed):
                result.steps.append(StepResult(name, "skipped"))
                continue
            env = dict(base_env)
            for layer in [*env_layers, step.get("env", {})]:
                env.update({k: self.render(str(v), context, workspace) for k, v in layer.items()})
            env["PATH"] = os.pathsep.join([str(bin_dir), str(self.tools_bin), base_env["PATH"]])
            output_file.write_text("")
            env["GITHUB_OUTPUT"] = str(output_file)
            started = time.perf_counter()
            try:
                if "uses" in step:
                    output = self.uses(step, context, workspace, bin_dir)
                    outcome = "success"
                else:
                    outcome, output = self.shell(step["run"], env, workspace)
            except subprocess.CalledProcessError as error:
                outcome, output = "failure", f"{error}\n{error.stdout}\n{error.stderr}"
            result.steps.append(StepResult(name, outcome, output, time.perf_counter() - started))
            if "id" in step:
                context["steps"][step["id"]]["outputs"] = self.outputs(output_file)
        return result

    @staticmethod
    def outputs(path: Path) -> dict[str, str]:
        """$GITHUB_OUTPUT's `key=value` lines; the multi-line `key<<EOF` form is not supported."""
        found = {}
        for line in path.read_text().splitlines():
            key, equals, value = line.partition("=")
            if not equals or "<<" in key:
                raise HarnessError(f"unsupported GITHUB_OUTPUT line: {line!r}")
            found[key] = value
        return found

    def condition(self, expression: str, context, steps, failed: bool = False) -> bool:
        expression = EXPRESSION.sub(lambda m: m.group(1), str(expression)).strip()
        results = []
        for raw_part in expression.split("&&"):
            part = raw_part.strip()
            if part in ("always()",):
                return True
            if part == "success()":
                results.append(not failed)
                continue
            if part == "failure()":
                results.append(failed)
                continue
            match = re.fullmatch(r"(.+?)\s*(==|!=)\s*(.+)", part)
            if not match:
                raise HarnessError(f"unsupported if: {part!r}")
            left, op, right = (
                self.value(match.group(1), context),
                match.group(2),
                self.value(match.group(3), context),
            )
            results.append((left == right) if op == "==" else (left != right))
        if "success()" not in expression and "failure()" not in expression:
            results.append(not failed)  # GitHub adds success() unless a status function is used
        return all(results)

    def value(self, token: str, context) -> Any:
        token = token.strip()
        if re.fullmatch(r"'[^']*'", token):
            return token[1:-1]
        if CONTEXT_PATH.fullmatch(token):
            node: Any = context
            for part in token.split("."):
                if token.startswith("secrets.") and part != "secrets":
                    return node.get(part, "")
                if not isinstance(node, dict) or part not in node:
                    raise HarnessError(f"unknown context value: {token}")
                node = node[part]
            return node
        output = STEP_OUTPUT.fullmatch(token)
        if output:
            if output.group(1) not in context.get("steps", {}):
                raise HarnessError(f"no step with id {output.group(1)}")
            return context["steps"][output.group(1)]["outputs"].get(output.group(2), "")  # GitHub: ""
        raise HarnessError(f"unsupported expression: {token!r}")

    def render(self, text: str, context, workspace: Path) -> str:
        def replace(match: re.Match) -> str:
            expression = match.group(1)
            hashed = re.fullmatch(r"hashFiles\('([^']+)'\)", expression)
            if hashed:
                files = sorted(workspace.glob(hashed.group(1)))
                digest = hashlib.sha256()
                for path in files:
                    digest.update(hashlib.sha256(path.read_bytes()).digest())
                return digest.hexdigest() if files else ""
            return str(self.value(expression, context))

        return EXPRESSION.sub(replace, text)

    def shell(self, script: str, env: dict[str, str], workspace: Path) -> tuple[str, str]:
        if "${{" in script:
            raise HarnessError("`${{ }}` inside run: is not allowed; pass values through env:")
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        return ("success" if done.returncode == 0 else "failure"), done.stdout + done.stderr

    def uses(self, step, context, workspace: Path, bin_dir: Path) -> str:
        action, _, ref = step["uses"].partition("@")
        if action not in KNOWN_ACTIONS:
            raise HarnessError(f"no emulation for action {action}")
        if not re.fullmatch(r"[0-9a-f]{40}", ref):
            raise HarnessError(f"{action} is not pinned to a full commit SHA: {ref}")
        if ref != CHECKED_PINS[action][0]:
            raise HarnessError(f"{action}@{ref} is not the checked commit of any release (CHECKED_PINS)")
        inputs = {k: self.render(str(v), context, workspace) for k, v in (step.get("with") or {}).items()}
        if action == "actions/checkout":
            ref = inputs.get("ref") or context["github"]["sha"]
            depth = [] if inputs.get("fetch-depth") == "0" else ["--depth", "1", "--no-single-branch"]
            subprocess.run(
                ["git", "clone", "--quiet", *depth, f"file://{self.origin}", str(workspace)],
                check=True,
                capture_output=True,
                text=True,
            )
            subprocess.run(
                ["git", "checkout", "--quiet", "--detach", ref],
                cwd=workspace,
                check=True,
                capture_output=True,
                text=True,
            )
            return f"checked out {ref}"
        if action == "actions/upload-artifact":
            return self.upload(inputs, workspace)
        if action == "actions/download-artifact":
            source = self.artifacts / inputs["name"]
            if not source.exists():
                raise subprocess.CalledProcessError(
                    1, "download-artifact", "", f"no artifact {inputs['name']}"
                )
            shutil.copytree(source, workspace / inputs.get("path", "."), dirs_exist_ok=True)
            return f"downloaded {inputs['name']}"
        if action == "iterative/setup-cml":
            shutil.copy2(STAND_INS / "cml", bin_dir / "cml")
            return "cml stand-in on PATH"
        if action == "actions/cache/restore":
            return self.restore_cache(inputs, context, workspace)
        if action == "actions/cache/save":
            return self.save_cache(inputs, context, workspace)
        return f"{action}: nothing to emulate"  # setup-uv (uv is on PATH), cache

    @property
    def caches(self) -> Path:
        return self.root / "actions-cache"

    def cache_scopes(self, context) -> list[str]:
        """GitHub's cache isolation: a run reads its own ref's caches, then the default branch's."""
        ref = context["github"].get("ref") or "refs/heads/main"
        return list(dict.fromkeys([ref, "refs/heads/main"]))

    def restore_cache(self, inputs: dict[str, str], context, workspace: Path) -> str:
        """Exact key first, then the newest entry matching a restore-keys prefix; outputs as GitHub's."""
        prefixes = [line.strip() for line in inputs.get("restore-keys", "").splitlines() if line.strip()]
        matched = None
        for scope in self.cache_scopes(context):
            entries = self.caches / scope.replace("/", "_")
            if (entries / inputs["key"]).is_dir():
                matched = entries / inputs["key"]
                break
            candidates = [e for e in entries.glob("*") if any(e.name.startswith(p) for p in prefixes)]
            if candidates:
                matched = max(candidates, key=lambda e: e.stat().st_mtime_ns)
                break
        output_file = workspace.parent / f"{workspace.name}-output"
        if matched is None:
            return "cache not found"
        shutil.copytree(matched, workspace / inputs["path"], dirs_exist_ok=True)
        hit = "true" if matched.name == inputs["key"] else "false"
        output_file.write_text(f"cache-hit={hit}\ncache-matched-key={matched.name}\n")
        return f"restored {matched.name}"

    def save_cache(self, inputs: dict[str, str], context, workspace: Path) -> str:
        """Saved under the run's own ref; an existing key is never overwritten (GitHub's rule)."""
        target = self.caches / self.cache_scopes(context)[0].replace("/", "_") / inputs["key"]
        if target.exists():
            return f"cache {inputs['key']} exists; not saved"
        shutil.copytree(workspace / inputs["path"], target)
        return f"saved {inputs['key']}"

    def upload(self, inputs: dict[str, str], workspace: Path) -> str:
        """Store the files at the artifact's root as GitHub does: paths relative to the least
        common ancestor of the search paths (one directory's contents sit at the root)."""
        target = self.artifacts / inputs["name"]
        searches = [workspace / line.strip() for line in inputs["path"].splitlines() if line.strip()]
        found = [path for path in searches if path.exists()]
        if not found:
            if inputs.get("if-no-files-found") == "error":
                raise subprocess.CalledProcessError(1, "upload-artifact", "", f"no files at {searches}")
            return "nothing to upload"
        roots = [path if path.is_dir() else path.parent for path in found]
        root = Path(os.path.commonpath(roots))
        files = [f for path in found for f in ([path] if path.is_file() else path.rglob("*")) if f.is_file()]
        for file in files:
            destination = target / file.relative_to(root)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file, destination)
        return f"uploaded {inputs['name']}: {len(files)} files"
