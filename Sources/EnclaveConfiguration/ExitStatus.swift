/// Every exit status of the project's executables (`enclave-runtime`, `api`, `worker`), after
/// sysexits.h; the table is in docs/configuration.md §1.
public enum ExitStatus: Int32, Sendable {
    /// A graceful stop.
    case success = 0
    /// Any other error, or a host's failed startup probe.
    case failure = 1
    /// EX_USAGE: an argument was given (configuration comes from the environment).
    case usage = 64
    /// EX_UNAVAILABLE: a database that cannot be reached or migrated at start.
    case unavailable = 69
    /// EX_SOFTWARE: an NSM that gives no first document.
    case software = 70
    /// EX_OSERR: the process cannot be protected (core dumps, ptrace).
    case osError = 71
    /// EX_NOPERM: a secret's release refused (docs/contract.md §3b, KMS).
    case refused = 77
    /// EX_CONFIG: a configuration that breaks a rule.
    case configuration = 78
}
