#!/usr/bin/env python3
"""Access tokens from memory (docs/contract.md §7a) through HTTP: signed exchanges of one connector
against a runtime that keeps access tokens and one that keeps none (ENCLAVE_ACCESS_TOKEN_CACHE_ENTRIES=0),
each with its own loopback OAuth provider that answers every token request after 50 ms. Both run
at once; each round runs the uncached side, then the cached one, seconds apart, at each number of
connections, and the ratio is taken within the round. Grants per 1,000 exchanges come from the
provider's count of refresh-token grants.

usage: bench_token_cache.py [--configuration release|debug] [--seconds S] [--warmup S] [--rounds R]
                            [--connections 1,8,64] [--provider-ms 50]
"""
import argparse
import json
import pathlib
import statistics
import sys
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / "lib"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from enclave_stack import Stack  # noqa: E402
from bench_load import load  # noqa: E402


def provider(stack, path, form=None):
    data = None if form is None else "&".join(f"{k}={v}" for k, v in form.items()).encode()
    with urllib.request.urlopen(urllib.request.Request(stack.provider_base + path, data=data), timeout=10) as answer:
        return json.loads(answer.read())


def grants(stack):
    return sum(provider(stack, "/__stats")["refresh_grants"].values())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--configuration", default="release")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--warmup", type=float, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", default="1,8,64")
    parser.add_argument("--provider-ms", type=int, default=50)
    args = parser.parse_args()
    sides = {"uncached": {"ENCLAVE_ACCESS_TOKEN_CACHE_ENTRIES": "0"}, "cached": {}}
    stacks = {name: Stack(args.configuration, "enclave-runtime", environment=env).start() for name, env in sides.items()}
    ok = True
    try:
        connectors = {}
        for name, stack in stacks.items():
            provider(stack, "/__settings", {"delay_ms": args.provider_ms})
            connectors[name] = stack.register_connector()
        print(f"\n## Exchange of one connector, access tokens from memory against none ({args.configuration} build, loopback)\n")
        print(f"Provider stand-in answers each token request after {args.provider_ms} ms. {args.rounds} round(s) of "
              f"{args.seconds:g} s runs after {args.warmup:g} s warm-up; medians over rounds; the ratio is cached / uncached "
              "within each round. Grants: refresh-token grants the provider answered per 1,000 answered exchanges "
              "(warm-up included).\n")
        print("| connections | uncached req/s | cached req/s | cached / uncached | per round | uncached p50 ms | cached p50 ms "
              "| cached p99 ms | grants per 1,000 (uncached) | grants per 1,000 (cached) | non-200 |")
        print("|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|")
        for connections in [int(c) for c in args.connections.split(",")]:
            runs = {name: [] for name in sides}
            ratios = []
            for _ in range(args.rounds):
                for name in sides:  # uncached first, then cached
                    stack = stacks[name]
                    before = grants(stack)
                    result = load(stack, args.configuration, "exchange", connections, args.seconds, args.warmup, connectors[name])
                    result["grants_per_1000"] = (grants(stack) - before) * 1000 / (result["answered"] or 1)
                    runs[name].append(result)
                ratios.append(runs["cached"][-1]["rps"] / (runs["uncached"][-1]["rps"] or 1))
            median = lambda name, key: statistics.median(r[key] for r in runs[name])  # noqa: E731
            non200 = sum(r["non200"] + r["dropped"] for name in sides for r in runs[name])
            ok &= non200 == 0
            print(f"| {connections} | {median('uncached', 'rps'):,.0f} | {median('cached', 'rps'):,.0f} | "
                  f"{statistics.median(ratios):.1f} | {' '.join(f'{r:.1f}' for r in ratios)} | "
                  f"{median('uncached', 'p50_ms'):.2f} | {median('cached', 'p50_ms'):.2f} | {median('cached', 'p99_ms'):.2f} | "
                  f"{median('uncached', 'grants_per_1000'):,.1f} | {median('cached', 'grants_per_1000'):.3f} | {non200} |")
    finally:
        for stack in stacks.values():
            stack.stop()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
