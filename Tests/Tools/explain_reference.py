#!/usr/bin/env python3
"""What `segscope explain` reports for one token, computed independently in NumPy (float64) from
../shared/spec/stf-mar.md: STF with every attention matrix of every ICSA kept (long range over each
in-block offset's tokens of all blocks and frames, short range within each block), the token's rows
read out of them, the composed cross-attention map, and MAR's memory attention, class masses,
probabilities and prototype cosines.

Usage: explain_reference.py WEIGHTS.safetensors PREV.npy CUR.npy NEXT.npy Y X [PIXEL_Y PIXEL_X]
Heads and block size come from the file's metadata (defaults 2 and 16,16), as the spec says.
Prints JSON: steps (layer, kind, keys [[frame, y, x], ...] with frame -1/0/+1 relative to T,
weights [head][key]), composed (per decoder layer: perHead [head][3*H*W], average [3*H*W], T-1 first),
probabilities {stage: [K]}, mar {rowWeights, classMass, before, after, cosineBefore, cosineAfter};
with a full-resolution pixel, pixelProbabilities {stage: [K]}: the softmax at that pixel of every
stage's logits [K, H, W] resized bilinearly (align_corners=False) to the 8x larger frame.
"""
import json
import os
import sys

import numpy as np
from safetensors import safe_open

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stf_mar_reference import ffn, layer_norm, resize  # noqa: E402  (spec helpers: LayerNorm, FFN, resize)


def softmax(a, axis=-1):
    e = np.exp(a - a.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def mha(p, prefix, xq, xk, xv, heads):
    """MHA by the spec; returns the output [Lq, C] and the weights [heads, Lq, Lk]."""
    c = xq.shape[1]
    w, b = p[prefix + "in_proj_weight"], p[prefix + "in_proj_bias"]
    q, k, v = xq @ w[:c].T + b[:c], xk @ w[c:2 * c].T + b[c:2 * c], xv @ w[2 * c:].T + b[2 * c:]
    d = c // heads
    out = np.zeros_like(q)
    weights = []
    for i in range(heads):
        s = slice(i * d, (i + 1) * d)
        a = softmax(q[:, s] @ k[:, s].T / np.sqrt(d))
        weights.append(a)
        out[:, s] = a @ v[:, s]
    return out @ p[prefix + "out_proj.weight"].T + p[prefix + "out_proj.bias"], np.stack(weights)


def icsa(p, prefix, q, k, v, pos_q, pos_k, heads, hb, wb):
    """ICSA on [C, T, H, W] tensors. Returns the output and, per query (t, y, x), its long-range and
    short-range rows: (key positions [(t, y, x)], weights [heads, keys])."""
    c, tq, h, w = q.shape
    tk = k.shape[1]
    nh, nw = h // hb, w // wb
    u = np.zeros_like(q)
    long_rows, short_rows = {}, {}
    for iy in range(hb):
        for ix in range(wb):
            qs = (q + pos_q)[:, :, iy::hb, ix::wb].reshape(c, -1).T
            ks = (k + pos_k)[:, :, iy::hb, ix::wb].reshape(c, -1).T
            vs = v[:, :, iy::hb, ix::wb].reshape(c, -1).T
            o, a = mha(p, prefix + "self_attn_long.", qs, ks, vs, heads)
            u[:, :, iy::hb, ix::wb] = o.T.reshape(c, tq, nh, nw)
            qpos = [(t, by * hb + iy, bx * wb + ix) for t, by, bx in np.ndindex(tq, nh, nw)]
            kpos = [(t, by * hb + iy, bx * wb + ix) for t, by, bx in np.ndindex(tk, nh, nw)]
            for i, where in enumerate(qpos):
                long_rows[where] = (kpos, a[:, i, :])
    out = np.zeros_like(q)
    for by in range(nh):
        for bx in range(nw):
            ys, xs = slice(by * hb, (by + 1) * hb), slice(bx * wb, (bx + 1) * wb)
            x = (u + pos_q)[:, :, ys, xs].reshape(c, -1).T
            o, a = mha(p, prefix + "self_attn_short.", x, x, u[:, :, ys, xs].reshape(c, -1).T, heads)
            out[:, :, ys, xs] = o.T.reshape(c, tq, hb, wb)
            pos = [(t, by * hb + iy, bx * wb + ix) for t, iy, ix in np.ndindex(tq, hb, wb)]
            for i, where in enumerate(pos):
                short_rows[where] = (pos, a[:, i, :])
    return out, long_rows, short_rows


def tokens(x):  # [C, T, H, W] -> [T*H*W, C]
    return x.reshape(x.shape[0], -1).T


def step(layer, kind, row, three_frames):
    keys, weights = row
    return {"layer": layer, "kind": kind,
            "keys": [[t - 1 if three_frames else 0, y, x] for t, y, x in keys],
            "weights": weights.tolist()}


def classifier(p, name):
    for prefix in (name, "classifier", "pspnet.decode_head.conv_seg", "decode_head.conv_seg"):
        if prefix + ".weight" in p:
            w = p[prefix + ".weight"]
            return w.reshape(w.shape[0], -1), p[prefix + ".bias"]
    raise KeyError(name)


def mar(p, t):
    """MAR on tokens t [n, C]: the memory attention [n, rows] (no 1/sqrt scaling, spec) and r [n, C]."""
    a = "MAR.HEdecoder.attn."

    def project(z, which):
        for j in range(3):
            z = z @ p[a + "to_%s.%d.weight" % (which, j)].T
        return z
    keys, values = p["MAR.memory_key"][0], p["MAR.memory_value"][0]
    s = softmax(project(t, "q") @ project(keys, "k").T)
    o = (s @ project(values, "v")) @ p[a + "to_out.0.weight"].T + p[a + "to_out.0.bias"]
    hd = "MAR.HEdecoder."
    r = layer_norm(t + o, p[hd + "norm1.weight"], p[hd + "norm1.bias"])
    return s, layer_norm(r + ffn(p, hd, r), p[hd + "norm2.weight"], p[hd + "norm2.bias"])


def pixel_probabilities(p, f_cur, g, pixel):
    """Every stage's logits at every token, resized to the frame as segscope upsamples them; their softmax at
    the pixel."""
    c, h, w = f_cur.shape
    planes = {}

    def add(stage, name, t):
        weight, bias = classifier(p, name)
        planes[stage] = (t @ weight.T + bias).T.reshape(-1, h, w)
    add("baseline", "classifier_baseline", f_cur.reshape(c, -1).T)
    refined = g.reshape(c, -1).T
    if "STF.pe_enc" in p:
        add("stf", "classifier_stf", refined)
    if "MAR.memory_key" in p:
        add("mar", "classifier", mar(p, refined)[1])
    return {stage: softmax(resize(plane, 8 * h, 8 * w)[:, pixel[0], pixel[1]]).tolist()
            for stage, plane in planes.items()}


def explain(p, heads, hb, wb, f_prev, f_cur, f_next, py, px, pixel=None):
    c, h, w = f_cur.shape
    steps, composed = [], []
    g = f_cur
    if "STF.pe_enc" in p:
        pe_enc = resize(p["STF.pe_enc"][0], h, w)
        pe_dec = resize(p["STF.pe_dec"][0], h, w)
        x = np.stack([f_prev, f_cur, f_next], axis=1)
        depth = 0
        while "STF.encoder.layers.%d.norm1.weight" % depth in p:
            depth += 1
        for i in range(depth):
            e = "STF.encoder.layers.%d." % i
            a, long_rows, short_rows = icsa(p, e + "self_attn.", x, x, x, pe_enc, pe_enc, heads, hb, wb)
            steps.append(step(i, "encoder-long", long_rows[(1, py, px)], True))
            steps.append(step(i, "encoder-short", short_rows[(1, py, px)], True))
            t = layer_norm(tokens(x + a), p[e + "norm1.weight"], p[e + "norm1.bias"])
            t = layer_norm(t + ffn(p, e, t), p[e + "norm2.weight"], p[e + "norm2.bias"])
            x = t.T.reshape(x.shape)
        m = x
        y = f_cur[:, None]
        for i in range(depth):
            d = "STF.decoder.layers.%d." % i
            a, long_rows, short_rows = icsa(p, d + "self_attn.", y, y, y, pe_dec, pe_dec, heads, hb, wb)
            steps.append(step(i, "decoder-self-long", long_rows[(0, py, px)], False))
            steps.append(step(i, "decoder-self-short", short_rows[(0, py, px)], False))
            y = layer_norm(tokens(y + a), p[d + "norm1.weight"], p[d + "norm1.bias"]).T.reshape(y.shape)
            b, long_rows, short_rows = icsa(p, d + "multihead_attn.", y, m, m, pe_dec, pe_enc, heads, hb, wb)
            steps.append(step(i, "decoder-cross-long", long_rows[(0, py, px)], True))
            steps.append(step(i, "decoder-cross-short", short_rows[(0, py, px)], False))
            # composed[k] = sum over block tokens q' of A_short[p, q'] A_long[q', k]: per head (head h of
            # both modules), and with the head-averaged matrices.
            per_head = np.zeros((heads, 3, h, w))
            average = np.zeros((3, h, w))
            block, a_short = short_rows[(0, py, px)]
            for j, via in enumerate(block):
                keys, a_long = long_rows[via]
                for e_, (t, ky, kx) in enumerate(keys):
                    per_head[:, t, ky, kx] += a_short[:, j] * a_long[:, e_]
                    average[t, ky, kx] += a_short[:, j].mean() * a_long[:, e_].mean()
            composed.append({"layer": i, "perHead": per_head.reshape(heads, -1).tolist(),
                             "average": average.reshape(-1).tolist()})
            t = layer_norm(tokens(y + b), p[d + "norm2.weight"], p[d + "norm2.bias"])
            t = layer_norm(t + ffn(p, d, t), p[d + "norm3.weight"], p[d + "norm3.bias"])
            y = t.T.reshape(y.shape)
        g = y[:, 0]
    token = g[:, py, px]
    wb_, bb = classifier(p, "classifier_baseline")
    probabilities = {"baseline": softmax(wb_ @ f_cur[:, py, px] + bb)}
    if "STF.pe_enc" in p:
        ws, bs = classifier(p, "classifier_stf")
        probabilities["stf"] = softmax(ws @ token + bs)
    result = {"steps": steps, "composed": composed}
    if "MAR.memory_key" in p:
        s, r = mar(p, token[None])
        s, r = s[0], r[0]
        keys, values = p["MAR.memory_key"][0], p["MAR.memory_value"][0]
        wm, bm = classifier(p, "classifier")
        k = wm.shape[0]
        per_class = keys.shape[0] // k
        prototypes = values.reshape(k, per_class, -1).mean(1)

        def cosines(v):
            return (prototypes @ v / (np.linalg.norm(prototypes, axis=1) * np.linalg.norm(v))).tolist()
        probabilities["mar"] = softmax(wm @ r + bm)
        result["mar"] = {"rowWeights": s.tolist(), "classMass": s.reshape(k, per_class).sum(1).tolist(),
                         "before": probabilities["stf" if "stf" in probabilities else "baseline"].tolist(),
                         "after": probabilities["mar"].tolist(),
                         "cosineBefore": cosines(token), "cosineAfter": cosines(r)}
    result["probabilities"] = {stage: v.tolist() for stage, v in probabilities.items()}
    if pixel is not None:
        result["pixelProbabilities"] = pixel_probabilities(p, f_cur, g, pixel)
    return result


def main():
    weights, prev, cur, nxt, py, px = sys.argv[1:7]
    p = {}
    with safe_open(weights, framework="numpy") as f:
        metadata = f.metadata() or {}
        for name in f.keys():
            p[name] = f.get_tensor(name).astype(np.float64)
    heads = int(metadata.get("heads", "2"))
    hb, wb = (int(v) for v in metadata.get("block_size", "16,16").split(","))
    features = [np.load(path).astype(np.float64) for path in (prev, cur, nxt)]
    pixel = tuple(int(v) for v in sys.argv[7:9]) if len(sys.argv) >= 9 else None
    json.dump(explain(p, heads, hb, wb, *features, int(py), int(px), pixel), sys.stdout)


if __name__ == "__main__":
    main()
