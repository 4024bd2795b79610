import Foundation
import Socks5

/// SOCKS5 servers of the field beyond Dante, each with a UDP behaviour the others lack
/// (peers/README.md): started on free loopback ports per test, stopped by pid.

/// asyncio-socks-server (PyPI): its relay binds 0.0.0.0 only and it answers BND 0.0.0.0:P, also
/// to a client that reached it over IPv6.
final class AsyncioSocksServer {
    let endpoint: IPEndpoint
    private let process: PeerProcess

    init(_ family: AddressFamily) throws {
        endpoint = .loopback(family, TestSockets.freePort())
        let dir = try makeTemporaryDirectory("aioss")
        process = try PeerProcess(
            name: "asyncio_socks_server",
            executable: "asyncio_socks_server",
            arguments: ["-H", "\(endpoint.address)", "-P", "\(endpoint.port)"],
            logPath: dir + "/aioss.log"
        )
        try process.waitUntilListening(port: endpoint.port, host: "\(endpoint.address)")
    }

    func stop() { process.stop() }
}

/// v2ray (Debian) with a SOCKS inbound and UDP on: BND is the SOCKS port itself, and it cuts
/// every relayed datagram to its 2,048-byte buffer without a word.
final class V2RaySocks {
    let v4: IPEndpoint
    let v6: IPEndpoint
    private let process: PeerProcess

    init() throws {
        v4 = .loopback(.ipv4, TestSockets.freePort())
        v6 = .loopback(.ipv6, TestSockets.freePort())
        let dir = try makeTemporaryDirectory("v2ray")
        var json = try String(contentsOfFile: Repository.path("peers/v2ray/socks-udp.json"), encoding: .utf8)
        json = json.replacingOccurrences(
            of: #""listen": "127.0.0.1", "port": 0"#,
            with: #""listen": "127.0.0.1", "port": \#(v4.port)"#
        )
        json = json.replacingOccurrences(
            of: #""listen": "::1", "port": 0"#,
            with: #""listen": "::1", "port": \#(v6.port)"#
        )
        try json.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        process = try PeerProcess(
            name: "v2ray",
            executable: "v2ray",
            arguments: ["-config", dir + "/config.json"],
            logPath: dir + "/v2ray.log"
        )
        try process.waitUntilListening(port: v4.port)
        try process.waitUntilListening(port: v6.port, host: "::1")
    }

    func stop() { process.stop() }
}

/// hpsockd (Debian, HP's SOCKS server): it sends the relayed replies to the address the client
/// declared in UDP ASSOCIATE, so with the all-zero declaration nothing ever comes back.
///
/// It daemonizes (the process spawned exits, the daemon calls setsid) and writes no pid file, so
/// the daemon is found by the unique configuration path of this run in /proc/PID/cmdline, and
/// its process group is stopped: only what this run started.
final class HPSockd {
    let endpoint: IPEndpoint
    private let configurationPath: String

    init() throws {
        guard let path = PeerProcess.which("hpsockd") else {
            throw PeerError.missing("hpsockd is not installed: apt-get install -y hpsockd")
        }
        endpoint = .loopback(.ipv4, TestSockets.freePort())
        let dir = try makeTemporaryDirectory("hpsockd")
        chmod(dir, 0o777)
        let configuration = try String(contentsOfFile: Repository.path("peers/hpsockd/hpsockd.conf"), encoding: .utf8)
            .replacingOccurrences(of: "@DIR@", with: dir).replacingOccurrences(of: "@PORT@", with: "\(endpoint.port)")
        configurationPath = dir + "/hpsockd.conf"
        try configuration.write(toFile: configurationPath, atomically: true, encoding: .utf8)
        let started = try runToCompletion(path, ["-c", configurationPath], seconds: 10)
        guard started.status == 0 else { throw PeerError.failed("hpsockd -c \(configurationPath): \(started.output)") }
        let deadline = Date().addingTimeInterval(10)
        while !TestSockets.canConnect(host: "127.0.0.1", port: endpoint.port) {
            guard Date() < deadline else {
                stop()
                throw PeerError.failed("hpsockd did not listen on \(endpoint) within 10 s (it logs to syslog only)")
            }
            usleep(50_000)
        }
    }

    /// The daemons whose command line names this run's configuration file.
    private var daemons: [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry),
                let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
            else { return nil }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return arguments.contains(configurationPath) ? pid : nil
        }
    }

    func stop() {
        // The daemon leads its own group (setsid): signal the group, never one it does not lead.
        for pid in daemons { kill(getpgid(pid) == pid ? -pid : pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(5)
        while !daemons.isEmpty && Date() < deadline { usleep(20_000) }
        for pid in daemons { kill(pid, SIGKILL) }
    }

    deinit { stop() }
}

/// OpenSSH's dynamic forwarding (`ssh -D`, Debian's openssh-client) through an sshd of the test's
/// own on loopback (keys made here, root login by key only): a SOCKS5 front that knows CONNECT
/// only and closes the channel on UDP ASSOCIATE without a reply.
final class OpenSSHDynamicForward {
    let endpoint: IPEndpoint
    private let sshd: PeerProcess
    private let ssh: PeerProcess

    init() throws {
        guard getuid() == 0 else { throw PeerError.missing("sshd for ssh -D needs root (CI runs as root)") }
        let dir = try makeTemporaryDirectory("sshd")
        for key in ["host", "user"] {
            let made = try runToCompletion(
                PeerProcess.which("ssh-keygen") ?? "/usr/bin/ssh-keygen",
                ["-q", "-t", "ed25519", "-N", "", "-f", "\(dir)/\(key)"],
                seconds: 30
            )
            guard made.status == 0 else { throw PeerError.failed("ssh-keygen: \(made.output)") }
        }
        try FileManager.default.copyItem(atPath: dir + "/user.pub", toPath: dir + "/authorized_keys")
        let sshdPort = TestSockets.freePort()
        try """
        Port \(sshdPort)
        ListenAddress 127.0.0.1
        HostKey \(dir)/host
        AuthorizedKeysFile \(dir)/authorized_keys
        PermitRootLogin prohibit-password
        StrictModes no
        UsePAM no
        PidFile \(dir)/sshd.pid
        AllowTcpForwarding yes

        """.write(toFile: dir + "/sshd_config", atomically: true, encoding: .utf8)
        // sshd's privilege separation wants its empty directory.
        try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        sshd = try PeerProcess(
            name: "sshd",
            executable: PeerProcess.which("sshd") ?? "/usr/sbin/sshd",
            arguments: ["-D", "-e", "-f", dir + "/sshd_config"],
            logPath: dir + "/sshd.log"
        )
        try sshd.waitUntilListening(port: sshdPort)
        endpoint = .loopback(.ipv4, TestSockets.freePort())
        ssh = try PeerProcess(
            name: "ssh",
            executable: "ssh",
            arguments: [
                "-N", "-D", "\(endpoint)", "-i", dir + "/user", "-o", "StrictHostKeyChecking=no", "-o",
                "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-p", "\(sshdPort)", "root@127.0.0.1",
            ],
            logPath: dir + "/ssh.log"
        )
        do { try ssh.waitUntilListening(port: endpoint.port) } catch {
            sshd.stop()
            throw error
        }
    }

    func stop() {
        ssh.stop()
        sshd.stop()
    }
}

/// peers/fixed_bnd_server.py: every UDP ASSOCIATE reply names 127.0.0.1:`rendezvousPort`, a UDP port
/// where nothing listens, and the control connection is held (issue 29's dead rendezvous).
final class FixedRendezvousServer {
    let port: UInt16
    let rendezvousPort: UInt16
    private let process: PeerProcess

    init() throws {
        port = TestSockets.freePort()
        rendezvousPort = ICMPErrorQueueTests.closedPort(.ipv4)
        process = try PeerProcess(
            name: "fixed_bnd_server",
            executable: "python3",
            arguments: [Repository.path("peers/fixed_bnd_server.py"), "\(port)", "\(rendezvousPort)"],
            logPath: try makeTemporaryDirectory("fixedbnd") + "/log"
        )
        try process.waitUntilListening(port: port)
    }

    func stop() { process.stop() }
}
