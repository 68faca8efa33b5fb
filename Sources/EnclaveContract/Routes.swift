/// Every endpoint of docs/contract.md §1: method, exact path, whether it is a signed RPC.
public struct ContractRoute: Sendable, Hashable {
    public enum Method: String, Sendable { case get = "GET", post = "POST" }

    public let method: Method
    public let path: String
    /// The OpenAPI operation id (docs/openapi.yaml), which ties the spec to this table.
    public let operationID: String

    public var isSignedRPC: Bool { path.hasPrefix(Self.rpcPrefix) }

    public static let rpcPrefix = "/v1/rpc/"

    public static let healthz = ContractRoute(method: .get, path: "/healthz", operationID: "healthz")
    public static let attestationDocument = ContractRoute(
        method: .get, path: "/v1/attestation/document", operationID: "attestationDocument")
    public static let attestationChallenge = ContractRoute(
        method: .post, path: "/v1/attestation/challenge", operationID: "attestationChallenge")
    public static let exchange = ContractRoute(method: .post, path: "/v1/rpc/google/token/exchange", operationID: "exchangeToken")
    public static let revoke = ContractRoute(method: .post, path: "/v1/rpc/google/token/revoke", operationID: "revokeToken")
    public static let register = ContractRoute(
        method: .post, path: "/v1/rpc/google/connector/register", operationID: "registerConnector")
    public static let ping = ContractRoute(method: .post, path: "/v1/rpc/ping", operationID: "ping")

    public static let all: [ContractRoute] = [
        healthz, attestationDocument, attestationChallenge, exchange, revoke, register, ping,
    ]
}
