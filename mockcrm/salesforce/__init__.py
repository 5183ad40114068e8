"""The mock Salesforce server (REST API v20.0-v67.0 shapes, reference B1-B15).

Public interface:

- ``create_app(config) -> aiohttp.web.Application``: the whole server; ``mockcrm.server`` serves it.
- ``SALESFORCE_MOCK``: the app key of its state (``app[SALESFORCE_MOCK].org`` is the in-memory org),
  for tests and benchmarks that need to look behind the API.

Over HTTP: ``/services/data/`` (versions), ``/services/data/vXX.X/...`` (limits, describe, sObject
CRUD and upsert, updated/deleted, sObject Collections, composite, query/queryAll with
``nextRecordsUrl``), ``POST /services/oauth2/token``, and the ``/__mock/`` control plane: the shared
routes (stats, reset, faults, clock) plus seed, dump, rules, convert-lead, sobjects and workload.
"""

from mockcrm.salesforce.app import SALESFORCE_MOCK, create_app

__all__ = ["SALESFORCE_MOCK", "create_app"]
