import EnclaveConfiguration
import EnclaveContract
import EnclaveCrypto
import EnclaveRuntime
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded

/// Drives the server's own request path (routing, the authentication middleware, the JSON
/// decoders, the handlers) with one fuzz input, without the network, and checks what came back.
/// Used by the libFuzzer executable `fuzz-request-path` and by the test that replays
/// `Fuzz/FailCases/`.
///
/// Input layout: byte 0 selects the path (bits 0-2), whether to sign correctly (bit 3; the
/// timestamp is then the harness clock), GET instead of POST (bit 4), no version header (bit 5)
/// and a repeated nonce header (bit 6). The rest is split at the first four zero bytes into the
/// version, timestamp, nonce and signature header values (a missing field leaves its header out);
/// whatever follows the fourth zero byte is the body.
public final class RequestPathFuzzing: @unchecked Sendable {
    /// Every route of the contract (a test holds this to the table) and one unknown RPC path.
    public static let paths = [
        ContractRoute.ping.path, ContractRoute.exchange.path, ContractRoute.revoke.path, ContractRoute.register.path,
        ContractRoute.attestationChallenge.path, ContractRoute.healthz.path, ContractRoute.attestationDocument.path,
        "/v1/rpc/unknown",
    ]
    static let secret = "fuzz-shared-secret-0123456789abcdef"
    static let start: Int64 = 1_767_225_600

    private let runtime: EnclaveRuntimeApplication
    private let signer: RPCSigner
    private let channel = EmbeddedChannel()
    private let clock: FuzzClock
    // The fuzzer calls in from one thread, one input at a time.
    private var inputs = 0

    public init() throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-request-path-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let environment = SharedSettings.localOptIn.merging([
            "ENCLAVE_STATE_DIR": state, "ENCLAVE_RPC_SHARED_SECRET": Self.secret, "ENCLAVE_RPC_REPLAY_CAPACITY": "100000",
            "ENCLAVE_AUDIT_LOG": "/dev/null",
        ]) { $1 }
        let configuration = try RuntimeConfiguration.load(EnvironmentSource(environment))
        let clock = FuzzClock(Self.start)
        self.clock = clock
        runtime = try EnclaveRuntimeApplication(
            configuration: configuration, logger: Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() }),
            now: { clock.now })
        signer = try RPCSigner(secret: Self.secret)
    }

    /// Runs one input; returns a description of the violated property, or nil. For libFuzzer's
    /// synchronous callback (blocks the calling thread, which is not a concurrency thread there).
    public func checkBlocking(_ data: [UInt8]) -> String? {
        switch RunOnce({ [self] in await check(data) }).wait() {
        case .success(let violation): return violation
        case .failure(let error): return "the harness failed: \(error)"
        }
    }

    /// Runs one input; returns a description of the violated property, or nil.
    public func check(_ data: [UInt8]) async -> String? {
        inputs += 1
        // Nonces are recorded until ts + skew: move the clock on so the replay cache stays small.
        if inputs % 2000 == 0 { clock.now += 31 }
        let request = makeRequest(data)
        let context = EnclaveRequestContext(source: .init(channel: channel, logger: Self.silent))
        do {
            let response = try await runtime.application.responder.respond(to: request.request, context: context)
            let collector = BodyCollector()
            try await response.body.write(collector)
            let status = Int(response.status.code), body = collector.bytes.bytes
            if let unauthenticated = answerSignatureViolation(
                path: request.path, status: status, body: body, requestSignature: request.signature,
                responseSignatures: response.headers[values: Self.responseSignatureHeader])
            {
                return unauthenticated
            }
            return ResponseOracle.violation(
                path: request.path, method: request.method.rawValue, status: status, body: body, request: request.body,
                secret: Self.secret)
        } catch {
            return "the responder threw \(error)"
        }
    }

    private static let silent = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })
    private static let responseSignatureHeader = HTTPField.Name(RPCHeader.responseSignature)!

    /// docs/contract.md §2a: a response signature, when an answer carries one, verifies for the
    /// request's signature, status and body under the shared secret; every 200 of an RPC carries one.
    func answerSignatureViolation(
        path: String, status: Int, body: [UInt8], requestSignature: String?, responseSignatures: [String]
    ) -> String? {
        if responseSignatures.isEmpty {
            return path.hasPrefix(ContractRoute.rpcPrefix) && status == 200 ? "an RPC 200 without a response signature" : nil
        }
        guard responseSignatures.count == 1, let requestSignature,
            signer.verifiesResponse(requestSignature: requestSignature, status: status, body: body, responseSignature: responseSignatures[0])
        else { return "a response signature that does not verify (status \(status) on \(path))" }
        return nil
    }

    /// An id Foundation parses and writes back the same, up to case: the oracle's judge of a UUID,
    /// independent of the runtime's `UUIDSyntax`. (Foundation's parser alone is no judge: on Linux
    /// it is `sscanf`, which also takes whitespace, signs and `0x` inside the groups.)
    public static func isCanonicalUUID(_ text: String) -> Bool {
        UUID(uuidString: text)?.uuidString.lowercased() == text.lowercased()
    }

    /// The oracle alone, for tests that prove it can fail.
    public static func oracle(path: String, status: Int, body: [UInt8], request: [UInt8] = []) -> String? {
        ResponseOracle.violation(path: path, method: "POST", status: status, body: body, request: request, secret: secret)
    }

    private func makeRequest(_ data: [UInt8]) -> (
        request: Request, path: String, method: HTTPRequest.Method, body: [UInt8], signature: String?
    ) {
        let selector = data.first ?? 0
        let path = Self.paths[Int(selector & 0x07)]
        let sign = selector & 0x08 != 0
        let method: HTTPRequest.Method = selector & 0x10 != 0 ? .get : .post
        var fields: [[UInt8]?] = [nil, nil, nil, nil]
        var rest = data.dropFirst()
        for index in 0..<4 {
            guard let zero = rest.firstIndex(of: 0) else {
                if !rest.isEmpty { fields[index] = Array(rest) }
                rest = []
                break
            }
            fields[index] = Array(rest[rest.startIndex..<zero])
            rest = rest[(zero + 1)...]
        }
        let body = Array(rest)
        func text(_ bytes: [UInt8]?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }
        var version = text(fields[0]), timestamp = text(fields[1]), signature = text(fields[3])
        let nonce = text(fields[2])
        if sign {
            version = version ?? "v1"
            timestamp = String(clock.now)
            signature = signer.signature(path: path, timestamp: timestamp!, nonce: nonce ?? "", body: body)
        }
        var headers = HTTPFields()
        if selector & 0x20 == 0, let version { headers.append(HTTPField(name: .init(RPCHeader.version)!, value: version)) }
        if let timestamp { headers.append(HTTPField(name: .init(RPCHeader.timestamp)!, value: timestamp)) }
        if let nonce {
            headers.append(HTTPField(name: .init(RPCHeader.nonce)!, value: nonce))
            if selector & 0x40 != 0 { headers.append(HTTPField(name: .init(RPCHeader.nonce)!, value: nonce)) }
        }
        if let signature { headers.append(HTTPField(name: .init(RPCHeader.signature)!, value: signature)) }
        headers[.contentType] = "application/json"
        let head = HTTPRequest(method: method, scheme: "http", authority: "127.0.0.1", path: path, headerFields: headers)
        return (Request(head: head, body: .init(buffer: ByteBuffer(bytes: body))), path, method, body, signature)
    }
}

/// The harness clock (Unix seconds); advanced by the harness between inputs.
final class FuzzClock: @unchecked Sendable {
    var now: Int64
    init(_ start: Int64) { now = start }
}

/// Runs async work to completion from synchronous code (libFuzzer's callback).
struct RunOnce<T: Sendable>: @unchecked Sendable {
    let work: @Sendable () async throws -> T
    init(_ work: @escaping @Sendable () async throws -> T) { self.work = work }

    func wait() -> Result<T, any Error> {
        let semaphore = DispatchSemaphore(value: 0)
        let box = ResultBox<T>()
        Task {
            do { box.result = .success(try await work()) } catch { box.result = .failure(error) }
            semaphore.signal()
        }
        semaphore.wait()
        return box.result!
    }
}

final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}

/// Collects a response body in memory.
struct BodyCollector: ResponseBodyWriter {
    final class Storage: @unchecked Sendable { var bytes: [UInt8] = [] }
    let bytes = Storage()
    mutating func write(_ buffer: ByteBuffer) async throws { bytes.bytes += buffer.readableBytesView }
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
