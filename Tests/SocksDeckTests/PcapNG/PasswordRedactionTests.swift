import Testing

@testable import PcapNG

/// The password goes, its length and everything around it stay, however the stream is cut.
@Suite struct PasswordRedactionTests {
    static let greeting: [UInt8] = [5, 2, 0, 2]
    static let auth: [UInt8] = [1, 4] + Array("user".utf8) + [6] + Array("secret".utf8)
    static let request: [UInt8] = [5, 3, 0, 1, 0, 0, 0, 0, 0, 0]
    static let masked: [UInt8] = [1, 4] + Array("user".utf8) + [6] + Array("******".utf8)

    @Test(arguments: [1, 2, 3, 5, 7, 100])
    func theSecretIsMaskedInAnyChunking(chunk: Int) {
        var redaction = PasswordRedaction()
        let stream = Self.greeting + Self.auth + Self.request
        var out: [UInt8] = []
        var i = 0
        while i < stream.count {
            out += redaction.redact(Array(stream[i..<min(i + chunk, stream.count)]))
            i += chunk
        }
        #expect(out == Self.greeting + Self.masked + Self.request)
        #expect(redaction.maskedBytes == 6)
    }

    @Test func aStreamWithoutAuthenticationIsUntouched() {
        var redaction = PasswordRedaction()
        let stream: [UInt8] = [5, 1, 0] + Self.request
        #expect(redaction.redact(stream) == stream)
        #expect(redaction.maskedBytes == 0)
        var notSOCKS = PasswordRedaction()
        #expect(notSOCKS.redact([1, 4, 1, 2, 3]) == [1, 4, 1, 2, 3])
    }
}
