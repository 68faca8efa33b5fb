import EnclaveContract
import EnclaveLogging
import Testing

@Suite("Decision ids")
struct DecisionIDTests {
    @Test("Canonical version-8 UUIDs, each distinct; another process's prefix differs")
    func idsAreUniqueUUIDs() {
        let ids = DecisionIDs()
        let drawn = (0..<10_000).map { _ in ids.next() }
        #expect(Set(drawn).count == drawn.count)
        for id in drawn.prefix(100) + drawn.suffix(100) {
            let bytes = Array(id.utf8)
            #expect(UUIDSyntax.isValid(id) && id == id.lowercased(), "\(id)")
            #expect(bytes[14] == UInt8(ascii: "8"), "version 8: \(id)")
            #expect("89ab".utf8.contains(bytes[19]), "RFC 9562 variant: \(id)")
        }
        // One process: a fixed prefix and a counter in the last groups.
        #expect(Set(drawn.map { $0.prefix(18) }).count == 1)
        #expect(drawn[1].hasSuffix("000000000001") && drawn[0].hasSuffix("000000000000"))
        #expect(DecisionIDs().next().prefix(18) != drawn[0].prefix(18))
    }
}
