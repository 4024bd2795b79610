// swift-tools-version:6.1
import PackageDescription

// The codec's micro-benchmarks (ordo-one/benchmark, with malloc counts), in a package of their
// own so that SocksDeck's build does not carry the benchmark framework:
//     cd Benchmarks/Micro && swift package benchmark
let package = Package(
    name: "SocksDeckMicroBenchmarks",
    dependencies: [
        .package(name: "SocksDeck", path: "../.."),
        // MallocInterposer: malloc counts without jemalloc (which Debian's Swift does not ship).
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "CodecBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Socks5", package: "SocksDeck"),
            ],
            path: "Benchmarks/CodecBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
