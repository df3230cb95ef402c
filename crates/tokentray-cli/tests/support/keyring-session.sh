#!/usr/bin/env bash
# Starts a private D-Bus session bus with a gnome-keyring of its own (login
# collection created and unlocked), prints one line
# `DBUS_SESSION_BUS_ADDRESS=...` on stdout, and keeps both running until its
# stdin is closed; then stops the keyring (by pid) and the bus. With no
# display, so an unlock prompt fails at once. Tests use it to seed entries
# and then lock the collection without touching the shared session's
# keyring (see tests/vault_states.rs).
set -euo pipefail
if [[ "${1:-}" != --inside ]]; then
    # Nothing of the caller's session: no display, no keyring to join.
    unset DISPLAY WAYLAND_DISPLAY GNOME_KEYRING_CONTROL SSH_AUTH_SOCK
    exec dbus-run-session -- "$0" --inside
fi
home=$(mktemp -d) runtime=$(mktemp -d) keyring=
stop() {
    if [[ -n "$keyring" ]]; then
        kill "$keyring" 2>/dev/null || true
        wait "$keyring" 2>/dev/null || true
    fi
    rm -rf "$home" "$runtime"
}
trap stop EXIT
export HOME=$home XDG_RUNTIME_DIR=$runtime
printf %s keyring-session-test |
    gnome-keyring-daemon --foreground --unlock --components=secrets \
        --control-directory="$runtime/keyring" >/dev/null 2>&1 &
keyring=$!
# Asked only once our daemon owns the name: a call to an unowned name would
# D-Bus-activate another, locked, daemon.
ready() {
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
        grep 'boolean true' >/dev/null &&
        dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
            org.freedesktop.Secret.Service.ReadAlias string:default 2>/dev/null |
        grep '/org/freedesktop/secrets/collection/' >/dev/null
}
for _ in $(seq 200); do
    if ready; then break; fi
    sleep 0.1
done
ready || { echo "keyring-session: the keyring never came up" >&2; exit 70; }
echo "DBUS_SESSION_BUS_ADDRESS=$DBUS_SESSION_BUS_ADDRESS"
cat >/dev/null
