import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The memory this process may use: the machine's physical memory, or less when a cgroup limit
/// (v2 `memory.max`, v1 `memory.limit_in_bytes`) is set, as in a container.
public enum SystemMemory {
    public static func availableBytes() -> Int {
        var limit = sysconf(Int32(_SC_PHYS_PAGES)) * sysconf(Int32(_SC_PAGESIZE))
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            // "max" (no limit) or a missing file leaves the physical size.
            guard let text = try? String(contentsOfFile: path, encoding: .utf8),
                let bytes = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes > 0
            else { continue }
            limit = min(limit, bytes)
        }
        return limit
    }
}
