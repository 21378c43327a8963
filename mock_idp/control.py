"""The test-control API under ``/_mock/``: clock, reset, seed, settings, sessions, audit
log and fault injection. Tests and security reviewers drive the mock through it.

``guard.RequestGuard`` protects every path under ``/_mock``: with ``control_token`` set
each call needs ``Authorization: Bearer <it>``, cross-site requests are refused and a
POST must be ``Content-Type: application/json``, so neither another user of the machine
nor a web page in the developer's browser can reset the mock or move its clock.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse

from mock_idp import CONTROL_PREFIX
from mock_idp.bodies import UnusableBody, loads
from mock_idp.errors import OAuthError
from mock_idp.faults import FaultSpecError, parse_fault
from mock_idp.idp import MockIdP
from mock_idp.models import RefreshToken, TokenFamily, User
from mock_idp.secrets_util import fingerprint_of_digest
from mock_idp.seed import SeedError, apply_seed
from mock_idp.seed_schema import check_seed
from mock_idp.settings import Settings

DAY = 86_400
TEN_YEARS = 10 * 366 * DAY
# Settings that may change at runtime: (smallest, largest) value each accepts. The
# largest keep every expiry computable from anywhere in the clock's range.
MUTABLE_INT_SETTINGS: dict[str, tuple[int, int]] = {
    "access_token_ttl": (1, TEN_YEARS),
    "refresh_idle_ttl": (1, TEN_YEARS),
    "refresh_absolute_ttl": (1, TEN_YEARS),
    "refresh_reuse_grace": (0, DAY),
    "auth_code_ttl": (1, DAY),
    "device_code_ttl": (1, DAY),
    "device_poll_interval": (0, 3600),
}
FIXED_SETTINGS = ("control_token", "audit_limit", "seed", "allowed_hosts")
MAX_CLOCK_STEP = 100 * 366 * 86_400  # a century: beyond that is a typo
# The mock clock stays between 1970 and 3000: with every TTL at most ten years, each
# expiry, HTTP Date header and ISO timestamp stays representable.
MIN_TIME = 0.0
MAX_TIME = 32_503_680_000.0  # 3000-01-01T00:00:00Z
MAX_ISSUER_LENGTH = 2048
_AUDIT_ID = re.compile(r"[0-9]{1,18}")


router = APIRouter(prefix=CONTROL_PREFIX)


def _idp(request: Request) -> MockIdP:
    idp: MockIdP = request.app.state.idp
    return idp


def _bad(description: str) -> OAuthError:
    return OAuthError("invalid_request", description, 400)


async def _json(request: Request, *, required: bool = True) -> Any:
    raw = await request.body()
    if not raw.strip():
        if required:
            raise _bad("The request needs a JSON body.")
        return {}
    try:
        return loads(raw)
    except UnusableBody as exc:
        raise _bad(str(exc)) from None
    except (ValueError, UnicodeDecodeError):
        raise _bad("The request body is not valid JSON.") from None


def _object(data: object) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _bad("The body must be a JSON object.")
    return data


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat()


# clock -----------------------------------------------------------------------------------


def _clock_json(idp: MockIdP) -> dict[str, Any]:
    now = idp.clock.now()
    frozen = idp.clock.frozen_at is not None
    return {
        "now": now,
        "iso": iso(now),
        # Seconds ahead of the wall clock (behind when negative).
        "offset": now - idp.clock.wall() if frozen else idp.clock.offset,
        "frozen": frozen,
    }


def _clock_changed(idp: MockIdP, action: str, **details: object) -> dict[str, Any]:
    idp.save_clock()
    state = _clock_json(idp)
    idp.audit.record(
        "clock.changed", action=action, now=state["now"], frozen=state["frozen"], **details
    )
    return state


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _bad(f"'{name}' must be a number.")
    return float(value)


OUT_OF_RANGE = "The mock clock stays between 1970-01-01 and 3000-01-01 (UTC)."


def parse_time(value: object) -> float:
    """An epoch number or an ISO 8601 string (naive means UTC) as an epoch timestamp,
    within the clock's range."""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            timestamp = moment.timestamp()
        except (ValueError, OverflowError):
            raise _bad(
                "'time' must be epoch seconds or ISO 8601, e.g. 2026-01-31T12:00:00Z."
            ) from None
    else:
        timestamp = _number(value, "time")
    if not MIN_TIME <= timestamp <= MAX_TIME:
        raise _bad(f"'time' is out of range. {OUT_OF_RANGE}")
    return timestamp


@router.get("/clock")
async def get_clock(request: Request) -> dict[str, Any]:
    return _clock_json(_idp(request))


@router.post("/clock/advance")
async def advance_clock(request: Request) -> dict[str, Any]:
    idp = _idp(request)
    body = _object(await _json(request))
    seconds = _number(body.get("seconds"), "seconds")
    if abs(seconds) > MAX_CLOCK_STEP:
        raise _bad("'seconds' is larger than a century.")
    if not MIN_TIME <= idp.clock.now() + seconds <= MAX_TIME:
        raise _bad(f"'seconds' would move the clock out of range. {OUT_OF_RANGE}")
    idp.clock.advance(seconds)
    return _clock_changed(idp, "advance", seconds=seconds)


@router.post("/clock/set")
async def set_clock(request: Request) -> dict[str, Any]:
    idp = _idp(request)
    body = _object(await _json(request))
    timestamp = parse_time(body.get("time"))
    idp.clock.set(timestamp)
    return _clock_changed(idp, "set", time=timestamp)


@router.post("/clock/freeze")
async def freeze_clock(request: Request) -> dict[str, Any]:
    idp = _idp(request)
    idp.clock.freeze()
    return _clock_changed(idp, "freeze")


@router.post("/clock/unfreeze")
async def unfreeze_clock(request: Request) -> dict[str, Any]:
    idp = _idp(request)
    idp.clock.unfreeze()
    return _clock_changed(idp, "unfreeze")


# world -----------------------------------------------------------------------------------


@router.post("/reset")
async def reset(request: Request) -> dict[str, Any]:
    idp = _idp(request)
    faults = idp.faults.clear()
    # Work items come back with the world: they are seeded again on first use.
    idp.reset()
    return {"reset": True, "faults_cleared": faults, "clock": _clock_json(idp)}


@router.post("/seed")
async def seed(request: Request) -> dict[str, Any]:
    idp = _idp(request)
    document = _object(await _json(request))
    try:
        check_seed(document)
        counts = apply_seed(idp.store, document, idp.clock.now())
    except SeedError as exc:
        raise _bad(f"The seed was not applied: {exc}") from None
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        # A wrongly shaped document (a list where an object belongs, and so on).
        raise _bad(f"The seed was not applied: malformed document ({exc}).") from None
    idp.audit.record("mock.seeded", **counts)
    return {"applied": counts}


@router.get("/settings")
async def get_settings(request: Request) -> dict[str, Any]:
    return _idp(request).settings.public()


def _validated_setting(name: str, value: object) -> object:
    if name in FIXED_SETTINGS:
        raise _bad(f"'{name}' is fixed at start-up and cannot be changed at runtime.")
    if name == "issuer":
        if value is None:
            return None
        if isinstance(value, str) and _is_issuer(value):
            return value.rstrip("/")
        raise _bad("'issuer' must be an http(s) URL without query or fragment, or null.")
    if name == "client_address_override":
        return _client_address(value)
    if name == "invalid_grant_status":
        if isinstance(value, bool) or value not in (400, 401, 403):
            raise _bad("'invalid_grant_status' must be 400 (RFC 6749), 401 or 403 (Atlassian).")
        return value
    if name in MUTABLE_INT_SETTINGS:
        low, high = MUTABLE_INT_SETTINGS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _bad(f"'{name}' must be a whole number of seconds from {low} to {high}.")
        return value
    raise _bad(f"Unknown setting '{name[:64]}'.")


def check_settings(settings: Settings) -> None:
    """Start-up settings (config file, environment) within the bounds a PATCH keeps:
    raises ValueError with the same message."""
    for name in (*MUTABLE_INT_SETTINGS, "issuer", "invalid_grant_status"):
        try:
            _validated_setting(name, getattr(settings, name))
        except OAuthError as exc:
            raise ValueError(exc.description) from None


def _is_issuer(value: str) -> bool:
    """RFC 8414 section 2: an https (here also http) URL without query or fragment."""
    if len(value) > MAX_ISSUER_LENGTH or not value.isascii() or not value.isprintable():
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and not parts.query
        and not parts.fragment
        and " " not in value
    )


def _client_address(value: object) -> str | None:
    import ipaddress

    if value is None:
        return None
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        raise _bad("'client_address_override' must be an IP address or null.") from None


@router.patch("/settings")
async def patch_settings(request: Request) -> dict[str, Any]:
    idp = _idp(request)
    changes = _object(await _json(request))
    # Validate everything before changing anything: a bad patch changes nothing.
    accepted = {name: _validated_setting(name, value) for name, value in changes.items()}
    for name, value in accepted.items():
        setattr(idp.settings, name, value)
    idp.save_settings()
    idp.audit.record("settings.changed", changes=accepted)
    return idp.settings.public()


# sessions and audit ----------------------------------------------------------------------


def _status(idp: MockIdP, family: TokenFamily, refresh: RefreshToken | None) -> str:
    now = idp.clock.now()
    if family.revoked_at is not None:
        return "revoked"
    if now >= family.absolute_expires_at:
        return "expired"
    if refresh is not None and now >= refresh.idle_expires_at:
        return "inactive"
    return "live"


@router.get("/sessions")
async def sessions(request: Request) -> dict[str, Any]:
    idp = _idp(request)
    listed = []
    for family in sorted(idp.store.all(TokenFamily), key=lambda f: f.created_at):
        refresh_hash = family.current_refresh_hash
        refresh = idp.store.get(RefreshToken, refresh_hash) if refresh_hash else None
        user = idp.store.get(User, family.account_id)
        listed.append(
            {
                "id": family.id,
                "status": _status(idp, family, refresh),
                "client_id": family.client_id,
                "account_id": family.account_id,
                "email": user.email if user else None,
                "org_id": family.org_id,
                "site_id": family.site_id,
                "scope": family.scope,
                "created_at": family.created_at,
                "absolute_expires_at": family.absolute_expires_at,
                "refresh_idle_expires_at": refresh.idle_expires_at if refresh else None,
                "refresh_token_fp": fingerprint_of_digest(refresh_hash) if refresh_hash else None,
                "revoked_at": family.revoked_at,
                "revoked_reason": family.revoked_reason,
            }
        )
    return {"sessions": listed}


@router.get("/audit")
async def audit(request: Request) -> dict[str, Any]:
    idp = _idp(request)
    since_raw = request.query_params.get("since", "0")
    # Not str.isdigit: it accepts "²", which int() refuses.
    if not _AUDIT_ID.fullmatch(since_raw):
        raise _bad("'since' must be an audit event id (a whole number, 0 or more).")
    prefix = request.query_params.get("event") or None
    events = idp.audit.events(since_id=int(since_raw), event_prefix=prefix)
    return {
        "events": [
            {"id": e.id, "at": e.at, "at_iso": iso(e.at), "event": e.event, "details": e.details}
            for e in events
        ]
    }


# faults ----------------------------------------------------------------------------------


@router.post("/faults", status_code=201)
async def add_fault(request: Request) -> JSONResponse:
    idp = _idp(request)
    try:
        fault = idp.faults.add(parse_fault(await _json(request)))
    except FaultSpecError as exc:
        raise _bad(str(exc)) from None
    idp.audit.record(
        "fault.queued",
        fault=fault.id,
        path=fault.path,
        method=fault.method,
        count=fault.remaining,
        status=fault.status,
        delay=fault.delay,
        drop=fault.drop,
    )
    return JSONResponse(fault.to_json(), status_code=201)


@router.get("/faults")
async def list_faults(request: Request) -> dict[str, Any]:
    return {"faults": [f.to_json() for f in _idp(request).faults.pending]}


@router.delete("/faults")
async def clear_faults(request: Request) -> dict[str, Any]:
    idp = _idp(request)
    count = idp.faults.clear()
    idp.audit.record("fault.cleared", count=count)
    return {"cleared": count}
