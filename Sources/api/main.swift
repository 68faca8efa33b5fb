// api: proves the enclave (fail-closed) before it listens, then serves the host API.
import EnclaveClient
import EnclaveCrypto
import EnclaveLogging
import Foundation
import HostServices
import Hummingbird
import Logging

// First: the hosts hold the shared secret (see ProcessProtection).
ProcessProtection.applyOrExit(program: "api")
let configuration = HostStartup.configuration(role: "api")
LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: .info) }
let logger = Logger(label: "api")

let verified = await HostStartup.probe(configuration, role: "api", logger: logger)
do {
    let client = try EnclaveRPCClient(
        baseURL: configuration.baseURL, secret: configuration.shared.sharedSecret, timeoutMilliseconds: 15000)
    let jobs = try JobStore(directory: configuration.stateDirectory)
    let routes = APIRoutes(client: client, jobs: jobs, token: configuration.apiInternalToken, identity: verified)
    let bind = configuration.apiBindAddress
    let app = Application(
        router: routes.build(), configuration: .init(address: .hostname(bind.host, port: bind.port)), logger: logger)
    try await app.runService()
} catch {
    logger.critical("api stopped on an error", metadata: ["error": "\(type(of: error))"])
    exit(1)
}
