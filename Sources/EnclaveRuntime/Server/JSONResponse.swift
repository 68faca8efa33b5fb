import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// JSON responses. Encoders are cheap to create but not thread-safe to share while configured;
/// one per call keeps handlers independent.
enum JSONResponse {
    static func make(_ status: HTTPResponse.Status, _ value: some Encodable, headers: HTTPFields = [:]) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let data = (try? encoder.encode(value)) ?? Data(#"{"code":"rpc_internal_error","message":"encoding failed"}"#.utf8)
        return raw(status, ByteBuffer(bytes: data), headers: headers)
    }

    static func raw(_ status: HTTPResponse.Status, _ body: ByteBuffer, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        fields[.contentLength] = String(body.readableBytes)
        return Response(status: status, headers: fields, body: .init(byteBuffer: body))
    }

    /// The error envelope of an `/v1/rpc/` answer (CONTRACT.md section 6).
    static func envelope(_ error: RPCError, requestID: String?, context: EnclaveRequestContext, headers: HTTPFields = [:]) -> Response {
        context.log.errorCode = error.code.rawValue
        if let requestID { context.log.requestID = requestID }
        return make(error.code.status, ErrorEnvelope(requestID: requestID, error: error), headers: headers)
    }

    /// The flat `{"code","message"}` error of the attestation endpoints.
    static func plainError(_ status: HTTPResponse.Status, code: String, message: String, context: EnclaveRequestContext) -> Response {
        context.log.errorCode = code
        return make(status, PlainError(code: code, message: message))
    }
}
