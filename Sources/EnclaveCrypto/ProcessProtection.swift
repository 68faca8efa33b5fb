import CEnclaveCore
import Foundation

/// The C core's process protection, for the processes that hold keys, secrets and tokens: no core
/// file, and not dumpable, so other processes of the same user can neither attach a debugger nor
/// read this one's memory or environment (where `ENCLAVE_DATA_KEY` and the shared secret live).
public enum ProcessProtection {
    public static func apply() throws {
        guard ec_protect_process() == 0 else { throw EnclaveCryptoError.processProtectionFailed }
    }

    /// `apply()` for an executable's first line: when it fails, one line on stderr naming
    /// `program`, then exit 71 (EX_OSERR); a process that holds secrets does not run unprotected.
    public static func applyOrExit(program: String) {
        do {
            try apply()
        } catch {
            FileHandle.standardError.write(Data("\(program): \(error)\n".utf8))
            exit(71)
        }
    }

    /// Whether both settings are in place, read back from the kernel.
    public static var isApplied: Bool { ec_process_is_protected() == 1 }
}
