import SegFormats

/// Cityscapes trainIds used by the generator.
enum Street {
    static let road: UInt8 = 0, sidewalk: UInt8 = 1, building: UInt8 = 2, wall: UInt8 = 3, fence: UInt8 = 4
    static let pole: UInt8 = 5, trafficLight: UInt8 = 6, trafficSign: UInt8 = 7, vegetation: UInt8 = 8
    static let terrain: UInt8 = 9, sky: UInt8 = 10, person: UInt8 = 11, rider: UInt8 = 12, car: UInt8 = 13
    static let truck: UInt8 = 14, bus: UInt8 = 15, bicycle: UInt8 = 18
}

/// A thing standing in the street, drawn as an upright shape facing the camera.
/// World coordinates in metres: x to the right, y up, z forward along the road.
struct StreetObject: Sendable {
    enum Shape: Sendable { case car, truck, bus, person, bicycle, tree, pole, plate, lightBox, rider }
    var shape: Shape
    var classId: UInt8
    var x: Float, z: Float
    /// Bottom of the shape above the ground.
    var base: Float = 0
    var width: Float, height: Float
    /// Metres per frame along z and x (independent motion).
    var speedZ: Float = 0, speedX: Float = 0
    var color: RGB
    var seed: Int

    func position(frame: Int) -> (x: Float, z: Float) {
        (x + speedX * Float(frame), z + speedZ * Float(frame))
    }

    /// Whether normalized point (u across, v up; both 0...1) is inside the shape,
    /// and the colour there.
    func sample(u: Float, v: Float) -> RGB? {
        func shade(_ c: RGB, _ k: Float) -> RGB {
            RGB(UInt8(min(255, Float(c.r) * k)), UInt8(min(255, Float(c.g) * k)), UInt8(min(255, Float(c.b) * k)))
        }
        let dark = RGB(25, 25, 28)
        switch shape {
        case .car:
            if v < 0.18 {
                return (u > 0.08 && u < 0.28) || (u > 0.72 && u < 0.92)
                    ? dark : (u > 0.03 && u < 0.97 ? shade(color, 0.6) : nil)
            }
            if v < 0.58 {
                return u > 0.01 && u < 0.99 ? (v > 0.42 && (u < 0.12 || u > 0.88) ? RGB(230, 220, 170) : color) : nil
            }
            let inset: Float = 0.16 + (v - 0.58) * 0.3
            guard u > inset && u < 1 - inset && v < 0.97 else { return nil }
            return v < 0.9 && u > inset + 0.04 && u < 1 - inset - 0.04 ? RGB(60, 75, 90) : color
        case .truck:
            if v < 0.12 {
                return (u > 0.08 && u < 0.22) || (u > 0.78 && u < 0.92) ? dark : (u > 0.02 && u < 0.98 ? dark : nil)
            }
            guard u > 0.01 && u < 0.99 else { return nil }
            if v > 0.62 && v < 0.8 && u > 0.1 && u < 0.9 && seed % 2 == 0 { return RGB(50, 60, 70) }
            return v < 0.5 ? shade(color, 0.85) : color
        case .bus:
            if v < 0.1 {
                return (u > 0.1 && u < 0.24) || (u > 0.76 && u < 0.9) ? dark : (u > 0.02 && u < 0.98 ? dark : nil)
            }
            guard u > 0.01 && u < 0.99 && v < 0.98 else { return nil }
            if v > 0.5 && v < 0.82 && u > 0.06 && u < 0.94 { return RGB(40, 55, 70) }
            return color
        case .person, .rider:
            let head: (Float, Float) = (0.5, 0.9)
            let du = (u - head.0) * 2.2
            let dv = (v - head.1) * 1.0
            if du * du + dv * dv < 0.0085 * 1.9 { return RGB(224, 188, 160) }
            if v > 0.45 && v < 0.83 && u > 0.22 && u < 0.78 { return color }
            if v > 0.5 && v < 0.8 && (u > 0.12 && u < 0.22 || u > 0.78 && u < 0.88) { return color }
            if shape == .rider { return v <= 0.45 && v > 0.15 && u > 0.3 && u < 0.7 ? RGB(40, 40, 60) : nil }
            if v <= 0.45 && ((u > 0.3 && u < 0.47) || (u > 0.53 && u < 0.7)) { return RGB(40, 40, 60) }
            return nil
        case .bicycle:
            for cu: Float in [0.2, 0.8] {
                let du = (u - cu) / 0.2
                let dv = (v - 0.35) / 0.35
                let r = du * du + dv * dv
                if r < 1 && r > 0.55 { return dark }
            }
            if v > 0.3 && v < 0.72 && abs((u - 0.5) - (v - 0.5) * 0.6) < 0.05 { return color }
            if v > 0.6 && v < 0.7 && u > 0.25 && u < 0.75 { return color }
            return nil
        case .tree:
            if v < 0.42 { return u > 0.44 && u < 0.56 ? RGB(90, 65, 45) : nil }
            let du = (u - 0.5) / 0.5
            let dv = (v - 0.7) / 0.3
            let edge = 0.8 + 0.2 * Deterministic.noise(u * 6, v * 6, seed)
            guard du * du + dv * dv < edge else { return nil }
            return shade(color, 0.75 + 0.4 * Deterministic.noise(u * 14, v * 14, seed + 1))
        case .pole:
            return color
        case .plate:
            if seed % 2 == 0 {
                let du = u - 0.5
                let dv = v - 0.5
                guard du * du + dv * dv < 0.25 else { return nil }
                return du * du + dv * dv > 0.13 ? RGB(200, 20, 30) : RGB(240, 240, 240)
            }
            return u > 0.08 && u < 0.92 && v > 0.08 && v < 0.92 ? color : RGB(240, 240, 240)
        case .lightBox:
            for (k, lamp) in [RGB(220, 30, 20), RGB(230, 170, 20), RGB(30, 210, 90)].enumerated() {
                let du = (u - 0.5) * 2.6
                let dv = (v - (0.8 - Float(k) * 0.3)) * 1.0
                if du * du + dv * dv < 0.012 { return seed % 3 == k ? lamp : shade(lamp, 0.25) }
            }
            return color
        }
    }
}

/// One side of the street along z is a run of segments: buildings, walls or parks.
struct StreetSegment: Sendable {
    enum Kind: Sendable { case building, wall, park }
    var kind: Kind
    var start: Float, end: Float
    var height: Float
    var color: RGB
    var seed: Int
}

/// The whole world of one sequence: where the street's edges are, its two
/// sides' segments, and the objects. Everything follows from the seed.
struct StreetScene: Sendable {
    static let cameraHeight: Float = 1.4
    /// Camera x (right lane); road edges; facade planes.
    static let roadLeft: Float = -6.2, roadRight: Float = 3.3
    static let sidewalkWidth: Float = 3.2
    static var facadeRight: Float { roadRight + sidewalkWidth }
    static var facadeLeft: Float { roadLeft - sidewalkWidth }

    let speed: Float
    let left: [StreetSegment]
    let right: [StreetSegment]
    let objects: [StreetObject]
    let skyTop: RGB, skyBottom: RGB

    init(seed: UInt64, frames: Int) {
        var rng = SplitMix64(seed: seed)
        speed = rng.uniform(0.6, 1.3)
        let length = Float(frames) * speed + 200
        func segments(_ side: Int) -> [StreetSegment] {
            var out: [StreetSegment] = []
            var z: Float = -10
            while z < length {
                let roll = rng.unit()
                let kind: StreetSegment.Kind = roll < 0.6 ? .building : roll < 0.75 ? .wall : .park
                let span = kind == .building ? rng.uniform(9, 28) : rng.uniform(7, 20)
                let palette = [
                    RGB(150, 90, 70), RGB(190, 175, 150), RGB(120, 120, 125), RGB(170, 150, 120),
                    RGB(110, 85, 70), RGB(200, 195, 185),
                ]
                let color = kind == .wall ? RGB(165, 160, 150) : palette[rng.int(0..<palette.count)]
                let height = kind == .building ? rng.uniform(8, 26) : kind == .wall ? rng.uniform(1.6, 3.2) : 1.3
                out.append(
                    StreetSegment(
                        kind: kind, start: z, end: z + span, height: height, color: color,
                        seed: Int(rng.next() % 1_000_000) + side))
                z += span
            }
            return out
        }
        left = segments(0)
        right = segments(1)
        var objects: [StreetObject] = []
        let carColors = [
            RGB(20, 30, 120), RGB(180, 20, 25), RGB(200, 200, 205), RGB(30, 30, 35), RGB(90, 110, 130),
            RGB(40, 80, 50), RGB(230, 230, 230),
        ]
        func vehicle(_ x: Float, _ z: Float, _ speedZ: Float) {
            let roll = rng.unit()
            let seed = Int(rng.next() % 1_000_000)
            if roll < 0.72 {
                objects.append(
                    StreetObject(
                        shape: .car, classId: Street.car, x: x, z: z, width: 1.8, height: 1.5,
                        speedZ: speedZ, color: carColors[rng.int(0..<carColors.count)], seed: seed))
            } else if roll < 0.87 {
                objects.append(
                    StreetObject(
                        shape: .truck, classId: Street.truck, x: x, z: z, width: 2.5, height: 3.3,
                        speedZ: speedZ,
                        color: [RGB(235, 235, 230), RGB(160, 160, 165), RGB(200, 120, 40)][rng.int(0..<3)], seed: seed))
            } else {
                objects.append(
                    StreetObject(
                        shape: .bus, classId: Street.bus, x: x, z: z, width: 2.6, height: 3.1,
                        speedZ: speedZ,
                        color: [RGB(230, 190, 30), RGB(200, 40, 40), RGB(40, 110, 170)][rng.int(0..<3)], seed: seed))
            }
        }
        // Traffic ahead in the camera's lane, oncoming traffic, parked cars.
        var z: Float = rng.uniform(12, 25)
        while z < length {
            vehicle(0, z, speed * rng.uniform(0.7, 1.0))
            z += rng.uniform(18, 45)
        }
        z = rng.uniform(5, 20)
        while z < length + Float(frames) * 1.2 {
            vehicle(-3.5, z, -rng.uniform(0.3, 1.0))
            z += rng.uniform(15, 40)
        }
        z = rng.uniform(3, 10)
        while z < length {
            if rng.chance(0.55) { vehicle(2.3, z, 0) }
            z += rng.uniform(6, 12)
        }
        // People walking on both sidewalks, some crossing; cyclists with riders.
        let clothes = [
            RGB(180, 40, 40), RGB(40, 60, 150), RGB(220, 200, 60), RGB(60, 60, 60), RGB(230, 230, 230),
            RGB(90, 140, 60),
        ]
        z = rng.uniform(4, 10)
        while z < length {
            let side: Float =
                rng.chance(0.5)
                ? StreetScene.roadRight + rng.uniform(0.5, 2.6) : StreetScene.roadLeft - rng.uniform(0.5, 2.6)
            let crossing = rng.chance(0.08)
            objects.append(
                StreetObject(
                    shape: .person, classId: Street.person, x: side, z: z, width: 0.65, height: rng.uniform(1.55, 1.9),
                    speedZ: crossing ? 0 : rng.uniform(-0.08, 0.08), speedX: crossing ? (side > 0 ? -0.12 : 0.12) : 0,
                    color: clothes[rng.int(0..<clothes.count)], seed: Int(rng.next() % 1_000_000)))
            z += rng.uniform(3, 12)
        }
        z = rng.uniform(10, 30)
        while z < length {
            let x = StreetScene.roadRight - 0.6
            let speedZ = speed * rng.uniform(0.3, 0.6)
            objects.append(
                StreetObject(
                    shape: .bicycle, classId: Street.bicycle, x: x, z: z, width: 1.7, height: 1.05,
                    speedZ: speedZ, color: [RGB(30, 120, 200), RGB(200, 30, 30), RGB(20, 20, 20)][rng.int(0..<3)],
                    seed: Int(rng.next() % 1_000_000)))
            objects.append(
                StreetObject(
                    shape: .rider, classId: Street.rider, x: x, z: z - 0.05, base: 0.55, width: 0.65, height: 1.25,
                    speedZ: speedZ, color: clothes[rng.int(0..<clothes.count)], seed: Int(rng.next() % 1_000_000)))
            z += rng.uniform(25, 60)
        }
        // Street furniture along the right kerb and the left kerb.
        for (x, salt) in [(StreetScene.roadRight + 0.4, 1), (StreetScene.roadLeft - 0.4, 2)] {
            z = rng.uniform(5, 15)
            while z < length {
                let kind = rng.unit()
                let poleHeight: Float = kind < 0.25 ? 4.6 : kind < 0.6 ? 3.0 : 7.5
                objects.append(
                    StreetObject(
                        shape: .pole, classId: Street.pole, x: x, z: z, width: 0.14, height: poleHeight,
                        color: RGB(125, 125, 130), seed: salt))
                if kind < 0.25 {
                    objects.append(
                        StreetObject(
                            shape: .lightBox, classId: Street.trafficLight, x: x, z: z - 0.1, base: poleHeight - 1.0,
                            width: 0.38, height: 1.0, color: RGB(30, 32, 30), seed: Int(rng.next() % 1000)))
                } else if kind < 0.6 {
                    objects.append(
                        StreetObject(
                            shape: .plate, classId: Street.trafficSign, x: x, z: z - 0.1, base: poleHeight - 0.7,
                            width: 0.7, height: 0.7, color: RGB(20, 70, 170), seed: Int(rng.next() % 1000)))
                }
                z += rng.uniform(10, 24)
            }
        }
        // Trees in parks, standing behind the fence.
        for (segments, sign) in [(right, Float(1)), (left, Float(-1))] {
            for segment in segments where segment.kind == .park {
                var tz = segment.start + rng.uniform(1, 4)
                while tz < segment.end - 1 {
                    let facade = sign > 0 ? StreetScene.facadeRight : StreetScene.facadeLeft
                    objects.append(
                        StreetObject(
                            shape: .tree, classId: Street.vegetation, x: facade + sign * rng.uniform(1.5, 4),
                            z: tz, width: rng.uniform(3, 5), height: rng.uniform(5, 9),
                            color: RGB(60, UInt8(rng.int(95..<135)), 40), seed: Int(rng.next() % 1_000_000)))
                    tz += rng.uniform(3, 7)
                }
            }
        }
        self.objects = objects
        skyTop = RGB(UInt8(rng.int(60..<90)), UInt8(rng.int(110..<140)), UInt8(rng.int(180..<215)))
        skyBottom = RGB(UInt8(rng.int(185..<215)), UInt8(rng.int(205..<225)), UInt8(rng.int(225..<240)))
    }

    func segment(_ side: [StreetSegment], at z: Float) -> StreetSegment? {
        var low = 0
        var high = side.count - 1
        while low <= high {
            let mid = (low + high) / 2
            if side[mid].end <= z {
                low = mid + 1
            } else if side[mid].start > z {
                high = mid - 1
            } else {
                return side[mid]
            }
        }
        return nil
    }
}
