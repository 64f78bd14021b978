"""Shared scenarios and populations for the population tests (built once per session: they are pure data)."""

from __future__ import annotations

from typing import Any

import pytest

from testbed.population import Population, build_population
from testbed.scenario import Scenario, validate_data

MIXED_LOCALES = {"zh_CN": 2.0, "en_US": 1.0, "en_GB": 0.5, "de_DE": 0.5, "fr_FR": 0.3, "ja_JP": 0.2}


def make_scenario(count: int = 20, seed: int = 2021, **sections: dict[str, Any]) -> Scenario:
    """A validated scenario; ``households`` and ``tvs`` entries are merged into the defaults."""
    households = {"count": count, **sections.pop("households", {})}
    return validate_data({"name": "population-test", "seed": seed, "households": households, **sections})


@pytest.fixture(scope="session")
def mixed_scenario() -> Scenario:
    return make_scenario(count=300, households={"locales": MIXED_LOCALES})


@pytest.fixture(scope="session")
def mixed_population(mixed_scenario: Scenario) -> Population:
    return build_population(mixed_scenario)
