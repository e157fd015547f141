"""The deploy tests' one Docker engine, images and compose stack, shared by every test of tests/deploy (in order).

Everything is torn down in `finally` blocks: the stack (`down -v`), every container of the daemon by id, then the
daemon by its pid. When Docker cannot be set up the tests fail with the reason; they never skip.
"""

import time
from collections.abc import Iterator

import pytest

from tests.deploy.compose import Stack
from tests.deploy.daemon import Docker, docker_daemon
from tests.deploy.images import BuildTimes, build_all


@pytest.fixture(scope="package")
def docker() -> Iterator[Docker]:
    with docker_daemon() as daemon:
        yield daemon


@pytest.fixture(scope="package")
def images(docker: Docker) -> BuildTimes:
    return build_all(docker)


@pytest.fixture(scope="package")
def stack(docker: Docker, images: BuildTimes) -> Iterator[Stack]:
    """The whole compose file up and healthy; `down -v` at the end whatever happened."""
    deployment = Stack.create(docker)
    started = time.monotonic()
    try:
        deployment.up()
        healthy_s = deployment.wait_healthy()
        print(f"deploy-figures: builds_s={images.seconds} up_to_healthy_s={healthy_s:.1f} "
              f"(from up: {time.monotonic() - started:.1f})")
        yield deployment
    finally:
        deployment.compose("down", "--volumes", "--remove-orphans", "--timeout", "20", check=False)
