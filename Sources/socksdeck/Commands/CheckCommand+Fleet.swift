import ArgumentParser
import Foundation
import Socks5
import SocksDeckEngine

/// `check` over many proxies at once, the way people vet a provider's list: each server gets its
/// own association and its checks, `--parallel` at a time, a progress line on a terminal, then one
/// table, server × check; `--json` gives one object per server.
extension CheckCommand {
    struct ServerReport: Encodable {
        var server: String
        var association: String
        var error: String?
        var checks: [CheckResult]
        /// What the association's failure was, for the verdict (not in JSON: `error` says it).
        var failure: AssociationFailure?

        enum CodingKeys: String, CodingKey { case server, association, error, checks, verdict }

        var verdict: Fleet.Verdict {
            if let failure { return Fleet.Verdict(failure: failure) }
            if error != nil && checks.isEmpty { return .refused }
            // A check that could not run (the association ended midway) is no pass.
            if error != nil { return checks.contains(where: \.answered) ? .partly : .noData }
            if !checks.isEmpty && checks.allSatisfy(\.passed) { return .works }
            return checks.contains(where: \.answered) ? .partly : .noData
        }

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(server, forKey: .server)
            try c.encode(association, forKey: .association)
            try c.encodeIfPresent(error, forKey: .error)
            try c.encode(checks.map(CheckResultJSON.init), forKey: .checks)
            try c.encode(verdict.key, forKey: .verdict)
        }
    }

    func executeMany(_ configuration: DeckConfiguration, entries: [Fleet.Entry]) async throws {
        let definitions = try Fleet.servers(entries, options: options, in: configuration).map(declaration.applied)
        let plans = try definitions.map { try checks(for: $0) }
        let pcap = try capture.open()
        defer { pcap.finish() }
        let engine = SessionEngine(configuration: configuration, capture: pcap.mode)
        // An association holds two descriptors; the NAT test opens a second one.
        let parallel = Fleet.parallelism(
            asked: self.parallel,
            servers: definitions.count,
            perServer: nat.isEmpty ? 3 : 5
        )
        let family = familyOption.requested
        let json = self.json
        let (all, elapsed) = await Fleet.run(
            count: definitions.count,
            parallel: parallel,
            verb: "checking",
            work: { i in await Self.checkOne(engine, definitions[i], plans[i], family: family) },
            verdict: \.verdict,
            finished: { _, report in if json { Output.json(report) } }
        )
        await engine.shutdown()
        if !json {
            for line in Self.table(all.sorted { $0.verdict < $1.verdict }) { Output.line(line) }
            Output.line(Fleet.summary(all.map(\.verdict), elapsed: elapsed))
        }
        if let worst = all.map(\.verdict).max(), let code = worst.exitCode { throw code }
    }

    static func checkOne(
        _ engine: SessionEngine,
        _ definition: ServerDefinition,
        _ plan: [ServiceCheck],
        family: AddressFamily?
    ) async -> ServerReport {
        var report = ServerReport(server: definition.name, association: "", checks: [])
        let id: AssociationID
        do {
            id = try await engine.open(server: definition, family: family)
        } catch {
            report.error = error.description
            return report
        }
        let settled = await engine.waitUntilSettled(id, timeout: definition.settleBound)
        guard let settled, settled.state == .associated else {
            if case .failed(let f)? = settled?.state {
                report.error = "\(f.name): \(f.sentence)"
                report.failure = f
            } else {
                report.error = "did not settle: \(settled?.state.name ?? "?")"
            }
            await engine.close(id)
            return report
        }
        report.association = settled.rendezvous?.asUsed.description ?? ""
        for check in plan {
            do { report.checks.append(try await engine.run(check, through: id, natReusesUnused: true)) } catch {
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
        let kinds = CheckKind.allCases.filter { k in
            reports.contains { $0.checks.contains { $0.check == k } }
        }
        func cell(_ r: CheckResult) -> String {
            let mark = r.passed ? "✔" : "✘"
            let rtt = r.roundTrip.map { String(format: " %.1fms", $0.milliseconds) } ?? ""
            let figure: String =
                switch r.finding {
                case .stun(let mapped): "\(mapped)"
                case .nat(let nat): nat.legacyName ?? r.summary
                default: r.summary.count > 32 ? String(r.summary.prefix(31)) + "…" : r.summary
                }
            return "\(mark)\(rtt) \(figure)"
        }
        let rows = reports.map { report -> [String] in
            guard report.error == nil || !report.checks.isEmpty else {
                // The decoded name only ("S5_EOPNOTSUPP"): the sentence would widen the column.
                let name = (report.error ?? "").split(separator: ":").first.map(String.init) ?? ""
                return [report.server, report.verdict.words, "✘ \(name), no association"]
                    + Array(repeating: "", count: max(kinds.count - 1, 0))
            }
            return [report.server, report.verdict.words]
                + kinds.map { k in report.checks.first { $0.check == k }.map(cell) ?? "-" }
        }
        return TextTable.lines(header: ["SERVER", "VERDICT"] + kinds.map { $0.rawValue.uppercased() }, rows: rows)
    }
}
