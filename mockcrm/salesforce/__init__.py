"""The mock Salesforce server."""

from mockcrm.salesforce.app import SALESFORCE_MOCK, create_app

__all__ = ["SALESFORCE_MOCK", "create_app"]
