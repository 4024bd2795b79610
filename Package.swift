// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "SocksDeck",
    products: [
        // The Swift API of the SOCKS5 client library.
        .library(name: "Socks5", targets: ["Socks5"]),
        // libsocks5.so: the same library behind the AIX-compatible C API of socks5.h.
        .library(name: "socks5", type: .dynamic, targets: ["Socks5CAPI"]),
    ],
    targets: [
        // socks5.h / socks5_api.h and the one thing Swift cannot define: the C thread-local
        // socks5_errno.
        .target(name: "CSocks5"),
        // The client library: sans-I/O codec and handshake state machine, and a thin blocking
        // POSIX layer over them. Standard library and Glibc only, so libsocks5.so stays small.
        .target(name: "Socks5"),
        // The C entry points of socks5.h, implemented on Socks5.
        .target(name: "Socks5CAPI", dependencies: ["Socks5", "CSocks5"]),

        // The README's Swift example, built so that it cannot rot.
        .executableTarget(name: "socks5-example", dependencies: ["Socks5"], path: "Examples/swift"),

        // Counts heap allocations on the calling thread, for the tests that pin "no allocation".
        .target(name: "AllocationCounter", path: "Tests/AllocationCounter"),
        .testTarget(
            name: "Socks5Tests",
            dependencies: ["Socks5", "Socks5CAPI", "CSocks5", "AllocationCounter"],
            exclude: ["CAPI/c"]
        ),
    ]
)
