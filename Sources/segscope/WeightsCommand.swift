import ArgumentParser
import SegEngine
import SegView

struct WeightsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weights",
        abstract:
            "Print what a weights file holds: backbone depth and widths, classes, STF and MAR shapes, memory, unused tensors.",
        discussion: """
            Reads safetensors and PyTorch checkpoints (.pth, zip or legacy layout): the release's full model \
            (pspnet.backbone.*, pspnet.decode_head.*, STF.*, MAR.*), its STF-stage checkpoint, mmsegmentation \
            checkpoints ({"meta", "state_dict"} with backbone.*, decode_head.*), and segscope's own. The file is \
            checked as forward would load it.
            """
    )

    @Argument(help: "Weights file (.safetensors or .pth).")
    var file: String
    @Option(help: "Memory folder with key.npy and value.npy, for weights with MAR but without MAR.memory_*.")
    var memory: String?

    func validate() throws {
        try OptionCheck.input("file", file)
        try OptionCheck.input("--memory", memory)
    }

    func run() throws {
        // Lines name the file's tensors and metadata: escaped, as every string segscope did not make.
        for line in try Model.load(path: file, memory: memory).summary { print(oneLine(line)) }
    }
}
