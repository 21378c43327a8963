"""A robot person for oidc-provider's development sign-in pages, used as ``BROWSER``.

It follows the provider's redirects, fills its login form (any password is accepted
there), submits every confirmation form, and delivers the final redirect to the
client's loopback callback. It speaks plain HTTP to 127.0.0.1 only.
"""

from __future__ import annotations

import re
import sys
from urllib.parse import urljoin, urlsplit

import httpx

FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S)
INPUT = re.compile(r"<input([^>]*)>")
ATTR = re.compile(r'(\w+)="([^"]*)"')


def main(url: str, user: str) -> int:
    origin = urlsplit(url).netloc
    with httpx.Client(timeout=30) as client:
        response = client.get(url)
        for _ in range(20):
            if response.is_redirect:
                target = urljoin(str(response.url), response.headers["location"])
                if urlsplit(target).netloc != origin:
                    if urlsplit(target).hostname != "127.0.0.1":
                        print(f"refusing redirect to {target}", file=sys.stderr)
                        return 1
                    client.get(target)  # the CLI's loopback callback
                    return 0
                response = client.get(target)
                continue
            forms = FORM.findall(response.text)
            if not forms:
                # The device flow ends on a page: done when it says so.
                done = response.status_code == 200 and "success" in response.text.lower()
                return 0 if done else 1
            action, body = forms[0]
            data = {}
            for raw in INPUT.findall(body):
                attrs = dict(ATTR.findall(raw))
                if "name" in attrs:
                    data[attrs["name"]] = attrs.get("value", "")
            if "login" in data:
                data.update(login=user, password="any")
            response = client.post(urljoin(str(response.url), action), data=data)
    print("the provider's pages never finished", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[-1], sys.argv[1] if len(sys.argv) > 2 else "alice@example.com"))
