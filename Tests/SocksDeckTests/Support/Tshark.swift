import Foundation

/// Wireshark's tshark (Debian package tshark) reading a capture: the judge of whether SocksDeck's
/// pcapng files decode as a maintainer will see them.
enum Tshark {
    static func path() throws -> String {
        guard let path = PeerProcess.which("tshark") else {
            throw PeerError.missing("tshark is not installed (apt-get install tshark)")
        }
        return path
    }

    /// tshark's output; its complaint about running as root (on stderr, merged) is left out.
    static func run(_ arguments: [String]) throws -> String {
        let (status, output) = try runToCompletion(try path(), arguments, seconds: 60)
        guard status == 0 else { throw PeerError.failed("tshark \(arguments) exited \(status): \(output)") }
        return output.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.contains("Running as user \"root\"") && !$0.contains("dangerous") }
            .joined(separator: "\n")
    }

    /// One row per packet matching `filter`, one column per field (tab-separated by tshark).
    static func fields(_ capture: String, filter: String, fields: [String]) throws -> [[String]] {
        let arguments = ["-r", capture, "-Y", filter, "-T", "fields"] + fields.flatMap { ["-e", $0] }
        return try run(arguments).split(separator: "\n").map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
    }

    /// Every frame as a dictionary of `fields` (a field a frame lacks is ""): one tshark run,
    /// which takes a second to start, for all of a test's questions.
    static func frames(_ capture: String, options: [String] = [], fields: [String]) throws -> [[String: String]] {
        let arguments = ["-r", capture] + options + ["-T", "fields", "-E", "occurrence=f"]
        return try run(arguments + fields.flatMap { ["-e", $0] }).split(separator: "\n").map { line in
            let values = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            return Dictionary(uniqueKeysWithValues: zip(fields, values + Array(repeating: "", count: fields.count)))
        }
    }
}
