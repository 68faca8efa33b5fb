import EnclaveContract
import EnclaveCrypto
import EnclaveJSON
import EnclaveStorage
import Foundation
import Hummingbird
import Logging
import NIOCore

/// The signed RPC endpoints (docs/contract.md §5), each the last stage of `RPCPipeline`.
struct TokenRPCHandlers: Sendable {
    let identity: RenderedIdentity
    let store: any ConnectorStore
    let vault: TokenVault
    /// nil in local mode without OAuth client settings: token RPCs answer provider_not_configured.
    let provider: OAuthProviderClient?
    /// The key that signs challenge evidence; it also signs the ping's `binding` (section 2a).
    let evidenceSigner: ChallengeSigner
    let now: @Sendable () -> Int64

    func ping(_ request: AuthenticatedRequest, context: EnclaveRequestContext) async -> RPCAnswer {
        await respond(request, context, decoding: PingRPCRequest.self) { ping throws(RPCError) in
            // Proves the answer comes from the holder of the attested key, for this very request.
            guard let message = try? PingBinding.message(requestID: ping.requestID, requestSignature: request.signature.requestSignature),
                let binding = try? evidenceSigner.sign(message)
            else { throw RPCError(.rpcInternalError, "the ping binding could not be signed") }
            return PingResponse(requestID: ping.requestID, attestedIdentity: identity, binding: binding)
        }
    }

    func exchange(_ request: AuthenticatedRequest, context: EnclaveRequestContext) async -> RPCAnswer {
        await respond(request, context, decoding: ConnectorRPCRequest.self) { rpc throws(RPCError) in
            let provider = try requireProvider()
            let record = try await activeConnector(rpc.connector)
            let refreshToken = try vault.open(record)
            let grant = try await provider.refresh(refreshToken: refreshToken)
            // A provider that rotates refresh tokens (OAuth 2.1) sends a new one: the stored one is
            // spent, so the new one is sealed and kept, with any new scopes, in one write.
            let rotated = grant.refreshToken.flatMap { $0.isEmpty || $0 == refreshToken ? nil : $0 }
            let scopes = grant.scope.flatMap { $0 == record.scopes ? nil : $0 }
            if rotated != nil || scopes != nil {
                do {
                    let sealed = try rotated.map { try vault.seal(refreshToken: $0, userID: record.userID, connectorID: record.connectorID) }
                    try await store.updateAfterExchange(
                        connectorID: record.connectorID, scopes: scopes, sealedRefreshToken: sealed.map { Data($0) }, at: now())
                } catch {
                    // Without the rotated token the connector would be lost at the next exchange:
                    // the caller retries rather than take an access token that leaves it behind.
                    if rotated != nil { throw Self.storeFailure(error, "the rotated refresh token could not be stored") }
                    // Scopes alone are bookkeeping: the access token is good whether or not this write succeeds.
                }
            }
            return ExchangeResponse(
                requestID: rpc.requestID, accessToken: grant.accessToken, expiresIn: grant.expiresIn, scope: grant.scope,
                attestedIdentity: identity)
        }
    }

    func revoke(_ request: AuthenticatedRequest, context: EnclaveRequestContext) async -> RPCAnswer {
        await respond(request, context, decoding: ConnectorRPCRequest.self) { rpc throws(RPCError) in
            let provider = try requireProvider()
            let record = try await ownedConnector(rpc.connector)
            if record.status == .active {
                let refreshToken = try vault.open(record)
                try await provider.revoke(token: refreshToken)
                do {
                    try await store.markRevoked(connectorID: record.connectorID, at: now())
                } catch {
                    throw Self.storeFailure(error, "the connector store could not be updated")
                }
            }
            // Already revoked: answered again without calling the provider.
            return AcknowledgementResponse(requestID: rpc.requestID, attestedIdentity: identity)
        }
    }

    func register(_ request: AuthenticatedRequest, context: EnclaveRequestContext) async -> RPCAnswer {
        await respond(request, context, decoding: RegisterRPCRequest.self) { rpc throws(RPCError) in
            let provider = try requireProvider()
            let grant = try await provider.exchangeCode(
                rpc.authorizationCode, redirectURI: rpc.redirectURI, codeVerifier: rpc.codeVerifier)
            guard let refreshToken = grant.refreshToken, !refreshToken.isEmpty else {
                throw RPCError(.providerResponseInvalid, "the provider's token response has no refresh_token")
            }
            let userID = rpc.userID.lowercased()
            let connectorID = UUID().uuidString.lowercased()
            let time = now()
            do {
                let sealed = try vault.seal(refreshToken: refreshToken, userID: userID, connectorID: connectorID)
                try await store.insert(
                    ConnectorRecord(
                        connectorID: connectorID, userID: userID, provider: "google", scopes: grant.scope ?? "",
                        status: .active, createdAt: time, updatedAt: time, keyID: vault.policy.keyID,
                        keyVersion: vault.policy.keyVersion, sealedRefreshToken: Data(sealed)))
            } catch {
                // The host never learns this connector, so nobody could ever revoke the token
                // just granted: revoke it now (best effort, bounded by the provider timeout).
                try? await provider.revoke(token: refreshToken)
                throw Self.storeFailure(error, "the connector could not be stored")
            }
            context.log.connectorID = connectorID
            return RegisterResponse(
                requestID: rpc.requestID, connector: ConnectorReference(userID: userID, connectorID: connectorID),
                scope: grant.scope, accessToken: grant.accessToken, expiresIn: grant.expiresIn, attestedIdentity: identity)
        }
    }

    // MARK: Shared steps

    /// Step 7 of the verification order, then the endpoint's work, then the JSON answer.
    private func respond<Body: RPCRequestBody, Answer: JSONResponseBody>(
        _ request: AuthenticatedRequest, _ context: EnclaveRequestContext, decoding type: Body.Type,
        _ work: (Body) async throws(RPCError) -> Answer
    ) async -> RPCAnswer {
        let rpc: Body
        switch Self.decode(type, from: request.body) {
        case .success(let decoded): rpc = decoded
        case .failure(let failure): return .refusal(failure.error, requestID: failure.requestID, context: context)
        }
        context.log.requestID = rpc.requestID
        (context.log.userID, context.log.connectorID) = (rpc.auditedUserID, rpc.auditedConnectorID)
        do throws(RPCError) {
            return .ok(try await work(rpc))
        } catch {
            return .refusal(error, requestID: rpc.requestID, context: context)
        }
    }

    /// invalid_request_payload, then invalid_contract_version, then invalid_request_id.
    static func decode<Body: RPCRequestBody>(_ type: Body.Type, from body: ByteBuffer) -> Result<Body, DecodeFailure> {
        let json = JSONValue(parsing: Array(body.readableBytesView))
        guard let rpc = json.flatMap(type.init(json:)), rpc.hasValidShape else {
            // Echo request_id when the body is a JSON object whose request_id is a string we accept.
            return .failure(DecodeFailure(
                error: .init(.invalidRequestPayload, "the body is not this endpoint's JSON shape"),
                requestID: json?["request_id"]?.string.flatMap(echoable)))
        }
        guard rpc.contractVersion == contractVersion else {
            return .failure(.init(error: .init(.invalidContractVersion, "contract_version must be v1"), requestID: echoable(rpc.requestID)))
        }
        guard !rpc.requestID.isEmpty else {
            return .failure(.init(error: .init(.invalidRequestID, "request_id must not be empty"), requestID: nil))
        }
        // The challenge's limit (docs/contract.md section 2, step 7): an id lands in audit and
        // access-log lines, so a 60 KB one would make a 60 KB line.
        guard rpc.requestID.utf8.count <= maxRequestIDBytes else {
            return .failure(.init(error: .init(.invalidRequestID, "request_id must be at most \(maxRequestIDBytes) bytes"), requestID: nil))
        }
        return .success(rpc)
    }

    static let maxRequestIDBytes = 128

    /// A request id that may be echoed and logged: non-empty and within the limit.
    static func echoable(_ id: String) -> String? { id.isEmpty || id.utf8.count > maxRequestIDBytes ? nil : id }

    struct DecodeFailure: Error {
        var error: RPCError
        var requestID: String?
    }

    /// A shared database out of reach is `store_unavailable` (503, retryable); any other store
    /// failure is a defect, `rpc_internal_error`.
    static func storeFailure(_ error: any Error, _ message: String) -> RPCError {
        if let error = error as? StoreError, error == .unavailable {
            return RPCError(.storeUnavailable, "the shared database cannot be reached; retry shortly")
        }
        return RPCError(.rpcInternalError, message)
    }

    private func requireProvider() throws(RPCError) -> OAuthProviderClient {
        guard let provider else {
            throw RPCError(.providerNotConfigured, "GOOGLE_OAUTH_CLIENT_ID and GOOGLE_OAUTH_CLIENT_SECRET are not configured")
        }
        return provider
    }

    /// The connector when it exists and belongs to the caller's user; unknown and foreign
    /// connectors are indistinguishable to the caller.
    private func ownedConnector(_ reference: ConnectorReference) async throws(RPCError) -> ConnectorRecord {
        let record: ConnectorRecord?
        do {
            record = try await store.find(connectorID: reference.connectorID.lowercased())
        } catch {
            throw Self.storeFailure(error, "the connector store could not be read")
        }
        guard let record, record.userID == reference.userID.lowercased() else {
            throw RPCError(.connectorTokenUnavailable, "no token is available for this connector")
        }
        return record
    }

    private func activeConnector(_ reference: ConnectorReference) async throws(RPCError) -> ConnectorRecord {
        let record = try await ownedConnector(reference)
        guard record.status == .active else {
            throw RPCError(.connectorTokenUnavailable, "no token is available for this connector")
        }
        return record
    }
}

/// What step 7 checks on every RPC body, and the ids its audit event names.
protocol RPCRequestBody: JSONRequestBody {
    var contractVersion: String { get }
    var requestID: String { get }
    /// Field rules beyond JSON types (UUIDs, non-empty values).
    var hasValidShape: Bool { get }
    var auditedUserID: String? { get }
    var auditedConnectorID: String? { get }
}

extension PingRPCRequest: RPCRequestBody {
    var hasValidShape: Bool { true }
    var auditedUserID: String? { nil }
    var auditedConnectorID: String? { nil }
}

extension ConnectorRPCRequest: RPCRequestBody {
    var hasValidShape: Bool { UUIDSyntax.isValid(connector.userID) && UUIDSyntax.isValid(connector.connectorID) }
    var auditedUserID: String? { connector.userID.lowercased() }
    var auditedConnectorID: String? { connector.connectorID.lowercased() }
}

extension RegisterRPCRequest: RPCRequestBody {
    var auditedUserID: String? { userID.lowercased() }
    var auditedConnectorID: String? { nil }
    var hasValidShape: Bool {
        UUIDSyntax.isValid(userID) && !authorizationCode.isEmpty && !redirectURI.isEmpty && codeVerifier.map { !$0.isEmpty } ?? true
    }
}
