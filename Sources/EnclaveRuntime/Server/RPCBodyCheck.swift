import EnclaveContract
import EnclaveJSON
import NIOCore

/// Step 7 of docs/contract.md §2 for every signed RPC: the body's shape, its contract version and
/// its request id, then the endpoint's work and its JSON answer (or refusal).
enum RPCBodyCheck {
    /// Step 7 of the verification order, then the endpoint's work, then the JSON answer.
    static func respond<Body: RPCRequestBody, Answer: WireBody>(
        _ request: AuthenticatedRequest, _ context: EnclaveRequestContext, decoding type: Body.Type,
        _ work: (Body) async throws(RPCError) -> Answer
    ) async -> RPCAnswer {
        let rpc: Body
        switch Self.decode(type, from: request.body) {
        case .success(let decoded): rpc = decoded
        case .failure(let failure): return .refusal(failure.error, requestID: failure.requestID, context: context)
        }
        context.log.requestID = rpc.requestID
        (context.log.userID, context.log.connectorID) = (rpc.auditedUserID, rpc.auditedConnectorID)
        do throws(RPCError) {
            return .ok(try await work(rpc))
        } catch {
            return .refusal(error, requestID: rpc.requestID, context: context)
        }
    }

    /// invalid_request_payload, then invalid_contract_version, then invalid_request_id.
    static func decode<Body: RPCRequestBody>(_ type: Body.Type, from body: ByteBuffer) -> Result<Body, DecodeFailure> {
        let json = JSONValue(parsing: Array(body.readableBytesView))
        guard let rpc = json.flatMap(type.init(json:)), rpc.hasValidShape else {
            // Echo request_id when the body is a JSON object whose request_id is a string we accept.
            return .failure(DecodeFailure(
                error: .init(.invalidRequestPayload, "the body is not this endpoint's JSON shape"),
                requestID: json?["request_id"]?.string.flatMap(echoable)))
        }
        guard rpc.contractVersion == contractVersion else {
            return .failure(.init(error: .init(.invalidContractVersion, "contract_version must be v1"), requestID: echoable(rpc.requestID)))
        }
        guard !rpc.requestID.isEmpty else {
            return .failure(.init(error: .init(.invalidRequestID, "request_id must not be empty"), requestID: nil))
        }
        guard rpc.requestID.utf8.count <= maxRequestIDBytes else {
            return .failure(.init(error: .init(.invalidRequestID, "request_id must be at most \(maxRequestIDBytes) bytes"), requestID: nil))
        }
        return .success(rpc)
    }

    /// A request id that may be echoed and logged: non-empty and within the limit.
    static func echoable(_ id: String) -> String? { id.isEmpty || id.utf8.count > maxRequestIDBytes ? nil : id }

    struct DecodeFailure: Error {
        var error: RPCError
        var requestID: String?
    }
}

/// What step 7 checks on every RPC body, and the ids its audit event names.
protocol RPCRequestBody: RPCMessage {
    var contractVersion: String { get }
    /// Field rules beyond JSON types (UUIDs, non-empty values).
    var hasValidShape: Bool { get }
    var auditedUserID: String? { get }
    var auditedConnectorID: String? { get }
}

extension PingRPCRequest: RPCRequestBody {
    var hasValidShape: Bool { true }
    var auditedUserID: String? { nil }
    var auditedConnectorID: String? { nil }
}

extension ConnectorRPCRequest: RPCRequestBody {
    var hasValidShape: Bool { UUIDSyntax.isValid(connector.userID) && UUIDSyntax.isValid(connector.connectorID) }
    var auditedUserID: String? { connector.userID.lowercased() }
    var auditedConnectorID: String? { connector.connectorID.lowercased() }
}

extension RegisterRPCRequest: RPCRequestBody {
    var auditedUserID: String? { userID.lowercased() }
    var auditedConnectorID: String? { nil }
    var hasValidShape: Bool {
        UUIDSyntax.isValid(userID) && !authorizationCode.isEmpty && !redirectURI.isEmpty && codeVerifier.map { !$0.isEmpty } ?? true
    }
}
