import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// The hosts' fail-closed startup probe: healthz, the document, a verified challenge, a signed
/// ping. Each request is bounded by ENCLAVE_RUNTIME_PROBE_TIMEOUT_MS; unreachable and bad-status
/// failures are retried with backoff until ENCLAVE_RUNTIME_PROBE_DEADLINE_MS (so hosts started with
/// the enclave wait for it); any other failure, or the deadline, fails closed.
public struct StartupProbe: Sendable {
    let configuration: HostConfiguration
    let verifier: AttestationVerifier
    let client: EnclaveRPCClient
    let http: HTTPClient

    public init(configuration: HostConfiguration, verifier: AttestationVerifier, client: EnclaveRPCClient, httpClient: HTTPClient = .shared) {
        self.configuration = configuration
        self.verifier = verifier
        self.client = client
        http = httpClient
    }

    public func run(logger: Logger) async throws(ProbeFailure) -> VerifiedAttestation {
        let deadline = ContinuousClock.now + .milliseconds(configuration.probeDeadlineMilliseconds)
        var delay = Duration.milliseconds(100)
        var attempt = 0
        while true {
            attempt += 1
            do throws(ProbeFailure) {
                return try await once()
            } catch {
                guard error.isTransient, ContinuousClock.now + delay < deadline else { throw error }
                logger.info("enclave not ready, retrying", metadata: ["step": "\(error.step.rawValue)", "attempt": "\(attempt)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(2))
            }
        }
    }

    private func once() async throws(ProbeFailure) -> VerifiedAttestation {
        let health: HTTPClientResponse
        do {
            health = try await http.execute(
                HTTPClientRequest(url: configuration.baseURL.absoluteString + "/healthz"),
                deadline: .now() + .milliseconds(Int64(configuration.probeTimeoutMilliseconds)))
            _ = try await health.body.collect(upTo: 1 << 16)
        } catch {
            throw ProbeFailure(.unreachable, "no answer from /healthz")
        }
        guard health.status.code == 200 else { throw ProbeFailure(.badStatus, "/healthz answered \(health.status.code)") }
        let verified = try await verifier.verify(purpose: "host-startup")
        do {
            let identity = try await client.ping()
            guard identity.runtime.lowercased() == verified.runtime.lowercased(), identity.measurement == verified.measurement else {
                throw ProbeFailure(.evidenceInvalid, "the ping reports another identity than the verified evidence")
            }
        } catch let error as EnclaveRPCError {
            switch error.code {
            case "invalid_request_signature": throw ProbeFailure(.wrongSharedSecret, "the enclave rejects this host's signature")
            case "unreachable": throw ProbeFailure(.unreachable, "no answer from /v1/rpc/ping")
            default: throw ProbeFailure(.badStatus, "/v1/rpc/ping answered \(error.code)")
            }
        } catch let error as ProbeFailure {
            throw error
        } catch {
            throw ProbeFailure(.badStatus, "/v1/rpc/ping failed")
        }
        return verified
    }
}
