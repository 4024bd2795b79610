import Benchmark
import Socks5

// The codec on its hot paths: what every datagram and every handshake costs, with the heap
// allocations counted (the targets are zero for the datagram header, both ways). Each sample
// runs 1,000 iterations (scalingFactor .kilo), and the buffers are made before the samples, so
// a sample's malloc count is the framework's own (the "baseline" benchmark) plus 1,000 times
// the code's.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        scalingFactor: .kilo,
        maxDuration: .seconds(2)
    )

    Benchmark("baseline: an empty loop") { benchmark in
        for i in benchmark.scaledIterations { blackHole(i) }
    }

    let ipv4 = SOCKSAddress.ip(IPEndpoint("192.0.2.7:9999")!)
    let ipv6 = SOCKSAddress.ip(IPEndpoint("[2001:db8::7]:9999")!)

    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 262, alignment: 8)
    nonisolated(unsafe) let output = scratch
    Benchmark("UDP header encode, IPv4") { benchmark in
        let header = UDPDatagramHeader(address: ipv4)
        for _ in benchmark.scaledIterations { blackHole(header.write(into: output)) }
    }

    for (name, address) in [("IPv4", ipv4), ("IPv6", ipv6)] {
        var made = [UInt8](repeating: 0x42, count: 64 + 22)
        let length = made.withUnsafeMutableBytes { UDPDatagramHeader(address: address).write(into: $0) }
        made.removeFirst(22 - length)
        let datagram = made
        Benchmark("UDP header decode, \(name)") { benchmark in
            datagram.withUnsafeBytes { bytes in
                for _ in benchmark.scaledIterations { blackHole(try? UDPDatagramHeader.parse(bytes)) }
            }
        }
    }

    let domainDatagram: [UInt8] =
        [0, 0, 0, 3, 11] + Array("example.org".utf8) + [0x27, 0x0F] + [UInt8](repeating: 0x42, count: 64)
    Benchmark("UDP header decode, domain name") { benchmark in
        domainDatagram.withUnsafeBytes { bytes in
            for _ in benchmark.scaledIterations { blackHole(try? UDPDatagramHeader.parse(bytes)) }
        }
    }

    let reply: [UInt8] = [0x05, 0x00, 0x00, 0x01, 127, 0, 0, 1, 0x9C, 0x40]
    let selection: [UInt8] = [0x05, 0x00]
    Benchmark("reply parse, IPv4 BND") { benchmark in
        reply.withUnsafeBytes { bytes in
            for _ in benchmark.scaledIterations { blackHole(try? SOCKSReply.parse(bytes)) }
        }
    }

    Benchmark("method selection parse") { benchmark in
        selection.withUnsafeBytes { bytes in
            for _ in benchmark.scaledIterations { blackHole(try? MethodSelection.parse(bytes)) }
        }
    }

    for pipelining in [false, true] {
        Benchmark("handshake, UDP ASSOCIATE, no auth\(pipelining ? ", pipelined" : "") (state machine only)") {
            benchmark in
            for _ in benchmark.scaledIterations {
                var machine = ClientHandshake(
                    command: .udpAssociate,
                    address: .unspecified(.ipv4),
                    pipelining: pipelining
                )
                blackHole(machine.start())
                blackHole(machine.receive(selection))
                blackHole(machine.receive(reply))
            }
        }
    }
}
