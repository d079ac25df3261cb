import SegFormats

extension LabelSpace {
    /// VSPW (Miao et al., CVPR 2021) as its release's evaluation reads the
    /// masks: the value stored in `data/<video>/mask/*.png` is the class, and
    /// VSPW_code's `Evaluator(124)` counts values 0..123, so the 124 classes
    /// are those values, named as the release's `label_num_dic_final.json`
    /// names them (value 0 "others" ... 123 "instrument"). The json's 125th
    /// name, "train" (124), is outside what that evaluator counts and is
    /// ignored here like void (255). Colours are segscope's own, one distinct
    /// colour per class (the release defines none).
    public static let vspw: LabelSpace = {
        var labels = vspwNames.enumerated().map { i, name in
            LabelDefinition(name, i, i, "vspw", 0, false, false, vspwColor(i))
        }
        labels.append(LabelDefinition("train", 124, 255, "void", 1, false, true, RGB(0, 0, 0)))
        labels.append(LabelDefinition("void", 255, 255, "void", 1, false, true, RGB(0, 0, 0)))
        return LabelSpace(name: "vspw", labels: labels)
    }()

    /// Class names by mask value, from the VSPW release's label_num_dic_final.json.
    static let vspwNames = [
        "others", "wall", "ceiling", "door", "stair", "ladder", "escalator", "Playground_slide", "handrail_or_fence",
        "window", "rail", "goal", "pillar", "pole", "floor", "ground", "grass", "sand", "athletic_field", "road",
        "path", "crosswalk", "building", "house", "bridge", "tower", "windmill", "well_or_well_lid",
        "other_construction",
        "sky", "mountain", "stone", "wood", "ice", "snowfield", "grandstand", "sea", "river", "lake", "waterfall",
        "water", "billboard_or_Bulletin_Board", "sculpture", "pipeline", "flag", "parasol_or_umbrella",
        "cushion_or_carpet", "tent", "roadblock", "car", "bus", "truck", "bicycle", "motorcycle", "wheeled_machine",
        "ship_or_boat", "raft", "airplane", "tyre", "traffic_light", "lamp", "person", "cat", "dog", "horse", "cattle",
        "other_animal", "tree", "flower", "other_plant", "toy", "ball_net", "backboard", "skateboard", "bat", "ball",
        "cupboard_or_showcase_or_storage_rack", "box", "traveling_case_or_trolley_case", "basket", "bag_or_package",
        "trash_can", "cage", "plate", "tub_or_bowl_or_pot", "bottle_or_cup", "barrel", "fishbowl", "bed", "pillow",
        "table_or_desk", "chair_or_seat", "bench", "sofa", "shelf", "bathtub", "gun", "commode", "roaster",
        "other_machine", "refrigerator", "washing_machine", "Microwave_oven", "fan", "curtain", "textiles", "clothes",
        "painting_or_poster", "mirror", "flower_pot_or_vase", "clock", "book", "tool", "blackboard", "tissue",
        "screen_or_television", "computer", "printer", "Mobile_phone", "keyboard", "other_electronic_product",
        "fruit", "food", "instrument",
    ]

    /// Class `i`'s colour: hues a golden angle apart, with three levels of
    /// saturation and brightness in turn, so neighbouring classes differ
    /// strongly and no two classes share a colour.
    static func vspwColor(_ i: Int) -> RGB {
        let hue = (Double(i) * 0.6180339887498949).truncatingRemainder(dividingBy: 1) * 6
        let saturation = [0.85, 0.55, 1.0][i % 3]
        let value = [0.95, 0.75, 0.55][(i / 3) % 3]
        let sector = Int(hue)
        let f = hue - Double(sector)
        let p = value * (1 - saturation)
        let q = value * (1 - saturation * f)
        let t = value * (1 - saturation * (1 - f))
        let (r, g, b): (Double, Double, Double) = [
            (value, t, p), (q, value, p), (p, value, t), (p, q, value), (t, p, value), (value, p, q),
        ][sector % 6]
        func byte(_ x: Double) -> UInt8 { UInt8((x * 255).rounded()) }
        return RGB(byte(r), byte(g), byte(b))
    }
}
