import Foundation
import Socks5
import Testing

@testable import SocksDeckEngine

@Suite struct DeckConfigurationTests {
    let sample = """
        [[server]]
        name = "dante"
        address = "127.0.0.1:1080"
        echo = "127.0.0.1:9999"

        [[server]]
        name = "dante6"
        address = "[::1]:1080"
        handshake_timeout_ms = 2000

        [[server]]
        name = "auth"
        address = "127.0.0.1:1081"
        username = "socksuser"
        password_env = "TEST_SOCKS_PASSWORD"
        """

    @Test func parsesServers() throws {
        let c = try DeckConfiguration.parse(sample, environment: ["TEST_SOCKS_PASSWORD": "hunter2-secret"])
        #expect(c.servers.map(\.name) == ["dante", "dante6", "auth"])
        #expect(c.servers[0].echo == IPEndpoint("127.0.0.1:9999"))
        #expect(c.servers[1].host == "::1" && c.servers[1].port == 1080 && c.servers[1].address == "[::1]:1080")
        #expect(c.servers[1].handshakeTimeout == .seconds(2))
        #expect(c.servers[2].credentials == Credentials(username: "socksuser", password: "hunter2-secret"))
        #expect(c.servers[2].passwordSource == .environment("TEST_SOCKS_PASSWORD"))
        #expect(!"\(c)".contains("hunter2-secret"))
        #expect(!String(reflecting: c).contains("hunter2-secret"))
    }

    static let broken: [(String, Int?, String)] = [
        ("[[server]]\nname = \"x\"\naddress = \"127.0.0.1\"\n", 3, "is not host:port"),
        ("[[server]]\nname = \"x\"\naddress = \"::1:1080\"\n", 3, "in brackets"),
        ("[[server]]\nname = \"x\"\naddress = \"127.0.0.1:1080\"\nechoo = \"1\"\n", 4, "unknown key 'echoo'"),
        ("[[server]]\nname = \"x\"\n", 1, "needs an address"),
        ("[[server]]\nname = \"x\"\naddress = \"127.0.0.1:1080\"\nusername = \"u\"\n", 4, "without a password"),
        (
            "[[server]]\nname = \"x\"\naddress = \"127.0.0.1:1080\"\n\n[[server]]\nname = \"x\"\naddress = "
                + "\"127.0.0.1:1081\"\n",
            6, "second server is named 'x'"
        ),
        ("[[server]]\nname = \"x\"\naddress = 1080\n", 3, "must be a string"),
        ("[[server]\nname = \"x\"\n", 1, "table header must be [name] or [[name]]"),
        ("[[server]]\nname = \"x\"\naddress = \"127.0.0.1:1080\"\nconnect_timeout_ms = -5\n", 4, "milliseconds"),
        ("servers = 1\n", 1, "unknown key 'servers'"),
        ("[[server]]\nname = \"x\"\naddress = \"127.0.0.1:1080\"\npipelining = \"yes\"\n", 4, "must be true or false"),
        (
            "[[server]]\nname = \"x\"\naddress = \"127.0.0.1:1080\"\nreceive_buffer_bytes = 100\n", 4,
            "from 512 to 65536"
        ),
        (
            "[[server]]\nname = \"x\"\naddress = \"127.0.0.1:1080\"\nusername = \"u\"\npassword = "
                + "\"p\"\npipelining = true\n",
            6, "without a username only"
        ),
    ]

    /// Regression, found by Fuzz/FuzzDeckConfiguration: toml++ aborts the process on these
    /// headers; they must be errors with their line instead.
    @Test(arguments: [
        ("[[[server]]]\nname = \"x\"\n", 1),
        ("[[[[ssere.r]\n]erver]]\nname = \"x\"\n\naddress = \"::1:1080\"n\nam", 1),
        ("# c\n[ @x]\n", 2),
        ("[[server]]\nname = \"x\"\n[[ [y]]\n", 3),
        ("[[\nname = 1\n", 1),
        ("[", 1),
        ("[\u{05A5}", 1),
        ("\u{FEFF}[[#server]]\n", 1),
        ("\r\n[\u{00D6}\n", 2),
        ("name = \"x\"\r\n[[ *]]\r\n", 2),
    ])
    func headersThatWouldAbortTOMLPlusPlusAreErrors(text: String, line: Int) {
        #expect(throws: ConfigurationFileError.self) { try DeckConfiguration.parse(text, environment: [:]) }
        #expect(TOMLSubsetGuard.check(text)?.line == line)
    }

    /// Every input the fuzzer found that aborted the process (Fuzz/corpus/FuzzDeckConfiguration/
    /// regression-*), decoded as the fuzz target decodes it: now an error with a line.
    @Test func theFuzzersFindingsAreErrors() throws {
        let folder = Repository.path("Fuzz/corpus/FuzzDeckConfiguration")
        let findings = try FileManager.default.contentsOfDirectory(atPath: folder).filter {
            $0.hasPrefix("regression-")
        }
        #expect(findings.count >= 8)
        for name in findings {
            let data = try #require(FileManager.default.contents(atPath: folder + "/" + name))
            let text = String(decoding: data, as: UTF8.self)
            #expect(throws: ConfigurationFileError.self, "\(name)") {
                try DeckConfiguration.parse(text, environment: ["P": "x"])
            }
            #expect(TOMLSubsetGuard.check(text) != nil, "\(name) reached toml++")
        }
    }

    /// The subset toml++ is shown: arrays and multi-line strings are refused with a sentence
    /// (no key takes them; nested arrays abort toml++); quoted, dotted and plain headers pass.
    @Test func theGuardKeepsToTheSubset() {
        #expect(
            TOMLSubsetGuard.check("note = \"\"\"\n[[[not a header\n\"\"\"\n")?.message.contains("multi-line strings")
                == true
        )
        #expect(
            TOMLSubsetGuard.check("l=" + String(repeating: "[", count: 300) + "}}}\n")?.message.contains(
                "arrays are not used"
            ) == true
        )
        #expect(TOMLSubsetGuard.check("# a comment with \'\'\' and [\n[\u{00B9}\n")?.line == 2)
        #expect(
            TOMLSubsetGuard.check(
                "[[server]]\n[ \"quoted\" ]\n[x] # c\n  [[y.\"z\"]]\nname = \"[not an array]\" # [nor]\n"
            ) == nil
        )
        #expect(TOMLSubsetGuard.check("[x] y\n")?.message.contains("nothing may follow") == true)
        #expect(TOMLSubsetGuard.check("text = { fg = \"red\", bold = true }\n") == nil)
    }

    @Test func pipeliningIsOffUnlessAsked() throws {
        let c = try DeckConfiguration.parse(
            "[[server]]\nname = \"a\"\naddress = \"127.0.0.1:1\"\n[[server]]\nname = \"b\"\naddress = "
                + "\"127.0.0.1:2\"\npipelining = true\n",
            environment: [:]
        )
        #expect(c.servers.map(\.pipelining) == [false, true])
    }

    @Test(arguments: broken)
    func errorsNameTheLineAndTheProblem(text: String, line: Int?, message: String) {
        do {
            _ = try DeckConfiguration.parse(text, path: "test.toml", environment: [:])
            Issue.record("parsed")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(error.message.contains(message), "\(error)")
            #expect(error.description.hasPrefix("test.toml:"))
        }
    }

    @Test func anInlinePasswordInAFileOthersCanReadIsWarnedAbout() throws {
        let dir = try makeTemporaryDirectory("deckconf")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/config.toml"
        try "[[server]]\nname = \"a\"\naddress = \"127.0.0.1:1\"\nusername = \"u\"\npassword = \"inline-secret\"\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o644)
        let loose = try DeckConfiguration.load(path: path)
        #expect(loose.warnings.count == 1 && loose.warnings[0].contains("chmod 600"))
        #expect(!loose.warnings[0].contains("inline-secret"))
        chmod(path, 0o600)
        #expect(try DeckConfiguration.load(path: path).warnings.isEmpty)
    }

    @Test func aMissingFileSaysSo() {
        #expect(
            throws: ConfigurationFileError(
                path: "/nonexistent/config.toml",
                message: "the configuration file does not exist",
                fileUnreadable: true
            )
        ) {
            try DeckConfiguration.load(path: "/nonexistent/config.toml")
        }
    }

    @Test func checkTargetsAreReadAndCheckedPerServer() throws {
        let c = try DeckConfiguration.parse(
            "[[server]]\nname = \"x\"\naddress = \"127.0.0.1:1080\"\ndns = \"9.9.9.9\"\nntp = \"pool.ntp.org\"\nstun = \"[::1]:3478\"\n"
        )
        #expect(
            c.servers[0].checkTargets
                == CheckTargets(
                    dns: .ip(IPEndpoint("9.9.9.9:53")!),
                    ntp: .domain(DomainName("pool.ntp.org")!, port: 123),
                    stun: .ip(IPEndpoint("[::1]:3478")!)
                )
        )
        #expect(throws: ConfigurationFileError.self) {
            try DeckConfiguration.parse("[[server]]\nname = \"x\"\naddress = \"127.0.0.1:1080\"\ndns = \"::1:99999\"\n")
        }
        #expect(c.servers[0].tomlTable().contains("stun = \"[::1]:3478\""))
        // Written back with their ports, they read as the same targets.
        let again = try DeckConfiguration.parse(c.servers[0].tomlTable().joined(separator: "\n"))
        #expect(again.servers[0].checkTargets == c.servers[0].checkTargets)
    }

    /// A password that cannot be had makes its server unusable, not the file: the others still work.
    @Test func anUnavailablePasswordMakesOnlyItsServerUnusable() throws {
        let text = """
            [[server]]
            name = "x"
            address = "127.0.0.1:1080"
            username = "u"
            password_env = "NOPE_NOT_SET"

            [[server]]
            name = "y"
            address = "127.0.0.1:1081"
            username = "u"
            password_file = "/nonexistent/password"

            [[server]]
            name = "z"
            address = "127.0.0.1:1082"
            """
        let c = try DeckConfiguration.parse(text, environment: [:])
        #expect(c.servers.map(\.name) == ["x", "y", "z"])
        #expect(
            c.server(named: "x")?.unusableBecause?.contains("NOPE_NOT_SET (the password of user 'u') is not set")
                == true
        )
        #expect(c.server(named: "x")?.username == "u" && c.server(named: "x")?.credentials == nil)
        #expect(c.server(named: "y")?.unusableBecause == "the password file /nonexistent/password does not exist")
        #expect(c.server(named: "z")?.unusableBecause == nil)
        let set = try DeckConfiguration.parse(text, environment: ["NOPE_NOT_SET": "secret"])
        #expect(set.server(named: "x")?.unusableBecause == nil && set.server(named: "x")?.credentials != nil)
    }

    @Test func adHocServers() throws {
        let plain = try ServerDefinition.adHoc("127.0.0.1:1080")
        #expect(plain.host == "127.0.0.1" && plain.port == 1080 && plain.credentials == nil)
        let v6 = try ServerDefinition.adHoc("socks5://[::1]:1081")
        #expect(v6.host == "::1" && v6.port == 1081)
        let withEnv = try ServerDefinition.adHoc("socks5://alice@127.0.0.1:1081", environment: ["SOCKS_PASSWORD": "pw"])
        #expect(withEnv.credentials == Credentials(username: "alice", password: "pw"))
        let inline = try ServerDefinition.adHoc("socks5://alice:p%40ss@127.0.0.1:1081")
        #expect(inline.credentials == Credentials(username: "alice", password: "p@ss"))
        #expect(inline.name == "127.0.0.1:1081")
        #expect(throws: ConfigurationFileError.self) {
            try ServerDefinition.adHoc("socks5://alice@127.0.0.1:1081", environment: [:])
        }
        // Issue 28: a user typed without the scheme is the user, not part of a host name.
        let bare = try ServerDefinition.adHoc("socksuser@127.0.0.1:1081", environment: ["SOCKS_PASSWORD": "pw"])
        #expect(bare.host == "127.0.0.1" && bare.credentials == Credentials(username: "socksuser", password: "pw"))
        let bareInline = try ServerDefinition.adHoc("bob:secret@[::1]:1080", environment: [:])
        #expect(bareInline.host == "::1" && bareInline.credentials == Credentials(username: "bob", password: "secret"))
        #expect(throws: ConfigurationFileError.self) { try ServerDefinition.adHoc("bob@", environment: [:]) }
        #expect(throws: ConfigurationFileError.self) { try ServerDefinition.adHoc("127.0.0.1") }
        #expect(throws: ConfigurationFileError.self) { try ServerDefinition.adHoc("::1:1080") }
    }
}

@Suite struct RateMeterTests {
    @Test func ratesAndHistoryCountWholeSeconds() {
        var meter = RateMeter()
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        for s in 0..<5 { meter.record(10, at: t0.addingTimeInterval(Double(s))) }
        let now = t0.addingTimeInterval(5)
        #expect(meter.perSecond(window: 5, now: now) == 10)
        #expect(meter.history(6, now: now) == [0, 10, 10, 10, 10, 10])
        // A minute of silence empties it.
        #expect(meter.perSecond(window: 5, now: now.addingTimeInterval(120)) == 0)
    }
}

@Suite struct RingBufferTests {
    @Test func keepsTheNewest() {
        var ring = RingBuffer<Int>(capacity: 3)
        for i in 1...5 { ring.append(i) }
        #expect(ring.elements == [3, 4, 5] && ring.totalAppended == 5 && ring.count == 3)
    }
}
