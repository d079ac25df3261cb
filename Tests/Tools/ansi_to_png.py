#!/usr/bin/env python3
"""Turns an ANSI screen capture (tmux capture-pane -e -p, or segscope render
--ansi) into a PNG so a person can look at it: each cell is 6x12 pixels, the
half block splits it into foreground (top) and background (bottom), other
glyphs show as a small block in the foreground colour.
Use: python3 Tests/Tools/ansi_to_png.py capture.ans out.png
"""
import re
import sys

from PIL import Image


def xterm(n):
    if n < 16:
        base = [(0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
                (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255)]
        return base[n]
    if n >= 232:
        v = 8 + 10 * (n - 232)
        return (v, v, v)
    levels = [0, 95, 135, 175, 215, 255]
    n -= 16
    return (levels[n // 36], levels[(n // 6) % 6], levels[n % 6])


def parse(text):
    rows = []
    for line in text.split("\n"):
        fg, bg, row = (229, 229, 229), (0, 0, 0), []
        for token in re.split(r"(\x1b\[[0-9;]*m)", line):
            if token.startswith("\x1b["):
                params = [int(p) if p else 0 for p in token[2:-1].split(";")]
                i = 0
                while i < len(params):
                    p = params[i]
                    if p == 0:
                        fg, bg = (229, 229, 229), (0, 0, 0)
                    elif p in (38, 48) and i + 1 < len(params) and params[i + 1] == 5:
                        c = xterm(params[i + 2]); i += 2
                        fg, bg = (c, bg) if p == 38 else (fg, c)
                    elif p in (38, 48) and i + 1 < len(params) and params[i + 1] == 2:
                        c = tuple(params[i + 2:i + 5]); i += 4
                        fg, bg = (c, bg) if p == 38 else (fg, c)
                    elif 30 <= p <= 37:
                        fg = xterm(p - 30)
                    elif 40 <= p <= 47:
                        bg = xterm(p - 40)
                    elif p == 39:
                        fg = (229, 229, 229)
                    elif p == 49:
                        bg = (0, 0, 0)
                    i += 1
            else:
                for ch in token:
                    row.append((ch, fg, bg))
        rows.append(row)
    return rows


rows = parse(open(sys.argv[1], encoding="utf-8", errors="replace").read())
width = max(len(r) for r in rows)
image = Image.new("RGB", (width * 6, len(rows) * 12))
px = image.load()
for y, row in enumerate(rows):
    for x, (ch, fg, bg) in enumerate(row):
        for dy in range(12):
            for dx in range(6):
                if ch == "▀":
                    c = fg if dy < 6 else bg
                elif ch != " " and 3 <= dy <= 9 and 1 <= dx <= 4:
                    c = fg
                else:
                    c = bg
                px[x * 6 + dx, y * 12 + dy] = c
image.save(sys.argv[2])
