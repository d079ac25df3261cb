"""Exports the release's STF and MAR, as PyTorch modules named as the
release's (check_pytorch.py), to ONNX for onnxruntime, the peer `make bench`
measures beside PyTorch.

    export_onnx.py W.safetensors C H W OUT_DIR

Writes OUT_DIR/stf.onnx (inputs prev, cur, next [C, H, W] -> [C, H, W]) and
OUT_DIR/mar.onnx (features [C, H, W] -> [C, H, W]). The positional encodings
are interpolated to H x W here, before export, and stored as constants: the
graph holds what runs per frame.
"""
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors import safe_open

import check_pytorch as release

torch.set_grad_enabled(False)


class STFRun(nn.Module):
    def __init__(self, module, hb, wb, h, w):
        super().__init__()
        self.module, self.hb, self.wb = module, hb, wb
        self.register_buffer("pe_enc", F.interpolate(module.pe_enc, size=(3, h, w), mode="trilinear", align_corners=False)[0])
        self.register_buffer("pe_dec", F.interpolate(module.pe_dec, size=(1, h, w), mode="trilinear", align_corners=False)[0])

    def forward(self, prev, cur, nxt):
        m, hb, wb = self.module, self.hb, self.wb
        x = torch.stack([prev, cur, nxt], dim=1)
        for layer in m.encoder.layers:
            x = release.tokens_op(layer.norm1, x + release.icsa(layer.self_attn, x, x, x, self.pe_enc, self.pe_enc, hb, wb))
            x = release.tokens_op(layer.norm2, x + release.tokens_op(lambda t: layer.linear2(F.relu(layer.linear1(t))), x))
        y = cur[:, None]
        for layer in m.decoder.layers:
            y = release.tokens_op(layer.norm1, y + release.icsa(layer.self_attn, y, y, y, self.pe_dec, self.pe_dec, hb, wb))
            y = release.tokens_op(layer.norm2, y + release.icsa(layer.multihead_attn, y, x, x, self.pe_dec, self.pe_enc, hb, wb))
            y = release.tokens_op(layer.norm3, y + release.tokens_op(lambda t: layer.linear2(F.relu(layer.linear1(t))), y))
        return y[:, 0]


class MARRun(nn.Module):
    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, g):
        return release.mar(self.module, g)


def load(weights):
    with safe_open(weights, "pt") as f:
        tensors = {name: f.get_tensor(name).float() for name in f.keys()}
        metadata = f.metadata() or {}
    heads = int(metadata.get("heads", 2))
    hb, wb = (int(v) for v in metadata.get("block_size", "16,16").split(","))
    model = release.Model(tensors, heads).eval()
    # The backbone (pspnet.*) is not part of STF and MAR; every other tensor must load.
    heads_only = {k: v for k, v in tensors.items() if not k.startswith("pspnet.")}
    model.load_state_dict({k: v.reshape(model.state_dict()[k].shape) if k in model.state_dict() else v for k, v in heads_only.items()},
                          strict=True)
    return model, hb, wb


def main():
    weights, c, h, w, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    model, hb, wb = load(weights)
    x = torch.zeros(c, h, w)
    torch.onnx.export(STFRun(model.STF, hb, wb, h, w).eval(), (x, x, x), out + "/stf.onnx", input_names=["prev", "cur", "next"],
                      output_names=["stf"], opset_version=17, dynamo=False)
    torch.onnx.export(MARRun(model.MAR).eval(), (x,), out + "/mar.onnx", input_names=["features"], output_names=["mar"],
                      opset_version=17, dynamo=False)


if __name__ == "__main__":
    main()
