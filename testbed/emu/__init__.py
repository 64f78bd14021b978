"""The container backend (``--backend docker``): households as isolated Docker networks of containers.

- ``images.ensure_node_image``: the one node image, built from the project's wheels, cached by content hash.
- ``plan.plan_lab``: the lab as data (networks, nodes, routes) from a population.
- ``lab.Lab``: the plan made real, as a context manager that removes everything on failure;
  ``lab.prune`` removes what a crashed run left.
- ``capture``: tcpdump on the lab's bridges and the labelled merge into ``capture.pcapng``.
- ``runner.run_docker``: a whole run into the run directory; ``compare.compare_runs``: the divergence report.
"""

from testbed.emu.docker_client import DockerUnavailable, docker_available
from testbed.emu.runner import Fault, run_docker

__all__ = ["DockerUnavailable", "Fault", "docker_available", "run_docker"]
