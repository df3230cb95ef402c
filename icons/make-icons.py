#!/usr/bin/env python3
"""Draw Tokentray's app and tray icons as PNGs (stdlib only: zlib + struct).

Shapes are signed-distance functions in unit coordinates, rendered with 4x4
supersampling, so the output is deterministic and needs no image library.

    python3 icons/make-icons.py      # rewrites the PNGs next to this script
"""

import math
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
SS = 4  # supersampling per axis

WHITE = (255, 255, 255)
INK = (31, 41, 55)  # outline of the tray key, readable on light and dark panels
BLUE = (37, 99, 235)
BLUE_DARK = (29, 78, 216)
GREEN = (22, 163, 74)
AMBER = (245, 158, 11)
RED = (220, 38, 38)


# ---------------------------------------------------------------- geometry --
def d_circle(x, y, cx, cy, r):
    return math.hypot(x - cx, y - cy) - r


def d_box(x, y, x0, y0, x1, y1):
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    hx, hy = (x1 - x0) / 2, (y1 - y0) / 2
    qx, qy = abs(x - cx) - hx, abs(y - cy) - hy
    outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
    return outside + min(max(qx, qy), 0.0)


def d_round_box(x, y, x0, y0, x1, y1, r):
    return d_box(x, y, x0 + r, y0 + r, x1 - r, y1 - r) - r


def d_segment(x, y, ax, ay, bx, by, r):
    px, py, vx, vy = x - ax, y - ay, bx - ax, by - ay
    t = max(0.0, min(1.0, (px * vx + py * vy) / (vx * vx + vy * vy)))
    return math.hypot(px - vx * t, py - vy * t) - r


def rotate(x, y, cx, cy, deg):
    a = math.radians(deg)
    dx, dy = x - cx, y - cy
    return cx + dx * math.cos(a) - dy * math.sin(a), cy + dx * math.sin(a) + dy * math.cos(a)


def d_key(x, y, scale=1.0, cx=0.5, cy=0.5):
    """A key lying at 45 degrees: round bow lower-left, bit upper-right."""
    x, y = rotate(x, y, cx, cy, 45)
    x, y = (x - cx) / scale + 0.5, (y - cy) / scale + 0.5
    ring = max(d_circle(x, y, 0.27, 0.5, 0.2), -d_circle(x, y, 0.27, 0.5, 0.085))
    shaft = d_box(x, y, 0.42, 0.44, 0.93, 0.56)
    tooth1 = d_box(x, y, 0.70, 0.56, 0.78, 0.70)
    tooth2 = d_box(x, y, 0.83, 0.56, 0.93, 0.74)
    return min(ring, shaft, tooth1, tooth2) * scale


# ----------------------------------------------------------------- drawing --
def render(size, shader):
    """shader(x, y) -> (r, g, b, a) with a in 0..1, x/y in unit coordinates."""
    rows = []
    for py in range(size):
        row = bytearray([0])  # filter type 0
        for px in range(size):
            acc = [0.0, 0.0, 0.0, 0.0]
            for sy in range(SS):
                for sx in range(SS):
                    x = (px + (sx + 0.5) / SS) / size
                    y = (py + (sy + 0.5) / SS) / size
                    r, g, b, a = shader(x, y)
                    acc[0] += r * a
                    acc[1] += g * a
                    acc[2] += b * a
                    acc[3] += a
            n = SS * SS
            alpha = acc[3] / n
            if alpha > 0:
                rgb = [round(c / acc[3]) for c in acc[:3]]
            else:
                rgb = [0, 0, 0]
            row += bytes(rgb + [round(alpha * 255)])
        rows.append(bytes(row))
    return b"".join(rows)


def png_bytes(size, raw):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    return png + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def ico_bytes(pngs):
    """Windows .ico with PNG-compressed entries (Vista and later)."""
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = 6 + 16 * len(pngs)
    entries, data = b"", b""
    for size, png in pngs:
        dim = 0 if size >= 256 else size  # 0 means 256
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(png), offset + len(data))
        data += png
    return header + entries + data


def icns_bytes(pngs):
    """macOS .icns with PNG entries (ic07 128, ic08 256, ic09 512)."""
    kinds = {128: b"ic07", 256: b"ic08", 512: b"ic09"}
    body = b"".join(kinds[size] + struct.pack(">I", 8 + len(png)) + png for size, png in pngs)
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def write(name, data, what):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)
    print(f"wrote icons/{name} ({what})")


def over(top, bottom):
    """Composite two (rgb, alpha) layers."""
    (tr, tg, tb, ta), (br, bg, bb, ba) = top, bottom
    a = ta + ba * (1 - ta)
    if a == 0:
        return (0, 0, 0, 0.0)
    mix = lambda t, b: (t * ta + b * ba * (1 - ta)) / a  # noqa: E731
    return (mix(tr, br), mix(tg, bg), mix(tb, bb), a)


def fill(d):
    return 1.0 if d <= 0 else 0.0


# ------------------------------------------------------------------- icons --
def app_shader(x, y):
    bg = d_round_box(x, y, 0.04, 0.04, 0.96, 0.96, 0.2)
    if bg > 0:
        return (0, 0, 0, 0.0)
    t = (x + y) / 2  # gentle diagonal gradient
    base = tuple(b + (d - b) * t for b, d in zip(BLUE, BLUE_DARK))
    key = d_key(x, y, scale=0.78)
    if key <= 0:
        return (*WHITE, 1.0)
    return (*base, 1.0)


def badge_glyph(state, x, y, cx, cy):
    w = 0.035
    if state == "ok":  # check mark
        return min(
            d_segment(x, y, cx - 0.095, cy + 0.005, cx - 0.025, cy + 0.075, w),
            d_segment(x, y, cx - 0.025, cy + 0.075, cx + 0.1, cy - 0.07, w),
        )
    if state == "warning":  # clock hands
        return min(
            d_segment(x, y, cx, cy, cx, cy - 0.1, w),
            d_segment(x, y, cx, cy, cx + 0.075, cy, w),
        )
    # sign-in needed: exclamation mark
    return min(
        d_segment(x, y, cx, cy - 0.1, cx, cy + 0.02, w),
        d_circle(x, y, cx, cy + 0.09, w * 1.1),
    )


def tray_shader(state, color):
    bcx, bcy, br = 0.72, 0.72, 0.25

    def shader(x, y):
        px = (0, 0, 0, 0.0)
        key = d_key(x, y, scale=0.8, cx=0.43, cy=0.45)
        if key <= 0.045:
            px = (*INK, 1.0)
        if key <= 0:
            px = (*WHITE, 1.0)
        if color is None:  # no account: the key alone
            return px
        badge = d_circle(x, y, bcx, bcy, br)
        if badge <= 0.05:
            px = (*INK, 1.0)  # separates the badge from the key
        if badge <= 0:
            px = (*color, 1.0)
            if badge_glyph(state, x, y, bcx, bcy) <= 0:
                px = (*WHITE, 1.0)
        return px

    return shader


def main():
    app = {size: png_bytes(size, render(size, app_shader)) for size in (16, 32, 48, 128, 256, 512)}
    for name, size in [("32x32.png", 32), ("128x128.png", 128), ("128x128@2x.png", 256), ("icon.png", 512)]:
        write(name, app[size], f"{size}x{size}")
    write("icon.ico", ico_bytes([(s, app[s]) for s in (16, 32, 48, 256)]), "16, 32, 48, 256")
    write("icon.icns", icns_bytes([(s, app[s]) for s in (128, 256, 512)]), "128, 256, 512")
    for state, color in [("ok", GREEN), ("warning", AMBER), ("signin", RED), ("idle", None)]:
        write(f"tray-{state}.png", png_bytes(64, render(64, tray_shader(state, color))), "64x64")


if __name__ == "__main__":
    main()
