import EnclaveContract
import HTTPTypes
import Hummingbird
import NIOCore

/// JSON responses, written with `JSONWriter` (see there for why not `JSONEncoder`).
enum JSONResponse {
    static func make(_ status: HTTPResponse.Status, _ value: some WireBody, headers: HTTPFields = [:]) -> Response {
        raw(status, ByteBuffer(bytes: value.jsonBytes), headers: headers)
    }

    static func raw(_ status: HTTPResponse.Status, _ body: ByteBuffer, headers: HTTPFields = [:]) -> Response {
        // Built in one go: setting fields one by one scans and regrows the list each time.
        var fields: HTTPFields = [.contentType: "application/json", .contentLength: String(body.readableBytes)]
        fields.append(contentsOf: headers)
        return Response(status: status, headers: fields, body: .init(byteBuffer: body))
    }

    /// The error envelope of an `/v1/rpc/` answer (docs/contract.md §6).
    static func envelope(_ error: RPCError, requestID: String?, context: EnclaveRequestContext, headers: HTTPFields = [:]) -> Response {
        context.log.errorCode = error.code.rawValue
        if let requestID { context.log.requestID = requestID }
        return make(error.code.httpStatus, ErrorEnvelope(requestID: requestID, error: error), headers: headers)
    }

    /// The flat `{"code","message"}` error of the attestation endpoints.
    static func plainError(_ code: PlainErrorCode, message: String, context: EnclaveRequestContext, headers: HTTPFields = [:]) -> Response {
        context.log.errorCode = code.rawValue
        return make(code.httpStatus, PlainError(code, message: message), headers: headers)
    }
}

extension RPCErrorCode {
    var httpStatus: HTTPResponse.Status { HTTPResponse.Status(code: status) }
}

extension PlainErrorCode {
    var httpStatus: HTTPResponse.Status { HTTPResponse.Status(code: status) }
}
