import Foundation
import Testing

@testable import SegEngine

/// The engine's BLAS: OpenBLAS by default with kernels chosen for the CPU
/// before it initialises, BLIS on request, and both agreeing. Serialized:
/// loads set and restore process-wide environment variables.
@Suite(.serialized) struct BLASTests {
    /// The core types OpenBLAS 0.3.21 itself picks on the CPUs it knows, and
    /// the ones it would miss (it fell back to Prescott on an AVX-512 Xeon).
    @Test func coreTypeFollowsTheVectorFeatures() {
        #expect(CPUFeatures(vendor: .amd, avx2: true, avx512: false).openBLASCoreType == "Zen")
        #expect(CPUFeatures(vendor: .intel, avx2: true, avx512: false).openBLASCoreType == "Haswell")
        #expect(CPUFeatures(vendor: .intel, avx2: true, avx512: true).openBLASCoreType == "SkylakeX")
        #expect(CPUFeatures(vendor: .amd, avx2: true, avx512: true).openBLASCoreType == "SkylakeX")
        #expect(CPUFeatures(vendor: .intel, avx2: false, avx512: false).openBLASCoreType == nil)
        #expect(CPUFeatures(vendor: .intel, avx2: true, avx512: true).blisArchType == "skx")
        #expect(CPUFeatures(vendor: .amd, avx2: true, avx512: false).blisArchType == nil)
    }

    /// Unless SEGSCOPE_BLAS chooses otherwise, the engine runs OpenBLAS with
    /// vector kernels wherever the CPU has AVX2 (never a generic fallback).
    @Test func defaultIsOpenBLASWithTheCPUsKernels() throws {
        let environment = ProcessInfo.processInfo.environment
        guard environment[BLASChoice.variable] == nil else { return }
        let library = try BLAS.loaded.get()
        #expect(library.path.contains("openblas"), "\(library.path)")
        #expect(blasKernels.hasPrefix("OpenBLAS, "))
        if CPUFeatures.host.avx2 && environment["OPENBLAS_CORETYPE"] == nil {
            #expect(blasKernels == "OpenBLAS, \(CPUFeatures.host.openBLASCoreType!) kernels", "\(blasKernels)")
        }
        // Set only while OpenBLAS initialised: children see the user's environment.
        if environment["OPENBLAS_CORETYPE"] == nil { #expect(getenv("OPENBLAS_CORETYPE") == nil) }
    }

    @Test func unknownChoiceIsAnError() {
        #expect(throws: BLASError.unknownChoice("mkl")) { _ = try BLAS.load(environment: [BLASChoice.variable: "mkl"]) }
        #expect(throws: BLASError.self) {
            _ = try BLAS.load(environment: [BLASChoice.variable: "/nonexistent/libblas.so"])
        }
    }

    /// BLIS, as SEGSCOPE_BLAS=blis loads it, gives the same products as the
    /// default OpenBLAS (max abs 1e-4 on sums of 300 products of values in [-1, 1]).
    @Test func blisAgreesWithOpenBLAS() throws {
        let blis = try BLAS.load(environment: [BLASChoice.variable: "blis"])
        #expect(blis.description.hasPrefix("BLIS, "))
        let openBLAS = try BLAS.load(environment: [BLASChoice.variable: "openblas"])
        let (m, n, k) = (37, 29, 300)
        let a = KernelTwinTests.values(m * k, seed: 41)
        let b = KernelTwinTests.values(n * k, seed: 42)
        func product(_ library: BLAS.Library) -> [Float] {
            var c = [Float](repeating: 0, count: m * n)
            library.sgemm(101, 111, 112, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(k), 0, &c, Int32(n))
            return c
        }
        let reference = Reference.linear(a, b, nil, tokens: m, inputs: k, outputs: n)
        #expect(KernelTwinTests.maxDifference(product(blis), reference) < 1e-4)
        #expect(KernelTwinTests.maxDifference(product(openBLAS), reference) < 1e-4)
    }
}
