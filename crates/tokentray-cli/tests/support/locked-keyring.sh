#!/usr/bin/env bash
# Runs "$@" in a private D-Bus session whose gnome-keyring login collection
# exists but is locked, with no display (so no unlock prompt can appear).
# Used by the doctor tests to check the "vault locked" report.
set -euo pipefail
if [[ "${1:-}" != --inside ]]; then
    # No display for the bus either: an unlock prompt activated through it
    # must fail at once instead of waiting on a screen nobody watches.
    unset DISPLAY WAYLAND_DISPLAY
    exec dbus-run-session -- "$0" --inside "$@"
fi
shift
home=$(mktemp -d) runtime=$(mktemp -d)
trap 'pkill -f -- "--control-directory=$runtime/keyring" || true; rm -rf "$home" "$runtime"' EXIT
export HOME=$home XDG_RUNTIME_DIR=$runtime
printf %s locked-test | gnome-keyring-daemon --unlock --components=secrets --control-directory="$runtime/keyring" >/dev/null
for _ in $(seq 100); do
    if dbus-send --session --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner \
        string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; then
        break
    fi
    sleep 0.1
done
dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
    org.freedesktop.Secret.Service.Lock array:objpath:/org/freedesktop/secrets/collection/login >/dev/null
timeout 60 "$@"
