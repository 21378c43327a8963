"""twg login: browser (authorization code + PKCE) or device login, site choice, save."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from dataclasses import dataclass

from twg.auth import auth_conf
from twg.auth.auth_conf import AuthConf
from twg.auth.browser_flow import BrowserUnavailable, browser_login
from twg.auth.browser_open import BrowserFailed, BrowserLaunch
from twg.auth.device import poll_device_token
from twg.auth.discovery import ATLASSIAN_ISSUER, identity_scopes
from twg.auth.identity import Site, fetch_me, fetch_sites, fetch_userinfo
from twg.auth.oauth_client import OAuthClient
from twg.auth.oauth_errors import OAuthErrorResponse
from twg.auth.tokens import TokenSet
from twg.commands.bitbucket_token import ask_and_save
from twg.errors import (
    AuthInvalid,
    ConfigError,
    IpNotAllowed,
    LoginError,
    TwgError,
    Unavailable,
    UsageError,
)
from twg.factory import Factory


@dataclass
class Options:
    force: bool = False
    no_browser: bool = False
    device: bool = False
    site: str | None = None
    json: bool = False


def _can_open_browser(f: Factory) -> bool:
    if f.browser_injected or f.environ.get("BROWSER"):
        return True
    if sys.platform.startswith("linux"):
        # Headless Linux: webbrowser would fall back to a text browser in this terminal.
        return bool(f.environ.get("DISPLAY") or f.environ.get("WAYLAND_DISPLAY"))
    return True


def _already_logged_in(f: Factory) -> AuthConf | None:
    """The current login if its session is alive at the server (refreshing if due)."""
    import httpx

    from twg.auth.httpauth import TwgAuth

    try:
        creds = f.session.load()
        if creds is None or creds.conf is None:
            return None
        wanted = (f.settings.idp_url or ATLASSIAN_ISSUER).rstrip("/")
        if creds.conf.issuer.rstrip("/") != wanted:
            return None  # a login at another identity provider: this one is new
        creds = f.session.ensure_fresh()
        # A live check: an admin may have revoked the session since the last use.
        with f.http(auth=TwgAuth(f.session)) as client:
            response = client.get(f"{f.settings.api_url}/me")
        if response.status_code == 401:
            return None
    except (AuthInvalid, auth_conf.CorruptFile):
        return None
    except httpx.HTTPError:
        pass  # offline: the saved session may well be fine; do not log in again
    return f.session.load_conf()


SPINNER = "|/-\\"


def _span(seconds: float) -> str:
    minutes = seconds / 60
    if minutes >= 1:
        return f"{minutes:g} minute{'s' if minutes != 1 else ''}"
    return f"{seconds:g} second{'s' if seconds != 1 else ''}"


class _Countdown:
    """A spinner and the time left, rewritten in place on a terminal (nothing elsewhere)."""

    def __init__(self, f: Factory, what: str) -> None:
        self.io = f.io
        self.what = what
        self.turn = 0

    def __call__(self, left: float) -> None:
        if not self.io.can_show_status:
            return
        self.turn += 1
        whole = int(left)
        self.io.status(
            f"{SPINNER[self.turn % len(SPINNER)]} {self.what}: "
            f"{whole // 60}:{whole % 60:02d} left (Ctrl-C cancels)"
        )


def _browser_failed(f: Factory, exc: BrowserFailed) -> LoginError:
    reason = exc.reason.rstrip(".")
    if "invalid_client" in reason:  # the sign-in page's own words for an unknown client id
        return LoginError(
            f"The sign-in did not complete: {reason}.",
            f"The identity provider does not know client id {f.client_id}: check "
            "TWG_CLIENT_ID, or the client saved by `twg setup client`.",
        )
    return LoginError(
        f"The sign-in did not complete: {reason}.",
        "Fix the BROWSER setting (or the account it signs in as), or run "
        "`twg login --no-browser` and open the URL yourself.",
    )


def _opener(f: Factory, opts: Options) -> Callable[[str], bool] | None:
    """The browser opener, or None when no browser should (or can) be opened here."""
    if opts.no_browser or not _can_open_browser(f):
        return None
    return f.open_browser


def _device_login(
    f: Factory, client: OAuthClient, scopes: str, opener: Callable[[str], bool] | None
) -> TokenSet:
    try:
        grant = client.device_authorize(scopes, {"audience": "api.atlassian.com"})
    except OAuthErrorResponse as exc:
        if exc.status >= 500 or exc.status == 429 or exc.error == "invalid_client":
            raise _token_error(f, exc) from None
        raise LoginError(
            f"Device login is not available: {exc.description or exc.error}.",
            "Use `twg login` with a browser, or `twg login --no-browser`.",
        ) from None
    # The URL and code are always printed: the browser may not be the one the user uses.
    f.io.err(f"To sign in, open {grant.verification_uri} and enter the code: {grant.user_code}")
    if grant.verification_uri_complete:
        f.io.err(f"Or open this URL, which carries the code: {grant.verification_uri_complete}")
    launch: BrowserLaunch | None = None
    if opener is not None:
        f.io.err("Opening it in your browser.")
        launch = BrowserLaunch(opener, grant.verification_uri_complete or grant.verification_uri)
    limit = min(f.login_timeout, grant.expires_in)
    f.io.err(f"Waiting up to {_span(limit)} for approval. Press Ctrl-C to cancel.")
    countdown = _Countdown(f, "Waiting for approval")

    def tick(left: float) -> None:
        if launch is not None:
            launch.check()  # raises BrowserFailed: stop now, say why
        countdown(left)

    try:
        return poll_device_token(client, grant, f.login_timeout, tick=tick)
    except BrowserFailed as exc:
        raise _browser_failed(f, exc) from None


def _choose_site(f: Factory, sites: list[Site], wanted: str | None) -> Site:
    if wanted:
        for site in sites:
            if site.matches(wanted):
                return site
        names = ", ".join(f"{s.name} ({s.url})" for s in sites) or "none"
        raise UsageError(
            f"You signed in, but the sign-in granted no site matching --site {wanted!r}; "
            "nothing was saved and the new tokens were revoked.",
            f"Sites it granted: {names}. Choose the site on the consent page, or run "
            "`twg login --site NAME` with one of these.",
        )
    if len(sites) == 1:
        return sites[0]
    if not f.io.interactive:
        names = ", ".join(f"{s.name} ({s.url})" for s in sites)
        raise UsageError(
            f"Your account can use several sites: {names}.",
            "Pass --site with a site id, name or URL.",
        )
    f.io.err("Choose a site:")
    for n, site in enumerate(sites, 1):
        f.io.err(f"  {n}. {site.name}  {site.url}")
    while True:
        try:
            answer = f.io.prompt_line(f"Site [1-{len(sites)}]: ")
        except EOFError:
            raise UsageError(
                "No site chosen.", "Pass --site with a site id, name or URL."
            ) from None
        if answer.isdigit() and 1 <= int(answer) <= len(sites):
            return sites[int(answer) - 1]
        for site in sites:
            if site.matches(answer):
                return site


def run(opts: Options, f: Factory) -> int:
    if f.environ.get("TWG_OAUTH_ACCESS_TOKEN"):
        raise UsageError(
            "TWG_OAUTH_ACCESS_TOKEN is set, so twg uses that token and will not log in.",
            "Unset TWG_OAUTH_ACCESS_TOKEN to log in with your own account.",
        )
    _ = f.login_timeout  # a malformed TWG_LOGIN_TIMEOUT fails now, before any sign-in
    previous: AuthConf | None = None
    if not opts.force:
        previous = _already_logged_in(f)
        if previous is not None:
            who = previous.email or previous.name or previous.account_id or "your account"
            where = f" on {previous.site_name}" if previous.site_name else ""
            message = f"Already logged in as {who}{where}. Use `twg login --force` to log in again."
            if opts.json:
                f.io.out_json(
                    {
                        "status": "already_logged_in",
                        "account": previous.email,
                        "site": previous.site_name,
                    }
                )
            f.io.err(message)
            return 0
    settings = f.settings
    client = f.oauth()
    scopes = list(settings.scopes)
    scopes += [s for s in identity_scopes(client.metadata) if s not in scopes]
    use_device = opts.device
    no_browser_here = not opts.no_browser and not _can_open_browser(f)
    if not use_device and no_browser_here and client.metadata.device_authorization_endpoint:
        f.io.err("No browser can be opened here: using device login instead.")
        use_device = True
    try:
        tokens = _sign_in(f, opts, client, scopes, use_device)
    except OAuthErrorResponse as exc:
        raise _token_error(f, exc) from None
    return _finish(opts, f, tokens)


def _sign_in(
    f: Factory, opts: Options, client: OAuthClient, scopes: list[str], use_device: bool
) -> TokenSet:
    opener = _opener(f, opts)
    if use_device:
        return _device_login(f, client, " ".join(scopes), opener)

    def show(url: str) -> None:
        if opener is None:
            f.io.err("Open this URL in a browser to sign in:")
        else:
            f.io.err("Opening your browser to sign in. If it does not open, visit this URL:")
        f.io.err(url)
        f.io.err(
            f"Waiting up to {_span(f.login_timeout)} for the sign-in to finish. "
            "Press Ctrl-C to cancel."
        )

    try:
        return browser_login(
            client,
            scopes,
            opener,
            show,
            f.login_timeout,
            redirect_uri=f.settings.redirect_uri,
            tick=_Countdown(f, "Waiting for the browser"),
        )
    except BrowserFailed as exc:
        raise _browser_failed(f, exc) from None
    except BrowserUnavailable:
        if not client.metadata.device_authorization_endpoint:
            raise LoginError(
                "No browser could be opened.", "Run `twg login --no-browser`."
            ) from None
        f.io.err("No browser could be opened: using device login instead.")
        return _device_login(f, client, " ".join(scopes), None)


def _token_error(f: Factory, exc: OAuthErrorResponse) -> TwgError:
    """A token endpoint's refusal during login, as an error with the right exit code."""
    said = exc.error + (f" ({exc.description.rstrip('.')})" if exc.description else "")
    if exc.error == "ip_not_allowed":
        return IpNotAllowed(exc.description)
    if exc.error == "invalid_client" or exc.status == 401:
        return ConfigError(
            f"The identity provider refused twg's client credentials for client id "
            f"{f.client_id}: {said}.",
            "Check TWG_CLIENT_ID and TWG_CLIENT_SECRET, or run `twg setup client` again.",
        )
    if exc.status >= 500 or exc.status == 429:
        return Unavailable(
            f"The identity provider could not finish the sign-in: HTTP {exc.status} {said}.",
            "Try again later.",
        )
    return LoginError(
        f"The identity provider refused the sign-in: {said}.", "Run `twg login` again."
    )


def _finish(opts: Options, f: Factory, tokens: TokenSet) -> int:
    settings = f.settings
    http = f.plain_http
    unknown: list[str] = []
    me = fetch_me(http, settings.api_url, tokens.access_token, f.clock)
    userinfo = f.metadata.userinfo_endpoint
    if me is None and userinfo:
        me = fetch_userinfo(http, userinfo, tokens.access_token, f.clock)
    if me is None:
        unknown.append("your account (no /me endpoint answered)")
    sites = fetch_sites(http, settings.api_url, tokens.access_token, f.clock)
    site: Site | None = None
    if sites is None:
        unknown.append("your sites (no accessible-resources endpoint answered)")
    elif sites:
        try:
            site = _choose_site(f, sites, opts.site)
        except TwgError:
            _revoke_quietly(f, tokens)
            raise
    else:
        unknown.append("a site (the token reaches no site)")
    old_store_name = None
    old_issuer = None
    with contextlib.suppress(TwgError):
        old = f.session.load_conf()
        old_store_name = old.store if old else None
        old_issuer = old.issuer if old else None
    store = f.store()
    conf = AuthConf(
        issuer=f.metadata.issuer,
        client_id=f.client_id,
        store=store.name,
        account_id=me.get("account_id") if me else None,
        email=me.get("email") if me else None,
        name=me.get("name") if me else None,
        site_id=site.id if site else None,
        site_name=site.name if site else None,
        site_url=site.url if site else None,
        scopes=tokens.scope.split() if tokens.scope else list(settings.scopes),
        last_refresh_at=tokens.issued_at,
        logged_in_at=tokens.issued_at,
        unknown=unknown,
        api_url=settings.api_url,
    )
    old_refresh = None
    if old_store_name:
        with contextlib.suppress(TwgError):
            old_store = f.store(old_store_name)
            old_refresh = (old_store.get_tokens(f.session.issuer) or {}).get("refresh_token")
            if old_store_name != store.name:
                # Moving stores: carry the Bitbucket token over, clear the old tokens.
                bb = old_store.get("bitbucket_token")
                if bb and not store.get("bitbucket_token"):
                    store.set("bitbucket_token", bb)
                old_store.set_tokens(f.session.issuer, None)
                old_store.delete("bitbucket_token")
    f.session.save_locked(conf, tokens, store)
    # Tokens go only to the issuer that minted them: an old login at another identity
    # provider is left alone (its tokens are removed here, not sent elsewhere).
    same_issuer = (old_issuer or "").rstrip("/") == f.metadata.issuer.rstrip("/")
    if old_refresh and old_refresh != tokens.refresh_token and same_issuer:
        _revoke_quietly(f, TokenSet("", old_refresh, 0.0, None))
    bb_line = ask_and_save(f, store, conf.email, opts.force)
    conf_path = auth_conf.path_in(settings.config_dir)
    store_text = store.describe()
    if f.store_fallback_reason:
        store_text += f" because {f.store_fallback_reason}"
    if opts.json:
        f.io.out_json(
            {
                "status": "logged_in",
                "account": {"id": conf.account_id, "email": conf.email, "name": conf.name},
                "site": {"id": conf.site_id, "name": conf.site_name, "url": conf.site_url}
                if site
                else None,
                "scopes": conf.scopes,
                "config_file": str(conf_path),
                "secret_store": store.name,
                "unknown": unknown,
            }
        )
    who = auth_conf.describe_account(conf.account_id, conf.email, conf.name)
    f.io.err(f"Logged in as {who}.")
    if site:
        f.io.err(f"Site: {site.name} ({site.url})")
    for item in unknown:
        f.io.err(f"Could not learn {item} from this server.")
    # Say where each part went: auth.conf holds no secret, the tokens are elsewhere.
    f.io.err(f"Credentials saved to {conf_path}: your account, site and token times (no secrets).")
    f.io.err(f"Secrets stored in: {store_text}, holding the access and refresh tokens.")
    f.io.err(bb_line)
    return 0


def _revoke_quietly(f: Factory, tokens: TokenSet) -> None:
    with contextlib.suppress(Exception):
        client = f.oauth()
        if tokens.refresh_token:
            client.revoke(tokens.refresh_token, "refresh_token")
        if tokens.access_token:
            client.revoke(tokens.access_token, "access_token")
