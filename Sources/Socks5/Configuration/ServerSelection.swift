#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// socks5_getserv's work in Swift: which SOCKS server a destination goes through.
public enum ServerSelection {
    /// The outcome for one destination.
    public enum Outcome: Sendable, Equatable {
        /// Through this server; `record` is the line that chose it (nil: none).
        case server(IPEndpoint, record: ClientConfiguration.Record)
        /// No SOCKS server: a NONE record, or no record at all (`record` nil).
        case direct(record: ClientConfiguration.Record?)
    }

    /// Chooses the server for `destination` from `configuration`. A server named by host name
    /// is resolved (any family); a failed resolution is EHOSTUNREACH-free: it reports the name.
    public static func select(
        for destination: IPAddress,
        in configuration: ClientConfiguration,
        reverseName: () -> String? = { nil }
    ) throws(SOCKS5Error) -> Outcome {
        guard let record = configuration.bestRecord(for: destination, reverseName: reverseName) else {
            return .direct(record: nil)
        }
        switch record.server {
        case .direct:
            return .direct(record: record)
        case .server(let host, let port):
            if let literal = IPAddress(host) { return .server(IPEndpoint(literal, port: port), record: record) }
            return .server(try resolve(host, port: port, line: record.line), record: record)
        }
    }

    /// The destination's name from a reverse lookup (getnameinfo with NI_NAMEREQD), or nil.
    public static func reverseName(of address: IPAddress) -> String? {
        let endpoint = IPEndpoint(address, port: 0)
        return endpoint.withSockaddr { sa, length in
            withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(NI_MAXHOST)) { host in
                guard getnameinfo(sa, length, host.baseAddress, socklen_t(NI_MAXHOST), nil, 0, NI_NAMEREQD) == 0 else {
                    return nil
                }
                return String(cString: host.baseAddress!)
            }
        }
    }

    static func resolve(_ host: String, port: UInt16, line: Int) throws(SOCKS5Error) -> IPEndpoint {
        guard let endpoint = NameResolution.resolve(host, port: port) else {
            var error = SOCKS5Error(code: .noServer, detail: "cannot resolve server '\(host)' (line \(line))")
            error.hint =
                "The record on line \(line) names '\(host)', which does not resolve: check the name, "
                + "or write the server's address."
            throw error
        }
        return endpoint
    }
}
