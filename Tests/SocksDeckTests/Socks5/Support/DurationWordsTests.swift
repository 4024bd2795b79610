import Socks5
import Testing

@Suite struct DurationWordsTests {
    /// To the millisecond, whole seconds without a fraction: what logs and errors say of a timeout.
    @Test(arguments: [
        (Duration.milliseconds(250), "250 ms"),
        (.microseconds(999_600), "1 s"),
        (.milliseconds(1250), "1.25 s"),
        (.milliseconds(1500), "1.5 s"),
        (.milliseconds(1999), "1.999 s"),
        (.seconds(30), "30 s"),
        (.seconds(300), "300 s"),
    ])
    func durationsInWords(_ duration: Duration, _ words: String) {
        #expect(duration.words == words)
    }

    @Test func millisecondsKeepTheirFraction() {
        #expect(Duration.microseconds(1500).milliseconds == 1.5)
        #expect(Duration.seconds(2).milliseconds == 2000)
    }
}
