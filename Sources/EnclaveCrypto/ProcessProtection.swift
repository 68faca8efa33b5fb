import CEnclaveCore

/// The C core's process protection, for the processes that hold keys, secrets and tokens: no core
/// file, and not dumpable, so other processes of the same user can neither attach a debugger nor
/// read this one's memory or environment (where `ENCLAVE_DATA_KEY` and the shared secret live).
public enum ProcessProtection {
    public static func apply() throws {
        guard ec_protect_process() == 0 else { throw EnclaveCryptoError.processProtectionFailed }
    }

    /// Whether both settings are in place, read back from the kernel.
    public static var isApplied: Bool { ec_process_is_protected() == 1 }
}
