"""``python -m testbed.live ROLE``: the entry point of every container of the container backend.

The node reads its part of ``/lab/lab.json`` (written by ``testbed.emu``) under its name
(``TESTBED_NODE``), prints ``ready`` once its sockets are bound (the host waits for that line, never on
a fixed sleep), and runs until the container is stopped.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

LAB = Path(os.environ.get("TESTBED_LAB", "/lab"))
OUT = Path(os.environ.get("TESTBED_OUT", "/out"))
STARTED = time.time()


def _stop(signum: int, frame: Any) -> None:
    # PID 1 in a container ignores SIGTERM unless it handles it.
    raise SystemExit(0)


def _light_population_package() -> None:
    """Make ``testbed.population.model``/``.io`` importable without the package's ``__init__``.

    That ``__init__`` loads the population builder (Faker, the scenario schema): 0.4 s of CPU per
    container start that a node never needs, and the difference between a household up in 4 s or 12 s.
    """
    import importlib.util
    import types

    if "testbed.population" in sys.modules:
        return
    spec = importlib.util.find_spec("testbed.population")
    assert spec is not None and spec.submodule_search_locations is not None
    package = types.ModuleType("testbed.population")
    package.__path__ = list(spec.submodule_search_locations)
    sys.modules["testbed.population"] = package


def _config() -> tuple[dict[str, Any], dict[str, Any]]:
    lab = json.loads((LAB / "lab.json").read_text(encoding="utf-8"))
    return lab, lab["nodes"][os.environ["TESTBED_NODE"]]


def _household(household_id: str):
    from testbed.population.io import population_from_json

    population = population_from_json((LAB / "population.json").read_text(encoding="utf-8"))
    return next(h for h in population.households if h.id == household_id)


def _device(household, device_id: str):
    return next(d for d in (household.router, *household.devices) if d.id == device_id)


async def _start_mdns(device, behaviours: list[str]):
    """The device's zeroconf, if it answers mDNS (as the simulation decides) or its behaviours use mDNS."""
    from testbed.sim.lan import _mdns_speaker

    answers = _mdns_speaker(device)
    if not answers and "mdns" not in behaviours:
        return None
    from testbed.live.mdns import MdnsHost

    host = MdnsHost(device.hostname, device.ip, device.services, device.model, answers=answers)
    await host.start()
    return host


def _start_benign(lab: dict[str, Any], household, device, names: list[str], executor, flows=None) -> None:
    from testbed.benign import BEHAVIOURS, BenignContext
    from testbed.live.drivers import drive_benign
    from testbed.population.presence import at_home
    from testbed.rng import stream

    offset, scale, start = lab.get("utc_offset", 0.0), lab["time_scale"], lab.get("start_ts", STARTED)

    def clock() -> float:
        # Behaviour time: the scenario's clock, running as much faster as the behaviours' sleeps do.
        return start + (time.time() - STARTED) * scale

    def home() -> bool:
        # Presence follows the scenario's clock as the SDK sees it, so that sweeps find whom the simulation finds.
        return at_home(device.away, offset, start + time.time() - STARTED)

    hours = tuple(lab.get("streaming_hours", (19.0, 23.0)))
    for name in names:
        ctx = BenignContext(device, household, stream(lab["seed"], household.index, f"benign:{device.id}:{name}"),
                            offset, hours)
        threading.Thread(target=drive_benign, args=(BEHAVIOURS[name](ctx), executor, f"benign:{name}", scale, flows),
                         kwargs={"clock": clock, "at_home": home}, daemon=True).start()


async def _lan_node(lab: dict[str, Any], node: dict[str, Any]) -> None:
    """A device, the gateway or a TV: responders, background behaviour, and the SDK on a TV."""
    from testbed.benign import behaviours_for
    from testbed.live.executor import LiveExecutor
    from testbed.live.netif import interface_for
    from testbed.live.responders import Identity, Responders
    from testbed.rng import stream

    household = _household(node["household"])
    device = _device(household, node["device"])
    benign = behaviours_for(device, scanner_app=node.get("scanner", False)) if lab.get("benign", True) else []
    await Responders(Identity(device.hostname, device.ip, device.mac, device.netbios, device.ssdp_type)).start()
    mdns = await _start_mdns(device, benign)
    if node["role"] == "router":
        from testbed.live.dns_server import Forwarder, serve

        await serve(Forwarder(lab["dns_ip"]), device.ip)
    iface = interface_for(device.ip)
    router_ip = household.router.ip
    wifi = LAB / "wifi" / f"{household.id}.json"
    executor = LiveExecutor(iface, router_ip, stream(lab["seed"], household.index, f"live:{device.id}"), wifi)
    flows = None
    if node["role"] == "tv":
        flows = open(OUT / f"{device.id}.flows.jsonl", "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the node
        threading.Thread(target=_run_sdk, args=(lab, household, device.id, executor, flows), daemon=True).start()
    # Its own executor: background threads must not share the SDK's sockets or counters.
    rng = stream(lab["seed"], household.index, f"live-benign:{device.id}")
    _start_benign(lab, household, device, benign,
                  LiveExecutor(iface, router_ip, rng, mdns=mdns, time_scale=lab["time_scale"]), flows)
    print("ready", flush=True)
    await asyncio.Event().wait()


def _run_sdk(lab: dict[str, Any], household, tv_id: str, executor, flows) -> None:
    from testbed.live.drivers import drive_sdk
    from testbed.rng import stream
    from testbed.sdk import PROFILES, SdkContext
    from testbed.truth import CommunityIds, TruthRecorder

    tv = next(t for t in household.tvs if t.id == tv_id)
    if tv.sdk is None:
        (OUT / f"{tv.id}.done").write_text("no sdk\n", encoding="utf-8")
        return
    ctx = SdkContext(tv, household.id, household.subnet, stream(lab["seed"], household.index, f"sdk:{tv.id}"))
    # The TV runs for the scenario's duration from its own start, as a simulated TV does from time zero.
    deadline = STARTED + float(lab["duration"])
    with open(OUT / f"{tv.id}.events.jsonl", "a", encoding="utf-8") as events:
        try:
            drive_sdk(PROFILES[tv.sdk](ctx), executor, tv, TruthRecorder(household), events, flows, CommunityIds(),
                      deadline)
        except Exception as exc:  # the host reads this line from the container's log
            print(f"sdk failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            raise
        finally:
            (OUT / f"{tv.id}.done").write_text("done\n", encoding="utf-8")


async def _dns(lab: dict[str, Any], node: dict[str, Any]) -> None:
    from testbed.live.dns_server import Resolver, serve

    await serve(Resolver(lab["names"]), node["ip"])
    print("ready", flush=True)
    await asyncio.Event().wait()


async def _internet(lab: dict[str, Any], node: dict[str, Any]) -> None:
    """NTP and HTTPS for every TEST-NET-2 address (the host routes that /24 to this node as local)."""
    from testbed.live.internet import serve_https, serve_ntp
    from testbed.live.tls import self_signed

    serve_ntp()
    certfile, keyfile = self_signed(["internet"])
    serve_https(str(certfile), str(keyfile))
    print("ready", flush=True)
    await asyncio.Event().wait()


def _collector(lab: dict[str, Any], node: dict[str, Any]) -> None:
    from collector_mock.store import initialize

    db = Path("/data/collector.sqlite")
    initialize(db)
    os.environ.setdefault("COLLECTOR_DATABASE", str(db))
    os.environ.setdefault("COLLECTOR_SYNCHRONOUS", "NORMAL")
    args = ["gunicorn", "--bind", f"{node['ip']}:{lab.get('collector_port', 80)}", "--workers", "1",
            "--threads", "8", "--graceful-timeout", "5"]
    if lab.get("collector_tls"):
        from testbed.live.tls import self_signed

        certfile, keyfile = self_signed(sorted(lab["names"]))
        args += ["--certfile", str(certfile), "--keyfile", str(keyfile)]
    # gunicorn prints "Listening at" when bound: the host's readiness wait looks for it.
    os.execvp("gunicorn", [*args, "collector_mock.wsgi:app"])


def main() -> None:
    """Run this container's role."""
    signal.signal(signal.SIGTERM, _stop)
    _light_population_package()
    lab, node = _config()
    role = node["role"]
    if role == "collector":
        _collector(lab, node)
    elif role == "dns":
        asyncio.run(_dns(lab, node))
    elif role == "internet":
        asyncio.run(_internet(lab, node))
    elif role in ("device", "router", "tv"):
        asyncio.run(_lan_node(lab, node))
    else:
        raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    main()
