"""Token scenarios as data: YAML files under ``scenarios/`` run by
``twg-mock-idp scenario run`` against the mock, with reports a reviewer can read.

``loader`` reads and validates a file (errors name the file, line and field),
``steps`` runs each step type, ``runner`` runs scenarios against a ``target`` (an
in-process mock or ``--against URL``), ``reports`` writes Markdown, JUnit XML and JSON.
Nothing here is imported by ``twg-mock-idp serve`` or ``twg --help``.
"""
