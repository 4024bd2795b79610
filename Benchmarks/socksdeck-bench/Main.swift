import Foundation
import Socks5

#if canImport(Glibc)
import Glibc
#endif

/// SocksDeck's benchmarks against a SOCKS5 server and a UDP echo target that are already
/// running: scripts/bench.sh starts Dante and SocksDeck's own relay and echo target on loopback
/// and calls this once per server. Every client is measured in the same run, in alternation,
/// several times; the results are Markdown tables on stdout. Rates are wall clock (run on an
/// idle machine); CPU figures come from the kernel's exact accounting.
///
///     socksdeck-bench SERVER_IP:PORT ECHO_IP:PORT [--runs 3] [--associations 300]
///         [--datagrams 20000] [--server-pids PID,PID] [--only setup|echo|scale|engine-setup|engine-echo|probe-cpu|forward]
///         [--scale-associations 1000] [--scale-seconds 60]
@main struct Bench {
    static func main() async throws {
        var options = Options(CommandLine.arguments.dropFirst())
        let runs = options.int("--runs", 3)
        let associations = options.int("--associations", 300)
        let datagrams = options.int("--datagrams", 20_000)
        let serverPIDs = options.string("--server-pids").map { $0.split(separator: ",").compactMap { Int32($0) } } ?? []
        let only = options.string("--only")
        let scaleAssociations = options.int("--scale-associations", 1000)
        let scaleSeconds = options.int("--scale-seconds", 60)
        let forward = options.string("--forward").flatMap(IPEndpoint.init)
        let forwardPID = options.string("--forward-pid").flatMap(Int32.init)
        // The batched client's pause on an empty queue (DatagramIO.receive's `gathering`).
        let gatheringPause = Duration.microseconds(options.int("--gathering-us", 100))
        let gatheredLabel = "SocksDeck library, batched, gathering \(options.int("--gathering-us", 100)) µs"
        let engineGatheredLabel = "SocksDeck engine, gathering \(options.int("--gathering-us", 100)) µs"
        guard options.positional.count == 2, let server = IPEndpoint(options.positional[0]),
            let echo = IPEndpoint(options.positional[1])
        else {
            FileHandle.standardError.write(
                Data(
                    """
                    usage: socksdeck-bench SERVER_IP:PORT ECHO_IP:PORT [--runs N] [--associations N] [--datagrams N]
                                           [--server-pids PID,...] [--only setup|echo|scale|engine-setup|engine-echo|probe-cpu|forward]
                                           [--scale-associations N] [--scale-seconds S] [--gathering-us N]

                    """.utf8
                )
            )
            exit(64)
        }

        if only == nil || only == "setup" {
            var table = ResultTable("setup, associations/s")
            for _ in 0..<runs {
                table.add(
                    "sequential",
                    "SocksDeck library (Swift)",
                    try SetupBenchmarks.library(server, associations, pipelining: false)
                )
                table.add(
                    "sequential",
                    "SocksDeck library, pipelined",
                    try SetupBenchmarks.library(server, associations, pipelining: true)
                )
                table.add("sequential", "SocksDeck C API", try SetupBenchmarks.cAPI(server, associations))
                table.add(
                    "sequential",
                    "SocksDeck engine",
                    try await SetupBenchmarks.engine(server, associations, pipelining: false)
                )
                table.add(
                    "sequential",
                    "SocksDeck engine, pipelined",
                    try await SetupBenchmarks.engine(server, associations, pipelining: true)
                )
                table.add(
                    "sequential",
                    "SocksDeck engine, caller off the loop",
                    try await SetupBenchmarks.engine(server, associations, pipelining: false, callerOnLoop: false)
                )
                table.add("sequential", "PySocks", try PySocksClient.setup(server, associations))
            }
            print(table.markdown)
            if let ours = table.median("sequential", "SocksDeck library, pipelined"),
                let plain = table.median("sequential", "SocksDeck library (Swift)"),
                let theirs = table.median("sequential", "PySocks")
            {
                print("Medians against PySocks: library \(ratio(plain, theirs)), pipelined \(ratio(ours, theirs)).\n")
            }
        }

        // The engine's setup alone, for a profiler (perf record -g) to see nothing else.
        if only == "engine-setup" {
            var table = ResultTable("setup, associations/s")
            for _ in 0..<runs {
                table.add(
                    "sequential",
                    "SocksDeck engine",
                    try await SetupBenchmarks.engine(server, associations, pipelining: false)
                )
            }
            print(table.markdown)
        }

        if only == nil || only == "echo" {
            var rates = ResultTable("echo, datagrams/s")
            var cpu = ResultTable("client CPU, µs per datagram")
            var serverCPU = ResultTable("server CPU, µs per datagram")
            var sleeps = ResultTable("client sleeps (voluntary context switches) per datagram")
            for size in [64, 1200] {
                for window in [1, 32] {
                    // Ping-pong waits a round trip per datagram: fewer of them keep it short.
                    let run = EchoRun(count: window == 1 ? datagrams / 4 : datagrams, size: size, window: window)
                    let label = "\(window == 1 ? "ping-pong" : "32 in flight"), \(size) B"
                    for _ in 0..<runs {
                        // The server's processes as they are during the run: Dante forks its
                        // I/O child when the first association comes, so the association is
                        // opened first (inside the client) and the children counted at the end;
                        // a child born during the run counts from zero, which is right.
                        let library: EchoResult
                        var serverNanoseconds = 0.0
                        do {
                            let before = CPUTime.withChildren(serverPIDs).map { ($0, CPUTime.processes([$0])) }
                            library = try EchoClients.library(server, echo, run)
                            let after = CPUTime.withChildren(serverPIDs)
                            for pid in after {
                                let start = before.first { $0.0 == pid }?.1 ?? 0
                                serverNanoseconds += Double(CPUTime.processes([pid]) - start)
                            }
                        }
                        let batched = try EchoClients.libraryBatched(server, echo, run, gathering: nil)
                        let gathered = try EchoClients.libraryBatched(server, echo, run, gathering: gatheringPause)
                        let c = try EchoClients.cAPI(server, echo, run)
                        let engine = try await EchoClients.engine(server, echo, run)
                        let engineGathered = try await EchoClients.engine(server, echo, run, gathering: gatheringPause)
                        let py = try PySocksClient.echo(server, echo, run)
                        let direct = try EchoClients.direct(echo, run)
                        let unconnected = try EchoClients.directUnconnected(echo, run)
                        for (client, r) in [
                            ("SocksDeck library (Swift)", library), ("SocksDeck library, batched", batched),
                            (gatheredLabel, gathered), ("SocksDeck C API", c),
                            ("SocksDeck engine", engine), (engineGatheredLabel, engineGathered),
                            ("PySocks", py),
                            ("no proxy (ceiling)", direct), ("no proxy, unconnected socket", unconnected),
                        ] {
                            rates.add(label, client, r.rate)
                            cpu.add(label, client, r.clientMicroseconds)
                            if let s = r.sleepsPerDatagram { sleeps.add(label, client, s) }
                        }
                        if !serverPIDs.isEmpty {
                            serverCPU.add(
                                label,
                                "SocksDeck library (Swift)",
                                serverNanoseconds / 1000 / Double(max(library.received, 1))
                            )
                        }
                    }
                }
            }
            print(rates.markdown)
            print(cpu.markdown)
            print(sleeps.markdown)
            if !serverPIDs.isEmpty { print(serverCPU.markdown) }
            for label in ["ping-pong, 64 B", "32 in flight, 64 B", "32 in flight, 1200 B"] {
                if let ours = cpu.median(label, "SocksDeck library (Swift)"),
                    let direct = cpu.median(label, "no proxy (ceiling)"),
                    let py = cpu.median(label, "PySocks"), let rate = rates.median(label, "SocksDeck library (Swift)"),
                    let pyRate = rates.median(label, "PySocks"),
                    let unconnected = cpu.median(label, "no proxy, unconnected socket")
                {
                    print(
                        "\(label): client CPU \(ratio(ours, direct)) the direct client's (\(ratio(ours, unconnected)) the unconnected one's), \(ratio(ours, py)) PySocks'; rate \(ratio(rate, pyRate)) PySocks'."
                    )
                }
            }
            print()
        }

        // The engine's echo path beside the direct client and the library's gathered batches, 32 in
        // flight, for working on the engine's datagram path (issue 30) without the whole table.
        if only == "engine-echo" {
            var cpu = ResultTable("client CPU, µs per datagram")
            var sleeps = ResultTable("client sleeps per datagram")
            var rates = ResultTable("echo, datagrams/s")
            for size in [64, 1200] {
                let run = EchoRun(count: datagrams, size: size, window: 32)
                let label = "32 in flight, \(size) B"
                for _ in 0..<runs {
                    cpu.add(label, "no proxy (ceiling)", try EchoClients.direct(echo, run).clientMicroseconds)
                    let gathered = try EchoClients.libraryBatched(server, echo, run, gathering: gatheringPause)
                    cpu.add(label, gatheredLabel, gathered.clientMicroseconds)
                    cpu.add(
                        label,
                        "SocksDeck engine",
                        try await EchoClients.engine(server, echo, run).clientMicroseconds
                    )
                    let engineGathered = try await EchoClients.engine(server, echo, run, gathering: gatheringPause)
                    cpu.add(label, engineGatheredLabel, engineGathered.clientMicroseconds)
                    if let s = engineGathered.sleepsPerDatagram { sleeps.add(label, engineGatheredLabel, s) }
                    rates.add(label, engineGatheredLabel, engineGathered.rate)
                }
                if let engine = cpu.median(label, "SocksDeck engine"),
                    let gathered = cpu.median(label, engineGatheredLabel),
                    let direct = cpu.median(label, "no proxy (ceiling)")
                {
                    print(
                        "\(label): engine \(ratio(engine, direct)), gathering \(ratio(gathered, direct)) the direct client's"
                    )
                }
            }
            print(cpu.markdown)
            print(sleeps.markdown)
            print(rates.markdown)
        }

        if only == "forward" {
            guard let forward, let pid = forwardPID else {
                FileHandle.standardError.write(Data("--only forward needs --forward IP:PORT --forward-pid PID\n".utf8))
                exit(64)
            }
            try ForwardBenchmark.run(
                server: server,
                echo: echo,
                forward: forward,
                forwardPID: pid,
                runs: runs,
                datagrams: datagrams
            )
        }

        if only == "probe-cpu" {
            try await ProbeCPUBenchmark.run(server, echo, associations: scaleAssociations, seconds: scaleSeconds)
        }
        if only == "scale" {
            try await ScaleBenchmark.run(server, echo, associations: scaleAssociations, seconds: scaleSeconds)
        }
        if only != "scale" && only != "probe-cpu" {
            print("(\(runs) runs each, clients in alternation; medians compared)")
        }
    }

    static func ratio(_ a: Double, _ b: Double) -> String { String(format: "%.2f×", a / b) }
}

/// `--name value` options and positional arguments.
struct Options {
    private var arguments: [String]
    init(_ arguments: ArraySlice<String>) { self.arguments = Array(arguments) }

    var positional: [String] { arguments }

    mutating func string(_ name: String) -> String? {
        guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
        defer { arguments.removeSubrange(i...(i + 1)) }
        return arguments[i + 1]
    }

    mutating func int(_ name: String, _ fallback: Int) -> Int {
        string(name).flatMap { Int($0) } ?? fallback
    }
}
