"""Keep an experiment: write its settings into params/, where the next `dvc repro` reads them.

`dvc exp run -S ...` and `dvc exp apply` change params.yaml only; params/ still says the old
model, so recomposing (or the lint check) would silently undo the experiment. This writes each
difference where a person would have edited it: a group switch (`model=...`) in config.yaml's
defaults, a setting in the chosen option's file (`params/model/<name>.yaml`), anything else in a
marked block of config.yaml. The result is checked: the composition of the edited params/ must
equal the experiment's params, or nothing is written.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from .._internal.errors import PipelineError
from .._internal.files import atomic_path
from ..compose_params import CONFIG_DIR, compose
from ..params import flat_params

# Settings a CI-subset experiment has that main must not keep: it trains on all the data.
SUBSET_KEY = ("data", "subset")
KEPT_BLOCK = "# Kept from experiment {name}: settings with no line of their own in a group's option file."


def chosen_options(config_text: str) -> dict[str, str]:
    """The option config.yaml's defaults list picks per group: {"model": "random_forest", ...}."""
    defaults = yaml.safe_load(config_text).get("defaults") or []
    return {group: option for entry in defaults if isinstance(entry, dict) for group, option in entry.items()}


def switch_group(config_text: str, group: str, option: str) -> str:
    """config.yaml with `- group: option` in its defaults list, comments and layout kept."""
    pattern = re.compile(rf"^(\s*-\s*{re.escape(group)}\s*:\s*)([\w.-]+)(.*)$", re.MULTILINE)
    if not pattern.search(config_text):
        raise PipelineError(f"params/config.yaml: no `- {group}: ...` line in defaults to switch to {option}")
    return pattern.sub(lambda match: f"{match[1]}{option}{match[3]}", config_text, count=1)


def set_line(text: str, key: str, value: Any) -> str | None:
    """`key: value` replaced on its own top-level line (trailing comment kept), or None if absent."""
    pattern = re.compile(rf"^{re.escape(key)}:[ \t]*([^#\n]*?)([ \t]+#.*)?$", re.MULTILINE)
    if not pattern.search(text):
        return None
    return pattern.sub(lambda match: f"{key}: {json.dumps(value)}{match[2] or ''}", text, count=1)


def nested(items: dict[str, Any]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key, value in items.items():
        *parents, leaf = key.split(".")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return tree


def edited_files(target: dict[str, Any], name: str, config_dir: Path) -> dict[Path, str]:
    """The params/ files whose composition is `target` (its data subset aside), as new texts."""
    config_path = config_dir / "config.yaml"
    config_text = config_path.read_text(encoding="utf-8")
    files: dict[Path, str] = {}
    model = target.get("model", {}).get("name")
    if model and chosen_options(config_text).get("model") != model:
        if not (config_dir / "model" / f"{model}.yaml").exists():
            raise PipelineError(f"experiment {name} uses model {model!r}, which has no params/model/{model}.yaml")
        config_text = switch_group(config_text, "model", model)
        files[config_path] = config_text
    composed = flat_params(yaml.safe_load(compose_with(files, config_dir)))
    wanted = flat_params(target)
    gone = sorted(key for key in composed if key not in wanted)
    if gone:
        raise PipelineError(f"experiment {name} has no {', '.join(gone)}; keep it by hand (edit params/)")
    leftovers: dict[str, Any] = {}
    options = chosen_options(config_text)
    for key, value in wanted.items():
        if key.startswith(".".join(SUBSET_KEY) + ".") or composed.get(key, object()) == value:
            continue
        group, _, leaf = key.partition(".")
        option_path = config_dir / group / f"{options.get(group, '')}.yaml"
        current = files.get(option_path) or (option_path.read_text(encoding="utf-8") if option_path.is_file() else "")
        changed = set_line(current, leaf, value) if leaf and "." not in leaf else None
        if changed is None:
            leftovers[key] = value
        else:
            files[option_path] = changed
    if leftovers:
        text = files.get(config_path, config_text)
        clash = sorted({key.split(".")[0] for key in leftovers} & set(yaml.safe_load(text)))
        if clash:
            raise PipelineError(f"params/config.yaml already sets {', '.join(clash)}; keep experiment {name} by hand")
        block = yaml.safe_dump(nested(leftovers), sort_keys=False, default_flow_style=False)
        files[config_path] = f"{text.rstrip()}\n\n{KEPT_BLOCK.format(name=name)}\n{block}"
    return files


def compose_with(files: dict[Path, str], config_dir: Path) -> str:
    """The composition of `config_dir` with some files replaced, without touching config_dir."""
    with tempfile.TemporaryDirectory(prefix="keep-") as scratch:
        copy = Path(scratch) / config_dir.name
        shutil.copytree(config_dir, copy)
        for path, text in files.items():
            (copy / path.relative_to(config_dir)).write_text(text, encoding="utf-8")
        return compose(config_dir=copy)


def keep_settings(target: dict[str, Any], name: str, config_dir: Path = CONFIG_DIR) -> list[Path]:
    """Write `target`'s settings into params/ (all or nothing); return the files changed."""
    files = edited_files(target, name, config_dir)
    subset = yaml.safe_load(compose(config_dir=config_dir))["data"]["subset"]
    expected = {**target, "data": {**target["data"], "subset": subset}}
    if yaml.safe_load(compose_with(files, config_dir)) != expected:
        raise PipelineError(f"could not express experiment {name} in params/; keep it by hand (edit params/)")
    for path, text in files.items():
        with atomic_path(path) as temp_path:
            temp_path.write_text(text, encoding="utf-8")
    return sorted(files)
