import SegFormats

/// Randomness and transcendental functions that give the same bits on every
/// machine: integer hashing (SplitMix64) and polynomial approximations built
/// only from IEEE +, -, *, / (libm's sin/exp may differ in the last bit
/// between C libraries, which would break byte-identical output).
public enum Deterministic {
    /// Mixes any number of integers into one 64-bit hash.
    public static func hash(_ values: Int...) -> UInt64 {
        var h: UInt64 = 0x51_7cc1_b727_220a
        for v in values {
            var g = SplitMix64(seed: h ^ UInt64(bitPattern: Int64(v)))
            h = g.next()
        }
        return h
    }

    /// Hash-based value in [0, 1) for lattice point (x, y) in stream `salt`.
    @inline(__always)
    public static func lattice(_ x: Int, _ y: Int, _ salt: Int) -> Float {
        var z = UInt64(bitPattern: Int64(x &* 73_856_093 ^ y &* 19_349_663 ^ salt &* 83_492_791))
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        z ^= z >> 31
        return Float(z >> 40) * (1.0 / 16_777_216.0)
    }

    /// Smooth value noise in [0, 1) at a continuous point (bilinear between lattice values).
    public static func noise(_ x: Float, _ y: Float, _ salt: Int) -> Float {
        let fx = x.rounded(.down)
        let fy = y.rounded(.down)
        let ix = Int(fx)
        let iy = Int(fy)
        let tx = x - fx
        let ty = y - fy
        let sx = tx * tx * (3 - 2 * tx)
        let sy = ty * ty * (3 - 2 * ty)
        let a = lattice(ix, iy, salt)
        let b = lattice(ix + 1, iy, salt)
        let c = lattice(ix, iy + 1, salt)
        let d = lattice(ix + 1, iy + 1, salt)
        return (a + (b - a) * sx) + ((c + (d - c) * sx) - (a + (b - a) * sx)) * sy
    }

    /// sin(pi * x) for any x, from a degree-9 odd polynomial on [-1/2, 1/2]
    /// (max error about 4e-6).
    public static func sinPi(_ x: Float) -> Float {
        // Reduce to r in [-1, 1) with sin(pi x) = sin(pi r).
        var r = x - 2 * (x * 0.5).rounded(.down)  // [0, 2)
        if r >= 1 { r -= 2 }  // [-1, 1)
        // sin(pi r) = sin(pi (1 - r)) folds [1/2, 1) onto [0, 1/2].
        if r > 0.5 { r = 1 - r } else if r < -0.5 { r = -1 - r }
        let t = r * Float.pi
        let t2 = t * t
        return t * (1 + t2 * (-1.0 / 6 + t2 * (1.0 / 120 + t2 * (-1.0 / 5040 + t2 * (1.0 / 362_880)))))
    }

    /// tanh from a rational approximation (max error about 2e-4), saturating.
    public static func tanh(_ x: Float) -> Float {
        if x > 4.97 { return 1 }
        if x < -4.97 { return -1 }
        let x2 = x * x
        return x * (135_135 + x2 * (17325 + x2 * (378 + x2))) / (135_135 + x2 * (62370 + x2 * (3150 + x2 * 28)))
    }
}
