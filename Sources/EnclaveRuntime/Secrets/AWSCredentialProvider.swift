import AsyncHTTPClient
import EnclaveHTTP
import EnclaveJSON
import Foundation
import NIOCore
import NIOHTTP1

/// The credentials that sign KMS calls: the AWS variables as given, or IMDSv2's role credentials,
/// fetched again when fewer than `refreshMargin` seconds are left before their Expiration. They
/// only sign: the key policy requires the attestation, so they cannot decrypt on their own.
actor AWSCredentialProvider {
    static let refreshMargin: TimeInterval = 300

    let source: AWSCredentialSource
    let httpClient: HTTPClient
    private var current: AWSCredentials?

    init(source: AWSCredentialSource, httpClient: HTTPClient) {
        self.source = source
        self.httpClient = httpClient
    }

    func credentials(now: Date = Date(), timeout: Duration) async throws(KMSFailure) -> AWSCredentials {
        switch source {
        case .environment(let credentials): return credentials
        case .instanceMetadata(let base):
            if let current, let expiration = current.expiration, expiration.timeIntervalSince(now) > Self.refreshMargin {
                return current
            }
            let fetched = try await fetch(base, timeout: timeout)
            current = fetched
            return fetched
        }
    }

    /// IMDSv2: a session token (PUT), the role's name, then its credentials. Anything unexpected
    /// is retryable: the instance's role may still be attaching.
    private func fetch(_ base: URL, timeout: Duration) async throws(KMSFailure) -> AWSCredentials {
        let root = base.absoluteString.hasSuffix("/") ? String(base.absoluteString.dropLast()) : base.absoluteString
        let token = try await call(.PUT, root + "/latest/api/token", [("x-aws-ec2-metadata-token-ttl-seconds", "21600")], timeout)
        let path = root + "/latest/meta-data/iam/security-credentials/"
        let roles = try await call(.GET, path, [("x-aws-ec2-metadata-token", token)], timeout)
        guard let role = roles.split(whereSeparator: \.isNewline).first.map(String.init), !role.isEmpty,
            role.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+=,.@_-".contains($0)) })
        else { throw .retryable("IMDS names no instance role") }
        let body = try await call(.GET, path + role, [("x-aws-ec2-metadata-token", token)], timeout)
        guard let answer = JSONValue(parsing: Array(body.utf8)), answer["Code"]?.string == "Success",
            let keyID = answer["AccessKeyId"]?.string, let secret = answer["SecretAccessKey"]?.string,
            let sessionToken = answer["Token"]?.string, let expirationText = answer["Expiration"]?.string,
            let expiration = ISO8601DateFormatter().date(from: expirationText)
        else { throw .retryable("IMDS credentials are incomplete") }
        return AWSCredentials(accessKeyID: keyID, secretAccessKey: Array(secret.utf8), sessionToken: sessionToken, expiration: expiration)
    }

    private func call(_ method: HTTPMethod, _ url: String, _ headers: [(String, String)], _ timeout: Duration) async throws(KMSFailure) -> String {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let answer: BoundedCall.Answer
        do {
            answer = try await BoundedCall.send(request, with: httpClient, timeout: timeout, maxBodyBytes: 16 * 1024)
        } catch {
            throw .retryable("IMDS \(error == .timedOut ? "timed out" : "unreachable")")
        }
        guard answer.status == 200 else { throw .retryable("IMDS answered HTTP \(answer.status)") }
        return String(buffer: answer.body)
    }
}
