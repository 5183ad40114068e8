from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
from hypothesis import HealthCheck, settings

from mockcrm.config import MockConfig, MockEndpoints
from mockcrm.server import MocksInThread, running_mocks

# Timing is never a test's verdict here (DEVELOPERS.md: machines are shared and noisy), so
# hypothesis's per-example deadline and its "generation is slow" check are off; every property
# still runs its full number of examples.
settings.register_profile("crmsync", deadline=None, suppress_health_check=[HealthCheck.too_slow])
# A long hunt by hand: HYPOTHESIS_PROFILE=thorough ./scripts/test (or pytest with it set).
settings.register_profile("thorough", parent=settings.get_profile("crmsync"), max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "crmsync"))


@pytest.fixture
def anyio_backend() -> str:
    # aiohttp and aiolimiter are asyncio-only.
    return "asyncio"


def mock_config(**overrides: object) -> MockConfig:
    """Mocks on free ports, seeded, with the real limits unless a test overrides them."""
    base: dict[str, object] = {"hubspot_port": 0, "salesforce_port": 0, "seed": 1234}
    base.update(overrides)
    return MockConfig(**base)  # type: ignore[arg-type]


@pytest.fixture
async def mocks() -> AsyncIterator[MockEndpoints]:
    """Both mocks in the test's own event loop (for async clients such as aiohttp)."""
    async with running_mocks(mock_config()) as (endpoints, _, _):
        yield endpoints


@pytest.fixture(scope="module")
def threaded_mocks() -> Iterator[MockEndpoints]:
    """Both mocks on a background thread (for the synchronous official clients)."""
    with MocksInThread(mock_config()) as endpoints:
        yield endpoints
