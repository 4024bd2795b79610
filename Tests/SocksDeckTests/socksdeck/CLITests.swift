import Foundation
import Testing

/// The built `socksdeck` executable, run as a user runs it: output, JSON and exit codes.
@Suite(.tags(.peers), .needsPeers) struct CLITests {
    static func binary() throws -> String {
        let dir = try CProgramTests.libraryDirectory()
        let path = dir + "/socksdeck"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw PeerError.missing("\(path) not found: run `swift build` before `swift test`")
        }
        return path
    }

    /// Runs socksdeck with a private config folder, so the user's own configuration is never read.
    static func run(
        _ arguments: [String],
        environment extra: [String: String] = [:]
    ) throws -> (status: Int32, output: String) {
        var env = ProcessInfo.processInfo.environment
        env["XDG_CONFIG_HOME"] = try makeTemporaryDirectory("xdg")
        env.merge(extra) { $1 }
        return try runToCompletion(try binary(), arguments, environment: env, seconds: 60)
    }

    /// `socksdeck serve` on a free loopback port with `arguments` (`--listen` is added), running
    /// once it accepts connections; stop() ends it with SIGTERM, as Ctrl-C would.
    static func serve(_ arguments: [String], name: String = "serve") throws -> (process: PeerProcess, port: UInt16) {
        let port = TestSockets.freePort()
        let process = try PeerProcess(
            name: name,
            executable: try binary(),
            arguments: ["serve", "--listen", "127.0.0.1:\(port)"] + arguments,
            logPath: try makeTemporaryDirectory(name) + "/log"
        )
        try process.waitUntilListening(port: port)
        return (process, port)
    }

    static func writeConfig(_ text: String, mode: mode_t = 0o600) throws -> String {
        let path = try makeTemporaryDirectory("cliconf") + "/config.toml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, mode)
        return path
    }

    static func jsonLines(_ output: String) -> [[String: Any]] {
        output.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    @Test func associatePrintsTheRendezvousAndHowItEnded() throws {
        let peers = try TestPeers.shared()
        let r = try Self.run(["associate", "127.0.0.1:\(peers.danteNoAuth.port)", "--hold", "0.2"])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("rendezvous        127.0.0.1:"))
        #expect(r.output.contains("connecting -> negotiating -> requesting -> associated"))
        #expect(r.output.contains("closed by the user"))
    }

    @Test func associateJSONIsTwoObjects() throws {
        let peers = try TestPeers.shared()
        let r = try Self.run([
            "associate", "[::1]:\(peers.danteNoAuth.port)", "--family", "6", "--hold", "0.1", "--json",
        ])
        #expect(r.status == 0, "\(r.output)")
        let lines = Self.jsonLines(r.output)
        #expect(lines.count == 2)
        #expect(lines.map { $0["event"] as? String } == ["settled", "ended"])
        let first = lines.first?["association"] as? [String: Any]
        #expect(first?["state"] as? String == "associated")
        #expect((first?["rendezvousUsed"] as? String)?.hasPrefix("[::1]:") == true)
        #expect((lines.last?["association"] as? [String: Any])?["state"] as? String == "closed")
    }

    @Test func associateThroughAServerWithoutUDPExitsOneWithTheDecodedError() throws {
        let peers = try TestPeers.shared()
        let r = try Self.run(["associate", "127.0.0.1:\(peers.microsocksPort)"])
        #expect(r.status == 1)
        #expect(r.output.contains("S5_EOPNOTSUPP") && r.output.contains("no UDP relay"))
        let refused = try Self.run(["associate", "127.0.0.1:\(peers.closedPort)"])
        #expect(refused.status == 1 && refused.output.contains("ECONNREFUSED"))
        // The JSON keeps the keys it has always had, made from the engine's typed failure.
        let json = try Self.run(["associate", "127.0.0.1:\(peers.microsocksPort)", "--json"])
        let error = Self.jsonLines(json.output).compactMap {
            ($0["association"] as? [String: Any])?["error"] as? [String: Any]
        }.first
        #expect(error?["name"] as? String == "S5_EOPNOTSUPP" && error?["s5Code"] as? Int == 7, "\(json.output)")
        #expect(error?["errnoName"] as? String == "EOPNOTSUPP" && (error?["sentence"] as? String)?.isEmpty == false)
    }

    @Test func sendShowsRepliesAndExactCounters() throws {
        let peers = try TestPeers.shared()
        let r = try Self.run([
            "send", "127.0.0.1:\(peers.danteNoAuth.port)", "127.0.0.1:\(peers.echo.port)", "--text", "ping!", "--count",
            "5",
        ])
        #expect(r.status == 0, "\(r.output)")
        #expect(
            r.output.components(separatedBy: "reply from 127.0.0.1:\(peers.echo.port), 5 bytes: \"ping!\"").count == 6
        )
        #expect(r.output.contains("counters: sent 5 (25 B), received 5 (25 B), dropped 0"))
    }

    @Test func sendJSONThroughAuthenticatedServer() throws {
        let peers = try TestPeers.shared()
        let config = try Self.writeConfig(
            """
            [[server]]
            name = "auth"
            address = "127.0.0.1:\(peers.danteUserPass.port)"
            username = "\(TestPeers.username)"
            password_env = "CLI_TEST_PASSWORD"
            """
        )
        let r = try Self.run(
            [
                "send", "auth", "[::1]:\(peers.echo.port)", "--family", "6", "--hex", "00 ff 41", "--json", "--config",
                config,
            ],
            environment: ["CLI_TEST_PASSWORD": TestPeers.password]
        )
        #expect(r.status == 0, "\(r.output)")
        let object = try #require(Self.jsonLines(r.output).first)
        #expect(object["sent"] as? Int == 1)
        let replies = object["replies"] as? [[String: Any]]
        #expect(replies?.first?["hex"] as? String == "00 ff 41")
        #expect(!r.output.contains(TestPeers.password))
    }

    @Test func sendWithNoReplyExitsThree() throws {
        let peers = try TestPeers.shared()
        let r = try Self.run([
            "send", "127.0.0.1:\(peers.danteNoAuth.port)", "127.0.0.1:\(peers.closedPort)", "--text", "x",
            "--wait-reply", "300",
        ])
        #expect(r.status == 3, "\(r.output)")
        #expect(r.output.contains("received 0"))
    }

    @Test func loadCountsEveryEchoAndSaysHowFast() throws {
        let peers = try TestPeers.shared()
        let dante = "127.0.0.1:\(peers.danteNoAuth.port)"
        let r = try Self.run(["load", dante, "127.0.0.1:\(peers.echo.port)", "--count", "500", "--size", "200"])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("500 sent, 500 echoed, 0 lost (0.0 %)"))
        #expect(r.output.contains("echoes/s over") && r.output.contains("32 in flight, 200-byte datagrams"))
        let json = try Self.run(["load", dante, "[::1]:\(peers.echo.port)", "--count", "50", "--window", "4", "--json"])
        #expect(json.status == 0, "\(json.output)")
        let object = try #require(Self.jsonLines(json.output).first)
        #expect(object["sent"] as? Int == 50 && object["echoed"] as? Int == 50 && object["lost"] as? Int == 0)
        #expect(object["window"] as? Int == 4 && object["target"] as? String == "[::1]:\(peers.echo.port)")
    }

    /// Issue 30: --gather reads the echoes in batches; every one still counts once, and the text
    /// and the JSON say the load gathered. A pause out of range is refused before anything opens.
    @Test func loadGathersWhenAskedAndRefusesABadPause() throws {
        let peers = try TestPeers.shared()
        let dante = "127.0.0.1:\(peers.danteNoAuth.port)"
        let echo = "127.0.0.1:\(peers.echo.port)"
        let r = try Self.run(["load", dante, echo, "--count", "3000", "--gather", "100"])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("3000 sent, 3000 echoed, 0 lost (0.0 %)"))
        #expect(r.output.contains("read in batches gathered for 100 µs"), "\(r.output)")
        let json = try Self.run(["load", dante, echo, "--count", "200", "--gather", "50", "--json"])
        let object = try #require(Self.jsonLines(json.output).first, "\(json.output)")
        #expect(object["echoed"] as? Int == 200 && object["gatherMicroseconds"] as? Int == 50)
        let bad = try Self.run(["load", dante, echo, "--gather", "20000"])
        #expect(bad.status == 64 && bad.output.contains("--gather takes 0 to 10000 µs"), "\(bad.output)")
    }

    @Test func loadToASilentTargetExitsThreeAndANameIsRefused() throws {
        let peers = try TestPeers.shared()
        let dante = "127.0.0.1:\(peers.danteNoAuth.port)"
        let silent = try Self.run([
            "load", dante, "127.0.0.1:\(peers.closedPort)", "--count", "100", "--window", "8", "--stall", "200",
        ])
        #expect(silent.status == 3, "\(silent.output)")
        #expect(silent.output.contains("8 sent, 0 echoed, 8 lost") && silent.output.contains("did not come back"))
        let name = try Self.run(["load", dante, "localhost:7"])
        #expect(name.status == 64 && name.output.contains("a load needs an IP address"), "\(name.output)")
        let noEcho = try Self.run(["load", dante])
        #expect(noEcho.status == 64 && noEcho.output.contains("has no echo target configured"), "\(noEcho.output)")
    }

    @Test func serversListsTheConfigurationWithoutPasswords() throws {
        let config = try Self.writeConfig(
            """
            [[server]]
            name = "lab"
            address = "[::1]:1080"
            echo = "[::1]:9999"

            [[server]]
            name = "secret"
            address = "127.0.0.1:1081"
            username = "alice"
            password = "Tr0ub4dor&3"
            """,
            mode: 0o644
        )
        let text = try Self.run(["servers", "--config", config])
        #expect(text.status == 0)
        #expect(
            text.output.contains("lab") && text.output.contains("[::1]:1080")
                && text.output.contains("username/password (alice)")
        )
        #expect(text.output.contains("warning") && text.output.contains("chmod 600"))
        let json = try Self.run(["servers", "--config", config, "--json"])
        let object = Self.jsonLines(json.output).first
        #expect((object?["servers"] as? [[String: Any]])?.count == 2)
        #expect(!text.output.contains("Tr0ub4dor&3") && !json.output.contains("Tr0ub4dor&3"))
    }

    @Test(arguments: [
        ("[[server]]\nname = \"a\"\naddress = \"nope\"\n", ":3:"),
        ("[[server]\n", ":1:"),
        ("[[server]]\nname = \"a\"\naddress = \"127.0.0.1:1\"\nbogus = 1\n", ":4:"),
    ])
    func aBrokenConfigurationExits78WithFileAndLine(text: String, line: String) throws {
        let config = try Self.writeConfig(text)
        let r = try Self.run(["servers", "--config", config])
        #expect(r.status == 78, "\(r.output)")
        #expect(r.output.contains(config + line), "\(r.output)")
        #expect(!r.output.contains("Fatal error") && !r.output.contains("Stack"))
    }

    @Test(arguments: [
        ["send", "127.0.0.1:1", "127.0.0.1:2"],
        ["send", "127.0.0.1:1", "127.0.0.1:2", "--text", "a", "--hex", "00"],
        ["send", "127.0.0.1:1", "127.0.0.1:2", "--text", "a", "--count", "0"],
        ["send", "127.0.0.1:1", "127.0.0.1:2", "--hex", "abc"],
        ["send", "127.0.0.1:1", "nowhere", "--text", "a"],
        ["associate", "127.0.0.1:1", "--family", "5"],
        ["associate", "no-such-server"],
        ["decode", "nonsense"],
        ["frobnicate"],
    ])
    func badArgumentsExit64WithAMessage(arguments: [String]) throws {
        let r = try Self.run(arguments)
        #expect(r.status == 64, "\(arguments): \(r.output)")
        // ArgumentParser's "Error: …" or SocksDeck's own "socksdeck: …", first, never a usage alone.
        let first = r.output.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.hasPrefix("Error: ") || first.hasPrefix("socksdeck: "), "\(r.output)")
        #expect(first.count > "Error: ".count + 10, "\(r.output)")
        #expect(!r.output.contains("Fatal error"))
    }

    @Test func aMissingPayloadFileExits66() throws {
        let peers = try TestPeers.shared()
        let r = try Self.run([
            "send", "127.0.0.1:\(peers.danteNoAuth.port)", "127.0.0.1:9", "--file", "/nonexistent/payload",
        ])
        #expect(r.status == 66 && r.output.contains("/nonexistent/payload"))
    }

    @Test func decodeExplainsCodes() throws {
        let r = try Self.run(["decode", "S5_EOPNOTSUPP"])
        #expect(r.status == 0 && r.output.contains("command not supported") && r.output.contains("Hint:"))
        let json = try Self.run(["decode", "ECONNREFUSED", "--json"])
        let matches = Self.jsonLines(json.output).first?["matches"] as? [[String: Any]]
        #expect(matches?.map { $0["name"] as? String } == ["S5_ECONNREFUSED", "ECONNREFUSED"])
    }

    @Test func getservReadsTheGivenFile() throws {
        let path = try makeTemporaryDirectory("gs") + "/socks5c.conf"
        try "127.0.0.0/8 127.0.0.1:1090\n::1 NONE\n".write(toFile: path, atomically: true, encoding: .utf8)
        let r = try Self.run(["getserv", "127.0.0.7", "--conf", path, "--no-reverse"])
        #expect(r.status == 0 && r.output.contains("127.0.0.7 -> 127.0.0.1:1090 (line 1)"), "\(r.output)")
        let direct = try Self.run(["getserv", "::1", "--conf", path, "--json", "--no-reverse"])
        #expect(Self.jsonLines(direct.output).first?["direct"] as? Bool == true)
        let bad = try Self.run(["getserv", "127.0.0.1", "--conf", "/nonexistent/socks5c.conf"])
        #expect(bad.status == 66)
    }
}

/// The demo a first run starts on, and `serve`'s safety rules.
@Suite(.tags(.peers), .needsPeers) struct DemoAndServeTests {
    @Test func sendOnTheDemoWorksWithNoConfigurationAndNoOtherServer() throws {
        let r = try CLITests.run(["send", "--demo", "demo", "echo", "--text", "hi"])
        #expect(r.status == 0, "\(r.output)")
        // One line says it is the demo; the full account is servers --demo's (issue 29).
        #expect(r.output.contains("socksdeck: on the built-in demo") && !r.output.contains("This is the built-in demo"))
        #expect(r.output.split(separator: "\n").filter { $0.contains("demo") && $0.contains("loopback") }.count == 1)
        #expect(r.output.contains("bytes: \"hi\"") && r.output.contains("received 1"))
        let servers = try CLITests.run(["servers", "--demo"])
        #expect(servers.output.contains("This is the built-in demo") && servers.output.contains("echo target"))
    }

    @Test func withoutAConfigurationFileADemoServerNameStartsTheDemo() throws {
        let noUDP = try CLITests.run(["associate", "demo-no-udp"])
        #expect(
            noUDP.status == 1 && noUDP.output.contains("S5_EOPNOTSUPP")
                && noUDP.output.contains("socksdeck: on the built-in demo")
        )
        let nowhere = try CLITests.run(["associate", "demo-nowhere"])
        #expect(nowhere.status == 1 && nowhere.output.contains("ECONNREFUSED"))
        let auth = try CLITests.run(["send", "demo-auth", "echo", "--hex", "ab cd", "--json"])
        #expect(auth.status == 0, "\(auth.output)")
        #expect(auth.output.contains("\"hex\":\"ab cd\""))
    }

    @Test func serveRefusesANonLoopbackAddressWithoutAllowRemote() throws {
        let r = try CLITests.run(["serve", "--listen", "0.0.0.0:1080"])
        #expect(r.status == 64 && r.output.contains("--allow-remote"), "\(r.output)")
        let user = try CLITests.run(["serve", "--user", "x"])
        #expect(user.status == 64 && user.output.contains("--password-env"))
    }

    @Test func serveWithAuthenticationAndJSONLog() throws {
        let peers = try TestPeers.shared()
        let port = TestSockets.freePort()
        let dir = try makeTemporaryDirectory("serveauth")
        var env = ProcessInfo.processInfo.environment
        env["RELAY_PASSWORD"] = "serve-secret-99"
        let pid = try spawn(
            try CLITests.binary(),
            [
                "serve", "--listen", "127.0.0.1:\(port)", "--user", "alice", "--password-env", "RELAY_PASSWORD",
                "--json-log",
            ],
            logPath: dir + "/log",
            environment: env
        )
        defer {
            kill(pid, SIGTERM)
            var s: Int32 = 0
            waitpid(pid, &s, 0)
        }
        let deadline = Date().addingTimeInterval(10)
        while !TestSockets.canConnect(host: "127.0.0.1", port: port) && Date() < deadline { usleep(20_000) }
        let r = try CLITests.run([
            "send", "socks5://alice:serve-secret-99@127.0.0.1:\(port)", "127.0.0.1:\(peers.echo.port)", "--text",
            "auth",
        ])
        #expect(r.status == 0, "\(r.output)")
        let bad = try CLITests.run(["associate", "socks5://alice:wrong@127.0.0.1:\(port)"])
        #expect(bad.status == 1 && bad.output.contains("S5_EAUTH"))
        let log = (try? String(contentsOfFile: dir + "/log", encoding: .utf8)) ?? ""
        let events = CLITests.jsonLines(log).compactMap { $0["event"] as? String }
        #expect(events.contains("authenticated") && events.contains("refused"), "\(log)")
        #expect(!log.contains("serve-secret-99") && !r.output.contains("serve-secret-99"))
    }
}

@Suite(.tags(.peers), .needsPeers) struct ProbeCommandTests {
    @Test func probeOnTheDemoGivesFindingsAsJSON() throws {
        let r = try CLITests.run(["probe", "demo", "--json"])
        #expect(r.status == 0, "\(r.output)")
        let object = try #require(CLITests.jsonLines(r.output).first)
        let findings = try #require(object["findings"] as? [[String: Any]])
        let byKey = Dictionary(uniqueKeysWithValues: findings.compactMap { f in (f["key"] as? String).map { ($0, f) } })
        #expect(byKey["udp_associate"]?["verdict"] as? String == "yes")
        #expect(byKey["source_port_locking"]?["verdict"] as? String == "yes")
        #expect(byKey.values.allSatisfy { ($0["evidence"] as? String)?.isEmpty == false })
    }

    @Test func probeOfAServerWithoutUDPAndOfNothing() throws {
        let noUDP = try CLITests.run(["probe", "demo-no-udp"])
        #expect(
            noUDP.status == 0 && noUDP.output.contains("✘ UDP ASSOCIATE") && noUDP.output.contains("S5_EOPNOTSUPP"),
            "\(noUDP.output)"
        )
        let nowhere = try CLITests.run(["probe", "demo-nowhere"])
        #expect(nowhere.status == 1 && nowhere.output.contains("unreachable (ECONNREFUSED)"), "\(nowhere.output)")
    }
}

@Suite(.tags(.peers), .needsPeers) struct GeneratedDocumentationTests {
    /// Completions come from the command definitions (swift-argument-parser), never by hand:
    /// every subcommand appears in each shell's script.
    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScriptsCoverEverySubcommand(shell: String) throws {
        let r = try CLITests.run(["--generate-completion-script", shell])
        #expect(r.status == 0)
        for sub in ["ui", "servers", "associate", "send", "probe", "load", "watch", "serve", "decode", "getserv"] {
            #expect(r.output.contains(sub), "\(shell): \(sub)")
        }
    }
}
