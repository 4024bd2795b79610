import Foundation
import Socks5
import Testing

/// The command line at its edges, as a demanding user meets them: pipes closed early, wrong
/// input, a configuration with one broken server, signals. Each was a bug once (issue 16).
@Suite(.tags(.peers), .needsPeers) struct CLIEdgeTests {
    /// Runs a bash script with `$B` set to the socksdeck binary and a private config folder.
    static func bash(_ script: String) throws -> (status: Int32, output: String) {
        var env = ProcessInfo.processInfo.environment
        env["XDG_CONFIG_HOME"] = try makeTemporaryDirectory("xdg")
        env["B"] = try CLITests.binary()
        return try runToCompletion("/bin/bash", ["-c", script], environment: env, seconds: 60)
    }

    @Test func aReaderThatClosesThePipeEndsTheCommandQuietlyWithZero() throws {
        let peers = try TestPeers.shared()
        let server = "127.0.0.1:\(peers.danteNoAuth.port)"
        let echo = "127.0.0.1:\(peers.echo.port)"
        let commands = [
            "\"$B\" watch \(server) --echo \(echo) --interval 100 --duration 5",
            "\"$B\" send \(server) \(echo) --text x --count 50",
            "\"$B\" decode 7",
            "\"$B\" servers --demo",
        ]
        for command in commands {
            // `true` reads nothing and `head -1` one line: either way the pipe closes early.
            for reader in ["head -1 >/dev/null", "true"] {
                let r = try Self.bash("\(command) 2>&1 | \(reader); echo \"status=${PIPESTATUS[0]}\"")
                #expect(r.output.hasSuffix("status=0\n"), "\(command) | \(reader): \(r.output)")
                #expect(!r.output.contains("Fatal error") && !r.output.contains("Broken pipe"), "\(r.output)")
            }
        }
    }

    @Test func serversWithDemoListsTheDemosServers() throws {
        let r = try CLITests.run(["servers", "--demo"])
        #expect(r.status == 0, "\(r.output)")
        for name in ["demo ", "demo-auth ", "demo-no-udp ", "demo-nowhere "] {
            #expect(r.output.contains("\n" + name), "\(name) missing: \(r.output)")
        }
        #expect(!r.output.contains("No servers configured"))
    }

    @Test func aMissingConfigurationFileExits66AndABrokenOne78() throws {
        let missing = try CLITests.run(["servers", "--config", "/nonexistent/socksdeck.toml"])
        #expect(missing.status == 66, "\(missing.output)")
        #expect(missing.output.contains("/nonexistent/socksdeck.toml: the configuration file does not exist"))
        let broken = try CLITests.run(["servers", "--config", try CLITests.writeConfig("[[server]]\nname = 3\n")])
        #expect(broken.status == 78, "\(broken.output)")
    }

    @Test(arguments: [
        ("zz", "'z' (character 1) is not a hex digit"),
        ("68 6", "3 hex digits: a byte takes two"),
        ("0x68 0xg9", "'g' (character 8) is not a hex digit"),
        ("", "no hex digits"),
    ])
    func aWrongHexPayloadIsNamedPrecisely(hex: String, words: String) throws {
        let r = try CLITests.run(["send", "127.0.0.1:1", "127.0.0.1:9", "--hex", hex])
        #expect(r.status == 64, "\(r.output)")
        #expect(r.output.contains(words), "\(r.output)")
    }

    @Test func hexIsReadTheWaysPeoplePasteIt() throws {
        let peers = try TestPeers.shared()
        for hex in ["0x68 0x69", "68:69", "\\x68\\x69", "0x6869", "68,69"] {
            let r = try CLITests.run([
                "send", "127.0.0.1:\(peers.danteNoAuth.port)", "127.0.0.1:\(peers.echo.port)", "--hex", hex,
            ])
            #expect(r.status == 0 && r.output.contains("2 bytes: \"hi\""), "\(hex): \(r.output)")
        }
    }

    @Test func aWordThatIsNoSubcommandIsSaidSoNotAnsweredWithTheUIsUsage() throws {
        let r = try CLITests.run(["sned", "demo"])
        #expect(r.status == 64, "\(r.output)")
        #expect(r.output.contains("'sned' is not a subcommand") && r.output.contains("send"), "\(r.output)")
        #expect(!r.output.contains("socksdeck ui"), "\(r.output)")
    }

    @Test func aServerWhosePasswordIsMissingFailsOnlyWhatNeedsIt() throws {
        let peers = try TestPeers.shared()
        let config = try CLITests.writeConfig(
            """
            [[server]]
            name = "locked"
            address = "127.0.0.1:\(peers.danteUserPass.port)"
            username = "\(TestPeers.username)"
            password_env = "CLI_EDGE_UNSET_PASSWORD"

            [[server]]
            name = "open"
            address = "127.0.0.1:\(peers.danteNoAuth.port)"
            """
        )
        let list = try CLITests.run(["servers", "--config", config])
        #expect(list.status == 0, "\(list.output)")
        #expect(list.output.contains("unusable: the environment variable CLI_EDGE_UNSET_PASSWORD"), "\(list.output)")
        let other = try CLITests.run([
            "send", "open", "127.0.0.1:\(peers.echo.port)", "--text", "hi", "--config", config,
        ])
        #expect(other.status == 0, "\(other.output)")
        let literal = try CLITests.run([
            "send", "127.0.0.1:\(peers.danteNoAuth.port)", "127.0.0.1:\(peers.echo.port)", "--text", "hi",
            "--config", config,
        ])
        #expect(literal.status == 0, "\(literal.output)")
        let locked = try CLITests.run([
            "send", "locked", "127.0.0.1:\(peers.echo.port)", "--text", "hi", "--config", config,
        ])
        #expect(locked.status == 78, "\(locked.output)")
        #expect(locked.output.contains("server 'locked'") && locked.output.contains("CLI_EDGE_UNSET_PASSWORD"))
    }

    @Test func watchWithoutAnEchoTargetSaysItIsUpAndThatNoProbeRuns() throws {
        let peers = try TestPeers.shared()
        let r = try CLITests.run([
            "watch", "127.0.0.1:\(peers.danteNoAuth.port)", "--interval", "200", "--duration", "1.5",
        ])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains(" associated #1 rendezvous 127.0.0.1:"), "\(r.output)")
        #expect(r.output.contains("no probe runs"), "\(r.output)")
        #expect(!r.output.contains("interval down"), "it was never down: \(r.output)")
    }

    @Test func watchOfAServerWithoutUDPReadsAsOneSentence() throws {
        let peers = try TestPeers.shared()
        let r = try CLITests.run(["watch", "127.0.0.1:\(peers.microsocksPort)", "--interval", "200", "--duration", "1"])
        #expect(r.output.contains("(REP 7); reconnecting in 1 s"), "\(r.output)")
        #expect(!r.output.contains(".;"), "\(r.output)")
    }

    @Test func watchRefusesMetricsOnANonLoopbackAddressWithoutAllowRemote() throws {
        let r = try CLITests.run(["watch", "127.0.0.1:1", "--metrics", "0.0.0.0:9464", "--duration", "1"])
        #expect(r.status == 64, "\(r.output)")
        #expect(r.output.contains("is not a loopback address") && r.output.contains("--allow-remote"), "\(r.output)")
    }

    @Test func associateEndedBySIGTERMSaysSoNotCtrlC() throws {
        let peers = try TestPeers.shared()
        let log = try makeTemporaryDirectory("assoc") + "/log"
        var env = ProcessInfo.processInfo.environment
        env["XDG_CONFIG_HOME"] = try makeTemporaryDirectory("xdg")
        let pid = try spawn(
            try CLITests.binary(),
            ["associate", "127.0.0.1:\(peers.danteNoAuth.port)"],
            logPath: log,
            environment: env
        )
        var status: Int32 = 0
        defer {
            if waitpid(pid, &status, WNOHANG) == 0 {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
            }
        }
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline,
            !((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("holding it open")
        {
            usleep(20_000)
        }
        kill(pid, SIGTERM)
        while waitpid(pid, &status, WNOHANG) == 0 && Date() < deadline { usleep(20_000) }
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(output.contains("closed by the user (SIGTERM)"), "\(output)")
        #expect(status & 0x7F == 0 && (status >> 8) & 0xFF == 0, "exit status \(status): \(output)")
    }

    @Test func anAddressWithoutAUserTakesSOCKS_USERNAMEAndSOCKS_PASSWORD() throws {
        let peers = try TestPeers.shared()
        let server = "127.0.0.1:\(peers.danteUserPass.port)"
        let echo = "127.0.0.1:\(peers.echo.port)"
        let without = try CLITests.run(["send", server, echo, "--text", "hi"])
        #expect(without.status == 1 && without.output.contains("S5_ENOMETHOD"), "\(without.output)")
        #expect(without.output.contains("SOCKS_USERNAME and SOCKS_PASSWORD, which the CLI and the C API read"))
        let with = try CLITests.run(
            ["send", server, echo, "--text", "hi"],
            environment: ["SOCKS_USERNAME": TestPeers.username, "SOCKS_PASSWORD": TestPeers.password]
        )
        #expect(with.status == 0 && with.output.contains("2 bytes: \"hi\""), "\(with.output)")
        let half = try CLITests.run(["send", server, echo, "--text", "hi"], environment: ["SOCKS_USERNAME": "u"])
        #expect(half.status == 64 && half.output.contains("SOCKS_PASSWORD is not"), "\(half.output)")
    }

    @Test func hintsFitTheMoment() throws {
        let peers = try TestPeers.shared()
        // A refused TCP connect is about the SOCKS server, not ICMP on a UDP socket.
        let refused = try CLITests.run(["associate", "127.0.0.1:\(peers.closedPort)"])
        #expect(refused.output.contains("ECONNREFUSED") && refused.output.contains("Is the SOCKS server running"))
        #expect(!refused.output.contains("ICMP") && !refused.output.contains("UDP socket"), "\(refused.output)")
        // A server that accepts and never answers: the hint names the timeout configured, not the C API's.
        let silent = TestSockets.stream(.ipv4)
        defer { close(silent) }
        let port = TestSockets.freePort()
        _ = IPEndpoint.loopback(.ipv4, port).withSockaddr { bind(silent, $0, $1) }
        listen(silent, 4)
        let config = try CLITests.writeConfig(
            """
            [[server]]
            name = "silent"
            address = "127.0.0.1:\(port)"
            handshake_timeout_ms = 300
            """
        )
        let timedOut = try CLITests.run(["associate", "silent", "--config", config])
        #expect(timedOut.status == 1 && timedOut.output.contains("ETIMEDOUT"), "\(timedOut.output)")
        #expect(timedOut.output.contains("handshake_timeout_ms (300 ms)") && !timedOut.output.contains("SO_RCVTIMEO"))
    }

    @Test func serveSaysWhichAddressItCannotListenOnAndEndsWithStatisticsCalledStopped() throws {
        let busy = TestSockets.stream(.ipv4)
        defer { close(busy) }
        let port = TestSockets.freePort()
        _ = IPEndpoint.loopback(.ipv4, port).withSockaddr { bind(busy, $0, $1) }
        listen(busy, 4)
        let r = try CLITests.run(["serve", "--listen", "127.0.0.1:\(port)"])
        #expect(r.status == 1, "\(r.output)")
        #expect(r.output.contains("cannot listen on 127.0.0.1:\(port): EADDRINUSE"), "\(r.output)")
        #expect(!r.output.contains("descriptor") && !r.output.contains("errno:"), "no NIO internals: \(r.output)")

        let serve = try CLITests.serve(["--json-log"], name: "servestop")
        serve.process.stop()
        let last = CLITests.jsonLines(serve.process.log).last
        #expect(last?["event"] as? String == "stopped", "\(String(describing: last))")
        #expect((last?["message"] as? String)?.hasPrefix("stopped: ") == true, "\(String(describing: last))")
    }

    /// serve's negotiation timeout and per-client bound from the command line, and its last JSON
    /// line, which carries the statistics as numbers (issue 33).
    @Test func serveClosesSilentConnectionsRefusesPastTheBoundAndCountsBoth() throws {
        for bad in [
            ["--negotiate-timeout", "0"], ["--negotiate-timeout", "nan"], ["--max-negotiating-per-client", "0"],
        ] {
            let r = try CLITests.run(["serve", "--listen", "127.0.0.1:1"] + bad)
            #expect(r.status == 64 && r.output.contains(bad[0]), "\(bad): \(r.output)")
        }
        let serve = try CLITests.serve(
            ["--json-log", "--negotiate-timeout", "0.5", "--max-negotiating-per-client", "1"],
            name: "servehostile"
        )
        defer { serve.process.stop() }
        // The readiness probe was a connection of its own: let its slot be given back.
        usleep(200_000)
        let port = serve.port
        let server = IPEndpoint.loopback(.ipv4, port)
        let silent = TestSockets.stream(.ipv4)
        let extra = TestSockets.stream(.ipv4)
        defer {
            close(silent)
            close(extra)
        }
        #expect(server.withSockaddr { connect(silent, $0, $1) } == 0)
        usleep(50_000)
        #expect(server.withSockaddr { connect(extra, $0, $1) } == 0)
        TestSockets.setReceiveTimeout(extra, milliseconds: 3000)
        TestSockets.setReceiveTimeout(silent, milliseconds: 3000)
        var byte: UInt8 = 0
        #expect(recv(extra, &byte, 1, 0) == 0, "past the bound of 1: closed at once")
        #expect(recv(silent, &byte, 1, 0) == 0, "closed by the negotiation timeout")
        serve.process.stop()
        let lines = CLITests.jsonLines(serve.process.log)
        let messages = lines.compactMap { $0["message"] as? String }
        #expect(messages.contains { $0.hasSuffix("no request within 500 ms: nothing was sent") }, "\(messages)")
        #expect(
            messages.contains { $0.contains("already has the most connections still negotiating (1,") },
            "\(messages)"
        )
        let last = lines.last
        #expect(last?["event"] as? String == "stopped", "\(String(describing: last))")
        let statistics = last?["statistics"] as? [String: Any]
        #expect(statistics?["negotiationTimeouts"] as? Int == 1, "\(String(describing: statistics))")
        #expect(statistics?["connectionsOverClientLimit"] as? Int == 1, "\(String(describing: statistics))")
        #expect((last?["message"] as? String)?.contains("1 closed for no request in time") == true)
    }

    @Test func getservSaysWhyEverythingIsDirectAndHowItReadALine() throws {
        let missing = try CLITests.run(
            ["getserv", "127.0.0.1", "--no-reverse"],
            environment: ["SOCKS5C_CONFIG": "/nonexistent/socks5c.conf"]
        )
        #expect(missing.status == 66 && missing.output.contains("/nonexistent/socks5c.conf"), "\(missing.output)")
        let dir = try makeTemporaryDirectory("getserv")
        try "127.0.0.0/8 ::1:1090\n10.0.0.0/8 none\n".write(toFile: dir + "/a.conf", atomically: true, encoding: .utf8)
        let lower = try CLITests.run(["getserv", "127.0.0.1", "--conf", dir + "/a.conf", "--no-reverse"])
        #expect(
            lower.status == 78 && lower.output.contains("a.conf:2: 'none': write NONE, in upper case"),
            "\(lower.output)"
        )
        try "127.0.0.0/8 ::1:1090\n".write(toFile: dir + "/b.conf", atomically: true, encoding: .utf8)
        let v6 = try CLITests.run(["getserv", "127.0.0.1", "--conf", dir + "/b.conf", "--no-reverse"])
        #expect(v6.status == 0, "\(v6.output)")
        #expect(
            v6.output.contains("127.0.0.1 -> [::1]:1090 (line 1; unbracketed, its last group is the port"),
            "\(v6.output)"
        )
        let none = try CLITests.run(["getserv", "192.0.2.1", "--conf", dir + "/b.conf", "--no-reverse"])
        #expect(none.output.contains("no record in \(dir)/b.conf matches"), "\(none.output)")
        let help = try CLITests.run(["getserv", "--help"])
        #expect(help.output.contains("destination[/prefixlength]") && help.output.contains("NONE (upper"))
    }

    /// Receive-only: a scripted server (a mock, for what no real relay does on demand: deliver a
    /// datagram nobody asked for) names the test's own UDP socket as the relay; what it sends to
    /// the declared port is printed.
    @Test func associateListenPrintsWhatTheRelayDelivers() throws {
        let relay = TestSockets.datagram(.ipv4)
        defer { close(relay) }
        _ = IPEndpoint.loopback(.ipv4, 0).withSockaddr { bind(relay, $0, $1) }
        let relayPort = try #require(TestSockets.localEndpoint(relay)).port
        let reply: [UInt8] = [5, 0, 0, 1, 127, 0, 0, 1, UInt8(relayPort >> 8), UInt8(relayPort & 0xFF)]
        let server = ScriptedServer(script: [
            .expect(3), .send([5, 0]), .expect(10), .send(reply), .silent(seconds: 4),
        ])
        let log = try makeTemporaryDirectory("listen") + "/log"
        var env = ProcessInfo.processInfo.environment
        env["XDG_CONFIG_HOME"] = try makeTemporaryDirectory("xdg")
        let pid = try spawn(
            try CLITests.binary(),
            ["associate", server.endpoint.description, "--listen", "--hold", "3"],
            logPath: log,
            environment: env
        )
        var status: Int32 = 0
        defer {
            if waitpid(pid, &status, WNOHANG) == 0 {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
            }
        }
        let deadline = Date().addingTimeInterval(10)
        while server.received.count < 13 && Date() < deadline { usleep(10_000) }
        let request = server.received
        try #require(request.count == 13, "the request: \(request)")
        let declaredPort = UInt16(request[11]) << 8 | UInt16(request[12])
        #expect(declaredPort != 0, "the data socket's port is declared")
        let datagram: [UInt8] = [0, 0, 0, 1, 192, 0, 2, 7, 0, 53] + Array("unasked".utf8)
        let sent = IPEndpoint.loopback(.ipv4, declaredPort).withSockaddr {
            sendto(relay, datagram, datagram.count, 0, $0, $1)
        }
        #expect(sent == datagram.count)
        while waitpid(pid, &status, WNOHANG) == 0 && Date() < deadline { usleep(20_000) }
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(output.contains("datagram from 192.0.2.7:53, 7 bytes: \"unasked\""), "\(output)")
    }

    @Test func decodeExplainsBytesAndStillCodes() throws {
        let reply = try CLITests.run(["decode", "05 07 00 01 00 00 00 00 00 00"])
        #expect(reply.status == 0 && reply.output.contains("REP 07: command not supported"), "\(reply.output)")
        #expect(reply.output.hasPrefix("10 bytes: a SOCKS5 reply"))
        let cut = try CLITests.run(["decode", "05 00 00 01 7f"])
        #expect(cut.status == 1 && cut.output.contains("the message is cut"), "\(cut.output)")
        let json = try CLITests.run(["decode", "00 00 00 01 7f 00 00 01 00 35 68 69", "--json"])
        let object = CLITests.jsonLines(json.output).first
        #expect(object?["kind"] as? String == "udp" && (object?["fields"] as? [Any])?.count == 6, "\(json.output)")
        let code = try CLITests.run(["decode", "7"])
        #expect(code.status == 0 && code.output.contains("S5_EOPNOTSUPP (7)"), "a number stays a code: \(code.output)")
    }

    @Test func sendSizeGeneratesAPayloadOfThatLength() throws {
        let peers = try TestPeers.shared()
        let r = try CLITests.run([
            "send", "127.0.0.1:\(peers.danteNoAuth.port)", "127.0.0.1:\(peers.echo.port)", "--size", "1000",
        ])
        #expect(r.status == 0, "\(r.output)")
        #expect(
            r.output.contains("sent 1 datagram(s) of 1000 bytes") && r.output.contains("1000 bytes: \"socksdeck 0000 ")
        )
        let tooBig = try CLITests.run(["send", "127.0.0.1:1", "127.0.0.1:9", "--size", "70000"])
        #expect(tooBig.status == 64 && tooBig.output.contains("--size takes 0 to 65517"))
    }

    @Test func aServerNamedLikeAnAddressIsUsedAndSaidSo() throws {
        let peers = try TestPeers.shared()
        let config = try CLITests.writeConfig(
            """
            [[server]]
            name = "127.0.0.1:1"
            address = "127.0.0.1:\(peers.danteNoAuth.port)"
            """
        )
        let r = try CLITests.run([
            "send", "127.0.0.1:1", "127.0.0.1:\(peers.echo.port)", "--text", "hi", "--config", config,
        ])
        #expect(r.status == 0, "the configured server wins: \(r.output)")
        #expect(
            r.output.contains(
                "warning: '127.0.0.1:1' is the name of a configured server (address "
                    + "127.0.0.1:\(peers.danteNoAuth.port))"
            )
        )
    }

    /// `check` through Dante to dnsmasq, chronyd and coturn: a line per check, exit 0; a service
    /// that does not answer: exit 3; a server without UDP: exit 1.
    @Test func checkJudgesTheDataPlaneWithRealServices() throws {
        let peers = try TestPeers.shared()
        let s = try UDPServices.shared()
        let server = "127.0.0.1:\(peers.danteNoAuth.port)"
        let r = try CLITests.run([
            "check", server, "--dns", "127.0.0.1:\(s.dnsPort)", "--name", "www.socksdeck.test", "--ntp",
            "127.0.0.1:\(s.ntpPort)", "--stun", "127.0.0.1:\(s.stunPort)",
        ])
        #expect(r.status == 0, "\(r.output)")
        #expect(
            r.output.contains(
                "✔ DNS 127.0.0.1:\(s.dnsPort)  NOERROR: CNAME socksdeck.test (TTL 60), A 127.0.0.9 (TTL 60)"
            )
        )
        #expect(
            r.output.contains("✔ NTP 127.0.0.1:\(s.ntpPort)  stratum 10, reference 127.127.1.1, offset "),
            "\(r.output)"
        )
        #expect(r.output.contains("✔ STUN 127.0.0.1:\(s.stunPort)  mapped 127.0.0.1:"), "\(r.output)")
        let json = try CLITests.run(["check", server, "--stun", "127.0.0.1:\(s.stunPort)", "--json"])
        let object = CLITests.jsonLines(json.output).last
        let checks = object?["checks"] as? [[String: Any]]
        #expect(
            checks?.first?["passed"] as? Bool == true
                && (checks?.first?["mappedAddress"] as? String)?.hasPrefix("127.0.0.1:") == true
        )
        let silent = try CLITests.run(["check", server, "--ntp", "127.0.0.1:\(peers.closedPort)"])
        #expect(silent.status == 3 && silent.output.contains("no answer"), "\(silent.output)")
        let noUDP = try CLITests.run(["check", "127.0.0.1:\(peers.microsocksPort)", "--dns", "127.0.0.1:\(s.dnsPort)"])
        #expect(noUDP.status == 1 && noUDP.output.contains("S5_EOPNOTSUPP"), "\(noUDP.output)")
        let nothing = try CLITests.run(["check", server])
        #expect(nothing.status == 64 && nothing.output.contains("give at least one of --dns, --ntp, --stun"))
    }

    /// `check --quic` from the CLI: the line, the JSON's versions, and exit 3 for an echo; a relay
    /// run with `serve --cut-datagrams` says it in its listening line.
    @Test func checkQuicFromTheCommandLine() throws {
        let peers = try TestPeers.shared()
        let quic = try QUICServer.shared()
        let dante = "127.0.0.1:\(peers.danteNoAuth.port)"
        let text = try CLITests.run(["check", dante, "--quic", "127.0.0.1:\(quic.port)"])
        #expect(text.status == 0 && text.output.contains("✔ QUIC 127.0.0.1:\(quic.port)  QUIC answers: offers"))
        let json = try CLITests.run([
            "check", "[::1]:\(peers.danteNoAuth.port)", "--quic", "[::1]:\(quic.port)", "--json",
        ])
        let check = (CLITests.jsonLines(json.output).last?["checks"] as? [[String: Any]])?.first
        #expect((check?["quicVersions"] as? [String])?.contains("QUIC v1 (RFC 9000)") == true, "\(json.output)")
        let serve = try CLITests.serve(["--cut-datagrams", "1000"], name: "servecut")
        defer { serve.process.stop() }
        // The port answers as soon as it is bound; the line comes a moment later (under TSan, later still).
        let deadline = Date().addingTimeInterval(5)
        while !serve.process.log.contains("listening on") && Date() < deadline { usleep(20_000) }
        #expect(serve.process.log.contains("datagrams cut to 1000 bytes"), "\(serve.process.log)")
        let echo = try CLITests.run(["check", "127.0.0.1:\(serve.port)", "--quic", "127.0.0.1:\(peers.echo.port)"])
        #expect(echo.status == 3, "\(echo.output)")
        #expect(echo.output.contains("QUIC needs 1,200-byte datagrams; this relay cut them to 1,000"), "\(echo.output)")
    }

    /// A capture that cannot be written whole (here on a 64 KiB tmpfs, mounted in a mount
    /// namespace of the test's own, as a small full disk) is said, the file ends at its last
    /// whole block (tshark reads it without a complaint, as many packets as the message says),
    /// and the command exits 74 (issue 29). (A file-size limit would do as well, but the
    /// sanitizers' runtimes do not survive one.)
    @Test func aCaptureThatCannotBeWrittenWholeIsSaidAndExits74() throws {
        let peers = try TestPeers.shared()
        let dir = try makeTemporaryDirectory("fullcapture")
        let path = dir + "/small/capture.pcapng"
        try FileManager.default.createDirectory(atPath: dir + "/small", withIntermediateDirectories: true)
        let script =
            "mount -t tmpfs -o size=64k tmpfs \"$1/small\" || exit 90; shift; \"$@\"; rc=$?; "
            + "cp \"$0/small/capture.pcapng\" \"$0/copy.pcapng\"; exit $rc"
        let r = try runToCompletion(
            try #require(PeerProcess.which("unshare")),
            [
                "-m", "--propagation", "private", "/bin/bash", "-c", script, dir, dir, try CLITests.binary(), "send",
                "127.0.0.1:\(peers.danteNoAuth.port)", "127.0.0.1:\(peers.echo.port)", "--count", "200", "--size",
                "1000", "--pcap", path,
            ]
        )
        #expect(r.status == 74, "\(r.output.suffix(400))")
        let said = try #require(
            r.output.split(separator: "\n").first {
                $0.contains("capture: cannot write \(path): No space left on device")
            },
            "\(r.output.suffix(400))"
        )
        #expect(said.contains("(the capture is incomplete)"))
        let count = try #require(Int(said.split(separator: "only the first ")[1].split(separator: " ")[0]))
        // Tshark.run fails on a non-zero exit, which a cut-short file gives.
        let read = try Tshark.run(["-r", dir + "/copy.pcapng"])
        #expect(!read.contains("cut short"), "\(read.suffix(300))")
        #expect(read.split(separator: "\n").count == count, "\(count) said, tshark read: \(read.suffix(200))")
    }

    /// When nothing comes back from a target sent as a name, send says the server may not resolve
    /// it (try --resolve) rather than suggesting --declare (issue 29).
    @Test func noReplyFromANameSuggestsResolve() throws {
        let peers = try TestPeers.shared()
        // A name from /etc/hosts (nothing leaves the machine), to a port where nothing answers.
        let name = try CLITests.run([
            "send", "127.0.0.1:\(peers.danteNoAuth.port)", "localhost:\(peers.closedPort)", "--text", "x",
            "--wait-reply", "300",
        ])
        #expect(name.status == 3 && name.output.contains("which it may not resolve: try --resolve"), "\(name.output)")
        #expect(!name.output.contains("try --declare"), "\(name.output)")
    }

    /// Ctrl-C during a long paced send ends it between two datagrams, with the summary of what
    /// was sent (as associate does), instead of killing the process silently (issue 29).
    @Test func ctrlCDuringAPacedSendPrintsWhatWasSent() throws {
        let peers = try TestPeers.shared()
        let log = try makeTemporaryDirectory("sendint") + "/log"
        let pid = try spawn(
            try CLITests.binary(),
            [
                "send", "127.0.0.1:\(peers.danteNoAuth.port)", "127.0.0.1:\(peers.echo.port)", "--text", "x",
                "--count", "500", "--interval", "10",
            ],
            logPath: log
        )
        var status: Int32 = 0
        defer {
            if waitpid(pid, &status, WNOHANG) == 0 {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
            }
        }
        let deadline = Date().addingTimeInterval(10)
        while !((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("association #1")
            && Date() < deadline
        {
            usleep(20_000)
        }
        usleep(400_000)
        kill(pid, SIGINT)
        while waitpid(pid, &status, WNOHANG) == 0 && Date() < deadline { usleep(20_000) }
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let line = try #require(output.split(separator: "\n").first { $0.hasPrefix("interrupted by Ctrl-C after ") })
        let sent = try #require(Int(line.split(separator: " ")[4]), "\(line)")
        #expect(sent > 0 && sent < 500 && line.hasSuffix(" of 500 datagram(s)"), "\(line)")
        #expect(output.contains("counters: sent \(sent) "), "\(output.suffix(400))")
        #expect(status == 0, "wait status \(status) (0: exit 0): \(output.suffix(300))")
    }

    /// `serve --mapping/--filtering` simulates a NAT, and `check --nat` names it.
    @Test func checkNatNamesTheBehaviourServeSimulates() throws {
        let s = try UDPServices.shared()
        let serve = try CLITests.serve(
            ["--mapping", "address-dependent", "--filtering", "address-and-port-dependent"],
            name: "natserve"
        )
        defer { serve.process.stop() }
        let port = serve.port
        let r = try CLITests.run(["check", "127.0.0.1:\(port)", "--nat", "127.0.0.1:\(s.stunPort)", "--json"])
        #expect(r.status == 0, "\(r.output)")
        let check = (CLITests.jsonLines(r.output).last?["checks"] as? [[String: Any]])?.first
        #expect(check?["natMapping"] as? String == "address-dependent", "\(r.output)")
        #expect(
            check?["natFiltering"] as? String == "address-and-port-dependent"
                && check?["natType"] as? String == "symmetric NAT"
        )
        let bad = try CLITests.run(["serve", "--mapping", "cone"])
        #expect(bad.status == 64 && bad.output.contains("endpoint-independent"), "\(bad.output)")
    }

    /// The demo's own resolver and STUN server answer `check demo` with no option.
    @Test func checkOnTheDemoWorksOffline() throws {
        let r = try CLITests.run(["check", "--demo", "demo"])
        #expect(r.status == 0, "\(r.output)")
        #expect(
            r.output.contains("NOERROR: A 127.0.0.9 (TTL 60)") && r.output.contains("OTHER-ADDRESS 127.0.0.2:"),
            "\(r.output)"
        )
    }

    /// Many proxies at once, as a provider's list is vetted: one table, server × check; one JSON
    /// object per server; a server that fails is a row with its decoded reason, not the end.
    @Test func checkVetsAListOfServers() throws {
        let peers = try TestPeers.shared()
        let s = try UDPServices.shared()
        let list = try makeTemporaryDirectory("list") + "/proxies.txt"
        try """
        # the lab
        socks5://127.0.0.1:\(peers.danteNoAuth.port)
        socks5://[::1]:\(peers.danteNoAuth.port)   # the same over IPv6
        127.0.0.1:\(peers.microsocksPort)

        socks5://\(TestPeers.username):\(TestPeers.password)@127.0.0.1:\(peers.danteUserPass.port)
        """.write(toFile: list, atomically: true, encoding: .utf8)
        let args = [
            "check", "--servers-from", list, "--dns", "127.0.0.1:\(s.dnsPort)", "--name", "socksdeck.test", "--stun",
            "127.0.0.1:\(s.stunPort)", "--parallel", "2",
        ]
        let r = try CLITests.run(args)
        #expect(r.status == 1, "one server has no UDP: \(r.output)")
        let rows = r.output.split(separator: "\n").map(String.init)
        #expect(
            rows.first?.hasPrefix("SERVER") == true && rows.first?.contains("DNS") == true
                && rows.first?.contains("STUN") == true
        )
        #expect(rows.filter { $0.contains("✔") && $0.contains("NOERROR: A 127.0.0.9") }.count == 3, "\(r.output)")
        #expect(
            rows.contains { $0.hasPrefix("127.0.0.1:\(peers.microsocksPort)") && $0.contains("✘ S5_EOPNOTSUPP") },
            "\(r.output)"
        )
        let json = try CLITests.run(args + ["--json"])
        let objects = CLITests.jsonLines(json.output)
        #expect(objects.count == 4 && objects.filter { $0["error"] != nil }.count == 1, "\(json.output)")
        #expect(!r.output.contains(TestPeers.password), "the password in the list is never printed")
    }

    /// probe judges the data plane with real services when there is no echo target, and probes
    /// several servers at once into one table (one JSON object each).
    @Test func probeWithServicesAndOverSeveralServers() throws {
        let peers = try TestPeers.shared()
        let s = try UDPServices.shared()
        let dante = "127.0.0.1:\(peers.danteNoAuth.port)"
        let one = try CLITests.run([
            "probe", dante, "--dns", "127.0.0.1:\(s.dnsPort)", "--name", "socksdeck.test", "--json",
        ])
        let findings = CLITests.jsonLines(one.output).last?["findings"] as? [[String: Any]] ?? []
        let dns = findings.first { $0["key"] as? String == "check_dns" }
        #expect(
            dns?["verdict"] as? String == "yes"
                && (dns?["value"] as? String)?.hasPrefix("NOERROR: A 127.0.0.9") == true,
            "\(one.output)"
        )
        #expect(
            findings.contains { $0["key"] as? String == "relay" && $0["verdict"] as? String == "skipped" },
            "no echo target"
        )
        let many = try CLITests.run([
            "probe", dante, "127.0.0.1:\(peers.microsocksPort)", "--stun", "127.0.0.1:\(s.stunPort)",
        ])
        let rows = many.output.split(separator: "\n").map(String.init)
        #expect(rows.first?.hasPrefix("SERVER") == true && rows.first?.contains("STUN") == true, "\(many.output)")
        #expect(
            rows.contains {
                $0.hasPrefix(dante) && $0.contains("✔ rendezvous 127.0.0.1:") && $0.contains("✔ mapped 127.0.0.1:")
            },
            "\(many.output)"
        )
        #expect(
            rows.contains { $0.hasPrefix("127.0.0.1:\(peers.microsocksPort)") && $0.contains("✘ S5_EOPNOTSUPP") },
            "\(many.output)"
        )
    }

    /// `send` with nothing back: the rendezvous is asked from a socket that sees ICMP errors, and a
    /// port unreachable there is said instead of the --declare hint, which would point the wrong way.
    @Test func sendSaysNothingListensAtTheRendezvous() throws {
        let peers = try TestPeers.shared()
        let server = try FixedRendezvousServer()
        defer { server.stop() }
        let (port, closed) = (server.port, server.rendezvousPort)
        let echo = peers.echo.endpoint(.ipv4)
        let r = try CLITests.run(["send", "127.0.0.1:\(port)", "\(echo)", "--text", "hi", "--wait-reply", "300"])
        #expect(r.status == 3)
        #expect(
            r.output.contains(
                "(the datagram to the rendezvous 127.0.0.1:\(closed) drew ICMP port unreachable from 127.0.0.1: "
                    + "nothing listens at 127.0.0.1:\(closed), or the relay passed on an error from the target \(echo)"
            ),
            "\(r.output)"
        )
        #expect(!r.output.contains("try --declare"))
        // JSON carries the same words, so a script need not parse stderr.
        let json = try CLITests.run([
            "send", "127.0.0.1:\(port)", "\(echo)", "--text", "hi", "--wait-reply", "300", "--json",
        ])
        #expect(json.status == 3)
        let summary = CLITests.jsonLines(json.output).first { $0["association"] != nil }
        #expect(
            (summary?["noReplyReason"] as? String)?.hasPrefix(
                "the datagram to the rendezvous 127.0.0.1:\(closed) drew ICMP port unreachable"
            ) == true,
            "\(json.output)"
        )
        // Through Dante to a port where nothing listens: Dante (as root) passes the target's ICMP
        // error on, which the same words cover; without root it drops it, and the hint stays.
        let dante = try CLITests.run([
            "send", "127.0.0.1:\(peers.danteNoAuth.port)", "127.0.0.1:\(closed)", "--text", "hi", "--wait-reply", "300",
        ])
        #expect(dante.status == 3)
        if getuid() == 0 {
            #expect(dante.output.contains("or the relay passed on an error from the target 127.0.0.1:\(closed)"))
        }
    }

    /// One size rule, the library's (issue 27): a payload that cannot go in one datagram to its target
    /// through the rendezvous the server gave is refused with exit 64 and the real limit, and nothing
    /// is sent or counted lost; one that fits goes whole.
    @Test func sizesThatCannotFitAreRefusedBeforeAnythingIsSent() throws {
        let peers = try TestPeers.shared()
        let dante = "127.0.0.1:\(peers.danteNoAuth.port)"
        let echo = "\(peers.echo.endpoint(.ipv4))"
        let over = try CLITests.run(["send", dante, echo, "--size", "65498"])
        #expect(over.status == 64, "\(over.output)")
        #expect(
            over.output.contains(
                "nothing sent: 65498 bytes do not fit in one datagram to \(echo) through an IPv4 "
                    + "rendezvous: at most 65497 do"
            ),
            "\(over.output)"
        )
        #expect(!over.output.contains("sent 0 datagram"))
        let file = try makeTemporaryDirectory("bigfile") + "/big"
        try Data(count: 70_000).write(to: URL(fileURLWithPath: file))
        let big = try CLITests.run(["send", dante, echo, "--file", file])
        #expect(big.status == 64)
        #expect(!big.output.contains("association #"), "refused before opening: \(big.output)")
        let load = try CLITests.run(["load", dante, echo, "--size", "65507", "--count", "3", "--json"])
        #expect(load.status == 64, "\(load.output)")
        #expect(!load.output.contains("lost"), "\(load.output)")
        let fits = try CLITests.run(["send", dante, echo, "--size", "65497", "--wait-reply", "2000"])
        #expect(fits.status == 0, "\(fits.output)")
        #expect(fits.output.contains("counters: sent 1 (65497 B), received 1 (65497 B)"), "\(fits.output)")
    }
}
