import EnclaveContract
import Foundation

/// What every answer of the request path must satisfy, whatever the input.
public enum ResponseOracle {
    /// Codes decided at or before step 7 of the verification order (the body's shape) or by routing.
    static let decidedByStep7: Set<RPCErrorCode> = [
        .missingRequestHeader, .invalidRequestHeader, .invalidRequestTimestamp, .invalidRequestSignature,
        .requestReplayDetected, .invalidContractVersion, .invalidRequestPayload, .invalidRequestID, .payloadTooLarge,
        .replayCacheFull, .storeUnavailable, .notFound, .methodNotAllowed,
    ]

    /// The ids each signed RPC's body carries, by path (none for ping); a test holds the keys to
    /// the contract's route table, so a new RPC needs its entry here.
    public static let idFields: [String: [[String]]] = [
        ContractRoute.exchange.path: [["connector", "user_id"], ["connector", "connector_id"]],
        ContractRoute.revoke.path: [["connector", "user_id"], ["connector", "connector_id"]],
        ContractRoute.register.path: [["user_id"]],
        ContractRoute.ping.path: [],
    ]

    static func violation(path: String, method: String, status: Int, body: [UInt8], request: [UInt8], secret: String) -> String? {
        if let answer = answerViolation(path: path, method: method, status: status, body: body, secret: secret) { return answer }
        // A connector RPC that got past step 7 had a body whose ids are UUIDs.
        guard let fields = idFields[path], let answer = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        else { return nil }
        if let code = ((answer["error"] as? [String: Any])?["code"] as? String).flatMap(RPCErrorCode.init(rawValue:)),
            decidedByStep7.contains(code)
        { return nil }
        let object = try? JSONSerialization.jsonObject(with: Data(request))
        for field in fields {
            let value = field.reduce(object) { ($0 as? [String: Any])?[$1] }
            guard let text = value as? String, RequestPathFuzzing.isCanonicalUUID(text) else {
                return "\(path) accepted \(field.joined(separator: ".")) that is no UUID (status \(status))"
            }
        }
        return nil
    }

    /// What any answer must satisfy, whatever the request: status, size, no secret, a JSON object,
    /// and on RPC paths the contract's shape.
    private static func answerViolation(path: String, method: String, status: Int, body: [UInt8], secret: String) -> String? {
        if status >= 500 && status != 503 { return "status \(status) on \(method) \(path)" }
        if body.count > 4096 { return "answer of \(body.count) bytes" }
        if String(decoding: body, as: UTF8.self).contains(secret) { return "the shared secret appears in an answer" }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            return "the answer is not a JSON object (status \(status) on \(method) \(path))"
        }
        guard path.hasPrefix("/v1/rpc/") else { return nil }
        if status == 200 {
            return object["contract_version"] as? String == "v1" && object["attested_identity"] != nil
                ? nil : "a 200 without contract_version or attested_identity"
        }
        guard let error = object["error"] as? [String: Any], let code = error["code"] as? String else {
            return "an RPC error without the envelope (status \(status))"
        }
        guard RPCErrorCode(rawValue: code)?.status == status else { return "code \(code) with status \(status)" }
        guard object.keys.contains("request_id"), error["retryable"] is Bool, (error["message"] as? String)?.isEmpty == false else {
            return "an incomplete envelope for \(code)"
        }
        return nil
    }
}
