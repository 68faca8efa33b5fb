import AsyncHTTPClient
import EnclaveCrypto
import EnclaveHTTP
import EnclaveJSON
import Foundation
import NIOCore

/// Why a KMS call gave no secret: `retryable` (throttling, KMS internal or dependency errors, any
/// 5xx, no connection) or `refused` (any other error, or an answer the runtime does not use). The
/// text names a KMS error type or a rule, never a ciphertext, a plaintext or a credential.
enum KMSFailure: Error, Equatable {
    case retryable(String)
    case refused(String)
}

/// One `TrentService.Decrypt` with a `Recipient` (docs/contract.md §3b steps 3 and 4): AWS JSON
/// 1.1, signed with SigV4 for `kms` in the key's region, its answer opened only in the shape the
/// contract names.
struct KMSClient: Sendable {
    let settings: KMSSettings
    let httpClient: HTTPClient
    let credentials: AWSCredentialProvider
    let recipient: KMSRecipient
    /// The NSM document vouching for the recipient's public key.
    let attestationDocument: [UInt8]

    static let retryableTypes: Set<String> = ["ThrottlingException", "KMSInternalException", "DependencyTimeoutException"]
    static let maxAnswerBytes = 64 * 1024

    /// The plaintext of `secret`, or why not.
    func decrypt(_ secret: KMSSecret, timeout: Duration) async throws(KMSFailure) -> [UInt8] {
        let body = requestBody(secret)
        let signing = try await credentials.credentials(timeout: timeout)
        let host = settings.endpoint.host! + (settings.endpoint.port.map { ":\($0)" } ?? "")
        let headers = [
            (name: "content-type", value: "application/x-amz-json-1.1"), (name: "host", value: host),
            (name: "x-amz-target", value: "TrentService.Decrypt"),
        ]
        let amzDate = Self.amzDate(Date())
        let signed = SigV4Request(
            method: "POST", path: "/", headers: headers, payload: body, amzDate: amzDate, region: settings.region, service: "kms",
            accessKeyID: signing.accessKeyID, secretAccessKey: signing.secretAccessKey, sessionToken: signing.sessionToken)
        guard let authorization = try? signed.authorization() else { throw .refused("the request could not be signed") }

        var request = HTTPClientRequest(url: settings.endpoint.absoluteString.hasSuffix("/") ? settings.endpoint.absoluteString : settings.endpoint.absoluteString + "/")
        request.method = .POST
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        request.headers.add(name: "x-amz-date", value: amzDate)
        if !signing.sessionToken.isEmpty { request.headers.add(name: "x-amz-security-token", value: signing.sessionToken) }
        request.headers.add(name: "authorization", value: authorization)
        request.body = .bytes(ByteBuffer(bytes: body))

        let answer: BoundedCall.Answer
        do {
            answer = try await BoundedCall.send(request, with: httpClient, timeout: timeout, maxBodyBytes: Self.maxAnswerBytes)
        } catch {
            switch error {
            case .timedOut: throw .retryable("KMS timed out")
            case .unreachable: throw .retryable("KMS unreachable")
            case .tooLarge: throw .refused("the KMS answer is too large")
            }
        }
        return try open(answer, secret: secret)
    }

    func requestBody(_ secret: KMSSecret) -> [UInt8] {
        var json = JSONWriter(capacity: 8192)
        json.beginObject()
        json.key("CiphertextBlob")
        json.string(Data(secret.ciphertext).base64EncodedString())
        json.key("KeyId")
        json.string(settings.keyARN)
        json.key("EncryptionContext")
        json.beginObject()
        json.key("enclave-runtime")
        json.string(secret.purpose)
        json.endObject()
        json.key("Recipient")
        json.beginObject()
        json.key("KeyEncryptionAlgorithm")
        json.string("RSAES_OAEP_SHA_256")
        json.key("AttestationDocument")
        json.string(Data(attestationDocument).base64EncodedString())
        json.endObject()
        json.endObject()
        return json.bytes
    }

    /// Step 4's refusals, then the secret's own shape: a data key of exactly 32 bytes, a client
    /// secret of UTF-8 text.
    func open(_ answer: BoundedCall.Answer, secret: KMSSecret) throws(KMSFailure) -> [UInt8] {
        let value = JSONValue(parsing: Array(answer.body.readableBytesView))
        guard answer.status == 200 else {
            let type = value?["__type"]?.string.map(Self.errorName) ?? "HTTP \(answer.status)"
            if answer.status >= 500 || Self.retryableTypes.contains(type) { throw .retryable(type) }
            throw .refused(type)
        }
        guard let value, case .object(let fields) = value else { throw .refused("the KMS answer is not a JSON object") }
        if let plaintext = fields["Plaintext"], !plaintext.isNull {
            throw .refused("the KMS answer carries Plaintext (it must come only for the attested key)")
        }
        guard fields["KeyId"]?.string == settings.keyARN else { throw .refused("the KMS answer's KeyId is not KMS_KEY_ID") }
        guard let text = fields["CiphertextForRecipient"]?.string, let cms = Data(base64Encoded: text) else {
            throw .refused("the KMS answer has no CiphertextForRecipient")
        }
        let plaintext: [UInt8]
        do {
            plaintext = try recipient.open([UInt8](cms), capacity: 4096)
        } catch {
            throw .refused("CiphertextForRecipient refused: \(error)")
        }
        switch secret.slot {
        case .dataKey, .previousDataKey:
            guard plaintext.count == 32 else { throw .refused("the released data key is not 32 bytes") }
        case .clientSecret:
            guard !plaintext.isEmpty, String(validating: plaintext, as: UTF8.self) != nil else {
                throw .refused("the released client secret is not UTF-8 text")
            }
        }
        return plaintext
    }

    /// `[namespace#]Name` -> Name, only the characters a type name has.
    static func errorName(_ type: String) -> String {
        let name = type.split(separator: "#").last.map(String.init) ?? type
        let kept = name.filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_") }
        return kept.isEmpty ? "an unnamed error" : String(kept.prefix(100))
    }

    /// SigV4's `YYYYMMDDTHHMMSSZ`.
    static func amzDate(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ n: Int?) -> String { n.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
        return "\(c.year!)\(two(c.month))\(two(c.day))T\(two(c.hour))\(two(c.minute))\(two(c.second))Z"
    }
}
