import EnclaveContract
import EnclaveFuzzing
import Foundation
import Testing

@Suite("UUIDSyntax: the contract's ids, without Foundation's sscanf")
struct UUIDSyntaxTests {
    static let valid = "6f1c1f2e-8f55-4d0e-9a53-1e5f0a9b7c11"

    @Test("Ids of either case are accepted, and everything else is refused")
    func examples() {
        for text in [Self.valid, Self.valid.uppercased(), "00000000-0000-0000-0000-000000000000", "ABCDEF01-abcd-EFab-0123-456789abcdef"] {
            #expect(UUIDSyntax.isValid(text), "\(text)")
        }
        let refused = [
            "", Self.valid + "0", String(Self.valid.dropLast()), "6f1c1f2e8f554d0e9a531e5f0a9b7c11",
            "{6f1c1f2e-8f55-4d0e-9a53-1e5f0a9b7c1}", " 6f1c1f2-8f55-4d0e-9a53-1e5f0a9b7c11", "+6f1c1f2-8f55-4d0e-9a53-1e5f0a9b7c11",
            "0x1c1f2e-8f55-4d0e-9a53-1e5f0a9b7c11", "6f1c1f2e-8f55-4d0e-9a53-1e5f0a9b7c1g", "6f1c1f2e-8f55-4d0e-9a53_1e5f0a9b7c11",
            "6f1c1f2e-8f55-4d0e-9a5-31e5f0a9b7c11", "6f1c1f2e-8f55-4d0e-9a53-1e5f0a9b7c1é",
        ]
        for text in refused {
            #expect(!UUIDSyntax.isValid(text), "\(text)")
        }
    }

    /// Every single-byte change of a valid id (all 256 bytes at all 36 offsets, and a two-byte
    /// UTF-8 character in place of one byte) is accepted exactly when it is canonical.
    @Test("Accepts exactly the canonical ids among every one-byte change of a valid id")
    func acceptsCanonicalIDs() {
        let base = Array(Self.valid.utf8)
        var checked = 0, accepted = 0, foundationOnly = 0
        for offset in base.indices {
            var candidates: [[UInt8]] = (0...255).map { byte in
                var bytes = base
                bytes[offset] = UInt8(byte)
                return bytes
            }
            candidates.append(Array(base[..<offset]) + Array("é".utf8) + Array(base[(offset + 1)...]))
            for bytes in candidates {
                let text = String(decoding: bytes, as: UTF8.self)
                let expected = RequestPathFuzzing.isCanonicalUUID(text)
                #expect(UUIDSyntax.isValid(text) == expected, "\(bytes)")
                checked += 1
                accepted += expected ? 1 : 0
                foundationOnly += !expected && UUID(uuidString: text) != nil ? 1 : 0
            }
        }
        // 22 hex digits per position (0-9, a-f, A-F) at 32 positions, '-' at 4.
        #expect(checked == 36 * 257)
        #expect(accepted == 32 * 22 + 4)
        // What the runtime accepted before this parser: " 6f1c1f2e-...", "+f1c...", "...-0x53-...".
        #expect(foundationOnly > 0)
    }
}
