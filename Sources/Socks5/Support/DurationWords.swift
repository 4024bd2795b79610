extension Duration {
    /// In milliseconds, fractions kept: what a figure in words or JSON (`…Milliseconds`) shows.
    package var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }

    /// The duration as people read it in a log line, to the millisecond: `500 ms`, `1.25 s`,
    /// `60 s` (Duration's own description says `60.0 seconds`).
    package var words: String {
        let wholeMilliseconds = milliseconds.rounded()
        if wholeMilliseconds < 1000 { return "\(Int(wholeMilliseconds)) ms" }
        let seconds = wholeMilliseconds / 1000
        return seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s"
    }
}
