@_spi(Benchmarks) import EnclaveRuntime
import HTTPTypes
import Hummingbird
import NIOCore

/// The floors the benchmarks measure the contract's endpoints against: a static answer through the
/// same router and access log (`GET /__bench/hello`), and the same for a POST whose body is read
/// as an RPC's is (`POST /__bench/echo`). They exist only in `enclave-runtime-bench` and the
/// in-process benchmarks, never in the `enclave-runtime` a deployment runs.
public enum FloorRoutes {
    public static let helloPath = "/__bench/hello"
    public static let echoPath = "/__bench/echo"

    @_spi(Benchmarks) public static func routes(maxBodyBytes: Int) -> [ExtraRoute] {
        let hello = ByteBuffer(string: #"{"hello":"world"}"#)
        @Sendable func answer() -> Response {
            Response(
                status: .ok, headers: [.contentType: "application/json", .contentLength: String(hello.readableBytes)],
                body: .init(byteBuffer: hello))
        }
        return [
            ExtraRoute(method: .get, path: helloPath) { _, _ in answer() },
            ExtraRoute(method: .post, path: echoPath) { request, _ in
                _ = try await request.body.collect(upTo: maxBodyBytes)
                return answer()
            },
        ]
    }
}
