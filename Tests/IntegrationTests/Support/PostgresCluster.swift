import EnclaveConfiguration
import EnclaveStorage
import Foundation
import Logging
import TestSupport

/// A real PostgreSQL cluster for tests (scripts/lib/pg-cluster.sh: Debian's server, a private
/// directory, a port on 127.0.0.1, password authentication over TCP).
///
/// `shared` is the cluster the test command started (ENCLAVE_TEST_POSTGRES_DIR) or, when the
/// tests run alone, one this process starts and stops at exit; each test takes a database of its
/// own in it. Tests that stop the server start a private cluster, stopped when released.
final class PostgresCluster: @unchecked Sendable {
    let directory: String
    let port: Int
    let password: String
    private let owned: Bool

    private init(directory: String, owned: Bool) throws {
        self.directory = directory
        self.owned = owned
        if owned { _ = try Self.script("start", directory) }
        port = try Int(String(contentsOfFile: directory + "/port", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
        password = try String(contentsOfFile: directory + "/password", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    nonisolated(unsafe) private static var startedHere: String?

    static let shared: PostgresCluster = {
        if let directory = ProcessInfo.processInfo.environment["ENCLAVE_TEST_POSTGRES_DIR"] {
            return try! PostgresCluster(directory: directory, owned: false)
        }
        // Started here, stopped when this process exits.
        let directory = NSTemporaryDirectory() + "enclave-pg-" + UUID().uuidString
        _ = try! script("start", directory)
        startedHere = directory
        atexit {
            if let directory = PostgresCluster.startedHere { _ = try? PostgresCluster.script("stop", directory) }
        }
        return try! PostgresCluster(directory: directory, owned: false)
    }()

    /// A cluster of the caller's own, stopped when released.
    static func makePrivate() throws -> PostgresCluster {
        try PostgresCluster(directory: NSTemporaryDirectory() + "enclave-pg-" + UUID().uuidString, owned: true)
    }

    deinit {
        if owned { _ = try? Self.script("stop", directory) }
    }

    func stop() throws { _ = try Self.script("stop", directory) }
    func restart() throws { _ = try Self.script("restart", directory) }

    /// A new, empty database; its name.
    func createDatabase() throws -> String {
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        _ = try psql("CREATE DATABASE \(name)", database: "postgres")
        return name
    }

    /// The URL a process is given (password authentication over TCP).
    func url(_ database: String) -> String {
        "postgres://postgres:\(password)@127.0.0.1:\(port)/\(database)"
    }

    func databaseURL(_ database: String) -> DatabaseURL {
        try! DatabaseURL.load("TEST_DATABASE_URL", url(database), local: true)
    }

    /// A pool on `database`, for in-process store tests (run it with `run()`).
    func sharedDatabase(_ database: String) throws -> SharedDatabase {
        try SharedDatabase(url: databaseURL(database), applicationName: "enclave-tests", logger: testLogger)
    }

    /// Runs SQL through psql on the cluster's socket (trusted), returning unaligned rows.
    @discardableResult
    func psql(_ sql: String, database: String) throws -> String {
        try run(["/usr/bin/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", directory, "-p", "\(port)", "-U", "postgres",
                 "-d", database, "-c", sql])
    }

    private static func script(_ arguments: String...) throws -> String {
        try PostgresCluster.run([repositoryRoot.appendingPathComponent("scripts/lib/pg-cluster.sh").path] + arguments)
    }

    private func run(_ arguments: [String]) throws -> String { try Self.run(arguments) }

    /// Runs a command to its end; its stdout, or an error with its stderr.
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        var status: Int32 = 0
        if waitpid(process.processIdentifier, &status, 0) == -1 {
            process.waitUntilExit()
            status = process.terminationStatus << 8
        }
        guard status == 0 else {
            throw HarnessError("\(arguments.first ?? "") failed: \(String(decoding: err, as: UTF8.self))")
        }
        return String(decoding: out, as: UTF8.self)
    }
}
