import Synchronization

/// Decision ids for the audit trail, in UUID form (RFC 9562 version 8): 60 bits drawn at random
/// once per process, then a 62-bit counter. Unique across processes and replicas (two processes
/// share a prefix with odds of about one in 2^60) without the kernel call that Foundation's `UUID()`
/// makes per id (4.6 µs with its formatting, against 0.08 µs here; in process a signed ping went from
/// 45.5 to 36.9 µs, RPCPath). An id names an event; it is not a secret, so a counter is fine.
public final class DecisionIDs: Sendable {
    private let prefix: UInt64
    private let counter = Atomic<UInt64>(0)

    public init() {
        var random = SystemRandomNumberGenerator()
        prefix = random.next()
    }

    public func next() -> String {
        let count = counter.wrappingAdd(1, ordering: .relaxed).oldValue
        // Version 8 in bits 48-51, variant 0b10 in bits 64-65.
        let high = (prefix & ~0xF000) | 0x8000
        let low = (count & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return String(unsafeUninitializedCapacity: 36) { out in
            let digits: StaticString = "0123456789abcdef"
            var index = 0
            func put(_ value: UInt64, nibbles: Int) {
                for shift in stride(from: (nibbles - 1) * 4, through: 0, by: -4) {
                    out[index] = digits.utf8Start[Int((value >> UInt64(shift)) & 0xF)]
                    index += 1
                }
            }
            func dash() {
                out[index] = UInt8(ascii: "-")
                index += 1
            }
            put(high >> 32, nibbles: 8); dash()
            put(high >> 16, nibbles: 4); dash()
            put(high, nibbles: 4); dash()
            put(low >> 48, nibbles: 4); dash()
            put(low, nibbles: 12)
            return index
        }
    }
}
