import EnclaveConfiguration
import EnclaveCrypto
import EnclaveMetrics
import EnclaveRuntime
import HTTPTypes
import Hummingbird
import NIOCore

/// The floors the benchmarks measure the contract's endpoints against, composed onto the runtime
/// through `RuntimeComposition` (never in the `enclave-runtime` a deployment runs):
/// - `GET /__bench/hello`: a static answer through the same router and access log;
/// - `POST /__bench/echo`: the same for a POST whose body is read as an RPC's is;
/// - `POST /__bench/ping-unsigned` and `/__bench/ping-hmac-floor`: the signed ping again, its
///   answers not signed, or not signed but with one keyed HMAC of the answer made instead (the
///   floor of what signing costs). As long as the ping's own path, so the request's signature and
///   its route cost the same, on the same runtime, so all of them meet the same state.
public enum FloorRoutes {
    public static let helloPath = "/__bench/hello"
    public static let echoPath = "/__bench/echo"
    public static let unsignedPingPath = "/__bench/ping-unsigned"
    public static let floorPingPath = "/__bench/ping-hmac-floor"

    public static func composition(_ configuration: RuntimeConfiguration, metrics: MetricsRegistry? = nil) -> RuntimeComposition {
        let hello = ByteBuffer(string: #"{"hello":"world"}"#)
        @Sendable func answer() -> Response {
            Response(
                status: .ok, headers: [.contentType: "application/json", .contentLength: String(hello.readableBytes)],
                body: .init(byteBuffer: hello))
        }
        let maxBodyBytes = configuration.maxBodyBytes
        return RuntimeComposition(
            routes: [
                ExtraRoute(method: .get, path: helloPath, serves: .handler { _, _ in answer() }),
                ExtraRoute(
                    method: .post, path: echoPath,
                    serves: .handler { request, _ in
                        _ = try await request.body.collect(upTo: maxBodyBytes)
                        return answer()
                    }),
                ExtraRoute(method: .post, path: unsignedPingPath, serves: .ping(signing: Unsigned())),
                ExtraRoute(method: .post, path: floorPingPath, serves: .ping(signing: HMACFloor(key: configuration.shared.sharedSecret))),
            ],
            metrics: metrics)
    }

    struct Unsigned: AnswerSigning {
        func responseSignature(for answer: AuthenticAnswer) -> String? { nil }
    }

    /// One keyed HMAC of the answer's body through the C core, where signing happens; no header.
    struct HMACFloor: AnswerSigning {
        let key: [UInt8]
        func responseSignature(for answer: AuthenticAnswer) -> String? {
            _ = try? HMACSHA256.mac(key: key, message: answer.body)
            return nil
        }
    }
}
