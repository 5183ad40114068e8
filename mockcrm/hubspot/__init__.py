"""The mock Hubspot server."""

from mockcrm.hubspot.app import create_app

__all__ = ["create_app"]
