import CEnclaveCore

/// The text rule of the evidence string's fields (docs/contract.md §4): no `|` and no control
/// character (C0, DEL, C1, U+2028, U+2029).
public enum EvidenceText {
    public static func isValid(_ text: String) -> Bool {
        withUTF8Pointer(text) { ec_evidence_text_ok($0, $1) } == 0
    }
}
