#!/usr/bin/python3
"""Writes the Nitro benchmark's synthetic fixtures into DIR: root.der, at_ms (the time to verify
at), and leaf-NNN.cbor, documents from one throwaway CA whose every leaf is new, all under the same
intermediate (so a verifier that knows the chain verifies the new leaf and the COSE signature only).
Usage: bench_fixtures.py DIR [COUNT]"""
import pathlib
import sys
import time

import nitro_forge as forge

out = pathlib.Path(sys.argv[1])
count = int(sys.argv[2]) if len(sys.argv) > 2 else 96
out.mkdir(parents=True, exist_ok=True)
at = int(time.time() * 1000)
ca = forge.Authority(at)
(out / "root.der").write_bytes(forge.der(ca.root))
(out / "at_ms").write_text(str(at))
for index in range(count):
    ca.leaf_key, ca.leaf = ca.make_leaf(at)
    (out / f"leaf-{index:03d}.cbor").write_bytes(forge.document(ca, at, forge.pcr_set(index), public_key=bytes(32)))
print(f"{count} documents in {out}")
