import SegFormats

/// One residual block of a dilated ResNetV1c (BatchNorm folded into every
/// convolution): Bottleneck (1x1, 3x3 with the stride and dilation, 1x1) or
/// BasicBlock (3x3 with the stride and dilation, 3x3), plus the identity or
/// a 1x1 downsample, then ReLU.
public struct ResidualBlock: Sendable {
    public let convolutions: [Convolution]
    public let downsample: Convolution?

    /// x [H*W, Cin] -> [H'*W', Cout].
    func apply(_ x: [Float], height h: Int, width w: Int) -> (values: [Float], height: Int, width: Int) {
        var (y, yh, yw) = (x, h, w)
        for (i, convolution) in convolutions.enumerated() {
            let last = i == convolutions.count - 1
            let size = convolution.outputSize(height: yh, width: yw)
            let shortcut = last ? (downsample?.apply(x, height: h, width: w, relu: false) ?? x) : nil
            y = convolution.apply(y, height: yh, width: yw, relu: true, residual: shortcut)
            (yh, yw) = size
        }
        return (y, yh, yw)
    }
}

/// PSPNet as the release's mmsegmentation computes it (spec backbone.md):
/// ResNetV1c with a deep stem and output stride 8 (strides 1,2,1,1,
/// dilations 1,1,2,4, contract_dilation), then PSPHead's pyramid pooling
/// (1, 2, 3, 6) and 3x3 bottleneck, whose output is the feature f[T].
public struct PSPNetBackbone: Sendable {
    public let stem: [Convolution]
    public let stages: [[ResidualBlock]]
    public static let poolScales = [1, 2, 3, 6]
    public let pyramid: [Convolution]
    public let bottleneck: Convolution
    /// 18, 50 or 101, from the blocks present.
    public let depth: Int

    /// Channels of f[T].
    public var channels: Int { bottleneck.outputs }

    /// ImageNet statistics in RGB order (mmseg's img_norm_cfg).
    public static let mean: [Float] = [123.675, 116.28, 103.53], std: [Float] = [58.395, 57.12, 57.375]

    /// RGB pixels [H*W*3] (interleaved, row-major) -> normalised [H*W, 3].
    public static func normalised(rgb: [UInt8], height h: Int, width w: Int) -> [Float] {
        var out = [Float](repeating: 0, count: 3 * h * w)
        for i in 0..<(h * w) { for c in 0..<3 { out[i * 3 + c] = (Float(rgb[i * 3 + c]) - mean[c]) / std[c] } }
        return out
    }

    /// Backbone features of one frame: RGB [H*W*3] with H and W multiples of
    /// 8 -> f[T] channel-first [C, H/8 * W/8], as the engine reads features.
    /// Inside, maps are position-major [H*W, C].
    public func features(rgb: [UInt8], height h: Int, width w: Int) -> [Float] {
        var (x, xh, xw) = (Self.normalised(rgb: rgb, height: h, width: w), h, w)
        for convolution in stem {
            let size = convolution.outputSize(height: xh, width: xw)
            x = convolution.apply(x, height: xh, width: xw, relu: true)
            (xh, xw) = size
        }
        (x, xh, xw) = maxPool(x, channels: stem.last!.outputs, height: xh, width: xw, kernel: 3, stride: 2, padding: 1)
        for stage in stages { for block in stage { (x, xh, xw) = block.apply(x, height: xh, width: xw) } }
        return channelsFromTokens(head(x, height: xh, width: xw), channels: channels, positions: xh * xw)
    }

    /// PSPHead up to its bottleneck: [x, ppm_1, ppm_2, ppm_3, ppm_6] -> 3x3
    /// conv, the concatenation never built (the convolution gathers from the parts).
    func head(_ x: [Float], height h: Int, width w: Int) -> [Float] {
        let c = pyramid[0].inputs
        var parts = [x]
        for (scale, convolution) in zip(Self.poolScales, pyramid) {
            let pooled = adaptiveAveragePool(x, channels: c, height: h, width: w, size: scale)
            let reduced = convolution.apply(pooled, height: scale, width: scale, relu: true)
            parts.append(
                resizeTokens(
                    reduced, frames: 1, height: scale, width: scale, toHeight: h, width: w,
                    channels: convolution.outputs))
        }
        return bottleneck.apply(parts, height: h, width: w, relu: true)
    }
}

extension TensorReader {
    /// Where a checkpoint keeps PSPNet: "pspnet." (the release), "" (mmseg), or nil.
    func pspnetPrefix() -> String? {
        ["pspnet.", ""].first { has($0 + "backbone.stem.0.weight") }
    }

    /// Convolution `conv` [Cout, Cin, k, k] (no bias) with BatchNorm `bn` folded in.
    mutating func convolutionBatchNorm(_ conv: String, _ bn: String, stride: Int = 1, dilation: Int = 1) throws
        -> Convolution
    {
        let w = try tensor(conv + ".weight", [-1, -1, -1, -1])
        let (co, ci, k) = (w.shape[0], w.shape[1], w.shape[2])
        guard w.shape[3] == k else {
            throw ModelError.shape(path: path, name: conv + ".weight", expected: "[Cout, Cin, k, k]", found: w.shape)
        }
        let gamma = try tensor(bn + ".weight", [co]).values
        let beta = try tensor(bn + ".bias", [co]).values
        let mean = try tensor(bn + ".running_mean", [co]).values
        let variance = try tensor(bn + ".running_var", [co]).values
        markUsed(bn + ".num_batches_tracked")
        guard !w.values.isEmpty, !gamma.isEmpty, !beta.isEmpty, !mean.isEmpty, !variance.isEmpty else {
            return Convolution(
                torchWeight: [Float](repeating: 0, count: co * ci * k * k), bias: [Float](repeating: 0, count: co),
                inputs: ci, outputs: co, kernel: k)
        }
        return Convolution.foldingBatchNorm(
            weight: w.values, inputs: ci, outputs: co, kernel: k, stride: stride, padding: dilation * (k / 2),
            dilation: dilation, gamma: gamma, beta: beta, mean: mean, variance: variance)
    }

    /// The whole backbone under `prefix` ("pspnet." or ""); widths and depth from the tensors.
    mutating func pspnet(prefix: String) throws -> PSPNetBackbone {
        let b = prefix + "backbone."
        let stem = try [(0, 1, 2), (3, 4, 1), (6, 7, 1)].map { conv, bn, stride in
            try convolutionBatchNorm("\(b)stem.\(conv)", "\(b)stem.\(bn)", stride: stride)
        }
        let bottleneckBlocks = has("\(b)layer1.0.conv3.weight")
        var stages: [[ResidualBlock]] = []
        for (index, (stride, dilation)) in [(1, 1), (2, 1), (1, 2), (1, 4)].enumerated() {
            let layer = "\(b)layer\(index + 1)"
            var count = 0
            while has("\(layer).\(count).conv1.weight") { count += 1 }
            guard count > 0 else { throw ModelError.missing(path: path, names: ["\(layer).0.conv1.weight"]) }
            stages.append(
                try (0..<count).map { i in
                    let block = "\(layer).\(i)"
                    // contract_dilation: the first block of a dilated stage uses half the dilation.
                    let d = i == 0 && dilation > 1 ? dilation / 2 : dilation
                    let s = i == 0 ? stride : 1
                    let convolutions =
                        bottleneckBlocks
                        ? [
                            try convolutionBatchNorm("\(block).conv1", "\(block).bn1"),
                            try convolutionBatchNorm("\(block).conv2", "\(block).bn2", stride: s, dilation: d),
                            try convolutionBatchNorm("\(block).conv3", "\(block).bn3"),
                        ]
                        // mmseg's BasicBlock: only conv1 is dilated; conv2 is a plain 3x3 with padding 1.
                        : [
                            try convolutionBatchNorm("\(block).conv1", "\(block).bn1", stride: s, dilation: d),
                            try convolutionBatchNorm("\(block).conv2", "\(block).bn2"),
                        ]
                    let downsample =
                        has("\(block).downsample.0.weight")
                        ? try convolutionBatchNorm("\(block).downsample.0", "\(block).downsample.1", stride: s) : nil
                    return ResidualBlock(convolutions: convolutions, downsample: downsample)
                })
        }
        let counts = stages.map(\.count)
        let depth = (bottleneckBlocks ? 3 : 2) * counts.reduce(0, +) + 2
        let h = prefix + "decode_head."
        let pyramid = try PSPNetBackbone.poolScales.indices.map {
            try convolutionBatchNorm("\(h)psp_modules.\($0).1.conv", "\(h)psp_modules.\($0).1.bn")
        }
        let bottleneck = try convolutionBatchNorm("\(h)bottleneck.conv", "\(h)bottleneck.bn")
        let backbone = PSPNetBackbone(
            stem: stem, stages: stages, pyramid: pyramid, bottleneck: bottleneck, depth: depth)
        try backbone.checkWidths(path: path)
        return backbone
    }
}

extension PSPNetBackbone {
    /// Every convolution's input width is the previous output's, so a
    /// checkpoint with mismatched tensors fails at load, not mid-frame.
    func checkWidths(path: String) throws {
        func check(_ convolution: Convolution, _ inputs: Int, _ name: String) throws {
            guard convolution.inputs == inputs else {
                throw ModelError.disagree(
                    path: path, detail: "\(name) takes \(convolution.inputs) channels, but receives \(inputs)")
            }
        }
        var width = 3
        for (i, convolution) in stem.enumerated() {
            try check(convolution, width, "stem conv \(i)")
            width = convolution.outputs
        }
        for (s, stage) in stages.enumerated() {
            for (i, block) in stage.enumerated() {
                let blockInput = width
                for convolution in block.convolutions {
                    try check(convolution, width, "layer\(s + 1).\(i)")
                    width = convolution.outputs
                }
                if block.downsample == nil && blockInput != width {
                    throw ModelError.disagree(
                        path: path,
                        detail: "layer\(s + 1).\(i) changes width \(blockInput) -> \(width) without a downsample")
                }
                if let downsample = block.downsample {
                    try check(downsample, blockInput, "layer\(s + 1).\(i).downsample")
                }
            }
        }
        for (i, convolution) in pyramid.enumerated() { try check(convolution, width, "psp_modules.\(i)") }
        try check(bottleneck, width + pyramid.reduce(0) { $0 + $1.outputs }, "bottleneck")
    }
}

extension PSPNetBackbone {
    /// Floating-point operations (2 per multiply-add) of the convolutions for
    /// one H x W frame: what GFLOP/s figures divide by.
    public func flops(height h: Int, width w: Int) -> Double {
        var total = 0.0
        func count(_ convolution: Convolution, _ size: (Int, Int)) -> (Int, Int) {
            let out = convolution.outputSize(height: size.0, width: size.1)
            total +=
                2 * Double(out.height * out.width)
                * Double(convolution.outputs * convolution.inputs * convolution.kernel * convolution.kernel)
            return out
        }
        var size = (h, w)
        for convolution in stem { size = count(convolution, size) }
        size = ((size.0 - 1) / 2 + 1, (size.1 - 1) / 2 + 1)
        for stage in stages {
            for block in stage {
                let input = size
                for convolution in block.convolutions { size = count(convolution, size) }
                if let downsample = block.downsample { _ = count(downsample, input) }
            }
        }
        for (scale, convolution) in zip(Self.poolScales, pyramid) { _ = count(convolution, (scale, scale)) }
        _ = count(bottleneck, size)
        return total
    }
}
