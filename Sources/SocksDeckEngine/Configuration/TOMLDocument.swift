import TOMLKit

/// The one way SocksDeck turns a TOML file's text into a table (configurations and themes):
/// the subset check first, because toml++ aborts the process on some input outside it
/// (`TOMLSubsetGuard`), then TOMLKit. A failure carries the line when one is known.
package enum TOMLDocument {
    package struct Failure: Error, Sendable, Equatable {
        package var line: Int?
        package var message: String
    }

    package static func parse(_ text: String) throws(Failure) -> TOMLTable {
        if let (line, message) = TOMLSubsetGuard.check(text) { throw Failure(line: line, message: message) }
        do {
            return try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw Failure(line: error.source.begin.line, message: error.description)
        } catch {
            throw Failure(line: nil, message: "\(error)")
        }
    }
}
