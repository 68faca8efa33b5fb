/// The contract's version and the signed-RPC header names (docs/contract.md §2 and §2a). Names
/// are lowercase, as HTTP/2 and NIO's HTTPTypes write them; on the wire they are case-insensitive.
public enum RPCHeader {
    public static let version = "x-alfred-rpc-version"
    public static let timestamp = "x-alfred-rpc-ts"
    public static let nonce = "x-alfred-rpc-nonce"
    public static let signature = "x-alfred-rpc-signature"
    /// Beyond v1 (section 2a): the enclave's HMAC over the request signature, status and body.
    public static let responseSignature = "x-alfred-rpc-response-signature"

    /// The four request headers in the order the verification examines them.
    public static let signedRequest = [version, timestamp, nonce, signature]
}

/// `x-alfred-rpc-version` and every body's `contract_version`.
public let contractVersion = "v1"
