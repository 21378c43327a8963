"""Every knob of the mock in one object, from defaults, a config file, then the environment."""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOUR = 3600
DAY = 24 * HOUR

ENV_PREFIX = "TWG_MOCK_"


@dataclass
class Settings:
    # Fixed issuer URL. None: derived from each request's own base URL, so the same server
    # is correct as http://127.0.0.1:8080 on the host and http://mock-idp:8080 in Compose.
    issuer: str | None = None
    access_token_ttl: int = 8 * HOUR
    refresh_idle_ttl: int = 30 * DAY
    refresh_absolute_ttl: int = 365 * DAY
    # How long a just-rotated refresh token may still be presented without counting as
    # reuse, like Atlassian's 10-minute leeway (a client whose answer was lost retries
    # and gets the same successor). 0, the strict RFC 9700 variant: any reuse revokes
    # the family. docs/mock-defaults.md lists every default and its Atlassian value.
    refresh_reuse_grace: int = 600
    auth_code_ttl: int = 120
    device_code_ttl: int = 600
    device_poll_interval: int = 5
    # HTTP status for invalid_grant: 403 as Atlassian answers; 400 is RFC 6749's.
    invalid_grant_status: int = 403
    # When set, /_mock/ requires "Authorization: Bearer <control_token>".
    control_token: str | None = None
    audit_limit: int = 100_000
    # Host names (besides loopback, which is always served) that requests may name in
    # their Host header, e.g. the Compose service name "mock-idp". Env: comma-separated.
    allowed_hosts: list[str] = field(default_factory=list)
    # The client address the mock sees (for IP allowlists); None: the socket's peer.
    # Tests set it; forwarded headers are never trusted.
    client_address_override: str | None = None
    # Replace the built-in seed with this one (same shape as POST /_mock/seed).
    seed: dict[str, Any] | None = field(default=None, repr=False)

    @classmethod
    def load(
        cls, path: str | Path | None = None, environ: Mapping[str, str] | None = None
    ) -> Settings:
        values: dict[str, Any] = {}
        if path is not None:
            values.update(_read_config(Path(path)))
        env = os.environ if environ is None else environ
        names = {f.name: f for f in dataclasses.fields(cls)}
        for name, fld in names.items():
            raw = env.get(ENV_PREFIX + name.upper())
            if raw is None or name == "seed":
                continue
            values[name] = _coerce(raw, fld.type)
        unknown = set(values) - set(names)
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        hosts = values.get("allowed_hosts", [])
        if isinstance(hosts, str):
            values["allowed_hosts"] = hosts = _coerce(hosts, "list[str]")
        if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
            raise ValueError("allowed_hosts must be a list of host names")
        return cls(**values)

    def public(self) -> dict[str, Any]:
        """Settings as shown by /_mock/settings: the control token is never shown."""
        data = dataclasses.asdict(self)
        data.pop("seed", None)
        data["control_token"] = "set" if self.control_token else None
        return data


def _read_config(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read config file {path}: {exc.strerror}") from exc
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"config file {path} is not valid: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"config file {path} must hold a table of settings")
    return data


def _coerce(raw: str, type_name: object) -> Any:
    text = str(type_name)
    if text.startswith("list"):
        return [item.strip() for item in raw.split(",") if item.strip()]
    if "int" in text:
        return None if raw == "" and "None" in text else int(raw)
    return None if raw == "" and "None" in text else raw
