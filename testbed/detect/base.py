"""The detector contract, in the manner of scikit-learn's estimators.

- Every parameter is an explicit keyword of ``__init__``, stored unchanged under its own name; nothing
  else happens there.
- ``fit(capture) -> self`` learns from a benign training capture (optional); learned state lives in
  attributes whose names end in ``_``. A learning detector used before ``fit`` raises ``NotFittedError``.
- ``detect(capture) -> list[Alert]``.

A detector fills one hook. Frame-level detectors fill ``watch()``: a generator that receives every
``Frame`` of a capture (``frame = yield``), receives ``None`` at the end, and returns its alerts, so that
``run_detectors`` can feed several detectors from one decoding pass. Detectors that work on whole files
or flows (flow-anomaly, command) override ``detect`` instead.
"""

from __future__ import annotations

import inspect
from collections.abc import Generator
from typing import Any, ClassVar

from testbed.errors import TestbedError

from .alert import Alert
from .capture import Capture
from .frame import Frame

Watch = Generator[None, Frame | None, list[Alert]]


class DetectorError(TestbedError):
    """A detector that cannot be built or run: bad spec, bad parameter, failing external program."""


class NotFittedError(DetectorError):
    """A learning detector was asked to detect before ``fit``."""


class Detector:
    """Base of every detector. Subclasses set ``name`` and ``category`` and fill ``watch`` or ``detect``."""

    name: ClassVar[str] = ""
    category: ClassVar[str] = "anomaly"
    learns: ClassVar[bool] = False  # True: ``detect`` needs ``fit`` on a benign capture first
    # The kinds of frame ``watch`` needs (``arp``, ``icmp``, ``tcp``, ``udp``, ``other``): the runner sends
    # it no others, which saves a generator resumption per frame and detector.
    frame_kinds: ClassVar[frozenset[str]] = frozenset(("arp", "icmp", "tcp", "udp", "other"))

    @classmethod
    def param_names(cls) -> list[str]:
        """The keyword parameters of ``__init__``, in order."""
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values()
                if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    def get_params(self) -> dict[str, Any]:
        """The parameters as given to ``__init__`` (scikit-learn's ``get_params``, without nesting)."""
        return {name: getattr(self, name) for name in self.param_names()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def fit(self, capture: Capture) -> Detector:
        """Learn from a benign capture; detectors that do not learn return ``self`` unchanged."""
        return self

    def is_fitted(self) -> bool:
        """Whether learned state exists (always true for detectors that do not learn)."""
        return not self.learns or any(k.endswith("_") and not k.startswith("_") for k in vars(self))

    def check_fitted(self) -> None:
        """Raise ``NotFittedError`` if this detector learns and has not been fitted."""
        if not self.is_fitted():
            raise NotFittedError(
                f"{self.name or type(self).__name__} learns from benign traffic: call fit(benign_capture) "
                "before detect()"
            )

    def watch(self) -> Watch | None:
        """The frame hook: a generator fed every frame, then ``None``; it returns the alerts.

        ``None`` (the default) means this detector does not work frame by frame and overrides ``detect``.
        """
        return None

    def detect(self, capture: Capture) -> list[Alert]:
        """Alerts for ``capture``, in order of ``ts``."""
        from .runner import run_detectors

        return run_detectors(capture, [self])[0]

    def _alert(self, **kw: Any) -> Alert:
        """An alert from this detector (fills ``detector`` and ``category``)."""
        kw.setdefault("category", self.category)
        return Alert(detector=self.name, **kw)
