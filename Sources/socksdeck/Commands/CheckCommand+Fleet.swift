import ArgumentParser
import Foundation
import Socks5
import SocksDeckEngine

/// `check` over many proxies at once, the way people vet a provider's list: each server gets its
/// own association and its checks, `--parallel` at a time, a progress line on a terminal, then one
/// table, server × check; `--json` gives one object per server.
extension CheckCommand {
    /// The servers of a list file: one a line, '#' starts a comment, blank lines skipped.
    static func readServerList(_ path: String) throws -> [String] {
        let text: String
        if path == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            guard let data = FileManager.default.contents(atPath: path) else {
                Output.error("cannot read the server list \(path): \(SendCommand.whyUnreadable(path))")
                throw Exit.noInput
            }
            text = String(decoding: data, as: UTF8.self)
        }
        let lines = text.split(separator: "\n").map {
            $0.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
        }
        .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !lines.isEmpty else {
            Output.error("the server list \(path) names no server")
            throw Exit.usage
        }
        return lines
    }

    struct ServerReport: Encodable {
        var server: String
        var association: String
        var error: String?
        var checks: [CheckResult]
    }

    func executeMany(_ configuration: DeckConfiguration, names: [String]) async throws {
        let definitions = try names.map { declaration.applied(to: try options.server($0, in: configuration)) }
        let plans = try definitions.map { try checks(for: $0) }
        let pcap = try capture.open()
        defer { pcap.finish() }
        let engine = SessionEngine(configuration: configuration, capture: pcap.mode)
        DescriptorLimit.raise(toAtLeast: 4 * parallel + 64)
        let progress = ProgressLine(enabled: !json)
        let done = ProbeCommand.Counter()
        let total = definitions.count
        progress.start { "checking \(total) servers, \(parallel) at a time: \(done.value) done" }
        let family = self.family
        var reports = [ServerReport?](repeating: nil, count: total)
        await withTaskGroup(of: (Int, ServerReport).self) { group in
            var next = 0
            func launch() {
                let i = next
                next += 1
                let definition = definitions[i]
                let plan = plans[i]
                group.addTask { (i, await Self.checkOne(engine, definition, plan, family: family)) }
            }
            for _ in 0..<min(parallel, total) { launch() }
            for await (i, report) in group {
                reports[i] = report
                done.increment()
                if json { progress.printing { Output.json(report) } }
                if next < total { launch() }
            }
        }
        progress.stop()
        await engine.shutdown()
        let all = reports.compactMap { $0 }
        if !json { for line in Self.table(all) { Output.line(line) } }
        if all.contains(where: { $0.error != nil }) { throw Exit.operationFailed }
        if all.contains(where: { $0.checks.contains { !$0.passed } }) { throw Exit.noReply }
    }

    static func checkOne(
        _ engine: SessionEngine,
        _ definition: ServerDefinition,
        _ plan: [ServiceCheck],
        family: Int?
    ) async -> ServerReport {
        var report = ServerReport(server: definition.name, association: "", checks: [])
        let id: AssociationID
        do {
            id = try await engine.open(server: definition, family: family.map { $0 == 4 ? .ipv4 : .ipv6 })
        } catch {
            report.error = error.description
            return report
        }
        let bound = Double(definition.connectTimeoutMilliseconds + definition.handshakeTimeoutMilliseconds) / 1000 + 1
        let settled = await engine.waitUntilSettled(id, timeout: .seconds(bound))
        guard let settled, settled.state == .associated else {
            if case .failed(let f)? = settled?.state {
                report.error = "\(f.name): \(f.sentence)"
            } else {
                report.error = "did not settle: \(settled?.state.name ?? "?")"
            }
            await engine.close(id)
            return report
        }
        report.association = settled.rendezvous?.asUsed.description ?? ""
        for check in plan {
            do { report.checks.append(try await engine.run(check, through: id)) } catch {
                report.error = error.description
                break
            }
        }
        await engine.close(id)
        return report
    }

    /// Server × check: ✔/✘ and the figure that matters (the answer, the offset, the mapped
    /// address, the NAT type), or the decoded reason the association failed.
    static func table(_ reports: [ServerReport]) -> [String] {
        let kinds = ["dns", "ntp", "stun", "nat", "quic"].filter { k in
            reports.contains { $0.checks.contains { $0.check == k } }
        }
        func cell(_ r: CheckResult) -> String {
            let mark = r.passed ? "✔" : "✘"
            let rtt = r.roundTripMilliseconds.map { String(format: " %.1fms", $0) } ?? ""
            let figure: String =
                switch r.check {
                case "stun": r.mappedAddress ?? r.summary
                case "nat": r.natType ?? r.summary
                default: r.summary.count > 32 ? String(r.summary.prefix(31)) + "…" : r.summary
                }
            return "\(mark)\(rtt) \(figure)"
        }
        let rows = reports.map { report -> [String] in
            guard report.error == nil || !report.checks.isEmpty else {
                // The decoded name only ("S5_EOPNOTSUPP"): the sentence would widen the column.
                let name = (report.error ?? "").split(separator: ":").first.map(String.init) ?? ""
                return [report.server, "✘ \(name), no association"]
                    + Array(repeating: "", count: max(kinds.count - 1, 0))
            }
            return [report.server] + kinds.map { k in report.checks.first { $0.check == k }.map(cell) ?? "-" }
        }
        return TextTable.lines(header: ["SERVER"] + kinds.map { $0.uppercased() }, rows: rows)
    }
}
