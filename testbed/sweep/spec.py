"""The sweep file: which scenarios, seeds, overrides, detectors (and training scenario) to benchmark.

```yaml
name: ladder-smoke                  # names the sweep (optional; default: the file's stem)
scenarios: [gozen-2021, "ladder-*"]  # shipped names, paths, or globs over scenarios/
seeds: {from: 1, to: 5}             # or a list [1, 2, 3], or "1..5" (inclusive)
overrides: {households.count: 2, duration: 30m}   # dotted scenario fields, applied to every run
detectors: ["arp-sweep,window=30", flow-anomaly]  # spec strings, as for `tvtestbed bench --detector`
train: benign-only                  # optional: the benign scenario learning detectors fit on
```

A training run is made per seed, with the same overrides, so a learning detector is fitted on the
benign traffic of the very homes it then watches (the benign scenario shares the homes for a seed).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from testbed.errors import ScenarioError
from testbed.scenario.loader import SCENARIO_DIR, resolve_path

_RANGE = re.compile(r"^\s*(\d+)\s*\.\.\s*(\d+)\s*$")


class SeedRange(BaseModel):
    """Seeds ``from`` .. ``to``, both included."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    start: int = Field(alias="from", ge=0)
    stop: int = Field(alias="to", ge=0)


class SweepSpec(BaseModel):
    """A validated sweep file."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field("sweep", pattern=r"^[a-z0-9][a-z0-9._-]*$")
    scenarios: list[str] = Field(min_length=1)
    seeds: list[int] | SeedRange | str
    overrides: dict[str, Any] = Field(default_factory=dict)
    detectors: list[str] = Field(min_length=1)
    train: str | None = None

    @field_validator("seeds")
    @classmethod
    def _seeds_given(cls, v: Any) -> Any:
        if isinstance(v, str) and not _RANGE.match(v):
            raise ValueError(f"seeds must be a list, {{from: A, to: B}} or 'A..B', got {v!r}")
        if isinstance(v, list) and not v:
            raise ValueError("give at least one seed")
        return v

    def seed_list(self) -> list[int]:
        """The seeds, in order, without repeats."""
        if isinstance(self.seeds, SeedRange):
            seeds = list(range(self.seeds.start, self.seeds.stop + 1))
        elif isinstance(self.seeds, str):
            m = _RANGE.match(self.seeds)
            assert m is not None
            seeds = list(range(int(m[1]), int(m[2]) + 1))
        else:
            seeds = self.seeds
        if not seeds:
            raise ScenarioError(f"sweep {self.name}: the seed range is empty")
        return list(dict.fromkeys(seeds))

    def scenario_paths(self, base: Path | None = None) -> list[Path]:
        """Each scenario entry as a file; globs are expanded over ``scenarios/`` (sorted)."""
        return resolve_entries(self.scenarios, base, self.name)


def resolve_entries(entries: list[str], base: Path | None = None, sweep: str = "sweep") -> list[Path]:
    """Scenario names, paths or globs (over ``scenarios/``, then ``base``) as files, without repeats."""
    paths: list[Path] = []
    for entry in entries:
        if any(c in entry for c in "*?["):
            pattern = entry if entry.endswith(".yaml") else f"{entry}.yaml"
            found = sorted(SCENARIO_DIR.glob(pattern)) or sorted((base or Path.cwd()).glob(pattern))
            if not found:
                raise ScenarioError(f"sweep {sweep}: no scenario matches {entry!r}")
            paths += found
        else:
            path = resolve_path(entry)
            if not path.is_absolute() and not path.exists() and base is not None:
                path = base / path
            paths.append(path)
    return list(dict.fromkeys(paths))


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and validate a sweep file; errors name the file and field."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: expected a mapping at the top level")
    data.setdefault("name", re.sub(r"[^a-z0-9._-]", "-", path.stem.lower()))
    try:
        return SweepSpec.model_validate(data)
    except ValidationError as exc:
        lines = [f"{path}: {'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}" for e in exc.errors()]
        raise ScenarioError("\n".join(lines)) from None
