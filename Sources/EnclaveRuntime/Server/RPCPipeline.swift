import EnclaveContract
import EnclaveCrypto
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import EnclaveLogging

/// A signed RPC's answer as status and exact body bytes, before it becomes an HTTP response:
/// docs/contract.md §2a signs both.
struct RPCAnswer: Sendable {
    var status: HTTPResponse.Status
    var body: [UInt8]

    static func ok(_ value: some WireBody) -> RPCAnswer {
        RPCAnswer(status: .ok, body: value.jsonBytes)
    }

    /// The error envelope (section 6); the code goes to the access log line.
    static func refusal(_ error: RPCError, requestID: String?, context: EnclaveRequestContext) -> RPCAnswer {
        context.log.errorCode = error.code.rawValue
        if let requestID { context.log.requestID = requestID }
        return RPCAnswer(status: error.code.httpStatus, body: ErrorEnvelope(requestID: requestID, error: error).jsonBytes)
    }
}

/// The path of every signed RPC, one stage after another: authentication (section 2, steps 1 to
/// 6), the endpoint (step 7 and its work), the audit event of every request that reached step 5,
/// then the answer, signed (section 2a) whenever the request was authentic, refusals at step 6
/// included. Routing and the access log line come before and after it, in `ContractRouter`.
///
/// A token RPC never acts unaudited: while the audit trail cannot be written it is refused
/// before its work (500 `rpc_internal_error`, retryable), and one whose event cannot be written
/// is answered that refusal instead of its result.
struct RPCPipeline: Sendable {
    typealias Endpoint = @Sendable (AuthenticatedRequest, EnclaveRequestContext) async -> RPCAnswer

    let authenticator: RPCAuthenticator
    /// `ContractAnswerSigning`, except on a benchmark's composed routes.
    var answerSigning: any AnswerSigning
    let audit: AuditRecorder
    let metrics: RuntimeMetrics?

    static let responseSignatureHeader = HTTPField.Name(RPCHeader.responseSignature)!
    static let unaudited = RPCError(.rpcInternalError, "the audit trail cannot be written; retry shortly")

    /// `actsOnTokens`: exchange, revoke and register, which the audit trail must record.
    func handler(actsOnTokens: Bool, _ endpoint: @escaping Endpoint) -> ContractRouter.Handler {
        { request, context in await respond(to: request, context: context, actsOnTokens: actsOnTokens, endpoint: endpoint) }
    }

    func respond(to request: Request, context: EnclaveRequestContext, actsOnTokens: Bool, endpoint: Endpoint) async -> Response {
        let started = ContinuousClock.now
        var answer: RPCAnswer
        let verified: VerifiedSignature?
        let audited: Bool
        switch await authenticator.authenticate(request, path: context.path) {
        case .refused(let error):
            metrics?.authenticationRefused(error.code)
            (answer, verified) = (.refusal(error, requestID: nil, context: context), nil)
            audited = error.code == .invalidRequestSignature  // reached step 5
        case .refusedAuthentic(let error, let signature):
            metrics?.authenticationRefused(error.code)
            (answer, verified, audited) = (.refusal(error, requestID: nil, context: context), signature, true)
        case .authenticated(let authenticated):
            if actsOnTokens && audit.isFailing {
                answer = .refusal(Self.unaudited, requestID: nil, context: context)
            } else {
                answer = await endpoint(authenticated, context)
                // Step 7's refusals of the body are section 2's as much as steps 1 to 6.
                if answer.status == .badRequest, let code = context.log.errorCode.flatMap(RPCErrorCode.init(rawValue:)),
                    Self.bodyRefusals.contains(code)
                {
                    metrics?.authenticationRefused(code)
                }
            }
            (verified, audited) = (authenticated.signature, true)
        }
        if audited && !record(answer, context: context, actsOnTokens: actsOnTokens, since: started) && actsOnTokens && answer.status != Self.unauditedStatus {
            answer = .refusal(Self.unaudited, requestID: context.log.requestID, context: context)
        }
        return response(for: answer, verified: verified)
    }

    static let unauditedStatus = RPCErrorCode.rpcInternalError.httpStatus
    static let bodyRefusals: Set<RPCErrorCode> = [.invalidRequestPayload, .invalidContractVersion, .invalidRequestID]

    /// Writes the decision's audit event; false (logged, counted) when it could not be written.
    private func record(
        _ answer: RPCAnswer, context: EnclaveRequestContext, actsOnTokens: Bool, since started: ContinuousClock.Instant
    ) -> Bool {
        let fields = context.log
        return audit.record(
            route: context.path, status: Int(answer.status.code), refusal: fields.errorCode, userID: fields.userID,
            connectorID: fields.connectorID, requestID: fields.requestID, providerCalled: actsOnTokens ? fields.providerCalled : nil,
            since: started)
    }

    private func response(for answer: RPCAnswer, verified: VerifiedSignature?) -> Response {
        // Room for the answer's signature from the start: growing the fields later costs a copy.
        var headers = HTTPFields()
        headers.reserveCapacity(3)
        headers.append(HTTPField(name: .contentType, value: "application/json"))
        headers.append(HTTPField(name: .contentLength, value: String(answer.body.count)))
        if let verified,
            let signature = answerSigning.responseSignature(
                for: AuthenticAnswer(
                    status: Int(answer.status.code), body: answer.body, requestSignature: verified.requestSignature, key: verified.key))
        {
            headers.append(HTTPField(name: Self.responseSignatureHeader, value: signature))
        }
        return Response(status: answer.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}
