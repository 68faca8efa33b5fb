import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "bindings" / "python"))
# Default to the library the Makefile built in this checkout.
os.environ.setdefault("ENCLAVE_CORE_LIB", str(ROOT / "build" / "c" / "libenclave_core.so.1"))
VECTORS = ROOT / "Tests" / "Vectors"
