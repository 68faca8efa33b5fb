// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "enclave-runtime",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "EnclaveCrypto", targets: ["EnclaveCrypto"]),
    ],
    targets: [
        // The C core; the Makefile builds the same sources as libenclave_core.so.1 for other languages.
        .target(
            name: "CEnclaveCore",
            path: "CSources/EnclaveCore",
            publicHeadersPath: "include",
            cSettings: [.unsafeFlags(["-Wall", "-Wextra", "-Werror"])],
            linkerSettings: [.linkedLibrary("crypto"), .linkedLibrary("b2")]
        ),
        // The only Swift code that touches pointers: a thin, safe wrapper over the C core.
        .target(name: "EnclaveCrypto", dependencies: ["CEnclaveCore"]),
        .testTarget(name: "EnclaveCryptoTests", dependencies: ["EnclaveCrypto"]),
    ]
)
