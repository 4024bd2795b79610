import ArgumentParser
import Foundation
import Socks5

struct GetservCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "getserv",
        abstract: "Show which SOCKS server socks5c.conf picks for a destination (socks5_getserv).",
        discussion: """
            The file: --conf FILE, else $SOCKS5C_CONFIG, else /etc/socks5c.conf (no file: every \
            destination is direct). One record a line, '#' starts a comment:

              destination[/prefixlength]   server[:port]
              127.0.0.0/8                  NONE
              10.0.0.0/8                   192.0.2.10:1080
              ::/0                         [2001:db8::1]:1080
              .example.com                 socks.example.com

            destination: an IPv4 or IPv6 address, with a prefix length or without (every bit \
            compared), or a host-name fragment matched as a suffix of the destination's \
            reverse-resolved name. server: a host name or address, port 1080 by default; an IPv6 \
            server must carry a port, best in brackets ([::1]:1080; unbracketed, as AIX allows, its \
            last group is the port: ::1:1080 is [::1]:1080); NONE (upper case) for no SOCKS server. The best record \
            wins: any matching name record beats every address record; among names the longest \
            fragment, among addresses the longest prefix; a tie goes to the earlier line. A \
            malformed line is an error naming its line.
            """
    )

    @Argument(help: "The destination: an IPv4 or IPv6 address (a port is allowed and ignored).") var destination: String
    @Option(help: ArgumentHelp("The socks5c.conf file.", valueName: "FILE")) var conf: String?
    @Flag(help: "Do not reverse-resolve the destination for name records.") var noReverse = false
    @Flag(help: "One JSON object.") var json = false

    /// Why nothing matched: no file at all is worth saying, as it explains every answer.
    private func noMatch(_ configuration: ClientConfiguration) -> String {
        guard let path = configuration.path else {
            let named = ProcessInfo.processInfo.environment[ClientConfiguration.pathVariable]
            return
                "no record matches: there is no \(named ?? ClientConfiguration.defaultPath), so every destination is "
                + "direct; see socksdeck getserv --help for the format"
        }
        return "no record in \(path) matches"
    }

    func validate() throws {
        guard IPAddress(destination) ?? IPEndpoint(destination)?.address != nil else {
            throw ValidationError(
                "'\(destination)' is not an IPv4 or IPv6 address: getserv takes the destination's address, as "
                    + "socks5_getserv does (a name is not looked up here; `getent hosts NAME` gives its addresses)"
            )
        }
    }

    func run() throws {
        guard let address = IPAddress(destination) ?? IPEndpoint(destination)?.address else { throw Exit.usage }
        let configuration: ClientConfiguration
        do {
            if let conf {
                configuration = try ClientConfiguration(contentsOf: conf)
            } else {
                configuration = try ClientConfiguration.system()
            }
        } catch {
            Output.error(error.description)
            throw error.line == 0 && error.systemError == ENOENT ? Exit.noInput : Exit.configuration
        }
        let outcome: ServerSelection.Outcome
        do {
            outcome = try ServerSelection.select(
                for: address,
                in: configuration,
                reverseName: {
                    noReverse ? nil : ServerSelection.reverseName(of: address)
                }
            )
        } catch {
            Output.error(error.description)
            throw Exit.operationFailed
        }
        struct Result: Encodable {
            var destination: String
            var server: String?
            var direct: Bool
            var line: Int?
        }
        switch outcome {
        case .server(let server, let record):
            if json {
                Output.json(
                    Result(destination: "\(address)", server: server.description, direct: false, line: record.line)
                )
            } else {
                let reading = record.unbracketedIPv6 ? "; unbracketed, its last group is the port: write \(server)" : ""
                Output.line("\(address) -> \(server) (line \(record.line)\(reading))")
            }
        case .direct(let record):
            if json {
                Output.json(Result(destination: "\(address)", server: nil, direct: true, line: record?.line))
            } else {
                Output.line(
                    "\(address) -> direct (\(record.map { "NONE, line \($0.line)" } ?? noMatch(configuration)))"
                )
            }
        }
    }
}
