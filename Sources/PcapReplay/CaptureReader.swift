import CPcap
import PcapNG

/// The UDP datagrams of a capture file, read by libpcap (any pcap or pcapng file, any link type
/// it knows) through an optional BPF filter, and found in their frames by `UDPFrameDecoder`.
package struct CaptureContents: Sendable {
    /// One datagram and when it was captured (nanoseconds since the Unix epoch).
    package struct Entry: Sendable, Equatable {
        package var time: UInt64
        package var datagram: CapturedDatagram
    }

    package var entries: [Entry]
    /// Frames that passed the filter but held no whole UDP datagram, by why.
    package var skipped: [UDPFrameDecoder.Skip: Int]
    package var framesRead: Int
}

/// Why a capture cannot be replayed, in a sentence (and which exit code says so).
package enum CaptureReadError: Error, CustomStringConvertible, Sendable, Equatable {
    /// libpcap cannot open it: missing, unreadable, not a capture.
    case unreadable(path: String, why: String)
    /// It ends in the middle of a packet, or libpcap stopped reading it.
    case damaged(path: String, why: String, afterFrames: Int)
    /// The filter does not compile (libpcap's words).
    case badFilter(String, why: String)
    /// It holds no UDP datagram (after the filter).
    case noUDP(path: String, frames: Int, skipped: [UDPFrameDecoder.Skip: Int], filtered: Bool)
    /// More datagrams than one replay takes.
    case tooMany(path: String, limit: Int)

    package var description: String {
        switch self {
        case .unreadable(let path, let why): "cannot read \(path) as a capture: \(why)"
        case .damaged(let path, let why, let n): "\(path) is damaged after \(n) frame(s): \(why); nothing was sent"
        case .badFilter(let filter, let why): "the filter '\(filter)' does not compile: \(why)"
        case .noUDP(let path, let frames, let skipped, let filtered):
            "\(path) holds no UDP datagram\(filtered ? " that passes the filter" : ""): \(frames) frame(s)"
                + (skipped.isEmpty
                    ? ""
                    : " ("
                        + skipped.sorted { $0.value > $1.value }.map { "\($0.value) \($0.key.rawValue)" }
                        .joined(separator: ", ") + ")")
        case .tooMany(let path, let limit): "\(path) holds more than \(limit) UDP datagrams: filter it (--filter)"
        }
    }
}

package enum CaptureReader {
    package static let maximumDatagrams = 100_000

    /// Reads every datagram first, so that a damaged file sends nothing.
    package static func read(_ path: String, filter: String? = nil) throws(CaptureReadError) -> CaptureContents {
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        // Nanosecond timestamps whatever the file holds (pcapng with if_tsresol, classic pcap).
        guard
            let handle = pcap_open_offline_with_tstamp_precision(
                path,
                UInt32(PCAP_TSTAMP_PRECISION_NANO),
                &errorBuffer
            )
        else {
            throw .unreadable(path: path, why: errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        }
        defer { pcap_close(handle) }
        if let filter {
            var program = bpf_program()
            guard pcap_compile(handle, &program, filter, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
                throw .badFilter(filter, why: String(cString: pcap_geterr(handle)))
            }
            defer { pcap_freecode(&program) }
            guard pcap_setfilter(handle, &program) == 0 else {
                throw .badFilter(filter, why: String(cString: pcap_geterr(handle)))
            }
        }
        let linkType = pcap_datalink(handle)
        var contents = CaptureContents(entries: [], skipped: [:], framesRead: 0)
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        loop: while true {
            switch pcap_next_ex(handle, &header, &data) {
            case 1:
                guard let header, let data else { continue }
                contents.framesRead += 1
                let frame = Array(UnsafeBufferPointer(start: data, count: Int(header.pointee.caplen)))
                switch UDPFrameDecoder.decode(linkType: linkType, frame: frame) {
                case .success(let datagram):
                    guard contents.entries.count < maximumDatagrams else {
                        throw .tooMany(path: path, limit: maximumDatagrams)
                    }
                    let time =
                        UInt64(max(header.pointee.ts.tv_sec, 0)) * 1_000_000_000
                        + UInt64(max(header.pointee.ts.tv_usec, 0))
                    contents.entries.append(CaptureContents.Entry(time: time, datagram: datagram))
                case .failure(let skip):
                    contents.skipped[skip, default: 0] += 1
                }
            case 0:
                continue  // a live capture's timeout; not for files
            case PCAP_ERROR_BREAK:
                break loop  // the end of the file
            default:
                throw .damaged(path: path, why: String(cString: pcap_geterr(handle)), afterFrames: contents.framesRead)
            }
        }
        guard !contents.entries.isEmpty else {
            throw .noUDP(path: path, frames: contents.framesRead, skipped: contents.skipped, filtered: filter != nil)
        }
        return contents
    }
}
