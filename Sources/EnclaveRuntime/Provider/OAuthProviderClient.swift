import AsyncHTTPClient
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

/// Calls Google's OAuth 2.0 token and revoke endpoints (CONTRACT.md section 7). Every call has the
/// configured deadline and a response size cap; failures map to the contract's provider codes. No
/// token or client secret is put into an error or a log line.
struct OAuthProviderClient: Sendable {
    let httpClient: HTTPClient
    let settings: ProviderSettings
    let tokenURL: URL
    let revokeURL: URL
    let timeout: TimeAmount

    /// Google's token responses are a few KiB; anything far larger is not a token response.
    static let maxResponseBytes = 64 * 1024

    func refresh(refreshToken: String) async throws(RPCError) -> TokenGrant {
        let grant = try await tokenRequest([
            ("grant_type", "refresh_token"), ("client_id", settings.clientID), ("client_secret", settings.clientSecret),
            ("refresh_token", refreshToken),
        ])
        return grant
    }

    func exchangeCode(_ code: String, redirectURI: String, codeVerifier: String?) async throws(RPCError) -> TokenGrant {
        var form = [
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI),
            ("client_id", settings.clientID), ("client_secret", settings.clientSecret),
        ]
        if let codeVerifier { form.append(("code_verifier", codeVerifier)) }
        return try await tokenRequest(form)
    }

    /// Revokes `token`. Google answers 400 `invalid_token` for a token it no longer knows: that
    /// counts as revoked.
    func revoke(token: String) async throws(RPCError) {
        let (status, body) = try await post(revokeURL, form: [("token", token)])
        if (200..<300).contains(status) { return }
        let error = Self.oauthError(in: body)
        if status == 400 && error == "invalid_token" { return }
        throw RPCError(.providerFailed, "the provider refused the revocation", providerStatus: status, oauthError: error)
    }

    private func tokenRequest(_ form: [(String, String)]) async throws(RPCError) -> TokenGrant {
        let (status, body) = try await post(tokenURL, form: form)
        guard (200..<300).contains(status) else {
            throw RPCError(
                .providerFailed, "the provider refused the token request", providerStatus: status,
                oauthError: Self.oauthError(in: body))
        }
        struct Response: Decodable {
            var access_token: String
            var expires_in: Int?
            var scope: String?
            var refresh_token: String?
        }
        guard let decoded = try? JSONDecoder().decode(Response.self, from: Data(body)), !decoded.access_token.isEmpty else {
            throw RPCError(.providerResponseInvalid, "the provider's token response lacks a valid access_token")
        }
        return TokenGrant(
            accessToken: decoded.access_token, expiresIn: decoded.expires_in, scope: decoded.scope,
            refreshToken: decoded.refresh_token)
    }

    /// POSTs a form and returns the status and the capped body.
    private func post(_ url: URL, form: [(String, String)]) async throws(RPCError) -> (Int, [UInt8]) {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: Self.formEncode(form)))
        let response: HTTPClientResponse
        do {
            response = try await httpClient.execute(request, deadline: .now() + timeout)
        } catch {
            throw RPCError(.providerUnavailable, "the provider could not be reached in time")
        }
        do {
            let body = try await response.body.collect(upTo: Self.maxResponseBytes)
            return (Int(response.status.code), Array(body.readableBytesView))
        } catch is NIOTooManyBytesError {
            throw RPCError(.providerResponseInvalid, "the provider's response exceeds the size cap")
        } catch {
            throw RPCError(.providerUnavailable, "the provider's response did not arrive in time")
        }
    }

    /// `error` of a provider error body, when it names one (a short token, not free text).
    static func oauthError(in body: [UInt8]) -> String? {
        struct ErrorBody: Decodable { var error: String }
        guard let error = try? JSONDecoder().decode(ErrorBody.self, from: Data(body)).error,
            !error.isEmpty, error.utf8.count <= 64,
            error.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || (0x30...0x39).contains($0) || (0x61...0x7a).contains($0) || (0x41...0x5a).contains($0) })
        else { return nil }
        return error
    }

    /// application/x-www-form-urlencoded: unreserved characters as is, everything else %XX.
    static func formEncode(_ pairs: [(String, String)]) -> String {
        func encode(_ text: String) -> String {
            var out = ""
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                    UInt8(ascii: "~"):
                    out.unicodeScalars.append(UnicodeScalar(byte))
                default:
                    out += String(format: "%%%02X", byte)
                }
            }
            return out
        }
        return pairs.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
    }
}
