"""Ctrl-C during a container run leaves nothing behind: no container, no network, no run directory."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from tests.helpers import default_sigint

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def test_ctrl_c_cleans_up(node_image, tmp_path):
    from testbed.emu.docker_client import docker_client
    from testbed.emu.labels import ROLE_LABEL, TESTBED_LABEL

    client = docker_client()
    assert not client.containers.list(all=True, filters={"label": f"{TESTBED_LABEL}=1"}), "a lab is still up"
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-c", "from testbed.cli import main; main()", "run", "gozen-2021", "--backend", "docker",
         "--households", "1", "--duration", "120s", "--interval", "30s", "--out", str(out), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=default_sigint)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if client.containers.list(filters={"label": [f"{TESTBED_LABEL}=1", f"{ROLE_LABEL}=tv"]}):
                break
            time.sleep(0.2)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr.decode()
    assert b"interrupted" in stderr
    assert not client.containers.list(all=True, filters={"label": f"{TESTBED_LABEL}=1"})
    assert not client.networks.list(filters={"label": f"{TESTBED_LABEL}=1"})
    assert not out.exists() and not list(tmp_path.glob(".run.partial-*"))
