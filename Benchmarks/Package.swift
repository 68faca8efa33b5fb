// swift-tools-version: 6.1
// Benchmarks of the enclave runtime, a package of their own that depends on the main one by path.
// Run with scripts/bench.sh (or: cd Benchmarks && swift package benchmark --no-progress --format markdown).
import PackageDescription

let package = Package(
    name: "enclave-runtime-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "enclave-runtime", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
    ],
    targets: [
        // The naive and raw OpenSSL paths the core is measured against, written as a caller would.
        .target(
            name: "BenchmarkBaselines",
            linkerSettings: [.linkedLibrary("crypto")]
        ),
        .executableTarget(
            name: "SignatureVerification",
            dependencies: [
                "BenchmarkBaselines",
                .product(name: "EnclaveCrypto", package: "enclave-runtime"),
                .product(name: "EnclaveContract", package: "enclave-runtime"),
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Benchmarks/SignatureVerification",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "RuntimeHotPaths",
            dependencies: [
                .product(name: "EnclaveRuntime", package: "enclave-runtime"),
                .product(name: "EnclaveCrypto", package: "enclave-runtime"),
                .product(name: "EnclaveContract", package: "enclave-runtime"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/RuntimeHotPaths",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "NitroVerification",
            dependencies: [
                "BenchmarkBaselines",
                .product(name: "EnclaveCrypto", package: "enclave-runtime"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/NitroVerification",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "KMSRelease",
            dependencies: [
                "BenchmarkBaselines",
                .product(name: "EnclaveCrypto", package: "enclave-runtime"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/KMSRelease",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "RPCPath",
            dependencies: [
                .product(name: "EnclaveRuntime", package: "enclave-runtime"),
                .product(name: "EnclaveBenchmarkRoutes", package: "enclave-runtime"),
                .product(name: "EnclaveCrypto", package: "enclave-runtime"),
                .product(name: "EnclaveConfiguration", package: "enclave-runtime"),
                .product(name: "EnclaveLogging", package: "enclave-runtime"),
                .product(name: "EnclaveMetrics", package: "enclave-runtime"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/RPCPath",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
