import HostServices
import Testing

@Suite("The api's bearer token")
struct BearerTokenTests {
    @Test("Accepted with the scheme in any case (RFC 7235); refused for any other token, length or form")
    func matching() throws {
        let token = try BearerToken("local-dev-api-token")
        for accepted in ["Bearer local-dev-api-token", "bearer local-dev-api-token", "BEARER local-dev-api-token", "bEaReR local-dev-api-token"] {
            #expect(token.accepts(authorization: accepted), "\(accepted)")
        }
        for refused in [
            nil, "", "Bearer", "Bearer ", "Bearer local-dev-api-toke", "Bearer local-dev-api-tokenn", "Bearer x",
            "Basic local-dev-api-token", "Bearerlocal-dev-api-token", "Token local-dev-api-token", "Bearer  local-dev-api-token",
            "Bearer local-dev-api-token ", "local-dev-api-token",
        ] {
            #expect(!token.accepts(authorization: refused), "\(refused ?? "nil")")
        }
    }
}
