import SegFormats

extension LabelSpace {
    /// The Cityscapes label table exactly as cityscapesScripts'
    /// `cityscapesscripts/helpers/labels.py` (checked by a test against the
    /// pip package when it is installed).
    public static let cityscapes = LabelSpace(
        name: "cityscapes",
        labels: [
            //               name                    id  trainId category      catId instances ignore colour
            LabelDefinition("unlabeled", 0, 255, "void", 0, false, true, RGB(0, 0, 0)),
            LabelDefinition("ego vehicle", 1, 255, "void", 0, false, true, RGB(0, 0, 0)),
            LabelDefinition("rectification border", 2, 255, "void", 0, false, true, RGB(0, 0, 0)),
            LabelDefinition("out of roi", 3, 255, "void", 0, false, true, RGB(0, 0, 0)),
            LabelDefinition("static", 4, 255, "void", 0, false, true, RGB(0, 0, 0)),
            LabelDefinition("dynamic", 5, 255, "void", 0, false, true, RGB(111, 74, 0)),
            LabelDefinition("ground", 6, 255, "void", 0, false, true, RGB(81, 0, 81)),
            LabelDefinition("road", 7, 0, "flat", 1, false, false, RGB(128, 64, 128)),
            LabelDefinition("sidewalk", 8, 1, "flat", 1, false, false, RGB(244, 35, 232)),
            LabelDefinition("parking", 9, 255, "flat", 1, false, true, RGB(250, 170, 160)),
            LabelDefinition("rail track", 10, 255, "flat", 1, false, true, RGB(230, 150, 140)),
            LabelDefinition("building", 11, 2, "construction", 2, false, false, RGB(70, 70, 70)),
            LabelDefinition("wall", 12, 3, "construction", 2, false, false, RGB(102, 102, 156)),
            LabelDefinition("fence", 13, 4, "construction", 2, false, false, RGB(190, 153, 153)),
            LabelDefinition("guard rail", 14, 255, "construction", 2, false, true, RGB(180, 165, 180)),
            LabelDefinition("bridge", 15, 255, "construction", 2, false, true, RGB(150, 100, 100)),
            LabelDefinition("tunnel", 16, 255, "construction", 2, false, true, RGB(150, 120, 90)),
            LabelDefinition("pole", 17, 5, "object", 3, false, false, RGB(153, 153, 153)),
            LabelDefinition("polegroup", 18, 255, "object", 3, false, true, RGB(153, 153, 153)),
            LabelDefinition("traffic light", 19, 6, "object", 3, false, false, RGB(250, 170, 30)),
            LabelDefinition("traffic sign", 20, 7, "object", 3, false, false, RGB(220, 220, 0)),
            LabelDefinition("vegetation", 21, 8, "nature", 4, false, false, RGB(107, 142, 35)),
            LabelDefinition("terrain", 22, 9, "nature", 4, false, false, RGB(152, 251, 152)),
            LabelDefinition("sky", 23, 10, "sky", 5, false, false, RGB(70, 130, 180)),
            LabelDefinition("person", 24, 11, "human", 6, true, false, RGB(220, 20, 60)),
            LabelDefinition("rider", 25, 12, "human", 6, true, false, RGB(255, 0, 0)),
            LabelDefinition("car", 26, 13, "vehicle", 7, true, false, RGB(0, 0, 142)),
            LabelDefinition("truck", 27, 14, "vehicle", 7, true, false, RGB(0, 0, 70)),
            LabelDefinition("bus", 28, 15, "vehicle", 7, true, false, RGB(0, 60, 100)),
            LabelDefinition("caravan", 29, 255, "vehicle", 7, true, true, RGB(0, 0, 90)),
            LabelDefinition("trailer", 30, 255, "vehicle", 7, true, true, RGB(0, 0, 110)),
            LabelDefinition("train", 31, 16, "vehicle", 7, true, false, RGB(0, 80, 100)),
            LabelDefinition("motorcycle", 32, 17, "vehicle", 7, true, false, RGB(0, 0, 230)),
            LabelDefinition("bicycle", 33, 18, "vehicle", 7, true, false, RGB(119, 11, 32)),
            LabelDefinition("license plate", -1, -1, "vehicle", 7, false, true, RGB(0, 0, 142)),
        ])

    /// CamVid's 11 classes as in the SegNet release (labels 0-10, 11 = void),
    /// with the usual CamVid colours.
    public static let camvid = LabelSpace(
        name: "camvid",
        labels: [
            LabelDefinition("Sky", 0, 0, "sky", 0, false, false, RGB(128, 128, 128)),
            LabelDefinition("Building", 1, 1, "structure", 1, false, false, RGB(128, 0, 0)),
            LabelDefinition("Pole", 2, 2, "object", 2, false, false, RGB(192, 192, 128)),
            LabelDefinition("Road", 3, 3, "flat", 3, false, false, RGB(128, 64, 128)),
            LabelDefinition("Sidewalk", 4, 4, "flat", 3, false, false, RGB(0, 0, 192)),
            LabelDefinition("Tree", 5, 5, "nature", 4, false, false, RGB(128, 128, 0)),
            LabelDefinition("SignSymbol", 6, 6, "object", 2, false, false, RGB(192, 128, 128)),
            LabelDefinition("Fence", 7, 7, "structure", 1, false, false, RGB(64, 64, 128)),
            LabelDefinition("Car", 8, 8, "vehicle", 5, true, false, RGB(64, 0, 128)),
            LabelDefinition("Pedestrian", 9, 9, "human", 6, true, false, RGB(64, 64, 0)),
            LabelDefinition("Bicyclist", 10, 10, "human", 6, true, false, RGB(0, 128, 192)),
            LabelDefinition("void", 11, 255, "void", 7, false, true, RGB(0, 0, 0)),
        ])
}
