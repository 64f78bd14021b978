"""Builds the optional compiled hot loops (``testbed.packets._speedups``); everything else is in pyproject.toml.

The extension is optional: where no C compiler is found the build goes on without it and the testbed
runs its pure-Python code, which writes the same bytes, only slower. ``TESTBED_PURE_PYTHON=1`` leaves it
out on purpose (the container images do: their wheel must install on any Python 3.11 and they do not
synthesise captures).
"""

import os

from setuptools import Extension, setup

extensions = []
if not os.environ.get("TESTBED_PURE_PYTHON"):
    extensions.append(
        Extension("testbed.packets._speedups", ["testbed/packets/_speedups.c"], libraries=["m"], optional=True)
    )

setup(ext_modules=extensions)
