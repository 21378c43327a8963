"""Reports of a run, one module per format: Markdown for people, JUnit XML for CI
dashboards, JSON for tools. All are written from already-redacted results."""

from __future__ import annotations

import os
from pathlib import Path

from mock_idp.scenarios.reports import json_report, junit, markdown
from mock_idp.scenarios.results import RunResult

FILES = {"report.md": markdown.render, "junit.xml": junit.render, "report.json": json_report.render}


def write_all(run: RunResult, directory: Path, owner_of: Path | None = None) -> list[Path]:
    """Write every format into ``directory``; files are 0644 so the host user (in
    Compose: see ``_owner_for``) can read them."""
    directory.mkdir(parents=True, exist_ok=True)
    owner = _owner_for(directory, owner_of)
    written = []
    for name, render in FILES.items():
        path = directory / name
        tmp = path.with_name(f".{name}.tmp")
        tmp.write_text(render(run), encoding="utf-8")
        os.chmod(tmp, 0o644)
        if owner is not None:
            os.chown(tmp, *owner)
        os.replace(tmp, path)
        written.append(path)
    return written


def _owner_for(directory: Path, fallback: Path | None) -> tuple[int, int] | None:
    """Running as root (the Compose service writing into a bind-mounted ./reports), give
    the files a real owner: the report directory's if it is not root's (Docker creates a
    missing one as root), else the owner of ``fallback`` (the catalogue, mounted from the
    host user's checkout), so the host user can read and remove them without sudo."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    for candidate in (directory, fallback):
        if candidate is None:
            continue
        info = candidate.stat()
        if info.st_uid != 0:
            break
    else:
        return None
    try:
        os.chown(directory, info.st_uid, info.st_gid)
    except OSError:
        return None
    return info.st_uid, info.st_gid
