"""The pull-request workflow, run step by step by the harness in a rendered project's clone.

Each scenario pushes a PR branch to a local "origin", runs model-check (pr.yml) as GitHub would
for that PR, then the comment poster (model-check-comment.yml) for the finished run, and reads
what the recording `gh` stand-in recorded as posted.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from support.fake_github import REPOSITORY, FakeGitHub, comments, write_pulls
from support.projects import LOGREG_LOCAL_REMOTE, TOOLS_BIN, Project, render, rendered_project
from support.workflow_harness import HarnessError, JobResult, Runner

pytestmark = pytest.mark.harness

MARKER = "<!-- model-check-comment -->"


@pytest.fixture(scope="module")
def github(default_project: Project, tmp_path_factory) -> FakeGitHub:
    return FakeGitHub(default_project, tmp_path_factory.mktemp("github"))


def run_pr(github: FakeGitHub, pull: dict):
    job = github.model_check(pull)
    poster = github.post_comment(pull, job.conclusion)
    return job, poster


def test_neutral_change_passes_with_both_columns_and_the_param(github: FakeGitHub):
    head = github.push(
        "more-trees",
        {"params/model/random_forest.yaml": ("n_estimators: 200", "n_estimators: 300")},
        "More trees",
    )
    pull = github.open_pr(1, "more-trees", head)
    job, poster = run_pr(github, pull)
    assert job.conclusion == "success", job.failures()
    assert poster.conclusion == "success", poster.failures()
    [comment] = github.comments(1)
    body = comment["body"]
    assert body.startswith("## ✅ Model check: PASS")
    main_sha = github.git("rev-parse", "main")
    assert f"| metric | better | base `{main_sha[:7]}` | head `{head[:7]}` |" in body
    assert "| `model.n_estimators` | 200 | 300 |" in body
    assert body.rstrip().endswith(MARKER)
    # No run cache from main yet: both commits trained.
    assert "Base retrained (validate, prepare, train, evaluate); head retrained (" in body
    assert comment["repo"] == REPOSITORY and comment["user"] == "github-actions[bot]"
    assert "plots.png is in the run's artifacts; publishing is off" in body
    assert not github.runner.cml_state.exists()  # publishing is off: CML is not even installed
    assert (github.runner.artifacts / "model-check-report" / "plots.png").stat().st_size > 10_000
    summary = job.step("Train base and head").output
    assert "PASS" in summary
    timings = ", ".join(f"{s.name.split(' (')[0]}: {s.seconds:.1f}s" for s in job.steps)
    print(f"model-check step timings: {timings}")


def test_crippled_model_fails_the_check_but_is_still_posted(github: FakeGitHub):
    head = github.push(
        "stump",
        {
            "params/model/random_forest.yaml": (
                "n_estimators: 200\nmax_depth: null",
                "n_estimators: 1\nmax_depth: 1",
            )
        },
        "Cripple the model",
    )
    pull = github.open_pr(2, "stump", head)
    job, poster = run_pr(github, pull)
    assert job.conclusion == "failure"
    assert job.step("Upload the report").outcome == "success"
    assert job.step("Fail the check").outcome == "failure"
    assert poster.conclusion == "success"
    [comment] = github.comments(2)
    assert comment["body"].startswith("## ❌ Model check: FAIL — log loss")
    assert "| `model.max_depth` | null | 1 |" in comment["body"]
    assert "worse, significant" in comment["body"]


def test_second_push_updates_the_same_comment(github: FakeGitHub):
    head = github.push(
        "stump",
        {
            "params/model/random_forest.yaml": (
                "n_estimators: 1\nmax_depth: 1",
                "n_estimators: 200\nmax_depth: 8",
            )
        },
        "Fix the model",
    )
    pull = github.open_pr(2, "stump", head)
    job, poster = run_pr(github, pull)
    assert job.conclusion == "success"
    assert poster.conclusion == "success"
    [comment] = github.comments(2)
    assert comment["updates"] == 1
    assert comment["body"].startswith("## ✅ Model check: PASS")
    assert f"head `{head[:7]}`" in comment["body"]


def test_stale_run_does_not_overwrite_a_newer_comment(github: FakeGitHub):
    before = github.comments(2)[0]["body"]
    old_head = github.git("rev-parse", "stump~1")
    stale = {"number": 2, "head": {"sha": old_head, "ref": "stump", "repo": {"full_name": REPOSITORY}}}
    (github.runner.artifacts / "model-check-report" / "head_sha").write_text(old_head)
    poster = github.post_comment(stale, "failure")
    assert poster.conclusion == "success"
    assert "moved on" in poster.step("Post or update").output
    assert github.comments(2)[0]["body"] == before


def test_data_change_shows_the_drift_section(github: FakeGitHub):
    raw = github.origin / "data/raw/penguins.csv"
    lines = raw.read_text().splitlines(keepends=True)
    shifted = [lines[0]] + [
        line.replace(",3", ",4", 1) if index % 2 == 0 else line for index, line in enumerate(lines[1:])
    ]
    head = github.push("new-data", {"data/raw/penguins.csv": ("".join(lines), "".join(shifted))}, "New data")
    pull = github.open_pr(3, "new-data", head)
    job, poster = run_pr(github, pull)
    # Shifting bill lengths also hurts the model, so the verdict may be FAIL; either way it posts.
    assert job.step("Train base and head").outcome == "success"
    assert poster.conclusion == "success"
    [comment] = github.comments(3)
    body = comment["body"]
    assert "<details><summary>Data: 344 rows, schema OK, drift in" in body
    assert "| `bill_length_mm` | ks |" in body


def test_fork_without_secrets_stays_green_and_says_why(tmp_path_factory):
    project = rendered_project(LOGREG_LOCAL_REMOTE, tmp_path_factory)
    github = FakeGitHub(project, tmp_path_factory.mktemp("github-fork"))
    head = github.push(
        "fork-change", {"params/model/logistic_regression.yaml": ("C: 1.0", "C: 0.5")}, "Tune C"
    )
    pull = github.open_pr(4, "fork-change", head, fork=True)
    job, poster = run_pr(github, pull)
    assert job.conclusion == "success", job.failures()
    assert poster.conclusion == "success", poster.failures()
    assert job.step("Train base and head").outcome == "skipped"
    [comment] = github.comments(4)
    assert comment["body"].startswith(
        "## ⏭️ Model check: skipped — PR from a fork: no access to the data remote"
    )


def test_harness_refuses_expressions_inside_run(tmp_path):
    workflow = tmp_path / "bad.yml"
    workflow.write_text(
        "on: [pull_request]\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n"
    )
    runner = Runner(tmp_path, tmp_path, TOOLS_BIN)
    with pytest.raises(HarnessError, match="inside run"):
        runner.run(workflow, "pull_request", {}, {"repository": "a/b", "sha": "0" * 40})


def test_head_that_cannot_train_fails_with_the_reason_posted(github: FakeGitHub):
    head = github.push(
        "typo",
        {"params/model/random_forest.yaml": ("min_samples_leaf: 5", "min_samples_leaf: 5\nmax_dpth: 3")},
        "Typo in a param",
    )
    pull = github.open_pr(5, "typo", head)
    job, poster = run_pr(github, pull)
    assert job.conclusion == "failure"
    assert job.step("Fail the check").outcome == "failure"
    assert poster.conclusion == "success", poster.failures()
    [comment] = github.comments(5)
    assert comment["body"].startswith(f"## ❌ Model check: FAIL — head `{head[:7]}` did not run: ")
    assert "does not accept 'max_dpth'" in comment["body"]


def test_main_warms_the_run_cache_and_pull_requests_restore_their_base(github: FakeGitHub):
    """train.yml on main saves the DVC cache after a CI-subset run; PR checks restore it, never save."""
    main_sha = github.git("rev-parse", "main")
    context = {"repository": REPOSITORY, "sha": main_sha, "ref": "refs/heads/main", "token": "ghs_fake_token"}
    workflow = github.workspace_file(".github/workflows/train.yml")
    train = github.runner.run(workflow, "push", {}, context)["train"]
    assert train.conclusion == "success", train.failures()
    # After the full run only train and evaluate differ for the CI subset (validate and prepare match).
    assert "ran train, evaluate" in train.step("Run the CI-subset pipeline").output
    assert f"saved dvc-main-{main_sha}" in train.step("actions/cache/save").output

    deeper = {"params/model/random_forest.yaml": ("max_depth: null", "max_depth: 12")}
    head = github.push("deeper", deeper, "Depth")
    job, _ = run_pr(github, github.open_pr(6, "deeper", head))
    assert job.conclusion == "success", job.failures()
    assert f"restored dvc-main-{main_sha}" in job.step("actions/cache/restore").output
    body = github.comments(6)[0]["body"]
    # Only train and evaluate depend on the model's params: head's validate and prepare come back too.
    restored = f"Base restored from main's run cache @{main_sha[:7]} (ran only evaluate)"
    assert f"{restored}; head retrained (train, evaluate)" in body

    readme = (github.origin / "README.md").read_text()
    first_line = readme.splitlines()[0]
    head = github.push("docs", {"README.md": (first_line, first_line + "\n\nA docs-only change.")}, "Docs")
    job, _ = run_pr(github, github.open_pr(7, "docs", head))
    assert job.conclusion == "success", job.failures()
    body = github.comments(7)[0]["body"]
    # No stage input changed: head's stages come back from the same cache as the base's.
    assert f"head restored from main's run cache @{main_sha[:7]} (ran only evaluate)" in body
    timings = ", ".join(f"{s.name.split(' (')[0][:40]}: {s.seconds:.1f}s" for s in job.steps)
    print(f"docs-only model-check step timings (base and head cached): {timings}")
    # Pull requests only read: nothing was saved under a pull request's ref.
    assert sorted(path.name for path in github.runner.caches.iterdir()) == ["refs_heads_main"]


def harness_job(tmp_path: Path, steps: str) -> tuple[Runner, dict]:
    workflow = tmp_path / "toy.yml"
    workflow.write_text(
        "on: [workflow_dispatch]\npermissions: {}\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n"
        + steps
    )
    runner = Runner(tmp_path / "origin", tmp_path / "runner", TOOLS_BIN)
    (tmp_path / "runner").mkdir()
    context = {"repository": REPOSITORY, "sha": "0" * 40}
    return runner, runner.run(workflow, "workflow_dispatch", {}, context)["j"]


def test_harness_job_without_checkout_starts_empty_and_outside_any_repository(tmp_path):
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)  # a repo around the runner
    _, job = harness_job(
        tmp_path,
        '      - run: test -z "$(ls -A)" && ! git rev-parse --git-dir\n'
        "      - uses: iterative/setup-cml@f12ea7685438c1fc438d50f77519b3860cf5fa98 # v2.0.1\n"
        "      - name: cml without --repo\n"
        "        env: {REPO_TOKEN: t}\n"
        "        run: echo hi > r.md && cml comment update --target=pr/1 r.md\n",
    )
    assert job.steps[0].outcome == "success", job.steps[0].output
    assert job.step("cml without").outcome == "failure"
    assert "Command failed: git config --get remote.origin.url" in job.step("cml without").output


def test_harness_stores_uploads_at_the_least_common_ancestor(tmp_path):
    upload = "      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2\n"
    runner, job = harness_job(
        tmp_path,
        "      - run: mkdir -p out/sub && echo a > out/report.md && echo b > out/sub/x && echo c > top\n"
        + upload
        + "        with: {name: one-dir, path: out/}\n"
        + upload
        + "        with:\n          name: two-paths\n"
        + "          path: |\n            out/report.md\n            top\n",
    )
    assert job.conclusion == "success", job.failures()
    stored = {
        name: sorted(str(path.relative_to(root)) for path in root.rglob("*"))
        for name in ("one-dir", "two-paths")
        for root in [runner.artifacts / name]
    }
    assert stored == {"one-dir": ["report.md", "sub", "sub/x"], "two-paths": ["out", "out/report.md", "top"]}


def test_harness_refuses_a_pin_that_no_checked_release_has(tmp_path):
    with pytest.raises(HarnessError, match="not the checked commit"):
        unreleased = "iterative/setup-cml@097a56dfd473ec71fc3653645fcb15e3e2f4b75d # v2.0.0"
        harness_job(tmp_path, f"      - uses: {unreleased}\n")


class Poster:
    """Only the comment poster (model-check-comment.yml), run on a hand-made report artifact:
    no training, so it is fast, and the artifact can hold what a hostile PR's code would write."""

    head = "ab" * 20

    def __init__(self, root: Path, publish_plots: bool):
        project = root / "project"
        done = render(project, {"publish_plots": str(publish_plots).lower()}, "--trust", "--skip-tasks")
        assert done.returncode == 0, done.stdout + done.stderr
        self.workflow = project / ".github" / "workflows" / "model-check-comment.yml"
        self.runner = Runner(project, root / "runner", TOOLS_BIN)
        self.runner.root.mkdir()
        write_pulls(self.runner, {"7": {"head_sha": self.head}})

    def seed(self, comments: list[dict]) -> None:
        """Comments already on the PR, as (user, body) dicts."""
        state = json.loads(self.runner.gh_state.read_text())
        state["comments"] = [
            {"id": i, "repo": REPOSITORY, "pr": 7, "html_url": f"#{i}", "updates": 0, **c}
            for i, c in enumerate(comments, start=1)
        ]
        self.runner.gh_state.write_text(json.dumps(state))

    def post(self, files: dict[str, str | bytes]) -> JobResult:
        artifact = self.runner.artifacts / "model-check-report"
        shutil.rmtree(artifact, ignore_errors=True)
        artifact.mkdir(parents=True)
        for name, content in {"pr_number": "7", "head_sha": self.head, **files}.items():
            (artifact / name).write_bytes(content if isinstance(content, bytes) else content.encode())
        event = {
            "workflow_run": {
                "id": 4242,
                "event": "pull_request",
                "conclusion": "success",
                "head_sha": self.head,
                "head_branch": "branch",
                "head_repository": {"full_name": REPOSITORY},
            }
        }
        github = {
            "repository": REPOSITORY,
            "sha": "0" * 40,
            "ref": "refs/heads/main",
            "token": "ghs_fake_token",
        }
        return self.runner.run(self.workflow, "workflow_run", event, github)["post"]

    def gh_calls(self) -> list[list[str]]:
        return json.loads(self.runner.gh_state.read_text()).get("calls", [])

    def cml_calls(self) -> list[dict]:
        return (
            json.loads(self.runner.cml_state.read_text())["calls"] if self.runner.cml_state.exists() else []
        )


@pytest.fixture
def poster(tmp_path: Path) -> Poster:
    return Poster(tmp_path, publish_plots=False)


@pytest.fixture
def publishing_poster(tmp_path: Path) -> Poster:
    return Poster(tmp_path, publish_plots=True)


def test_poster_refuses_a_missing_report_with_one_line(poster: Poster):
    job = poster.post({})
    assert job.conclusion == "failure"
    assert job.step("Post or update").output.strip() == (
        "error: the model-check-report artifact has no report.md, nothing to post"
    )
    assert poster.gh_calls() == []


def test_poster_counts_characters_not_bytes_against_githubs_limit(poster: Poster):
    accents = "## ✅ Model check: PASS\n\n" + "é" * 40_000  # 80 KB of UTF-8, 40,025 characters
    job = poster.post({"report.md": accents})
    assert job.conclusion == "success", job.failures()
    [comment] = comments(poster.runner, 7)
    assert comment["body"].startswith(accents)
    job = poster.post({"report.md": "a" * 65_600})
    assert job.conclusion == "failure"
    assert "error: the comment is over GitHub's limit of 65,536 characters" in job.step("Post").output
    [unchanged] = comments(poster.runner, 7)
    assert unchanged["updates"] == 0


def test_poster_updates_its_own_comment_on_any_page_and_no_one_elses(poster: Poster):
    others = [{"user": f"reviewer{i}", "body": f"looks good {i}"} for i in range(35)]
    own = {"user": "github-actions[bot]", "body": f"old report\n\n{MARKER}\n"}
    # Newer than ours and holding our marker (quoted, or planted): CML would have updated this one.
    planted = {"user": "mallory", "body": f"quoting the bot: {MARKER}"}
    poster.seed([*others, own, planted])
    job = poster.post({"report.md": "## ✅ Model check: PASS\n"})
    assert job.conclusion == "success", job.failures()
    by_id = {c["id"]: c for c in comments(poster.runner, 7)}
    assert len(by_id) == 37  # updated, not created
    assert by_id[36]["updates"] == 1 and by_id[36]["body"].startswith("## ✅ Model check: PASS")
    assert by_id[37] == {**by_id[37], "body": planted["body"], "updates": 0}
    assert all(by_id[i]["updates"] == 0 for i in range(1, 36))


def test_poster_creates_its_comment_once_then_updates_it(poster: Poster):
    poster.seed([{"user": "mallory", "body": f"fake: {MARKER}"}])
    for verdict in ("FAIL", "PASS"):
        job = poster.post({"report.md": f"## Model check: {verdict}\n"})
        assert job.conclusion == "success", job.failures()
    [planted, own] = comments(poster.runner, 7)
    assert planted["updates"] == 0
    assert own["user"] == "github-actions[bot]" and own["updates"] == 1
    assert own["body"] == f"## Model check: PASS\n\n{MARKER}\n"


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_publishing_uploads_plots_png_and_nothing_the_report_links_to(publishing_poster: Poster):
    report = (
        "## ✅ Model check: PASS\n\n![base and head](plots.png)\n"
        "![a](secret.txt) ![b](../../../../etc/hostname) ![c](/etc/hostname) [d](pr_number)\n"
    )
    job = publishing_poster.post({"report.md": report, "plots.png": PNG, "secret.txt": "token"})
    assert job.conclusion == "success", job.failures()
    [call] = publishing_poster.cml_calls()
    assert call["argv"][:2] == ["asset", "publish"]
    assert call["uploaded_sha256"] == [hashlib.sha256(PNG).hexdigest()]
    [comment] = comments(publishing_poster.runner, 7)
    digest = hashlib.sha256(PNG).hexdigest()
    assert re.search(
        rf"!\[base and head\]\(https://asset\.cml\.dev/{digest}\?cml=png&cache-bypass=[0-9a-f-]+\)",
        comment["body"],
    )
    assert "](plots.png)" not in comment["body"]
    assert "![a](secret.txt) ![b](../../../../etc/hostname) ![c](/etc/hostname)" in comment["body"]


def test_publishing_refuses_a_plots_png_that_is_not_a_png(publishing_poster: Poster):
    job = publishing_poster.post({"report.md": "![base and head](plots.png)\n", "plots.png": "secret data"})
    assert job.conclusion == "failure"
    assert "error: plots.png in the artifact is not a PNG image" in job.step("Post").output
    assert publishing_poster.cml_calls() == [] and comments(publishing_poster.runner, 7) == []
