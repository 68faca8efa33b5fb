import AsyncHTTPClient
import EnclaveConfiguration
import EnclaveContract
import EnclaveHTTP
import EnclaveCrypto
import EnclaveLogging
import EnclaveMetrics
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

/// Builds the enclave runtime from a validated configuration; shared by the executable and tests.
public struct EnclaveRuntimeApplication: Sendable {
    public let application: Application<AccessLog>
    /// Everything the process runs: the HTTP server (once the store is ready) and the background
    /// work (the database pool and the replay guard's purge, the NSM refresher, the metrics listener).
    public let services: [any Service]
    let httpClient: HTTPClient
    /// The Prometheus registry, when metrics are on.
    public let metrics: MetricsRegistry?

    /// `now` is Unix seconds; tests inject a clock. `composition` adds routes beside the
    /// contract's (the benchmarks' floors); a deployment adds none.
    public init(
        configuration: RuntimeConfiguration, logger: Logger, limits: ListenerLimits = .serving(),
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }, composition: RuntimeComposition = .init()
    ) throws {
        let shared = configuration.shared
        guard configuration.kms == nil else {
            throw ConfigurationError("ENCLAVE_DATA_KEY", "holds kms: values not yet opened (SecretRelease.open comes first)")
        }
        let registry = composition.metrics ?? configuration.metricsBindAddress.map { _ in MetricsRegistry() }
        let metrics = registry.map { RuntimeMetrics(registry: $0) }
        self.metrics = registry
        let audit: AuditTrail
        do {
            audit = try AuditTrail(path: configuration.auditLogPath, process: "enclave-runtime")
        } catch {
            throw ConfigurationError("ENCLAVE_AUDIT_LOG", "must name a private file the runtime can append to: \(error.reason)")
        }
        let (signer, attestation, nsm) = try Self.attestation(configuration, logger: logger, now: now, metrics: metrics)

        let dataKey = try DataKey.resolve(configured: configuration.dataKey, stateDirectory: configuration.stateDirectory)
        let vault = TokenVault(
            sealer: try Sealer(key: dataKey), policy: configuration.keyPolicy,
            previous: try configuration.previousDataKeys.mapValues { try Sealer(key: $0) })
        let stores = try RuntimeStores(configuration, logger: logger)
        let connectors = metrics.map { InstrumentedConnectorStore(store: stores.connectors, metrics: $0) } ?? stores.connectors
        let accessTokens = configuration.accessTokenCache.map {
            AccessTokenCache(maxEntries: $0.maxEntries, maxBytes: $0.maxBytes, events: metrics?.accessTokenEvents ?? .init())
        }
        let sealedCounts = SealedRecordCounts(currentVersion: configuration.keyPolicy.keyVersion)
        metrics?.describe(
            attestationSource: nsm != nil ? "nsm" : shared.mode == .devShim ? "dev-shim" : "static", store: stores.kind.rawValue,
            replayCache: stores.replayGuard as? ReplayCache, attestation: nsm != nil ? attestation : nil, accessTokens: accessTokens,
            sealedRecords: sealedCounts)

        // A refused connection is provider_unavailable at once; a redirect is an answer, not followed.
        let httpClient = RuntimeEgress.makeClient(
            configuration.egress, connectTimeout: .milliseconds(Int64(configuration.providerTimeoutMilliseconds)))
        self.httpClient = httpClient
        let provider = configuration.provider.map {
            OAuthProviderClient(
                httpClient: httpClient, settings: $0, tokenURL: configuration.tokenURL, revokeURL: configuration.revokeURL,
                timeout: .milliseconds(configuration.providerTimeoutMilliseconds), metrics: metrics)
        }

        let verifier = try RPCVerifier(secret: shared.sharedSecret, previousSecret: shared.previousSharedSecret)
        let pipeline = RPCPipeline(
            authenticator: RPCAuthenticator(
                verifier: verifier,
                replayGuard: stores.replayGuard,
                maxSkewSeconds: Int64(shared.maxSkewSeconds), maxBodyBytes: configuration.maxBodyBytes, now: now),
            answerSigning: ContractAnswerSigning(verifier: verifier),
            audit: AuditRecorder(trail: audit) { path in
                metrics?.auditWriteFailed()
                logger.error("the audit event could not be written; token RPCs are refused until it can", metadata: ["path": .string(path)])
            },
            metrics: metrics)
        let identity = attestation.current.identity
        let rpc = TokenRPCHandlers(
            identity: identity, store: connectors, vault: vault, accessTokens: accessTokens, provider: provider, now: now)
        let ping = PingHandler(identity: identity, evidenceSigner: signer)
        let health = HealthHandler(
            environment: shared.environment.rawValue, mode: shared.mode.rawValue, secrets: configuration.secretsFromKMS ? "kms" : "configured",
            stores: stores, sealedRecords: sealedCounts)
        let attestationEndpoints = AttestationHandlers(
            state: attestation,
            challenge: ChallengeService(
                state: attestation, signer: signer, maxAgeSeconds: Int64(shared.attestationMaxAgeSeconds),
                maxSkewSeconds: Int64(shared.maxSkewSeconds), now: now),
            metrics: metrics)

        var routes: [String: ContractRouter.Route] = [
            ContractRoute.healthz.path: .init(method: .get, handler: { health.healthz($0, context: $1) }),
            ContractRoute.attestationDocument.path: .init(
                method: .get, handler: { attestationEndpoints.attestationDocument($0, context: $1) }),
            ContractRoute.attestationChallenge.path: .init(
                method: .post, handler: { try await attestationEndpoints.attestationChallenge($0, context: $1) }),
            ContractRoute.exchange.path: .init(
                method: .post, handler: pipeline.handler(actsOnTokens: true) { await rpc.exchange($0, context: $1) }),
            ContractRoute.revoke.path: .init(
                method: .post, handler: pipeline.handler(actsOnTokens: true) { await rpc.revoke($0, context: $1) }),
            ContractRoute.register.path: .init(
                method: .post, handler: pipeline.handler(actsOnTokens: true) { await rpc.register($0, context: $1) }),
            ContractRoute.ping.path: .init(method: .post, handler: pipeline.handler(actsOnTokens: false) { await ping.ping($0, context: $1) }),
        ]
        for extra in composition.routes {
            precondition(routes[extra.path] == nil, "an extra route may not replace a contract route")
            switch extra.serves {
            case .handler(let handler): routes[extra.path] = .init(method: extra.method, handler: handler)
            case .ping(let signing):
                var variant = pipeline
                variant.answerSigning = signing
                routes[extra.path] = .init(method: extra.method, handler: variant.handler(actsOnTokens: false) { await ping.ping($0, context: $1) })
            }
        }
        let bind = configuration.bindAddress
        let tls = configuration.attestedTLS ? AttestedTLSContexts(state: attestation, signer: signer, now: now) : nil
        // Made now, so a certificate the core cannot make stops the start instead of every handshake.
        _ = try tls?.context()
        var tlsContext: (@Sendable () throws -> NIOSSLContext)?
        if let tls { tlsContext = { try tls.context() } }
        application = Application(
            responder: AccessLog(router: ContractRouter(routes: routes), logger: logger, metrics: metrics),
            server: .guarded(limits, tls: tlsContext),
            configuration: .init(address: .hostname(bind.host, port: bind.port), serverName: nil),
            logger: logger)
        // Shut down in reverse: the server drains its requests before the database pool closes.
        let application = application
        let listener: [any Service] = zip(registry.map { [$0] } ?? [], configuration.metricsBindAddress.map { [$0] } ?? []).map {
            MetricsListener(bindAddress: $1, metrics: $0, logger: logger)
        }
        services = stores.services + (nsm.map { [$0] } ?? []) + listener + [
            StartAfterPreparation(
                prepare: { try await stores.prepare() },
                services: [application, BackgroundReseal(store: connectors, vault: vault, counts: sealedCounts, logger: logger)])
        ]
    }

    /// The evidence key and the attestation it presents: a document from the NSM (the key made
    /// here, the first document fetched before the runtime listens), the configured one (static
    /// remote), or a generated dev-shim document.
    static func attestation(
        _ configuration: RuntimeConfiguration, logger: Logger, now: @Sendable () -> Int64, metrics: RuntimeMetrics?
    ) throws -> (ChallengeSigner, AttestationState, NSMAttestation?) {
        let shared = configuration.shared
        if let device = configuration.nsmDevice {
            let signer = try ChallengeSigner.generate()
            let first = try NSMAttestation.firstSnapshot(device: device, publicKey: signer.publicKey)
            let state = AttestationState(first, maxAgeSeconds: Int64(shared.attestationMaxAgeSeconds))
            let refresher = NSMAttestation(
                device: device, publicKey: signer.publicKey, state: state,
                interval: NSMAttestation.refreshInterval(maxAgeSeconds: shared.attestationMaxAgeSeconds), logger: logger,
                metrics: metrics?.nsm ?? .none)
            return (signer, state, refresher)
        }
        let signer = try configuration.signingSeed.map { try ChallengeSigner(seed: $0) } ?? ChallengeSigner.generate()
        let document = configuration.remoteDocument
            ?? AttestationDocument.devShim(measurement: configuration.devMeasurement, issuedAt: now(), publicKey: signer.publicKey)
        return (signer, AttestationState(document.snapshot, maxAgeSeconds: nil), nil)
    }

    /// Releases the outbound HTTP client; call after the application stopped.
    public func shutdown() async throws {
        try await httpClient.shutdown()
    }
}
