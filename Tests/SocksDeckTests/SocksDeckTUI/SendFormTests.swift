import Socks5
import SocksDeckEngine
import Testing

@testable import SocksDeckTUI

/// The send form: what it reads, and that a refused Enter keeps what was typed and says where.
@Suite struct SendFormTests {
    static func form(_ keys: [Key], target: String = "127.0.0.1:9", payload: String = "hi") -> SendRequest {
        var form = SendRequest(target: target, payload: payload)
        form.focus(0)
        for key in keys { _ = form.handle(key) }
        return form
    }

    @Test func aValidFormGivesTheSend() {
        var form = Self.form([.tab, .control("u")] + "68 69".map { .character($0) } + [.tab, .character("y")])
        #expect(form.payload == "68 69" && form.hex)
        let send = form.validate()
        #expect(send?.payload == [0x68, 0x69])
        #expect(send?.target == .ip(IPEndpoint("127.0.0.1:9")!))
        #expect(
            SendRequest(target: "dns.example:53").validateCopy()?.target == SOCKSAddress(destination: "dns.example:53")
        )
    }

    @Test(arguments: [
        ("127.0.0.1", 0, "is not host:port"),
        ("127.0.0.1:0", 0, "is not host:port"),
    ])
    func aWrongTargetIsNamedOnItsFieldAndTheTextStays(target: String, field: Int, words: String) {
        var form = SendRequest(target: target, payload: "kept")
        #expect(form.validate() == nil)
        #expect(form.problem?.field == field && form.problem?.message.contains(words) == true)
        #expect(form.target == target && form.payload == "kept")
        #expect(form.field == field)
    }

    @Test func wrongHexCountAndIntervalAreEachNamed() {
        var hex = Self.form([.tab, .tab, .character("y")], payload: "6g")
        #expect(hex.validate() == nil && hex.problem?.field == 1)
        #expect(hex.problem?.message.contains("'g' (character 2) is not a hex digit") == true)
        var count = Self.form([.tab, .tab, .tab, .control("u"), .character("0")])
        #expect(count.validate() == nil && count.problem?.field == 3)
        var interval = Self.form([.backTab, .character("x")])
        #expect(interval.validate() == nil && interval.problem?.field == 4)
        // Typing in the field that was wrong clears its complaint.
        _ = count.handle(.backspace)
        #expect(count.problem == nil)
    }

    @Test func ctrlUInTheFormClearsTheFieldInsteadOfTypingAControlCharacter() {
        let form = Self.form([.control("u")] + "10.0.0.1:53".map { .character($0) })
        #expect(form.target == "10.0.0.1:53")
        #expect(!form.target.contains("\u{15}"))
    }
}

extension SendRequest {
    func validateCopy() -> Validated? {
        var copy = self
        return copy.validate()
    }
}

/// The check form's QUIC choice (issue 32): prefilled from the server's quic setting, 443 by default.
@Suite struct CheckFormQUICTests {
    @Test func theQUICCheckTakesItsTargetAndPort443() {
        var server = ServerDefinition(name: "s", host: "127.0.0.1", port: 1080)
        server.checkTargets.quic = CheckKind.quic.target("[::1]:4433")
        var form = CheckForm(server: server, kind: .quic)
        #expect(form.fields.values[CheckForm.target] == "[::1]:4433")
        #expect(form.validate() == .quic(server: SOCKSAddress(destination: "[::1]:4433")!))
        form.fields.set(CheckForm.target, "127.0.0.1")
        #expect(form.validate() == .quic(server: .ip(IPEndpoint("127.0.0.1:443")!)))
        #expect(CheckForm.kinds.contains("quic"))
    }

    /// The form opens on the check's kind, so Space goes through the checks as its footer says
    /// (and the target follows the server's setting for the kind).
    @Test func theCheckFormOpensOnTheCheckSoSpaceCyclesIt() {
        var server = ServerDefinition(name: "s", host: "127.0.0.1", port: 1080)
        server.checkTargets = CheckTargets(
            dns: CheckKind.dns.target("127.0.0.1"),
            ntp: CheckKind.ntp.target("127.0.0.1")
        )
        var form = CheckForm(server: server)
        #expect(form.fields.field == CheckForm.kind)
        #expect(form.handle(.character(" ")) == .stay)
        #expect(form.fields.values[CheckForm.kind] == "ntp")
        #expect(form.fields.values[CheckForm.target] == "127.0.0.1:123")
    }
}
