"""twg auth status: who, where, which scopes, expiries, storage. No network, no secrets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from twg.auth import auth_conf
from twg.commands._format import duration, iso
from twg.errors import AuthInvalid, TwgError
from twg.factory import Factory


@dataclass
class Options:
    json: bool = False


def _bitbucket(f: Factory, store_name: str | None) -> str:
    if f.environ.get("TWG_BBC_TOKEN"):
        return "env"
    if store_name is None:
        return "no"
    try:
        return "yes" if f.store(store_name).get("bitbucket_token") else "no"
    except TwgError:
        return "unknown"


def status(f: Factory) -> dict[str, Any]:
    session = f.session
    override = session.env_override()
    conf = session.load_conf()
    now = f.clock.now()
    data: dict[str, Any] = {
        "logged_in": False,
        "issuer": session.issuer,
        "config_dir": str(f.settings.config_dir),
        "other_sessions": [
            {"issuer": c.key, "account": c.email or c.name or c.account_id}
            for c in session.other_sessions()
        ],
    }
    if override:
        data.update(logged_in=True, token_source="env", auth_method="TWG_OAUTH_ACCESS_TOKEN")  # noqa: S106
        data["bitbucket_token"] = _bitbucket(f, conf.store if conf else None)
        return data
    if conf is None:
        return data
    creds = session.load()
    store = f.store(conf.store)
    tokens = creds.tokens if creds else None
    data.update(
        logged_in=creds is not None,
        auth_method="oauth",
        account={"id": conf.account_id, "email": conf.email, "name": conf.name},
        site={"id": conf.site_id, "name": conf.site_name, "url": conf.site_url},
        scopes=conf.scopes,
        token_source=creds.source if creds else None,
        storage={"backend": store.name, "description": store.describe()},
        access_token_expires_at=iso(conf.access_expires_at),
        refresh_due_at=iso(tokens.refresh_after) if tokens else None,
        last_refresh_at=iso(conf.last_refresh_at),
        refresh_token_present=bool(tokens and tokens.refresh_token),
        bitbucket_token=_bitbucket(f, conf.store),
        unknown=conf.unknown,
    )
    if tokens is not None:
        if tokens.expired(now):
            state = "expired (will refresh on next use)"
        elif tokens.needs_refresh(now):
            state = "refresh due (will refresh on next use)"
        else:
            state = f"fresh ({duration((tokens.expires_at or now) - now)} left)"
        data["access_token_state"] = state
    if conf.invalid_reason:
        data["invalid_reason"] = conf.invalid_reason
    return data


def run(opts: Options, f: Factory) -> int:
    data = status(f)
    if not data["logged_in"]:
        conf = f.session.load_conf()
        if conf is not None and conf.invalid_reason:
            raise AuthInvalid(conf.invalid_reason, "Run `twg login` to sign in again.")
        raise f.session.not_logged_in()
    if opts.json:
        f.io.out_json(data)
        return 0
    lines = []
    if data.get("token_source") == "env":
        lines.append(
            "Logged in with TWG_OAUTH_ACCESS_TOKEN from the environment (token source: env)."
        )
    else:
        account = data["account"]
        who = auth_conf.describe_account(account["id"], account["email"], account["name"])
        lines.append(f"Logged in to {data['issuer']} as {who}")
        site = data["site"]
        lines.append(f"Site: {site['name']} ({site['url']})" if site["id"] else "Site: unknown")
        lines.append(f"Scopes: {' '.join(data['scopes'])}")
        lines.append(
            f"Access token: {data.get('access_token_state', '?')}, expires "
            f"{data['access_token_expires_at']}"
        )
        lines.append(f"Last refresh: {data['last_refresh_at']}")
        lines.append(f"Token source: {data['token_source']}")
        lines.append(f"Storage: {data['storage']['description']}")
        lines.append(f"Config: {data['config_dir']}/auth.conf")
    lines.append(f"Bitbucket token: {data['bitbucket_token']}")
    others = data["other_sessions"]
    if others:
        lines.append("Other stored sessions (set TWG_IDP_URL to use one):")
        lines.extend(f"  {o['issuer']} ({o['account'] or 'unknown account'})" for o in others)
    for line in lines:
        f.io.out(line)
    return 0
