"""RFC 8628 device authorization: poll the token endpoint until the user approves."""

from __future__ import annotations

import time
from collections.abc import Callable

from twg.auth.oauth_client import DeviceAuthorization, OAuthClient, ServerTrouble
from twg.auth.oauth_errors import OAuthErrorResponse
from twg.auth.tokens import TokenSet
from twg.errors import LoginError, LoginTimeout, Unavailable

SLOW_DOWN_STEP = 5  # RFC 8628 section 3.5: add 5 seconds on slow_down


def poll_device_token(
    client: OAuthClient,
    grant: DeviceAuthorization,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    tick: Callable[[float], None] | None = None,
) -> TokenSet:
    """``tick`` gets the seconds left about once a second while waiting (a countdown;
    it may raise to stop waiting, e.g. when the browser given the URL failed)."""
    # The device code's own lifetime bounds the wait too; say which limit ended it.
    limit = min(timeout, grant.expires_in)
    deadline = monotonic() + limit
    interval = max(1, grant.interval)
    while True:
        if monotonic() + interval > deadline:
            raise LoginTimeout(
                f"Login timed out after {limit:.0f} seconds without approval.",
                "Run `twg login --device` again and enter the code promptly.",
            )
        _wait(interval, deadline, sleep, monotonic, tick)
        try:
            return client.device_token(grant.device_code)
        except ServerTrouble as exc:
            # Down or busy, not a refusal: exit 69, try again (docs/exit-codes.md). The
            # token request reports 5xx/429 as ServerTrouble, before any OAuth error.
            raise Unavailable(
                f"The identity provider answered HTTP {exc.status} while waiting for "
                "the device approval.",
                "Try `twg login --device` again later.",
            ) from None
        except OAuthErrorResponse as exc:
            if exc.status >= 500 or exc.status == 429:
                # Down or busy, not a refusal: exit 69, try again (docs/exit-codes.md).
                raise Unavailable(
                    f"The identity provider answered HTTP {exc.status} while waiting for "
                    "the device approval.",
                    "Try `twg login --device` again later.",
                ) from None
            # RFC 8628 section 3.5 error codes.
            if exc.error == "authorization_pending":
                continue
            if exc.error == "slow_down":
                interval += SLOW_DOWN_STEP
                continue
            if exc.error == "access_denied":
                raise LoginError(
                    "Login was denied in the browser: access was not granted.",
                    "Run `twg login` again and choose Accept to continue.",
                ) from None
            if exc.error == "expired_token":
                raise LoginTimeout(
                    "The device code expired before it was approved.",
                    "Run `twg login --device` again.",
                ) from None
            raise LoginError(
                f"Device login failed: {exc.error}"
                + (f" ({exc.description})" if exc.description else "")
                + "."
            ) from None


def _wait(
    seconds: float,
    deadline: float,
    sleep: Callable[[float], None],
    monotonic: Callable[[], float],
    tick: Callable[[float], None] | None,
) -> None:
    if tick is None:
        sleep(seconds)
        return
    end = monotonic() + seconds
    while (left := end - monotonic()) > 0:
        tick(deadline - monotonic())
        sleep(min(1.0, left))
