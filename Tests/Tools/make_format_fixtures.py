#!/usr/bin/env python3
"""Writes the committed fixtures that segscope's format tests read.

They come from the reference implementations (numpy, the `safetensors`
package), never from segscope, so the tests check segscope against them.
Re-run: python3 Tests/Tools/make_format_fixtures.py  (needs numpy, safetensors)
"""
import json
import os

import numpy as np
from safetensors.numpy import save_file

out = os.path.join(os.path.dirname(__file__), "..", "SegFormatsTests", "Fixtures")
os.makedirs(out, exist_ok=True)

tensors = {
    "weight_f32": np.arange(12, dtype=np.float32).reshape(3, 4) * 0.25 - 1.0,
    "weight_f16": (np.arange(6, dtype=np.float32) / 3.0).astype(np.float16).reshape(2, 3),
    "ids_i64": np.array([-3, 0, 7, 2**40], dtype=np.int64),
    "ids_i32": np.array([[1, -2], [3, 4]], dtype=np.int32),
    "mask_u8": np.array([0, 1, 255], dtype=np.uint8),
}
save_file(tensors, os.path.join(out, "tiny.safetensors"), metadata={"heads": "2", "block_size": "16,16"})

# The expected values, as exact text, for the Swift test to compare against.
expected = {name: {"shape": list(a.shape), "values": [float(v) for v in a.astype(np.float64).ravel()]}
            for name, a in tensors.items()}
with open(os.path.join(out, "tiny.safetensors.json"), "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)

# PNG fixtures for every colour type and bit depth the reader accepts, written
# by a deliberately plain encoder below (zlib + struct, no libpng) so the
# reader is checked against an independent writer. Pixels are seeded-random.
import struct
import zlib


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def pack_row(samples, bit_depth):
    """One scanline of unsigned samples at bit_depth, MSB first, padded to a byte."""
    if bit_depth == 8:
        return bytes(int(s) for s in samples)
    if bit_depth == 16:
        return b"".join(struct.pack(">H", int(s)) for s in samples)
    out, acc, nbits = bytearray(), 0, 0
    for s in samples:
        acc = (acc << bit_depth) | int(s)
        nbits += bit_depth
        if nbits == 8:
            out.append(acc)
            acc, nbits = 0, 0
    if nbits:
        out.append(acc << (8 - nbits))
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def encode_png(pixels, color_type, bit_depth, palette=None, interlace=False):
    """pixels: uint array [H, W, channels]."""
    h, w, _ = pixels.shape
    raw = bytearray()
    if interlace:
        for x0, y0, dx, dy in ADAM7:
            sub = pixels[y0::dy, x0::dx]
            if sub.shape[0] == 0 or sub.shape[1] == 0:
                continue
            for row in sub:
                raw += b"\x00" + pack_row(row.ravel(), bit_depth)
    else:
        for row in pixels:
            raw += b"\x00" + pack_row(row.ravel(), bit_depth)
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 1 if interlace else 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    if palette is not None:
        png += chunk(b"PLTE", bytes(np.asarray(palette, dtype=np.uint8).ravel()))
    png += chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")
    return png


rng = np.random.default_rng(7)
cases = [
    # name, colour type, channels, bit depth, interlace, palette entries
    ("gray1", 0, 1, 1, False, 0),
    ("gray2", 0, 1, 2, False, 0),
    ("gray4", 0, 1, 4, False, 0),
    ("gray8", 0, 1, 8, False, 0),
    ("gray16", 0, 1, 16, False, 0),
    ("graya8", 4, 2, 8, False, 0),
    ("palette2", 3, 1, 2, False, 3),
    ("palette4", 3, 1, 4, False, 11),
    ("palette8", 3, 1, 8, False, 200),
    ("rgb8", 2, 3, 8, False, 0),
    ("rgb16", 2, 3, 16, False, 0),
    ("rgba8", 6, 4, 8, False, 0),
    ("rgba16", 6, 4, 16, False, 0),
    ("gray8_interlaced", 0, 1, 8, True, 0),
    ("rgb8_interlaced", 2, 3, 8, True, 0),
    ("palette4_interlaced", 3, 1, 4, True, 9),
]
png_expected = {}
for name, color_type, channels, depth, interlace, entries in cases:
    h, w = 11, 13  # odd sizes: partial bytes in sub-byte rows, short Adam7 passes
    high = entries if entries else 2 ** depth
    pixels = rng.integers(0, high, size=(h, w, channels))
    palette = rng.integers(0, 256, size=(entries, 3)) if entries else None
    with open(os.path.join(out, name + ".png"), "wb") as f:
        f.write(encode_png(pixels, color_type, depth, palette, interlace))
    png_expected[name] = {"width": w, "height": h, "color_type": color_type, "bit_depth": depth,
                          "channels": channels, "interlaced": interlace,
                          "samples": [int(v) for v in pixels.ravel()],
                          "palette": [int(v) for v in palette.ravel()] if entries else []}
with open(os.path.join(out, "png_cases.json"), "w") as f:
    json.dump(png_expected, f, sort_keys=True)
