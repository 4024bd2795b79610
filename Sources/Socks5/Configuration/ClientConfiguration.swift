#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The client configuration file of socks5_getserv: `/etc/socks5c.conf`, or the file named by
/// `SOCKS5C_CONFIG` (AIX's format).
///
///     # destination[/prefixlength]   server[:port]
///     127.0.0.0/8                    NONE
///     10.0.0.0/8                     192.0.2.10:1080
///     ::/0                           [2001:db8::1]:1080
///     .example.com                   socks.example.com
///
/// The best record wins: any matching name record beats every address record; among names the
/// longest fragment, among addresses the longest prefix; a tie goes to the earlier line.
/// Implicit defaults: `0.0.0.0/0 NONE` and `::/0 NONE`.
public struct ClientConfiguration: Sendable, Equatable {
    public static let defaultPath = "/etc/socks5c.conf"
    public static let pathVariable = "SOCKS5C_CONFIG"
    public static let defaultServerPort: UInt16 = 1080

    public enum Destination: Sendable, Equatable {
        case network(IPAddress, prefixLength: Int)
        /// Matched as a suffix of the destination's reverse-resolved name, ignoring case.
        case nameSuffix(String)
    }

    public enum ServerChoice: Sendable, Equatable {
        /// NONE: no SOCKS server, connect directly.
        case direct
        /// An address literal or a host name, with its port.
        case server(host: String, port: UInt16)
    }

    public struct Record: Sendable, Equatable {
        public var destination: Destination
        public var server: ServerChoice
        public var line: Int
        /// The server was written as an IPv6 address without brackets, its last group read as
        /// the port (AIX's rule): worth showing, as "::1:1080" could also be read as an address.
        public var unbracketedIPv6: Bool

        public init(destination: Destination, server: ServerChoice, line: Int, unbracketedIPv6: Bool = false) {
            self.destination = destination
            self.server = server
            self.line = line
            self.unbracketedIPv6 = unbracketedIPv6
        }
    }

    public var records: [Record]
    /// The file the records came from; nil when there was none to read (then every destination
    /// is direct, and `socksdeck getserv` says why).
    public var path: String?

    public init(records: [Record], path: String? = nil) {
        self.records = records
        self.path = path
    }

    /// Parses the file's text. A malformed line is an error naming its line, never skipped.
    public init(parsing text: String) throws(ConfigurationError) {
        var records: [Record] = []
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let content = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            guard fields.count == 2 else {
                throw ConfigurationError(
                    line: lineNumber,
                    message: "expected 'destination[/prefix] server[:port]', found \(fields.count) field(s)"
                )
            }
            let destination = try Self.parseDestination(String(fields[0]), line: lineNumber)
            let server = try Self.parseServer(String(fields[1]), line: lineNumber)
            let unbracketed = !fields[1].hasPrefix("[") && fields[1].filter { $0 == ":" }.count > 1
            records.append(
                Record(destination: destination, server: server, line: lineNumber, unbracketedIPv6: unbracketed)
            )
        }
        self.records = records
    }

    /// Reads and parses a file.
    public init(contentsOf path: String) throws(ConfigurationError) {
        let text: String
        do { text = try FileReading.contents(of: path) } catch {
            throw ConfigurationError(
                line: 0,
                message: "cannot read \(path): \(String(cString: strerror(error.code)))",
                systemError: error.code
            )
        }
        do { try self.init(parsing: text) } catch {
            var e = error
            e.path = path
            throw e
        }
        self.path = path
    }

    /// The configuration socks5_getserv uses: SOCKS5C_CONFIG's file (which must exist), else
    /// /etc/socks5c.conf, else no records at all.
    public static func system() throws(ConfigurationError) -> ClientConfiguration {
        if let named = getenv(pathVariable).map({ String(cString: $0) }), !named.isEmpty {
            return try ClientConfiguration(contentsOf: named)
        }
        guard access(defaultPath, F_OK) == 0 else { return ClientConfiguration(records: []) }
        return try ClientConfiguration(contentsOf: defaultPath)
    }

    /// The record that decides for `destination`, or nil when none matches (the implicit NONE).
    /// `reverseName` is asked only when the file has name records.
    public func bestRecord(for destination: IPAddress, reverseName: () -> String?) -> Record? {
        let target = destination.unmapped
        var best: Record?
        var bestLength = -1
        if records.contains(where: { if case .nameSuffix = $0.destination { true } else { false } }),
            let name = reverseName()?.lowercased()
        {
            for r in records {
                guard case .nameSuffix(let fragment) = r.destination else { continue }
                if name.hasSuffix(fragment.lowercased()), fragment.count > bestLength {
                    best = r
                    bestLength = fragment.count
                }
            }
            if best != nil { return best }
        }
        for r in records {
            guard case .network(let network, let prefix) = r.destination else { continue }
            if Self.matches(target, network: network, prefixLength: prefix), prefix > bestLength {
                best = r
                bestLength = prefix
            }
        }
        return best
    }

    static func matches(_ address: IPAddress, network: IPAddress, prefixLength: Int) -> Bool {
        switch (address, network) {
        case (.v4(let a), .v4(let n)):
            let mask: UInt32 = prefixLength == 0 ? 0 : ~UInt32(0) << (32 - prefixLength)
            return a.value & mask == n.value & mask
        case (.v6(let a), .v6(let n)):
            let highBits = min(prefixLength, 64)
            let lowBits = max(prefixLength - 64, 0)
            let highMask: UInt64 = highBits == 0 ? 0 : ~UInt64(0) << (64 - highBits)
            let lowMask: UInt64 = lowBits == 0 ? 0 : ~UInt64(0) << (64 - lowBits)
            return a.high & highMask == n.high & highMask && a.low & lowMask == n.low & lowMask
        default:
            return false
        }
    }

    static func parseDestination(_ field: String, line: Int) throws(ConfigurationError) -> Destination {
        let parts = field.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count == 2 {
            guard let address = IPAddress(String(parts[0])) else {
                throw ConfigurationError(line: line, message: "'\(parts[0])' is not an IPv4 or IPv6 address")
            }
            let maximum = address.family == .ipv4 ? 32 : 128
            guard let prefix = Int(parts[1]), (0...maximum).contains(prefix) else {
                throw ConfigurationError(
                    line: line,
                    message: "prefix length '\(parts[1])' is not a number from 0 to \(maximum)"
                )
            }
            return .network(address, prefixLength: prefix)
        }
        guard parts.count == 1 else {
            throw ConfigurationError(line: line, message: "'\(field)' has more than one '/'")
        }
        if let address = IPAddress(field) {
            return .network(address, prefixLength: address.family == .ipv4 ? 32 : 128)
        }
        guard field.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" }) else {
            throw ConfigurationError(line: line, message: "'\(field)' is neither an address nor a host-name fragment")
        }
        return .nameSuffix(field)
    }

    static func parseServer(_ field: String, line: Int) throws(ConfigurationError) -> ServerChoice {
        if field == "NONE" { return .direct }
        // AIX spells it NONE; "none" in any other case would silently name a host called none.
        if field.uppercased() == "NONE" {
            throw ConfigurationError(line: line, message: "'\(field)': write NONE, in upper case, for no SOCKS server")
        }
        if field.hasPrefix("[") {
            guard let (host, port) = HostPort.split(field), IPv6Address(host) != nil else {
                throw ConfigurationError(line: line, message: "'\(field)' is not [IPv6 address]:port, e.g. [::1]:1080")
            }
            return .server(host: host, port: port)
        }
        let colons = field.filter { $0 == ":" }.count
        if colons == 0 { return .server(host: field, port: defaultServerPort) }
        // AIX: an IPv6 server must carry a port, and unbracketed its last group is that port
        // ("2001:db8::2:1090" is [2001:db8::2]:1090). `unbracketedIPv6` lets getserv say so.
        let colon = field.lastIndex(of: ":")!
        let host = String(field[..<colon])
        guard let port = UInt16(field[field.index(after: colon)...]), port > 0 else {
            if IPv6Address(field) != nil {
                throw ConfigurationError(
                    line: line,
                    message: "the IPv6 server address '\(field)' must carry a port, e.g. [\(field)]:1080 "
                        + "(unbracketed, the last group is read as the port)"
                )
            }
            throw ConfigurationError(
                line: line,
                message: "'\(field[field.index(after: colon)...])' is not a port number"
            )
        }
        if colons > 1 && IPv6Address(host) == nil {
            if IPv6Address(field) != nil {
                throw ConfigurationError(
                    line: line,
                    message: "the IPv6 server address '\(field)' must carry a port, e.g. [\(field)]:1080 "
                        + "(unbracketed, the last group is read as the port)"
                )
            }
            throw ConfigurationError(line: line, message: "'\(field)' is not an IPv6 address with a port")
        }
        guard !host.isEmpty else { throw ConfigurationError(line: line, message: "server '\(field)' has no host") }
        return .server(host: host, port: port)
    }
}

/// A configuration file that cannot be used, with the line at fault (0: the file as a whole).
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String?
    public var line: Int
    public var message: String
    public var systemError: Int32

    public init(path: String? = nil, line: Int, message: String, systemError: Int32 = EINVAL) {
        self.path = path
        self.line = line
        self.message = message
        self.systemError = systemError
    }

    public var description: String {
        let file = path ?? "configuration"
        return line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)"
    }
}

/// Reads a whole file with POSIX calls (the library uses no Foundation).
enum FileReading {
    struct Failure: Error { var code: Int32 }

    static func contents(of path: String) throws(Failure) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(code: errno) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(code: errno)
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
            // A client configuration is a few lines; refuse to read a runaway file into memory.
            if bytes.count > 1 << 20 { throw Failure(code: EFBIG) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
