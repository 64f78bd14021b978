"""``command``: any external program that reads a pcap and writes alert lines (JSON lines, the alert
format) plugged in by a command template.

The template is split with ``shlex`` (no shell) and each argument is formatted with ``{pcap}`` (a
label-free classic pcap copy of the capture: the external program never sees ground truth), ``{out}``
(where to write alerts), ``{python}`` (this interpreter) and ``{examples}`` (the shipped examples).
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from .alert import Alert, AlertFormatError, read_alerts
from .base import Detector, DetectorError
from .capture import Capture

EXAMPLES = Path(__file__).parent / "examples"
DEFAULT_CMD = "{python} {examples}/tshark_dns_detector.py {pcap} {out}"


class CommandDetector(Detector):
    """Runs ``cmd`` on a label-free pcap of the capture and reads the alerts it writes."""

    name = "command"
    category = "anomaly"

    def __init__(self, cmd: str = DEFAULT_CMD, timeout: float = 600.0) -> None:
        self.cmd = cmd
        self.timeout = timeout

    def argv(self, pcap: str | Path, out: str | Path) -> list[str]:
        """The program's argument vector for ``pcap`` and ``out``."""
        values = {"pcap": str(pcap), "out": str(out), "python": sys.executable, "examples": str(EXAMPLES)}
        try:
            parts = shlex.split(self.cmd)
        except ValueError as exc:
            raise DetectorError(f"command: cannot split {self.cmd!r}: {exc}") from None
        if not parts:
            raise DetectorError("command: empty cmd")
        if not any("{out}" in p for p in parts):
            raise DetectorError(f"command: cmd {self.cmd!r} must contain {{out}} (where the alerts go)")
        try:
            return [p.format(**values) for p in parts]
        except (KeyError, IndexError, ValueError) as exc:
            raise DetectorError(
                f"command: bad placeholder {exc} in {self.cmd!r}; known: {{pcap}} {{out}} {{python}} {{examples}}"
            ) from None

    def detect(self, capture: Capture) -> list[Alert]:
        with tempfile.TemporaryDirectory(prefix="tvtestbed-cmd-") as tmp:
            pcap = capture.label_free_pcap(Path(tmp) / "capture.pcap")
            out = Path(tmp) / "alerts.jsonl"
            argv = self.argv(pcap, out)
            try:
                proc = subprocess.run(argv, capture_output=True, text=True, timeout=self.timeout, cwd=tmp,
                                      check=False)
            except FileNotFoundError:
                raise DetectorError(f"command: program {argv[0]!r} not found (cmd {self.cmd!r})") from None
            except subprocess.TimeoutExpired:
                raise DetectorError(f"command: {argv[0]} ran longer than {self.timeout:g}s") from None
            if proc.returncode != 0:
                tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
                raise DetectorError(f"command: {shlex.join(argv)} exited with {proc.returncode}:\n{tail}")
            if not out.exists():
                raise DetectorError(f"command: {argv[0]} exited 0 but wrote no {{out}} file")
            try:
                alerts = read_alerts(out)
            except AlertFormatError as exc:
                raise DetectorError(f"command: {argv[0]} wrote an invalid alert: {exc}") from None
        return sorted(alerts, key=lambda a: a.ts)
