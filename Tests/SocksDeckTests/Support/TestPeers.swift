import Foundation
import Socks5

/// Dante (no-auth and username/password), microsocks, a UDP echo target and a port where
/// nothing listens: started once per test process on free loopback ports, in a temporary folder,
/// and stopped by pid when the process exits.
final class TestPeers: Sendable {
    static let username = "socksuser"
    static let password = "sockspass"

    let danteNoAuth: DanteServer
    let danteUserPass: DanteServer
    let microsocksPort: UInt16
    let echo: UDPEchoServer
    /// A loopback port with no listener (bound once, then released).
    let closedPort: UInt16
    private let microsocks: PeerProcess

    private static let instance = Result { () throws(PeerError) -> TestPeers in try TestPeers() }

    /// The shared peers; a missing package fails the test with a message naming it.
    static func shared() throws -> TestPeers { try instance.get() }

    private init() throws(PeerError) {
        do {
            danteNoAuth = try DanteServer(configuration: "sockd-noauth.conf")
            try DanteServer.ensureTestUser()
            danteUserPass = try DanteServer(configuration: "sockd-userpass.conf")
            microsocksPort = TestSockets.freePort()
            let dir = try makeTemporaryDirectory("microsocks")
            microsocks = try PeerProcess(
                name: "microsocks",
                executable: "microsocks",
                arguments: ["-i", "127.0.0.1", "-p", "\(microsocksPort)", "-b", "127.0.0.1"],
                logPath: dir + "/microsocks.log"
            )
            try microsocks.waitUntilListening(port: microsocksPort)
            echo = UDPEchoServer()
            closedPort = TestSockets.freePort()
        } catch let error as PeerError {
            throw error
        } catch {
            throw .failed("\(error)")
        }
    }

    func server(_ family: AddressFamily, auth: Bool = false) -> IPEndpoint {
        .loopback(family, auth ? danteUserPass.port : danteNoAuth.port)
    }

    static var credentials: Credentials { Credentials(username: username, password: password)! }
}

/// One danted, from a configuration in peers/dante/ with its port replaced by a free one.
final class DanteServer: Sendable {
    let port: UInt16
    let directory: String
    let process: PeerProcess

    init(configuration name: String, port fixedPort: UInt16? = nil) throws {
        port = fixedPort ?? TestSockets.freePort()
        directory = try makeTemporaryDirectory("dante")
        let template = try String(contentsOfFile: Repository.path("peers/dante/\(name)"), encoding: .utf8)
        let configuration = template.replacingOccurrences(
            of: #"port = \d+"#,
            with: "port = \(port)",
            options: .regularExpression
        )
        let path = directory + "/sockd.conf"
        try configuration.write(toFile: path, atomically: true, encoding: .utf8)
        process = try PeerProcess(
            name: "danted",
            executable: "danted",
            arguments: ["-f", path, "-p", directory + "/sockd.pid", "-N", "1"],
            logPath: directory + "/danted.log"
        )
        try process.waitUntilListening(port: port)
        try process.waitUntilListening(port: port, host: "::1")
    }

    func stop() { process.stop() }

    /// The system user the username/password Dante checks logins against.
    static func ensureTestUser() throws {
        let result = try runToCompletion("/bin/sh", [Repository.path("peers/ensure-test-user.sh")])
        guard result.status == 0 else {
            throw PeerError.failed(
                "peers/ensure-test-user.sh failed: the username/password tests need user \(TestPeers.username)"
            )
        }
    }
}
