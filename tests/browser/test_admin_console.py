"""The Administration console in real Chromium (system package, driven by Playwright):
carol changes the TWG CLI permissions through the save dialog, suspends and restores a
user, revokes sessions, sets the IP allowlist and reads the audit log; the Admin API (what
`twg admin` uses) sees exactly the same state."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mock_idp.seed import ACME_ADMIN_KEY, ACME_ORG_ID
from tests.mock_idp.helpers import ALICE, BOB, login

ORG = f"/admin/v1/orgs/{ACME_ORG_ID}"
ADMIN = {"Authorization": f"Bearer {ACME_ADMIN_KEY}"}


@pytest.fixture
def page(chromium, mock_server) -> Iterator[Any]:
    """A fresh profile on the shared Chromium (tests/browser/conftest.py), relative URLs
    resolved against this test's mock."""
    context = chromium.new_context(base_url=mock_server.url)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


@pytest.fixture
def api(mock_server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mock_server.url, headers=ADMIN, timeout=10) as client:
        yield client


def sign_in_as_carol(page) -> None:
    response = page.goto("/console")
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    page.get_by_role("button", name="Carol Example <carol@example.com>").click()
    page.wait_for_url("**/console/settings")


def test_permissions_saved_without_revoking_through_the_dialog(page, api, idp):
    alice = login(idp, ALICE)
    sign_in_as_carol(page)
    legends = page.locator("fieldset legend").all_inner_texts()
    assert legends == ["Read", "Write and manage", "Delete"]
    page.get_by_label("Allow all permissions by default").uncheck()
    for name in ("Create and edit Jira work items", "Manage Jira projects"):
        page.get_by_label(name).uncheck()
    page.get_by_label("Create and edit Confluence content").uncheck()
    page.get_by_role("button", name="Save", exact=True).click()
    dialog = page.get_by_role("dialog")
    assert dialog.get_by_role("button", name="Save without revoking").is_visible()
    assert dialog.get_by_role("button", name="Save and revoke sessions").is_visible()
    dialog.get_by_role("button", name="Save without revoking").click()
    assert page.locator("#message").inner_text() == "Saved without revoking sessions."

    setting = api.get(f"{ORG}/twg-cli/permissions").json()
    assert setting["allow_all"] is False
    assert setting["permissions"]["write"] == []
    assert setting["permissions"]["delete"] == ["delete:jira-work"]
    assert api.get(f"{ORG}/twg-cli/sessions").json()["data"][0]["id"] == alice.family.id


def test_save_and_revoke_then_sessions_users_allowlist_and_audit(page, api, idp):
    login(idp, ALICE)
    login(idp, BOB)
    sign_in_as_carol(page)
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("button", name="Save and revoke sessions").click()
    assert page.locator("#message").inner_text() == "Saved and revoked 2 CLI session(s)."
    assert api.get(f"{ORG}/twg-cli/sessions").json()["data"] == []

    login(idp, BOB)
    page.get_by_role("link", name="Active sessions").click()
    assert page.locator("#count").inner_text() == "1 live CLI session(s)."
    page.locator(f'tr[data-email="{BOB}"]').get_by_role("button", name="Revoke").click()
    assert page.locator("#message").inner_text() == "Revoked 1 session(s)."

    page.get_by_role("link", name="Users").click()
    row = page.locator(f'tr[data-email="{BOB}"]')
    row.get_by_role("button", name="Suspend").click()
    assert page.locator(f'tr[data-email="{BOB}"] .status').inner_text() == "Suspended"
    statuses = {u["email"]: u["account_status"] for u in api.get(f"{ORG}/users").json()["data"]}
    assert statuses[BOB] == "suspended"
    page.locator(f'tr[data-email="{BOB}"]').get_by_role("button", name="Restore").click()
    assert page.locator(f'tr[data-email="{BOB}"] .status').inner_text() == "Active"

    page.get_by_role("link", name="IP allowlist").click()
    page.get_by_label("One IP address or CIDR range per line").fill("198.51.100.0/24\n10.1.2.3")
    page.get_by_role("button", name="Save").click()
    assert page.locator("#cidrs li").all_inner_texts() == ["198.51.100.0/24", "10.1.2.3/32"]
    assert api.get(f"{ORG}/ip-allowlist").json() == {"cidrs": ["198.51.100.0/24", "10.1.2.3/32"]}
    page.get_by_label("One IP address or CIDR range per line").fill("not a range")
    page.get_by_role("button", name="Save").click()
    assert "is not an IP address or CIDR range" in page.locator("#message").inner_text()
    page.get_by_role("button", name="Clear").click()
    assert api.get(f"{ORG}/ip-allowlist").json() == {"cidrs": []}

    page.get_by_role("link", name="Audit log").click()
    rows = [
        text.split("\t")[1:]
        for text in page.locator("#audit tr").all_inner_texts()[1:]
        if "admin." in text
    ]
    carol = "carol@example.com"
    assert rows == [
        [carol, "admin.allowlist_changed"],
        [carol, "admin.allowlist_changed"],
        [carol, "admin.user_restored"],
        [carol, "admin.user_suspended"],
        [carol, "admin.sessions_revoked"],
        [carol, "admin.sessions_revoked"],
        [carol, "admin.permissions_changed"],
        [carol, "admin.console_signin"],
    ]
    assert ACME_ADMIN_KEY not in page.content()


def test_a_non_admin_cannot_use_the_console(page):
    page.goto("/console")
    page.get_by_label("Email").fill(ALICE)
    page.get_by_role("button", name="Sign in").click()
    assert "is not an organization admin" in page.locator("#error").inner_text()
    page.goto("/console/users")
    assert page.url.endswith("/console")
