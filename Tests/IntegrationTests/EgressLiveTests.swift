import Foundation
import Testing
import TestSupport

/// ENCLAVE_EGRESS_PROXY (issue 33 §2): every outbound call of the runtime through a real CONNECT
/// proxy (Debian's tinyproxy), TLS end to end and verified inside the runtime, with a relay in front
/// of the proxy recording what the parent instance would see.
@Suite("Egress through a CONNECT proxy, live", .serialized)
struct EgressLiveTests {
    @Test("KMS and the provider through tinyproxy over verified TLS: every call works, and the parent's bytes hold no secret")
    func throughTheProxy() async throws {
        let tls = try TestTLS.make()
        let simulator = try NitroSimulator()
        let kms = try KMSStandIn(simulator: simulator, tls: tls)
        let provider = try ProviderProcess(tls: tls)
        let proxy = try await TinyProxy()
        let relay = try RecordingRelay(targetPort: proxy.port)
        let dataKey = try kms.newDataKey()
        let clientSecret = try kms.encrypt(ProviderProcess.clientSecret, context: "oauth-client-secret")
        let runtime = try await RuntimeProcess(environment: simulator.runtimeEnvironment(provider.environment().merging(
            kms.runtimeEnvironment(dataKey: dataKey, [
                "GOOGLE_OAUTH_CLIENT_SECRET": "kms:" + clientSecret, "ENCLAVE_EGRESS_PROXY": "http://127.0.0.1:\(relay.port)",
                "ENCLAVE_EGRESS_CA_FILE": tls.caPEM, "ENCLAVE_ACCESS_TOKEN_CACHE_ENTRIES": "0",
            ])) { $1 }))

        let code = try await provider.issueCode(user: userA, redirectURI: LiveRuntimeTests.redirect)
        let registered = try await SignedRequest(path: LiveRuntimeTests.register, [
            "contract_version": "v1", "request_id": "reg-egress", "user_id": userA, "authorization_code": code,
            "redirect_uri": LiveRuntimeTests.redirect,
        ]).send(to: runtime)
        #expect(registered.status == 200, "\(registered.json)")
        let connector = try #require((registered.json["connector"] as? [String: Any])?["connector_id"] as? String)
        for _ in 0..<2 {
            let exchanged = try await FleetLiveTests.connectorRequest(FleetLiveTests.exchange, connector).send(to: runtime)
            #expect(exchanged.status == 200, "\(exchanged.json)")
        }
        let revoked = try await FleetLiveTests.connectorRequest(FleetLiveTests.revoke, connector).send(to: runtime)
        #expect(revoked.status == 200, "\(revoked.json)")

        let recorded = relay.recorded
        let text = String(decoding: recorded, as: UTF8.self)
        #expect(text.contains("CONNECT 127.0.0.1:\(kms.server.port)") && text.contains("CONNECT 127.0.0.1:\(provider.port)"),
                "both went through the proxy")
        #expect(proxy.log.contains("CONNECT"), "tinyproxy carried the tunnels")
        let providerStats = try await provider.stats(), kmsStats = try await kms.stats()
        var secrets = [code, ProviderProcess.clientSecret, KMSStandIn.secretAccessKey, "Bearer", "refresh_token", "client_secret"]
        secrets += providerStats["refresh_tokens"] as? [String] ?? []
        secrets += providerStats["access_tokens"] as? [String] ?? []
        let released = kmsStats["released"] as? [String] ?? []
        #expect(released.count == 2 && (providerStats["access_tokens"] as? [String])?.count == 3, "register and two exchanges")
        secrets += released
        for secret in secrets {
            #expect(!text.contains(secret), "\(secret.prefix(12))... crossed the parent in the clear")
        }
        for key in released.compactMap({ Data(base64Encoded: $0) }) {
            #expect(recorded.firstRange(of: [UInt8](key)) == nil, "a released secret's raw bytes crossed the parent")
        }
        #expect(recorded.count > 4000, "the relay saw the TLS records (\(recorded.count) bytes)")
    }

    @Test("A proxy that is down: provider_unavailable at once, never a direct connection; at start IMDS and KMS are not asked either (exit 69)")
    func proxyDown() async throws {
        let provider = try ProviderProcess()
        let runtime = try await RuntimeProcess(environment: localEnvironment(provider.environment().merging([
            "ENCLAVE_EGRESS_PROXY": "http://127.0.0.1:\(try freePort())",
        ]) { $1 }))
        let result = try await FleetLiveTests.registerRequest(provider).send(to: runtime)
        #expect(result.status == 502 && errorCode(result.json) == "provider_unavailable", "\(result.json)")
        #expect(try await provider.stats()["token_calls"] as? Int == 0, "the runtime went around the proxy")

        // The release at start too: neither IMDS nor KMS is asked around the proxy; exit 69.
        let simulator = try NitroSimulator()
        let kms = try KMSStandIn(simulator: simulator)
        let environment = simulator.runtimeEnvironment(kms.runtimeEnvironment(dataKey: try kms.newDataKey(), [
            "ENCLAVE_IMDS_URL": kms.base, "ENCLAVE_EGRESS_PROXY": "http://127.0.0.1:\(try freePort())", "ENCLAVE_KMS_TIMEOUT_MS": "1000",
        ])).filter { !$0.key.hasPrefix("AWS_") }
        let (status, log) = try await KMSReleaseLiveTests.failedStart(environment)
        #expect(status == 69 && log.contains("IMDS unreachable"), "\(log)")
        let stats = try await kms.stats()
        #expect(stats["imds_credentials"] as? Int == 0 && stats["decrypts"] as? Int == 0, "\(stats)")
    }

    @Test("A server whose certificate another CA issued is refused, through the proxy or not; so is KMS's (exit 69)")
    func anotherCA() async throws {
        let served = try TestTLS.make(), trusted = try TestTLS.make()
        let provider = try ProviderProcess(tls: served)
        let proxy = try await TinyProxy()
        for extra in [["ENCLAVE_EGRESS_PROXY": "http://127.0.0.1:\(proxy.port)", "ENCLAVE_EGRESS_CA_FILE": trusted.caPEM],
                      ["ENCLAVE_EGRESS_CA_FILE": trusted.caPEM], [:]] {
            let runtime = try await RuntimeProcess(environment: localEnvironment(provider.environment().merging(extra) { $1 }))
            let result = try await FleetLiveTests.registerRequest(provider).send(to: runtime)
            #expect(result.status == 502 && errorCode(result.json) == "provider_unavailable", "\(extra): \(result.json)")
        }
        #expect(try await provider.stats()["token_calls"] as? Int == 0, "no request reached a server the runtime could not verify")

        let simulator = try NitroSimulator()
        let kms = try KMSStandIn(simulator: simulator, tls: served)
        let (status, log) = try await KMSReleaseLiveTests.failedStart(simulator.runtimeEnvironment(kms.runtimeEnvironment(
            dataKey: try kms.newDataKey(), ["ENCLAVE_EGRESS_CA_FILE": trusted.caPEM, "ENCLAVE_KMS_TIMEOUT_MS": "1500"])))
        #expect(status == 69 && log.contains("KMS could not release ENCLAVE_DATA_KEY"), "\(log)")
        #expect(try await kms.stats()["decrypts"] as? Int == 0)
    }
}
