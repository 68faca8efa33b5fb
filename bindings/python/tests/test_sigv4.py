"""AWS Signature Version 4 in the C core: AWS's own test suite (Tests/Vectors/sigv4, 38 cases: the
canonical request, the string to sign and the Authorization header of each), then botocore's
SigV4Auth, an independent implementation, on requests shaped like the KMS calls and on random
ones; then the refusals."""
import json
import random
import string

import pytest
from conftest import VECTORS

from enclave_core import EnclaveCoreError
from enclave_core.kms import SigV4Request, sigv4_authorization, sigv4_canonical_request, sigv4_string_to_sign

SUITE = VECTORS / "sigv4"
CASES = sorted(path.name for path in SUITE.iterdir() if path.is_dir())


def suite_request(case):
    """request.txt and context.json as a SigV4Request (obsolete line folding joins a header's lines)."""
    raw = (SUITE / case / "request.txt").read_bytes().decode()
    head, _, body = raw.partition("\n\n")
    lines = head.split("\n")
    first = lines[0].split(" ")
    method, target = first[0], " ".join(first[1:-1])
    path, _, query = target.partition("?")
    headers = []
    for line in filter(None, lines[1:]):
        if line[:1] in (" ", "\t") and headers:
            headers[-1] = (headers[-1][0], headers[-1][1] + "\n" + line)
        else:
            name, _, value = line.partition(":")
            headers.append((name, value))
    context = json.loads((SUITE / case / "context.json").read_text())
    credentials = context["credentials"]
    token = credentials.get("token", "") if not context.get("omit_session_token") else ""
    return SigV4Request(
        method, path, query, headers, body.encode(), amz_date="20150830T123600Z", region=context["region"],
        service=context["service"], access_key_id=credentials["access_key_id"],
        secret_access_key=credentials["secret_access_key"], session_token=token,
        normalize_path=context.get("normalize", True), sign_payload_header=context.get("sign_body", False))


def test_the_suite_is_all_here():
    assert len(CASES) == 38 and "get-vanilla-with-session-token" in CASES


@pytest.mark.parametrize("case", CASES)
def test_aws_signing_test_suite(case):
    request = suite_request(case)
    expected = lambda name: (SUITE / case / name).read_text().rstrip("\n")  # noqa: E731
    assert sigv4_canonical_request(request) == expected("header-canonical-request.txt")
    assert sigv4_string_to_sign(request) == expected("header-string-to-sign.txt")
    authorization = sigv4_authorization(request)
    assert authorization.endswith("Signature=" + expected("header-signature.txt"))
    signed = [line for line in expected("header-signed-request.txt").split("\n") if line.startswith("Authorization:")]
    assert signed == ["Authorization:" + authorization]


# ---- botocore's SigV4Auth as an independent signer ---------------------------------------------

botocore_auth = pytest.importorskip("botocore.auth", reason="botocore is in build/venv (scripts/bootstrap-contract-tools.sh)")
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402


def botocore_authorization(method, url, headers, body, region, service, key_id, secret, token, amz_date):
    request = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
    signer = botocore_auth.SigV4Auth(Credentials(key_id, secret, token or None), service, region)
    request.context["timestamp"] = amz_date
    signer._modify_request_before_signing(request)  # X-Amz-Date and the security token, as add_auth sets them
    canonical = signer.canonical_request(request)
    string_to_sign = signer.string_to_sign(request, canonical)
    signature = signer.signature(string_to_sign, request)
    signed = signer.signed_headers(signer.headers_to_sign(request))
    scope = f"{key_id}/{amz_date[:8]}/{region}/{service}/aws4_request"
    return canonical, f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders={signed}, Signature={signature}"


def both(method, host, path, query, headers, body, region="eu-west-1", service="kms", token="",
         amz_date="20261207T101500Z"):
    key_id, secret = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    url = f"https://{host}{path}" + (f"?{query}" if query else "")
    all_headers = [("Host", host), *headers]
    theirs = botocore_authorization(method, url, all_headers, body, region, service, key_id, secret, token, amz_date)
    ours = SigV4Request(method, path, query, all_headers, body, amz_date=amz_date, region=region, service=service,
                        access_key_id=key_id, secret_access_key=secret, session_token=token)
    return (sigv4_canonical_request(ours), sigv4_authorization(ours)), theirs


def test_a_kms_decrypt_request_signs_as_botocore_signs_it():
    body = json.dumps({"CiphertextBlob": "AQIDAHh...", "KeyId": "arn:aws:kms:eu-west-1:111122223333:key/k",
                       "EncryptionContext": {"enclave-runtime": "data-key"}}).encode()
    headers = [("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", "TrentService.Decrypt")]
    for token in ("", "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ=="):
        ours, theirs = both("POST", "kms.eu-west-1.amazonaws.com", "/", "", headers, body, token=token)
        assert ours == theirs


def test_random_requests_sign_as_botocore_signs_them():
    rng = random.Random(20261207)
    value_chars = string.ascii_letters + string.digits + " -_.~:;,/=+*!@"
    for _ in range(300):
        path = "/" + "/".join(rng.choice(["a", "b-c", "d.e", "f~g", "h_1"]) for _ in range(rng.randint(0, 3)))
        query = "&".join(f"{rng.choice(['x', 'Y', 'z-1', 'a.b'])}={rng.choice(['', '1', 'v', 'w_2'])}"
                         for _ in range(rng.randint(0, 3)))
        names = rng.sample(["X-Amz-Target", "Content-Type", "X-Custom", "x-lower", "Accept"], rng.randint(0, 4))
        headers = [(name, "".join(rng.choice(value_chars) for _ in range(rng.randint(1, 20))).strip() or "v")
                   for name in names]
        body = bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
        region = rng.choice(["us-east-1", "eu-central-1", "ap-southeast-2"])
        service = rng.choice(["kms", "sts", "service"])
        token = rng.choice(["", "FwoGZXIvYXdzEBYaDH+token=="])
        ours, theirs = both("POST" if body else "GET", f"{service}.{region}.amazonaws.com", path, query, headers, body,
                            region=region, service=service, token=token)
        assert ours == theirs, (path, query, headers)


def test_requests_the_signer_refuses():
    good = dict(amz_date="20261207T101500Z", region="us-east-1", service="kms", access_key_id="AKID",
                secret_access_key="secret")
    assert sigv4_authorization(SigV4Request("POST", "/", **good)).startswith("AWS4-HMAC-SHA256 Credential=AKID/20261207/")
    for change in [dict(amz_date="2026-12-07T10:15:00Z"), dict(amz_date="20261207T101500"), dict(region=""),
                   dict(region="US-EAST-1"), dict(service="k m s"), dict(access_key_id=""), dict(secret_access_key=""),
                   dict(access_key_id="AK/ID")]:
        with pytest.raises(EnclaveCoreError):
            sigv4_authorization(SigV4Request("POST", "/", **{**good, **change}))
    for method, path, headers in [("post", "/", []), ("", "/", []), ("POST", "/a?b", []), ("POST", "/", [("", "v")]),
                                  ("POST", "/", [("Bad Name", "v")]), ("POST", "/", [("X-Amz-Date", "20261207T101500Z")]),
                                  ("POST", "/", [("Authorization", "x")]), ("POST", "/", [("X-A", "a\0b")])]:
        with pytest.raises(EnclaveCoreError):
            sigv4_authorization(SigV4Request(method, path, "", headers, **good))
    with pytest.raises(EnclaveCoreError):  # the signer sets the token it signs
        sigv4_authorization(SigV4Request("POST", "/", "", [("X-Amz-Security-Token", "t")], session_token="t", **good))
