import EnclaveContract
import EnclaveCrypto
import HTTPTypes
import Hummingbird
import NIOCore

/// A signed RPC's answer as status and exact body bytes, before it becomes an HTTP response:
/// CONTRACT.md section 2a signs both.
struct RPCAnswer: Sendable {
    var status: HTTPResponse.Status
    var body: [UInt8]

    static func ok(_ value: some JSONResponseBody) -> RPCAnswer {
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
/// 6), the endpoint (step 7 and its work), then the answer, signed (section 2a) whenever the
/// request was authentic, refusals at step 6 included. Routing and the access log line come
/// before and after it, in `ContractRouter`.
struct RPCPipeline: Sendable {
    typealias Endpoint = @Sendable (AuthenticatedRequest, EnclaveRequestContext) async -> RPCAnswer

    let authenticator: RPCAuthenticator
    /// Off only in the benchmark that measures what signing answers costs.
    var signsAnswers = true

    static let responseSignatureHeader = HTTPField.Name(RPCHeader.responseSignature)!

    func handler(_ endpoint: @escaping Endpoint) -> ContractRouter.Handler {
        { request, context in await respond(to: request, context: context, endpoint: endpoint) }
    }

    func respond(to request: Request, context: EnclaveRequestContext, endpoint: Endpoint) async -> Response {
        let answer: RPCAnswer
        let verified: VerifiedSignature?
        switch await authenticator.authenticate(request, path: context.path) {
        case .refused(let error):
            (answer, verified) = (.refusal(error, requestID: nil, context: context), nil)
        case .refusedAuthentic(let error, let signature):
            (answer, verified) = (.refusal(error, requestID: nil, context: context), signature)
        case .authenticated(let authenticated):
            (answer, verified) = (await endpoint(authenticated, context), authenticated.signature)
        }
        return response(for: answer, verified: verified)
    }

    private func response(for answer: RPCAnswer, verified: VerifiedSignature?) -> Response {
        var headers: HTTPFields = [.contentType: "application/json", .contentLength: String(answer.body.count)]
        if signsAnswers, let verified {
            // Fails only for a malformed signature or status, which authentication has ruled out.
            if let signature = try? authenticator.verifier.responseSignature(
                verifiedBy: verified.key, requestSignature: verified.requestSignature, status: Int(answer.status.code),
                body: answer.body.span.bytes)
            {
                headers.append(HTTPField(name: Self.responseSignatureHeader, value: signature))
            }
        }
        return Response(status: answer.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}
