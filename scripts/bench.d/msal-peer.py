#!/usr/bin/env python3
"""The two MSAL Python recipes Tokentray replaces, as a benchmark peer.

    msal-peer.py login|token|refresh json|ext ISSUER CACHE_PATH

  json  MSAL PublicClientApplication + SerializableTokenCache kept in a JSON
        file at CACHE_PATH (the common recipe: tokens in a plaintext file).
  ext   msal-extensions' encrypted persistence (libsecret on Linux), with
        CACHE_PATH as its location.

  login    device flow: prints `USER_CODE <code>` on stdout (flushed), waits
           for the approval and saves the cache.
  token    acquire_token_silent in this fresh process; prints the token.
  refresh  acquire_token_silent(force_refresh=True): a refresh with rotation.

ISSUER must be https with a path segment (MSAL's oidc_authority); the CA comes
from REQUESTS_CA_BUNDLE. Client `tokentray-public`, scope `api.read`.
"""

import sys

import msal

CLIENT_ID = "tokentray-public"
SCOPES = ["api.read"]


def json_cache(path):
    cache = msal.SerializableTokenCache()
    try:
        with open(path, encoding="utf-8") as f:
            cache.deserialize(f.read())
    except FileNotFoundError:
        pass

    def save():
        if cache.has_state_changed:
            with open(path, "w", encoding="utf-8") as f:
                f.write(cache.serialize())

    return cache, save


def ext_cache(path):
    from msal_extensions import PersistedTokenCache, build_encrypted_persistence

    # On Linux: LibsecretPersistence, fails loudly (no plaintext fallback).
    return PersistedTokenCache(build_encrypted_persistence(path)), lambda: None


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("login", "token", "refresh") or sys.argv[2] not in ("json", "ext"):
        sys.exit(__doc__)
    action, kind, issuer, path = sys.argv[1:]
    cache, save = (json_cache if kind == "json" else ext_cache)(path)
    app = msal.PublicClientApplication(CLIENT_ID, oidc_authority=issuer, token_cache=cache)
    if action == "login":
        flow = app.initiate_device_flow(scopes=SCOPES)
        if "user_code" not in flow:
            sys.exit(f"msal-peer: no device flow: {flow.get('error')}: {flow.get('error_description')}")
        print("USER_CODE", flow["user_code"], flush=True)
        result = app.acquire_token_by_device_flow(flow)
    else:
        accounts = app.get_accounts()
        if not accounts:
            sys.exit("msal-peer: no account in the cache: sign in first")
        result = app.acquire_token_silent(SCOPES, account=accounts[0], force_refresh=(action == "refresh"))
    if not result or "access_token" not in result:
        detail = result and f"{result.get('error')}: {result.get('error_description')}"
        sys.exit(f"msal-peer: no token: {detail}")
    save()
    if action != "login":
        print(result["access_token"])


if __name__ == "__main__":
    main()
