"""A robot person for headless runs: ``twg-mock-idp browser [--user] [--deny] [--site] URL``.

It opens an /authorize or /device URL of the mock, signs in, picks the site, accepts (or
denies) and, for a browser login, follows the final redirect to the client's loopback
``redirect_uri`` so that the waiting CLI receives its callback. For a device login it
enters the user code (from ``/device?user_code=...`` or ``--user-code``) first.

Like a browser it keeps the mock's cookies (a sign-in is bound to the browser that
started it) and sends ``Origin`` with every form it submits. Python's ``webbrowser``
runs it through ``BROWSER="twg-mock-idp browser --user alice@example.com %s"`` and waits
for it to exit, which it does once the callback has answered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from twg.lazy_tls import trust_store

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_STEPS = 20


class RobotError(Exception):
    """The flow could not be completed; the message says where and why."""


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    text_inputs: list[str] = field(default_factory=list)
    radios: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # name: (value, label)
    buttons: list[tuple[str, str]] = field(default_factory=list)


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.result: str | None = None
        self.error: str | None = None
        self._label_radio: tuple[str, str] | None = None
        self._in_error = False
        self._error_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif tag == "p" and a.get("id") == "result":
            self.result = a.get("data-result")
        elif a.get("id") == "error":
            self._in_error = True
        elif self.forms and tag == "input" and a.get("name"):
            form, name, kind = self.forms[-1], a["name"], a.get("type", "text")
            if kind == "radio":
                form.radios.setdefault(name, []).append((a.get("value", ""), ""))
                self._label_radio = (name, a.get("value", ""))
            elif kind in ("text", "email"):
                form.text_inputs.append(name)
                form.fields[name] = a.get("value", "")
            else:
                form.fields[name] = a.get("value", "")
        elif self.forms and tag == "button" and a.get("name"):
            self.forms[-1].buttons.append((a["name"], a.get("value", "")))

    def handle_data(self, data: str) -> None:
        if self._in_error:
            self._error_text.append(data)
        if self._label_radio and data.strip():
            name, value = self._label_radio
            options = self.forms[-1].radios[name]
            options[-1] = (value, options[-1][1] + data.strip() + " ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._label_radio = None
        if self._in_error and tag == "p":
            self._in_error = False
            self.error = "".join(self._error_text).strip()


@dataclass
class Robot:
    user: str = "alice@example.com"
    deny: bool = False
    site: str | None = None
    user_code: str | None = None
    client: httpx.Client = field(
        default_factory=lambda: httpx.Client(timeout=30.0, verify=trust_store())
    )
    log: list[str] = field(default_factory=list)

    def __enter__(self) -> Robot:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.client.close()

    def run(self, url: str) -> str:
        """Complete the flow that ``url`` starts; returns a one-line summary."""
        target, result = self._walk(url)
        if target is None:
            return f"{', '.join(self.log)}; device login {result} as {self.user}"
        return self._deliver_callback(target)

    def final_redirect(self, url: str) -> str:
        """Complete a browser login up to (not including) the client's redirect URI."""
        target, _ = self._walk(url)
        if target is None:
            raise RobotError("this flow ends on a page, not with a redirect to the client")
        return target

    def _walk(self, url: str) -> tuple[str | None, str | None]:
        """Drive the pages; returns (off-site redirect target, None) or (None, device result)."""
        origin = _origin(url)
        response = self.client.get(url)
        for _ in range(MAX_STEPS):
            if response.is_redirect:
                target = urljoin(str(response.url), response.headers["location"])
                if _origin(target) != origin:
                    return target, None
                response = self.client.get(target)
                continue
            parsed = _PageParser()
            parsed.feed(response.text)
            if parsed.result is not None:
                return None, parsed.result
            if response.status_code >= 400 or not parsed.forms:
                why = parsed.error or f"HTTP {response.status_code} with nothing to submit"
                where = urlsplit(str(response.url)).path
                raise RobotError(f"the mock refused at {where}: {_one_line(why)}")
            form = self._fill(parsed.forms)
            target = urljoin(str(response.url), form.action)
            page_origin = "{}://{}".format(*urlsplit(str(response.url))[:2])
            headers = {"Origin": page_origin} if form.method == "post" else {}
            response = self.client.request(
                form.method.upper(), target, data=form.fields, headers=headers
            )
        raise RobotError("too many steps: the flow never finished")

    def _fill(self, forms: list[Form]) -> Form:
        typed = next((f for f in forms if "email" in f.text_inputs), None)
        if typed is not None:
            typed.fields["email"] = self.user
            self.log.append(f"signed in as {self.user}")
            return typed
        form = forms[0]
        if "user_code" in form.text_inputs:
            if self.user_code:
                form.fields["user_code"] = self.user_code
            elif not form.fields.get("user_code"):
                raise RobotError(
                    "the device page wants a user code: pass --user-code CODE or the "
                    "verification_uri_complete URL (/device?user_code=...)"
                )
            self.log.append(f"entered code {form.fields['user_code']}")
        for name, options in form.radios.items():
            form.fields[name] = self._choose(options)
        decisions = {value for name, value in form.buttons if name == "decision"}
        if decisions:
            choice = "deny" if self.deny else "accept"
            if choice not in decisions:
                raise RobotError(f"no {choice} button on the consent page")
            form.fields["decision"] = choice
            self.log.append("denied" if self.deny else "accepted")
        return form

    def _choose(self, options: list[tuple[str, str]]) -> str:
        if self.site is None:
            value, label = options[0]
        else:
            wanted = self.site.lower().rstrip("/")
            # An exact id, name or URL wins; a fragment must name one site only, or
            # "acme" would pick "acme-sandbox" whenever that one is listed first.
            exact = [
                (v, lab)
                for v, lab in options
                if wanted == v.lower() or wanted in lab.lower().replace("/ ", " ").split()
            ]
            match = exact or [(v, lab) for v, lab in options if wanted in lab.lower()]
            known = ", ".join(lab.strip() for _, lab in options)
            if not match:
                raise RobotError(f"no site matches {self.site!r}: {self.user} can use only {known}")
            if len(match) > 1:
                raise RobotError(f"{self.site!r} matches more than one site (offered: {known})")
            value, label = match[0]
        self.log.append(f"chose {label.strip() or value}")
        return value

    def _deliver_callback(self, target: str) -> str:
        host = urlsplit(target).hostname or ""
        if host not in LOOPBACK:
            raise RobotError(f"refusing to follow a redirect to a non-loopback host: {host}")
        query = parse_qs(urlsplit(target).query)
        answer = self.client.get(target)
        outcome = query.get("error", ["code"])[0]
        said = f"{', '.join(self.log)}; callback got {outcome}, answered HTTP {answer.status_code}"
        if answer.status_code >= 400:
            # The client refused what we brought back (e.g. a state that is not its own):
            # a person would see its error page; the robot says so and exits non-zero.
            raise RobotError(said)
        return said


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname or "", parts.port
