"""The testbed's errors. Every one the user can cause is a ``TestbedError`` with a message that names
what is wrong and where; the CLI prints it and exits non-zero without a traceback.

- ``ScenarioError``: a scenario file or override is invalid (exit 2).
- ``RunError``: a run cannot start or finish (existing output directory, interrupted run...).
- ``ContainmentError``: something asked the testbed to touch an address outside its own synthetic
  networks; it refuses.
"""


class TestbedError(Exception):
    """Base of every error the testbed reports to users."""

    __test__ = False  # not a pytest test class
    exit_code = 1


class ScenarioError(TestbedError):
    """An invalid scenario: the message names the file, the field path and what was expected."""

    exit_code = 2


class RunError(TestbedError):
    """A run that cannot start or complete."""


class ContainmentError(TestbedError):
    """A refused attempt to address something outside the testbed's own networks."""
