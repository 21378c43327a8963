"""The HTML pages a person sees: the landing page, sign-in, organization and site,
consent, the RFC 8628 device verification page, the control API's docs, and the
Administration console for org admins (``console``).
``twg-mock-idp browser`` (mock_idp/browser.py) drives the same pages.

Every page is built by ``layout``; ``headers.SecurityHeadersMiddleware`` adds the
anti-framing and other security headers to every answer; ``flows`` keeps sign-ins in
progress, bound to the browser that started them.
"""

from __future__ import annotations

from fastapi import APIRouter

from mock_idp.pages import api_docs, consent, console, device, landing, signin, site

router = APIRouter(include_in_schema=False)
for _module in (landing, signin, site, consent, device, api_docs, console):
    router.include_router(_module.router)
