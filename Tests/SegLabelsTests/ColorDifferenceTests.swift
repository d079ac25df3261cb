import Foundation
import SegFormats
import SegLabels
import SegTestSupport
import Testing

@Suite struct ColorDifferenceTests {
    /// Table 1 of Sharma, Wu & Dalal, "The CIEDE2000 color-difference formula:
    /// implementation notes, supplementary test data, and mathematical
    /// observations", Color Res. Appl. 30(1), 2005: L1 a1 b1, L2 a2 b2, ΔE00.
    static let sharmaTable: [(first: [Double], second: [Double], expected: Double)] = [
        ([50.0000, 2.6772, -79.7751], [50.0000, 0.0000, -82.7485], 2.0425),
        ([50.0000, 3.1571, -77.2803], [50.0000, 0.0000, -82.7485], 2.8615),
        ([50.0000, 2.8361, -74.0200], [50.0000, 0.0000, -82.7485], 3.4412),
        ([50.0000, -1.3802, -84.2814], [50.0000, 0.0000, -82.7485], 1.0000),
        ([50.0000, -1.1848, -84.8006], [50.0000, 0.0000, -82.7485], 1.0000),
        ([50.0000, -0.9009, -85.5211], [50.0000, 0.0000, -82.7485], 1.0000),
        ([50.0000, 0.0000, 0.0000], [50.0000, -1.0000, 2.0000], 2.3669),
        ([50.0000, -1.0000, 2.0000], [50.0000, 0.0000, 0.0000], 2.3669),
        ([50.0000, 2.4900, -0.0010], [50.0000, -2.4900, 0.0009], 7.1792),
        ([50.0000, 2.4900, -0.0010], [50.0000, -2.4900, 0.0010], 7.1792),
        ([50.0000, 2.4900, -0.0010], [50.0000, -2.4900, 0.0011], 7.2195),
        ([50.0000, 2.4900, -0.0010], [50.0000, -2.4900, 0.0012], 7.2195),
        ([50.0000, -0.0010, 2.4900], [50.0000, 0.0009, -2.4900], 4.8045),
        ([50.0000, -0.0010, 2.4900], [50.0000, 0.0010, -2.4900], 4.8045),
        ([50.0000, -0.0010, 2.4900], [50.0000, 0.0011, -2.4900], 4.7461),
        ([50.0000, 2.5000, 0.0000], [50.0000, 0.0000, -2.5000], 4.3065),
        ([50.0000, 2.5000, 0.0000], [73.0000, 25.0000, -18.0000], 27.1492),
        ([50.0000, 2.5000, 0.0000], [61.0000, -5.0000, 29.0000], 22.8977),
        ([50.0000, 2.5000, 0.0000], [56.0000, -27.0000, -3.0000], 31.9030),
        ([50.0000, 2.5000, 0.0000], [58.0000, 24.0000, 15.0000], 19.4535),
        ([50.0000, 2.5000, 0.0000], [50.0000, 3.1736, 0.5854], 1.0000),
        ([50.0000, 2.5000, 0.0000], [50.0000, 3.2972, 0.0000], 1.0000),
        ([50.0000, 2.5000, 0.0000], [50.0000, 1.8634, 0.5757], 1.0000),
        ([50.0000, 2.5000, 0.0000], [50.0000, 3.2592, 0.3350], 1.0000),
        ([60.2574, -34.0099, 36.2677], [60.4626, -34.1751, 39.4387], 1.2644),
        ([63.0109, -31.0961, -5.8663], [62.8187, -29.7946, -4.0864], 1.2630),
        ([61.2901, 3.7196, -5.3901], [61.4292, 2.2480, -4.9620], 1.8731),
        ([35.0831, -44.1164, 3.7933], [35.0232, -40.0716, 1.5901], 1.8645),
        ([22.7233, 20.0904, -46.6940], [23.0331, 14.9730, -42.5619], 2.0373),
        ([36.4612, 47.8580, 18.3852], [36.2715, 50.5065, 21.2231], 1.4146),
        ([90.8027, -2.0831, 1.4410], [91.1528, -1.6435, 0.0447], 1.4441),
        ([90.9257, -0.5406, -0.9208], [88.6381, -0.8985, -0.7239], 1.5381),
        ([6.7747, -0.2908, -2.4247], [5.8714, -0.0985, -2.2286], 0.6377),
        ([2.0776, 0.0795, -1.1350], [0.9033, -0.0636, -0.5514], 0.9082),
    ]

    /// The table's values are rounded to 4 decimals, so 1e-4 holds only when
    /// every branch of the formula (hue wrap, mean hue, neutral colours) is right.
    @Test func sharmaWuDalalTestData() throws {
        #expect(Self.sharmaTable.count == 34)
        for (k, row) in Self.sharmaTable.enumerated() {
            let x = try #require(CIELab(l: row.first[0], a: row.first[1], b: row.first[2]))
            let y = try #require(CIELab(l: row.second[0], a: row.second[1], b: row.second[2]))
            let forward = x.difference(to: y)
            let backward = y.difference(to: x)
            #expect(abs(forward - row.expected) <= 1e-4, "pair \(k + 1): \(forward), published \(row.expected)")
            #expect(abs(forward - backward) <= 1e-12, "pair \(k + 1) is not symmetric")
        }
    }

    @Test func nonFiniteLabIsRefused() {
        #expect(CIELab(l: .nan, a: 0, b: 0) == nil)
        #expect(CIELab(l: 50, a: .infinity, b: 0) == nil)
        #expect(CIELab(l: 50, a: 0, b: -.infinity) == nil)
    }

    /// Every class colour of the built-in spaces and a lattice through sRGB
    /// (including the values either side of the sRGB and CIELAB linear
    /// segments) against a NumPy twin written from the standards, 1e-9.
    @Test func srgbToLabMatchesNumpyReference() throws {
        let lattice = [0, 1, 10, 11, 12, 40, 64, 100, 128, 160, 200, 254, 255].map(UInt8.init)
        var colors: [RGB] = []
        for r in lattice { for g in lattice { for b in lattice { colors.append(RGB(r, g, b)) } } }
        colors += [LabelSpace.cityscapes, .camvid, .vspw].flatMap { $0.classes.map(\.color) }
        let input = colors.map { "\($0.r) \($0.g) \($0.b)" }.joined(separator: "\n")
        let folder = try TestSupport.scratchDirectory()
        try input.write(toFile: folder + "/rgb.txt", atomically: true, encoding: .utf8)
        let output = try TestSupport.python(
            """
            import sys
            import numpy as np
            rgb = np.loadtxt(sys.argv[1], dtype=np.float64, ndmin=2) / 255.0
            linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
            m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
            xyz = linear @ m.T / m.sum(axis=1)
            eps, kappa = 216 / 24389, 24389 / 27
            f = np.where(xyz > eps, np.cbrt(xyz), (kappa * xyz + 16) / 116)
            lab = np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=1)
            for row in lab: print("%.17g %.17g %.17g" % tuple(row))
            """, [folder + "/rgb.txt"])
        let rows = output.split(separator: "\n")
        #expect(rows.count == colors.count)
        var worst = 0.0
        for (color, row) in zip(colors, rows) {
            let want = row.split(separator: " ").compactMap { Double($0) }
            let lab = CIELab(color)
            worst = max(worst, abs(lab.l - want[0]), abs(lab.a - want[1]), abs(lab.b - want[2]))
        }
        #expect(worst <= 1e-9, "largest deviation from the NumPy twin: \(worst)")
    }

    @Test func greysAreNeutralAndEndsAreBlackAndWhite() {
        for v in stride(from: 0, through: 255, by: 15) {
            let lab = CIELab(RGB(UInt8(v), UInt8(v), UInt8(v)))
            #expect(abs(lab.a) < 1e-12 && abs(lab.b) < 1e-12, "grey \(v) has a* \(lab.a), b* \(lab.b)")
        }
        #expect(abs(CIELab(RGB(255, 255, 255)).l - 100) < 1e-12)
        #expect(abs(CIELab(RGB(0, 0, 0)).l) < 1e-12)
        #expect(abs(RGB(255, 255, 255).difference(to: RGB(0, 0, 0)) - 100) < 1e-9)
    }
}
