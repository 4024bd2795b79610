/// A bounded buffer that keeps the newest `capacity` elements. Storage is allocated once, so
/// appending on a hot path allocates nothing.
package struct RingBuffer<Element: Sendable>: Sendable {
    private var storage: [Element?]
    private var next = 0
    package private(set) var count = 0
    /// Elements appended over the buffer's life, including those pushed out.
    package private(set) var totalAppended = 0

    package init(capacity: Int) {
        precondition(capacity > 0)
        storage = Array(repeating: nil, count: capacity)
    }

    package var capacity: Int { storage.count }

    package mutating func append(_ element: Element) {
        storage[next] = element
        next = (next + 1) % storage.count
        count = min(count + 1, storage.count)
        totalAppended += 1
    }

    /// Oldest first.
    package var elements: [Element] {
        let start = (next - count + storage.count) % storage.count
        return (0..<count).compactMap { storage[(start + $0) % storage.count] }
    }
}
