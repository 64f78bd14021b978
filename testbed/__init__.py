"""smarttv-testbed: recreate, safely and with exact ground truth, how smart-TV telemetry SDKs sweep home LANs.

The public surface::

    load_scenario(path_or_name, overrides) -> Scenario      validate a scenarios/*.yaml file
    build_population(scenario) -> Population                 the Faker-made households (pure data)
    run_scenario(scenario, out, workers=1) -> RunSummary     simulate into a run directory

Errors (see ``testbed.errors``): ``TestbedError`` and its kinds ``ScenarioError``, ``RunError``,
``ContainmentError``. Detectors live in ``testbed.detect``, scoring in ``testbed.score``.
"""

from testbed.errors import ContainmentError, RunError, ScenarioError, TestbedError

__version__ = "0.1.0"

__all__ = [
    "ContainmentError",
    "RunError",
    "ScenarioError",
    "TestbedError",
    "__version__",
    "build_population",
    "load_scenario",
    "run_scenario",
]


def __getattr__(name: str):  # lazy: `import testbed` stays cheap for the CLI and worker processes
    if name == "load_scenario":
        from testbed.scenario import load_scenario

        return load_scenario
    if name == "build_population":
        from testbed.population import build_population

        return build_population
    if name == "run_scenario":
        from testbed.run import run_scenario

        return run_scenario
    raise AttributeError(f"module 'testbed' has no attribute {name!r}")
