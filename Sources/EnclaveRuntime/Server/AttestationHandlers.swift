import EnclaveContract
import Hummingbird
import NIOCore

/// The attestation endpoints (docs/contract.md §3, §4): the document and the challenge.
struct AttestationHandlers: Sendable {
    let state: AttestationState
    let challenge: ChallengeService
    let metrics: RuntimeMetrics?

    /// The latest document (from the NSM, a new one at least every 60 s).
    func attestationDocument(_ request: Request, context: EnclaveRequestContext) -> Response {
        JSONResponse.raw(.ok, state.current.documentJSON)
    }

    func attestationChallenge(_ request: Request, context: EnclaveRequestContext) async throws -> Response {
        let limit = ChallengeService.maxBodyBytes
        let tooLarge = {
            metrics?.challenge("refused")
            return JSONResponse.plainError(
                .payloadTooLarge, message: "the challenge body exceeds 16 KiB", context: context)
        }
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit { return tooLarge() }
        guard let body = try? await request.body.collect(upTo: limit) else { return tooLarge() }
        switch challenge.answer(Array(body.readableBytesView)) {
        case .success(let evidence):
            metrics?.challenge("answered")
            return JSONResponse.raw(.ok, ByteBuffer(bytes: evidence))
        case .failure(let refusal) where refusal.unavailable:
            metrics?.challenge("unavailable")
            return JSONResponse.plainError(.attestationUnavailable, message: refusal.reason, context: context)
        case .failure(let refusal):
            metrics?.challenge("refused")
            return JSONResponse.plainError(.attestationChallengeFailed, message: refusal.reason, context: context)
        }
    }
}
