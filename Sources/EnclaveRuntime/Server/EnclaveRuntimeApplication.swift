import AsyncHTTPClient
import EnclaveConfiguration
import EnclaveCrypto
import Foundation
import Hummingbird
import Logging
import NIOCore

/// Builds the enclave runtime from a validated configuration; shared by the executable and tests.
public struct EnclaveRuntimeApplication: Sendable {
    public let application: Application<ContractRouterResponder>
    /// The served document (its public key is what hosts pin in dev-shim mode).
    public let document: AttestationDocument
    let httpClient: HTTPClient

    /// `now` is Unix seconds; tests inject a clock. `benchmarkFloorRoute` adds `GET /__bench/hello` and `POST /__bench/echo`,
    /// a static answer through the same router and access log: the framework's own floor that
    /// `scripts/bench_load.py` compares the contract's endpoints against (local environment only).
    public init(
        configuration: RuntimeConfiguration, logger: Logger, benchmarkFloorRoute: Bool = false,
        idleTimeout: TimeAmount = Self.idleTimeout, now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    ) throws {
        let startedAt = now()
        let signer: ChallengeSigner
        if let seed = configuration.signingSeed {
            signer = try ChallengeSigner(seed: seed)
        } else {
            signer = try ChallengeSigner.generate()
        }
        let document = configuration.remoteDocument
            ?? AttestationDocument.devShim(measurement: configuration.devMeasurement, issuedAt: startedAt, publicKey: signer.publicKey)
        self.document = document

        let dataKey = try DataKey.resolve(configured: configuration.dataKey, stateDirectory: configuration.stateDirectory)
        let vault = TokenVault(sealer: try Sealer(key: dataKey), policy: configuration.keyPolicy)
        let store = try ConnectorStore(directory: configuration.stateDirectory)

        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.redirectConfiguration = .disallow
        // A refused connection is provider_unavailable at once, not retried until the deadline.
        clientConfiguration.connectionPool.retryConnectionEstablishment = false
        clientConfiguration.timeout = .init(
            connect: .milliseconds(Int64(configuration.providerTimeoutMilliseconds)),
            read: .milliseconds(Int64(configuration.providerTimeoutMilliseconds)))
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        self.httpClient = httpClient
        let provider = configuration.provider.map {
            OAuthProviderClient(
                httpClient: httpClient, settings: $0, tokenURL: configuration.tokenURL, revokeURL: configuration.revokeURL,
                timeout: .milliseconds(Int64(configuration.providerTimeoutMilliseconds)))
        }

        let shared = configuration.shared
        let authentication = RPCAuthenticationMiddleware(
            verifier: try RPCVerifier(secret: shared.sharedSecret, previousSecret: shared.previousSharedSecret),
            replayCache: ReplayCache(capacity: configuration.replayCapacity, windowSeconds: shared.maxSkewSeconds),
            maxSkewSeconds: Int64(shared.maxSkewSeconds), maxBodyBytes: configuration.maxBodyBytes, now: now)
        let rpc = TokenRPCHandlers(identity: RenderedIdentity(document.identity), store: store, vault: vault, provider: provider, now: now)
        let health = HealthResponse(environment: shared.environment.rawValue, mode: shared.mode.rawValue).jsonBytes
        let attestation = AttestationHandlers(
            health: ByteBuffer(bytes: health), document: ByteBuffer(bytes: document.json),
            challenge: ChallengeService(
                document: document, signer: signer, maxAgeSeconds: Int64(shared.attestationMaxAgeSeconds), now: now))

        func signed(_ handler: @escaping @Sendable (Request, EnclaveRequestContext) async -> Response) -> ContractRouter.Handler {
            { request, context in
                try await authentication.handle(request, context: context) { request, context in await handler(request, context) }
            }
        }
        var routes: [String: ContractRouter.Route] = [
            "/healthz": .init(method: .get, handler: { attestation.healthz($0, context: $1) }),
            "/v1/attestation/document": .init(method: .get, handler: { attestation.attestationDocument($0, context: $1) }),
            "/v1/attestation/challenge": .init(method: .post, handler: { try await attestation.attestationChallenge($0, context: $1) }),
            "/v1/rpc/google/token/exchange": .init(method: .post, handler: signed { await rpc.exchange($0, context: $1) }),
            "/v1/rpc/google/token/revoke": .init(method: .post, handler: signed { await rpc.revoke($0, context: $1) }),
            "/v1/rpc/google/connector/register": .init(method: .post, handler: signed { await rpc.register($0, context: $1) }),
            "/v1/rpc/ping": .init(method: .post, handler: signed { await rpc.ping($0, context: $1) }),
        ]
        if benchmarkFloorRoute {
            let hello = ByteBuffer(string: #"{"hello":"world"}"#)
            routes[Self.benchmarkFloorPath] = .init(method: .get, handler: { _, _ in JSONResponse.raw(.ok, hello) })
            // The same floor for a POST whose body is read, as the RPCs' bodies are.
            routes[Self.benchmarkPostFloorPath] = .init(method: .post, handler: { request, _ in
                _ = try await request.body.collect(upTo: configuration.maxBodyBytes)
                return JSONResponse.raw(.ok, hello)
            })
        }
        let bind = configuration.bindAddress
        application = Application(
            responder: ContractRouterResponder(router: ContractRouter(routes: routes, logger: logger)),
            server: .http1(configuration: .init(idleTimeout: idleTimeout)),
            configuration: .init(address: .hostname(bind.host, port: bind.port), serverName: nil),
            logger: logger)
    }

    /// How long a connection may sit without a request (or stalled partway through one) before
    /// the server closes it, so leaked or abandoned connections do not pile up; a connection whose
    /// answer is still being worked on is never closed. Longer than the 60 s after which
    /// AsyncHTTPClient, the hosts' client, drops an idle pooled connection: the host closes first
    /// and never sends on a connection the runtime is closing.
    public static let idleTimeout: TimeAmount = .seconds(75)

    public static let benchmarkFloorPath = "/__bench/hello"
    public static let benchmarkPostFloorPath = "/__bench/echo"

    /// Releases the outbound HTTP client; call after the application stopped.
    public func shutdown() async throws {
        try await httpClient.shutdown()
    }
}

/// The public face of `ContractRouter`, so the application type can be named outside the module.
public struct ContractRouterResponder: HTTPResponder {
    public typealias Context = EnclaveRequestContext
    let router: ContractRouter

    public func respond(to request: Request, context: EnclaveRequestContext) async throws -> Response {
        try await router.respond(to: request, context: context)
    }
}
