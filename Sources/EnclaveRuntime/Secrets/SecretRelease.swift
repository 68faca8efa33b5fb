import AsyncHTTPClient
import EnclaveConfiguration
import EnclaveCrypto
import EnclaveHTTP
import EnclaveNSM
import Foundation
import Logging
import NIOCore

/// Opens the configuration's `kms:` values before the runtime listens (docs/contract.md §3b): a
/// recipient key pair made here, an NSM document vouching for its public half, then one Decrypt
/// per ciphertext, retried with backoff and full jitter while KMS is throttled, failing or out of
/// reach, until ENCLAVE_KMS_TIMEOUT_MS. The key pair is freed (and wiped by the core) when done.
enum SecretRelease {
    static let userData = Array("enclave-runtime/v1 kms".utf8)

    /// The configuration with every secret in place and `kms` nil; unchanged when it has none.
    static func open(_ configuration: RuntimeConfiguration, logger: Logger) async throws -> RuntimeConfiguration {
        guard let settings = configuration.kms, let device = configuration.nsmDevice else { return configuration }
        let recipient = try KMSRecipient()
        let document: [UInt8]
        let publicKey = try recipient.publicKey()
        do {
            document = try NSMClient.attest(device: device, publicKey: publicKey, userData: userData)
        } catch {
            throw NSMStartError.unavailable(error.description)
        }
        let httpClient = RuntimeEgress.makeClient(configuration.egress, connectTimeout: .seconds(5))
        let client = KMSClient(
            settings: settings, httpClient: httpClient,
            credentials: AWSCredentialProvider(source: settings.credentials, httpClient: httpClient), recipient: recipient,
            attestationDocument: document)
        let result: Result<RuntimeConfiguration, KMSStartError>
        do throws(KMSStartError) {
            result = .success(try await releaseAll(configuration, settings: settings, client: client, logger: logger))
        } catch {
            result = .failure(error)
        }
        try? await httpClient.shutdown()
        return try result.get()
    }

    static func releaseAll(
        _ configuration: RuntimeConfiguration, settings: KMSSettings, client: KMSClient, logger: Logger
    ) async throws(KMSStartError) -> RuntimeConfiguration {
        var opened = configuration
        let deadline = ContinuousClock.now + .milliseconds(settings.timeoutMilliseconds)
        for secret in settings.secrets {
            let plaintext = try await release(secret, client: client, until: deadline, logger: logger)
            switch secret.slot {
            case .dataKey: opened.dataKey = plaintext
            case .previousDataKey(let version): opened.previousDataKeys[version] = plaintext
            case .clientSecret: opened.provider?.clientSecret = String(decoding: plaintext, as: UTF8.self)
            }
            logger.info("secret released by KMS", metadata: ["variable": .string(secret.variable), "purpose": .string(secret.purpose)])
        }
        opened.kms = nil
        opened.secretsFromKMS = true
        return opened
    }

    static func release(_ secret: KMSSecret, client: KMSClient, until deadline: ContinuousClock.Instant, logger: Logger) async throws(KMSStartError) -> [UInt8] {
        var attempt = 0
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { throw .unreachable(variable: secret.variable, reason: "no answer in time") }
            do {
                return try await client.decrypt(secret, timeout: min(left, .seconds(10)))
            } catch {
                switch error {
                case .refused(let reason): throw .refused(variable: secret.variable, reason: reason)
                case .retryable(let reason):
                    attempt += 1
                    let pause = backoff(attempt: attempt)
                    guard ContinuousClock.now + pause < deadline else {
                        throw .unreachable(variable: secret.variable, reason: reason)
                    }
                    logger.warning("KMS did not release a secret yet; retrying", metadata: [
                        "variable": .string(secret.variable), "reason": .string(reason), "attempt": "\(attempt)",
                    ])
                    try? await Task.sleep(for: pause)
                }
            }
        }
    }

    /// Full jitter: uniform in [0, min(2 s, 100 ms x 2^attempt)].
    static func backoff(attempt: Int) -> Duration {
        let ceiling = min(2000, 100 << min(attempt, 5))
        return .milliseconds(Int.random(in: 0...ceiling))
    }
}

/// The start ends: KMS could not be reached in time (exit 69) or refused (exit 77). Names the
/// variable and the KMS error type or rule, never a ciphertext or a plaintext.
enum KMSStartError: Error, CustomStringConvertible {
    case unreachable(variable: String, reason: String)
    case refused(variable: String, reason: String)

    var description: String {
        switch self {
        case .unreachable(let variable, let reason):
            "KMS could not release \(variable) within ENCLAVE_KMS_TIMEOUT_MS: \(reason)"
        case .refused(let variable, let reason): "KMS refused to release \(variable): \(reason)"
        }
    }
}
