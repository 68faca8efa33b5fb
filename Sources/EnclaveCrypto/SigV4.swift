import CEnclaveCore

/// A request signed with AWS Signature Version 4 in its Authorization header (the KMS calls of
/// docs/contract.md §3b), signed by the C core. `headers` are (name, value) in their order,
/// without x-amz-date (from `amzDate`, `YYYYMMDDTHHMMSSZ`): the core adds it, and
/// x-amz-security-token when `sessionToken` is not empty.
public struct SigV4Request: Sendable {
    public var method: String
    public var path: String
    public var query: String
    public var headers: [(name: String, value: String)]
    public var payload: [UInt8]
    public var amzDate: String
    public var region: String
    public var service: String
    public var accessKeyID: String
    public var secretAccessKey: [UInt8]
    public var sessionToken: String
    public var normalizePath: Bool

    public init(
        method: String, path: String, query: String = "", headers: [(name: String, value: String)], payload: [UInt8],
        amzDate: String, region: String, service: String, accessKeyID: String, secretAccessKey: [UInt8], sessionToken: String = "",
        normalizePath: Bool = true
    ) {
        (self.method, self.path, self.query, self.headers, self.payload) = (method, path, query, headers, payload)
        (self.amzDate, self.region, self.service) = (amzDate, region, service)
        (self.accessKeyID, self.secretAccessKey, self.sessionToken, self.normalizePath) =
            (accessKeyID, secretAccessKey, sessionToken, normalizePath)
    }

    /// "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…"
    public func authorization() throws -> String { try text(ec_sigv4_authorization) }

    public func canonicalRequest() throws -> String { try text(ec_sigv4_canonical_request) }

    private typealias TextFunction = (UnsafePointer<ec_sigv4_request>?, UnsafeMutablePointer<CChar>?, Int, UnsafeMutablePointer<Int>?) -> Int32

    /// Every field copied into one buffer, so one pointer stays valid for the whole call.
    private func text(_ function: TextFunction) throws -> String {
        var arena: [UInt8] = []
        var spans: [(offset: Int, count: Int)] = []
        func add(_ bytes: some Collection<UInt8>) {
            spans.append((arena.count, bytes.count))
            arena.append(contentsOf: bytes)
        }
        for field in [method, path, query, region, service, accessKeyID, sessionToken] { add(field.utf8) }
        add(secretAccessKey)
        add(payload)
        add(amzDate.utf8 + [0])
        for header in headers {
            add(header.name.utf8)
            add(header.value.utf8)
        }
        defer { arena.withUnsafeMutableBytes { ec_wipe($0.baseAddress, $0.count) } }
        return try arena.withUnsafeBufferPointer { buffer throws -> String in
            let base = buffer.baseAddress!
            func chars(_ i: Int) -> UnsafePointer<CChar> {
                UnsafeRawPointer(base + spans[i].offset).assumingMemoryBound(to: CChar.self)
            }
            let cHeaders = (0..<headers.count).map { i in
                ec_sigv4_header(name: chars(10 + 2 * i), name_len: spans[10 + 2 * i].count, value: chars(11 + 2 * i), value_len: spans[11 + 2 * i].count)
            }
            return try cHeaders.withUnsafeBufferPointer { h in
                var request = ec_sigv4_request(
                    method: chars(0), method_len: spans[0].count, path: chars(1), path_len: spans[1].count, query: chars(2),
                    query_len: spans[2].count, headers: h.baseAddress, header_count: h.count, payload: base + spans[8].offset,
                    payload_len: spans[8].count, amz_date: chars(9), region: chars(3), region_len: spans[3].count, service: chars(4),
                    service_len: spans[4].count, access_key_id: chars(5), access_key_id_len: spans[5].count,
                    secret_access_key: base + spans[7].offset, secret_access_key_len: spans[7].count, session_token: chars(6),
                    session_token_len: spans[6].count, normalize_path: normalizePath ? 1 : 0, sign_payload_header: 0)
                var length = 0
                _ = function(&request, nil, 0, &length)
                guard length > 0 else { throw EnclaveCryptoError.invalidArgument }
                var out = [CChar](repeating: 0, count: length + 1)
                guard function(&request, &out, out.count, &length) == 0 else { throw EnclaveCryptoError.invalidArgument }
                return String(decoding: out[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
        }
    }
}
