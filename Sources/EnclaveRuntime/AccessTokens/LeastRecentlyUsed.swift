/// A map bounded by entry count and by the bytes its entries declare: putting an entry beyond
/// either bound drops the least recently used ones first. Every operation is O(1): entries are
/// nodes of a doubly linked list threaded through one array, most recently used at the head.
struct LeastRecentlyUsed<Key: Hashable, Value> {
    private struct Node {
        var key: Key
        var value: Value
        var bytes: Int
        var newer: Int
        var older: Int
    }

    let maxEntries: Int
    let maxBytes: Int
    private(set) var bytes = 0
    private var nodes: [Node?] = []
    private var vacant: [Int] = []
    private var slots: [Key: Int] = [:]
    private var newest = -1
    private var oldest = -1

    init(maxEntries: Int, maxBytes: Int) {
        precondition(maxEntries > 0 && maxBytes > 0)
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
    }

    var count: Int { slots.count }

    /// The value, which becomes the most recently used.
    mutating func value(for key: Key) -> Value? {
        guard let slot = slots[key] else { return nil }
        moveToNewest(slot)
        return nodes[slot]!.value
    }

    /// Puts the value as the most recently used (replacing any under the key) and returns how many
    /// other entries were dropped to keep within the bounds. An entry larger than `maxBytes` alone
    /// is not kept.
    @discardableResult
    mutating func put(_ value: Value, for key: Key, bytes size: Int) -> Int {
        remove(key)
        guard size <= maxBytes else { return 0 }
        var dropped = 0
        while count >= maxEntries || bytes + size > maxBytes, oldest >= 0 {
            remove(nodes[oldest]!.key)
            dropped += 1
        }
        let node = Node(key: key, value: value, bytes: size, newer: -1, older: newest)
        let slot: Int
        if let reused = vacant.popLast() {
            slot = reused
            nodes[slot] = node
        } else {
            slot = nodes.count
            nodes.append(node)
        }
        if newest >= 0 { nodes[newest]!.newer = slot }
        newest = slot
        if oldest < 0 { oldest = slot }
        slots[key] = slot
        bytes += size
        return dropped
    }

    @discardableResult
    mutating func remove(_ key: Key) -> Value? {
        guard let slot = slots.removeValue(forKey: key) else { return nil }
        unlink(slot)
        let node = nodes[slot]!
        nodes[slot] = nil
        vacant.append(slot)
        bytes -= node.bytes
        return node.value
    }

    /// Keys from the most to the least recently used (tests).
    var keysByRecency: [Key] {
        var keys: [Key] = [], slot = newest
        while slot >= 0 {
            keys.append(nodes[slot]!.key)
            slot = nodes[slot]!.older
        }
        return keys
    }

    private mutating func unlink(_ slot: Int) {
        let (newer, older) = (nodes[slot]!.newer, nodes[slot]!.older)
        if newer >= 0 { nodes[newer]!.older = older } else { newest = older }
        if older >= 0 { nodes[older]!.newer = newer } else { oldest = newer }
    }

    private mutating func moveToNewest(_ slot: Int) {
        guard slot != newest else { return }
        unlink(slot)
        nodes[slot]!.older = newest
        nodes[slot]!.newer = -1
        if newest >= 0 { nodes[newest]!.newer = slot }
        newest = slot
        if oldest < 0 { oldest = slot }
    }
}
