import Foundation
import SegFormats

/// A colour in CIELAB (CIE 1976 L*a*b*, D65 white): the space CIEDE2000
/// measures perceived colour difference in.
public struct CIELab: Sendable, Equatable {
    public let l: Double
    public let a: Double
    public let b: Double

    /// nil when a coordinate is not finite: a difference to such a colour has no meaning.
    public init?(l: Double, a: Double, b: Double) {
        guard l.isFinite, a.isFinite, b.isFinite else { return nil }
        self.l = l
        self.a = a
        self.b = b
    }

    /// An 8-bit sRGB colour (IEC 61966-2-1): decoded to linear light, to CIE
    /// XYZ by the standard's matrix, to L*a*b* against the matrix's own white
    /// (its row sums, D65), so every grey has a* = b* = 0 exactly.
    public init(_ rgb: RGB) {
        func linear(_ channel: UInt8) -> Double {
            let v = Double(channel) / 255
            return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4)
        }
        let (red, green, blue) = (linear(rgb.r), linear(rgb.g), linear(rgb.b))
        let m = CIELab.srgbToXYZ
        func relative(_ row: Int) -> Double {
            (m[row][0] * red + m[row][1] * green + m[row][2] * blue) / (m[row][0] + m[row][1] + m[row][2])
        }
        // CIE's cube root with its linear segment near black (δ = 6/29).
        func f(_ t: Double) -> Double {
            let delta = 6.0 / 29
            return t > delta * delta * delta ? cbrt(t) : t / (3 * delta * delta) + 4.0 / 29
        }
        let (fx, fy, fz) = (f(relative(0)), f(relative(1)), f(relative(2)))
        l = 116 * fy - 16
        a = 500 * (fx - fy)
        b = 200 * (fy - fz)
    }

    /// Linear sRGB -> XYZ, IEC 61966-2-1 (rows X, Y, Z).
    static let srgbToXYZ: [[Double]] = [
        [0.4124, 0.3576, 0.1805],
        [0.2126, 0.7152, 0.0722],
        [0.0193, 0.1192, 0.9505],
    ]

    /// CIEDE2000 colour difference ΔE00 (CIE 142-2001, k_L = k_C = k_H = 1), as
    /// Sharma, Wu & Dalal (2005) implement it: hue angles in [0°, 360°), and the
    /// hue terms of a neutral colour (C' = 0) taken as zero. About 1 is a just
    /// noticeable difference; symmetric in its arguments.
    public func difference(to other: CIELab) -> Double {
        func degrees(_ radians: Double) -> Double { radians * 180 / .pi }
        func radians(_ degrees: Double) -> Double { degrees * .pi / 180 }
        let pow25to7 = 6_103_515_625.0  // 25^7
        let chromaMean = (hypot(a, b) + hypot(other.a, other.b)) / 2
        let chromaMean7 = pow(chromaMean, 7)
        let g = 0.5 * (1 - (chromaMean7 / (chromaMean7 + pow25to7)).squareRoot())
        let a1 = (1 + g) * a
        let a2 = (1 + g) * other.a
        let c1 = hypot(a1, b)
        let c2 = hypot(a2, other.b)
        func hue(_ a: Double, _ b: Double) -> Double {
            if a == 0 && b == 0 { return 0 }
            let h = degrees(atan2(b, a))
            return h < 0 ? h + 360 : h
        }
        let h1 = hue(a1, b)
        let h2 = hue(a2, other.b)
        let neutral = c1 * c2 == 0

        var hueStep = h2 - h1
        if hueStep > 180 { hueStep -= 360 } else if hueStep < -180 { hueStep += 360 }
        if neutral { hueStep = 0 }
        let deltaL = other.l - l
        let deltaC = c2 - c1
        let deltaH = 2 * (c1 * c2).squareRoot() * sin(radians(hueStep / 2))

        let lightnessMean = (l + other.l) / 2
        let chromaPrimeMean = (c1 + c2) / 2
        var hueMean = h1 + h2
        if !neutral {
            if abs(h1 - h2) <= 180 {
                hueMean /= 2
            } else {
                hueMean = hueMean < 360 ? (hueMean + 360) / 2 : (hueMean - 360) / 2
            }
        }
        let t =
            1 - 0.17 * cos(radians(hueMean - 30)) + 0.24 * cos(radians(2 * hueMean))
            + 0.32 * cos(radians(3 * hueMean + 6)) - 0.20 * cos(radians(4 * hueMean - 63))
        let rotation = 30 * exp(-pow((hueMean - 275) / 25, 2))
        let chromaPrime7 = pow(chromaPrimeMean, 7)
        let rc = 2 * (chromaPrime7 / (chromaPrime7 + pow25to7)).squareRoot()
        let lightnessOffset = pow(lightnessMean - 50, 2)
        let sl = 1 + 0.015 * lightnessOffset / (20 + lightnessOffset).squareRoot()
        let sc = 1 + 0.045 * chromaPrimeMean
        let sh = 1 + 0.015 * chromaPrimeMean * t
        let rt = -sin(radians(2 * rotation)) * rc
        let (tl, tc, th) = (deltaL / sl, deltaC / sc, deltaH / sh)
        return (tl * tl + tc * tc + th * th + rt * tc * th).squareRoot()
    }
}

extension RGB {
    /// CIEDE2000 difference between two sRGB colours (see `CIELab.difference`).
    public func difference(to other: RGB) -> Double { CIELab(self).difference(to: CIELab(other)) }
}
