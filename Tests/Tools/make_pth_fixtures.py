"""PyTorch checkpoint fixtures for segscope's .pth reader (Tests/SegFormatsTests/Fixtures/pth/).

Written by torch.save itself, in both layouts (zip and legacy), each beside a
safetensors twin holding the same values contiguously:
- tensors.{zip,legacy}.pth: float32, float16, bfloat16 (stored as float32 in
  the twin), float64, int64, a non-contiguous view (a transpose), a tensor at a
  storage offset (a slice), an nn.Parameter, in an OrderedDict;
- mmseg.{zip,legacy}.pth: {"meta": {...}, "state_dict": ...} as mmsegmentation saves;
- cyclic.legacy.pth: the legacy layout around a list that holds itself (a
  pickle can build cycles; found by the fuzzer as a leak, and a recursive
  walk over it would never end);
- hostile.pth: torch.save of a state dict whose entries reduce to os.system
  and builtins.eval with a command (a loader that executed them would create
  the file named in the command), beside one real tensor.
And for the backbone: pspnet_r18 of Tests/SegEngineTests/Fixtures saved as an
mmseg checkpoint (zip) and with the release's "pspnet." prefix (legacy).

    python Tests/Tools/make_pth_fixtures.py REPO_ROOT     (needs torch, numpy, safetensors)
"""
import collections
import os
import pickle
import sys

import numpy as np
import torch
from safetensors.numpy import load_file, save_file


def main(root):
    out = os.path.join(root, "Tests/SegFormatsTests/Fixtures/pth")
    os.makedirs(out, exist_ok=True)
    g = torch.Generator().manual_seed(3)
    base = torch.randn(4, 6, generator=g)
    state = collections.OrderedDict()
    state["f32"] = torch.randn(2, 3, 4, generator=g)
    state["f16"] = torch.randn(5, 3, generator=g).half()
    state["bf16"] = torch.randn(3, 7, generator=g).bfloat16()
    state["f64"] = torch.randn(3, generator=g).double()
    state["i64"] = torch.tensor([7, -3, 1 << 40])
    state["transposed"] = base.t()                 # strides (1, 6)
    state["sliced"] = base[1:3, 2:5]               # offset 8, strides (6, 1)
    state["param"] = torch.nn.Parameter(torch.randn(2, 2, generator=g))
    state["scalar"] = torch.tensor(2.5)
    twin = {k: (v.detach().float() if v.dtype == torch.bfloat16 else v.detach()).contiguous().numpy() for k, v in state.items()}
    save_file(twin, os.path.join(out, "tensors.safetensors"))
    torch.save(state, os.path.join(out, "tensors.zip.pth"))
    torch.save(state, os.path.join(out, "tensors.legacy.pth"), _use_new_zipfile_serialization=False)

    mmseg = {"meta": {"mmseg_version": "0.11.0", "CLASSES": ("road", "sidewalk")}, "state_dict": collections.OrderedDict(
        (k, state[k]) for k in ("f32", "i64", "transposed"))}
    torch.save(mmseg, os.path.join(out, "mmseg.zip.pth"))
    torch.save(mmseg, os.path.join(out, "mmseg.legacy.pth"), _use_new_zipfile_serialization=False)

    class Hostile:
        def __reduce__(self):
            return (os.system, ("touch segscope-pwned",))

    class Evaluated:
        def __reduce__(self):
            return (eval, ("__import__('os').system('touch segscope-pwned-eval')",))

    torch.save(collections.OrderedDict([("f32", Hostile()), ("g", Evaluated()), ("ok", state["f32"])]), os.path.join(out, "hostile.pth"))

    cycle = []
    cycle.append(cycle)
    with open(os.path.join(out, "cyclic.legacy.pth"), "wb") as f:
        for obj in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}, cycle, []):
            pickle.dump(obj, f, protocol=2)

    backbone = load_file(os.path.join(root, "Tests/SegEngineTests/Fixtures/pspnet_r18/weights.safetensors"))
    tensors = collections.OrderedDict((k, torch.from_numpy(v)) for k, v in backbone.items())
    torch.save({"meta": {}, "state_dict": tensors}, os.path.join(out, "pspnet_r18.mmseg.pth"))
    release = collections.OrderedDict(("pspnet." + k, v) for k, v in tensors.items())
    torch.save(release, os.path.join(out, "pspnet_r18.release.legacy.pth"), _use_new_zipfile_serialization=False)


if __name__ == "__main__":
    main(sys.argv[1])
