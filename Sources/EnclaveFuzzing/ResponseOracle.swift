import Foundation

/// What every answer of the request path must satisfy, whatever the input.
enum ResponseOracle {
    static let envelopeStatus: [String: Int] = [
        "missing_request_header": 401, "invalid_request_header": 401, "invalid_request_timestamp": 401,
        "invalid_request_signature": 401, "request_replay_detected": 401, "invalid_contract_version": 400,
        "invalid_request_payload": 400, "invalid_request_id": 400, "payload_too_large": 413, "replay_cache_full": 503,
        "not_found": 404, "method_not_allowed": 405, "connector_token_unavailable": 400, "decrypt_not_authorized": 403,
        "connector_token_decrypt_failed": 500, "provider_not_configured": 503, "provider_unavailable": 502,
        "provider_failed": 502, "provider_response_invalid": 502, "rpc_internal_error": 500,
    ]

    /// Codes decided at or before step 7 of the verification order (the body's shape) or by routing.
    static let decidedByStep7: Set<String> = [
        "missing_request_header", "invalid_request_header", "invalid_request_timestamp", "invalid_request_signature",
        "request_replay_detected", "invalid_contract_version", "invalid_request_payload", "invalid_request_id",
        "payload_too_large", "replay_cache_full", "not_found", "method_not_allowed",
    ]

    /// The ids each connector RPC body carries, by path.
    static let idFields: [String: [[String]]] = [
        "/v1/rpc/google/token/exchange": [["connector", "user_id"], ["connector", "connector_id"]],
        "/v1/rpc/google/token/revoke": [["connector", "user_id"], ["connector", "connector_id"]],
        "/v1/rpc/google/connector/register": [["user_id"]],
    ]

    static func violation(path: String, method: String, status: Int, body: [UInt8], request: [UInt8], secret: String) -> String? {
        if let answer = answerViolation(path: path, method: method, status: status, body: body, secret: secret) { return answer }
        // A connector RPC that got past step 7 had a body whose ids are UUIDs.
        guard let fields = idFields[path], let answer = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        else { return nil }
        if let code = (answer["error"] as? [String: Any])?["code"] as? String, decidedByStep7.contains(code) { return nil }
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
        guard envelopeStatus[code] == status else { return "code \(code) with status \(status)" }
        guard object.keys.contains("request_id"), error["retryable"] is Bool, (error["message"] as? String)?.isEmpty == false else {
            return "an incomplete envelope for \(code)"
        }
        return nil
    }
}
