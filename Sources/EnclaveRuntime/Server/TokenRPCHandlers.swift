import EnclaveContract
import EnclaveCrypto
import EnclaveJSON
import EnclaveStorage
import Foundation
import Hummingbird
import Logging
import NIOCore

/// The token RPCs (docs/contract.md §5): exchange, revoke and register, each the last stage of
/// `RPCPipeline`; step 7 (the body) is `RPCBodyCheck`'s.
struct TokenRPCHandlers: Sendable {
    let identity: AttestedIdentity
    let store: any ConnectorStore
    let vault: TokenVault
    /// nil when ENCLAVE_ACCESS_TOKEN_CACHE_ENTRIES is 0: every exchange asks the provider.
    let accessTokens: AccessTokenCache?
    /// nil in local mode without OAuth client settings: token RPCs answer provider_not_configured.
    let provider: OAuthProviderClient?
    let now: @Sendable () -> Int64

    func exchange(_ request: AuthenticatedRequest, context: EnclaveRequestContext) async -> RPCAnswer {
        await RPCBodyCheck.respond(request, context, decoding: ConnectorRPCRequest.self) { rpc throws(RPCError) in
            let provider = try requireProvider()
            let record = try await activeConnector(rpc.connector)
            let answer: AccessTokenCache.Answer
            if let accessTokens {
                answer = try await accessTokens.token(for: record) { () throws(RPCError) in try await mint(record, provider) }
            } else {
                let minted = try await mint(record, provider)
                answer = .init(accessToken: minted.accessToken, expiresIn: minted.expiresIn, scope: minted.scope, source: .provider)
            }
            context.log.providerCalled = answer.source == .provider
            return ExchangeResponse(
                requestID: rpc.requestID, accessToken: answer.accessToken, expiresIn: answer.expiresIn, scope: answer.scope,
                attestedIdentity: identity)
        }
    }

    /// One refresh-token grant for `record`, and the row it leaves behind.
    private func mint(_ record: ConnectorRecord, _ provider: OAuthProviderClient) async throws(RPCError) -> AccessTokenCache.Minted {
        let refreshToken = try vault.open(record)
        let requestedAt = ContinuousClock.now
        let grant = try await provider.refresh(refreshToken: refreshToken)
        // A provider that rotates refresh tokens (OAuth 2.1) sends a new one: the stored one is
        // spent, so the new one is sealed and kept, with any new scopes, in one write.
        let rotated = grant.refreshToken.flatMap { $0.isEmpty || $0 == refreshToken ? nil : $0 }
        let scopes = grant.scope.flatMap { $0 == record.scopes ? nil : $0 }
        // A record under an earlier data key (ENCLAVE_DATA_KEY_PREVIOUS) is re-sealed under the
        // current one in the same write (docs/configuration.md §3).
        let toSeal = rotated ?? (vault.needsReseal(record) ? refreshToken : nil)
        var row = AccessTokenCache.RowVersion(record)
        if toSeal != nil || scopes != nil {
            do {
                let sealed = try toSeal.map {
                    SealedRefreshToken(
                        bytes: Data(try vault.seal(refreshToken: $0, userID: record.userID, connectorID: record.connectorID)),
                        keyVersion: vault.policy.keyVersion)
                }
                try await store.updateAfterExchange(connectorID: record.connectorID, scopes: scopes, sealed: sealed, at: now())
                if let sealed { (row.sealedRefreshToken, row.keyVersion) = (sealed.bytes, sealed.keyVersion) }
            } catch {
                // Without the rotated token the connector would be lost at the next exchange:
                // the caller retries rather than take an access token that leaves it behind.
                if rotated != nil { throw Self.storeFailure(error, "the rotated refresh token could not be stored") }
                // Scopes and a re-seal are bookkeeping: the record still opens, the token is good.
            }
        }
        return .init(accessToken: grant.accessToken, expiresIn: grant.expiresIn, scope: grant.scope, requestedAt: requestedAt, row: row)
    }

    func revoke(_ request: AuthenticatedRequest, context: EnclaveRequestContext) async -> RPCAnswer {
        await RPCBodyCheck.respond(request, context, decoding: ConnectorRPCRequest.self) { rpc throws(RPCError) in
            let provider = try requireProvider()
            let record = try await ownedConnector(rpc.connector)
            if record.status == .active {
                let refreshToken = try vault.open(record)
                context.log.providerCalled = true
                try await provider.revoke(token: refreshToken)
                // The provider revoked the access tokens too; other replicas stop at the row, revoked below.
                accessTokens?.drop(connectorID: record.connectorID)
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
        await RPCBodyCheck.respond(request, context, decoding: RegisterRPCRequest.self) { rpc throws(RPCError) in
            let provider = try requireProvider()
            context.log.providerCalled = true
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
