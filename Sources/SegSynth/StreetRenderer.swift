import SegFormats

/// Renders one frame of a `StreetScene` by casting a ray per pixel against
/// the ground and the two facade planes, then drawing the objects far to
/// near with a depth test. Produces the RGB frame and its trainId labels.
struct StreetRenderer {
    let scene: StreetScene
    let width: Int, height: Int
    let sequenceSeed: Int

    struct Frame {
        var rgb: [UInt8]
        var labels: [UInt8]
    }

    var focal: Float { Float(width) * 0.62 }
    var centerX: Float { Float(width) / 2 }
    var horizon: Float { Float(height) * 0.42 }

    /// The frame's pixels and labels; `cancelled` is polled every few rows
    /// (a frame at the largest size takes long in a debug build) and throws `Cancelled`.
    func render(frame: Int, cancelled: () -> Bool = { false }) throws -> Frame {
        let count = width * height
        var rgb = [UInt8](repeating: 0, count: count * 3)
        var labels = [UInt8](repeating: Street.sky, count: count)
        var depth = [Float](repeating: .infinity, count: count)
        let cameraZ = Float(frame) * scene.speed
        for y in 0..<height {
            if y % 16 == 0, cancelled() { throw SyntheticDataset.Cancelled() }
            for x in 0..<width {
                let (classId, color, z) = background(x: x, y: y, cameraZ: cameraZ)
                let i = y * width + x
                labels[i] = classId
                depth[i] = z
                put(&rgb, i, fog(color, depth: z))
            }
        }
        let placed = scene.objects.map { ($0, $0.position(frame: frame)) }
            .filter { $0.1.z - cameraZ > 1.2 && $0.1.z - cameraZ < 160 }
            .sorted { $0.1.z > $1.1.z }
        for (object, position) in placed {
            if cancelled() { throw SyntheticDataset.Cancelled() }
            let z = position.z - cameraZ
            let left = centerX + focal * (position.x - object.width / 2) / z
            let right = centerX + focal * (position.x + object.width / 2) / z
            let top = horizon + focal * (StreetScene.cameraHeight - object.base - object.height) / z
            let bottom = horizon + focal * (StreetScene.cameraHeight - object.base) / z
            let x0 = max(0, Int(left.rounded(.down)))
            let x1 = min(width - 1, Int(right.rounded(.up)))
            let y0 = max(0, Int(top.rounded(.down)))
            let y1 = min(height - 1, Int(bottom.rounded(.up)))
            guard x0 <= x1, y0 <= y1, right > left, bottom > top else { continue }
            for y in y0...y1 {
                let v = (bottom - (Float(y) + 0.5)) / (bottom - top)
                guard v >= 0 && v <= 1 else { continue }
                for x in x0...x1 {
                    let u = ((Float(x) + 0.5) - left) / (right - left)
                    guard u >= 0 && u <= 1 else { continue }
                    let i = y * width + x
                    guard z < depth[i], let color = object.sample(u: u, v: v) else { continue }
                    depth[i] = z
                    labels[i] = object.classId
                    put(&rgb, i, fog(color, depth: z))
                }
            }
        }
        // Sensor noise, fixed per pixel and frame.
        for i in 0..<(count * 3) {
            if i % (1 << 20) == 0, cancelled() { throw SyntheticDataset.Cancelled() }
            let n = Int(Deterministic.lattice(i, frame, sequenceSeed) * 9) - 4
            rgb[i] = UInt8(clamping: Int(rgb[i]) + n)
        }
        return Frame(rgb: rgb, labels: labels)
    }

    private func put(_ rgb: inout [UInt8], _ i: Int, _ c: RGB) {
        rgb[3 * i] = c.r
        rgb[3 * i + 1] = c.g
        rgb[3 * i + 2] = c.b
    }

    private func fog(_ c: RGB, depth: Float) -> RGB {
        guard depth.isFinite else { return c }
        let k = depth / (depth + 140)
        func mix(_ a: UInt8, _ b: UInt8) -> UInt8 { UInt8(Float(a) * (1 - k) + Float(b) * k) }
        return RGB(mix(c.r, scene.skyBottom.r), mix(c.g, scene.skyBottom.g), mix(c.b, scene.skyBottom.b))
    }

    private func tint(_ c: RGB, _ k: Float) -> RGB {
        RGB(
            UInt8(min(255, max(0, Float(c.r) * k))), UInt8(min(255, max(0, Float(c.g) * k))),
            UInt8(min(255, max(0, Float(c.b) * k))))
    }

    /// What the ray through pixel (x, y) hits before any object: class, colour, depth.
    private func background(x: Int, y: Int, cameraZ: Float) -> (UInt8, RGB, Float) {
        let dx = (Float(x) + 0.5 - centerX) / focal
        let dy = (horizon - (Float(y) + 0.5)) / focal
        var best: (UInt8, RGB, Float) = (Street.sky, sky(dy: dy, dx: dx), .infinity)
        if dy < 0 {
            let z = StreetScene.cameraHeight / -dy
            if z < best.2 { best = ground(x: dx * z, z: z, cameraZ: cameraZ) }
        }
        for (facade, side) in [(StreetScene.facadeRight, scene.right), (StreetScene.facadeLeft, scene.left)] {
            guard dx * facade > 0 else { continue }
            let z = facade / dx
            guard z < best.2, let hit = facadeHit(side: side, facade: facade, z: z, dx: dx, dy: dy, cameraZ: cameraZ)
            else { continue }
            best = hit
        }
        return best
    }

    private func sky(dy: Float, dx: Float) -> RGB {
        let t = max(0, min(1, dy * 2.2))
        let top = scene.skyTop
        let bottom = scene.skyBottom
        let cloud = Deterministic.noise(dx * 6 + 40, dy * 14, sequenceSeed) > 0.68 && dy > 0.05 ? Float(0.25) : 0
        func mix(_ a: UInt8, _ b: UInt8) -> UInt8 {
            let base = Float(b) * (1 - t) + Float(a) * t
            return UInt8(min(255, base + (250 - base) * cloud))
        }
        return RGB(mix(top.r, bottom.r), mix(top.g, bottom.g), mix(top.b, bottom.b))
    }

    private func ground(x: Float, z: Float, cameraZ: Float) -> (UInt8, RGB, Float) {
        let worldZ = z + cameraZ
        let grain = Deterministic.noise(x * 3, worldZ * 3, 7)
        if x >= StreetScene.roadLeft && x <= StreetScene.roadRight {
            var c = tint(RGB(92, 90, 96), 0.88 + 0.24 * grain)
            let laneMark = abs(x + 1.75) < 0.09 && worldZ.truncatingRemainder(dividingBy: 9) < 4.5
            let edgeMark =
                abs(x - (StreetScene.roadRight - 0.15)) < 0.07 || abs(x - (StreetScene.roadLeft + 0.15)) < 0.07
            if laneMark || edgeMark { c = RGB(215, 215, 205) }
            return (Street.road, c, z)
        }
        let facade = x > 0 ? StreetScene.facadeRight : StreetScene.facadeLeft
        if abs(x) <= abs(facade) {
            let tile =
                (abs(x) * 2).truncatingRemainder(dividingBy: 1) < 0.06
                || (worldZ * 2).truncatingRemainder(dividingBy: 1) < 0.06
            return (Street.sidewalk, tint(RGB(160, 152, 146), (tile ? 0.8 : 1) * (0.9 + 0.15 * grain)), z)
        }
        // Ground beyond the facade plane is seen only through park fences.
        return (Street.terrain, tint(RGB(112, 138, 72), 0.8 + 0.35 * Deterministic.noise(x * 5, worldZ * 5, 9)), z)
    }

    private func facadeHit(
        side: [StreetSegment], facade: Float, z: Float, dx: Float, dy: Float,
        cameraZ: Float
    ) -> (UInt8, RGB, Float)? {
        let worldZ = z + cameraZ
        let height = StreetScene.cameraHeight + dy * z
        guard height >= 0, let segment = scene.segment(side, at: worldZ) else { return nil }
        switch segment.kind {
        case .building:
            guard height <= segment.height else { return nil }
            let column = (worldZ / 2.8).truncatingRemainder(dividingBy: 1)
            let row = (height / 3.2).truncatingRemainder(dividingBy: 1)
            let window = height > 3 && column > 0.25 && column < 0.75 && row > 0.3 && row < 0.8
            let shade = 0.85 + 0.25 * Deterministic.noise(worldZ * 4, height * 4, segment.seed)
            let c =
                window
                ? tint(
                    RGB(70, 85, 100),
                    0.8 + 0.5 * Deterministic.lattice(Int(worldZ / 2.8), Int(height / 3.2), segment.seed))
                : tint(height < 3 ? tint(segment.color, 0.75) : segment.color, shade)
            return (Street.building, c, z)
        case .wall:
            if height <= segment.height {
                let seam = (height / 0.9).truncatingRemainder(dividingBy: 1) < 0.05
                return (
                    Street.wall,
                    tint(
                        segment.color,
                        (seam ? 0.8 : 1) * (0.85 + 0.25 * Deterministic.noise(worldZ * 3, height * 3, segment.seed))), z
                )
            }
            return treeLine(
                facade: facade + (facade > 0 ? 6 : -6), dx: dx, dy: dy, cameraZ: cameraZ, seed: segment.seed)
        case .park:
            let post = (worldZ / 2.5).truncatingRemainder(dividingBy: 1) < 0.05
            let rail = (height > 0.35 && height < 0.45) || (height > 1.15 && height < 1.3)
            if height <= 1.3 && (post || rail) { return (Street.fence, RGB(118, 104, 92), z) }
            return treeLine(
                facade: facade + (facade > 0 ? 9 : -9), dx: dx, dy: dy, cameraZ: cameraZ, seed: segment.seed)
        }
    }

    /// Vegetation far behind walls and fences, with a ragged top.
    private func treeLine(facade: Float, dx: Float, dy: Float, cameraZ: Float, seed: Int) -> (UInt8, RGB, Float)? {
        let z = facade / dx
        let worldZ = z + cameraZ
        let height = StreetScene.cameraHeight + dy * z
        let top = 5 + 4 * Deterministic.noise(worldZ * 0.4, 0, seed)
        guard height >= 0 && height <= top else { return nil }
        let leaf = Deterministic.noise(worldZ * 3, height * 3, seed + 3)
        return (Street.vegetation, RGB(UInt8(40 + 40 * leaf), UInt8(85 + 60 * leaf), UInt8(35 + 25 * leaf)), z)
    }
}
