"""The Docker engine connection, and the one message a user without Docker gets."""

from __future__ import annotations

from functools import lru_cache

from testbed.errors import RunError

ENABLE_HINT = (
    "the container backend needs a running Docker engine: install docker.io "
    "(apt-get install docker.io), start dockerd, and check that `docker info` answers; "
    "the Python SDK is installed with the project (docker>=7)"
)


class DockerUnavailable(RunError):
    """No Docker engine answers (or the docker SDK is missing)."""


@lru_cache(maxsize=1)
def docker_client():
    """A ``docker.DockerClient`` for the local engine (API version negotiated: 20.10 speaks 1.41)."""
    try:
        import docker
    except ImportError:
        raise DockerUnavailable(f"the docker package is missing; {ENABLE_HINT}") from None
    try:
        client = docker.from_env(version="auto", timeout=120)
        client.ping()
    except Exception as exc:
        raise DockerUnavailable(f"no Docker engine ({type(exc).__name__}); {ENABLE_HINT}") from None
    return client


def docker_available() -> tuple[bool, str]:
    """Whether Docker can be used here, and if not why (for skip messages)."""
    try:
        docker_client()
        return True, ""
    except DockerUnavailable as exc:
        return False, str(exc)
