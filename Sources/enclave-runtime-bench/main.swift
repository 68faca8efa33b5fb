// enclave-runtime-bench: the enclave runtime with the benchmarks' floor routes beside the contract
// (GET /__bench/hello, POST /__bench/echo), for scripts/bench_load.py. Local only: it refuses to
// start unless ALFRED_ENV is local. Deployments run enclave-runtime, which has no such routes.
@_spi(Benchmarks) import EnclaveBenchmarkRoutes
@_spi(Benchmarks) import EnclaveRuntime
import Foundation

exit(await RuntimeLauncher.run(
    program: "enclave-runtime-bench", extraRoutes: { FloorRoutes.routes(maxBodyBytes: $0.maxBodyBytes) }, localOnly: true))
