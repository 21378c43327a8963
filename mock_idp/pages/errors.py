"""The pages that say why a sign-in cannot go on, each leading somewhere useful; and the
RFC 6749 section 4.1.2.1 error answer of /authorize (a redirect only to a validated URI)."""

from __future__ import annotations

from authlib.common.urls import add_params_to_uri
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mock_idp.idp import MockIdP
from mock_idp.oauth.server import OAuth2Error
from mock_idp.pages.layout import error_page


def unknown_sign_in() -> Response:
    return error_page(
        "Sign-in expired",
        "This sign-in is unknown or has expired. Start again from the application "
        "you were signing in to.",
        restart="/",
        restart_label="What is this site?",
    )


def expired_sign_in(restart: str, minutes: int) -> Response:
    return error_page(
        "Sign-in expired",
        f"This sign-in expired: it has to be finished within {minutes} minutes. Start again.",
        restart=restart,
    )


def other_browser(restart: str) -> Response:
    return error_page(
        "Sign-in started elsewhere",
        "This sign-in was started in another browser, or this browser does not keep "
        "cookies for this site. Start again here.",
        403,
        restart=restart,
    )


def finished_sign_in(restart: str) -> Response:
    return error_page(
        "Sign-in finished",
        "This sign-in has already been answered. Start again to sign in once more.",
        restart=restart,
    )


def too_many_sign_ins() -> Response:
    response = error_page(
        "Too many sign-ins",
        "Too many sign-ins are in progress; try again in a few minutes.",
        429,
    )
    response.headers["Retry-After"] = "60"
    return response


def foreign_origin() -> Response:
    return error_page(
        "Request refused",
        "This form was sent from another site. Sign in only on the pages of this site.",
        403,
    )


def malformed_request() -> Response:
    return error_page(
        "Authorization request rejected",
        "invalid_request: a parameter holds characters that are not allowed "
        '(such as ", \\ or non-ASCII characters).',
    )


def authorize_error(
    idp: MockIdP, request: Request, exc: OAuth2Error, state: str | None
) -> Response:
    """RFC 6749 section 4.1.2.1: redirect only to a validated redirect URI."""
    redirect_uri = getattr(exc, "redirect_uri", None)
    idp.audit.record("authorize.rejected", error=exc.error, redirected=bool(redirect_uri))
    if not redirect_uri:
        return error_page("Authorization request rejected", f"{exc.error}: {exc.description}")
    query = [("error", exc.error)]
    if exc.description:
        query.append(("error_description", exc.description))
    if state:
        query.append(("state", state))
    query.append(("iss", idp.issuer(request)))  # RFC 9207
    return RedirectResponse(add_params_to_uri(redirect_uri, query), status_code=302)
