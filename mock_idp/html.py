"""Small HTML building blocks for the mock's sign-in, site, consent and device pages.

Every value that reaches a page goes through ``esc``.
"""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse

STYLE = """
body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#172b4d;margin:0}
main{max-width:30rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;
box-shadow:0 1px 3px rgba(9,30,66,.25)}
h1{font-size:1.3rem;margin-top:0}.muted{color:#5e6c84;font-size:.9rem}
button{background:#0052cc;color:#fff;border:0;border-radius:4px;padding:.5rem 1rem;
margin:.25rem .25rem .25rem 0;cursor:pointer}button.secondary{background:#dfe1e6;color:#172b4d}
input[type=text],input[type=email]{width:100%;padding:.5rem;box-sizing:border-box}
label{display:block;margin:.4rem 0}.error{color:#bf2600}ul{padding-left:1.2rem}
fieldset{border:1px solid #dfe1e6;border-radius:4px;margin:.5rem 0}
"""


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    html = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{esc(title)}</title><style>{STYLE}</style></head>"
        f"<body><main><h1>{esc(title)}</h1>{body}"
        "<p class=muted>twg mock Atlassian identity provider</p></main></body></html>"
    )
    # Pages carry one-time interaction ids: never cache them.
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


def hidden(name: str, value: str) -> str:
    return f'<input type=hidden name="{esc(name)}" value="{esc(value)}">'


def error_page(title: str, message: str, status_code: int = 400) -> HTMLResponse:
    return page(title, f"<p class=error id=error>{esc(message)}</p>", status_code)
