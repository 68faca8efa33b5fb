import EnclaveContract
import Hummingbird
import NIOCore

/// `GET /healthz` (docs/contract.md §1): its two bodies built once; the store's latest check
/// picks one.
struct HealthHandler: Sendable {
    let reachable: ByteBuffer
    let unreachable: ByteBuffer
    let stores: RuntimeStores
    let template: HealthResponse
    let sealedRecords: SealedRecordCounts

    /// `secrets`: "kms" or "configured" (docs/contract.md §3b).
    init(environment: String, mode: String, secrets: String, stores: RuntimeStores, sealedRecords: SealedRecordCounts) {
        let template = HealthResponse(environment: environment, mode: mode, store: stores.kind.rawValue, storeReachable: true, secrets: secrets)
        func body(_ reachable: Bool) -> ByteBuffer {
            var health = template
            health.storeReachable = reachable
            return ByteBuffer(bytes: health.jsonBytes)
        }
        self.template = template
        reachable = body(true)
        unreachable = body(false)
        self.stores = stores
        self.sealedRecords = sealedRecords
    }

    /// While records remain under an earlier data-key version the body says how many (rotation,
    /// docs/configuration.md §3), built for the request; otherwise one of the two bodies built once.
    func healthz(_ request: Request, context: EnclaveRequestContext) -> Response {
        let previous = sealedRecords.underPreviousVersions
        guard previous == 0 else {
            var health = template
            health.storeReachable = stores.isReachable
            health.previousKeyRecords = previous
            return JSONResponse.raw(.ok, ByteBuffer(bytes: health.jsonBytes))
        }
        return JSONResponse.raw(.ok, stores.isReachable ? reachable : unreachable)
    }
}
