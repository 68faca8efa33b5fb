// enclave-runtime: validates its configuration (exit 78 on any broken rule), then serves the
// contract until SIGTERM or SIGINT, finishing in-flight requests within 10 seconds. It takes no
// argument: configuration comes from the environment and .env (docs/configuration.md).
import EnclaveConfiguration
import EnclaveRuntime
import Foundation

if CommandLine.arguments.count > 1 {
    FileHandle.standardError.write(Data("enclave-runtime: unknown argument \(CommandLine.arguments[1]); configuration comes from the environment\n".utf8))
    exit(ExitStatus.usage.rawValue)
}
exit(await RuntimeLauncher.run(program: "enclave-runtime").rawValue)
