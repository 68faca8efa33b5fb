import AsyncHTTPClient
import EnclaveConfiguration
import EnclaveContract
import EnclaveHTTP
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

        // A refused connection is provider_unavailable at once; a redirect is an answer, not followed.
        let httpClient = BoundedCall.makeClient(connectTimeout: .milliseconds(Int64(configuration.providerTimeoutMilliseconds)))
        self.httpClient = httpClient
        let provider = configuration.provider.map {
            OAuthProviderClient(
                httpClient: httpClient, settings: $0, tokenURL: configuration.tokenURL, revokeURL: configuration.revokeURL,
                timeout: .milliseconds(configuration.providerTimeoutMilliseconds))
        }

        let shared = configuration.shared
        let pipeline = RPCPipeline(authenticator: RPCAuthenticator(
            verifier: try RPCVerifier(secret: shared.sharedSecret, previousSecret: shared.previousSharedSecret),
            replayGuard: ReplayCache(capacity: configuration.replayCapacity, windowSeconds: shared.maxSkewSeconds),
            maxSkewSeconds: Int64(shared.maxSkewSeconds), maxBodyBytes: configuration.maxBodyBytes, now: now))
        let rpc = TokenRPCHandlers(
            identity: RenderedIdentity(document.identity), store: store, vault: vault, provider: provider, evidenceSigner: signer, now: now)
        let health = HealthResponse(environment: shared.environment.rawValue, mode: shared.mode.rawValue).jsonBytes
        let attestation = AttestationHandlers(
            health: ByteBuffer(bytes: health), document: ByteBuffer(bytes: document.json),
            challenge: ChallengeService(
                document: document, signer: signer, maxAgeSeconds: Int64(shared.attestationMaxAgeSeconds),
                maxSkewSeconds: Int64(shared.maxSkewSeconds), now: now))

        var routes: [String: ContractRouter.Route] = [
            ContractRoute.healthz.path: .init(method: .get, handler: { attestation.healthz($0, context: $1) }),
            ContractRoute.attestationDocument.path: .init(method: .get, handler: { attestation.attestationDocument($0, context: $1) }),
            ContractRoute.attestationChallenge.path: .init(
                method: .post, handler: { try await attestation.attestationChallenge($0, context: $1) }),
            ContractRoute.exchange.path: .init(method: .post, handler: pipeline.handler { await rpc.exchange($0, context: $1) }),
            ContractRoute.revoke.path: .init(method: .post, handler: pipeline.handler { await rpc.revoke($0, context: $1) }),
            ContractRoute.register.path: .init(method: .post, handler: pipeline.handler { await rpc.register($0, context: $1) }),
            ContractRoute.ping.path: .init(method: .post, handler: pipeline.handler { await rpc.ping($0, context: $1) }),
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
