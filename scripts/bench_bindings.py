#!/usr/bin/env python3
"""Per-call cost of request signing from Python (ctypes over the core, one-shot and keyed) and from
Rust, against Python's own hmac module, all in the same run. Prints medians and ratios.
Run with scripts/bench-bindings.sh (it builds what is needed)."""
import hashlib
import hmac
import os
import statistics
import subprocess
import sys
import timeit

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "bindings", "python"))
import enclave_core as ec  # noqa: E402

KEY, PATH, TS, NONCE = b"bench-shared-secret-0123456789abcdef", "/v1/rpc/google/token/exchange", "1767225600", "0123456789abcdef0123456789abcdef"
BODY = b"x" * 256
signer = ec.RpcSigner(KEY)


def python_hmac():
    msg = b"POST\0" + PATH.encode() + b"\0" + TS.encode() + b"\0" + NONCE.encode() + b"\0" + BODY
    return hmac.new(KEY, msg, hashlib.sha256).hexdigest()


assert python_hmac() == ec.sign_hex(KEY, "POST", PATH, TS, NONCE, BODY) == signer.sign_hex("POST", PATH, TS, NONCE, BODY)
candidates = {
    "python hmac module (baseline)": python_hmac,
    "python ctypes ec_rpc_sign_hex": lambda: ec.sign_hex(KEY, "POST", PATH, TS, NONCE, BODY),
    "python ctypes keyed RpcSigner": lambda: signer.sign_hex("POST", PATH, TS, NONCE, BODY),
}
medians = {}
for name, fn in candidates.items():
    runs = [timeit.timeit(fn, number=20000) / 20000 * 1e9 for _ in range(9)]
    medians[name] = statistics.median(runs)
rust = [float(subprocess.run([sys.argv[1]], capture_output=True, text=True, check=True).stdout.split()[0]) for _ in range(5)]
medians["rust crate sign_hex"] = statistics.median(rust)
base = medians["python hmac module (baseline)"]
print("| signing path (256-byte body) | median ns/call | ratio to Python hmac |")
print("|---|---:|---:|")
for name, value in medians.items():
    print(f"| {name} | {value:.0f} | {value / base:.2f} |")
