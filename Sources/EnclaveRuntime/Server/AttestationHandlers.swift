import Hummingbird
import NIOCore

/// The two `healthz` bodies, built once; the store's latest check picks one.
struct HealthAnswers: Sendable {
    let reachable: ByteBuffer
    let unreachable: ByteBuffer
    let stores: RuntimeStores

    init(environment: String, mode: String, stores: RuntimeStores) {
        func body(_ reachable: Bool) -> ByteBuffer {
            ByteBuffer(bytes: HealthResponse(
                environment: environment, mode: mode, store: stores.kind.rawValue, storeReachable: reachable).jsonBytes)
        }
        reachable = body(true)
        unreachable = body(false)
        self.stores = stores
    }

    var current: ByteBuffer { stores.isReachable ? reachable : unreachable }
}

/// The unauthenticated endpoints: health, the document, and the challenge.
struct AttestationHandlers: Sendable {
    let health: HealthAnswers
    let state: AttestationState
    let challenge: ChallengeService
    let metrics: RuntimeMetrics?

    func healthz(_ request: Request, context: EnclaveRequestContext) -> Response {
        JSONResponse.raw(.ok, health.current)
    }

    /// The latest document (from the NSM, a new one at least every 60 s).
    func attestationDocument(_ request: Request, context: EnclaveRequestContext) -> Response {
        JSONResponse.raw(.ok, state.current.documentJSON)
    }

    func attestationChallenge(_ request: Request, context: EnclaveRequestContext) async throws -> Response {
        let limit = ChallengeService.maxBodyBytes
        let tooLarge = {
            metrics?.challenge("refused")
            return JSONResponse.plainError(
                .contentTooLarge, code: "payload_too_large", message: "the challenge body exceeds 16 KiB", context: context)
        }
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit { return tooLarge() }
        guard let body = try? await request.body.collect(upTo: limit) else { return tooLarge() }
        switch challenge.answer(Array(body.readableBytesView)) {
        case .success(let evidence):
            metrics?.challenge("answered")
            return JSONResponse.raw(.ok, ByteBuffer(bytes: evidence))
        case .failure(let refusal) where refusal.unavailable:
            metrics?.challenge("unavailable")
            return JSONResponse.plainError(.serviceUnavailable, code: "attestation_unavailable", message: refusal.reason, context: context)
        case .failure(let refusal):
            metrics?.challenge("refused")
            return JSONResponse.plainError(.badRequest, code: "attestation_challenge_failed", message: refusal.reason, context: context)
        }
    }
}
