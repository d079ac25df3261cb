/// Warnings as the user should see them: one repeated for many files (the
/// same words after the file name, numbers aside) is printed once, with how
/// many more there were.
public enum Warnings {
    public static func collapse(_ notes: [String]) -> [String] {
        var order: [String] = []
        var groups: [String: (first: String, count: Int)] = [:]
        for note in notes {
            let shape = self.shape(note)
            if let group = groups[shape] {
                groups[shape] = (group.first, group.count + 1)
            } else {
                order.append(shape)
                groups[shape] = (note, 1)
            }
        }
        return order.map { shape in
            let (first, count) = groups[shape]!
            return count == 1 ? first : "\(first) (and \(count - 1) more like it)"
        }
    }

    /// The note without its leading "path: " and with every run of digits as "#".
    static func shape(_ note: String) -> String {
        var body = Substring(note)
        if let colon = note.range(of: ": ") { body = note[colon.upperBound...] }
        var out = ""
        var inNumber = false
        for c in body {
            if c.isASCII && c.isNumber {
                if !inNumber { out.append("#") }
                inNumber = true
            } else {
                out.append(c)
                inNumber = false
            }
        }
        return out
    }
}
