// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "enclave-runtime",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "EnclaveCrypto", targets: ["EnclaveCrypto"]),
        .library(name: "EnclaveContract", targets: ["EnclaveContract"]),
        .library(name: "EnclaveRuntime", targets: ["EnclaveRuntime"]),
        .library(name: "EnclaveClient", targets: ["EnclaveClient"]),
        // For the benchmark package, which builds the runtime as the executable does.
        .library(name: "EnclaveConfiguration", targets: ["EnclaveConfiguration"]),
        .library(name: "EnclaveLogging", targets: ["EnclaveLogging"]),
        .library(name: "EnclaveMetrics", targets: ["EnclaveMetrics"]),
        .executable(name: "api", targets: ["api"]),
        .executable(name: "worker", targets: ["worker"]),
        .executable(name: "enclave-runtime", targets: ["enclave-runtime"]),
        .executable(name: "enclave-load", targets: ["enclave-load"]),
        .executable(name: "enclave-runtime-bench", targets: ["enclave-runtime-bench"]),
        // For the benchmark package: the floors its in-process benchmark measures against.
        .library(name: "EnclaveBenchmarkRoutes", targets: ["EnclaveBenchmarkRoutes"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
    ],
    targets: [
        // The C core; the Makefile builds the same sources as libenclave_core.so.1 for other languages.
        .target(
            name: "CEnclaveCore",
            path: "CSources/EnclaveCore",
            publicHeadersPath: "include",
            linkerSettings: [.linkedLibrary("crypto"), .linkedLibrary("b2"), .linkedLibrary("sodium")]
        ),
        // The C core's cryptography behind a thin, safe wrapper; with EnclaveNSM, the only Swift
        // code that touches pointers.
        .target(name: "EnclaveCrypto", dependencies: ["CEnclaveCore", "EnclaveContract"]),
        // The Nitro Secure Module's device I/O through the C core's NSM client (the other thin
        // wrapper over the core; it holds no key).
        .target(name: "EnclaveNSM", dependencies: ["CEnclaveCore"]),
        // The protocol: every wire fact of docs/contract.md once (routes, headers and their syntax, id
        // syntax, error codes, every body with its encoder and decoder); runtime and clients share it.
        .target(name: "EnclaveContract", dependencies: ["EnclaveJSON"]),
        // Environment and .env reading, and the keys shared by the runtime and the hosts.
        .target(name: "EnclaveConfiguration"),
        // Outbound HTTP calls bounded whole, body included; no redirects.
        .target(
            name: "EnclaveHTTP",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // Private state files, the one SQLite opener, and PostgreSQL for a fleet (URL, migrations).
        .target(
            name: "EnclaveStorage",
            dependencies: [
                "EnclaveConfiguration",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Prometheus metrics through swift-metrics: the catalog of families, the registry, the listener.
        .target(
            name: "EnclaveMetrics",
            dependencies: [
                "EnclaveConfiguration", "EnclaveHTTP",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // JSON text written byte by byte, for response bodies and log lines on the hot path.
        .target(name: "EnclaveJSON"),
        // One JSON object per log line, for every process.
        .target(name: "EnclaveLogging", dependencies: ["EnclaveJSON", .product(name: "Logging", package: "swift-log")]),
        // The enclave runtime server as a library, shared by the executable and the tests.
        .target(
            name: "EnclaveRuntime",
            dependencies: [
                "EnclaveCrypto",
                "EnclaveNSM",
                "EnclaveConfiguration",
                "EnclaveContract",
                "EnclaveHTTP",
                "EnclaveStorage",
                "EnclaveJSON",
                "EnclaveLogging",
                "EnclaveMetrics",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        // Host side: signed RPC client, attestation verifier, startup probe, host configuration.
        .target(
            name: "EnclaveClient",
            dependencies: [
                "EnclaveCrypto", "EnclaveConfiguration", "EnclaveContract", "EnclaveHTTP", "EnclaveJSON",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ]
        ),
        .executableTarget(name: "enclave-runtime", dependencies: ["EnclaveRuntime"]),
        // The benchmarks' floor routes, kept out of the production binary.
        .target(
            name: "EnclaveBenchmarkRoutes",
            dependencies: [
                "EnclaveRuntime", "EnclaveConfiguration", "EnclaveCrypto", "EnclaveMetrics",
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        // The runtime with those floors, for scripts/bench_load.py (local only).
        .executableTarget(name: "enclave-runtime-bench", dependencies: ["EnclaveRuntime", "EnclaveBenchmarkRoutes"]),
        // What the api and the worker share: the durable job store, startup, the revoke loop.
        .target(
            name: "HostServices",
            dependencies: [
                "EnclaveClient", "EnclaveConfiguration", "EnclaveCrypto", "EnclaveLogging", "EnclaveStorage", "EnclaveMetrics",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "api",
            dependencies: [
                "HostServices", "EnclaveClient", "EnclaveConfiguration", "EnclaveContract", "EnclaveCrypto", "EnclaveLogging",
                "EnclaveStorage", "EnclaveMetrics", "EnclaveHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "worker",
            dependencies: [
                "HostServices", "EnclaveClient", "EnclaveConfiguration", "EnclaveCrypto", "EnclaveLogging", "EnclaveStorage",
                "EnclaveMetrics",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The server's request path driven without the network: libFuzzer target and FailCases replay.
        .target(
            name: "EnclaveFuzzing",
            dependencies: [
                "EnclaveRuntime", "EnclaveContract", "EnclaveCrypto", "EnclaveConfiguration",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        // Built only by scripts/fuzz.sh, with -sanitize=fuzzer,address.
        .executableTarget(name: "fuzz-request-path", dependencies: ["EnclaveFuzzing"]),
        // Load generator of scripts/bench_load.py: signed requests over keep-alive connections.
        .executableTarget(
            name: "enclave-load",
            dependencies: [
                "EnclaveContract", "EnclaveCrypto",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Tests: a unit target per module (no process started; `scripts/test.sh --fast`), then
        // IntegrationTests, which start real processes (runtime, hosts, PostgreSQL, Python fixtures).
        // What both share (the runtime's records through @testable, in debug builds only).
        .target(
            name: "TestSupport",
            dependencies: [
                "EnclaveConfiguration", "EnclaveCrypto", "EnclaveRuntime", "HostServices",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "EnclaveCryptoTests", dependencies: ["EnclaveCrypto", "EnclaveContract"]),
        .testTarget(
            name: "EnclaveContractTests",
            dependencies: ["EnclaveContract", "EnclaveJSON", "EnclaveFuzzing", "EnclaveClient", "TestSupport"]
        ),
        .testTarget(name: "EnclaveConfigurationTests", dependencies: ["EnclaveConfiguration"]),
        .testTarget(name: "EnclaveJSONTests", dependencies: ["EnclaveJSON"]),
        .testTarget(
            name: "EnclaveLoggingTests",
            dependencies: ["EnclaveLogging", "EnclaveContract", "TestSupport", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "EnclaveClientTests",
            dependencies: ["EnclaveClient", "EnclaveConfiguration", "EnclaveCrypto", "TestSupport"]
        ),
        .testTarget(
            name: "HostServicesTests",
            dependencies: [
                "HostServices", "EnclaveClient", "EnclaveConfiguration", "EnclaveCrypto", "EnclaveStorage", "TestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "EnclaveRuntimeTests",
            dependencies: [
                "EnclaveRuntime", "EnclaveConfiguration", "EnclaveContract", "EnclaveCrypto", "EnclaveFuzzing", "EnclaveStorage",
                "HostServices", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "EnclaveRuntime", "EnclaveConfiguration", "EnclaveContract", "EnclaveCrypto", "EnclaveClient", "EnclaveHTTP",
                "EnclaveMetrics", "EnclaveStorage", "HostServices", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
    ]
)
