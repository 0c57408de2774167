"""The pull-request report: verdict first, then metrics base | head with paired 95% intervals,
changed params, data, plots as numbers, lineage. Plain markdown, capped below GitHub's limit.

Layout: docs/pr-report-example.md. Inputs are two run folders written by `pr_check pr`
(metrics, per-row predictions, lineage, params, validation report of each commit).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .._internal.shift import ColumnShift
from ..metrics import DIRECTIONS, METRICS
from ..params import flat_params
from .compare import Comparison, MetricComparison, compare

GITHUB_COMMENT_LIMIT = 65_536  # characters, as GitHub counts them; the poster checks the same (wc -m)
# The poster appends its marker comment and, with publish_plots, swaps plots.png for an asset URL.
POSTER_RESERVE = 512
REPORT_LIMIT = GITHUB_COMMENT_LIMIT - POSTER_RESERVE
MAX_PARAM_ROWS = 40
METRIC_NAMES = {name: metric.label for name, metric in METRICS.items()}
MINUS = "\u2212"


@dataclass(frozen=True)
class RunResult:
    """One commit's CI run, as collected into a report folder."""

    metrics: dict[str, float]
    gate: dict[str, Any]
    predictions: pd.DataFrame
    lineage: dict[str, Any]
    params: dict[str, Any]
    validation: dict[str, Any]
    model_bytes: int
    importance: pd.DataFrame | None = None  # permutation importance; None for runs from before it existed

    @classmethod
    def load(cls, folder: Path) -> RunResult:
        def read_json(name: str) -> Any:
            return json.loads((folder / name).read_text(encoding="utf-8"))

        return cls(
            metrics=read_json("metrics.json"),
            gate=read_json("quality_gate.json"),
            predictions=pd.read_csv(folder / "predictions.csv"),
            lineage=read_json("model.json"),
            params=yaml.safe_load((folder / "params.yaml").read_text(encoding="utf-8")),
            validation=read_json("validation.json"),
            model_bytes=int(read_json("model_size.json")["bytes"]),
            importance=pd.read_csv(folder / "importance.csv") if (folder / "importance.csv").exists() else None,
        )


@dataclass(frozen=True)
class ReportContext:
    base_sha: str
    head_sha: str
    base_ref: str
    base_error: str | None = None  # why the base could not run, if it could not
    runs: str = ""  # which commit trained and which came back from the run cache
    drift: list[ColumnShift] | None = None  # None when the raw data is identical
    # With publishing on, CML uploads plots.png to its public asset server and the comment shows it.
    publish_plots: bool = False

    @property
    def publish_note(self) -> str:
        return "the image is below" if self.publish_plots else "plots.png is in the run's artifacts; publishing is off"


@dataclass(frozen=True)
class Verdict:
    passed: bool
    headline: str
    reasons: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"verdict": "PASS" if self.passed else "FAIL", "headline": self.headline, "reasons": self.reasons}


def fmt(value: float) -> str:
    """Grams and other large numbers with one decimal, scores with three."""
    text = f"{value:.1f}" if abs(value) >= 100 else f"{value:.3f}"
    return text.replace("-", MINUS)


def signed(value: float) -> str:
    return ("+" if value > 0 else "") + fmt(value) if value != 0 else fmt(0.0)


def short(sha: str) -> str:
    return sha[:7]


def decide(head: RunResult, comparison: Comparison | None, context: ReportContext) -> Verdict:
    """PASS/FAIL with one line saying why (direction-aware).

    The quality bar is judged once, by `evaluate` (metrics/quality_gate.json); this adds the
    comparison with the base.
    """
    gate = head.gate
    metric, tolerance = gate["metric"], float(head.params["evaluate"]["tolerance"])
    name, value = METRIC_NAMES[metric], float(gate["value"])
    sign = "≤" if gate["direction"] == "lower" else "≥"
    if not gate["passed"]:
        return Verdict(False, f"{name} {fmt(value)} misses the quality bar ({sign} {fmt(float(gate['threshold']))})")
    if comparison is None:
        return Verdict(True, f"{name} {fmt(value)} meets the bar; no baseline ({context.base_error})")
    primary = comparison.get(metric)
    interval = f"95% CI {signed(primary.ci_low)} to {signed(primary.ci_high)}"
    if not comparison.enough_rows:
        return Verdict(
            True,
            f"{name} {fmt(value)} meets the bar; too few paired test rows ({comparison.paired_rows}) to compare",
        )
    regressed = primary.ci_low > tolerance if primary.direction == "lower" else primary.ci_high < -tolerance
    change = "rose" if primary.delta > 0 else "fell"
    if regressed:
        return Verdict(False, f"{name} {change} {fmt(abs(primary.delta))} ({interval}) over the base")
    if primary.significant and not primary.worse:
        return Verdict(True, f"{name} improved by {fmt(abs(primary.delta))} ({interval})")
    if primary.significant:
        return Verdict(
            True,
            f"{name} {change} {fmt(abs(primary.delta))} ({interval}), within the tolerance of {fmt(tolerance)}",
        )
    return Verdict(True, f"no significant change in {name} ({signed(primary.delta)}, {interval})")


def metric_row(m: MetricComparison, primary: str) -> str:
    name = METRIC_NAMES[m.metric]
    name = f"**{name}**" if m.metric == primary else name
    status = "no significant change"
    if m.significant:
        status = f"{'worse' if m.worse else 'better'}, significant"
    interval = f"{signed(m.ci_low)} … {signed(m.ci_high)}"
    return f"| {name} | {m.direction} | {fmt(m.base)} | {fmt(m.head)} | {signed(m.delta)} | {interval} | {status} |"


def cell(value: Any) -> str:
    """A table cell: YAML spelling (null, true), pipes escaped so tables stay intact."""
    text = "(absent)" if value is _ABSENT else yaml.safe_dump(value, default_flow_style=True).strip()
    text = text.removesuffix("\n...").strip()
    return text.replace("|", "\\|").replace("\n", " ")


_ABSENT = object()


def params_section(base: RunResult, head: RunResult) -> list[str]:
    base_flat, head_flat = flat_params(base.params), flat_params(head.params)
    changed = [
        key
        for key in sorted(base_flat.keys() | head_flat.keys())
        if base_flat.get(key, _ABSENT) != head_flat.get(key, _ABSENT)
    ]
    if not changed:
        return ["**Params changed:** none"]
    lines = ["**Params changed**", "", "| param | base | head |", "|---|---|---|"]
    for key in changed[:MAX_PARAM_ROWS]:
        lines.append(f"| `{key}` | {cell(base_flat.get(key, _ABSENT))} | {cell(head_flat.get(key, _ABSENT))} |")
    if len(changed) > MAX_PARAM_ROWS:
        lines.append(f"| … {len(changed) - MAX_PARAM_ROWS} more changed params cut | | |")
    return lines


def data_section(base: RunResult | None, head: RunResult, comparison: Comparison | None, context: ReportContext):
    rows = head.validation["rows"]
    if context.drift is None:
        drift_summary, table = "no drift (data unchanged)", ["| (data files identical in base and head) | | | |"]
    else:
        shifted = [s.column for s in context.drift if s.shifted]
        drift_summary = f"drift in {', '.join(shifted)}" if shifted else "data changed, no significant drift"
        table = [
            f"| `{s.column}` | {s.test} | {s.p_adjusted:.3g} | {'**yes**' if s.shifted else 'no'} |"
            for s in context.drift
        ]
    summary = f"Data: {rows} rows, schema OK, {drift_summary}"
    lines = [f"<details><summary>{summary}</summary>", ""]
    if comparison is not None and (comparison.base_only_rows or comparison.head_only_rows):
        lines += [
            f"Head changed the data or the split: paired on the {comparison.paired_rows} test rows both "
            f"have ({comparison.base_only_rows} only in base, {comparison.head_only_rows} only in head).",
            "",
        ]
    lines += ["| column | test | p-value (BH-adjusted) | drift |", "|---|---|---:|---|", *table, "", "</details>"]
    return lines


def confusion_section(base: RunResult | None, head: RunResult, context: ReportContext) -> list[str]:
    def counts(run: RunResult) -> pd.DataFrame:
        frame = run.predictions.astype({"actual": str, "predicted": str})
        return pd.crosstab(frame["actual"], frame["predicted"])

    head_counts = counts(head)
    base_counts = counts(base) if base is not None else None
    labels = sorted(set(head_counts.index) | set(head_counts.columns))
    lines = [
        f"<details><summary>Confusion matrices ({context.publish_note})</summary>",
        "",
        "| true \\ predicted | " + " | ".join(labels) + " |",
        "|---|" + "---:|" * len(labels),
    ]
    for true in labels:
        cells = []
        for predicted in labels:
            now = int(head_counts.get(predicted, pd.Series(dtype=int)).get(true, 0))
            before = now if base_counts is None else int(base_counts.get(predicted, pd.Series(dtype=int)).get(true, 0))
            cells.append(str(now) if before == now else f"{before} → {now}")
        lines.append(f"| {true} | " + " | ".join(cells) + " |")
    lines += ["", "(base → head where they differ)", *plot_image(context), "", "</details>"]
    return lines


def residual_section(base: RunResult | None, head: RunResult, context: ReportContext) -> list[str]:
    def by_quartile(run: RunResult) -> pd.Series:
        frame = run.predictions
        quartile = pd.qcut(frame["actual"], 4, labels=["Q1 (lightest)", "Q2", "Q3", "Q4 (heaviest)"])
        return (frame["predicted"] - frame["actual"]).abs().groupby(quartile, observed=True).mean()

    head_mae = by_quartile(head)
    base_mae = by_quartile(base) if base is not None else None
    lines = [
        f"<details><summary>Residuals: MAE by true-value quartile ({context.publish_note})</summary>",
        "",
        "| quartile of actual | base MAE | head MAE |",
        "|---|---:|---:|",
    ]
    for quartile, value in head_mae.items():
        before = "—" if base_mae is None else fmt(float(base_mae[quartile]))
        lines.append(f"| {quartile} | {before} | {fmt(float(value))} |")
    lines += [*plot_image(context), "", "</details>"]
    return lines


def plot_image(context: ReportContext) -> list[str]:
    return ["", "![base and head](plots.png)"] if context.publish_plots else []


def write_plots(base: RunResult | None, head: RunResult, task: str, path: Path) -> None:
    """Confusion matrices (classification) or predicted vs actual (regression), base beside head."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [("base", base), ("head", head)] if base is not None else [("head", head)]
    figure, axes = plt.subplots(1, len(runs), figsize=(4.5 * len(runs), 4), squeeze=False)
    for axis, (label, run) in zip(axes[0], runs, strict=True):
        frame = run.predictions
        if task == "classification":
            from sklearn.metrics import ConfusionMatrixDisplay

            ConfusionMatrixDisplay.from_predictions(
                frame["actual"].astype(str), frame["predicted"].astype(str), ax=axis, colorbar=False
            )
        else:
            axis.scatter(frame["actual"], frame["predicted"], s=10, alpha=0.7)
            low, high = frame["actual"].min(), frame["actual"].max()
            axis.plot([low, high], [low, high], color="grey", linewidth=1)
            axis.set_xlabel("actual")
            axis.set_ylabel("predicted")
        axis.set_title(label)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def importance_changed(base: pd.DataFrame, head: pd.DataFrame) -> bool:
    """A different ranking, or a value moving by more than twice its shuffle-to-shuffle spread."""
    if list(base["feature"]) != list(head["feature"]):
        return True
    joined = base.merge(head, on="feature", suffixes=("_base", "_head"))
    noise = 2 * joined[["std_base", "std_head"]].max(axis=1).clip(lower=1e-3)
    return bool(((joined["importance_head"] - joined["importance_base"]).abs() > noise).any())


def importance_section(base: RunResult | None, head: RunResult) -> list[str]:
    """Permutation importance, as a table when it changed (or there is nothing to compare with)."""
    if head.importance is None:
        return []
    top = ", ".join(head.importance["feature"].head(3))
    if base is not None and base.importance is not None and not importance_changed(base.importance, head.importance):
        return [f"**Feature importance:** unchanged (top: {top})"]
    before = {} if base is None or base.importance is None else dict(base.importance[["feature", "importance"]].values)
    lines = [
        f"<details><summary>Feature importance changed (top: {top})</summary>",
        "",
        "Drop in the primary metric when the feature is shuffled (permutation importance, test rows).",
        "",
        "| feature | base | head | ± (head, 1 sd) |",
        "|---|---:|---:|---:|",
    ]
    for row in head.importance.itertuples():
        old = fmt(float(before[row.feature])) if row.feature in before else "—"
        lines.append(f"| `{row.feature}` | {old} | {fmt(float(row.importance))} | {fmt(float(row.std))} |")
    return [*lines, "", "</details>"]


def lineage_section(base: RunResult | None, head: RunResult, context: ReportContext) -> list[str]:
    subset = head.params["data"]["subset"]
    raw_path = head.params["data"]["raw_path"]
    data_md5 = head.lineage["data_md5"].get(raw_path, "?")
    libraries = head.lineage["libraries"]
    base_part = f"base `{short(context.base_sha)}` (merge base)" if base is not None else "no baseline"
    return [
        "<details><summary>Lineage</summary>",
        "",
        f"{base_part} · head `{short(context.head_sha)}` · data md5 `{data_md5[:8]}…` · "
        f"subset {subset['fraction'] * 100:.0f}%, seed {subset['seed']} · model {head.model_bytes / 1024:.0f} KB · "
        f"train {head.lineage['train_seconds']:.1f} s · dvc {libraries.get('dvc')} · "
        f"scikit-learn {libraries.get('scikit-learn')}",
        "",
        "</details>",
    ]


def build_report(base: RunResult | None, head: RunResult, context: ReportContext) -> tuple[str, Verdict]:
    task = head.params["task"]
    comparison = compare(base.predictions, head.predictions, task) if base is not None else None
    verdict = decide(head, comparison, context)
    bar = head.params["evaluate"]
    primary = bar["primary_metric"]
    subset = head.params["data"]["subset"]
    rows = head.lineage["rows"]
    icon, word = ("✅", "PASS") if verdict.passed else ("❌", "FAIL")
    sign = "≤" if bar["direction"] == "lower" else "≥"
    limit = "rise" if bar["direction"] == "lower" else "drop"
    lines = [
        f"## {icon} Model check: {word} — {verdict.headline}",
        "",
        f"Both commits trained on the CI subset ({subset['fraction'] * 100:.0f}% of the {rows['train_available']} "
        f"training rows, seed {subset['seed']}) and scored on the same {len(head.predictions)} test rows "
        "(the full test split), paired by row id. "
        + (
            f"Base = merge base `{short(context.base_sha)}` of this PR and `{context.base_ref}`; "
            if base is not None
            else f"No baseline: {context.base_error}. "
        )
        + f"head = `{short(context.head_sha)}`. "
        + (f"{context.runs[0].upper()}{context.runs[1:]}. " if context.runs else "")
        + "Quality bar from `params/evaluate/`: "
        f"{METRIC_NAMES[primary]} {sign} {fmt(float(bar['threshold']))} and no significant {limit} "
        f"beyond {fmt(float(bar['tolerance']))} vs base.",
        "",
    ]
    if comparison is not None:
        lines += [
            f"| metric | better | base `{short(context.base_sha)}` | head `{short(context.head_sha)}` | Δ "
            "| 95% CI of Δ | |",
            "|---|---|---:|---:|---:|---|---|",
            *(metric_row(m, primary) for m in comparison.metrics),
            "",
            *params_section(base, head),
        ]
    else:
        lines += [
            "| metric | better | head |",
            "|---|---|---:|",
            *(f"| {METRIC_NAMES[k]} | {DIRECTIONS[k]} | {fmt(v)} |" for k, v in head.metrics.items()),
        ]
    optional = [
        data_section(base, head, comparison, context),
        (confusion_section if task == "classification" else residual_section)(base, head, context),
        importance_section(base, head),
        lineage_section(base, head, context),
    ]
    report = "\n".join(lines)
    cut = []
    for section in (s for s in optional if s):
        text = "\n".join(section)
        if len(report) + len(text) + 200 > REPORT_LIMIT:
            cut.append(section[0])
            continue
        report += "\n\n" + text
    if cut:
        report += f"\n\n_Cut to stay under GitHub's comment limit: {len(cut)} section(s)._"
    return report + "\n", verdict
