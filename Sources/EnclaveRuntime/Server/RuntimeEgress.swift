import AsyncHTTPClient
import EnclaveConfiguration
import EnclaveHTTP
import NIOCore

/// The runtime's outbound client (provider calls, and KMS and IMDS at start), through
/// ENCLAVE_EGRESS_PROXY when set, TLS verified inside (docs/configuration.md).
enum RuntimeEgress {
    static func makeClient(_ egress: Egress, connectTimeout: TimeAmount) -> HTTPClient {
        BoundedCall.makeClient(
            connectTimeout: connectTimeout, proxy: egress.proxy.map { ($0.host, $0.port) }, extraRootsPEMFile: egress.extraRootsFile)
    }
}
