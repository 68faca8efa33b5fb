import CEnclaveCore

/// Comparison of secrets whose time does not depend on where they differ.
public enum ConstantTime {
    /// True when `a` and `b` are equal; time depends only on the lengths.
    public static func equals(_ a: RawSpan, _ b: RawSpan) -> Bool {
        guard a.byteCount == b.byteCount else { return false }
        return withBytes(a) { pa, n in withBytes(b) { pb, _ in ec_ct_compare(pa, pb, n) == 0 } }
    }

    public static func equals(_ a: [UInt8], _ b: [UInt8]) -> Bool { equals(a.span.bytes, b.span.bytes) }

    public static func equals(_ a: String, _ b: String) -> Bool {
        withUTF8Pointer(a) { pa, na in
            withUTF8Pointer(b) { pb, nb in na == nb && ec_ct_compare(pa, pb, na) == 0 }
        }
    }
}
