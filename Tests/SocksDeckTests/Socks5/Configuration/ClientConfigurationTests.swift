import Testing

@testable import Socks5

@Suite struct ClientConfigurationTests {
    let text = """
        # socks5c.conf for the tests
        10.0.0.0/8        192.0.2.1            # default port
        10.1.0.0/16       192.0.2.2:1081
        10.1.2.3          NONE
        ::/0              [2001:db8::1]:1080
        2001:db8::/32     2001:db8::2:1090
        .example.org      192.0.2.9:9000
        """

    @Test func parsesRecordsWithLineNumbers() throws {
        let c = try ClientConfiguration(parsing: text)
        #expect(c.records.count == 6)
        #expect(
            c.records[0]
                == .init(
                    destination: .network(IPAddress("10.0.0.0")!, prefixLength: 8),
                    server: .server(host: "192.0.2.1", port: 1080),
                    line: 2
                )
        )
        #expect(c.records[2].server == .direct)
        #expect(c.records[2].destination == .network(IPAddress("10.1.2.3")!, prefixLength: 32))
        #expect(c.records[4].server == .server(host: "2001:db8::2", port: 1090))
        #expect(c.records[5].destination == .nameSuffix(".example.org"))
    }

    @Test func longestPrefixWinsAndNoneMeansDirect() throws {
        let c = try ClientConfiguration(parsing: text)
        func pick(_ a: String) throws -> ServerSelection.Outcome {
            try ServerSelection.select(for: IPAddress(a)!, in: c)
        }
        #expect(try pick("10.9.9.9") == .server(IPEndpoint("192.0.2.1:1080")!, record: c.records[0]))
        #expect(try pick("10.1.9.9") == .server(IPEndpoint("192.0.2.2:1081")!, record: c.records[1]))
        #expect(try pick("10.1.2.3") == .direct(record: c.records[2]))
        #expect(try pick("192.168.1.1") == .direct(record: nil))
        #expect(try pick("2001:db8::5") == .server(IPEndpoint("[2001:db8::2]:1090")!, record: c.records[4]))
        #expect(try pick("2001:db9::5") == .server(IPEndpoint("[2001:db8::1]:1080")!, record: c.records[3]))
        // An IPv4-mapped destination is matched as IPv4.
        #expect(try pick("::ffff:10.9.9.9") == .server(IPEndpoint("192.0.2.1:1080")!, record: c.records[0]))
    }

    @Test func aNameRecordBeatsEveryAddressRecord() throws {
        let c = try ClientConfiguration(parsing: text)
        let outcome = try ServerSelection.select(
            for: IPAddress("10.1.2.3")!,
            in: c,
            reverseName: { "host.EXAMPLE.org" }
        )
        #expect(outcome == .server(IPEndpoint("192.0.2.9:9000")!, record: c.records[5]))
    }

    @Test func reverseLookupIsOnlyAskedWhenThereAreNameRecords() throws {
        let c = try ClientConfiguration(parsing: "0.0.0.0/0 192.0.2.1")
        var asked = false
        _ = try ServerSelection.select(
            for: IPAddress("10.0.0.1")!,
            in: c,
            reverseName: {
                asked = true
                return nil
            }
        )
        #expect(!asked)
    }

    @Test(arguments: [
        ("10.0.0.0/33 192.0.2.1", 1, "prefix length"),
        ("10.0.0.0/8", 1, "found 1 field"),
        ("10.0.0.0/8 192.0.2.1 extra", 1, "found 3 field"),
        ("# ok\n10.0.0.0/8 ::1", 2, "must carry a port"),
        ("10.0.0.0/8 192.0.2.1:http", 1, "not a port number"),
        ("10.0.0.0/8 192.0.2.1:0", 1, "not a port number"),
        ("999.1.1.1/8 192.0.2.1", 1, "not an IPv4 or IPv6 address"),
        ("bad*name 192.0.2.1", 1, "neither an address"),
        ("\n\n10.0.0.0/8 [::1]", 3, "is not [IPv6 address]:port"),
    ])
    func malformedLinesAreErrorsWithTheirLineNumber(line: String, number: Int, message: String) {
        do {
            _ = try ClientConfiguration(parsing: line)
            Issue.record("parsed: \(line)")
        } catch {
            #expect(error.line == number)
            #expect(error.message.contains(message), "\(error.message)")
        }
    }
}
