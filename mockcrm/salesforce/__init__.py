"""The mock Salesforce server."""

from mockcrm.salesforce.app import create_app

__all__ = ["create_app"]
