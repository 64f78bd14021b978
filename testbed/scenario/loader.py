"""Reading scenario files: YAML in, a validated ``Scenario`` out, or an error naming file and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from testbed.errors import ScenarioError
from testbed.scenario.model import Scenario

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"


def _field_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


_BOUNDS = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}


def _describe(err: dict[str, Any]) -> str:
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] in _BOUNDS:
        limit = next(iter(err.get("ctx", {}).values()), "?")
        msg = f"must be {_BOUNDS[err['type']]} {limit}"
    if err["type"] == "extra_forbidden":
        return "unknown field"
    got = err.get("input")
    if err["type"] in ("missing",) or isinstance(got, dict | list):
        return msg
    if "got" in msg:
        return msg
    return f"{msg[0].lower()}{msg[1:]}, got {got!r}"


def validate_data(data: Any, source: str = "<scenario>", overrides: dict[str, Any] | None = None) -> Scenario:
    """Validate already-parsed scenario data; ``overrides`` are dotted paths (``households.count``)."""
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: expected a mapping at the top level, got {type(data).__name__}")
    data = dict(data)
    for dotted, value in (overrides or {}).items():
        node = data
        *parents, leaf = dotted.split(".")
        for key in parents:
            child = node.get(key)
            node[key] = child = dict(child) if isinstance(child, dict) else {}
            node = child
        node[leaf] = value
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        lines = [f"{source}: {_field_path(e['loc'])}: {_describe(e)}" for e in exc.errors()]
        raise ScenarioError("\n".join(lines)) from None


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read and validate a scenario file (a path, or the name of a shipped scenario)."""
    path = resolve_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ScenarioError(f"{path}:{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    return validate_data(data, str(path), overrides)


def resolve_path(name: str | Path) -> Path:
    """A scenario path as given, or ``scenarios/NAME.yaml`` for a bare shipped name like ``gozen-2021``."""
    path = Path(name)
    if path.exists() or path.suffix:
        return path
    shipped = SCENARIO_DIR / f"{name}.yaml"
    return shipped if shipped.exists() else path


def shipped_scenarios() -> list[Path]:
    """The scenario files that ship with the project."""
    return sorted(SCENARIO_DIR.glob("*.yaml"))


def dump_scenario(scenario: Scenario) -> str:
    """The scenario as run, every default resolved, as YAML."""
    return yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
