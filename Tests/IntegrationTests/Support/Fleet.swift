import AsyncHTTPClient
import EnclaveCrypto
import Foundation
import NIOCore
import NIOHTTP1
import TestSupport

/// Runtime replicas as real processes on one PostgreSQL database, with one OAuth provider: what
/// a deployment behind a load balancer runs. The replicas share what a fleet shares (the data
/// key, the evidence key, the shared secret); each has a state directory of its own.
final class Fleet: @unchecked Sendable {
    let cluster: PostgresCluster
    let database: String
    let provider: ProviderProcess
    private(set) var replicas: [RuntimeProcess] = []
    let dataKey = Data((try? SecureRandom.bytes(32)) ?? []).base64EncodedString()
    let evidenceSeed = Data((try? SecureRandom.bytes(32)) ?? []).base64EncodedString()

    init(replicas count: Int, cluster: PostgresCluster = .shared, provider: ProviderProcess? = nil) async throws {
        self.cluster = cluster
        database = try cluster.createDatabase()
        self.provider = try provider ?? ProviderProcess()
        for _ in 0..<count { try await addReplica() }
    }

    var runtimeEnvironment: [String: String] {
        localEnvironment(provider.environment().merging([
            "ENCLAVE_DATABASE_URL": cluster.url(database), "ENCLAVE_DATA_KEY": dataKey,
            "TEE_ATTESTATION_SIGNING_PRIVATE_KEY": evidenceSeed,
        ]) { $1 })
    }

    @discardableResult
    func addReplica() async throws -> RuntimeProcess {
        let replica = try await RuntimeProcess(environment: runtimeEnvironment)
        replicas.append(replica)
        return replica
    }

    /// A host's environment against `replica`, its jobs in `jobsDatabase` of the same cluster.
    func hostEnvironment(replica: Int, jobsDatabase: String, _ extra: [String: String] = [:]) -> [String: String] {
        IntegrationTests.hostEnvironment(
            base: replicas[replica].base, ["HOST_DATABASE_URL": cluster.url(jobsDatabase)].merging(extra) { $1 })
    }
}

/// One signed request, kept as bytes so that exactly the same request can be sent again.
struct SignedRequest: Sendable {
    let path: String
    let headers: [(String, String)]
    let body: [UInt8]

    init(path: String, _ fields: [String: Any], secret: String = "local-dev-enclave-rpc-secret") {
        self.path = path
        body = json(fields)
        headers = signedHeaders(path: path, body: body, secret: secret, timestamp: Int64(Date().timeIntervalSince1970))
    }

    static func ping(_ requestID: String = "ping-\(UUID().uuidString)") -> SignedRequest {
        SignedRequest(path: "/v1/rpc/ping", ["contract_version": "v1", "request_id": requestID])
    }

    func send(to runtime: RuntimeProcess, timeout: TimeAmount = .seconds(10), client: HTTPClient = .shared) async throws -> HTTPResult {
        try await httpCall(.POST, runtime.base + path, headers: headers, body: body, timeout: timeout, client: client)
    }
}

/// Status and error code of an answer, or the transport failure.
struct Answer: Sendable, Hashable, CustomStringConvertible {
    var status: Int
    var code: String?

    static let transportFailure = Answer(status: 0, code: "transport")

    init(status: Int, code: String?) {
        self.status = status
        self.code = code
    }

    init(_ result: HTTPResult) {
        status = result.status
        code = errorCode(result.json)
    }

    var description: String { "\(status) \(code ?? "")" }
}
