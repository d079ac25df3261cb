"""Loads a segscope checkpoint into PyTorch modules named as the release's
(nn.MultiheadAttention, nn.Linear, nn.LayerNorm, nn.Conv2d, nn.Parameter) with
load_state_dict(strict=True), runs the spec's computation with them, and
compares with `segscope forward`'s outputs.

    check_pytorch.py W.safetensors PREV.npy CUR.npy NEXT.npy FORWARD_OUT_DIR

Prints the largest differences and exits 1 if any exceeds 1e-4 (relative to
max(1, |value|)). Used by `make check-pytorch`; its modules and functions are
the PyTorch peer of `make bench` (Tests/Tools/export_onnx.py).
"""
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors import safe_open

torch.set_grad_enabled(False)


class ICSA(nn.Module):
    def __init__(self, c, heads):
        super().__init__()
        self.self_attn_long = nn.MultiheadAttention(c, heads)
        self.self_attn_short = nn.MultiheadAttention(c, heads)


class EncoderLayer(nn.Module):
    def __init__(self, c, m, heads):
        super().__init__()
        self.self_attn = ICSA(c, heads)
        self.linear1, self.linear2 = nn.Linear(c, m), nn.Linear(m, c)
        self.norm1, self.norm2 = nn.LayerNorm(c), nn.LayerNorm(c)


class DecoderLayer(nn.Module):
    def __init__(self, c, m, heads):
        super().__init__()
        self.self_attn, self.multihead_attn = ICSA(c, heads), ICSA(c, heads)
        self.linear1, self.linear2 = nn.Linear(c, m), nn.Linear(m, c)
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(c), nn.LayerNorm(c), nn.LayerNorm(c)


class Stack(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.layers = nn.ModuleList(layers)


class STF(nn.Module):
    def __init__(self, c, m, heads, depth, hp, wp):
        super().__init__()
        self.pe_enc = nn.Parameter(torch.zeros(1, c, 3, hp, wp))
        self.pe_dec = nn.Parameter(torch.zeros(1, c, 1, hp, wp))
        self.encoder = Stack([EncoderLayer(c, m, heads) for _ in range(depth)])
        self.decoder = Stack([DecoderLayer(c, m, heads) for _ in range(depth)])


class MemoryAttention(nn.Module):
    def __init__(self, c, dh):
        super().__init__()
        def chain():
            return nn.Sequential(nn.Linear(c, c, bias=False), nn.Linear(c, dh, bias=False), nn.Linear(dh, dh, bias=False))
        self.to_q, self.to_k, self.to_v = chain(), chain(), chain()
        self.to_out = nn.Sequential(nn.Linear(dh, c), nn.Dropout(0.0))


class HEDecoder(nn.Module):
    def __init__(self, c, dh):
        super().__init__()
        self.attn = MemoryAttention(c, dh)
        self.norm1, self.norm2 = nn.LayerNorm(c), nn.LayerNorm(c)
        self.linear1, self.linear2 = nn.Linear(c, dh), nn.Linear(dh, c)


class MAR(nn.Module):
    def __init__(self, c, dh, rows):
        super().__init__()
        self.memory_key = nn.Parameter(torch.zeros(1, rows, c))
        self.memory_value = nn.Parameter(torch.zeros(1, rows, c))
        self.HEdecoder = HEDecoder(c, dh)


class Model(nn.Module):
    def __init__(self, tensors, heads):
        super().__init__()
        k, c = tensors["classifier.weight"].shape[:2]
        for name in ("classifier", "classifier_baseline", "classifier_stf"):
            if name + ".weight" in tensors:
                setattr(self, name, nn.Conv2d(c, k, 1))
        if "STF.pe_enc" in tensors:
            depth = len({n.split(".")[3] for n in tensors if n.startswith("STF.encoder.layers.")})
            m = tensors["STF.encoder.layers.0.linear1.weight"].shape[0]
            hp, wp = tensors["STF.pe_enc"].shape[3:]
            self.STF = STF(c, m, heads, depth, hp, wp)
        if "MAR.memory_key" in tensors:
            dh = tensors["MAR.HEdecoder.attn.to_q.1.weight"].shape[0]
            self.MAR = MAR(c, dh, tensors["MAR.memory_key"].shape[1])


def icsa(module, q, k, v, pos_q, pos_k, hb, wb):
    """q, pos_q [C, Tq, H, W]; k, v, pos_k [C, Tk, H, W] (spec, ICSA)."""
    c, tq, h, w = q.shape
    nh, nw = h // hb, w // wb

    def long_seq(x):  # sequence over (t, by, bx), batch over (iy, ix)
        t = x.shape[1]
        return x.reshape(c, t, nh, hb, nw, wb).permute(1, 2, 4, 3, 5, 0).reshape(t * nh * nw, hb * wb, c)

    def short_seq(x):  # sequence over (t, iy, ix), batch over (by, bx)
        t = x.shape[1]
        return x.reshape(c, t, nh, hb, nw, wb).permute(1, 3, 5, 2, 4, 0).reshape(t * hb * wb, nh * nw, c)

    u = module.self_attn_long(long_seq(q + pos_q), long_seq(k + pos_k), long_seq(v), need_weights=False)[0]
    u = u.reshape(tq, nh, nw, hb, wb, c).permute(5, 0, 1, 3, 2, 4).reshape(c, tq, h, w)
    s = module.self_attn_short(short_seq(u + pos_q), short_seq(u + pos_q), short_seq(u), need_weights=False)[0]
    return s.reshape(tq, hb, wb, nh, nw, c).permute(5, 0, 3, 1, 4, 2).reshape(c, tq, h, w)


def tokens_op(layer, x):
    """Apply a token-wise module to [C, T, H, W]."""
    c, t, h, w = x.shape
    return layer(x.permute(1, 2, 3, 0)).permute(3, 0, 1, 2)


def stf(module, frames, hb, wb):
    c, h, w = frames[1].shape
    pe_enc = F.interpolate(module.pe_enc, size=(3, h, w), mode="trilinear", align_corners=False)[0]
    pe_dec = F.interpolate(module.pe_dec, size=(1, h, w), mode="trilinear", align_corners=False)[0]
    x = torch.stack(frames, dim=1)
    for layer in module.encoder.layers:
        x = tokens_op(layer.norm1, x + icsa(layer.self_attn, x, x, x, pe_enc, pe_enc, hb, wb))
        x = tokens_op(layer.norm2, x + tokens_op(lambda t: layer.linear2(F.relu(layer.linear1(t))), x))
    y = frames[1][:, None]
    for layer in module.decoder.layers:
        y = tokens_op(layer.norm1, y + icsa(layer.self_attn, y, y, y, pe_dec, pe_dec, hb, wb))
        y = tokens_op(layer.norm2, y + icsa(layer.multihead_attn, y, x, x, pe_dec, pe_enc, hb, wb))
        y = tokens_op(layer.norm3, y + tokens_op(lambda t: layer.linear2(F.relu(layer.linear1(t))), y))
    return y[:, 0]


def mar(module, g):
    c, h, w = g.shape
    x = g.reshape(c, h * w).T
    d = module.HEdecoder
    q, k, v = d.attn.to_q(x), d.attn.to_k(module.memory_key[0]), d.attn.to_v(module.memory_value[0])
    x = d.norm1(x + d.attn.to_out(torch.softmax(q @ k.T, dim=-1) @ v))
    x = d.norm2(x + d.linear2(F.relu(d.linear1(x))))
    return x.T.reshape(c, h, w)


def main():
    weights, prev, cur, nxt, out = sys.argv[1:6]
    with safe_open(weights, "pt") as f:
        tensors = {name: f.get_tensor(name).float() for name in f.keys()}
        metadata = f.metadata() or {}
    heads = int(metadata.get("heads", 2))
    hb, wb = (int(v) for v in metadata.get("block_size", "16,16").split(","))
    model = Model(tensors, heads).eval()
    model.load_state_dict({k: v.reshape(model.state_dict()[k].shape) if k in model.state_dict() else v for k, v in tensors.items()},
                          strict=True)
    frames = [torch.from_numpy(np.load(p)).float().reshape(-1, *np.load(p).shape[-2:]) for p in (prev, cur, nxt)]
    heads_of = {name: getattr(model, name, None) or model.classifier for name in ("classifier_baseline", "classifier_stf", "classifier")}
    results = {"logits_baseline": heads_of["classifier_baseline"](frames[1][None])[0]}
    features = frames[1]
    if hasattr(model, "STF"):
        features = stf(model.STF, frames, hb, wb)
        results["stf"], results["logits_stf"] = features, heads_of["classifier_stf"](features[None])[0]
    if hasattr(model, "MAR"):
        r = mar(model.MAR, features)
        results["mar"], results["logits_mar"] = r, heads_of["classifier"](r[None])[0]
    worst = 0.0
    for name, ours in results.items():
        theirs = torch.from_numpy(np.load("%s/%s.npy" % (out, name)))
        d = ((ours - theirs).abs() / theirs.abs().clamp(min=1)).max().item()
        print("%-16s max scaled difference %.2e" % (name, d))
        worst = max(worst, d)
    print("loaded %d tensors with load_state_dict(strict=True); worst %.2e (tolerance 1e-4)" % (len(tensors), worst))
    sys.exit(0 if worst < 1e-4 else 1)


if __name__ == "__main__":
    main()
