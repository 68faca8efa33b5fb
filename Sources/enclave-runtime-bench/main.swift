// enclave-runtime-bench: the enclave runtime with the benchmarks' floor routes beside the contract
// (`FloorRoutes`), for scripts/bench_load.py. Local only: it refuses to start unless ALFRED_ENV is
// local. Deployments run enclave-runtime, which composes nothing.
import EnclaveBenchmarkRoutes
import EnclaveRuntime
import Foundation

exit(await RuntimeLauncher.run(program: "enclave-runtime-bench", composition: { FloorRoutes.composition($0) }, localOnly: true).rawValue)
