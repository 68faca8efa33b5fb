import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOSSL

/// Outbound HTTP whose every call, body included, ends by its deadline. AsyncHTTPClient's own
/// deadline stops at the response head: a server that sends its head and then drips the body one
/// byte at a time held a call for as long as it liked. Used by the runtime's provider calls and
/// by the hosts' calls to the enclave.
public enum BoundedCall {
    /// An answer read whole.
    public struct Answer: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
        public var body: ByteBuffer

        public init(status: Int, headers: HTTPHeaders, body: ByteBuffer) {
            (self.status, self.headers, self.body) = (status, headers, body)
        }
    }

    public enum Failure: Error, Sendable, Equatable {
        /// Nothing answered: refused, reset, or the name did not resolve.
        case unreachable
        /// The deadline passed before the whole answer arrived.
        case timedOut
        /// The body is larger than the call allows.
        case tooLarge
    }

    /// A client for such calls: it follows no redirect (a 3xx is the answer, never a new request
    /// with the same headers and body to another origin) and does not retry a refused connection,
    /// so that fails at once instead of at the deadline. With `proxy`, every connection is a
    /// CONNECT tunnel through it, TLS inside the tunnel (AsyncHTTPClient tunnels http targets too);
    /// `extraRootsPEMFile` adds roots to the system's for TLS.
    public static func makeClient(
        connectTimeout: TimeAmount, proxy: (host: String, port: Int)? = nil, extraRootsPEMFile: String? = nil
    ) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        if let proxy { configuration.proxy = .server(host: proxy.host, port: proxy.port) }
        if let extraRootsPEMFile {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.additionalTrustRoots = [.file(extraRootsPEMFile)]
            configuration.tlsConfiguration = tls
        }
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout = .init(connect: connectTimeout)
        // AsyncHTTPClient opens 8 connections to a host by default, which held uncached exchanges to
        // 8 provider calls at a time: 142 a second at 64 connections with a 50 ms provider
        // (docs/performance/cache.md); Google takes many more.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Sends `request` and reads the whole answer, at most `maxBodyBytes` of body, within `timeout`.
    public static func send(
        _ request: HTTPClientRequest, with client: HTTPClient, timeout: Duration, maxBodyBytes: Int
    ) async throws(Failure) -> Answer {
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        let outcome: Result<Answer, Failure> = await withTaskGroup(of: Result<Answer, Failure>?.self) { group in
            group.addTask {
                do {
                    let response = try await client.execute(request, deadline: deadline)
                    let body = try await response.body.collect(upTo: maxBodyBytes)
                    return .success(Answer(status: Int(response.status.code), headers: response.headers, body: body))
                } catch is NIOTooManyBytesError {
                    return .failure(.tooLarge)
                } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
                    return .failure(.timedOut)
                } catch {
                    return .failure(Task.isCancelled ? .timedOut : .unreachable)
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            // The first to finish decides; cancelling the other ends the request (and its body
            // stream) or the timer.
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failure(.timedOut)
        }
        return try outcome.get()
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
