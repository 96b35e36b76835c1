extension String {
    /// Appends this text to `out` with every scalar that `replacement` names replaced (nil keeps
    /// it): the one loop of the hand-written JSON and XML writers, each with its own table.
    public func appendEscaped(to out: inout String, _ replacement: (Unicode.Scalar) -> String?) {
        for scalar in unicodeScalars {
            if let replaced = replacement(scalar) { out += replaced } else { out.unicodeScalars.append(scalar) }
        }
    }
}
