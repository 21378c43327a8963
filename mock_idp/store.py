"""Where the mock keeps its records: in memory (default) or in SQLite (survives a restart).

Both stores keep every record in memory, so reads cost a dict lookup; the SQLite store
also writes each change through to disk and loads everything back at start-up.
Callers treat records as values: after changing one, they ``put`` it back.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import threading
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from mock_idp.models import (
    AccessToken,
    AdminKey,
    AuditEvent,
    AuthCode,
    BitbucketToken,
    Client,
    DeviceCode,
    Org,
    RefreshToken,
    Site,
    TokenFamily,
    User,
    WorkItem,
)

Record = TypeVar("Record")

# The field that identifies each kind of record.
KEY_FIELDS: dict[type, str] = {
    Org: "id",
    Site: "id",
    User: "account_id",
    Client: "client_id",
    AdminKey: "key_hash",
    BitbucketToken: "token_hash",
    AuthCode: "code_hash",
    DeviceCode: "device_code_hash",
    TokenFamily: "id",
    AccessToken: "token_hash",
    RefreshToken: "token_hash",
    WorkItem: "uid",
}
KINDS: dict[str, type] = {cls.__name__: cls for cls in KEY_FIELDS}


def key_of(record: object) -> str:
    return str(getattr(record, KEY_FIELDS[type(record)]))


class MemoryStore:
    """Records in dicts; the audit log in a bounded deque."""

    def __init__(self, audit_limit: int = 100_000) -> None:
        self._records: dict[type, dict[str, Any]] = {cls: {} for cls in KEY_FIELDS}
        self._meta: dict[str, dict[str, Any]] = {}
        self._audit: deque[AuditEvent] = deque(maxlen=audit_limit)
        self._next_audit_id = 1
        self._lock = threading.Lock()

    # records -------------------------------------------------------------------------
    def get(self, kind: type[Record], key: str) -> Record | None:
        return self._records[kind].get(key)

    def all(self, kind: type[Record]) -> list[Record]:
        return list(self._records[kind].values())

    def put(self, record: object) -> None:
        self._records[type(record)][key_of(record)] = record

    def delete(self, kind: type, key: str) -> None:
        self._records[kind].pop(key, None)

    # small named documents (clock state, settings overrides) -----------------------
    def get_meta(self, name: str) -> dict[str, Any] | None:
        return self._meta.get(name)

    def set_meta(self, name: str, value: dict[str, Any]) -> None:
        self._meta[name] = value

    # audit log ------------------------------------------------------------------------
    def add_audit(self, at: float, event: str, details: dict[str, object]) -> AuditEvent:
        with self._lock:
            record = AuditEvent(id=self._next_audit_id, at=at, event=event, details=details)
            self._next_audit_id += 1
        self._audit.append(record)
        return record

    def audit(self, since_id: int = 0) -> list[AuditEvent]:
        return [e for e in self._audit if e.id > since_id]

    def clear(self) -> None:
        for table in self._records.values():
            table.clear()
        self._meta.clear()
        self._audit.clear()

    def has_world(self) -> bool:
        """Whether any world exists yet (a reloaded SQLite state keeps its own)."""
        return bool(self._records[Org])

    def close(self) -> None:
        return None


# The audit table is trimmed to audit_limit rows every this many new entries.
AUDIT_TRIM_EVERY = 1_000


def _private_file(path: Path) -> None:
    """Create ``path`` 0600 (its directory 0700 when this creates it), or make an existing
    one 0600: the database holds the OpenID Connect signing key and token hashes."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.parent.chmod(0o700)  # mkdir's mode is filtered by the umask
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    # SQLite creates the -wal and -shm files with the database file's mode; fix any left
    # from an older, looser run.
    for suffix in ("-wal", "-shm", "-journal"):
        extra = path.with_name(path.name + suffix)
        if extra.exists():
            extra.chmod(0o600)


class SQLiteStore(MemoryStore):
    """MemoryStore that writes every change through to SQLite and reloads it on start-up."""

    def __init__(self, path: str | Path, audit_limit: int = 100_000) -> None:
        super().__init__(audit_limit=audit_limit)
        self.path = Path(path)
        _private_file(self.path)
        # One connection shared by the event loop and the threadpool, serialized by a lock.
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db_lock = threading.Lock()
        with self._db_lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS records ("
                " kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
                " PRIMARY KEY (kind, key))"
            )
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS audit ("
                " id INTEGER PRIMARY KEY, at REAL NOT NULL, event TEXT NOT NULL,"
                " details TEXT NOT NULL)"
            )
        self._load()

    def _load(self) -> None:
        with self._db_lock:
            rows: Iterable[tuple[str, str, str]] = self._db.execute(
                "SELECT kind, key, value FROM records"
            ).fetchall()
            for kind_name, key, value in rows:
                cls = KINDS.get(kind_name)
                if cls is not None:
                    self._records[cls][key] = cls(**json.loads(value))
            for name, value in self._db.execute("SELECT name, value FROM meta").fetchall():
                self._meta[name] = json.loads(value)
            if self._audit.maxlen is not None:
                newest = self._db.execute("SELECT MAX(id) FROM audit").fetchone()[0]
                if newest is not None:
                    self._trim_audit(newest)
            audit_rows = self._db.execute(
                "SELECT id, at, event, details FROM audit ORDER BY id DESC LIMIT ?",
                (self._audit.maxlen,),
            ).fetchall()
        for audit_id, at, event, details in reversed(audit_rows):
            self._audit.append(
                AuditEvent(id=audit_id, at=at, event=event, details=json.loads(details))
            )
        if self._audit:
            self._next_audit_id = self._audit[-1].id + 1

    def put(self, record: object) -> None:
        super().put(record)
        value = json.dumps(dataclasses.asdict(record))  # type: ignore[call-overload]
        with self._db_lock:
            self._db.execute(
                "INSERT OR REPLACE INTO records (kind, key, value) VALUES (?, ?, ?)",
                (type(record).__name__, key_of(record), value),
            )

    def delete(self, kind: type, key: str) -> None:
        super().delete(kind, key)
        with self._db_lock:
            self._db.execute("DELETE FROM records WHERE kind = ? AND key = ?", (kind.__name__, key))

    def set_meta(self, name: str, value: dict[str, Any]) -> None:
        super().set_meta(name, value)
        with self._db_lock:
            self._db.execute(
                "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, json.dumps(value))
            )

    def add_audit(self, at: float, event: str, details: dict[str, object]) -> AuditEvent:
        record = super().add_audit(at, event, details)
        with self._db_lock:
            self._db.execute(
                "INSERT INTO audit (id, at, event, details) VALUES (?, ?, ?, ?)",
                (record.id, at, event, json.dumps(details)),
            )
            if record.id % AUDIT_TRIM_EVERY == 0:
                self._trim_audit(record.id)
        return record

    def _trim_audit(self, last_id: int) -> None:
        """Keep the newest audit_limit rows, as the in-memory log does."""
        limit = self._audit.maxlen or 0
        self._db.execute("DELETE FROM audit WHERE id <= ?", (last_id - limit,))

    def clear(self) -> None:
        super().clear()
        with self._db_lock:
            self._db.execute("DELETE FROM records")
            self._db.execute("DELETE FROM meta")
            self._db.execute("DELETE FROM audit")

    def close(self) -> None:
        with self._db_lock:
            self._db.close()


Store = MemoryStore


def open_store(spec: str | None, audit_limit: int = 100_000) -> MemoryStore:
    """``None`` or ``memory`` for memory; ``sqlite:PATH`` for SQLite."""
    if spec is None or spec == "memory":
        return MemoryStore(audit_limit=audit_limit)
    if spec.startswith("sqlite:"):
        path = spec.removeprefix("sqlite:")
        if not path:
            raise ValueError("--state sqlite:PATH needs a file path")
        return SQLiteStore(path, audit_limit=audit_limit)
    raise ValueError(f"unknown state store {spec!r}: use 'memory' or 'sqlite:PATH'")
