"""A live enclave-runtime (debug build) with the loopback OAuth provider, for the contract tests."""
import os
import pathlib
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "scripts" / "lib"))
sys.path.insert(0, str(HERE))
from enclave_stack import SECRET, Stack  # noqa: E402

SPEC = ROOT / "docs" / "openapi.yaml"
os.environ["ENCLAVE_RPC_SHARED_SECRET"] = SECRET  # read by signing_hook


@pytest.fixture(scope="session")
def stack():
    with Stack("debug", log_path=ROOT / "build" / "contract-runtime.log") as running:
        running.connector = running.register_connector()
        yield running
