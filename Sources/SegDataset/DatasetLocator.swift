import Foundation
import SegFormats
import SegLabels

/// What the command line says about a dataset; any of it may be empty.
public struct DatasetOptions: Sendable {
    /// A Cityscapes or CamVid root, a manifest file, or a folder holding `segscope.toml`.
    public var path: String?
    public var frames: String?
    public var groundTruth: String?
    public var features: String?
    public var methods: [MethodSource] = []
    public var space: LabelSpace?
    public var split: String?
    public var groundTruthEncoding: LabelEncoding?
    public var predictionEncoding: LabelEncoding?
    public var reference: String?
    public var bookmarks: String?

    public init() {}

    /// Merges `--pred NAME=DIR` and `--conf NAME=DIR` flags into methods, in
    /// the order the predictions were given.
    public mutating func addMethods(predictions: [String], confidences: [String]) throws {
        func split(_ text: String, _ flag: String) throws -> (String, String) {
            guard let eq = text.firstIndex(of: "="), eq != text.startIndex, text.index(after: eq) != text.endIndex
            else {
                throw DatasetError.badOption("\(flag) expects NAME=DIR, got '\(text)'")
            }
            return (String(text[..<eq]), String(text[text.index(after: eq)...]))
        }
        for text in predictions {
            let (name, folder) = try split(text, "--pred")
            guard !methods.contains(where: { $0.name == name }) else {
                throw DatasetError.badOption("method '\(name)' given twice")
            }
            methods.append(MethodSource(name: name, predictions: folder, encoding: predictionEncoding))
        }
        for text in confidences {
            let (name, folder) = try split(text, "--conf")
            if let i = methods.firstIndex(where: { $0.name == name }) {
                methods[i].confidences = folder
            } else {
                methods.append(MethodSource(name: name, confidences: folder))
            }
        }
    }
}

/// Finds the frames of a dataset on disk. Discovery only lists folders and
/// parses names; it decodes nothing.
public enum DatasetLocator {
    public static let manifestName = "segscope.toml"

    public static func open(_ options: DatasetOptions) throws -> Dataset {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if let path = options.path {
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw DatasetError.notADataset(path: path, reason: "no such file or folder")
            }
            if !isDirectory.boolValue { return try openManifest(path: path, options: options) }
            if fm.fileExists(atPath: path + "/" + manifestName) {
                return try openManifest(path: path + "/" + manifestName, options: options)
            }
            if fm.fileExists(atPath: path + "/leftImg8bit_sequence") || fm.fileExists(atPath: path + "/leftImg8bit")
                || fm.fileExists(atPath: path + "/gtFine")
            {
                return try openCityscapes(root: path, options: options)
            }
            if ["train", "val", "test"].contains(where: { fm.fileExists(atPath: path + "/\($0)annot") }) {
                return try openCamVid(root: path, options: options)
            }
            if isFolder(path + "/data")
                && (["train.txt", "val.txt", "test.txt"].contains { fm.fileExists(atPath: path + "/" + $0) }
                    || isVSPWVideo(path + "/data"))
            {
                return try openVSPW(root: path, options: options)
            }
            if options.frames == nil && options.groundTruth == nil && options.methods.isEmpty {
                throw DatasetError.notADataset(
                    path: path,
                    reason:
                        "no \(manifestName), no leftImg8bit_sequence/ or gtFine/ (Cityscapes), no trainannot/ (CamVid), no data/<video>/origin/ (VSPW); or give --frames/--gt/--pred"
                )
            }
        }
        guard options.frames != nil || options.groundTruth != nil || !options.methods.isEmpty else {
            throw DatasetError.badOption("no dataset given: pass a PATH or --frames/--gt/--pred folders")
        }
        return try assemble(
            root: options.path ?? ".", layout: .folders, space: options.space ?? .cityscapes,
            frames: options.frames, groundTruth: options.groundTruth, features: options.features,
            methods: options.methods, options: options,
            notes: options.space == nil
                ? ["no --label-space given: using cityscapes"] : [])
    }

    // MARK: layouts

    static func openCityscapes(root: String, options: DatasetOptions) throws -> Dataset {
        let fm = FileManager.default
        let imageBase =
            fm.fileExists(atPath: root + "/leftImg8bit_sequence")
            ? root + "/leftImg8bit_sequence"
            : root + "/leftImg8bit"
        let split = options.split.map { "/" + $0 } ?? ""
        let frames = fm.fileExists(atPath: imageBase) ? imageBase + split : nil
        let gt = fm.fileExists(atPath: root + "/gtFine") ? root + "/gtFine" + split : nil
        let features =
            options.features ?? (fm.fileExists(atPath: root + "/features") ? root + "/features" + split : nil)
        for (folder, role) in [(frames, "frames"), (gt, "ground truth")] {
            if let folder, !isFolder(folder) { throw DatasetError.missingFolder(path: folder, role: role) }
        }
        return try assemble(
            root: root, layout: .cityscapes, space: options.space ?? .cityscapes,
            frames: options.frames ?? frames, groundTruth: options.groundTruth ?? gt,
            features: features.flatMap { isFolder($0) ? $0 : nil },
            methods: options.methods, options: options, notes: [])
    }

    /// The SegNet CamVid layout: `<split>/` frames and `<split>annot/` labels
    /// (values 0-10, 11 = void), frames named `<seq>_<frame>.png`.
    static func openCamVid(root: String, options: DatasetOptions) throws -> Dataset {
        let split = options.split ?? (["test", "val", "train"].first { isFolder(root + "/\($0)annot") } ?? "test")
        let frames = root + "/" + split
        let gt = root + "/" + split + "annot"
        guard isFolder(gt) else { throw DatasetError.missingFolder(path: gt, role: "ground truth") }
        var options = options
        if options.groundTruthEncoding == nil { options.groundTruthEncoding = .labelIds }
        return try assemble(
            root: root, layout: .camvid, space: options.space ?? .camvid,
            frames: options.frames ?? (isFolder(frames) ? frames : nil),
            groundTruth: options.groundTruth ?? gt, features: options.features,
            methods: options.methods, options: options, notes: [])
    }

    /// Whether `data` holds VSPW videos (a folder with origin/ or mask/).
    static func isVSPWVideo(_ data: String) -> Bool {
        let videos = (try? list(data)) ?? []
        return videos.sorted().prefix(8).contains { isFolder(data + "/\($0)/origin") || isFolder(data + "/\($0)/mask") }
    }

    /// The VSPW layout: `data/<video>/origin/<frame>.jpg` frames,
    /// `data/<video>/mask/<frame>.png` ground truth (mask values are the
    /// classes, 255 void), split lists `train.txt`/`val.txt`/`test.txt` with a
    /// video name a line (the split given, else val, else every video), and
    /// predictions `<dir>/<video>/<frame>.png` (confidences the same, or .npy).
    /// Frame keys are `<video>/<frame>`; a video is a sequence.
    static func openVSPW(root: String, options: DatasetOptions) throws -> Dataset {
        let fm = FileManager.default
        let split = options.split ?? (fm.fileExists(atPath: root + "/val.txt") ? "val" : nil)
        var videos: [String]
        if let split {
            let list = root + "/\(split).txt"
            guard fm.fileExists(atPath: list) else { throw DatasetError.missingFolder(path: list, role: "split list") }
            let text = try MappedFile(path: list).withBytes { String(decoding: $0, as: UTF8.self) }
            videos = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                !$0.isEmpty
            }
        } else {
            videos = ((try? Self.list(root + "/data")) ?? []).filter { isFolder(root + "/data/" + $0) }.sorted()
        }
        var options = options
        if options.groundTruthEncoding == nil { options.groundTruthEncoding = .labelIds }
        var records: [FrameRecord] = []
        var notes: [String] = []
        for video in videos {
            let folder = root + "/data/" + video
            guard isFolder(folder) else {
                notes.append("VSPW video '\(video)' is listed but has no folder \(folder)")
                continue
            }
            var byStem: [String: FrameRecord] = [:]
            func files(_ sub: String, _ extensions: [String]) -> [(stem: String, path: String)] {
                let names = (try? Self.list(folder + "/" + sub)) ?? []
                return names.sorted().compactMap { name in
                    guard let dot = name.lastIndex(of: "."),
                        extensions.contains(name[name.index(after: dot)...].lowercased()),
                        !name.hasPrefix(".")
                    else { return nil }
                    return (String(name[..<dot]), folder + "/" + sub + "/" + name)
                }
            }
            func record(_ stem: String) -> FrameRecord {
                byStem[stem]
                    ?? FrameRecord(
                        id: FrameKey(
                            key: video + "/" + stem, sequence: video,
                            index: Int(stem.filter(\.isNumber)) ?? 0))
            }
            for (stem, path) in files("origin", ["jpg", "jpeg", "png"]) {
                var r = record(stem)
                r.image = path
                byStem[stem] = r
            }
            for (stem, path) in files("mask", ["png"]) {
                var r = record(stem)
                r.groundTruth = path
                byStem[stem] = r
            }
            for method in options.methods {
                for stem in Array(byStem.keys) {
                    if let folder = method.predictions, exists("\(folder)/\(video)/\(stem).png") {
                        byStem[stem]!.predictions[method.name] = "\(folder)/\(video)/\(stem).png"
                    }
                    if let folder = method.confidences {
                        for ext in ["png", "npy"] where exists("\(folder)/\(video)/\(stem).\(ext)") {
                            byStem[stem]!.confidences[method.name] = "\(folder)/\(video)/\(stem).\(ext)"
                        }
                    }
                }
            }
            records += byStem.values
        }
        if records.isEmpty { throw DatasetError.noFrames(path: root + "/data") }
        return try dataset(
            root: root, layout: .vspw, space: options.space ?? .vspw, records: records, methods: options.methods,
            options: options,
            notes: notes, frames: root + "/data", groundTruth: root + "/data", features: options.features)
    }

    /// A manifest (TOML or JSON), field by field; paths are relative to the
    /// manifest's folder:
    /// - `label_space`: `cityscapes`, `camvid`, or a theme file defining a custom space
    /// - `frames`, `gt`, `features`: folders (optional, searched recursively)
    /// - `gt_encoding`: `trainIds`, `labelIds` or `color` (optional; detected otherwise)
    /// - `reference`: the method deltas are taken against (optional)
    /// - `bookmarks`: bookmark file (optional; default `bookmarks.json` beside the manifest)
    /// - `weights`: STF/MAR weights file for the viewer's explain view (optional)
    /// - `[[method]]`: `name`, `pred` (folder), `conf` (folder, optional),
    ///   `encoding` (optional), in display order
    static func openManifest(path: String, options: DatasetOptions) throws -> Dataset {
        let root = FileName.parent(of: path)
        let document: JSONValue
        do { document = try ConfigFile.load(path: path) } catch let error as LabelError {
            throw DatasetError.manifest(path: path, problem: "\(error)".replacingOccurrences(of: path + ": ", with: ""))
        }
        guard document.object != nil else { throw DatasetError.manifest(path: path, problem: "not a table") }
        func folder(_ key: String) throws -> String? {
            guard let value = document[key] else { return nil }
            guard let relative = value.string else {
                throw DatasetError.manifest(path: path, problem: "'\(key)' must be a string")
            }
            let resolved = relative.hasPrefix("/") ? relative : root + "/" + relative
            guard isFolder(resolved) else { throw DatasetError.missingFolder(path: resolved, role: key) }
            return resolved
        }
        func encoding(_ value: JSONValue?, _ field: String) throws -> LabelEncoding? {
            guard let value else { return nil }
            guard let text = value.string, let e = LabelEncoding(rawValue: text) else {
                throw DatasetError.manifest(path: path, problem: "\(field) must be trainIds, labelIds or color")
            }
            return e
        }
        var space = options.space
        if space == nil, let name = document["label_space"]?.string {
            if let builtIn = LabelSpace.named(name) {
                space = builtIn
            } else {
                let themePath = name.hasPrefix("/") ? name : root + "/" + name
                space = try Theme.load(path: themePath).space
            }
        }
        var methods: [MethodSource] = []
        for entry in document["method"]?.array ?? [] {
            guard let name = entry["name"]?.string else {
                throw DatasetError.manifest(path: path, problem: "a [[method]] has no name")
            }
            func sub(_ key: String) throws -> String? {
                guard let relative = entry[key]?.string else { return nil }
                let resolved = relative.hasPrefix("/") ? relative : root + "/" + relative
                guard isFolder(resolved) else {
                    throw DatasetError.missingFolder(path: resolved, role: "method '\(name)' \(key)")
                }
                return resolved
            }
            methods.append(
                MethodSource(
                    name: name, predictions: try sub("pred"), confidences: try sub("conf"),
                    encoding: try encoding(entry["encoding"], "method '\(name)' encoding") ?? options.predictionEncoding
                ))
        }
        for extra in options.methods where !methods.contains(where: { $0.name == extra.name }) { methods.append(extra) }
        var merged = options
        let manifestEncoding = try encoding(document["gt_encoding"], "gt_encoding")
        merged.groundTruthEncoding = options.groundTruthEncoding ?? manifestEncoding
        merged.reference = options.reference ?? document["reference"]?.string
        if merged.bookmarks == nil {
            merged.bookmarks = document["bookmarks"]?.string.map { $0.hasPrefix("/") ? $0 : root + "/" + $0 }
        }
        var weights: String?
        if let value = document["weights"] {
            guard let relative = value.string, !relative.isEmpty else {
                throw DatasetError.manifest(path: path, problem: "'weights' must be a file name (a string)")
            }
            weights = relative.hasPrefix("/") ? relative : root + "/" + relative
        }
        var dataset = try assemble(
            root: root, layout: .manifest, space: space ?? .cityscapes,
            frames: try options.frames ?? folder("frames"), groundTruth: try options.groundTruth ?? folder("gt"),
            features: try options.features ?? folder("features"), methods: methods, options: merged,
            notes: space == nil ? ["manifest has no label_space: using cityscapes"] : [])
        dataset.weights = weights
        return dataset
    }

    // MARK: assembly

    static func assemble(
        root: String, layout: Dataset.Layout, space: LabelSpace, frames: String?, groundTruth: String?,
        features: String?, methods: [MethodSource], options: DatasetOptions, notes: [String]
    ) throws -> Dataset {
        var notes = notes
        var records: [FrameKey: FrameRecord] = [:]
        func record(_ id: FrameKey) -> FrameRecord { records[id] ?? FrameRecord(id: id) }
        if let frames {
            for (id, path) in try index(folder: frames, role: "frames", score: imageScore) {
                var r = record(id)
                r.image = path
                records[id] = r
            }
        }
        if let groundTruth {
            let preference = options.groundTruthEncoding
            for (id, path) in try index(
                folder: groundTruth, role: "ground truth", score: { labelScore($0, preference) })
            {
                var r = record(id)
                r.groundTruth = path
                records[id] = r
            }
            for (id, path) in try index(
                folder: groundTruth, role: "ground truth", score: { $0.hasSuffix("_instanceIds.png") ? 1 : nil })
            where records[id]?.groundTruth != nil {
                records[id]!.instances = path
            }
        }
        if let features {
            for (id, path) in try index(folder: features, role: "features", score: { $0.hasSuffix(".npy") ? 1 : nil }) {
                var r = record(id)
                r.features = path
                records[id] = r
            }
        }
        for method in methods {
            if let folder = method.predictions {
                let preference = method.encoding ?? options.predictionEncoding
                let found = try index(
                    folder: folder, role: "method '\(method.name)' predictions", score: { labelScore($0, preference) })
                // Predictions only attach to known frames when frames or GT define them.
                let definesFrames = frames != nil || groundTruth != nil
                var unmatched = 0
                for (id, path) in found {
                    if definesFrames && records[id] == nil {
                        unmatched += 1
                        continue
                    }
                    var r = record(id)
                    r.predictions[method.name] = path
                    records[id] = r
                }
                if unmatched > 0 {
                    notes.append("method '\(method.name)': \(unmatched) prediction file(s) match no frame")
                }
            }
            if let folder = method.confidences {
                let found = try index(
                    folder: folder, role: "method '\(method.name)' confidences", score: confidenceScore)
                for (id, path) in found where records[id] != nil || (frames == nil && groundTruth == nil) {
                    var r = record(id)
                    r.confidences[method.name] = path
                    records[id] = r
                }
            }
        }
        if records.isEmpty { throw DatasetError.noFrames(path: frames ?? groundTruth ?? root) }
        return try dataset(
            root: root, layout: layout, space: space, records: Array(records.values), methods: methods,
            options: options,
            notes: notes, frames: frames, groundTruth: groundTruth, features: features)
    }

    /// Frames grouped into sequences and ordered, with the methods and where bookmarks go.
    static func dataset(
        root: String, layout: Dataset.Layout, space: LabelSpace, records: [FrameRecord], methods: [MethodSource],
        options: DatasetOptions, notes: [String], frames: String?, groundTruth: String?, features: String?
    ) throws -> Dataset {
        var bySequence: [String: [FrameRecord]] = [:]
        for r in records { bySequence[r.id.sequence, default: []].append(r) }
        let sequences = bySequence.keys.sorted().map {
            SequenceRecord(name: $0.isEmpty ? "frames" : $0, frames: bySequence[$0]!.sorted { $0.id < $1.id })
        }
        let names = methods.map(\.name)
        if let reference = options.reference, !names.contains(reference) {
            throw DatasetError.badOption(
                "reference method '\(reference)' is not among the methods (\(names.joined(separator: ", ")))")
        }
        let bookmarks =
            options.bookmarks
            ?? (layout == .manifest || layout == .cityscapes || layout == .camvid || layout == .vspw
                ? root + "/bookmarks.json" : (frames ?? groundTruth ?? root) + "/bookmarks.json")
        var encodings: [String: LabelEncoding] = [:]
        for method in methods {
            if let e = method.encoding ?? options.predictionEncoding { encodings[method.name] = e }
        }
        var dataset = Dataset(
            root: root, layout: layout, space: space, sequences: sequences, methods: names,
            reference: options.reference ?? names.first, groundTruthEncoding: options.groundTruthEncoding,
            predictionEncodings: encodings, bookmarksPath: bookmarks, notes: notes)
        dataset.framesFolder = frames
        dataset.groundTruthFolder = groundTruth
        dataset.featuresFolder = features
        return dataset
    }

    /// Whether `path` names anything (names that are not UTF-8 included, see FileName).
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(FileName.systemPath(path), &info) == 0
    }

    static func isFolder(_ path: String) -> Bool {
        var info = stat()
        return stat(FileName.systemPath(path), &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func imageScore(_ name: String) -> Int? {
        guard name.hasSuffix(".png") || ImageFile.isJPEG(name) else { return nil }
        return name.contains("_leftImg8bit") ? 2 : 1
    }

    /// Which of several label files of one frame to use (higher wins; nil: not a label file).
    static func labelScore(_ name: String, _ preference: LabelEncoding?) -> Int? {
        guard name.hasSuffix(".png") else { return nil }
        if name.contains("instanceIds") { return nil }
        let encoding: LabelEncoding? =
            name.contains("TrainIds") || name.contains("trainIds")
            ? .trainIds
            : name.contains("labelIds") ? .labelIds : name.hasSuffix("_color.png") ? .color : nil
        if let preference, let encoding { return encoding == preference ? 10 : 1 }
        switch encoding {
        case .trainIds: return 4
        case .labelIds: return 3
        case .color: return 2
        case nil: return 1
        }
    }

    static func confidenceScore(_ name: String) -> Int? {
        name.hasSuffix(".png") || name.hasSuffix(".npy") ? 1 : nil
    }

    /// Device and inode of a folder (symlinks followed), so that a walk
    /// through links (`loop -> .`, `up -> ..`) visits each folder once.
    static func identity(_ path: String) -> [UInt64]? {
        var info = stat()
        guard stat(FileName.systemPath(path), &info) == 0 else { return nil }
        return [UInt64(info.st_dev), UInt64(info.st_ino)]
    }

    /// The names in `directory`, or an error saying why it cannot be listed.
    static func list(_ directory: String) throws -> [String] {
        guard let stream = opendir(FileName.systemPath(directory)) else {
            let code = errno
            let reason =
                code == EACCES
                ? "permission denied (cannot list the folder)"
                : "cannot list the folder: \(String(cString: strerror(code)))"
            throw FormatError.unreadable(path: directory, reason: reason)
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            // Names that are not UTF-8 are kept byte for byte (FileName), not replaced.
            let name = withUnsafeBytes(of: entry.pointee.d_name) { FileName.decode(Array($0.prefix { $0 != 0 })) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Lists `folder` recursively and maps frame keys to the best-scoring file.
    static func index(folder: String, role: String, score: (String) -> Int?) throws -> [(FrameKey, String)] {
        guard isFolder(folder) else { throw DatasetError.missingFolder(path: folder, role: role) }
        var best: [FrameKey: (score: Int, path: String)] = [:]
        var pending = [folder]
        var visited = Set([identity(folder)].compactMap { $0 })
        while let directory = pending.popLast() {
            let names = try list(directory)
            for name in names.sorted() where !name.hasPrefix(".") {
                let path = directory + "/" + name
                var info = stat()
                if lstat(FileName.systemPath(path), &info) != 0 && errno == EACCES {
                    // A folder that can be listed but not searched (mode r-- without x): its files cannot be opened.
                    let reason = "permission denied (the folder can be listed but not searched)"
                    throw FormatError.unreadable(path: directory, reason: reason)
                }
                if isFolder(path) {
                    if let id = identity(path), visited.insert(id).inserted { pending.append(path) }
                    continue
                }
                guard let s = score(name), let id = FrameKey(fileName: name) else { continue }
                if let existing = best[id], existing.score >= s { continue }
                best[id] = (s, path)
            }
        }
        return best.map { ($0.key, $0.value.path) }.sorted { $0.0 < $1.0 }
    }
}
