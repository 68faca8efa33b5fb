import EnclaveContract
import EnclaveCrypto
import HTTPTypes
import Hummingbird
import NIOCore

/// What steps 1 to 6 of docs/contract.md §2 decided about a signed request.
enum AuthenticationOutcome: Sendable {
    /// Refused at steps 1 to 5: there is no authentic request to bind the answer to.
    case refused(RPCError)
    /// Refused at step 6 or later: the request was authentic, so the answer is signed (section 2a).
    case refusedAuthentic(RPCError, VerifiedSignature)
    case authenticated(AuthenticatedRequest)
}

/// The request signature that verified, and the secret it verified under: the answer is signed
/// with the same secret over the same signature (section 2a).
struct VerifiedSignature: Sendable {
    var key: RPCSignatureCheck
    var requestSignature: String
}

/// A request whose headers, size, timestamp, signature and nonce were accepted.
struct AuthenticatedRequest: Sendable {
    var body: ByteBuffer
    var timestamp: Int64
    var signature: VerifiedSignature
}

/// Authenticates signed RPC requests in the order of docs/contract.md §2; the first failing step
/// decides the answer, and nothing is recorded before step 6. Step 7 (the body's shape) belongs to
/// the endpoints. Routing (404/405) has already happened when this runs.
struct RPCAuthenticator: Sendable {
    let verifier: RPCVerifier
    let replayGuard: any ReplayGuard
    let maxSkewSeconds: Int64
    let maxBodyBytes: Int
    let now: @Sendable () -> Int64

    static let versionHeader = HTTPField.Name(RPCHeader.version)!
    static let timestampHeader = HTTPField.Name(RPCHeader.timestamp)!
    static let nonceHeader = HTTPField.Name(RPCHeader.nonce)!
    static let signatureHeader = HTTPField.Name(RPCHeader.signature)!

    func authenticate(_ request: Request, path: String) async -> AuthenticationOutcome {
        let headers = request.headers
        // One pass over the fields collects the four signed headers (each at most once) and the
        // declared length.
        var version = HeaderSlot(), timestampSlot = HeaderSlot(), nonceSlot = HeaderSlot(), signatureSlot = HeaderSlot()
        var contentLength = HeaderSlot()
        for field in headers {
            switch field.name {
            case Self.versionHeader: version.add(field.value)
            case Self.timestampHeader: timestampSlot.add(field.value)
            case Self.nonceHeader: nonceSlot.add(field.value)
            case Self.signatureHeader: signatureSlot.add(field.value)
            case .contentLength: contentLength.add(field.value)
            default: continue
            }
        }
        // 1. Version.
        switch version.value(Self.versionHeader) {
        case .failure(let error): return .refused(error)
        case .success(let value):
            guard value == contractVersion else { return .refused(.init(.invalidContractVersion, "x-alfred-rpc-version must be v1")) }
        }
        // 2. The other headers, in the table's order.
        let timestampText: String, nonce: String, signature: String
        switch timestampSlot.value(Self.timestampHeader) {
        case .failure(let error): return .refused(error)
        case .success(let value): timestampText = value
        }
        guard let timestamp = RPCHeaderSyntax.timestamp(timestampText) else {
            return .refused(.init(.invalidRequestHeader, "x-alfred-rpc-ts must be 1 to 19 ASCII digits"))
        }
        switch nonceSlot.value(Self.nonceHeader) {
        case .failure(let error): return .refused(error)
        case .success(let value): nonce = value
        }
        guard RPCHeaderSyntax.isValidNonce(nonce) else {
            return .refused(.init(.invalidRequestHeader, "x-alfred-rpc-nonce must be 1 to 128 bytes of visible ASCII"))
        }
        switch signatureSlot.value(Self.signatureHeader) {
        case .failure(let error): return .refused(error)
        case .success(let value): signature = value
        }
        guard RPCHeaderSyntax.isValidSignature(signature) else {
            return .refused(.init(.invalidRequestHeader, "x-alfred-rpc-signature must be 64 hex digits"))
        }
        // 3. Size: the declared length first, then what actually arrives.
        // A repeated length is left to the read below (NIO's parser refuses conflicting ones).
        if case .single(let text) = contentLength, let declared = Int(text), declared > maxBodyBytes {
            return .refused(.init(.payloadTooLarge, "the request body exceeds \(maxBodyBytes) bytes"))
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBodyBytes)
        } catch {
            return .refused(.init(.payloadTooLarge, "the request body exceeds \(maxBodyBytes) bytes"))
        }
        // 4. Freshness.
        let now = now()
        guard Self.isFresh(timestamp, now: now, maxSkew: maxSkewSeconds) else {
            return .refused(Self.stale)
        }
        // 5. Signature (constant-time, current or previous secret).
        let check = verifier.check(
            method: request.method.rawValue, path: path, timestamp: timestampText, nonce: nonce,
            body: body.readableBytesSpan, signatureHex: signature)
        guard check != .invalid else {
            return .refused(.init(.invalidRequestSignature, "x-alfred-rpc-signature does not match"))
        }
        let verified = VerifiedSignature(key: check, requestSignature: signature)
        // 6. Replay.
        switch await replayGuard.record(nonce: nonce, timestamp: timestamp, now: now) {
        case .recorded: return .authenticated(AuthenticatedRequest(body: body, timestamp: timestamp, signature: verified))
        case .replay: return .refusedAuthentic(.init(.requestReplayDetected, "x-alfred-rpc-nonce was already used"), verified)
        case .stale: return .refusedAuthentic(Self.stale, verified)
        case .full: return .refusedAuthentic(.init(.replayCacheFull, "the replay cache is full; retry shortly"), verified)
        case .unavailable:
            return .refusedAuthentic(.init(.storeUnavailable, "the replay guard's store cannot be reached; retry shortly"), verified)
        }
    }

    static let stale = RPCError(.invalidRequestTimestamp, "x-alfred-rpc-ts is outside the allowed clock skew")

    static func isFresh(_ timestamp: Int64, now: Int64, maxSkew: Int64) -> Bool {
        let (difference, overflow) = now.subtractingReportingOverflow(timestamp)
        return !overflow && difference.magnitude <= UInt64(maxSkew)
    }
}

/// A signed header as found in the request: absent, sent once, or sent more than once.
enum HeaderSlot {
    case missing
    case single(String)
    case repeated

    init() { self = .missing }

    mutating func add(_ value: String) {
        if case .missing = self { self = .single(value) } else { self = .repeated }
    }

    func value(_ name: HTTPField.Name) -> Result<String, RPCError> {
        switch self {
        case .missing: .failure(.init(.missingRequestHeader, "\(name.canonicalName) is missing"))
        case .repeated: .failure(.init(.invalidRequestHeader, "\(name.canonicalName) is sent more than once"))
        case .single(let value): .success(value)
        }
    }
}
