"""Org administration for `twg admin`: an Admin API key per org, kept apart from the
user's session (its own ``admin.conf`` and keyring entry or 0600 file), and a client of
Atlassian's Admin API. Knows nothing about click or printing."""
