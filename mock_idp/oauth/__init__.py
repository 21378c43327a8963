"""The mock's OAuth 2.1 authorization server, built on authlib's protocol classes."""
