"""A throwaway CA and server certificate for the HTTPS Salesforce mock.

Real Salesforce is HTTPS-only and ``simple-salesforce`` hard-codes ``https://``, so the mock must
speak TLS; clients trust it through the CA file written here.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import trustme


def make_server_context(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """Return a server SSL context for 127.0.0.1/localhost and the path of the CA to trust."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost", "::1")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    directory.mkdir(parents=True, exist_ok=True)
    ca_file = directory / "crmsync-mock-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return ctx, ca_file
