extension Duration {
    /// In milliseconds, fractions kept: what a figure in words or JSON (`…Milliseconds`) shows.
    package var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }

    /// The duration as people read it in a log line: `500 ms`, `1.5 s`, `60 s` (Duration's own
    /// description says `60.0 seconds`).
    package var words: String {
        if milliseconds < 1000 { return "\(Int(milliseconds.rounded())) ms" }
        let seconds = milliseconds / 1000
        return seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\((seconds * 10).rounded() / 10) s"
    }
}
