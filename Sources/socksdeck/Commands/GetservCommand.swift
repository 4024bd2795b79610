import ArgumentParser
import Foundation
import Socks5

struct GetservCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "getserv",
        abstract: "Show which SOCKS server socks5c.conf picks for a destination (socks5_getserv).",
        discussion: "The file: --conf FILE, else $SOCKS5C_CONFIG, else /etc/socks5c.conf.")

    @Argument(help: "The destination: an IPv4 or IPv6 address (a port is allowed and ignored).") var destination: String
    @Option(help: ArgumentHelp("The socks5c.conf file.", valueName: "FILE")) var conf: String?
    @Flag(help: "Do not reverse-resolve the destination for name records.") var noReverse = false
    @Flag(help: "One JSON object.") var json = false

    func run() throws {
        guard let address = IPAddress(destination) ?? IPEndpoint(destination)?.address else {
            throw ValidationError("'\(destination)' is not an IPv4 or IPv6 address")
        }
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
            outcome = try ServerSelection.select(for: address, in: configuration, reverseName: {
                noReverse ? nil : ServerSelection.reverseName(of: address)
            })
        } catch {
            Output.error(error.description)
            throw Exit.operationFailed
        }
        struct Result: Encodable { var destination: String; var server: String?; var direct: Bool; var line: Int? }
        switch outcome {
        case .server(let server, let record):
            if json { Output.json(Result(destination: "\(address)", server: server.description, direct: false, line: record.line)) }
            else { Output.line("\(address) -> \(server) (line \(record.line))") }
        case .direct(let record):
            if json { Output.json(Result(destination: "\(address)", server: nil, direct: true, line: record?.line)) }
            else { Output.line("\(address) -> direct (\(record.map { "NONE, line \($0.line)" } ?? "no record matches"))") }
        }
    }
}
