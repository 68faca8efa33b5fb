#!/usr/bin/env python3
"""Schemathesis against a live enclave-runtime (with the loopback OAuth provider), every operation of
docs/openapi.yaml, generated requests signed by Tests/Contract/signing_hook.py. Fails on any 500 or
undocumented 5xx, and on any answer whose status, content type or body does not conform to the spec.

usage: contract_fuzz.py [--examples N] [--configuration debug|release] [--seed S]
"""
import argparse
import collections
import json
import os
import pathlib
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE / "lib"))
from enclave_stack import SECRET, Stack  # noqa: E402

CHECKS = "no_internal_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=25, help="max examples per operation and phase")
    parser.add_argument("--configuration", default="debug")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    log = ROOT / "build" / "contract-fuzz-runtime.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with Stack(args.configuration, log_path=log) as stack:
        stack.register_connector()
        env = {**os.environ, "SCHEMATHESIS_HOOKS": "signing_hook", "ENCLAVE_RPC_SHARED_SECRET": SECRET,
               "PYTHONPATH": str(ROOT / "Tests" / "Contract"), "NO_COLOR": "1"}
        command = [str(ROOT / "build" / "venv" / "bin" / "schemathesis"), "run", str(ROOT / "docs" / "openapi.yaml"),
                   "--url", stack.base, "--checks", CHECKS, "--max-examples", str(args.examples),
                   "--phases", "examples,coverage,fuzzing", "--mode", "all", "--workers", "1",
                   "--continue-on-failure", "--suppress-health-check", "all", "--warnings", "off"]
        if args.seed is not None:
            command += ["--seed", str(args.seed)]
        started = time.monotonic()
        result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
        elapsed = time.monotonic() - started
    # What reached the server, from its access log: every request, and how far the signed ones got.
    statuses, reached = collections.Counter(), 0
    for line in log.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("message") != "request":
            continue
        statuses[(entry["path"] if entry["path"].startswith(("/v1/", "/healthz")) else "other", entry["status"])] += 1
        if entry["path"].startswith("/v1/rpc/") and entry["status"] not in (401, 404, 405, 413):
            reached += 1
    output = result.stdout + result.stderr
    print("\n".join(line for line in output.splitlines() if line.strip())[-6000:])
    total = sum(statuses.values())
    print(f"\nschemathesis: exit {result.returncode} in {elapsed:.0f} s; the runtime answered {total} requests; "
          f"{reached} signed requests passed authentication and reached an RPC handler")
    for (path, status), count in sorted(statuses.items()):
        print(f"  {path} {status}: {count}")
    server_errors = sum(count for (path, status), count in statuses.items() if status == 500)
    if server_errors:
        print(f"{server_errors} answers were 500")
    sys.exit(1 if result.returncode != 0 or server_errors or reached == 0 else 0)


if __name__ == "__main__":
    main()
