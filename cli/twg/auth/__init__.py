"""The authentication core: OAuth 2.1 flows, token storage and the refresh protocol.

Nothing here prints or knows about click; time, HTTP transport, keyring and terminal
are handed in by the caller (twg.factory).
"""
