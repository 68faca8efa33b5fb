import EnclaveContract
import Hummingbird
import NIOCore

/// `GET /healthz` (docs/contract.md §1): its two bodies built once; the store's latest check
/// picks one.
struct HealthHandler: Sendable {
    let reachable: ByteBuffer
    let unreachable: ByteBuffer
    let stores: RuntimeStores

    /// `secrets`: "kms" or "configured" (docs/contract.md §3b).
    init(environment: String, mode: String, secrets: String, stores: RuntimeStores) {
        func body(_ reachable: Bool) -> ByteBuffer {
            ByteBuffer(bytes: HealthResponse(
                environment: environment, mode: mode, store: stores.kind.rawValue, storeReachable: reachable, secrets: secrets).jsonBytes)
        }
        reachable = body(true)
        unreachable = body(false)
        self.stores = stores
    }

    func healthz(_ request: Request, context: EnclaveRequestContext) -> Response {
        JSONResponse.raw(.ok, stores.isReachable ? reachable : unreachable)
    }
}
