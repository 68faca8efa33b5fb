import AsyncHTTPClient
import EnclaveContract
import EnclaveHTTP
import Foundation
import Logging
import NIOCore

/// The hosts' fail-closed startup probe: healthz, then an `EnclaveCheck` (verified challenge and
/// an authenticated ping). Each request is bounded by ENCLAVE_RUNTIME_PROBE_TIMEOUT_MS;
/// unreachable and bad-status failures are retried with backoff until
/// ENCLAVE_RUNTIME_PROBE_DEADLINE_MS, with a last attempt at the deadline itself (so hosts
/// started with the enclave wait for it); any other failure, or the deadline, fails closed.
public struct StartupProbe: Sendable {
    let configuration: EnclaveClientConfiguration
    let check: EnclaveCheck
    let transport: EnclaveTransport
    let clock: ContinuousClock

    public init(configuration: EnclaveClientConfiguration, check: EnclaveCheck, httpClient: HTTPClient) {
        self.init(configuration: configuration, check: check, transport: .plain(httpClient))
    }

    public init(configuration: EnclaveClientConfiguration, check: EnclaveCheck, transport: EnclaveTransport) {
        self.configuration = configuration
        self.check = check
        self.transport = transport
        clock = ContinuousClock()
    }

    public func run(logger: Logger) async throws(EnclaveCheckFailure) -> VerifiedAttestation {
        let deadline = clock.now + .milliseconds(configuration.probeDeadlineMilliseconds)
        var delay = Duration.milliseconds(100)
        var attempt = 0
        while true {
            attempt += 1
            do throws(EnclaveCheckFailure) {
                return try await once()
            } catch {
                let now = clock.now
                guard error.isTransient, now < deadline else { throw error }
                logger.info("enclave not ready, retrying", metadata: ["step": "\(error.step.rawValue)", "attempt": "\(attempt)"])
                // The wait never overshoots the deadline: the last attempt is made at it.
                try? await Task.sleep(for: min(delay, deadline - now))
                delay = min(delay * 2, .seconds(2))
            }
        }
    }

    private func once() async throws(EnclaveCheckFailure) -> VerifiedAttestation {
        let status: Int
        do {
            let base = configuration.baseURL.absoluteString.hasSuffix("/")
                ? String(configuration.baseURL.absoluteString.dropLast()) : configuration.baseURL.absoluteString
            status = try await transport.send(
                .GET, base + ContractRoute.healthz.path, timeout: .milliseconds(configuration.probeTimeoutMilliseconds), maxBodyBytes: 1 << 16
            ).answer.status
        } catch {
            // Fails closed at once: a channel that does not prove the enclave is not retried.
            if case .notAttested(let detail) = error { throw EnclaveCheckFailure(.channelNotAttested, detail) }
            throw EnclaveCheckFailure(.unreachable, "no answer from /healthz")
        }
        guard status == 200 else { throw EnclaveCheckFailure(.badStatus, "/healthz answered \(status)") }
        return try await check.run(purpose: "host-startup")
    }
}
