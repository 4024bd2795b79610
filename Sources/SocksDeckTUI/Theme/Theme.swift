import Foundation
import SocksDeckEngine
import TOMLKit

/// What a piece of the screen is, for colouring: panes draw roles, themes colour them.
enum Role: String, CaseIterable, Sendable {
    case text, border, title, selection, ok, warning, error, muted, accent, header, status
}

/// A colour: one of the eight ANSI colours, their bright variants (8–15), any of 256, or the
/// terminal's default.
enum ThemeColor: Equatable, Sendable {
    case `default`
    case index(Int)

    static let names: [String: Int] = [
        "black": 0, "red": 1, "green": 2, "yellow": 3, "blue": 4, "magenta": 5, "cyan": 6, "white": 7,
        "bright-black": 8, "gray": 8, "grey": 8, "bright-red": 9, "bright-green": 10, "bright-yellow": 11,
        "bright-blue": 12, "bright-magenta": 13, "bright-cyan": 14, "bright-white": 15,
    ]

    init?(_ text: String) {
        if text == "default" {
            self = .default
            return
        }
        if let n = Self.names[text] {
            self = .index(n)
            return
        }
        if let n = Int(text), (0...255).contains(n) {
            self = .index(n)
            return
        }
        return nil
    }
}

/// How one role looks.
struct RoleStyle: Equatable, Sendable {
    var foreground: ThemeColor = .default
    var background: ThemeColor = .default
    var bold = false
    var reverse = false
    var dim = false
    var underline = false
}

/// A named set of role styles, from a TOML file in themes/:
///
///     name = "dark"
///     [roles]
///     text = { fg = "white" }
///     selection = { fg = "black", bg = "cyan", bold = true }
///
/// A theme that uses no colour at all (only bold, reverse, dim, underline) works on a
/// monochrome terminal and under NO_COLOR.
package struct Theme: Equatable, Sendable {
    package var name: String
    var styles: [Role: RoleStyle]

    func style(_ role: Role) -> RoleStyle { styles[role] ?? RoleStyle() }

    var usesColor: Bool {
        styles.values.contains { $0.foreground != .default || $0.background != .default }
    }

    /// The theme every build carries, used when no theme file can be read.
    package static let builtInDefault = Theme(
        name: "default",
        styles: [
            .text: RoleStyle(),
            .border: RoleStyle(foreground: .index(4)),
            .title: RoleStyle(foreground: .index(6), bold: true),
            .selection: RoleStyle(foreground: .index(0), background: .index(6)),
            .ok: RoleStyle(foreground: .index(2)),
            .warning: RoleStyle(foreground: .index(3)),
            .error: RoleStyle(foreground: .index(1), bold: true),
            .muted: RoleStyle(foreground: .index(8)),
            .accent: RoleStyle(foreground: .index(5)),
            .header: RoleStyle(foreground: .index(6), underline: true),
            .status: RoleStyle(foreground: .index(0), background: .index(4)),
        ]
    )

    /// For NO_COLOR and terminals without colour: attributes only.
    package static let monochrome = Theme(
        name: "monochrome",
        styles: [
            .text: RoleStyle(), .border: RoleStyle(), .title: RoleStyle(bold: true),
            .selection: RoleStyle(reverse: true), .ok: RoleStyle(), .warning: RoleStyle(bold: true),
            .error: RoleStyle(bold: true, underline: true), .muted: RoleStyle(dim: true),
            .accent: RoleStyle(underline: true),
            .header: RoleStyle(bold: true), .status: RoleStyle(reverse: true),
        ]
    )

    /// Parses a theme file. Errors carry the line.
    static func parse(_ text: String, fallbackName: String) throws(ThemeError) -> Theme {
        let table: TOMLTable
        do { table = try TOMLDocument.parse(text) } catch { throw ThemeError(line: error.line, message: error.message) }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func line(of key: String) -> Int? {
            lines.firstIndex { $0.trimmingCharacters(in: .whitespaces).hasPrefix(key) }.map { $0 + 1 }
        }
        var theme = Theme(name: table["name"]?.string ?? fallbackName, styles: builtInDefault.styles)
        guard let roles = table["roles"]?.table else {
            throw ThemeError(line: nil, message: "a theme needs a [roles] table")
        }
        for key in roles.keys {
            guard let role = Role(rawValue: key) else {
                throw ThemeError(
                    line: line(of: key),
                    message: "unknown role '\(key)' (roles: \(Role.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            guard let entry = roles[key]?.table else {
                throw ThemeError(line: line(of: key), message: "'\(key)' must be a table: \(key) = { fg = \"white\" }")
            }
            var style = RoleStyle()
            for attribute in entry.keys {
                let value = entry[attribute]
                switch attribute {
                case "fg", "bg":
                    guard let name = value?.string, let color = ThemeColor(name) else {
                        throw ThemeError(
                            line: line(of: key),
                            message:
                                "'\(key).\(attribute)' is not a colour (a name such as \"cyan\" or "
                                + "\"bright-black\", \"default\", or 0–255)"
                        )
                    }
                    if attribute == "fg" { style.foreground = color } else { style.background = color }
                case "bold", "reverse", "dim", "underline":
                    guard let flag = value?.bool else {
                        throw ThemeError(line: line(of: key), message: "'\(key).\(attribute)' must be true or false")
                    }
                    switch attribute {
                    case "bold": style.bold = flag
                    case "reverse": style.reverse = flag
                    case "dim": style.dim = flag
                    default: style.underline = flag
                    }
                default:
                    throw ThemeError(
                        line: line(of: key),
                        message: "unknown attribute '\(attribute)' (fg, bg, bold, reverse, dim, underline)"
                    )
                }
            }
            theme.styles[role] = style
        }
        return theme
    }
}

package struct ThemeError: Error, Equatable, Sendable, CustomStringConvertible {
    var path: String?
    var line: Int?
    var message: String
    package var description: String {
        [path, line.map(String.init)].compactMap { $0 }.joined(separator: ":")
            + (path == nil && line == nil ? "" : ": ") + message
    }
}

/// The themes SocksDeck can use: the shipped ones (themes/ beside the package, or
/// share/socksdeck/themes beside an installed binary, or $SOCKSDECK_THEMES), then the user's
/// (themes/ in the configuration folder), which win on a name clash. A file that does not parse
/// is reported and skipped; the built-in default is always there.
package struct ThemeLibrary: Sendable {
    package var themes: [Theme]
    package var problems: [ThemeError]

    package static func load(
        userFolder: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        executable: String = CommandLine.arguments[0]
    ) -> ThemeLibrary {
        var byName: [String: Theme] = [
            Theme.builtInDefault.name: Theme.builtInDefault, Theme.monochrome.name: Theme.monochrome,
        ]
        // `default` first, as `t` cycles them: the others follow by folder and name.
        var order = [Theme.builtInDefault.name]
        var problems: [ThemeError] = []
        if let explicit = environment["SOCKSDECK_THEMES"], !FileManager.default.fileExists(atPath: explicit) {
            problems.append(
                ThemeError(
                    path: explicit,
                    message: "SOCKSDECK_THEMES names a folder that does not exist: only the built-in themes are used"
                )
            )
        }
        let folders = shippedFolders(environment: environment, executable: executable) + [userFolder].compactMap { $0 }
        for folder in folders {
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter {
                $0.hasSuffix(".toml")
            }.sorted()
            for file in files {
                let path = folder + "/" + file
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
                do {
                    let theme = try Theme.parse(text, fallbackName: String(file.dropLast(5)))
                    if byName[theme.name] == nil { order.append(theme.name) }
                    byName[theme.name] = theme
                } catch {
                    var e = error
                    e.path = path
                    problems.append(e)
                }
            }
        }
        if !order.contains(Theme.monochrome.name) { order.append(Theme.monochrome.name) }
        return ThemeLibrary(themes: order.compactMap { byName[$0] }, problems: problems)
    }

    /// The theme of a start without --theme or NO_COLOR: the one chosen with `t` last time
    /// (`ThemeMemory`), or, for a new user, `default`, which suits dark and light backgrounds.
    package func startingTheme(remembered: String?) -> Theme {
        remembered.flatMap(theme(named:)) ?? theme(named: Theme.builtInDefault.name) ?? .builtInDefault
    }

    /// Where the shipped themes are, for `swift run` and for an installed copy.
    static func shippedFolders(environment: [String: String], executable: String) -> [String] {
        if let explicit = environment["SOCKSDECK_THEMES"] { return [explicit] }
        let exe = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        var candidates = [exe.appendingPathComponent("../share/socksdeck/themes").standardized.path]
        // swift run: .build/<triple>/debug/socksdeck -> the package's themes/ a few levels up.
        var dir = exe
        for _ in 0..<5 {
            candidates.append(dir.appendingPathComponent("themes").path)
            dir.deleteLastPathComponent()
        }
        return candidates.filter { FileManager.default.fileExists(atPath: $0 + "/default.toml") }.prefix(1).map { $0 }
    }

    package func theme(named name: String) -> Theme? { themes.first { $0.name == name } }
}

/// The theme last chosen with `t`, kept in one line of a file in the configuration folder, so
/// that the next start looks the way the user left it. Not kept in config.toml: the UI never
/// rewrites a file the user writes by hand.
package struct ThemeMemory: Sendable {
    let path: String

    package init(folder: String) { path = folder + "/last-theme" }

    package var remembered: String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Best effort: a folder that cannot be written costs only the memory of the choice.
    func remember(_ name: String) {
        try? FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true
        )
        try? (name + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }
}
