import Foundation
import GRDB
@testable import HostServices
import Synchronization
import Testing

@Suite("Job store shared by api and worker")
struct JobStoreTests {
    /// The api and the worker open the same new database at once when `just dev` starts them: the
    /// switch to WAL and the migration race, and SQLite does not wait on that lock. Every opener
    /// must come up with the table in place.
    @Test("An accepted job is on disk before it is answered (synchronous = FULL)")
    func durability() async throws {
        let store = try JobStore(directory: NSTemporaryDirectory() + "jobs-" + UUID().uuidString)
        #expect(try await store.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 2)
    }

    @Test("Four openers of a new store at the same instant all succeed, 25 times over")
    func concurrentOpenersOfANewStore() async throws {
        for round in 0..<25 {
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("job-store-race-\(round)-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let failures = Mutex<[String]>([])
            let stores = Mutex<[JobStore]>([])
            // Plain threads, so that all four really open at once.
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                do {
                    let store = try JobStore(directory: directory)
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
        }
    }
}
