// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "SocksDeck",
    products: [
        // The Swift API of the SOCKS5 client library.
        .library(name: "Socks5", targets: ["Socks5"]),
        // libsocks5.so: the same library behind the AIX-compatible C API of socks5.h.
        .library(name: "socks5", type: .dynamic, targets: ["Socks5CAPI"]),
        .executable(name: "socksdeck", targets: ["socksdeck"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        // `swift package generate-documentation` (scripts/docs.sh); nothing is built with it otherwise.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // socks5.h / socks5_api.h and the one thing Swift cannot define: the C thread-local
        // socks5_errno.
        .target(name: "CSocks5"),
        // The client library: sans-I/O codec and handshake state machine, and a thin blocking
        // POSIX layer over them. Standard library and Glibc only (and CSocketBatch's two wrappers), so
        // libsocks5.so stays small.
        .target(name: "Socks5", dependencies: ["CSocketBatch"]),
        // recvmmsg/sendmmsg, which Swift's Glibc does not declare (no _GNU_SOURCE), for the
        // library's batched datagram calls.
        .target(name: "CSocketBatch"),
        // The C entry points of socks5.h, implemented on Socks5.
        .target(name: "Socks5CAPI", dependencies: ["Socks5", "CSocks5"]),

        // The session engine: servers from the configuration, associations on SwiftNIO driven by
        // the library's handshake state machine, counters, probes, the event log, and what the
        // metrics endpoint serves. No terminal code, no process policy.
        // The library's addresses as SwiftNIO's, for the engine and the relay.
        // DNS, NTP and STUN as small sans-I/O codecs: what `socksdeck check` sends through a relay
        // and judges the answers by. Standard library only.
        .target(name: "UDPChecks"),
        // pcapng captures of associations, sans-I/O: events in, file bytes out; and the reading of
        // UDP datagrams out of captured frames (replay). Standard library and Socks5 only.
        .target(name: "PcapNG", dependencies: ["Socks5"]),
        // libpcap (libpcap-dev), to read any pcap/pcapng file and compile BPF filters for replay.
        .systemLibrary(name: "CPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),
        .target(name: "PcapReplay", dependencies: ["CPcap", "PcapNG"]),
        .target(
            name: "Socks5NIO",
            dependencies: [
                "Socks5", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "SocksDeckEngine",
            dependencies: [
                "Socks5",
                "Socks5NIO",
                "UDPChecks",
                "PcapNG",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),
        // What a process decides for itself rather than the engine for it: signals that end a run
        // cleanly, and the descriptor limit. Foundation, Dispatch and Glibc only: no NIO, no engine.
        .target(name: "ProcessPolicy"),
        // A small SOCKS5 server with a UDP relay, on the library's codec: `socksdeck serve` and the demo.
        .target(
            name: "SocksDeckRelay",
            dependencies: [
                "UDPChecks",
                "PcapNG",
                "Socks5",
                "Socks5NIO",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // ncursesw for Swift: the wide-character API and accessors for its macros and globals.
        .target(name: "CNcurses", linkerSettings: [.linkedLibrary("ncursesw")]),
        // The terminal UI: panes drawn from engine snapshots onto a canvas (ncurses, or a text
        // buffer in the tests), one key table, themes from TOML.
        .target(
            name: "SocksDeckTUI",
            dependencies: [
                "CNcurses", "SocksDeckEngine", "UDPChecks", "ProcessPolicy",
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),
        // The executable: the terminal UI and the scriptable subcommands.
        .executableTarget(
            name: "socksdeck",
            dependencies: [
                "SocksDeckEngine", "SocksDeckRelay", "SocksDeckTUI", "ProcessPolicy",
                "Socks5NIO", "UDPChecks", "PcapNG", "PcapReplay",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                // The metrics endpoint of `watch` (Support/MetricsServer.swift).
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),

        // The benchmarks (scripts/bench.sh): built by CI so they do not rot, run by hand.
        .executableTarget(
            name: "socksdeck-bench",
            dependencies: ["Socks5", "Socks5CAPI", "CSocks5", "SocksDeckEngine", "ProcessPolicy", "CBenchSupport"],
            path: "Benchmarks/socksdeck-bench"
        ),
        .target(name: "CBenchSupport", path: "Benchmarks/CBenchSupport"),

        // The README's Swift example, built so that it cannot rot.
        .executableTarget(name: "socks5-example", dependencies: ["Socks5"], path: "Examples/swift"),

        // Counts heap allocations on the calling thread, for the tests that pin "no allocation".
        .target(name: "AllocationCounter", path: "Tests/AllocationCounter"),
        // One test target, folders mirroring the modules (Socks5/, SocksDeckEngine/, socksdeck/),
        // so that the real peers in Support/ are started once per run for all of them.
        .testTarget(
            name: "SocksDeckTests",
            dependencies: [
                "Socks5", "Socks5CAPI", "CSocks5", "Socks5NIO", "AllocationCounter", "SocksDeckEngine",
                "SocksDeckRelay", "SocksDeckTUI", "UDPChecks", "PcapNG", "PcapReplay", "ProcessPolicy",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            exclude: ["Socks5/CAPI/c"]
        ),
    ]
)
