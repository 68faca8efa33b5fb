"""Python binding (ctypes) over libenclave_core.so.1, the enclave runtime's C crypto core.

The library is the one named by ENCLAVE_CORE_LIB, else the installed libenclave_core.so.1.
Bytes in, bytes out; failures raise EnclaveCoreError.
"""
from __future__ import annotations

import ctypes
import os
from ctypes import POINTER, Structure, c_char_p, c_int, c_int64, c_size_t, c_uint8, c_uint32, c_uint64, c_void_p

__all__ = [
    "EnclaveCoreError", "version", "sizes", "ct_compare", "random_bytes", "hmac_sha256", "sign_hex",
    "RpcSigner", "RpcVerifier", "CURRENT", "PREVIOUS", "parse_timestamp", "check_nonce", "Signer",
    "ed25519_verify", "challenge_payload", "blake2b", "seal", "open_sealed", "ping_binding_payload",
    "evidence_text_ok", "NitroDocument", "verify_nitro_document", "pcrs_match", "nitro_policy_check", "AWS_NITRO_ROOT_DER",
    "NitroVerifier", "parse_nitro_document", "NitroRefused", "NITRO_REASONS", "nsm_attest",
]

CURRENT, PREVIOUS = 0, 1


class EnclaveCoreError(Exception):
    """A call into the core failed; the message names the call, never an input."""


def _load() -> ctypes.CDLL:
    return ctypes.CDLL(os.environ.get("ENCLAVE_CORE_LIB") or "libenclave_core.so.1")


_lib = _load()
_u8p = POINTER(c_uint8)


def _fn(name, restype, *argtypes):
    f = getattr(_lib, name)
    f.restype, f.argtypes = restype, list(argtypes)
    return f


_parts = [c_char_p, c_size_t] * 4 + [c_char_p, c_size_t]
_version_string = _fn("ec_version_string", c_char_p)
_size_fns = {n: _fn(f"ec_{n}_bytes", c_size_t) for n in (
    "rpc_mac", "rpc_sig_hex", "ed25519_seed", "ed25519_public_key", "ed25519_signature", "seal_key", "seal_overhead",
    "ping_binding_overhead")}
_ct_compare = _fn("ec_ct_compare", c_int, c_char_p, c_char_p, c_size_t)
_random = _fn("ec_random", c_int, c_char_p, c_size_t)
_protect_process = _fn("ec_protect_process", c_int)
_process_is_protected = _fn("ec_process_is_protected", c_int)
_hmac = _fn("ec_hmac_sha256", c_int, c_char_p, c_size_t, c_char_p, c_size_t, c_char_p)
_sign_hex = _fn("ec_rpc_sign_hex", c_int, c_char_p, c_size_t, *_parts, c_char_p)
_signer_new = _fn("ec_rpc_signer_new", c_void_p, c_char_p, c_size_t)
_signer_free = _fn("ec_rpc_signer_free", None, c_void_p)
_signer_sign = _fn("ec_rpc_signer_sign_hex", c_int, c_void_p, *_parts, c_char_p)
_verifier_new = _fn("ec_rpc_verifier_new", c_void_p, c_char_p, c_size_t, c_char_p, c_size_t)
_verifier_free = _fn("ec_rpc_verifier_free", None, c_void_p)
_verify = _fn("ec_rpc_verify", c_int, c_void_p, *_parts, c_char_p, c_size_t)
_verifier_sign_response = _fn("ec_rpc_verifier_sign_response_hex", c_int, c_void_p, c_int, c_char_p, c_size_t, c_int,
                              c_char_p, c_size_t, c_char_p)
_signer_sign_response = _fn("ec_rpc_signer_sign_response_hex", c_int, c_void_p, c_char_p, c_size_t, c_int, c_char_p,
                            c_size_t, c_char_p)
_signer_verify_response = _fn("ec_rpc_signer_verify_response", c_int, c_void_p, c_char_p, c_size_t, c_int, c_char_p,
                              c_size_t, c_char_p, c_size_t)
_ping_binding = _fn("ec_ping_binding_payload", c_int, c_char_p, c_size_t, c_char_p, c_size_t, c_char_p, c_size_t,
                    POINTER(c_size_t))
_evidence_text_ok = _fn("ec_evidence_text_ok", c_int, c_char_p, c_size_t)
_parse_ts = _fn("ec_parse_timestamp", c_int, c_char_p, c_size_t, POINTER(c_int64))
_check_nonce = _fn("ec_check_nonce", c_int, c_char_p, c_size_t)
_ed_new = _fn("ec_ed25519_signer_new", c_void_p, c_char_p)
_ed_free = _fn("ec_ed25519_signer_free", None, c_void_p)
_ed_pk = _fn("ec_ed25519_signer_public_key", c_int, c_void_p, c_char_p)
_ed_sign = _fn("ec_ed25519_signer_sign", c_int, c_void_p, c_char_p, c_size_t, c_char_p)
_ed_verify = _fn("ec_ed25519_verify", c_int, c_char_p, c_char_p, c_size_t, c_char_p)
_payload = _fn("ec_challenge_payload", c_int, c_char_p, c_size_t, c_char_p, c_size_t, c_char_p, c_size_t,
               c_int64, c_int64, c_char_p, c_size_t, c_char_p, c_size_t, c_int64, c_char_p, c_size_t,
               POINTER(c_size_t))
_blake2b = _fn("ec_blake2b", c_int, c_char_p, c_size_t, c_char_p, c_size_t, c_char_p, c_size_t)
_seal = _fn("ec_seal", c_int, c_char_p, c_char_p, c_size_t, c_char_p, c_size_t, c_char_p, c_size_t,
            POINTER(c_size_t))
_open = _fn("ec_open", c_int, c_char_p, c_char_p, c_size_t, c_char_p, c_size_t, c_char_p, c_size_t,
            POINTER(c_size_t))


def version() -> str:
    return _version_string().decode()


def sizes() -> dict[str, int]:
    """The library's sizes, e.g. sizes()["rpc_sig_hex"] == 64."""
    return {name: f() for name, f in _size_fns.items()}


_SIG_HEX = _size_fns["rpc_sig_hex"]()
_MAC = _size_fns["rpc_mac"]()
_OVERHEAD = _size_fns["seal_overhead"]()


def _b(x: bytes | str) -> bytes:
    return x.encode() if isinstance(x, str) else bytes(x)


def _canonical(method, path, ts, nonce, body):
    m, p, t, n, b = map(_b, (method, path, ts, nonce, body))
    return (m, len(m), p, len(p), t, len(t), n, len(n), b, len(b))


def _check(rc: int, what: str) -> None:
    if rc != 0:
        raise EnclaveCoreError(f"{what} failed")


def ct_compare(a: bytes, b: bytes) -> bool:
    """True when equal; constant-time for equal lengths."""
    return len(a) == len(b) and _ct_compare(a, b, len(a)) == 0


def random_bytes(n: int) -> bytes:
    out = ctypes.create_string_buffer(n)
    _check(_random(out, n), "ec_random")
    return out.raw


def protect_process() -> None:
    """No core file, and not dumpable: other processes of this user cannot read this one's memory
    or environment (call it first in a process that holds the shared secret)."""
    _check(_protect_process(), "ec_protect_process")


def process_is_protected() -> bool:
    return _process_is_protected() == 1


def hmac_sha256(key: bytes, msg: bytes) -> bytes:
    out = ctypes.create_string_buffer(_MAC)
    _check(_hmac(key, len(key), msg, len(msg), out), "ec_hmac_sha256")
    return out.raw


def sign_hex(key: bytes | str, method, path, ts, nonce, body) -> str:
    """x-alfred-rpc-signature for a request (docs/contract.md §2)."""
    key = _b(key)
    out = ctypes.create_string_buffer(_SIG_HEX + 1)
    _check(_sign_hex(key, len(key), *_canonical(method, path, ts, nonce, body), out), "ec_rpc_sign_hex")
    return out.value.decode()


class RpcSigner:
    """A signing key with its HMAC key schedule done once; an empty key is refused."""

    def __init__(self, key: bytes | str):
        key = _b(key)
        self._h = _signer_new(key, len(key))
        if not self._h:
            raise EnclaveCoreError("ec_rpc_signer_new failed")
        self._out = ctypes.create_string_buffer(_SIG_HEX + 1)

    def sign_hex(self, method, path, ts, nonce, body) -> str:
        _check(_signer_sign(self._h, *_canonical(method, path, ts, nonce, body), self._out), "ec_rpc_signer_sign_hex")
        return self._out.value.decode()

    def sign_response_hex(self, request_sig: str | bytes, status: int, body: bytes) -> str:
        """x-alfred-rpc-response-signature of an answer (docs/contract.md §2a) under this key."""
        r, out = _b(request_sig), ctypes.create_string_buffer(_SIG_HEX + 1)
        _check(_signer_sign_response(self._h, r, len(r), status, body, len(body), out), "ec_rpc_signer_sign_response_hex")
        return out.value.decode()

    def verify_response(self, request_sig: str | bytes, status: int, body: bytes, response_sig: str | bytes | None) -> bool:
        """True when response_sig authenticates (status, body) as the answer to the request signed
        request_sig; constant-time. None or a malformed value is False."""
        if response_sig is None:
            return False
        r, s = _b(request_sig), _b(response_sig)
        return _signer_verify_response(self._h, r, len(r), status, body, len(body), s, len(s)) == 0

    def __del__(self):
        if getattr(self, "_h", None):
            _signer_free(self._h)
            self._h = None


class RpcVerifier:
    """verify() returns CURRENT (0), PREVIOUS (1) or None, as ec_rpc_verify. Empty keys are refused;
    "no previous key" is None only."""

    def __init__(self, key: bytes | str, previous: bytes | str | None = None):
        key = _b(key)
        prev = _b(previous) if previous is not None else None
        self._h = _verifier_new(key, len(key), prev, len(prev) if prev is not None else 0)
        if not self._h:
            raise EnclaveCoreError("ec_rpc_verifier_new failed")

    def verify(self, method, path, ts, nonce, body, sig_hex: str | bytes) -> int | None:
        sig = _b(sig_hex)
        rc = _verify(self._h, *_canonical(method, path, ts, nonce, body), sig, len(sig))
        return rc if rc in (CURRENT, PREVIOUS) else None

    def sign_response_hex(self, key_index: int, request_sig: str | bytes, status: int, body: bytes) -> str:
        """The response signature under the key verify() named (CURRENT or PREVIOUS)."""
        r, out = _b(request_sig), ctypes.create_string_buffer(_SIG_HEX + 1)
        _check(_verifier_sign_response(self._h, key_index, r, len(r), status, body, len(body), out),
               "ec_rpc_verifier_sign_response_hex")
        return out.value.decode()

    def __del__(self):
        if getattr(self, "_h", None):
            _verifier_free(self._h)
            self._h = None


def parse_timestamp(s: bytes | str) -> int | None:
    s = _b(s)
    out = c_int64()
    return out.value if _parse_ts(s, len(s), ctypes.byref(out)) == 0 else None


def check_nonce(s: bytes | str) -> bool:
    s = _b(s)
    return _check_nonce(s, len(s)) == 0


class Signer:
    """Ed25519 signer from a 32-byte seed."""

    def __init__(self, seed: bytes):
        if len(seed) != 32:
            raise EnclaveCoreError("seed must be 32 bytes")
        self._h = _ed_new(seed)
        if not self._h:
            raise EnclaveCoreError("ec_ed25519_signer_new failed")

    @property
    def public_key(self) -> bytes:
        out = ctypes.create_string_buffer(32)
        _check(_ed_pk(self._h, out), "ec_ed25519_signer_public_key")
        return out.raw

    def sign(self, msg: bytes) -> bytes:
        out = ctypes.create_string_buffer(64)
        _check(_ed_sign(self._h, msg, len(msg), out), "ec_ed25519_signer_sign")
        return out.raw

    def __del__(self):
        if getattr(self, "_h", None):
            _ed_free(self._h)
            self._h = None


_attested_cert = _fn("ec_attested_certificate", c_int, c_void_p, c_char_p, c_size_t, c_int64, c_int64, c_char_p, c_size_t,
                     POINTER(c_size_t))
_attested_cert_document = _fn("ec_attested_certificate_document", c_int, c_char_p, c_size_t, c_char_p, c_size_t,
                              POINTER(c_size_t), c_char_p)


def attested_certificate(signer: Signer, document: bytes, not_before: int, not_after: int) -> bytes:
    """The attested TLS certificate (docs/contract.md §2b): DER, self-signed by `signer`, with
    `document` as its one extension's value."""
    needed = c_size_t()
    _attested_cert(signer._h, document, len(document), not_before, not_after, None, 0, ctypes.byref(needed))
    if needed.value == 0:
        raise EnclaveCoreError("ec_attested_certificate refused its arguments")
    out = ctypes.create_string_buffer(needed.value)
    _check(_attested_cert(signer._h, document, len(document), not_before, not_after, out, needed.value,
                          ctypes.byref(needed)), "ec_attested_certificate")
    return out.raw[:needed.value]


def attested_certificate_document(certificate: bytes) -> tuple[bytes, bytes]:
    """(document, Ed25519 public key) of a peer's attested certificate; EnclaveCoreError when it is
    not exactly one certificate with an Ed25519 key and one document extension."""
    size, pk = c_size_t(), ctypes.create_string_buffer(32)
    _attested_cert_document(certificate, len(certificate), None, 0, ctypes.byref(size), pk)
    if size.value == 0:
        raise EnclaveCoreError("not an attested certificate")
    out = ctypes.create_string_buffer(size.value)
    _check(_attested_cert_document(certificate, len(certificate), out, size.value, ctypes.byref(size), pk),
           "ec_attested_certificate_document")
    return out.raw[:size.value], pk.raw


def ed25519_verify(public_key: bytes, msg: bytes, sig: bytes) -> bool:
    if len(public_key) != 32 or len(sig) != 64:
        return False
    return _ed_verify(public_key, msg, len(msg), sig) == 0


def challenge_payload(runtime, measurement, challenge_nonce, issued_at: int, expires_at: int,
                      operation_purpose, request_id, evidence_issued_at: int) -> bytes:
    """The canonical evidence string of docs/contract.md §4."""
    fields = [_b(x) for x in (runtime, measurement, challenge_nonce, operation_purpose, request_id)]
    cap = sum(map(len, fields)) + 3 * 20 + 8
    out, n = ctypes.create_string_buffer(cap), c_size_t()
    r, m, c, o, q = fields
    rc = _payload(r, len(r), m, len(m), c, len(c), issued_at, expires_at, o, len(o), q, len(q),
                  evidence_issued_at, out, cap, ctypes.byref(n))
    _check(rc, "ec_challenge_payload")
    return out.raw[: n.value]


def ping_binding_payload(request_id: str | bytes, request_sig: str | bytes) -> bytes:
    """The message the ping answer's Ed25519 `binding` signs (docs/contract.md §2a)."""
    i, s = _b(request_id), _b(request_sig)
    cap = len(i) + _size_fns["ping_binding_overhead"]()
    out, n = ctypes.create_string_buffer(cap), c_size_t()
    _check(_ping_binding(i, len(i), s, len(s), out, cap, ctypes.byref(n)), "ec_ping_binding_payload")
    return out.raw[: n.value]


def evidence_text_ok(text: str | bytes) -> bool:
    """True when text may be a field of the evidence string: no '|' and no control character."""
    t = _b(text)
    return _evidence_text_ok(t, len(t)) == 0


# ---- AWS Nitro attestation documents (docs/contract.md §3a) --------------------------------


class _View(Structure):
    _fields_ = [("data", c_void_p), ("len", c_size_t)]


class _Document(Structure):
    _fields_ = [("module_id", _View), ("digest", _View), ("timestamp_ms", c_uint64), ("pcr_present", c_uint32),
                ("pcrs", _View * 32), ("certificate", _View), ("cabundle_count", c_size_t), ("cabundle", _View * 8),
                ("public_key", _View), ("user_data", _View), ("nonce", _View), ("payload", _View)]


_nitro_error_string = _fn("ec_nitro_error_string", c_char_p, c_int)
_nitro_verify = _fn("ec_nitro_verify", c_int, c_char_p, c_size_t, c_char_p, c_size_t, c_int64, POINTER(_Document),
                    POINTER(c_int))
_nitro_parse = _fn("ec_nitro_parse", c_int, c_char_p, c_size_t, POINTER(_Document), POINTER(c_int))
_nitro_check_time = _fn("ec_nitro_check_time", c_int, POINTER(_Document), c_int64, c_int64, c_int64, POINTER(c_int))
_nitro_pcrs_match = _fn("ec_nitro_pcrs_match", c_int, POINTER(_Document), c_char_p, c_size_t, c_int, POINTER(c_int))
_nitro_policy_check = _fn("ec_nitro_policy_check", c_int, c_char_p, c_size_t, POINTER(c_int))
_nitro_root = _fn("ec_nitro_aws_root_der", c_void_p, POINTER(c_size_t))
_nitro_document_size = _fn("ec_nitro_document_size", c_size_t)
_nitro_verifier_new = _fn("ec_nitro_verifier_new", c_void_p, c_char_p, c_size_t)
_nitro_verifier_free = _fn("ec_nitro_verifier_free", None, c_void_p)
_nitro_verifier_verify = _fn("ec_nitro_verifier_verify", c_int, c_void_p, c_char_p, c_size_t, c_int64, POINTER(_Document),
                             POINTER(c_int))
assert ctypes.sizeof(_Document) == _nitro_document_size(), "ec_nitro_document's layout differs from this binding's"


def _aws_root() -> bytes:
    n = c_size_t()
    return ctypes.string_at(_nitro_root(ctypes.byref(n)), n.value)


AWS_NITRO_ROOT_DER = _aws_root()


def _view(view: _View) -> bytes | None:
    return ctypes.string_at(view.data, view.len) if view.data else None


# The C core's EC_NITRO_ reason codes, by number.
NITRO_REASONS = ["ok", "malformed_cbor", "not_cose_sign1", "bad_algorithm", "bad_unprotected", "bad_signature_length",
                 "bad_payload", "duplicate_key", "missing_field", "bad_field", "bad_digest", "bad_pcrs", "trailing_bytes",
                 "empty_cabundle", "root_mismatch", "bad_root", "chain_invalid", "cert_expired", "bad_leaf",
                 "signature_invalid", "stale", "future", "policy_malformed", "policy_empty", "pcrs_not_allowed",
                 "debug_enclave", "internal"]


class NitroRefused(EnclaveCoreError):
    """A Nitro document or PCR policy was refused; `reason` names why (NITRO_REASONS)."""

    def __init__(self, code: int):
        self.reason = NITRO_REASONS[code] if 0 <= code < len(NITRO_REASONS) else "unknown"
        super().__init__(f"nitro document refused: {_nitro_error_string(code).decode()} ({self.reason})")


def _nitro_failure(reason: int) -> NitroRefused:
    return NitroRefused(reason)


class NitroDocument:
    """The fields of a verified Nitro attestation document; optional ones are None when absent or null."""

    def __init__(self, d: _Document):
        self.module_id = _view(d.module_id).decode()
        self.digest = _view(d.digest).decode()
        self.timestamp_ms = d.timestamp_ms
        self.pcrs = {i: _view(d.pcrs[i]) for i in range(32) if d.pcr_present >> i & 1}
        self.certificate = _view(d.certificate)
        self.cabundle = [_view(d.cabundle[i]) for i in range(d.cabundle_count)]
        self.public_key, self.user_data, self.nonce = _view(d.public_key), _view(d.user_data), _view(d.nonce)


def _checked(doc: bytes, rc: int, reason: c_int, d: _Document, at_ms: int, max_age_ms: int, max_future_ms: int):
    if rc != 0:
        raise _nitro_failure(reason.value)
    if _nitro_check_time(ctypes.byref(d), at_ms, max_age_ms, max_future_ms, ctypes.byref(reason)) != 0:
        raise _nitro_failure(reason.value)
    return NitroDocument(d)


def verify_nitro_document(doc: bytes, *, at_ms: int, root_der: bytes | None = None, max_age_ms: int = 300_000,
                          max_future_ms: int = 30_000) -> NitroDocument:
    """Verifies a COSE_Sign1 Nitro document at at_ms (Unix milliseconds) against the pinned root
    (the AWS Nitro Enclaves root when None): structure, chain, ES384 signature, and a timestamp at
    most max_age_ms old and max_future_ms ahead. Raises EnclaveCoreError naming the reason."""
    doc, root = bytes(doc), bytes(root_der if root_der is not None else AWS_NITRO_ROOT_DER)
    d, reason = _Document(), c_int()
    rc = _nitro_verify(doc, len(doc), root, len(root), at_ms, ctypes.byref(d), ctypes.byref(reason))
    return _checked(doc, rc, reason, d, at_ms, max_age_ms, max_future_ms)


class NitroVerifier:
    """verify_nitro_document with a cache of verified certificate links for one pinned root."""

    def __init__(self, root_der: bytes | None = None):
        root = bytes(root_der if root_der is not None else AWS_NITRO_ROOT_DER)
        self._h = _nitro_verifier_new(root, len(root))
        if not self._h:
            raise EnclaveCoreError("ec_nitro_verifier_new failed: the root is not a certificate")

    def verify(self, doc: bytes, *, at_ms: int, max_age_ms: int = 300_000, max_future_ms: int = 30_000) -> NitroDocument:
        doc = bytes(doc)
        d, reason = _Document(), c_int()
        rc = _nitro_verifier_verify(self._h, doc, len(doc), at_ms, ctypes.byref(d), ctypes.byref(reason))
        return _checked(doc, rc, reason, d, at_ms, max_age_ms, max_future_ms)

    def __del__(self):
        if getattr(self, "_h", None):
            _nitro_verifier_free(self._h)
            self._h = None


_nsm_attest = _fn("ec_nsm_attest", c_int, c_char_p, c_char_p, c_size_t, c_char_p, c_size_t, c_char_p, c_size_t,
                  POINTER(c_size_t), POINTER(c_int))
_nsm_error_string = _fn("ec_nsm_error_string", c_char_p, c_int)


def nsm_attest(device: str, public_key: bytes | None = None, user_data: bytes | None = None) -> bytes:
    """An attestation document from the NSM ("/dev/nsm", or "unix:PATH" for a simulator)."""
    out, n, reason = ctypes.create_string_buffer(0x3000), c_size_t(), c_int()
    rc = _nsm_attest(device.encode(), public_key, len(public_key or b""), user_data, len(user_data or b""), out,
                     len(out), ctypes.byref(n), ctypes.byref(reason))
    if rc != 0:
        raise EnclaveCoreError(f"ec_nsm_attest failed: {_nsm_error_string(reason.value).decode()}")
    return out.raw[: n.value]


def parse_nitro_document(doc: bytes) -> NitroDocument:
    """The document's fields after the structural checks only: no signature, chain or time."""
    doc = bytes(doc)
    d, reason = _Document(), c_int()
    if _nitro_parse(doc, len(doc), ctypes.byref(d), ctypes.byref(reason)) != 0:
        raise _nitro_failure(reason.value)
    return NitroDocument(d)


def pcrs_match(pcrs: dict, policy: str, allow_debug: bool = False) -> bool:
    """Whether PCRs (index -> bytes) satisfy a TEE_ALLOWED_PCRS policy (some ';'-separated set of
    INDEX=HEX items holds entirely). False for an empty policy and, unless allow_debug, for an
    all-zero PCR0. A malformed policy raises EnclaveCoreError."""
    d, keep = _Document(), []
    for index, value in pcrs.items():
        buffer = ctypes.create_string_buffer(bytes(value), len(value))
        keep.append(buffer)
        d.pcrs[index] = _View(ctypes.cast(buffer, c_void_p), len(value))
        d.pcr_present |= 1 << index
    text, reason = policy.encode(), c_int()
    if _nitro_pcrs_match(ctypes.byref(d), text, len(text), 1 if allow_debug else 0, ctypes.byref(reason)) == 0:
        return True
    if reason.value == 22:  # EC_NITRO_POLICY_MALFORMED
        raise _nitro_failure(reason.value)
    return False


def nitro_policy_check(policy: str) -> None:
    """Raises EnclaveCoreError when a TEE_ALLOWED_PCRS policy is malformed or allows nothing."""
    text, reason = policy.encode(), c_int()
    if _nitro_policy_check(text, len(text), ctypes.byref(reason)) != 0:
        raise _nitro_failure(reason.value)


def blake2b(data: bytes, key: bytes = b"", out_len: int = 64) -> bytes:
    out = ctypes.create_string_buffer(max(out_len, 1))
    _check(_blake2b(out, out_len, data, len(data), key, len(key)), "ec_blake2b")
    return out.raw[:out_len]


def seal(key: bytes, aad: bytes, plain: bytes) -> bytes:
    cap = len(plain) + _OVERHEAD
    out, n = ctypes.create_string_buffer(cap), c_size_t()
    _check(_seal(key, aad, len(aad), plain, len(plain), out, cap, ctypes.byref(n)) if len(key) == 32 else -1, "ec_seal")
    return out.raw[: n.value]


def open_sealed(key: bytes, aad: bytes, sealed: bytes) -> bytes:
    cap = max(len(sealed) - _OVERHEAD, 0)
    out, n = ctypes.create_string_buffer(max(cap, 1)), c_size_t()
    _check(_open(key, aad, len(aad), sealed, len(sealed), out, cap, ctypes.byref(n)) if len(key) == 32 else -1, "ec_open")
    return out.raw[: n.value]


from .client import EnclaveClient, EnclaveError, dev_shim_channel, nitro_channel, verify_evidence  # noqa: E402  (needs the names above)

__all__ += ["EnclaveClient", "EnclaveError", "dev_shim_channel", "nitro_channel", "verify_evidence"]
