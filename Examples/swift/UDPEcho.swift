import Socks5

/// Sends one datagram through a SOCKS5 server's UDP relay and prints the echo.
/// Usage: swift run socks5-example SERVER_IP:PORT TARGET_IP:PORT [USER PASSWORD]
@main struct UDPEcho {
    static func main() throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 3 || arguments.count == 5,
            let server = IPEndpoint(arguments[1]), let target = IPEndpoint(arguments[2])
        else {
            print("usage: socks5-example SERVER_IP:PORT TARGET_IP:PORT [USER PASSWORD]")
            return
        }
        let credentials = arguments.count == 5 ? Credentials(username: arguments[3], password: arguments[4]) : nil
        do {
            let association = try UDPAssociation.open(server: server, options: SOCKS5Options(credentials: credentials))
            print("rendezvous \(association.rendezvous)")
            try association.send(Array("hello through SOCKS5".utf8), to: .ip(target))
            var buffer = [UInt8](repeating: 0, count: 1500)
            let datagram = try buffer.withUnsafeMutableBytes { try association.receive(into: $0) }
            print("echo from \(datagram.sender): \(String(decoding: buffer[0..<datagram.length], as: UTF8.self))")
        } catch {
            // error is a SOCKS5Error: S5 code, errno and a sentence from the catalogue.
            print("failed: \(error)")
        }
    }
}
