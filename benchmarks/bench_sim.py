"""Simulation speed and memory: end-to-end frames/s into capture.pcapng at ~1000 household-hours,
peak RSS at two durations (memory must not grow with the simulated duration), and a scapy baseline
that builds a sample of the same frames, measured in the same run.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
from testbed.packets import speedups
from testbed.run import run_scenario
from testbed.scenario import load_scenario
sc = load_scenario("gozen-2021", {"households.count": int(sys.argv[2]), "duration": sys.argv[3]})
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)  # this process, all its threads
    return r.ru_utime + r.ru_stime
t0, c0 = time.perf_counter(), cpu()
s = run_scenario(sc, sys.argv[1], workers=int(sys.argv[4]))
dt, dc = time.perf_counter() - t0, cpu() - c0
print(json.dumps({"seconds": dt, "cpu_seconds": dc, "frames": s.frames, "bytes": s.capture_bytes,
                  "compiled": speedups.native is not None,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _run(out: Path, households: int, duration: str, workers: int = 1) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(out), str(households), duration, str(workers)],
                          capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:  # say why (a full disk, say: a 48-hour capture is 9 GB), not just that it failed
        raise SystemExit(f"bench_sim: the {households} homes x {duration} run into {out} failed "
                         f"(exit {proc.returncode}):\n{proc.stderr.strip()[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _scapy_baseline(capture: Path, sample: int = 3000) -> float:
    """Frames/s for scapy building a random sample of the capture's own frames from their fields."""
    import dpkt
    from scapy.layers.l2 import Ether
    from scapy.packet import NoPayload

    # Reservoir sampling: the capture is gigabytes, the sample a few thousand frames.
    rng, chosen = random.Random(0), []
    with open(capture, "rb") as fh:
        for seen, (_, buf) in enumerate(dpkt.pcapng.Reader(fh)):
            if seen < sample:
                chosen.append(buf)
            elif (slot := rng.randrange(seen + 1)) < sample:
                chosen[slot] = buf
    # Outside the timer: dissect each frame into (layer class, fields) without lengths and checksums.
    specs = []
    for raw in chosen:
        layer, spec = Ether(raw), []
        while not isinstance(layer, NoPayload):
            fields = {k: v for k, v in layer.fields.items() if k not in ("len", "chksum", "cksum", "ihl", "dataofs")}
            spec.append((type(layer), fields))
            layer = layer.payload
        specs.append(spec)
    # Timed: build each frame as scapy objects and serialise it (lengths and checksums computed).
    t0 = time.perf_counter()
    for spec in specs:
        pkt = None
        for cls, fields in spec:
            layer = cls(**fields)
            pkt = layer if pkt is None else pkt / layer
        bytes(pkt)
    return len(specs) / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> None:
    """Print the simulation's speed and memory figures (no options)."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # Every run in its own fresh process, before this one reads anything big: on Linux a child's
        # peak RSS starts from its parent's.
        day = _run(tmp / "day", 42, "24h")  # 1008 household-hours
        two_days = _run(tmp / "two-days", 42, "48h")
        shutil.rmtree(tmp / "two-days")
        two = _run(tmp / "two", 42, "24h", workers=2)
        shutil.rmtree(tmp / "two")
        fps = day["frames"] / day["seconds"]
        scapy_fps = _scapy_baseline(tmp / "day" / "capture.pcapng")
        print(f"end to end, 42 homes x 24 h = 1008 household-hours, 1 worker: {day['frames']:,} frames "
              f"({day['bytes'] / 1e6:,.0f} MB) in {day['seconds']:.1f} s")
        print("  compiled hot loops (testbed/packets/_speedups.c): "
              + ("in use" if day["compiled"] else "NOT BUILT, pure Python (install gcc, then reinstall)"))
        print(f"  frames/s written to capture.pcapng : {fps:>12,.0f}   (target >= 500,000)")
        # CPU time of the run's process (every thread): about the wall time when it used one core.
        print(f"  frames per CPU-second              : {day['frames'] / day['cpu_seconds']:>12,.0f}   "
              f"({day['cpu_seconds']:.1f} s of CPU in {day['seconds']:.1f} s)")
        print(f"  scapy building a sample of them    : {scapy_fps:>12,.0f}   -> ratio {fps / scapy_fps:,.0f}x")
        print(f"  peak RSS, 24 h: {day['peak_rss_mb']:,.0f} MB   48 h: {two_days['peak_rss_mb']:,.0f} MB   "
              f"ratio {two_days['peak_rss_mb'] / day['peak_rss_mb']:.2f} (about 1 = does not grow with duration)")
        print(f"  2 workers: {two['frames'] / two['seconds']:,.0f} frames/s "
              f"(speed-up {day['seconds'] / two['seconds']:.2f}x on this 2-core machine)")


if __name__ == "__main__":
    main()
