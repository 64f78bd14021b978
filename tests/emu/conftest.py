"""Docker fixtures: the node image built once per session, and two container runs shared by the tests.

Without a Docker engine these tests are skipped with a message saying how to enable them, unless
``TESTBED_REQUIRE_DOCKER=1`` (CI), where a missing engine is a failure.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from testbed.emu.docker_client import docker_available
from tests.helpers import small

REQUIRE = os.environ.get("TESTBED_REQUIRE_DOCKER") == "1"


def pytest_collection_modifyitems(config, items):
    docker_items = [i for i in items if i.get_closest_marker("docker")]
    if not docker_items:
        return
    ok, why = docker_available()
    if ok:
        return
    if REQUIRE:
        for item in docker_items:
            item.add_marker(pytest.mark.usefixtures("_docker_required"))
        return
    skip = pytest.mark.skip(reason=f"Docker tests skipped: {why}. Enable them by starting dockerd "
                                   "(as root: apt-get install docker.io debootstrap tcpdump; dockerd &), "
                                   "or run .ci/run, which does it and sets TESTBED_REQUIRE_DOCKER=1.")
    for item in docker_items:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def _docker_required():
    ok, why = docker_available()
    if not ok:
        pytest.fail(f"TESTBED_REQUIRE_DOCKER=1 but {why}")


@pytest.fixture(scope="session")
def node_image() -> str:
    """The node image, built (or found by its content hash) once per session."""
    from testbed.emu.images import ensure_node_image

    return ensure_node_image()


def lan_scenario(**overrides):
    """Two small homes; the SDK cycle compressed to 30 s, runs of under a minute and a half.

    70 s holds two whole cycles with room to spare: the second begins near 45 s and, on a loaded machine,
    its real sweep can take 15 s more than the simulated one; a third cannot begin before about 75 s.
    Ending nearer a cycle's upload would make the backends disagree on whether that upload happened.
    """
    base = {"households.count": 2, "duration": "70s"}
    base.update(overrides)
    return small(**base)


# A weekday morning: people are up (web browsing), some phones and a laptop have left for work (away), and
# no away window begins or ends within the run.
MORNING = "2021-04-23T08:05:00+08:00"


def default_interface() -> str:
    out = subprocess.run(["ip", "route", "show", "default"], capture_output=True, text=True).stdout.split()
    return out[out.index("dev") + 1] if "dev" in out else "eth0"


@pytest.fixture(scope="module")
def docker_run(node_image, tmp_path_factory) -> Path:
    """A clean two-home run in containers, left running (--keep) while the host's uplink is captured.

    Yields the run directory; the lab is pruned when the module's tests are done.
    """
    from testbed.emu import run_docker
    from testbed.emu.lab import prune

    work = tmp_path_factory.mktemp("docker")
    out = work / "run"
    uplink = work / "uplink.pcap"
    # The host's own default-route interface, captured for the containment test.
    tcpdump = subprocess.Popen(["tcpdump", "-i", default_interface(), "-w", str(uplink), "-U", "-n",
                                "--immediate-mode"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert tcpdump.stderr is not None
    assert "listening on" in tcpdump.stderr.readline().decode()
    try:
        run_docker(lan_scenario(start=MORNING), out, interval=30.0, keep=True)
    finally:
        tcpdump.terminate()
        tcpdump.wait(timeout=10)
    run_id = summary_run_id(out)
    (work / "run_id").write_text(run_id)
    yield out
    prune(run_id)


def summary_run_id(run: Path) -> str:
    import json

    return json.loads((run / "manifest.json").read_text())["lab"]["run_id"]
