import EnclaveStorage
import Foundation
import GRDB
@testable import HostServices
import Synchronization
import Testing

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
                #expect(try PrivateFilesTests.mode(directory + "/" + name) == 0o600, "round \(round): \(name)")
            }
            #expect(try PrivateFilesTests.mode(directory) == 0o700, "round \(round)")
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
            #expect(try PrivateFilesTests.mode(directory + "/" + name) == 0o600, "\(name)")
        }
        #expect(try PrivateFilesTests.mode(directory) == 0o755)
    }

    @Test("A job is finished only under its current claim: a worker whose lease lapsed cannot overwrite the new claim's outcome")
    func staleClaimCannotFinish() async throws {
        try await Self.staleClaimCannotFinish(try SQLiteJobStore(directory: temporaryDirectory()))
    }

    static func staleClaimCannotFinish(_ store: any JobStore) async throws {
        let job = try await store.enqueueRevoke(userID: "u", connectorID: "c", now: 100)
        let first = try #require(try await store.claimNext(now: 100, leaseSeconds: 10))
        #expect(first.id == job.id && first.attempts == 1)
        #expect(try await store.claimNext(now: 105, leaseSeconds: 10) == nil, "leased: nobody else claims it")
        // The first worker stalls past its lease; a second one claims the job and finishes it.
        let second = try #require(try await store.claimNext(now: 111, leaseSeconds: 10))
        #expect(second.id == job.id && second.attempts == 2 && second.claimToken != first.claimToken)
        #expect(try await store.finish(second, .failed(error: "connector_token_unavailable"), now: 112))
        // The stale worker comes back: its outcome is dropped, the newer state stands.
        #expect(try await store.finish(first, .succeeded, now: 113) == false)
        let stored = try #require(try await store.job(id: job.id))
        #expect(stored.state == .failed && stored.lastError == "connector_token_unavailable" && stored.updatedAt == 112)
        // A finished job is finished: not even its own claim changes it again.
        #expect(try await store.finish(second, .succeeded, now: 114) == false)
    }

    @Test("Each claimed job gets a lease of its own, starting when it is claimed")
    func leasePerJob() async throws {
        try await Self.leasePerJob(try SQLiteJobStore(directory: temporaryDirectory()))
    }

    static func leasePerJob(_ store: any JobStore) async throws {
        _ = try await store.enqueueRevoke(userID: "u", connectorID: "c1", now: 100)
        _ = try await store.enqueueRevoke(userID: "u", connectorID: "c2", now: 100)
        let a = try #require(try await store.claimNext(now: 100, leaseSeconds: 10))
        let b = try #require(try await store.claimNext(now: 108, leaseSeconds: 10))  // a later job, claimed after the first ran 8 s
        #expect(a.leaseUntil == 110 && b.leaseUntil == 118)
        #expect(try await store.claimNext(now: 111, leaseSeconds: 10)?.id == a.id, "the first lapsed")
        #expect(try await store.claimNext(now: 111, leaseSeconds: 10) == nil, "the second is still leased")
    }

    @Test("Backoff doubles per attempt with jitter and never exceeds 5 minutes, jitter included")
    func backoffCap() {
        #expect(RevokeWorker.backoffSeconds(attempts: 1, jitter: 1) == 2)
        #expect(RevokeWorker.backoffSeconds(attempts: 3, jitter: 0.5) == 4)
        #expect(RevokeWorker.backoffSeconds(attempts: 8, jitter: 1.5) == 300)  // 384 before the cap
        #expect(RevokeWorker.backoffSeconds(attempts: 40, jitter: 1.5) == 300)
    }
}
