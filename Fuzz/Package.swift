// swift-tools-version:6.0
// libFuzzer targets for every parser segscope points at files from strangers.
// Built apart from the main package (`make fuzz`, scripts/fuzz.sh) with
// -sanitize=fuzzer,address; each harness's main hands over to libFuzzer's driver.
import PackageDescription

let harnesses = ["png", "jpeg", "npy", "safetensors", "pth", "json", "toml", "theme", "manifest", "labels"]

let package = Package(
    name: "segscope-fuzz",
    dependencies: [.package(name: "segscope", path: "..")],
    targets: [.target(name: "FuzzDriver")]
        + harnesses.map { name in
            .executableTarget(
                name: "fuzz-\(name)",
                dependencies: [
                    "FuzzDriver", .product(name: "SegFormats", package: "segscope"),
                    .product(name: "SegLabels", package: "segscope"),
                    .product(name: "SegDataset", package: "segscope"),
                ], path: "Sources/\(name)")
        },
    swiftLanguageModes: [.v6]
)
