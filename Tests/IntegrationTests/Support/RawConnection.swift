import Foundation
import NIOCore
import NIOPosix

/// A plain TCP connection to a server under test, for what an HTTP client hides: a connection that
/// sends nothing, a request stalled halfway, and the moment the server closes.
struct RawConnection: ~Copyable {
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    /// Bytes received and not yet returned by `readResponse`.
    private var pending: [UInt8] = []

    /// Runs `body` on a new connection to 127.0.0.1:`port` and closes it after. The connection is
    /// closed from this side after `limit` at the latest, so a server that never closes fails a
    /// test's timing expectations instead of hanging it.
    static func with<T: Sendable>(port: Int, limit: TimeAmount = .seconds(8), _ body: (inout RawConnection) async throws -> T) async throws -> T {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        let rawChannel = channel.channel
        let limiter = rawChannel.eventLoop.scheduleTask(in: limit) { rawChannel.close(promise: nil) }
        defer { limiter.cancel() }
        return try await channel.executeThenClose { inbound, outbound in
            var connection = RawConnection(inbound: inbound.makeAsyncIterator(), outbound: outbound)
            return try await body(&connection)
        }
    }

    private init(inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.inbound = inbound
        self.outbound = outbound
    }

    mutating func send(_ bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// The next chunk, or nil once the server closed (or reset) the connection.
    private mutating func receive() async -> [UInt8]? {
        guard let chunk = try? await inbound.next() else { return nil }
        return Array(chunk.readableBytesView)
    }

    /// Reads until the server closes the connection; returns what arrived meanwhile.
    mutating func readUntilClosed() async -> [UInt8] {
        var received = pending
        pending = []
        while let chunk = await receive() { received += chunk }
        return received
    }

    /// One whole response (a head, then `content-length` bytes of body) as text; nil when the
    /// server closed before it was complete.
    mutating func readResponse() async -> String? {
        let separator = Array("\r\n\r\n".utf8)
        while true {
            if let end = pending.firstRange(of: separator)?.upperBound {
                let head = String(decoding: pending[..<end], as: UTF8.self).lowercased()
                let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                if pending.count >= end + length {
                    let response = String(decoding: pending[..<(end + length)], as: UTF8.self)
                    pending.removeFirst(end + length)
                    return response
                }
            }
            guard let chunk = await receive() else { return nil }
            pending += chunk
        }
    }
}
