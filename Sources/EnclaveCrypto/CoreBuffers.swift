import CEnclaveCore

// Pointer plumbing shared by the wrapper's types. Nothing outside this module sees a pointer.

/// Calls `body` with the UTF-8 bytes of `text` as a C (pointer, length) pair.
@inline(__always)
func withUTF8Pointer<R>(_ text: String, _ body: (UnsafePointer<CChar>?, Int) throws -> R) rethrows -> R {
    if let result = try text.utf8.withContiguousStorageIfAvailable({ bytes in
        try bytes.withMemoryRebound(to: CChar.self) { try body($0.baseAddress, $0.count) }
    }) {
        return result
    }
    var copy = text
    copy.makeContiguousUTF8()
    return try withUTF8Pointer(copy, body)
}

/// Calls `body` with the bytes of `span` as a C (pointer, length) pair.
@inline(__always)
func withBytes<R>(_ span: RawSpan, _ body: (UnsafePointer<UInt8>?, Int) throws -> R) rethrows -> R {
    try span.withUnsafeBytes { raw in
        try body(raw.baseAddress?.assumingMemoryBound(to: UInt8.self), raw.count)
    }
}

/// Calls `body` with the bytes of `span` as a C text (pointer, length) pair.
@inline(__always)
func withChars<R>(_ span: RawSpan, _ body: (UnsafePointer<CChar>?, Int) throws -> R) rethrows -> R {
    try span.withUnsafeBytes { raw in
        try body(raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count)
    }
}

/// Secret bytes in memory of their own, wiped when released.
final class SecretBytes: @unchecked Sendable {
    // Immutable after init, so sharing between threads is safe.
    private let storage: UnsafeMutableRawBufferPointer

    init(_ bytes: RawSpan) {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.byteCount, 1), alignment: 16)
        bytes.withUnsafeBytes { storage.copyMemory(from: $0) }
        self.storage = storage
        count = bytes.byteCount
    }

    let count: Int

    func withUnsafeBytes<R>(_ body: (UnsafePointer<UInt8>) throws -> R) rethrows -> R {
        try body(storage.baseAddress!.assumingMemoryBound(to: UInt8.self))
    }

    deinit {
        ec_wipe(storage.baseAddress, storage.count)
        storage.deallocate()
    }
}

extension Array where Element == UInt8 {
    /// A byte array of `count` bytes filled by `fill`, which reports how many it wrote.
    static func filled(count: Int, _ fill: (UnsafeMutablePointer<UInt8>) -> Int32) throws -> [UInt8] {
        var failed = false
        let result = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            failed = fill(buffer.baseAddress!) != 0
            initialized = failed ? 0 : count
        }
        if failed { throw EnclaveCryptoError.operationFailed }
        return result
    }
}
