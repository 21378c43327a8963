"""An httpx transport that loads the trust store only when a TLS connection is made.

httpx builds its SSL context (reading every CA certificate) when a Client is created;
against a local ``http://`` mock that is most of a command's run time and never used.
"""

from __future__ import annotations

import ssl

import httpx


class LazyTLSTransport(httpx.BaseTransport):
    """Plain-http requests use a transport whose SSL context loads no certificates (it is
    never used: http:// does no TLS); the verifying one is built on the first https://."""

    def __init__(self) -> None:
        self._plain: httpx.HTTPTransport | None = None
        self._tls: httpx.HTTPTransport | None = None

    def _transport(self, scheme: str) -> httpx.HTTPTransport:
        if scheme == "https":
            if self._tls is None:
                self._tls = httpx.HTTPTransport()  # default: verify with the trust store
            return self._tls
        if self._plain is None:
            # Still CERT_REQUIRED with hostname checks: were it ever asked for TLS, it would
            # refuse (it trusts no CA) rather than connect unverified.
            self._plain = httpx.HTTPTransport(verify=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
        return self._plain

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._transport(request.url.scheme).handle_request(request)

    def close(self) -> None:
        for transport in (self._plain, self._tls):
            if transport is not None:
                transport.close()
