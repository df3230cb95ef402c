#!/usr/bin/env python3
"""Approve a device authorization (RFC 8628) on the local test IdP, as a user would.

    approve-device.py ISSUER USER_CODE [LOGIN]

Opens ISSUER/device, types the user code, confirms, signs in on the
development login form (any login/password is accepted) and consents,
submitting whatever form each page shows, like the Rust testkit's
`Idp::approve_device`. Standard library only. Trusts $BENCH_CA_FILE (PEM) in
addition to the system roots when set. Exits 0 on "Sign-in Success".
"""

import http.cookiejar
import os
import ssl
import sys
import urllib.parse
import urllib.request
from html.parser import HTMLParser

PASSWORD = "bench-password"
MAX_PAGES = 20


class Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms = []
        self._current = None

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._current = {
                "action": attrs.get("action", ""),
                "method": attrs.get("method", "get").lower(),
                "inputs": [],
            }
            self.forms.append(self._current)
        elif tag in ("input", "button") and self._current is not None:
            self._current["inputs"].append(
                (attrs.get("name", ""), attrs.get("type", "text" if tag == "input" else "submit").lower(), attrs.get("value", ""))
            )

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def fill(form, user_code, login):
    fields = []
    for name, kind, value in form["inputs"]:
        if not name or kind in ("submit", "button", "image", "reset", "checkbox", "radio"):
            continue
        if name in ("login", "username", "email"):
            value = login
        elif kind == "password":
            value = PASSWORD
        elif name == "user_code" and not value:
            value = user_code
        fields.append((name, value))
    return fields


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    issuer, user_code = sys.argv[1].rstrip("/"), sys.argv[2]
    login = sys.argv[3] if len(sys.argv) == 4 else "bench.user"
    context = ssl.create_default_context()
    if os.environ.get("BENCH_CA_FILE"):
        context.load_verify_locations(cafile=os.environ["BENCH_CA_FILE"])
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        urllib.request.HTTPSHandler(context=context),
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
    )
    url, data = issuer + "/device", None
    for _ in range(MAX_PAGES):
        with opener.open(url, data=data, timeout=10) as response:
            url = response.geturl()
            body = response.read().decode("utf-8", "replace")
        if 'class="red"' in body or "oops! something went wrong" in body:
            sys.exit(f"approve-device: the IdP refused at {url}: {body[:600]}")
        parser = Forms()
        parser.feed(body)
        forms = parser.forms
        form = next((f for f in forms if f["method"] == "post"), forms[0] if forms else None)
        if form is None:
            if "Sign-in Success" in body:
                return
            sys.exit(f"approve-device: stopped at {url} without success: {body[:600]}")
        action = urllib.parse.urljoin(url, form["action"] or url)
        encoded = urllib.parse.urlencode(fill(form, user_code, login))
        if form["method"] == "post":
            url, data = action, encoded.encode()
        else:
            url, data = action + ("&" if "?" in action else "?") + encoded, None
    sys.exit(f"approve-device: gave up after {MAX_PAGES} pages")


if __name__ == "__main__":
    main()
