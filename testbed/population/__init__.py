"""The population: households, devices, TVs and neighbour Wi-Fi, expanded from a scenario and its seed.

    from testbed.population import build_population, population_to_json
    population = build_population(scenario)
    text = population_to_json(population)   # RUN/population.json

Everything here is plain data (``model``); each backend builds its LAN from it.
"""

from testbed.population.build import build_household, build_population
from testbed.population.io import population_from_json, population_to_json
from testbed.population.model import Device, Household, Population, Tv, WifiNetwork

__all__ = [
    "Device",
    "Household",
    "Population",
    "Tv",
    "WifiNetwork",
    "build_household",
    "build_population",
    "population_from_json",
    "population_to_json",
]
