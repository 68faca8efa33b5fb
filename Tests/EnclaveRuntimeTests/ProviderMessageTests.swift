@testable import EnclaveRuntime
import Foundation
import Testing

/// What the runtime sends to and reads from the OAuth provider, without the network.
@Suite("Provider messages: token responses, error bodies, form encoding")
struct ProviderMessageTests {
    func grant(_ text: String) -> TokenGrant? { OAuthProviderClient.tokenGrant(in: Array(text.utf8)) }

    @Test("A token response gives its fields; absent or null optional fields are nil; unknown keys are ignored")
    func validTokenResponses() throws {
        let full = try #require(grant(#"{"access_token":"ya29.a","expires_in":3599,"scope":"s1 s2","refresh_token":"1//r","token_type":"Bearer"}"#))
        #expect(full.accessToken == "ya29.a" && full.expiresIn == 3599 && full.scope == "s1 s2" && full.refreshToken == "1//r")
        let minimal = try #require(grant(#" {"access_token":"a"} "#))
        #expect(minimal.expiresIn == nil && minimal.scope == nil && minimal.refreshToken == nil)
        let nulls = try #require(grant(#"{"access_token":"a","expires_in":null,"scope":null,"refresh_token":null}"#))
        #expect(nulls.expiresIn == nil && nulls.scope == nil && nulls.refreshToken == nil)
    }

    @Test("Anything else is no grant", arguments: [
        "", "not json", "[]", #""access_token""#, "{}",
        #"{"access_token":""}"#, #"{"access_token":null}"#, #"{"access_token":7}"#,
        #"{"access_token":"a","expires_in":"3599"}"#, #"{"access_token":"a","expires_in":3599.5}"#,
        #"{"access_token":"a","expires_in":true}"#, #"{"access_token":"a","scope":["s"]}"#,
        #"{"access_token":"a","refresh_token":{}}"#,
        #"{"access_token":"a","access_token":"b"}"#, #"{"access_token":"a"} {}"#, #"{"access_token":"a""#,
    ])
    func invalidTokenResponses(text: String) {
        #expect(grant(text) == nil)
    }

    @Test("The OAuth error is taken only when it is a short token")
    func oauthErrors() {
        func error(_ text: String) -> String? { OAuthProviderClient.oauthError(in: Array(text.utf8)) }
        #expect(error(#"{"error":"invalid_grant","error_description":"Token has been expired or revoked."}"#) == "invalid_grant")
        #expect(error(#"{"error":""}"#) == nil && error(#"{"error":"has space"}"#) == nil && error(#"{"error":7}"#) == nil)
        #expect(error(#"{"error":"\#(String(repeating: "a", count: 65))"}"#) == nil && error("<html>") == nil)
    }

    @Test("Form encoding keeps unreserved characters and percent-encodes every other UTF-8 byte")
    func formEncoding() {
        // Foundation's percent encoding with the same unreserved set is the reference.
        let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        let everyASCII = String(decoding: (1...127).map { UInt8($0) }, as: UTF8.self)
        let values = [everyASCII, "1//0g-refresh_token.~", "a b&c=d+e/f?g%", "é ü 日本 🙂", ""]
        for value in values {
            let encoded = OAuthProviderClient.formEncode([("grant_type", "refresh_token"), ("refresh_token", value)])
            #expect(encoded == "grant_type=refresh_token&refresh_token=" + value.addingPercentEncoding(withAllowedCharacters: unreserved)!)
        }
        #expect(OAuthProviderClient.formEncode([]) == "")
        #expect(OAuthProviderClient.formEncode([("a b", "c"), ("d", "e")]) == "a%20b=c&d=e")
    }
}
