extension Model {
    /// What a weights file holds, as `segscope weights` prints it.
    public var summary: [String] {
        var lines = ["\(path): \(format), \(classes) classes, \(channels)-channel features"]
        if let backbone {
            let widths = backbone.stages.map { $0.last!.convolutions.last!.outputs }
            lines.append(
                "backbone: PSPNet, ResNetV1c-\(backbone.depth) (\(backbone.stages.map { String($0.count) }.joined(separator: "+")) "
                    + "\(backbone.stages[0][0].convolutions.count == 3 ? "Bottleneck" : "BasicBlock") blocks), stem \(backbone.stem.last!.outputs), "
                    + "stage widths \(widths.map(String.init).joined(separator: "/")), PSP head \(backbone.pyramid[0].outputs) x 4 pools -> \(backbone.channels)"
            )
        } else {
            lines.append("backbone: none (give frames' features with --features)")
        }
        if let stf {
            lines.append(
                "STF: \(stf.encoder.count) encoder + \(stf.decoder.count) decoder layers, \(stf.heads) heads, blocks \(stf.blockHeight)x\(stf.blockWidth), "
                    + "positional encodings \(stf.positionHeight)x\(stf.positionWidth), FFN \(stf.encoder[0].feedForward.first.outputs)"
            )
        } else {
            lines.append("STF: none")
        }
        if let mar {
            let perClass = mar.memoryRows / max(1, classes)
            lines.append("MAR: memory \(mar.memoryRows) rows (\(classes) classes x \(perClass)), width \(mar.width)")
        } else {
            lines.append("MAR: none")
        }
        lines.append("stages: " + stages.map(\.rawValue).joined(separator: ", "))
        if !unusedTensors.isEmpty {
            // Grouped by their first two name parts, e.g. auxiliary_head.conv_seg.
            var groups: [(String, Int)] = []
            for name in unusedTensors {
                let group = name.split(separator: ".").prefix(2).joined(separator: ".")
                if let i = groups.firstIndex(where: { $0.0 == group }) {
                    groups[i].1 += 1
                } else {
                    groups.append((group, 1))
                }
            }
            lines.append(
                "unused: \(unusedTensors.count) tensor(s): "
                    + groups.map { "\($0.0).* (\($0.1))" }.joined(separator: ", "))
        }
        return lines
    }
}
