#!/usr/bin/env python3
"""Prints the table of medians and ratios from scripts/bench's hyperfine JSON.

    summary.py DIR     (DIR holds NAME.json from hyperfine, NAME.skipped;
                        warm.json holds the three commands of `scripts/bench warm`)
"""

import json
import os
import statistics
import sys

ROWS = [
    ("tokentray-warm-agent", "tokentray token, warm, with the agent"),
    ("tokentray-warm-vault", "tokentray token, warm, no agent (vault read)"),
    ("tokentray-cold-vault", "tokentray token --force-refresh, no agent (refresh + rotation)"),
    ("tokentray-cold-agent", "tokentray token --force-refresh, with the agent"),
    ("oidc-token-warm", "oidc-token, warm (oidc-agent)"),
    ("oidc-token-cold", "oidc-token --force-new (refresh + rotation)"),
    ("msal-json-warm", "MSAL + SerializableTokenCache JSON file, warm"),
    ("msal-json-cold", "MSAL + JSON file, force_refresh"),
    ("msal-ext-warm", "MSAL + msal-extensions (libsecret), warm"),
    ("msal-ext-cold", "MSAL + msal-extensions, force_refresh"),
    ("true", "/bin/true (process-spawn floor)"),
    ("tokentray-startup", "tokentray --version (front + tokentray-cli start-up, no token)"),
]
SKIP_GROUPS = {
    "tokentray": "tokentray-", "oidc-agent": "oidc-token-", "msal-json": "msal-json-",
    "msal-ext": "msal-ext-", "floor": ("true", "tokentray-startup"),
}
# `scripts/bench warm`: one hyperfine invocation (warm.json) of three commands.
WARM = [
    ("warm-tokentray", "tokentray token, warm, with the agent"),
    ("warm-oidc-token", "oidc-token, warm (oidc-agent)"),
    ("warm-true", "/bin/true (process-spawn floor)"),
]


def figures(result):
    times = result["times"]
    return {
        "median": statistics.median(times) * 1000,
        "mean": result["mean"] * 1000,
        "stddev": (result.get("stddev") or 0) * 1000,
        "min": result["min"] * 1000,
        "runs": len(times),
    }


def row(label, m):
    spread = f"{m['mean']:.2f} ± {m['stddev']:.2f}"
    return f"{label:<66} {m['median']:>10.2f} {m['min']:>8.2f} {spread:>16} {m['runs']:>5}"


HEADER = f"{'what (fresh process per call)':<66} {'median ms':>10} {'min ms':>8} {'mean ± σ ms':>16} {'runs':>5}"


def load_warm(directory):
    """The warm comparison's figures by command name, or the reason it was skipped."""
    path = os.path.join(directory, "warm.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return {r["command"]: figures(r) for r in json.load(f)["results"]}, None
    skipped = os.path.join(directory, "warm.skipped")
    if os.path.exists(skipped):
        with open(skipped, encoding="utf-8") as f:
            return None, f.read().strip()
    return None, None


def print_warm(directory):
    warm, why = load_warm(directory)
    if warm is None and why is None:
        return
    print("One hyperfine invocation, back to back (scripts/bench warm):")
    if warm is None:
        print(f"  skipped: {why}")
        print()
        return
    print(HEADER)
    for name, label in WARM:
        if name in warm:
            print(row(label, warm[name]))
    tt, oidc, floor = (warm.get(name) for name, _ in WARM)
    if tt and oidc:
        ratio = tt["median"] / oidc["median"]
        by_min = tt["min"] / oidc["min"]
        verdict = "met" if ratio <= 1.0 else "NOT met"
        print(f"tokentray / oidc-token = {ratio:.2f}x (of the minima: {by_min:.2f}x)  target <= 1.00x: {verdict}")
        if floor:
            print(
                f"above /bin/true: tokentray +{tt['median'] - floor['median']:.2f} ms, "
                f"oidc-token +{oidc['median'] - floor['median']:.2f} ms"
            )
    print()


def load(directory):
    medians, skipped = {}, {}
    for name, _ in ROWS:
        path = os.path.join(directory, name + ".json")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                result = json.load(f)["results"][0]
            medians[name] = figures(result)
    for group, prefix in SKIP_GROUPS.items():
        path = os.path.join(directory, group + ".skipped")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                why = f.read().strip()
            for name, _ in ROWS:
                if name.startswith(prefix) and name not in medians:
                    skipped[name] = why
    return medians, skipped


def print_checks(medians):
    """The targets and ratios of the one-invocation-per-row table."""
    def median(name):
        return medians[name]["median"] if name in medians else None

    def fastest(name):
        return medians[name]["min"] if name in medians else None

    agent = median("tokentray-warm-agent")
    checks = []
    oidc = median("oidc-token-warm")
    if agent and oidc:
        ratio = agent / oidc
        by_min = fastest("tokentray-warm-agent") / fastest("oidc-token-warm")
        checks.append((f"tokentray warm (agent) / oidc-token warm = {ratio:.2f}x (of the minima: {by_min:.2f}x)", "<= 1.5x", ratio <= 1.5))
    else:
        checks.append(("tokentray warm (agent) vs oidc-token warm: skipped", "<= 1.5x", None))
    for peer, label in (("msal-ext-warm", "msal-extensions"), ("msal-json-warm", "MSAL JSON file")):
        value = median(peer)
        target = ">= 100x" if peer == "msal-ext-warm" else None
        if agent and value:
            ratio = value / agent
            by_min = fastest(peer) / fastest("tokentray-warm-agent")
            checks.append((f"{label} warm / tokentray warm (agent) = {ratio:.0f}x faster (of the minima: {by_min:.0f}x)", target, ratio >= 100 if target else None))
        elif target:
            checks.append((f"tokentray warm (agent) vs {label} warm: skipped", target, None))
    for name, label in (("tokentray-cold-vault", "no agent"), ("tokentray-cold-agent", "agent")):
        value = median(name)
        if value:
            checks.append((f"tokentray cold with rotation ({label}) = {value:.1f} ms", "< 50 ms", value < 50))
    oidc_cold, cold = median("oidc-token-cold"), median("tokentray-cold-vault")
    if oidc_cold and cold:
        checks.append((f"oidc-token cold / tokentray cold (no agent) = {oidc_cold / cold:.1f}x", None, None))
    floor = median("true")
    if agent and floor:
        checks.append((f"tokentray warm (agent) above the spawn floor: +{agent - floor:.2f} ms", None, None))
    startup = median("tokentray-startup")
    if startup and floor:
        checks.append((f"tokentray start-up (--version) above the spawn floor: +{startup - floor:.2f} ms", None, None))
    for text, target, ok in checks:
        verdict = "" if target is None else f"  target {target}: " + ("met" if ok else "NOT met" if ok is False else "n/a")
        print(f"{text}{verdict}")


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else "target/bench"
    medians, skipped = load(directory)
    print("Medians decide the targets; with other work on the machine, the minima show the undisturbed cost.")
    print()
    print_warm(directory)
    # Rows of sections that did not run are left out.
    if medians or skipped:
        print("One hyperfine invocation per row:")
        print(HEADER)
    for name, label in ROWS:
        if name in medians:
            print(row(label, medians[name]))
        elif name in skipped:
            print(f"{label:<66} {'skipped: ' + skipped[name]}")
    if medians or skipped:
        print()
        print_checks(medians)
    machine = os.path.join(directory, "machine.txt")
    if os.path.exists(machine):
        with open(machine, encoding="utf-8") as f:
            print()
            print("; ".join(line.strip() for line in f if line.strip()))


if __name__ == "__main__":
    main()
