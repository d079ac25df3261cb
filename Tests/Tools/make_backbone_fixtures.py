"""Golden fixtures for segscope's PSPNet backbone (Tests/SegEngineTests/Fixtures/pspnet_*).

PyTorch modules built as the release's mmsegmentation builds PSPNet (ResNetV1c
deep stem, D8 dilations with contract_dilation, pytorch-style Bottleneck /
BasicBlock, PSPHead with PPM 1/2/3/6, align_corners=False), with mmseg's
state-dict key names, reduced widths, random weights and random BatchNorm
statistics, run in eval mode. Writes per depth: weights.safetensors (every
tensor of the state dict, auxiliary head and num_batches_tracked included)
and, per input size, image_HxW.npy (uint8 RGB [H, W, 3]), features_HxW.npy
(the decode head's bottleneck output, [C, H/8, W/8]) and logits_HxW.npy
(conv_seg, [K, H/8, W/8]).

    python Tests/Tools/make_backbone_fixtures.py OUT_DIR     (needs torch, numpy, safetensors)
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.numpy import save_file


def conv_bn(cin, cout, k, stride=1, padding=0, dilation=1):
    return nn.Conv2d(cin, cout, k, stride, padding, dilation, bias=False), nn.BatchNorm2d(cout)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride, dilation, downsample):
        super().__init__()
        self.conv1, self.bn1 = conv_bn(inplanes, planes, 3, stride, dilation, dilation)
        self.conv2, self.bn2 = conv_bn(planes, planes, 3, 1, 1)
        self.downsample = downsample

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride, dilation, downsample):
        super().__init__()
        self.conv1, self.bn1 = conv_bn(inplanes, planes, 1)
        self.conv2, self.bn2 = conv_bn(planes, planes, 3, stride, dilation, dilation)
        self.conv3, self.bn3 = conv_bn(planes, planes * 4, 1)
        self.downsample = downsample

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNetV1c(nn.Module):
    def __init__(self, depth, stem_channels, base_channels):
        super().__init__()
        block, counts = {18: (BasicBlock, (2, 2, 2, 2)), 50: (Bottleneck, (3, 4, 6, 3)), 101: (Bottleneck, (3, 4, 23, 3))}[depth]
        s = stem_channels
        self.stem = nn.Sequential(*conv_bn(3, s // 2, 3, 2, 1), nn.ReLU(), *conv_bn(s // 2, s // 2, 3, 1, 1), nn.ReLU(),
                                  *conv_bn(s // 2, s, 3, 1, 1), nn.ReLU())
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inplanes = s
        for i, (count, stride, dilation) in enumerate(zip(counts, (1, 2, 1, 1), (1, 1, 2, 4))):
            planes = base_channels * 2 ** i
            downsample = None
            if stride != 1 or inplanes != planes * block.expansion:
                downsample = nn.Sequential(*conv_bn(inplanes, planes * block.expansion, 1, stride))
            first = dilation // 2 if dilation > 1 else dilation  # contract_dilation
            blocks = [block(inplanes, planes, stride, first, downsample)]
            inplanes = planes * block.expansion
            blocks += [block(inplanes, planes, 1, dilation, None) for _ in range(1, count)]
            setattr(self, "layer%d" % (i + 1), nn.Sequential(*blocks))
        self.out_channels = inplanes

    def forward(self, x):
        x = self.maxpool(self.stem(x))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


class ConvModule(nn.Module):
    def __init__(self, cin, cout, k, padding=0):
        super().__init__()
        self.conv, self.bn = conv_bn(cin, cout, k, 1, padding)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class PSPHead(nn.Module):
    def __init__(self, in_channels, channels, classes):
        super().__init__()
        self.psp_modules = nn.ModuleList([nn.Sequential(nn.AdaptiveAvgPool2d(s), ConvModule(in_channels, channels, 1)) for s in (1, 2, 3, 6)])
        self.bottleneck = ConvModule(in_channels + 4 * channels, channels, 3, 1)
        self.conv_seg = nn.Conv2d(channels, classes, 1)

    def forward(self, x):
        outs = [x] + [F.interpolate(m(x), size=x.shape[2:], mode="bilinear", align_corners=False) for m in self.psp_modules]
        feat = self.bottleneck(torch.cat(outs, 1))
        return feat, self.conv_seg(feat)


class AuxiliaryHead(nn.Module):
    """Present in every mmseg checkpoint; training-only, segscope ignores it."""

    def __init__(self, cin, classes):
        super().__init__()
        self.convs = nn.Sequential(ConvModule(cin, 4, 3, 1))
        self.conv_seg = nn.Conv2d(4, classes, 1)


class PSPNet(nn.Module):
    def __init__(self, depth, stem_channels, base_channels, channels, classes):
        super().__init__()
        self.backbone = ResNetV1c(depth, stem_channels, base_channels)
        self.decode_head = PSPHead(self.backbone.out_channels, channels, classes)
        self.auxiliary_head = AuxiliaryHead(self.backbone.out_channels // 2, classes)

    def forward(self, image):
        return self.decode_head(self.backbone(image))


def randomise(model, generator):
    with torch.no_grad():
        for name, p in model.named_parameters():
            fan_in = p[0].numel() if p.dim() > 1 else 1
            p.copy_(torch.randn(p.shape, generator=generator) / fan_in ** 0.5 if p.dim() > 1 else torch.randn(p.shape, generator=generator) * 0.2)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(1 + 0.3 * torch.randn(m.weight.shape, generator=generator))
                m.running_mean.copy_(0.3 * torch.randn(m.running_mean.shape, generator=generator))
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=generator))
                m.num_batches_tracked.fill_(7)


MEAN = np.array([123.675, 116.28, 103.53], dtype=np.float32)
STD = np.array([58.395, 57.12, 57.375], dtype=np.float32)

# depth: (stem, base width, head channels)
CONFIGS = {18: (8, 4, 8), 50: (8, 4, 16)}
# 64x96 gives 8x12 features (6 does not divide 8: overlapping bins), 40x56 gives 5x7.
SIZES = [(64, 96), (40, 56)]
CLASSES = 5


def main(out):
    for depth, (stem, base, channels) in CONFIGS.items():
        folder = os.path.join(out, "pspnet_r%d" % depth)
        os.makedirs(folder, exist_ok=True)
        generator = torch.Generator().manual_seed(depth)
        model = PSPNet(depth, stem, base, channels, CLASSES)
        randomise(model, generator)
        model.eval()
        state = {k: v.numpy() for k, v in model.state_dict().items()}
        save_file(state, os.path.join(folder, "weights.safetensors"))
        rng = np.random.default_rng(depth)
        for h, w in SIZES:
            image = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
            x = torch.from_numpy(((image.astype(np.float32) - MEAN) / STD).transpose(2, 0, 1)[None].copy())
            with torch.no_grad():
                feat, logits = model(x)
            np.save(os.path.join(folder, "image_%dx%d.npy" % (h, w)), image)
            np.save(os.path.join(folder, "features_%dx%d.npy" % (h, w)), feat[0].numpy())
            np.save(os.path.join(folder, "logits_%dx%d.npy" % (h, w)), logits[0].numpy())


if __name__ == "__main__":
    main(sys.argv[1])
