"""The mock Atlassian identity provider (``twg-mock-idp``)."""

# The control API (clock, faults, seed, audit): tests and scenarios drive the mock through
# it. It is never faulted, and only it takes the control token.
CONTROL_PREFIX = "/_mock"


def is_control_path(path: str) -> bool:
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")
