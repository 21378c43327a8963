"""twg setup client: sign in as your own OAuth app (e.g. an Atlassian developer-console
OAuth 2.0 (3LO) integration) with its client id and secret.

The secret is read with a hidden prompt (or one line of stdin when that is not a
terminal), never from an argument, never printed; it goes to the credential store and
``client.json`` keeps only the client id and which store has the secret.
"""

from __future__ import annotations

from dataclasses import dataclass

from twg.auth import client_app
from twg.errors import UsageError
from twg.factory import Factory

PROMPT = "Client secret (input hidden; empty for a public client without one): "


@dataclass
class Options:
    client_id: str | None = None
    json: bool = False


def _read_secret(f: Factory) -> str:
    try:
        if f.io.stdin_tty:
            return f.io.hidden_prompt(PROMPT).strip()
        return f.io.stdin.readline().strip()
    except (EOFError, KeyboardInterrupt):
        raise UsageError("No client secret was entered; nothing was saved.") from None


def run(opts: Options, f: Factory) -> int:
    client_id = (opts.client_id or "").strip()
    if not client_id and f.io.interactive:
        try:
            client_id = f.io.prompt_line("Client ID (from the developer console): ")
        except EOFError:
            client_id = ""
    if not client_id:
        raise UsageError(
            "No client id given.", "Run `twg setup client --client-id YOUR_CLIENT_ID`."
        )
    secret = _read_secret(f)
    config_dir = f.settings.config_dir
    store = f.store()
    if secret:
        store.set(client_app.SECRET_KEY, secret)
        where = store.describe()
    else:
        store.delete(client_app.SECRET_KEY)
        where = None
    path = client_app.save(
        config_dir, client_app.ClientApp(client_id, store.name if secret else None)
    )
    notes: list[str] = []
    if f.environ.get("TWG_CLIENT_ID") and f.environ["TWG_CLIENT_ID"] != client_id:
        notes.append(f"TWG_CLIENT_ID={f.environ['TWG_CLIENT_ID']} is set and takes precedence.")
    if f.settings.client_secret:
        notes.append("TWG_CLIENT_SECRET is set and takes precedence over the saved secret.")
    if opts.json:
        f.io.out_json(
            {
                "client_id": client_id,
                "config_file": str(path),
                "secret_store": store.name if secret else None,
                "notes": notes,
            }
        )
    f.io.err(f"OAuth client saved: client id {client_id} in {path}.")
    if where:
        f.io.err(f"Its secret is stored in: {where} (never printed).")
    else:
        f.io.err("No secret: twg signs in as a public client (PKCE only).")
    for note in notes:
        f.io.err(note)
    f.io.err("Next: `twg login --force` to sign in with it.")
    return 0
