# The one node image of the container backend: every role (device, TV, gateway, DNS, collector, internet) runs
# `python -m testbed.live ROLE`. Built by `tvtestbed images build` (testbed/emu/images.py), which puts
# the project's wheel and its dependencies' wheels in wheels/: nothing is fetched from inside the image
# (pip in a debootstrapped base cannot verify the registry's certificate, and the build has no network).
ARG BASE=tvtestbed-base:bookworm
FROM ${BASE}
ARG PYTHON=python3
COPY wheels /wheels
RUN ${PYTHON} -m venv /opt/testbed \
 && /opt/testbed/bin/pip install --quiet --no-index --no-cache-dir --find-links /wheels smarttv-testbed \
 && rm -rf /wheels
ENV PATH=/opt/testbed/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
ENTRYPOINT ["python", "-m", "testbed.live"]
