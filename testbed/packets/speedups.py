"""The compiled hot loops, when they were built (``_speedups.c``), else ``None``.

Callers read ``speedups.native`` at call time and fall back to their pure-Python code, which writes
the same bytes; the tests compare the two, and CI fails when the extension is missing.
"""

from __future__ import annotations

from types import ModuleType

native: ModuleType | None
try:
    from testbed.packets import _speedups as native
except ImportError:  # no C compiler where the package was built: the pure-Python path is used
    native = None
