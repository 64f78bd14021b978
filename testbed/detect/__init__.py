"""Detectors: read a capture (never the ground truth), emit alerts.

Public surface::

    Alert, read_alerts, write_alerts        the alert record and its JSON-lines files
    Capture                                 a capture file as detectors see it (no labels)
    Detector, NotFittedError                the contract (scikit-learn-like) and its error
    REGISTRY, make_detector                 name -> class; 'name,key=value' spec strings
    run_detectors                           several detectors, one decoding pass
    check_detector                          the conformance suite, for plug-in authors

Errors (all ``TestbedError``): ``DetectorError`` (bad spec/parameter, failing program), its subclass
``NotFittedError``; ``CaptureError`` (unreadable capture or a path under truth/); ``AlertFormatError``.
"""

from .alert import Alert, AlertFormatError, read_alerts, write_alerts
from .base import Detector, DetectorError, NotFittedError
from .capture import Capture, CaptureError
from .conformance import check_detector
from .registry import REGISTRY, make_detector
from .runner import run_detectors

__all__ = [
    "Alert",
    "AlertFormatError",
    "Capture",
    "CaptureError",
    "Detector",
    "DetectorError",
    "NotFittedError",
    "REGISTRY",
    "check_detector",
    "make_detector",
    "read_alerts",
    "run_detectors",
    "write_alerts",
]
