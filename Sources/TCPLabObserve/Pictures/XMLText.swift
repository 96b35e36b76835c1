/// Escaping for text and attribute values in SVG and HTML written by hand: the five characters
/// XML gives a meaning to, and the control characters XML 1.0 forbids outright (a segment label
/// never has them, but a lab's free text might, and one would make the whole file unreadable).
public enum XMLText {
    /// `a < b & "c"` → `a &lt; b &amp; &quot;c&quot;`; safe in element text and in quoted attributes.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        text.appendEscaped(to: &out) { scalar in
            switch scalar {
            case "&": "&amp;"
            case "<": "&lt;"
            case ">": "&gt;"
            case "\"": "&quot;"
            case "'": "&#39;"
            case "\t", "\n", "\r": nil
            case _ where scalar.value < 0x20 || (0xFFFE...0xFFFF).contains(scalar.value): "\u{FFFD}"
            default: nil
            }
        }
        return out
    }
}

/// A small writer for XML elements (SVG, XHTML): `open`/`close` and self-closed elements with
/// attributes in the order given, every value escaped. Pure string building, no DOM.
public struct XMLWriter: Sendable {
    public private(set) var text = ""
    private var stack: [String] = []

    public init() {}

    /// `<name a="1">`; attributes whose value is nil are left out.
    public mutating func open(_ name: String, _ attributes: KeyValuePairs<String, String?> = [:]) {
        text += "<\(name)\(Self.attributes(attributes))>"
        stack.append(name)
    }

    public mutating func close() {
        guard let name = stack.popLast() else { preconditionFailure("XMLWriter.close() without an open element") }
        text += "</\(name)>"
    }

    /// `<name a="1"/>`.
    public mutating func empty(_ name: String, _ attributes: KeyValuePairs<String, String?> = [:]) {
        text += "<\(name)\(Self.attributes(attributes))/>"
    }

    /// `<name a="1">escaped text</name>`.
    public mutating func element(_ name: String, _ attributes: KeyValuePairs<String, String?> = [:], text content: String) {
        text += "<\(name)\(Self.attributes(attributes))>\(XMLText.escape(content))</\(name)>"
    }

    /// Escaped character data inside the current element.
    public mutating func characters(_ content: String) { text += XMLText.escape(content) }

    /// Markup that is already well-formed (an SVG inside an HTML page), unescaped.
    public mutating func raw(_ markup: String) { text += markup }

    public mutating func newline() { text += "\n" }

    /// The finished document; every element must be closed.
    public var document: String {
        precondition(stack.isEmpty, "XMLWriter: unclosed <\(stack.joined(separator: "><"))>")
        return text
    }

    private static func attributes(_ pairs: KeyValuePairs<String, String?>) -> String {
        pairs.reduce(into: "") { out, pair in
            if let value = pair.value { out += " \(pair.key)=\"\(XMLText.escape(value))\"" }
        }
    }

    /// Coordinates with at most one decimal, no trailing ".0": 12 → "12", 12.25 → "12.3".
    public static func number(_ value: Double) -> String {
        let tenths = (value * 10).rounded()
        return tenths.truncatingRemainder(dividingBy: 10) == 0 ? String(Int(tenths / 10)) : String(tenths / 10)
    }
}
