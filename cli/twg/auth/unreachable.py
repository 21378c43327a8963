"""One message for "could not reach": the URL, what went wrong in words, and the setting
that chose the URL, so the user knows what to check."""

from __future__ import annotations

from twg.errors import NetworkError


def describe_failure(exc: BaseException) -> str:
    """httpx's exception class in words a person knows."""
    kind = type(exc).__name__
    if "Timeout" in kind:
        return "it did not answer in time"
    if kind == "ConnectError":
        text = str(exc).lower()
        if "name or service" in text or "nodename" in text or "getaddrinfo" in text:
            return "the host name does not resolve"
        if "ssl" in text or "certificate" in text:
            return f"the TLS handshake failed ({exc})"
        return "the connection was refused or the host is unreachable"
    if kind in ("RemoteProtocolError", "ReadError", "WriteError"):
        return "the connection broke off"
    return f"a network error ({kind})"


def unreachable(url: str, exc: BaseException, setting: str | None) -> NetworkError:
    where = f" (set by {setting})" if setting else ""
    remedy = (
        f"Check that the server is running and that {setting} is right."
        if setting
        else "Check your network connection and try again."
    )
    return NetworkError(f"Could not reach {url}{where}: {describe_failure(exc)}.", remedy)
