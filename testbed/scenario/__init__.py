"""Scenario files: schema, loading and validation."""

from testbed.scenario.loader import (
    dump_scenario,
    load_scenario,
    resolve_path,
    shipped_scenarios,
    validate_data,
)
from testbed.scenario.model import Scenario, parse_duration

__all__ = ["Scenario", "dump_scenario", "load_scenario", "parse_duration", "resolve_path", "shipped_scenarios", "validate_data"]
