import Glibc
import Socks5
import Testing

@testable import SocksDeckEngine

/// SocksDeck's own options and commands reach its users beside the library's hint, which names
/// none of them (ErrorCatalogueTests.theLibrarysWordsNameNoFrontEnd).
@Suite struct SocksDeckHintTests {
    @Test func theFrontEndsOptionsFollowTheLibrarysHint() {
        let family = AssociationFailure(SOCKS5Error(code: .boundAddressFamily, systemError: EAFNOSUPPORT))
        #expect(family.hint?.hasPrefix(ErrorCatalogue.decode(s5: 17).hint ?? "?") == true, "\(family)")
        #expect(family.hint?.hasSuffix("In SocksDeck: --family 4 or 6.") == true, "\(family)")
        let file = AssociationFailure(SOCKS5Error(code: .configurationFile, systemError: EINVAL))
        #expect(file.hint?.contains("socksdeck getserv ADDRESS") == true)
        let slow = AssociationFailure(.system(ETIMEDOUT, "read the method selection"))
        #expect(slow.hint?.contains("connect_timeout_ms and handshake_timeout_ms") == true)
        // Nothing is added where SocksDeck has nothing of its own to say.
        let refused = AssociationFailure(SOCKS5Error(code: .connectionRefused))
        #expect(refused.hint == ErrorCatalogue.decode(s5: SOCKS5ErrorCode.connectionRefused.rawValue).hint)
    }
}
