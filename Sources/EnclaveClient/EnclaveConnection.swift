import AsyncHTTPClient
import EnclaveHTTP
import NIOCore

/// A host's way to the enclave: one HTTP client that follows no redirect and does not retry a
/// refused connection, the signed RPC client (each call bounded by ENCLAVE_RPC_TIMEOUT_MS), and
/// the enclave check (each request bounded by ENCLAVE_RUNTIME_PROBE_TIMEOUT_MS).
public struct EnclaveConnection: Sendable {
    public let http: HTTPClient
    public let client: EnclaveRPCClient
    public let check: EnclaveCheck

    /// `observer` hears of every signed call (the check's pings included), for metrics.
    /// How the calls travel: AsyncHTTPClient's pool, or attested TLS (ENCLAVE_RUNTIME_TLS=attested).
    public let transport: EnclaveTransport

    public init(configuration: EnclaveClientConfiguration, observer: (any EnclaveCallObserver)? = nil) throws {
        let http = BoundedCall.makeClient(connectTimeout: .milliseconds(Int64(configuration.rpcTimeoutMilliseconds)))
        let secret = configuration.shared.sharedSecret
        self.http = http
        var transport = EnclaveTransport.plain(http)
        if configuration.attestedTLS {
            // Each connection's document passes the probe's document checks in its handshake.
            let documents = try AttestationDocumentPolicy(configuration: configuration)
            transport = .attested(try AttestedChannels(
                check: { json throws(EnclaveCheckFailure) in try documents.channelKey(json) },
                maxAgeSeconds: configuration.shared.attestationMaxAgeSeconds,
                connectTimeout: .milliseconds(Int64(configuration.probeTimeoutMilliseconds))))
        }
        self.transport = transport
        client = try EnclaveRPCClient(
            baseURL: configuration.baseURL, secret: secret, transport: transport, timeoutMilliseconds: configuration.rpcTimeoutMilliseconds,
            observer: observer)
        check = EnclaveCheck(
            verifier: try AttestationVerifier(configuration: configuration, transport: transport),
            client: try EnclaveRPCClient(
                baseURL: configuration.baseURL, secret: secret, transport: transport,
                timeoutMilliseconds: configuration.probeTimeoutMilliseconds, observer: observer))
    }

    public func shutdown() async throws { try await http.shutdown() }
}
