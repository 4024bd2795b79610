/// Masks the RFC 1929 password in a client's byte stream, so that a capture shows the
/// authentication exchange (and Wireshark decodes it) without the secret: each password byte
/// becomes `*`, the length stays. Fed the client→server bytes in order, in any chunking.
///
/// The client's stream is greeting, then (if it authenticates) the sub-negotiation, then the
/// request: the sub-negotiation is recognised by its version byte 0x01 where a request would
/// start with 0x05 (RFC 1929 §2). Anything that does not parse is passed through unchanged
/// past the point where it stops making sense: there is no password in it to find.
package struct PasswordRedaction: Sendable {
    private enum Stage: Sendable {
        case greetingVersion, greetingCount
        case greetingMethods(left: Int)
        case afterGreeting
        case usernameLength
        case username(left: Int)
        case passwordLength
        case password(left: Int)
        case done
    }

    private var stage = Stage.greetingVersion
    /// How many password bytes were masked so far.
    package private(set) var maskedBytes = 0

    package init() {}

    /// `bytes` with any password bytes among them replaced by `*`.
    package mutating func redact(_ bytes: [UInt8]) -> [UInt8] {
        var out = bytes
        for i in out.indices {
            let byte = out[i]
            switch stage {
            case .greetingVersion: stage = byte == 0x05 ? .greetingCount : .done
            case .greetingCount: stage = byte == 0 ? .afterGreeting : .greetingMethods(left: Int(byte))
            case .greetingMethods(let left): stage = left > 1 ? .greetingMethods(left: left - 1) : .afterGreeting
            case .afterGreeting: stage = byte == 0x01 ? .usernameLength : .done
            case .usernameLength: stage = byte == 0 ? .passwordLength : .username(left: Int(byte))
            case .username(let left): stage = left > 1 ? .username(left: left - 1) : .passwordLength
            case .passwordLength: stage = byte == 0 ? .done : .password(left: Int(byte))
            case .password(let left):
                out[i] = UInt8(ascii: "*")
                maskedBytes += 1
                stage = left > 1 ? .password(left: left - 1) : .done
            case .done: return out
            }
        }
        return out
    }
}
