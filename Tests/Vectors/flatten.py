#!/usr/bin/env python3
"""Writes every vector as one whitespace-separated line for the C test program ("-" = empty):
  hmac KEY MSG TAG VALID          (TAG may be truncated: compare its length's prefix)
  ed25519_verify PK MSG SIG VALID
  ed25519_sign SEED PK MSG SIG
  blake2b IN KEY HASH
"""
import json
import pathlib
import sys

here = pathlib.Path(__file__).resolve().parent


def h(s: str) -> str:
    return s if s else "-"


def lines():
    w = json.loads((here / "hmac_sha256_test.json").read_text())
    for group in w["testGroups"]:
        for t in group["tests"]:
            yield f"hmac {h(t['key'])} {h(t['msg'])} {h(t['tag'])} {int(t['result'] == 'valid')}"
    rfc = json.loads((here / "rfc4231_rfc8032_vectors.json").read_text())
    for t in rfc["hmac_sha256_rfc4231"]:
        yield f"hmac {h(t['key'])} {h(t['data'])} {h(t['hmac_sha256'])} 1"
    e = json.loads((here / "ed25519_test.json").read_text())
    for group in e["testGroups"]:
        pk = group["publicKey"]["pk"]
        for t in group["tests"]:
            yield f"ed25519_verify {h(pk)} {h(t['msg'])} {h(t['sig'])} {int(t['result'] == 'valid')}"
    for t in rfc["ed25519_rfc8032"]:
        yield f"ed25519_sign {t['secret_key']} {t['public_key']} {h(t['message'])} {t['signature']}"
    entry = {}
    for raw in (here / "blake2b-kat.txt").read_text().splitlines():
        if ":" not in raw:
            continue
        name, _, value = raw.partition(":")
        entry[name.strip()] = value.strip()
        if name.strip() == "hash":
            yield f"blake2b {h(entry['in'])} {h(entry['key'])} {entry['hash']}"
            entry = {}


if __name__ == "__main__":
    out = open(sys.argv[1], "w") if len(sys.argv) > 1 else sys.stdout
    for line in lines():
        print(line, file=out)
