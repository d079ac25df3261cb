import Foundation
import SegFormats
import SegLabels
import SegTestSupport
import Testing

@Suite struct LabelSpaceTests {
    /// The fixture is cityscapesScripts' own table (Tests/Tools/make_label_fixtures.py).
    @Test func cityscapesTableMatchesCityscapesScripts() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "Fixtures/cityscapes_labels.json")
        let rows = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [[String: Any]]
        let table = LabelSpace.cityscapes.labels
        #expect(rows.count == table.count)
        for (row, label) in zip(rows, table) {
            #expect(label.name == row["name"] as! String)
            #expect(label.id == row["id"] as! Int)
            #expect(label.trainId == row["trainId"] as! Int)
            #expect(label.category == row["category"] as! String)
            #expect(label.categoryId == row["categoryId"] as! Int)
            #expect(label.hasInstances == row["hasInstances"] as! Bool)
            #expect(label.ignoreInEval == row["ignoreInEval"] as! Bool)
            #expect([Int(label.color.r), Int(label.color.g), Int(label.color.b)] == row["color"] as! [Int])
        }
    }

    @Test func cityscapesClassesAndCategories() {
        let space = LabelSpace.cityscapes
        #expect(space.count == 19)
        #expect(space.classNames.prefix(3) == ["road", "sidewalk", "building"])
        #expect(space.classNames[6] == "traffic light")
        #expect(space.classNames.last == "bicycle")
        #expect(space.categories == ["flat", "construction", "object", "nature", "sky", "human", "vehicle"])
    }

    @Test func labelIdTrainIdConversions() {
        let space = LabelSpace.cityscapes
        #expect(space.labelIdToTrainId[7] == 0)  // road
        #expect(space.labelIdToTrainId[26] == 13)  // car
        #expect(space.labelIdToTrainId[33] == 18)  // bicycle
        #expect(space.labelIdToTrainId[4] == 255)  // static: void
        #expect(space.labelIdToTrainId[29] == 255)  // caravan: not evaluated
        #expect(space.labelIdToTrainId[200] == 255)  // not a label
        for k in 0..<19 { #expect(space.labelIdToTrainId[Int(space.trainIdToLabelId[k])] == UInt8(k)) }
    }

    @Test func camvidHasElevenClassesAndVoid() {
        let space = LabelSpace.camvid
        #expect(
            space.classNames == [
                "Sky", "Building", "Pole", "Road", "Sidewalk", "Tree", "SignSymbol",
                "Fence", "Car", "Pedestrian", "Bicyclist",
            ])
        #expect(space.labelIdToTrainId[11] == 255)
    }

    @Test func sharedColoursResolveToTheEvaluatedClass() {
        let table = LabelSpace.cityscapes.colorToTrainId
        #expect(table[RGB(153, 153, 153).packed] == 5)  // pole, not polegroup
        #expect(table[RGB(0, 0, 142).packed] == 13)  // car, not license plate
        #expect(table[RGB(0, 0, 0).packed] == 255)  // voids
    }
}

@Suite struct EncodingTests {
    let space = LabelSpace.cityscapes

    func gray(_ values: [UInt8]) -> PNGImage {
        PNGImage(width: values.count, height: 1, colorType: .gray, bitDepth: 8, samples: .eight(values))
    }

    @Test func nameDecidesAndValuesWarn() throws {
        let trainLooking = gray([0, 1, 18, 255])
        let labelLooking = gray([7, 8, 26, 33, 0])
        let a = try space.detectEncoding(of: labelLooking, path: "x/a_gtFine_labelIds.png")
        #expect(a.encoding == .labelIds && a.warning == nil)
        let b = try space.detectEncoding(of: trainLooking, path: "x/b_gtFine_labelIds.png")
        #expect(b.encoding == .labelIds)
        #expect(b.warning?.contains("is it trainIds?") == true)
        let c = try space.detectEncoding(of: labelLooking, path: "x/c_gtFine_labelTrainIds.png")
        #expect(c.encoding == .trainIds)
        #expect(c.warning?.contains("is it labelIds?") == true)
    }

    @Test func valuesDecideWithoutANameHint() throws {
        #expect(try space.detectEncoding(of: gray([7, 26, 33]), path: "p.png").encoding == .labelIds)
        #expect(try space.detectEncoding(of: gray([0, 5, 255]), path: "p.png").encoding == .trainIds)
        let ambiguous = try space.detectEncoding(of: gray([0, 5, 10]), path: "p.png")
        #expect(ambiguous.encoding == .trainIds)
        #expect(ambiguous.reason.contains("ambiguous"))
        let rgb = PNGImage(width: 1, height: 1, colorType: .rgb, bitDepth: 8, samples: .eight([128, 64, 128]))
        #expect(try space.detectEncoding(of: rgb, path: "p.png").encoding == .color)
    }

    @Test func decodesEachEncodingToTheSameTrainIds() throws {
        let trainIds: [UInt8] = [0, 1, 2, 13, 18, 255, 255, 5]
        let map = LabelMap(width: 4, height: 2, ids: trainIds)
        for encoding in LabelEncoding.allCases {
            let image = space.encode(map, as: encoding)
            let decoded = try space.decode(image, encoding: encoding, path: "p.png")
            #expect(decoded.map == map, "\(encoding)")
            #expect(decoded.unknownColors.isEmpty && decoded.outOfRangePixels == 0)
        }
    }

    @Test func unknownColoursAreCountedAndIgnored() throws {
        let rgb: [UInt8] = [128, 64, 128, 1, 2, 3, 1, 2, 3, 9, 9, 9]
        let image = PNGImage(width: 4, height: 1, colorType: .rgb, bitDepth: 8, samples: .eight(rgb))
        let decoded = try space.decode(image, encoding: .color, path: "p.png")
        #expect(decoded.map.ids == [0, 255, 255, 255])
        #expect(decoded.unknownColors.count == 2)
        #expect(decoded.unknownColors[0].color == RGB(1, 2, 3) && decoded.unknownColors[0].pixels == 2)
    }

    @Test func outOfRangeTrainIdsAreCounted() throws {
        let decoded = try space.decode(gray([3, 40, 41, 255]), encoding: .trainIds, path: "p.png")
        #expect(decoded.map.ids == [3, 255, 255, 255])
        #expect(decoded.outOfRangePixels == 2)
    }

    @Test func sixteenBitGrayIsNotALabelImage() throws {
        let image = PNGImage(width: 2, height: 1, colorType: .gray, bitDepth: 16, samples: .sixteen([1, 2]))
        #expect(throws: LabelError.wrongBitDepth(path: "p.png", bitDepth: 16, colorType: "gray")) {
            _ = try space.detectEncoding(of: image, path: "p.png")
        }
    }

    @Test func grayAlphaIsNotALabelImage() throws {
        let image = PNGImage(width: 1, height: 1, colorType: .grayAlpha, bitDepth: 8, samples: .eight([1, 255]))
        #expect(throws: LabelError.self) { _ = try space.detectEncoding(of: image, path: "p.png") }
    }

    @Test func colourEncodingOnGrayImageIsRefused() throws {
        #expect(throws: LabelError.self) { _ = try space.decode(gray([1]), encoding: .color, path: "p.png") }
    }
}
