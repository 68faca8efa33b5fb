#!/usr/bin/env python3
"""Fleet benchmark, in one run on loopback: signed ping and exchange through the single
in-memory runtime (SQLite, replay cache in memory: the baseline), through one replica on
PostgreSQL, and through three replicas on the same PostgreSQL (connections spread over them),
in alternating order, round after round. Reports throughput, p50/p99, the ratio to the baseline,
the server CPU per request, the statements PostgreSQL committed per request (the replay guard's
round trips), and the replay guard's added latency at one connection.

The PostgreSQL cluster is private (scripts/lib/pg-cluster.sh, fsync on), started and stopped here.

usage: bench_fleet.py [--configuration release|debug] [--seconds S] [--warmup S] [--connections C] [--rounds R]
"""
import argparse
import base64
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / "lib"))
from enclave_stack import ROOT, Stack  # noqa: E402
import bench_load  # noqa: E402

PING_TARGET = 0.4  # fleet's signed ping throughput, as a fraction of the single in-memory runtime's
CLUSTER = ROOT / "scripts" / "lib" / "pg-cluster.sh"


class Cluster:
    def __enter__(self):
        self.directory = tempfile.mkdtemp(prefix="bench-fleet-pg-")
        os.chmod(self.directory, 0o755)
        self.port = int(subprocess.run([str(CLUSTER), "start", self.directory], check=True, capture_output=True,
                                       text=True).stdout.strip())
        self.password = open(os.path.join(self.directory, "password")).read().strip()
        self.psql("CREATE DATABASE enclave", database="postgres")
        return self

    def psql(self, sql, database="enclave"):
        return subprocess.run(["psql", "-X", "-q", "-A", "-t", "-h", self.directory, "-p", str(self.port), "-U", "postgres",
                               "-d", database, "-c", sql], check=True, capture_output=True, text=True).stdout.strip()

    def url(self):
        return f"postgres://postgres:{self.password}@127.0.0.1:{self.port}/enclave"

    def committed(self):
        """Transactions the server has committed in the database so far."""
        return int(self.psql("SELECT xact_commit FROM pg_stat_database WHERE datname = 'enclave'"))

    def __exit__(self, *exc):
        subprocess.run([str(CLUSTER), "stop", self.directory], check=False, capture_output=True)


class Many:
    """Several stacks behind one comma-separated base URL, as enclave-load spreads connections."""

    def __init__(self, stacks):
        self.stacks = stacks
        self.base = ",".join(stack.base for stack in stacks)
        self.secret = stacks[0].secret
        self.pid = stacks[0].pid

    def cpu(self):
        return sum(bench_load.cpu_seconds(stack.pid) for stack in self.stacks)


def run(target, args, endpoint, connector, connections, cluster=None):
    servers = target.stacks if isinstance(target, Many) else [target]
    cpu_before = sum(bench_load.cpu_seconds(s.pid) for s in servers)
    committed_before = cluster.committed() if cluster else 0
    extra = connector if endpoint == "exchange" else ()
    result = bench_load.load(target, args.configuration, endpoint, connections, args.seconds, args.warmup, extra,
                             server_cpu=False)
    answered = result["answered"] or 1
    result["server_us"] = (sum(bench_load.cpu_seconds(s.pid) for s in servers) - cpu_before) * 1e6 / answered
    result["statements"] = (cluster.committed() - committed_before) / answered if cluster else 0.0
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--configuration", default="release")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--warmup", type=float, default=1)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    log_dir = ROOT / "build" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    product = "enclave-runtime"
    with Cluster() as cluster:
        fleet_environment = {
            "ENCLAVE_DATABASE_URL": cluster.url(),
            "ENCLAVE_DATA_KEY": base64.b64encode(os.urandom(32)).decode(),
            "TEE_ATTESTATION_SIGNING_PRIVATE_KEY": base64.b64encode(os.urandom(32)).decode(),
        }
        with Stack(args.configuration, product, log_path=log_dir / "fleet-single.log",
                   environment={"ENCLAVE_RPC_REPLAY_CAPACITY": "2000000", "LOG_LEVEL": "warning"}) as single:
            replicas = [Stack(args.configuration, product, log_path=log_dir / f"fleet-replica-{i}.log",
                              environment={**fleet_environment, "LOG_LEVEL": "warning"}, shares_provider_of=single).start()
                        for i in range(3)]
            try:
                targets = {"single (memory)": single, "1 replica (PostgreSQL)": replicas[0],
                           "3 replicas (PostgreSQL)": Many(replicas)}
                connectors = {"single (memory)": single.register_connector()}
                fleet_connector = replicas[0].register_connector()
                connectors["1 replica (PostgreSQL)"] = connectors["3 replicas (PostgreSQL)"] = fleet_connector
                report(cluster, targets, connectors, args)
            finally:
                for replica in replicas:
                    replica.stop()


def report(cluster, targets, connectors, args):
    results = {(name, endpoint): [] for name in targets for endpoint in ("ping", "exchange")}
    for round_index in range(args.rounds):
        for endpoint in ("ping", "exchange"):
            names = list(targets) if round_index % 2 == 0 else list(reversed(targets))
            for name in names:
                results[(name, endpoint)].append(run(targets[name], args, endpoint, connectors[name], args.connections,
                                                     cluster if name != "single (memory)" else None))
    print(f"\n## Fleet: {args.connections} connections, {args.seconds:g} s per run after {args.warmup:g} s warm-up, "
          f"{args.rounds} rounds in alternating order ({args.configuration} build, loopback, PostgreSQL 15 with fsync on, "
          "every process on the same 2 cores)\n")
    print("Medians over rounds. 'vs single' is the median of each round's ratio to the single in-memory runtime's run "
          "of the same endpoint. 'statements/req': transactions PostgreSQL committed per answered request.\n")
    print("| endpoint | through | req/s | vs single | p50 ms | p99 ms | server CPU µs/req | statements/req | non-200 |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    ratios = {}
    for endpoint in ("ping", "exchange"):
        base_runs = results[("single (memory)", endpoint)]
        for name in targets:
            runs = results[(name, endpoint)]
            per_round = [r["rps"] / (b["rps"] or 1) for r, b in zip(runs, base_runs)]
            ratios[(name, endpoint)] = statistics.median(per_round)
            median = lambda key: statistics.median(r[key] for r in runs)  # noqa: E731
            print(f"| {endpoint} | {name} | {median('rps'):,.0f} | {ratios[(name, endpoint)]:.2f} | {median('p50_ms'):.2f} | "
                  f"{median('p99_ms'):.2f} | {median('server_us'):.1f} | {median('statements'):.2f} | "
                  f"{sum(r['non200'] for r in runs)} |")

    # The replay guard's own cost: one connection, so latency is the request's own path.
    single_ping = [run(targets["single (memory)"], args, "ping", None, 1) for _ in range(args.rounds)]
    fleet_ping = [run(targets["1 replica (PostgreSQL)"], args, "ping", None, 1, cluster) for _ in range(args.rounds)]
    added = statistics.median(f["p50_ms"] for f in fleet_ping) - statistics.median(s["p50_ms"] for s in single_ping)
    statements = statistics.median(f["statements"] for f in fleet_ping)
    print(f"\nReplay guard's added cost, one connection: p50 {statistics.median(s['p50_ms'] for s in single_ping):.3f} ms "
          f"in memory, {statistics.median(f['p50_ms'] for f in fleet_ping):.3f} ms on PostgreSQL: +{added:.3f} ms per "
          f"request; {statements:.2f} statements committed per ping (the nonce's INSERT; 1 = one round trip).")
    fleet_ratio = ratios[("3 replicas (PostgreSQL)", "ping")]
    each = " ".join(f"{r['rps'] / (b['rps'] or 1):.3f}" for r, b in zip(results[("3 replicas (PostgreSQL)", "ping")],
                                                                      results[("single (memory)", "ping")]))
    print(f"\nTarget: signed ping through the fleet keeps >= {PING_TARGET} of the single in-memory runtime's throughput: "
          f"{fleet_ratio:.3f}, rounds {each} ({'met' if fleet_ratio >= PING_TARGET else 'NOT met'}); "
          f"the replay guard adds at most one round trip per request: {statements:.2f} "
          f"({'met' if statements <= 1.05 else 'NOT met'}).")


if __name__ == "__main__":
    main()
