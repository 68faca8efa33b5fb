import EnclaveContract
import AsyncHTTPClient
import EnclaveHTTP
import EnclaveJSON
import Foundation
import NIOCore
import NIOHTTP1

/// What the provider granted. `refreshToken` is present only for the authorization-code grant.
struct TokenGrant: Sendable {
    var accessToken: String
    var expiresIn: Int?
    var scope: String?
    var refreshToken: String?
}

/// Calls Google's OAuth 2.0 token and revoke endpoints (docs/contract.md §7). Every call has the
/// configured deadline and a response size cap; failures map to the contract's provider codes. No
/// token or client secret is put into an error or a log line.
struct OAuthProviderClient: Sendable {
    let httpClient: HTTPClient
    let settings: ProviderSettings
    let tokenURL: URL
    let revokeURL: URL
    /// The whole of each call, body included.
    let timeout: Duration
    let metrics: RuntimeMetrics?

    /// Google's token responses are a few KiB; anything far larger is not a token response.
    static let maxResponseBytes = 64 * 1024

    func refresh(refreshToken: String) async throws(RPCError) -> TokenGrant {
        try await timed("refresh_token") { () throws(RPCError) in
            try await tokenRequest([
                ("grant_type", "refresh_token"), ("client_id", settings.clientID), ("client_secret", settings.clientSecret),
                ("refresh_token", refreshToken),
            ])
        }
    }

    func exchangeCode(_ code: String, redirectURI: String, codeVerifier: String?) async throws(RPCError) -> TokenGrant {
        var form = [
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI),
            ("client_id", settings.clientID), ("client_secret", settings.clientSecret),
        ]
        if let codeVerifier { form.append(("code_verifier", codeVerifier)) }
        return try await timed("authorization_code") { () throws(RPCError) in try await tokenRequest(form) }
    }

    /// Revokes `token`. Google answers 400 `invalid_token` for a token it no longer knows: that
    /// counts as revoked.
    func revoke(token: String) async throws(RPCError) {
        try await timed("revoke") { () throws(RPCError) in
            let (status, body) = try await post(revokeURL, form: [("token", token)])
            if (200..<300).contains(status) { return }
            let error = Self.oauthError(in: body)
            if status == 400 && error == "invalid_token" { return }
            throw RPCError(.providerFailed, "the provider refused the revocation", providerStatus: status, oauthError: error)
        }
    }

    /// Records the call's duration by operation and outcome (`ok` or the contract's error code).
    private func timed<T>(_ operation: String, _ call: () async throws(RPCError) -> T) async throws(RPCError) -> T {
        guard let metrics else { return try await call() }
        let started = ContinuousClock.now
        do {
            let result = try await call()
            metrics.providerCall(operation, outcome: "ok", duration: ContinuousClock.now - started)
            return result
        } catch {
            metrics.providerCall(operation, outcome: error.code.rawValue, duration: ContinuousClock.now - started)
            throw error
        }
    }

    private func tokenRequest(_ form: [(String, String)]) async throws(RPCError) -> TokenGrant {
        let (status, body) = try await post(tokenURL, form: form)
        guard (200..<300).contains(status) else {
            throw RPCError(
                .providerFailed, "the provider refused the token request", providerStatus: status,
                oauthError: Self.oauthError(in: body))
        }
        guard let grant = Self.tokenGrant(in: body) else {
            throw RPCError(.providerResponseInvalid, "the provider's token response lacks a valid access_token")
        }
        return grant
    }

    /// The grant in a token response: a JSON object with a non-empty string `access_token`, and
    /// `expires_in` (an integer), `scope` and `refresh_token` (strings) each absent, null or of
    /// that type. Read with the request bodies' strict reader; nil for anything else.
    static func tokenGrant(in body: [UInt8]) -> TokenGrant? {
        guard let json = JSONValue(parsing: body), case .object(let fields) = json,
            let accessToken = fields["access_token"]?.string, !accessToken.isEmpty
        else { return nil }
        struct WrongType: Error {}
        /// Absent or null is nil; a value `read` refuses makes the whole response invalid.
        func optional<T>(_ key: String, _ read: (JSONValue) -> T?) throws(WrongType) -> T? {
            guard let value = fields[key], !value.isNull else { return nil }
            guard let typed = read(value) else { throw WrongType() }
            return typed
        }
        do throws(WrongType) {
            return TokenGrant(
                accessToken: accessToken, expiresIn: try optional("expires_in") { $0.integer.flatMap { Int(exactly: $0) } },
                scope: try optional("scope", \.string), refreshToken: try optional("refresh_token", \.string))
        } catch {
            return nil
        }
    }

    /// POSTs a form and returns the status and the capped body, the whole call within the deadline.
    private func post(_ url: URL, form: [(String, String)]) async throws(RPCError) -> (Int, [UInt8]) {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: Self.formEncode(form)))
        do {
            let answer = try await BoundedCall.send(request, with: httpClient, timeout: timeout, maxBodyBytes: Self.maxResponseBytes)
            return (answer.status, Array(answer.body.readableBytesView))
        } catch .tooLarge {
            throw RPCError(.providerResponseInvalid, "the provider's response exceeds the size cap")
        } catch .timedOut {
            throw RPCError(.providerUnavailable, "the provider's response did not arrive in time")
        } catch {
            throw RPCError(.providerUnavailable, "the provider could not be reached")
        }
    }

    /// `error` of a provider error body, when it names one (a short token, not free text).
    static func oauthError(in body: [UInt8]) -> String? {
        guard let error = JSONValue(parsing: body)?["error"]?.string, !error.isEmpty, error.utf8.count <= 64,
            error.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || (0x30...0x39).contains($0) || (0x61...0x7a).contains($0) || (0x41...0x5a).contains($0) })
        else { return nil }
        return error
    }

    /// application/x-www-form-urlencoded: unreserved characters as is, everything else %XX.
    static func formEncode(_ pairs: [(String, String)]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(pairs.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count + 2 } * 3)
        for (index, (name, value)) in pairs.enumerated() {
            if index > 0 { out.append(UInt8(ascii: "&")) }
            percentEncode(name, into: &out)
            out.append(UInt8(ascii: "="))
            percentEncode(value, into: &out)
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    private static func percentEncode(_ text: String, into out: inout [UInt8]) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.append(byte)
            default:
                out.append(contentsOf: [UInt8(ascii: "%"), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0f)]])
            }
        }
    }
}
