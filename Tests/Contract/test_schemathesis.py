"""The bounded schemathesis run (scripts/fuzz.sh runs the same with many more examples)."""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_schemathesis_finds_no_server_error_and_no_nonconforming_answer():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "contract_fuzz.py"), "--examples", "25"],
                            capture_output=True, text=True, timeout=900)
    print(result.stdout[-4000:])
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "No issues found" in result.stdout
