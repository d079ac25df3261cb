#!/usr/bin/env python3
"""An independent NumPy (float64) implementation of STF, MAR and the
classifiers, written from ../shared/spec/stf-mar.md, and the golden fixtures
segscope's engine is tested against.

Writes, per case, into Tests/SegEngineTests/Fixtures/<case>/:
  weights.safetensors   random weights with the release's names (float32)
  prev.npy cur.npy next.npy   features [C, H, W] float32
  stf.npy mar.npy logits_baseline.npy logits_stf.npy logits_mar.npy   expected outputs
Re-run: python3 Tests/Tools/stf_mar_reference.py   (needs numpy, safetensors)
"""
import os

import numpy as np
from safetensors.numpy import save_file


def layer_norm(x, w, b):  # x [L, C]
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + 1e-5) * w + b


def mha(p, prefix, xq, xk, xv, heads):
    c = xq.shape[1]
    w, b = p[prefix + "in_proj_weight"], p[prefix + "in_proj_bias"]
    q = xq @ w[:c].T + b[:c]
    k = xk @ w[c:2 * c].T + b[c:2 * c]
    v = xv @ w[2 * c:].T + b[2 * c:]
    d = c // heads
    out = np.zeros_like(q)
    for i in range(heads):
        s = slice(i * d, (i + 1) * d)
        a = q[:, s] @ k[:, s].T / np.sqrt(d)
        a = np.exp(a - a.max(1, keepdims=True))
        a /= a.sum(1, keepdims=True)
        out[:, s] = a @ v[:, s]
    return out @ p[prefix + "out_proj.weight"].T + p[prefix + "out_proj.bias"]


def icsa(p, prefix, q, k, v, pos_q, pos_k, heads, hb, wb):
    """q, pos_q: [C, Tq, H, W]; k, v, pos_k: [C, Tk, H, W]."""
    c, tq, h, w = q.shape
    tk = k.shape[1]
    assert h % hb == 0 and w % wb == 0
    u = np.zeros_like(q)
    for iy in range(hb):
        for ix in range(wb):
            qs = (q + pos_q)[:, :, iy::hb, ix::wb].reshape(c, -1).T
            ks = (k + pos_k)[:, :, iy::hb, ix::wb].reshape(c, -1).T
            vs = v[:, :, iy::hb, ix::wb].reshape(c, -1).T
            o = mha(p, prefix + "self_attn_long.", qs, ks, vs, heads)
            u[:, :, iy::hb, ix::wb] = o.T.reshape(c, tq, h // hb, w // wb)
    out = np.zeros_like(q)
    for by in range(h // hb):
        for bx in range(w // wb):
            ys, xs = slice(by * hb, (by + 1) * hb), slice(bx * wb, (bx + 1) * wb)
            x = (u + pos_q)[:, :, ys, xs].reshape(c, -1).T
            vals = u[:, :, ys, xs].reshape(c, -1).T
            o = mha(p, prefix + "self_attn_short.", x, x, vals, heads)
            out[:, :, ys, xs] = o.T.reshape(c, tq, hb, wb)
    return out


def resize(pe, h, w):
    """Bilinear, align_corners=False, over the last two axes (PyTorch semantics)."""
    hp, wp = pe.shape[-2:]
    def coords(n_out, n_in):
        src = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
        src = np.clip(src, 0, None)
        i0 = np.minimum(np.floor(src).astype(int), n_in - 1)
        i1 = np.minimum(i0 + 1, n_in - 1)
        return i0, i1, src - i0
    y0, y1, fy = coords(h, hp)
    x0, x1, fx = coords(w, wp)
    top = pe[..., y0, :][..., x0] * (1 - fx) + pe[..., y0, :][..., x1] * fx
    bottom = pe[..., y1, :][..., x0] * (1 - fx) + pe[..., y1, :][..., x1] * fx
    return top * (1 - fy)[:, None] + bottom * fy[:, None]


def tokens(x):  # [C, T, H, W] -> [T*H*W, C]
    return x.reshape(x.shape[0], -1).T


def untokens(t, shape):
    return t.T.reshape(shape)


def ffn(p, prefix, x):
    h = np.maximum(x @ p[prefix + "linear1.weight"].T + p[prefix + "linear1.bias"], 0)
    return h @ p[prefix + "linear2.weight"].T + p[prefix + "linear2.bias"]


def stf(p, f_prev, f_cur, f_next, heads, hb, wb, depth):
    c, h, w = f_cur.shape
    pe_enc = resize(p["STF.pe_enc"][0], h, w)
    pe_dec = resize(p["STF.pe_dec"][0], h, w)
    x = np.stack([f_prev, f_cur, f_next], axis=1)
    for i in range(depth):
        e = "STF.encoder.layers.%d." % i
        a = icsa(p, e + "self_attn.", x, x, x, pe_enc, pe_enc, heads, hb, wb)
        t = layer_norm(tokens(x + a), p[e + "norm1.weight"], p[e + "norm1.bias"])
        t = layer_norm(t + ffn(p, e, t), p[e + "norm2.weight"], p[e + "norm2.bias"])
        x = untokens(t, x.shape)
    m = x
    y = f_cur[:, None]
    for i in range(depth):
        d = "STF.decoder.layers.%d." % i
        a = icsa(p, d + "self_attn.", y, y, y, pe_dec, pe_dec, heads, hb, wb)
        t = layer_norm(tokens(y + a), p[d + "norm1.weight"], p[d + "norm1.bias"])
        y = untokens(t, y.shape)
        b = icsa(p, d + "multihead_attn.", y, m, m, pe_dec, pe_enc, heads, hb, wb)
        t = layer_norm(tokens(y + b), p[d + "norm2.weight"], p[d + "norm2.bias"])
        t = layer_norm(t + ffn(p, d, t), p[d + "norm3.weight"], p[d + "norm3.bias"])
        y = untokens(t, y.shape)
    return y[:, 0]


def mar(p, g):
    c, h, w = g.shape
    x = g.reshape(c, -1).T
    a = "MAR.HEdecoder.attn."
    def project(z, which):
        for j in range(3):
            z = z @ p[a + "to_%s.%d.weight" % (which, j)].T
        return z
    q = project(x, "q")
    k = project(p["MAR.memory_key"][0], "k")
    v = project(p["MAR.memory_value"][0], "v")
    s = q @ k.T
    s = np.exp(s - s.max(1, keepdims=True))
    s /= s.sum(1, keepdims=True)
    o = (s @ v) @ p[a + "to_out.0.weight"].T + p[a + "to_out.0.bias"]
    hd = "MAR.HEdecoder."
    x = layer_norm(x + o, p[hd + "norm1.weight"], p[hd + "norm1.bias"])
    x = layer_norm(x + ffn(p, hd, x), p[hd + "norm2.weight"], p[hd + "norm2.bias"])
    return x.T.reshape(c, h, w)


def classify(w, b, x):
    c, h, ww = x.shape
    return (w.reshape(w.shape[0], -1) @ x.reshape(c, -1) + b[:, None]).reshape(-1, h, ww)


def random_weights(c, heads, hb, wb, hp, wp, m, k, kl, depth, seed):
    """Weights with the release's names and shapes, scaled to keep activations O(1)."""
    rng = np.random.default_rng(seed)
    p = {}
    def r(*shape, scale=None):
        s = scale if scale is not None else 1 / np.sqrt(shape[-1])
        return (rng.standard_normal(shape) * s).astype(np.float32)
    p["STF.pe_enc"] = r(1, c, 3, hp, wp, scale=0.5)
    p["STF.pe_dec"] = r(1, c, 1, hp, wp, scale=0.5)
    def attention(prefix):
        p[prefix + "in_proj_weight"] = r(3 * c, c)
        p[prefix + "in_proj_bias"] = r(3 * c, scale=0.1)
        p[prefix + "out_proj.weight"] = r(c, c)
        p[prefix + "out_proj.bias"] = r(c, scale=0.1)
    def norm(prefix):
        p[prefix + "weight"] = (1 + 0.1 * rng.standard_normal(c)).astype(np.float32)
        p[prefix + "bias"] = r(c, scale=0.1)
    def mlp(prefix, width):
        p[prefix + "linear1.weight"] = r(width, c)
        p[prefix + "linear1.bias"] = r(width, scale=0.1)
        p[prefix + "linear2.weight"] = r(c, width)
        p[prefix + "linear2.bias"] = r(c, scale=0.1)
    for i in range(depth):
        e = "STF.encoder.layers.%d." % i
        attention(e + "self_attn.self_attn_long.")
        attention(e + "self_attn.self_attn_short.")
        mlp(e, m); norm(e + "norm1."); norm(e + "norm2.")
        d = "STF.decoder.layers.%d." % i
        for module in ("self_attn", "multihead_attn"):
            attention(d + module + ".self_attn_long.")
            attention(d + module + ".self_attn_short.")
        mlp(d, m); norm(d + "norm1."); norm(d + "norm2."); norm(d + "norm3.")
    dh = c // 2
    a = "MAR.HEdecoder.attn."
    for which in ("q", "k", "v"):
        p[a + "to_%s.0.weight" % which] = r(c, c)
        p[a + "to_%s.1.weight" % which] = r(dh, c)
        p[a + "to_%s.2.weight" % which] = r(dh, dh)
    p[a + "to_out.0.weight"] = r(c, dh)
    p[a + "to_out.0.bias"] = r(c, scale=0.1)
    hd = "MAR.HEdecoder."
    mlp(hd, dh); norm(hd + "norm1."); norm(hd + "norm2.")
    prototypes = r(k, c, scale=1.0)
    p["MAR.memory_key"] = (np.repeat(prototypes, kl, axis=0) + r(k * kl, c, scale=0.5))[None]
    p["MAR.memory_value"] = np.repeat(prototypes, kl, axis=0)[None]
    p["classifier.weight"] = r(k, c, 1, 1)
    p["classifier.bias"] = r(k, scale=0.1)
    p["classifier_baseline.weight"] = r(k, c)
    p["classifier_baseline.bias"] = r(k, scale=0.1)
    p["pspnet.backbone.unused"] = r(3, 3)
    return p, rng


def make_case(name, c, heads, hb, wb, h, w, hp, wp, m, k, kl, depth, seed):
    p, rng = random_weights(c, heads, hb, wb, hp, wp, m, k, kl, depth, seed)
    def r(*shape, scale=None):
        s = scale if scale is not None else 1 / np.sqrt(shape[-1])
        return (rng.standard_normal(shape) * s).astype(np.float32)
    out = os.path.join(os.path.dirname(__file__), "..", "SegEngineTests", "Fixtures", name)
    os.makedirs(out, exist_ok=True)
    save_file(p, os.path.join(out, "weights.safetensors"), metadata={"heads": str(heads), "block_size": "%d,%d" % (hb, wb)})
    f = [r(c, h, w, scale=1.0) for _ in range(3)]
    for n, x in zip(("prev", "cur", "next"), f):
        np.save(os.path.join(out, n + ".npy"), x)
    p64 = {key: v.astype(np.float64) for key, v in p.items()}
    f64 = [x.astype(np.float64) for x in f]
    g = stf(p64, *f64, heads, hb, wb, depth)
    r_ = mar(p64, g)
    results = {
        "stf": g, "mar": r_,
        "logits_baseline": classify(p64["classifier_baseline.weight"], p64["classifier_baseline.bias"], f64[1]),
        "logits_stf": classify(p64["classifier.weight"], p64["classifier.bias"], g),
        "logits_mar": classify(p64["classifier.weight"], p64["classifier.bias"], r_),
    }
    for n, x in results.items():
        np.save(os.path.join(out, n + ".npy"), x.astype(np.float32))


if __name__ == "__main__":
    # Small: pe_enc of another size than the features, so the resize is exercised.
    make_case("small", c=16, heads=2, hb=4, wb=4, h=8, w=12, hp=6, wp=10, m=24, k=5, kl=3, depth=1, seed=1)
    # Deeper, 4 heads, non-square blocks, pe at the feature size.
    make_case("deep", c=24, heads=4, hb=2, wb=4, h=6, w=8, hp=6, wp=8, m=16, k=4, kl=2, depth=2, seed=2)
