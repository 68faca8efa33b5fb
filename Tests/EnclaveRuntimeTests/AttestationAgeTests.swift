import EnclaveContract
@testable import EnclaveRuntime
import NIOCore
import Testing

/// An NSM document backs evidence only while it is younger than TEE_ATTESTATION_MAX_AGE_SECONDS,
/// judged in milliseconds as hosts judge its `timestamp` (issue 31: whole seconds let a 20.4 s old
/// document back evidence under a 20 s maximum).
@Suite("Attestation document age")
struct AttestationAgeTests {
    static func state(issuedAtMilliseconds: Int64) -> AttestationState {
        let snapshot = AttestationSnapshot(
            identity: AttestedIdentity(runtime: "nitro", measurement: "m"), documentJSON: ByteBuffer(), attestationDocument: "d",
            issuedAtMilliseconds: issuedAtMilliseconds)
        return AttestationState(snapshot, maxAgeSeconds: 20)
    }

    @Test("Usable up to exactly the maximum age in milliseconds, not a millisecond past it", arguments: [
        Int64(1_767_225_600_000), 1_767_225_600_999, 1_767_225_600_400,
    ])
    func millisecondBoundary(issued: Int64) {
        let state = Self.state(issuedAtMilliseconds: issued)
        #expect(state.usable(atMilliseconds: issued) != nil)
        #expect(state.usable(atMilliseconds: issued + 20_000) != nil)
        #expect(state.usable(atMilliseconds: issued + 20_001) == nil)
        #expect(state.usable(atMilliseconds: issued + 20_400) == nil)
    }
}
