import Foundation

/// Changes to the configuration file the TUI makes on the user's word: append a server, replace
/// one, remove one. The file is the user's, written by hand: only the one [[server]] table is
/// touched (from its header to the next header, comments and all), everything else stays byte
/// for byte, the result must parse before it is written, and it is written atomically with the
/// file's permissions. By hand rather than with TOMLKit: TOMLKit would re-serialise the whole
/// document and lose the user's comments and layout.
package enum ConfigurationFileEditor {
    package enum Change: Sendable {
        case append(ServerDefinition)
        case replace(name: String, with: ServerDefinition)
        case remove(name: String)
    }

    /// Applies `change` to the file at `path` (which may not exist yet, for an append), and
    /// returns the configuration as it now reads.
    @discardableResult
    package static func apply(
        _ change: Change,
        to path: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigurationFileError) -> DeckConfiguration {
        let exists = FileManager.default.fileExists(atPath: path)
        let text: String
        if exists {
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw ConfigurationFileError(
                    path: path,
                    message: "cannot be read, so it was not changed",
                    fileUnreadable: true
                )
            }
        } else {
            text = ""
        }
        let updated = try edited(text, change, path: path)
        // Never write what would not load: the user's next start would fail on it.
        let configuration = try DeckConfiguration.parse(updated, path: path, environment: environment)
        try write(updated, to: path, keepingModeOf: exists ? path : nil)
        return configuration
    }

    /// The text with `change` made, or why it cannot be.
    static func edited(_ text: String, _ change: Change, path: String?) throws(ConfigurationFileError) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        func block(named name: String) throws(ConfigurationFileError) -> Range<Int> {
            let headers = lines.indices.filter {
                lines[$0].replacingOccurrences(of: " ", with: "").hasPrefix("[[server]]")
            }
            for (n, start) in headers.enumerated() {
                var end = n + 1 < headers.count ? headers[n + 1] : lines.count
                let names = lines[start..<end].compactMap(Self.nameValue)
                guard names.first == name else { continue }
                // Comments and blank lines just before the next header belong to that one.
                while end > start + 1,
                    lines[end - 1].trimmingCharacters(in: .whitespaces).isEmpty
                        || lines[end - 1].trimmingCharacters(in: .whitespaces).hasPrefix("#")
                {
                    end -= 1
                }
                return start..<end
            }
            throw ConfigurationFileError(path: path, message: "no [[server]] named '\(name)' in the file")
        }
        switch change {
        case .append(let server):
            if !lines.isEmpty, lines.last?.trimmingCharacters(in: .whitespaces).isEmpty == false { lines.append("") }
            lines += server.tomlTable()
        case .replace(let name, let server):
            let range = try block(named: name)
            lines.replaceSubrange(range, with: server.tomlTable())
        case .remove(let name):
            var range = try block(named: name)
            // Take one blank line after it too, so that removing leaves no growing gap.
            if range.upperBound < lines.count, lines[range.upperBound].trimmingCharacters(in: .whitespaces).isEmpty {
                range = range.lowerBound..<range.upperBound + 1
            }
            lines.removeSubrange(range)
            while lines.last?.trimmingCharacters(in: .whitespaces).isEmpty == true { lines.removeLast() }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The value of a `name = "…"` line, or nil.
    static func nameValue(_ line: String) -> String? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("name"), let equals = trimmed.firstIndex(of: "=") else { return nil }
        guard trimmed[..<equals].trimmingCharacters(in: .whitespaces) == "name" else { return nil }
        let value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        // A basic string up to its closing quote; whatever follows (a comment) is not the name.
        guard value.first == "\"" else { return nil }
        var name = ""
        var escaped = false
        for c in value.dropFirst() {
            if escaped {
                name.append(c)
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "\"" {
                return name
            } else {
                name.append(c)
            }
        }
        return nil
    }

    private static func write(
        _ text: String,
        to path: String,
        keepingModeOf original: String?
    ) throws(ConfigurationFileError) {
        let folder = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            var mode: mode_t = 0o600
            var info = stat()
            if let original, stat(original, &info) == 0 { mode = info.st_mode & 0o7777 }
            let temporary = path + ".socksdeck-new"
            try text.write(toFile: temporary, atomically: false, encoding: .utf8)
            chmod(temporary, mode)
            guard rename(temporary, path) == 0 else {
                throw ConfigurationFileError(
                    path: path,
                    message: "cannot be replaced: \(String(cString: strerror(errno)))"
                )
            }
        } catch let error as ConfigurationFileError {
            throw error
        } catch {
            throw ConfigurationFileError(path: path, message: "cannot be written: \(error.localizedDescription)")
        }
    }
}

extension ServerDefinition {
    /// The server as a [[server]] table of SocksDeck's configuration file. The password is never
    /// written: a server with a username gets `password_env` (its source when it came from the
    /// environment or a file, else SOCKS_PASSWORD_<NAME>, which the user then sets).
    package func tomlTable() -> [String] {
        func quoted(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        var lines = ["[[server]]", "name = \(quoted(name))", "address = \(quoted(address))"]
        if let username {
            lines.append("username = \(quoted(username))")
            switch passwordSource {
            case .file(let file)?: lines.append("password_file = \(quoted(file))")
            case .environment(let variable)?: lines.append("password_env = \(quoted(variable))")
            default: lines.append("password_env = \(quoted(Self.passwordVariable(for: name)))")
            }
        }
        if let echo { lines.append("echo = \(quoted(echo.description))") }
        if connectTimeout != Self.defaultConnectTimeout {
            lines.append("connect_timeout_ms = \(max(1, Int(connectTimeout.milliseconds.rounded())))")
        }
        if handshakeTimeout != Self.defaultHandshakeTimeout {
            lines.append("handshake_timeout_ms = \(max(1, Int(handshakeTimeout.milliseconds.rounded())))")
        }
        if pipelining { lines.append("pipelining = true") }
        if receiveBufferBytes != Self.defaultReceiveBufferBytes {
            lines.append("receive_buffer_bytes = \(receiveBufferBytes)")
        }
        if declare != .default { lines.append("declare = \(quoted(declare.rawValue))") }
        for kind in CheckTargets.configuredKinds {
            if let t = checkTargets[kind] { lines.append("\(kind) = \(quoted(t.description))") }
        }
        if let n = checkTargets.dnsName { lines.append("dns_name = \(quoted(n))") }
        return lines
    }

    /// SOCKS_PASSWORD_<NAME>: the variable a saved server's password is read from when it was
    /// typed (never written to the file), the name upper-cased with other characters as '_'.
    package static func passwordVariable(for name: String) -> String {
        "SOCKS_PASSWORD_" + String(name.uppercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
    }
}
