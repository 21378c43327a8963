"""Transports that load only what a URL needs.

httpx builds its SSL context (reading every CA certificate) when a Client is created,
and its transport imports httpcore and h11; against a local ``http://`` mock that is
most of a command's run time, and none of it is used. Plain ``http://`` requests go
through the standard library's ``http.client`` (already loaded by httpx itself); the
verifying TLS transport is built on the first ``https://`` request.
"""

from __future__ import annotations

import functools
import http.client
import ssl

import httpx


@functools.cache
def trust_store() -> ssl.SSLContext:
    """The verifying TLS context, built once per process and shared by every client.

    Building one reads the whole CA bundle (about 20 ms); httpx does it again for each
    Client unless it is handed a context. SSLContext is safe to share between threads.
    """
    return httpx.create_ssl_context()


def _timeouts(request: httpx.Request) -> tuple[float | None, float | None]:
    timeout = request.extensions.get("timeout") or {}
    return timeout.get("connect"), timeout.get("read")


class PlainHTTPTransport(httpx.BaseTransport):
    """``http://`` only, one connection per request (a CLI makes a handful)."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        connect_timeout, read_timeout = _timeouts(request)
        url = request.url
        conn = http.client.HTTPConnection(url.host, url.port or 80, timeout=connect_timeout)
        try:
            try:
                conn.connect()
            except TimeoutError as exc:
                raise httpx.ConnectTimeout(str(exc), request=request) from exc
            except OSError as exc:
                raise httpx.ConnectError(str(exc), request=request) from exc
            if conn.sock is not None:
                conn.sock.settimeout(read_timeout)
            body = request.read()
            try:
                # httpx has set Host, Accept-Encoding and Content-Length; send its headers
                # as they are (repeated ones too), the body whole.
                conn.putrequest(
                    request.method,
                    url.raw_path.decode("ascii"),
                    skip_host=True,
                    skip_accept_encoding=True,
                )
                for name, value in request.headers.multi_items():
                    if name.lower() not in ("transfer-encoding", "content-length"):
                        conn.putheader(name, value)
                if body or request.method in ("POST", "PUT", "PATCH"):
                    conn.putheader("Content-Length", str(len(body)))
                conn.endheaders(body or None)
                answer = conn.getresponse()
                content = answer.read()
            except TimeoutError as exc:
                raise httpx.ReadTimeout(str(exc), request=request) from exc
            except (http.client.HTTPException, OSError) as exc:
                raise httpx.RemoteProtocolError(str(exc), request=request) from exc
        finally:
            conn.close()
        # The body arrives as sent (still gzip-encoded, if it was): httpx decodes it.
        headers = [(k, v) for k, v in answer.getheaders() if k.lower() != "transfer-encoding"]
        return httpx.Response(
            answer.status,
            headers=headers,
            content=content,
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )


class LazyTLSTransport(httpx.BaseTransport):
    """Plain-http requests use ``PlainHTTPTransport``; the verifying TLS transport (the
    trust store, httpcore) is built on the first ``https://`` request."""

    def __init__(self) -> None:
        self._plain = PlainHTTPTransport()
        self._tls: httpx.HTTPTransport | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme != "https":
            return self._plain.handle_request(request)
        if self._tls is None:
            self._tls = httpx.HTTPTransport(verify=trust_store())
        return self._tls.handle_request(request)

    def close(self) -> None:
        if self._tls is not None:
            self._tls.close()


__all__ = ["LazyTLSTransport", "PlainHTTPTransport", "trust_store"]
