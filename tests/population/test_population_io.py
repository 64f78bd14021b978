"""population.json: stable text, and an exact round trip back to equal dataclasses."""

from __future__ import annotations

import json

from testbed.population import (
    Device,
    Household,
    Population,
    Tv,
    WifiNetwork,
    population_from_json,
    population_to_json,
)


def test_round_trip_is_exact(mixed_population):
    text = population_to_json(mixed_population)
    back = population_from_json(text)
    assert back == mixed_population
    assert population_to_json(back) == text


def test_tuples_and_types_are_restored(mixed_population):
    back = population_from_json(population_to_json(mixed_population))
    assert isinstance(back, Population) and isinstance(back.households, tuple)
    h = back.households[0]
    assert isinstance(h, Household) and isinstance(h.router, Device)
    assert isinstance(h.devices, tuple) and isinstance(h.tvs, tuple) and isinstance(h.wifi, tuple)
    assert all(isinstance(w, WifiNetwork) for w in h.wifi) and all(isinstance(t, Tv) for t in h.tvs)
    for d in h.devices:
        assert isinstance(d.services, tuple) and isinstance(d.away, tuple)
        assert all(isinstance(w, tuple) for w in d.away)


def test_text_is_the_models_to_dict_indented(mixed_population):
    text = population_to_json(mixed_population)
    assert text == json.dumps(mixed_population.to_dict(), indent=1, ensure_ascii=False) + "\n"
    assert text.startswith('{\n "seed": 2021,\n "households": [\n  {\n   "id": "h0000",')


def test_names_stay_readable(mixed_population):
    owner = next(h.owner for h in mixed_population.households if h.locale == "zh_CN")
    assert owner in population_to_json(mixed_population)
