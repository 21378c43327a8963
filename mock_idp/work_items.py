"""The work items (Jira-like issues) of each site: seeding, lookup and changes.

Each site gets a few seeded items the first time its items are used. Whether a site is
seeded is kept in the store's meta documents, so ``MockIdP.reset()`` (which clears
everything) brings the seeded items back on next use.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from mock_idp.models import Site, WorkItem
from mock_idp.store import MemoryStore

COUNTER_META = "work_items"
STATUSES: tuple[str, ...] = ("To Do", "In Progress", "Done")
SEED_ITEMS: tuple[tuple[str, str], ...] = (
    ("Set up the TWG CLI for the team", "Done"),
    ("Rotate the deploy credentials", "In Progress"),
    ("Write the onboarding guide", "To Do"),
)


def project_key(site: Site) -> str:
    """A Jira-style project key from the site name: ``acme-sandbox`` -> ``ACMESANDBO``."""
    letters = re.sub(r"[^A-Za-z0-9]", "", site.name).upper()
    return (letters or "TWG")[:10]


def _site_meta(site_id: str) -> str:
    return f"{COUNTER_META}:{site_id}"


def _next_id(store: MemoryStore) -> str:
    counter = store.get_meta(COUNTER_META) or {"next_id": 10001}
    next_id = int(counter["next_id"])
    store.set_meta(COUNTER_META, {"next_id": next_id + 1})
    return str(next_id)


def ensure_seeded(store: MemoryStore, site: Site, now: float) -> None:
    if store.get_meta(_site_meta(site.id)) is not None:
        return
    store.set_meta(_site_meta(site.id), {"next_number": 1})
    for summary, status in SEED_ITEMS:
        create(store, site, summary=summary, description=None, account_id=None, now=now)
        if status != "To Do":
            item = items_of(store, site)[-1]
            item.status = status
            store.put(item)


def items_of(store: MemoryStore, site: Site) -> list[WorkItem]:
    items = [item for item in store.all(WorkItem) if item.site_id == site.id]
    return sorted(items, key=lambda item: int(item.id))


def find(store: MemoryStore, site: Site, id_or_key: str) -> WorkItem | None:
    """Jira accepts an issue's key (``ACME-1``) or its numeric id wherever it wants one."""
    item = store.get(WorkItem, f"{site.id}/{id_or_key.upper()}")
    if item is not None or not id_or_key.isdigit():
        return item
    return next((i for i in items_of(store, site) if i.id == id_or_key), None)


def create(
    store: MemoryStore,
    site: Site,
    *,
    summary: str,
    description: str | None,
    account_id: str | None,
    now: float,
) -> WorkItem:
    meta = store.get_meta(_site_meta(site.id)) or {"next_number": 1}
    number = int(meta["next_number"])
    store.set_meta(_site_meta(site.id), {"next_number": number + 1})
    key = f"{project_key(site)}-{number}"
    item = WorkItem(
        uid=f"{site.id}/{key}",
        site_id=site.id,
        id=_next_id(store),
        key=key,
        summary=summary,
        description=description,
        status="To Do",
        created_at=now,
        updated_at=now,
        creator_account_id=account_id,
    )
    store.put(item)
    return item


def delete(store: MemoryStore, item: WorkItem) -> None:
    store.delete(WorkItem, item.uid)


class FieldsError(ValueError):
    """A request body whose ``fields`` cannot be applied; ``errors`` maps field -> text."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def parse_fields(body: object, *, creating: bool) -> dict[str, Any]:
    """The validated ``fields`` of a create or edit request (Jira's request shape)."""
    if not isinstance(body, dict) or not isinstance(body.get("fields"), dict):
        raise FieldsError({"fields": "The request body must be an object with 'fields'."})
    fields: dict[str, Any] = body["fields"]
    allowed = {"summary", "description"} if creating else {"summary", "description", "status"}
    errors = {
        name: f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
        for name in fields
        if name not in allowed
    }
    summary = fields.get("summary")
    if "summary" in fields or creating:
        if not isinstance(summary, str) or not summary.strip():
            errors["summary"] = "You must specify a summary of the issue."
        elif len(summary) > 255:
            errors["summary"] = "Summary must be less than 255 characters."
    description = fields.get("description")
    if description is not None and not isinstance(description, str):
        errors["description"] = "Description must be a string."
    status = fields.get("status")
    if "status" in fields and status not in STATUSES:
        errors["status"] = f"Status must be one of: {', '.join(STATUSES)}."
    if not creating and not fields:
        errors["fields"] = "Give at least one field to change."
    if errors:
        raise FieldsError(errors)
    return fields


def iso(timestamp: float) -> str:
    """Jira's timestamp format, e.g. ``2026-11-29T05:10:40.000+0000``."""
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def to_json(item: WorkItem, self_url: str) -> dict[str, Any]:
    return {
        "id": item.id,
        "key": item.key,
        "self": self_url,
        "fields": {
            "summary": item.summary,
            "description": item.description,
            "status": {"name": item.status},
            "created": iso(item.created_at),
            "updated": iso(item.updated_at),
            "creator": {"accountId": item.creator_account_id} if item.creator_account_id else None,
        },
    }
