"""What twg saved, read the way a person would look at the files (one section per issuer)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _only(sections: dict[str, Any], issuer: str | None) -> Any:
    if issuer is not None:
        return sections[issuer.rstrip("/")]
    assert len(sections) == 1, sorted(sections)
    return next(iter(sections.values()))


def tokens(config_dir: Path, issuer: str | None = None) -> dict[str, str]:
    """The token set in the credentials file (of the only session, or of ``issuer``)."""
    data = json.loads((config_dir / "credentials").read_text(encoding="utf-8"))
    return dict(_only(data.get("sessions", {}), issuer))


def conf(config_dir: Path, issuer: str | None = None) -> dict[str, Any]:
    """The auth.conf section (of the only session, or of ``issuer``)."""
    data = json.loads((config_dir / "auth.conf").read_text(encoding="utf-8"))
    return dict(_only(data["sessions"], issuer))


def bitbucket_token(config_dir: Path) -> str | None:
    """The Bitbucket API token in the credentials file (one for all sessions)."""
    data = json.loads((config_dir / "credentials").read_text(encoding="utf-8"))
    token = data.get("bitbucket_token")
    return token if isinstance(token, str) else None
