// swift-tools-version:6.0
// segscope: data flows one way, and so do the module dependencies:
//   files (SegFormats) -> labels and themes (SegLabels) -> dataset (SegDataset)
//   -> engine (SegEngine; SegTrain trains its heads) -> eval (SegEval)
//   -> runs over datasets (SegRuns: windows, infer, memory building, training)
//   -> view (SegView, the pure compositor; SegTerminal, the one owner of the
//   terminal) -> CLI (segscope). SegSynth makes data from files and labels only.
import PackageDescription

let package = Package(
    name: "segscope",
    products: [
        .executable(name: "segscope", targets: ["segscope"]),
        .library(name: "SegFormats", targets: ["SegFormats"]),
        .library(name: "SegLabels", targets: ["SegLabels"]),
        .library(name: "SegDataset", targets: ["SegDataset"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
    ],
    targets: [
        // System libraries from Debian (see `make setup`).
        .systemLibrary(
            name: "CLibPNG", path: "Sources/CLibPNG", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"])]),
        .systemLibrary(
            name: "CLibJPEG", path: "Sources/CLibJPEG", pkgConfig: "libjpeg",
            providers: [.apt(["libjpeg62-turbo-dev"])]),
        // No pkgConfig for ncursesw: its cflags only repeat the feature macros
        // that shim.h defines, and SwiftPM warns about them on every build.
        .systemLibrary(
            name: "CNCursesW", path: "Sources/CNCursesW",
            providers: [.apt(["libncursesw5-dev"])]),
        // The CPU features that choose BLAS kernels; the BLAS itself (OpenBLAS by
        // default, BLIS on request) is loaded at run time by SegEngine/BLAS.swift.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", providers: [.apt(["libopenblas-dev"])]),
        // The only code that calls libpng: it owns setjmp, so a libpng error is an
        // error code here and never a longjmp through Swift frames.
        .target(name: "CPNGShim", dependencies: ["CLibPNG"], path: "Sources/CPNGShim"),
        // The same for libjpeg(-turbo).
        .target(name: "CJPEGShim", dependencies: ["CLibJPEG"], path: "Sources/CJPEGShim"),

        // glibc's mallopt, which Swift's Glibc module does not export.
        .target(name: "CMallocTuning", path: "Sources/CMallocTuning"),

        .target(name: "SegFormats", dependencies: ["CPNGShim", "CJPEGShim"]),
        .target(name: "SegLabels", dependencies: ["SegFormats"]),
        .target(name: "SegDataset", dependencies: ["SegFormats", "SegLabels"]),
        // The backbone, STF and MAR on OpenBLAS (the only module that calls BLAS).
        .target(name: "SegEngine", dependencies: ["SegFormats", "SegLabels", "CBLAS"]),
        // Training of the classifier, STF and MAR heads (float64, manual backward).
        .target(name: "SegTrain", dependencies: ["SegFormats", "SegEngine"]),
        .target(name: "SegEval", dependencies: ["SegFormats", "SegLabels", "SegDataset"]),
        // Running the model over datasets: the library behind infer, memory build and train.
        .target(
            name: "SegRuns",
            dependencies: ["SegFormats", "SegLabels", "SegDataset", "SegEngine", "SegEval", "SegTrain"]),
        // The viewer: state -> pure compositor -> cells (SegView); the one type that
        // owns the terminal (SegTerminal).
        .target(
            name: "SegView",
            dependencies: ["SegFormats", "SegLabels", "SegDataset", "SegEval", "SegEngine", "SegRuns"]),
        .target(name: "SegTerminal", dependencies: ["SegView", "SegLabels", "SegFormats", "CNCursesW"]),
        // Synthetic street video with ground truth and backbone-like features.
        .target(
            name: "SegSynth", dependencies: ["SegFormats", "SegLabels"],
            exclude: ["CityscapesPrototypes.LICENSE"]),
        .executableTarget(
            name: "segscope",
            dependencies: [
                "SegFormats", "SegLabels", "SegDataset", "SegSynth", "SegEval", "SegView", "SegTerminal", "SegEngine",
                "SegTrain", "SegRuns", "CMallocTuning",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .target(name: "SegTestSupport", path: "Tests/SegTestSupport"),
        // `make bench`: figures against peers measured in the same run.
        .executableTarget(
            name: "segscope-bench",
            dependencies: [
                "SegFormats", "SegLabels", "SegDataset", "SegSynth", "SegEval", "SegView", "SegEngine", "SegRuns",
                "CMallocTuning",
            ]),

        .testTarget(
            name: "SegFormatsTests", dependencies: ["SegFormats", "SegTestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "SegLabelsTests", dependencies: ["SegLabels", "SegTestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(name: "SegDatasetTests", dependencies: ["SegDataset", "SegTestSupport"]),
        .testTarget(name: "SegSynthTests", dependencies: ["SegSynth", "SegTestSupport"]),
        .testTarget(name: "SegEvalTests", dependencies: ["SegEval", "SegTestSupport"]),
        .testTarget(
            name: "SegEngineTests", dependencies: ["SegEngine", "SegFormats", "SegTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "SegTrainTests", dependencies: ["SegTrain", "SegEngine", "SegFormats"]),
        .testTarget(
            name: "SegViewTests",
            dependencies: [
                "SegView", "SegDataset", "SegEval", "SegFormats", "SegLabels", "SegSynth", "SegEngine", "SegRuns",
                "SegTestSupport",
            ]),
        .testTarget(
            name: "SegRunsTests",
            dependencies: ["SegRuns", "SegEngine", "SegDataset", "SegFormats", "SegLabels", "SegTestSupport"]),
        // Runs the built `segscope` binary as a user would.
        .testTarget(name: "SegscopeCLITests", dependencies: ["SegTestSupport", "SegFormats"]),
    ],
    swiftLanguageModes: [.v6]
)
