import Foundation
import GRDB

/// The one way this project opens a SQLite store (the runtime's connectors, the hosts' jobs): in
/// a directory created 0700, the files 0600 from their first byte, WAL through GRDB's
/// DatabasePool, every commit synced before it is answered (`synchronous = FULL`: GRDB's WAL
/// default NORMAL can lose the last commits on power loss, a revoke among them), then migrated.
public enum PrivateDatabase {
    /// How long a writer waits for another (the api and the worker share the job store).
    public static let busyTimeout: TimeInterval = 10

    /// Opens `<directory>/<name>`. `pragmas` run on the writer connection after GRDB's WAL setup
    /// (which sets NORMAL). Processes that open one new store at the same instant race for the
    /// switch to WAL (SQLite does not wait on that lock) and for each migration (both may decide to
    /// apply one; the second fails on the first's change): the loser retries and finds the
    /// database in WAL mode, migrated.
    public static func open(
        directory: String, name: String, migrator: DatabaseMigrator, pragmas: [String] = []
    ) throws -> DatabasePool {
        try PrivateFiles.createDirectory(directory)
        let path = (directory as NSString).appendingPathComponent(name)
        try PrivateFiles.prepareDatabase(path)
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        let statements = (["PRAGMA synchronous = FULL"] + pragmas).joined(separator: "; ")
        var attempt = 0
        while true {
            do {
                let pool = try DatabasePool(path: path, configuration: configuration)
                try pool.writeWithoutTransaction { db in try db.execute(sql: statements) }
                try migrator.migrate(pool)
                return pool
            } catch {
                attempt += 1
                if attempt >= 10 { throw error }
                Thread.sleep(forTimeInterval: 0.05 * Double(attempt))
            }
        }
    }
}
