import EnclaveConfiguration
import Foundation

/// The secrets given as `kms:BASE64` and how to open them (docs/contract.md §3b,
/// docs/configuration.md §3). Read with the rest of the configuration; opened by `SecretRelease`
/// before the runtime listens.
public struct KMSSettings: Sendable {
    /// KMS_KEY_ID: the key's ARN, which every answer's KeyId must equal.
    public var keyARN: String
    public var region: String
    public var endpoint: URL
    public var timeoutMilliseconds: Int
    public var credentials: AWSCredentialSource
    public var secrets: [KMSSecret]
}

/// One ciphertext and where its plaintext goes. The purpose is bound into the ciphertext as its
/// encryption context, so a client secret's ciphertext never opens as a data key.
public struct KMSSecret: Sendable {
    public enum Slot: Sendable, Equatable {
        case dataKey
        case previousDataKey(version: Int)
        case clientSecret
    }

    public var variable: String
    public var slot: Slot
    public var ciphertext: [UInt8]

    public var purpose: String { slot == .clientSecret ? "oauth-client-secret" : "data-key" }
}

/// Where the credentials that sign KMS calls come from.
public enum AWSCredentialSource: Sendable {
    /// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN.
    case environment(AWSCredentials)
    /// IMDSv2 at ENCLAVE_IMDS_URL, fetched again before each set's Expiration.
    case instanceMetadata(URL)
}

public struct AWSCredentials: Sendable {
    public var accessKeyID: String
    public var secretAccessKey: [UInt8]
    public var sessionToken: String
    /// nil: they do not expire (the environment's).
    public var expiration: Date?
}

extension KMSSettings {
    static let prefix = "kms:"

    /// A `kms:` value's ciphertext; nil when `text` is not a `kms:` value.
    static func ciphertext(_ variable: String, _ text: String) throws(ConfigurationError) -> [UInt8]? {
        guard text.hasPrefix(prefix) else { return nil }
        guard let data = Data(base64Encoded: String(text.dropFirst(prefix.count))), !data.isEmpty, data.count <= 6144 else {
            throw ConfigurationError(variable, "must give kms: the base64 of a KMS CiphertextBlob")
        }
        return [UInt8](data)
    }

    /// The settings for `secrets`; nil when there are none. Any `kms:` value needs the NSM source
    /// and a KMS_KEY_ID that is a key ARN.
    static func load(
        _ env: EnvironmentSource, secrets: [KMSSecret], nsm: Bool, local: Bool, keyID: String
    ) throws(ConfigurationError) -> KMSSettings? {
        guard let first = secrets.first else { return nil }
        guard nsm else {
            throw ConfigurationError(first.variable, "may be kms: only with TEE_ATTESTATION_SOURCE=nsm (KMS releases to an attested runtime)")
        }
        guard let region = keyARNRegion(keyID) else {
            throw ConfigurationError("KMS_KEY_ID", "must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID) with kms: values")
        }
        let endpoint = try KMSEndpoint.load(env.string(KMSEndpoint.variable), region: region, local: local)
        let timeout = try env.int(
            "ENCLAVE_KMS_TIMEOUT_MS", default: 30000, in: 1000...600_000, rule: "must be an integer from 1000 to 600000")
        return KMSSettings(
            keyARN: keyID, region: region, endpoint: endpoint, timeoutMilliseconds: timeout,
            credentials: try credentialSource(env), secrets: secrets)
    }

    /// The region of `arn:aws[-cn|-us-gov]:kms:REGION:ACCOUNT:key/ID`, or nil when it is not one.
    static func keyARNRegion(_ arn: String) -> String? {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 6, parts[0] == "arn", ["aws", "aws-cn", "aws-us-gov"].contains(parts[1]), parts[2] == "kms" else { return nil }
        let region = parts[3], account = parts[4], resource = parts[5]
        let regionOK = !region.isEmpty && region.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
        let accountOK = account.count == 12 && account.allSatisfy { $0.isASCII && $0.isNumber }
        let id = resource.hasPrefix("key/") ? resource.dropFirst(4) : ""
        let idOK = !id.isEmpty && id.count <= 128 && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        return regionOK && accountOK && idOK ? region : nil
    }

    /// The AWS variables when AWS_ACCESS_KEY_ID is set (then AWS_SECRET_ACCESS_KEY is required);
    /// else IMDSv2 at ENCLAVE_IMDS_URL.
    static func credentialSource(_ env: EnvironmentSource) throws(ConfigurationError) -> AWSCredentialSource {
        let keyID = env.string("AWS_ACCESS_KEY_ID"), secret = env.string("AWS_SECRET_ACCESS_KEY")
        switch (keyID, secret) {
        case (let id?, let secret?):
            guard id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                throw ConfigurationError("AWS_ACCESS_KEY_ID", "must be letters and digits")
            }
            return .environment(AWSCredentials(
                accessKeyID: id, secretAccessKey: Array(secret.utf8), sessionToken: env.string("AWS_SESSION_TOKEN") ?? "", expiration: nil))
        case (nil, nil):
            let text = env.string("ENCLAVE_IMDS_URL", default: "http://169.254.169.254")
            guard let parts = URLComponents(string: text), let scheme = parts.scheme, ["http", "https"].contains(scheme.lowercased()),
                parts.host?.isEmpty == false, parts.query == nil, let url = URL(string: text)
            else { throw ConfigurationError("ENCLAVE_IMDS_URL", "must be an http(s) URL") }
            return .instanceMetadata(url)
        case (nil, _): throw ConfigurationError("AWS_ACCESS_KEY_ID", "is required when AWS_SECRET_ACCESS_KEY is set")
        case (_, nil): throw ConfigurationError("AWS_SECRET_ACCESS_KEY", "is required when AWS_ACCESS_KEY_ID is set")
        }
    }
}
