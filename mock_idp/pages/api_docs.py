"""``GET /_mock/docs``: the control API's documentation, self-contained.

FastAPI's own docs page loads Swagger UI from a CDN and stays blank offline; this page
has everything inline and renders ``/_mock/openapi.json`` with a few lines of script
(DOM text only: nothing from the schema is ever parsed as HTML).
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from mock_idp.pages.layout import page

router = APIRouter(include_in_schema=False)

SCHEMA_URL = "/_mock/openapi.json"

SCRIPT = """
"use strict";
const out = document.getElementById("operations");
const status = document.getElementById("status");
function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}
function typeOf(schema) {
  if (!schema) return "";
  if (schema.$ref) return schema.$ref.split("/").pop();
  if (schema.anyOf) return schema.anyOf.map(typeOf).join(" | ");
  if (schema.type === "array") return typeOf(schema.items) + "[]";
  return schema.type || "object";
}
function render(spec) {
  out.replaceChildren();
  const paths = spec.paths || {};
  for (const path of Object.keys(paths).sort()) {
    for (const [method, op] of Object.entries(paths[path])) {
      const section = el("section");
      section.append(el("h2", method.toUpperCase() + " " + path));
      if (op.summary) section.append(el("p", op.summary));
      if (op.description) section.append(el("p", op.description, "muted"));
      const params = op.parameters || [];
      if (params.length) {
        const list = el("ul");
        for (const p of params) {
          const req = p.required ? ", required" : "";
          list.append(el("li", p.name + " (" + p.in + ", " + typeOf(p.schema) + req + ")"));
        }
        section.append(el("p", "Parameters:"), list);
      }
      if (op.requestBody) {
        const types = Object.entries(op.requestBody.content || {})
          .map(([t, c]) => t + (c.schema ? " " + typeOf(c.schema) : ""));
        section.append(el("p", "Body: " + types.join(", ")));
      }
      const codes = Object.keys(op.responses || {});
      if (codes.length) section.append(el("p", "Answers: " + codes.join(", "), "muted"));
      out.append(section);
    }
  }
  status.textContent = (spec.info ? spec.info.title + " " + spec.info.version : "") +
    ": " + out.children.length + " operations.";
}
async function load(event) {
  if (event) event.preventDefault();
  const token = document.getElementById("token").value.trim();
  const headers = token ? {"Authorization": "Bearer " + token} : {};
  status.textContent = "Loading…";
  try {
    const answer = await fetch("SCHEMA_URL", {headers: headers, cache: "no-store"});
    if (!answer.ok) {
      status.textContent = "The API description answered HTTP " + answer.status +
        (answer.status === 401 ? ": enter the control token." : ".");
      return;
    }
    render(await answer.json());
  } catch (error) {
    status.textContent = "Could not load the API description: " + error;
  }
}
document.getElementById("load").addEventListener("submit", load);
load();
""".replace("SCHEMA_URL", SCHEMA_URL)


@router.get("/_mock/docs")
async def api_docs() -> Response:
    body = (
        "<p>The mock's APIs, above all the test-control API under <code>/_mock/</code>: "
        "move the clock, reset, seed, change settings, queue faults, list sessions and the "
        "audit log. Control requests and answers are JSON "
        "(<code>Content-Type: application/json</code>). When the mock has a control token, "
        "send <code>Authorization: Bearer &lt;token&gt;</code>. "
        f'The machine-readable description: <a href="{SCHEMA_URL}">{SCHEMA_URL}</a>.</p>'
        "<form id=load><label for=token>Control token (only if the mock has one)</label>"
        "<input type=password id=token name=token autocomplete=off>"
        "<button type=submit>Load</button></form>"
        "<p id=status role=status aria-live=polite>Loading…</p>"
        "<div id=operations></div>"
    )
    return page("Control API and other APIs", body, script=SCRIPT, wide=True)
