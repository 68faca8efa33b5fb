import EnclaveStorage
import Foundation
import GRDB
@testable import HostServices
import Synchronization
import Testing
import TestSupport

@Suite("Job store shared by api and worker")
struct JobStoreTests {
    @Test("An accepted job is on disk before it is answered (synchronous = FULL)")
    func durability() async throws {
        let store = try SQLiteJobStore(directory: NSTemporaryDirectory() + "jobs-" + UUID().uuidString)
        #expect(try await store.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 2)
    }

    /// The api and the worker open the same new database at once when `just dev` starts them: the
    /// switch to WAL and the migration race, and SQLite does not wait on that lock. Every opener
    /// must come up with the table in place.
    /// They also race to create the file itself 0600: the losers narrow the winner's file.
    @Test("Four openers of a new store at the same instant all succeed, 25 times over")
    func concurrentOpenersOfANewStore() async throws {
        for round in 0..<25 {
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("job-store-race-\(round)-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let failures = Mutex<[String]>([])
            let stores = Mutex<[SQLiteJobStore]>([])
            // Plain threads, so that all four really open at once.
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                do {
                    let store = try SQLiteJobStore(directory: directory)
                    stores.withLock { $0.append(store) }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            #expect(failures.withLock { $0 } == [], "round \(round)")
            // Each store can write and read what another wrote.
            let all = stores.withLock { $0 }
            guard all.count == 4 else { continue }
            let job = try await all[0].enqueueRevoke(userID: "u", connectorID: "c", now: 1)
            let seen = try await all[3].job(id: job.id)
            #expect(seen?.id == job.id)
            for name in ["jobs.sqlite", "jobs.sqlite-wal", "jobs.sqlite-shm"] {
                #expect(try fileMode(directory + "/" + name) == 0o600, "round \(round): \(name)")
            }
            #expect(try fileMode(directory) == 0o700, "round \(round)")
        }
    }

    @Test("A job store made with wider permissions is narrowed to 0600 when it is opened; the operator's directory keeps its mode")
    func narrowsExisting() async throws {
        let directory = temporaryDirectory()
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
        // Kept open, so that the WAL and its index exist too.
        let first = try SQLiteJobStore(directory: directory)
        let job = try await first.enqueueRevoke(userID: "u", connectorID: "c", now: 1)
        for name in ["jobs.sqlite", "jobs.sqlite-wal", "jobs.sqlite-shm"] {
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: directory + "/" + name)
        }
        let reopened = try SQLiteJobStore(directory: directory)
        #expect(try await reopened.job(id: job.id) != nil)
        for name in ["jobs.sqlite", "jobs.sqlite-wal", "jobs.sqlite-shm"] {
            #expect(try fileMode(directory + "/" + name) == 0o600, "\(name)")
        }
        #expect(try fileMode(directory) == 0o755)
    }

    @Test("A job is finished only under its current claim: a worker whose lease lapsed cannot overwrite the new claim's outcome")
    func staleClaimCannotFinish() async throws {
        try await JobStoreContract.staleClaimCannotFinish(try SQLiteJobStore(directory: temporaryDirectory()))
    }

    @Test("Each claimed job gets a lease of its own, starting when it is claimed")
    func leasePerJob() async throws {
        try await JobStoreContract.leasePerJob(try SQLiteJobStore(directory: temporaryDirectory()))
    }

    @Test("Backoff doubles per attempt with jitter and never exceeds 5 minutes, jitter included")
    func backoffCap() {
        #expect(RevokeWorker.backoffSeconds(attempts: 1, jitter: 1) == 2)
        #expect(RevokeWorker.backoffSeconds(attempts: 3, jitter: 0.5) == 4)
        #expect(RevokeWorker.backoffSeconds(attempts: 8, jitter: 1.5) == 300)  // 384 before the cap
        #expect(RevokeWorker.backoffSeconds(attempts: 40, jitter: 1.5) == 300)
    }
}
