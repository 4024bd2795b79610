import Foundation

/// Figures by benchmark and client: min / median / max over the runs, as a Markdown table.
struct ResultTable {
    private var rows: [(benchmark: String, client: String, values: [Double])] = []
    let title: String

    init(_ title: String) { self.title = title }

    mutating func add(_ benchmark: String, _ client: String, _ value: Double) {
        if let i = rows.firstIndex(where: { $0.benchmark == benchmark && $0.client == client }) {
            rows[i].values.append(value)
        } else {
            rows.append((benchmark, client, [value]))
        }
    }

    func median(_ benchmark: String, _ client: String) -> Double? {
        guard let row = rows.first(where: { $0.benchmark == benchmark && $0.client == client }) else { return nil }
        let v = row.values.sorted()
        return v[v.count / 2]
    }

    var markdown: String {
        var out = "| \(title) | client | min | median | max |\n|---|---|---:|---:|---:|\n"
        for row in rows {
            let v = row.values.sorted()
            out +=
                "| \(row.benchmark) | \(row.client) | \(Self.format(v.first!)) | \(Self.format(v[v.count / 2])) | \(Self.format(v.last!)) |\n"
        }
        return out
    }

    /// Whole numbers from 100 up, three significant digits below (CPU microseconds are small).
    static func format(_ x: Double) -> String {
        if x >= 100 { return String(Int(x.rounded())) }
        if x >= 10 { return String(format: "%.1f", x) }
        return String(format: "%.2f", x)
    }
}
