"""The mock HubSpot CRM v3 server.

``create_app(config)`` builds the aiohttp application (``mockcrm.server`` serves it). In-process
code that holds the app (``running_mocks`` yields it) can reach the state directly through
``app[MOCK_KEY]``: a ``HubSpotMock`` with ``.portal`` (records, schema, owners, associations),
``.clock``, ``.limits``, ``.stats`` and ``.rules``.
"""

from mockcrm.hubspot.app import create_app
from mockcrm.hubspot.context import MOCK_KEY, HubSpotMock

__all__ = ["MOCK_KEY", "HubSpotMock", "create_app"]
