/// Every metric family the processes export, in one place: its name (project prefix, base unit,
/// `_total` on counters), its kind, its help text, and its label names. Label values are bounded
/// sets (routes, statuses, error codes, outcomes): no user id, connector id, nonce or request id is
/// ever a label. A metric not listed here cannot be made (`MetricsRegistry` refuses it).
public enum MetricFamily: String, CaseIterable, Sendable {
    // The enclave runtime.
    case runtimeRequests = "enclave_requests_total"
    case runtimeAuthRefusals = "enclave_auth_refusals_total"
    case replayCacheEntries = "enclave_replay_cache_entries"
    case replayCacheCapacity = "enclave_replay_cache_capacity"
    case providerDuration = "enclave_provider_request_duration_seconds"
    case storeOperations = "enclave_store_operations_total"
    case challenges = "enclave_challenges_total"
    case nitroDocumentAge = "enclave_nitro_document_age_seconds"
    case nitroRefreshFailures = "enclave_nitro_document_refresh_failures_total"
    case auditWriteFailures = "enclave_audit_write_failures_total"
    case accessTokenLookups = "enclave_access_token_lookups_total"
    case accessTokenEvictions = "enclave_access_token_evictions_total"
    case accessTokenEntries = "enclave_access_token_cache_entries"
    case sealedRecords = "enclave_sealed_records"
    case runtimeBuild = "enclave_build_info"
    // The api and the worker.
    case hostRequests = "enclave_host_requests_total"
    case hostProbes = "enclave_host_probes_total"
    case hostReverifications = "enclave_host_reverifications_total"
    case hostJobs = "enclave_host_jobs"
    case hostJobAttempts = "enclave_host_job_attempts_total"
    case hostEnclaveCallDuration = "enclave_host_enclave_call_duration_seconds"
    case hostUnauthenticatedAnswers = "enclave_host_unauthenticated_answers_total"
    case hostBuild = "enclave_host_build_info"

    public enum Kind: Sendable { case counter, gauge, histogram }

    public var kind: Kind {
        switch self {
        case .replayCacheEntries, .replayCacheCapacity, .nitroDocumentAge, .runtimeBuild, .hostJobs, .hostBuild, .accessTokenEntries, .sealedRecords: .gauge
        case .providerDuration, .hostEnclaveCallDuration: .histogram
        default: .counter
        }
    }

    public var labels: [String] {
        switch self {
        case .runtimeRequests, .hostRequests: ["route", "status"]
        case .runtimeAuthRefusals: ["code"]
        case .providerDuration, .storeOperations, .hostEnclaveCallDuration: ["operation", "outcome"]
        case .challenges, .hostProbes, .hostReverifications, .hostJobAttempts, .accessTokenLookups: ["outcome"]
        case .hostJobs: ["state"]
        case .sealedRecords: ["key_version"]
        case .hostUnauthenticatedAnswers: ["operation"]
        case .runtimeBuild: ["version", "core_version", "attestation_source", "store"]
        case .hostBuild: ["version", "core_version", "store", "accepts_static_attestation"]
        case .replayCacheEntries, .replayCacheCapacity, .nitroDocumentAge, .nitroRefreshFailures, .auditWriteFailures,
            .accessTokenEvictions, .accessTokenEntries:
            []
        }
    }

    public var help: String {
        switch self {
        case .runtimeRequests: "Requests the enclave runtime answered, by route (unknown paths as 'other') and HTTP status."
        case .runtimeAuthRefusals: "Signed RPCs refused by docs/contract.md §2, steps 1 to 7 (headers, signature, replay, body), by error code."
        case .replayCacheEntries: "Nonces the in-memory replay cache holds, live or waiting for the sweep."
        case .replayCacheCapacity: "Nonces the in-memory replay cache can hold before it refuses with replay_cache_full."
        case .providerDuration: "Duration of calls to the OAuth provider, by operation and outcome."
        case .storeOperations: "Operations on the sealed connector store, by operation and outcome (ok, unavailable, failed)."
        case .challenges: "Attestation challenges, by outcome (answered, refused, unavailable)."
        case .nitroDocumentAge: "Age of the latest attestation document from the Nitro Secure Module."
        case .nitroRefreshFailures: "Failed fetches of a fresh attestation document from the Nitro Secure Module."
        case .auditWriteFailures: "Audit events that could not be written; token RPCs are refused while they cannot be."
        case .accessTokenLookups:
            "Exchanges by where their access token came from (docs/contract.md §7a): hit (memory), miss (this exchange called the provider), shared (waited on another exchange's call)."
        case .accessTokenEvictions: "Access tokens dropped from memory, least recently used first, to keep the cache within its entry and byte bounds."
        case .accessTokenEntries: "Access tokens held in memory."
        case .sealedRecords:
            "Active connectors holding a sealed refresh token, by the data-key version it is sealed under (rotation: docs/configuration.md §3); counted at start and after each re-seal batch."
        case .runtimeBuild: "Always 1; the labels say what runs: version, C core version, attestation source, store."
        case .hostRequests: "Requests the api answered on its /v1 routes, by route and HTTP status."
        case .hostProbes: "Startup probes of the enclave, by outcome (verified, or the step that failed)."
        case .hostReverifications: "The worker's checks of the enclave before each tick, by outcome (verified, or the step that failed)."
        case .hostJobs: "Revoke jobs in the job store, by state."
        case .hostJobAttempts: "Revoke job attempts, by outcome (succeeded, retry, failed, claim_lost)."
        case .hostEnclaveCallDuration: "Duration of signed calls to the enclave, by operation and outcome (ok or the error code)."
        case .hostUnauthenticatedAnswers: "Enclave answers refused because their response signature did not verify, by operation."
        case .hostBuild:
            "Always 1; the labels say what runs: version, C core version, store, and whether the host accepts the static attestation source (a document and key the runtime's operator holds)."
        }
    }
}
