import AllocationCounter
import Foundation
import Testing

/// A C program built with gcc against socks5.h and libsocks5.so, run against Dante and
/// microsocks: the only check that the Swift-side @c signatures match the header.
@Suite(.tags(.peers), .needsPeers, .serialized) struct CProgramTests {
    /// libsocks5.so from the `swift build` that precedes `swift test` (README's test command).
    static func libraryDirectory() throws -> String {
        // The test bundle sits in the build folder beside the library.
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        for dir in [bundle, Repository.path(".build/debug")]
        where FileManager.default.fileExists(atPath: dir + "/libsocks5.so") {
            return dir
        }
        throw PeerError.missing("libsocks5.so not found beside \(bundle): run `swift build` before `swift test`")
    }

    static func compile(_ source: String, _ name: String) throws -> String {
        // Under a sanitizer libsocks5.so calls its runtime, which only the toolchain's clang
        // links in (gcc's libasan is another runtime): the C program is built with it then.
        let sanitizer = [1: "-fsanitize=address", 2: "-fsanitize=thread"][active_sanitizer()]
        let compilerName = sanitizer == nil ? "gcc" : "clang"
        guard let compiler = PeerProcess.which(compilerName) else {
            throw PeerError.missing("\(compilerName) is not installed: apt-get install -y gcc (clang comes with Swift)")
        }
        let lib = try libraryDirectory()
        let out = try makeTemporaryDirectory("c") + "/" + name
        let result = try runToCompletion(
            compiler,
            [
                "-std=c11", "-D_DEFAULT_SOURCE", "-Wall", "-Wextra", "-Werror", "-I",
                Repository.path("Sources/CSocks5/include"),
                source, "-o", out, "-L", lib, "-lsocks5", "-Wl,-rpath," + lib,
            ] + (sanitizer.map { [$0] } ?? []) + threadSanitizerRuntimeLibraries(compiler)
        )
        guard result.status == 0 else { throw PeerError.failed("\(compilerName) failed:\n\(result.output)") }
        return out
    }

    /// The toolchain's ThreadSanitizer runtime intercepts libdispatch, so a C program linked
    /// with it needs libdispatch and the blocks runtime that come with Swift.
    static func threadSanitizerRuntimeLibraries(_ clang: String) -> [String] {
        guard active_sanitizer() == 2 else { return [] }
        let swiftLibraries =
            URL(fileURLWithPath: clang).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().path + "/lib/swift/linux"
        return ["-L", swiftLibraries, "-ldispatch", "-lBlocksRuntime", "-Wl,-rpath," + swiftLibraries]
    }

    @Test func theCTestProgramPassesAgainstDanteAndMicrosocks() throws {
        let peers = try TestPeers.shared()
        let binary = try Self.compile(
            Repository.path("Tests/SocksDeckTests/Socks5/CAPI/c/socks5_client_test.c"),
            "socks5_client_test"
        )
        var env = ProcessInfo.processInfo.environment
        env["NOAUTH_PORT"] = "\(peers.danteNoAuth.port)"
        env["USERPASS_PORT"] = "\(peers.danteUserPass.port)"
        env["MICROSOCKS_PORT"] = "\(peers.microsocksPort)"
        env["ECHO_PORT"] = "\(peers.echo.port)"
        env["CLOSED_PORT"] = "\(peers.closedPort)"
        let result = try runToCompletion(binary, [], environment: env, seconds: 60)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains(" 0 failed"), "\(result.output)")
        #expect(!result.output.contains("FAIL"), "\(result.output)")
        // The program's own count: every check ran.
        #expect(result.output.contains("32 passed"), "\(result.output)")
    }

    @Test func theReadmeExampleCompilesRunsAndIsTheOneInTheReadme() throws {
        let peers = try TestPeers.shared()
        let source = Repository.path("Examples/c/associate.c")
        let binary = try Self.compile(source, "associate")
        let result = try runToCompletion(
            binary,
            ["127.0.0.1", "\(peers.danteNoAuth.port)", "127.0.0.1", "\(peers.echo.port)"],
            seconds: 30
        )
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("rendezvous 127.0.0.1:"))
        #expect(result.output.contains("echo: hello through SOCKS5"))
        let readme = try String(contentsOfFile: Repository.path("README.md"), encoding: .utf8)
        let example = try String(contentsOfFile: source, encoding: .utf8)
        #expect(
            readme.contains(example.trimmingCharacters(in: .whitespacesAndNewlines)),
            "README.md must show Examples/c/associate.c as it is"
        )
    }
}
