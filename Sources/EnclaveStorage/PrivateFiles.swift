import Foundation

/// State files (the runtime's data key and connector store, the hosts' job store) are readable by
/// their process's user only. Foundation's `createFile` cannot promise that: it writes a temporary
/// file with the umask's mode (0644), renames it into place and only then applies the attributes.
public enum PrivateFiles {
    public static let fileMode: mode_t = 0o600
    public static let directoryMode = 0o700

    /// Creates the directory owner-only when it does not exist. An existing one keeps its mode
    /// (it is the operator's); the files in it are private by themselves.
    public static func createDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: directoryMode])
    }

    /// Creates `path` with mode 0600 from its first byte and writes `contents` to disk. Refuses an
    /// existing file or a symbolic link in its place rather than write through or over it; a
    /// failed write removes the partial file.
    public static func createExclusive(_ path: String, contents: Data) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, fileMode)
        guard descriptor >= 0 else { throw PrivateFileError(path: path, errno: errno) }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        do {
            try handle.write(contentsOf: contents)
            try handle.synchronize()
            try handle.close()
        } catch {
            unlink(path)
            throw error
        }
    }

    /// Narrows an existing file to 0600 (a store made before this rule); an absent file is
    /// skipped, a symbolic link refused (SQLite would refuse to open it too).
    public static func restrict(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return }
            throw PrivateFileError(path: path, errno: errno)
        }
        defer { close(descriptor) }
        guard fchmod(descriptor, fileMode) == 0 else { throw PrivateFileError(path: path, errno: errno) }
    }

    /// Makes a SQLite database file private before SQLite opens it: a new one is created empty
    /// with 0600, and SQLite gives its WAL and index the database file's mode; an existing one
    /// is narrowed with its WAL and index. Two processes opening one store at once (the api and
    /// the worker) may both try to create it: the one that loses narrows the other's file.
    public static func prepareDatabase(_ path: String) throws {
        do {
            return try createExclusive(path, contents: Data())
        } catch let error as PrivateFileError where error.errno == EEXIST {
            for file in [path, path + "-wal", path + "-shm"] { try restrict(file) }
        }
    }
}

/// A private file that could not be created or narrowed; names the file, never its contents.
public struct PrivateFileError: Error, CustomStringConvertible {
    public var path: String
    public var errno: Int32
    public var description: String { "\(path): \(String(cString: strerror(errno)))" }
}
