"""A population is a function of (scenario, seed) alone, and a household of (scenario, index)."""

from __future__ import annotations

import json
import subprocess
import sys

from testbed.population import build_household, build_population, population_to_json
from tests.population.conftest import MIXED_LOCALES, make_scenario


def test_same_scenario_and_seed_give_identical_json():
    scenario = make_scenario(count=30, households={"locales": MIXED_LOCALES})
    assert population_to_json(build_population(scenario)) == population_to_json(build_population(scenario))


def test_different_seed_gives_a_different_population():
    a = build_population(make_scenario(count=10, seed=1))
    b = build_population(make_scenario(count=10, seed=2))
    assert a.seed == 1 and b.seed == 2
    assert [h.devices for h in a.households] != [h.devices for h in b.households]


def test_build_household_equals_the_population_entry(mixed_scenario, mixed_population):
    # Including households that fell back to 10.x subnets, whose subnet depends on lower households.
    for index in (0, 1, 2, 7, 42, 150, 299):
        assert build_household(mixed_scenario, index) == mixed_population.households[index]


def test_household_does_not_depend_on_how_many_were_built(mixed_population):
    fewer = build_population(make_scenario(count=12, households={"locales": MIXED_LOCALES}))
    assert fewer.households == mixed_population.households[:12]


def test_reused_faker_keeps_households_independent_of_build_order(mixed_scenario):
    first = build_household(mixed_scenario, 9)
    for index in (40, 3, 77, 1):  # other locales reseed the same cached Faker instances in between
        build_household(mixed_scenario, index)
    build_population(make_scenario(count=15, seed=99, households={"locales": MIXED_LOCALES}))
    assert build_household(mixed_scenario, 9) == first


def test_household_is_the_same_in_a_fresh_interpreter(mixed_scenario, mixed_population):
    # No hidden state (global random, Faker's shared generator, caches) leaks into a household.
    code = (
        "import json, sys\n"
        "from testbed.population import build_household\n"
        "from testbed.population.io import _household_dict\n"
        "from tests.population.conftest import make_scenario, MIXED_LOCALES\n"
        "sc = make_scenario(count=300, households={'locales': MIXED_LOCALES})\n"
        "print(json.dumps(_household_dict(build_household(sc, 21)), ensure_ascii=False))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    expected = json.loads(population_to_json(mixed_population))["households"][21]
    assert json.loads(out) == expected


def test_order_of_keys_in_the_scenario_does_not_matter():
    a = make_scenario(count=8, households={"locales": {"zh_CN": 1.0, "en_US": 1.0}},
                      tvs={"sdk": {"consent": {"opted_in": 0.3, "not_asked": 0.7}}})
    b = make_scenario(count=8, households={"locales": {"en_US": 1.0, "zh_CN": 1.0}},
                      tvs={"sdk": {"consent": {"not_asked": 0.7, "opted_in": 0.3}}})
    assert build_population(a) == build_population(b)


def test_locales_are_drawn_by_weight(mixed_population):
    locales = [h.locale for h in mixed_population.households]
    assert set(locales) <= set(MIXED_LOCALES)
    share_cn = locales.count("zh_CN") / len(locales)
    assert abs(share_cn - 2.0 / sum(MIXED_LOCALES.values())) < 0.1
