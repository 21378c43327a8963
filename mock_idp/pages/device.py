"""The RFC 8628 section 3.3 verification page: a device login's user code, then the same
sign-in, site and consent pages as a browser login."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from mock_idp.models import DeviceCode
from mock_idp.pages import flows
from mock_idp.pages.layout import alert, esc, field_error, page

router = APIRouter(include_in_schema=False)


def device_form(user_code: str = "", error: str = "", status_code: int = 200) -> Response:
    body = (
        (alert(error) if error else "")
        + "<p id=hint>Enter the code shown in your terminal.</p>"
        + '<form method=post action="/device" id=device>'
        + "<label for=user_code>Code</label>"
        + f'<input type=text id=user_code name=user_code value="{esc(user_code)}" '
        + "autocomplete=off autocapitalize=characters spellcheck=false required autofocus"
        + (field_error(error) or " aria-describedby=hint")
        + "><button type=submit>Continue</button></form>"
    )
    return page("Connect a device", body, status_code)


@router.get("/device")
async def device_page(user_code: str = "") -> Response:
    return device_form(user_code)


def normalize_user_code(raw: str) -> str:
    letters = "".join(ch for ch in raw.upper() if ch.isascii() and ch.isalnum())
    return f"{letters[:4]}-{letters[4:]}" if len(letters) == 8 else letters[:32]


@router.post("/device")
async def device_submit(request: Request) -> Response:
    idp = flows.idp_of(request)
    refused = flows.foreign_post(idp, request)
    if refused is not None:
        return refused
    form = await flows.read_form(request)
    code = normalize_user_code(form.get("user_code", ""))
    now = idp.clock.now()
    record = next(
        (
            d
            for d in idp.store.all(DeviceCode)
            if d.user_code == code and d.status == "pending" and now < d.expires_at
        ),
        None,
    )
    if record is None:
        return device_form(code, "That code is unknown, used or expired.", 400)
    flow = {
        "kind": "device",
        "device_code_hash": record.device_code_hash,
        "client_id": record.client_id,
        "scope": record.scope,
    }
    return flows.start(idp, request, flow, "/device?" + urlencode({"user_code": code}))
