"""The one page layout every HTML answer of the mock uses, and its small building blocks.

Every value that reaches a page goes through ``esc``. The only inline style (and the docs
page's only inline script) are allowed by their hash in the Content-Security-Policy, so
nothing injected could run or restyle a page even if escaping were ever missed.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape

from starlette.responses import HTMLResponse

STYLE = """
body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#172b4d;margin:0;
line-height:1.45}
main{max-width:34rem;margin:2rem auto;background:#fff;padding:1.5rem 2rem;border-radius:8px;
box-shadow:0 1px 3px rgba(9,30,66,.25)}
main.wide{max-width:60rem}
@media (max-width:36rem){main{margin:0;border-radius:0;padding:1rem}}
h1{font-size:1.3rem;margin-top:0}h2{font-size:1.1rem}.muted{color:#505f79;font-size:.9rem}
button{background:#0052cc;color:#fff;border:0;border-radius:4px;padding:.6rem 1rem;
margin:.25rem .25rem .25rem 0;cursor:pointer;font-size:1rem}
button.secondary{background:#dfe1e6;color:#172b4d}
input[type=text],input[type=email],input[type=password]{width:100%;padding:.5rem;box-sizing:border-box;
font-size:1rem;border:2px solid #7a869a;border-radius:4px}
input[aria-invalid=true]{border-color:#bf2600}
:focus-visible{outline:3px solid #4c9aff;outline-offset:2px}
label{display:block;margin:.4rem 0}.error{color:#bf2600;font-weight:600}
ul{padding-left:1.2rem}a{color:#0052cc}
fieldset{border:1px solid #dfe1e6;border-radius:4px;margin:.5rem 0}
.badge{display:inline-block;background:#ffebe6;color:#bf2600;border-radius:3px;
padding:0 .4rem;font-size:.85rem;font-weight:600}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;border-bottom:1px solid #dfe1e6;padding:.3rem .4rem;vertical-align:top}
code{font-size:.9em;word-break:break-all}
"""

FOOTER = '<p class=muted><a href="/">twg mock Atlassian identity provider</a></p>'


def _hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


def csp(script: str = "") -> str:
    """A policy allowing this page's own inline style (and script) and nothing else; no
    framing by anyone (clickjacking a consent page would hand out codes)."""
    parts = [
        "default-src 'none'",
        f"style-src {_hash(STYLE)}",
        "img-src 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
    if script:
        parts += [f"script-src {_hash(script)}", "connect-src 'self'"]
    return "; ".join(parts)


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def page(
    title: str, body: str, status_code: int = 200, *, script: str = "", wide: bool = False
) -> HTMLResponse:
    html = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} · twg mock IdP</title><style>{STYLE}</style></head>"
        f"<body><main{' class=wide' if wide else ''}><h1>{esc(title)}</h1>{body}{FOOTER}</main>"
        + (f"<script>{script}</script>" if script else "")
        + "</body></html>"
    )
    # Pages carry one-time interaction ids: never cache them.
    headers = {"Cache-Control": "no-store", "Content-Security-Policy": csp(script)}
    return HTMLResponse(html, status_code=status_code, headers=headers)


def hidden(name: str, value: str) -> str:
    return f'<input type=hidden name="{esc(name)}" value="{esc(value)}">'


def alert(message: str) -> str:
    """An error announced to screen readers; the field it concerns points at it with
    ``aria-describedby=error``."""
    return f"<p class=error id=error role=alert>{esc(message)}</p>"


def field_error(error: str) -> str:
    """The attributes that tie an input to the page's error (if any)."""
    return " aria-invalid=true aria-describedby=error" if error else ""


def error_page(
    title: str,
    message: str,
    status_code: int = 400,
    *,
    restart: str | None = None,
    restart_label: str = "Start again",
) -> HTMLResponse:
    """An error that leads somewhere: back to a working start when one is known."""
    link = (
        f'<p><a id=restart href="{esc(restart)}" autofocus>{esc(restart_label)}</a></p>'
        if restart
        else ""
    )
    return page(title, alert(message) + link, status_code)
