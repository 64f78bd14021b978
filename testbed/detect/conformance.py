"""The detector conformance suite: checks that a detector class keeps the contract of ``base``.

Plug-in authors call ``check_detector(MyDetector, capture, train=benign_capture)``; the test suite runs
every check over every class in ``REGISTRY``. Each check raises ``AssertionError`` naming what is wrong.
"""

from __future__ import annotations

import builtins
import contextlib
import inspect
import io
import os
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .alert import Alert
from .base import Detector, NotFittedError
from .capture import Capture, CaptureError

Check = Callable[[type[Detector], Capture, Capture | None], None]


def _defaults(cls: type[Detector]) -> dict[str, Any]:
    return {p.name: p.default for p in inspect.signature(cls.__init__).parameters.values()
            if p.name != "self" and p.default is not inspect.Parameter.empty}


def _fitted(cls: type[Detector], train: Capture) -> Detector:
    d = cls()
    out = d.fit(train)
    assert out is d, f"{cls.__name__}.fit must return self, returned {out!r}"
    return d


def _dicts(alerts: list[Alert]) -> list[dict[str, Any]]:
    return [a.to_dict() for a in alerts]


def check_init_does_no_work(cls: type[Detector], capture: Capture, train: Capture | None) -> None:
    """Every parameter has a default, is stored unchanged, and ``__init__`` sets no learned state."""
    params = cls.param_names()
    defaults = _defaults(cls)
    missing = [p for p in params if p not in defaults]
    assert not missing, f"{cls.__name__}: parameters without defaults: {missing}"
    sentinel_kwargs = {k: v for k, v in defaults.items()}
    d = cls(**sentinel_kwargs)
    for k, v in sentinel_kwargs.items():
        assert getattr(d, k, object()) is v, f"{cls.__name__}: parameter {k} not stored unchanged as self.{k}"
    assert d.get_params() == defaults, f"{cls.__name__}: get_params() {d.get_params()} != defaults {defaults}"
    learned = [k for k in vars(d) if k.endswith("_")]
    assert not learned, f"{cls.__name__}.__init__ sets learned attributes {learned}"
    extra = sorted(set(vars(d)) - set(params))
    assert not extra, f"{cls.__name__}.__init__ sets attributes that are not parameters: {extra}"
    assert cls.name, f"{cls.__name__} has no registry name"


def check_not_fitted(cls: type[Detector], capture: Capture, train: Capture | None) -> None:
    """A learning detector refuses ``detect`` before ``fit``; others work without ``fit``."""
    d = cls()
    if cls.learns:
        try:
            d.detect(capture)
        except NotFittedError:
            return
        raise AssertionError(f"{cls.__name__} learns but detect() before fit() did not raise NotFittedError")
    assert d.fit(train or capture) is d, f"{cls.__name__}.fit must return self"


def check_fit_idempotent(cls: type[Detector], capture: Capture, train: Capture | None) -> None:
    """Fitting twice gives the same alerts as fitting once."""
    train = train or capture
    once = _fitted(cls, train).detect(capture)
    d = _fitted(cls, train)
    d.fit(train)
    assert _dicts(d.detect(capture)) == _dicts(once), f"{cls.__name__}: fit twice changes the alerts"


def check_deterministic(cls: type[Detector], capture: Capture, train: Capture | None) -> None:
    """The same capture gives the same alerts twice, valid and sorted by time."""
    d = _fitted(cls, train or capture)
    first, second = d.detect(capture), d.detect(capture)
    assert _dicts(first) == _dicts(second), f"{cls.__name__}: alerts differ between two runs"
    for a in first:
        assert isinstance(a, Alert), f"{cls.__name__}: detect() returned {type(a).__name__}, not Alert"
        a.validate()
        assert Alert.from_dict(a.to_dict()).to_dict() == a.to_dict(), f"{cls.__name__}: alert round-trip"
    assert [a.ts for a in first] == sorted(a.ts for a in first), f"{cls.__name__}: alerts not sorted by ts"


def check_pickle(cls: type[Detector], capture: Capture, train: Capture | None) -> None:
    """Pickling round-trips before and after ``fit``."""
    d = cls()
    again = pickle.loads(pickle.dumps(d))
    assert again.get_params() == d.get_params(), f"{cls.__name__}: parameters change across pickling"
    fitted = _fitted(cls, train or capture)
    again = pickle.loads(pickle.dumps(fitted))
    assert _dicts(again.detect(capture)) == _dicts(fitted.detect(capture)), \
        f"{cls.__name__}: a fitted detector gives other alerts after pickling"


@contextlib.contextmanager
def watch_opens() -> Iterator[list[str]]:
    """Record every path opened through ``open``, ``io.open`` and ``os.open`` in this process."""
    opened: list[str] = []
    real_open, real_io_open, real_os_open = builtins.open, io.open, os.open

    def _note(path: Any) -> None:
        if isinstance(path, str | bytes | os.PathLike):
            opened.append(os.fsdecode(path))

    def spy_open(file: Any, *a: Any, **kw: Any) -> Any:
        _note(file)
        return real_open(file, *a, **kw)

    def spy_io_open(file: Any, *a: Any, **kw: Any) -> Any:
        _note(file)
        return real_io_open(file, *a, **kw)

    def spy_os_open(path: Any, *a: Any, **kw: Any) -> Any:
        _note(path)
        return real_os_open(path, *a, **kw)

    builtins.open, io.open, os.open = spy_open, spy_io_open, spy_os_open
    try:
        yield opened
    finally:
        builtins.open, io.open, os.open = real_open, real_io_open, real_os_open


def check_never_reads_truth(cls: type[Detector], capture: Capture, train: Capture | None) -> None:
    """``fit``/``detect`` open nothing under ``truth/``, and a capture path there is refused."""
    with watch_opens() as opened:
        _fitted(cls, train or capture).detect(capture)
    bad = [p for p in opened if "/truth/" in Path(p).absolute().as_posix()]
    assert not bad, f"{cls.__name__} opened ground truth: {bad[:3]}"
    truth = capture.path.parent / "truth" / "events.jsonl"
    if truth.exists():
        try:
            Capture(truth)
        except CaptureError:
            pass
        else:
            raise AssertionError("Capture accepted a path under truth/")


CHECKS: dict[str, Check] = {
    "init_does_no_work": check_init_does_no_work,
    "not_fitted": check_not_fitted,
    "fit_idempotent": check_fit_idempotent,
    "deterministic": check_deterministic,
    "pickle": check_pickle,
    "never_reads_truth": check_never_reads_truth,
}
"""Check name -> check function ``(cls, capture, train) -> None``."""


def check_detector(cls: type[Detector], capture: Capture, train: Capture | None = None) -> None:
    """Run every conformance check on ``cls`` (``train``: a benign capture for learning detectors)."""
    for check in CHECKS.values():
        check(cls, capture, train)
