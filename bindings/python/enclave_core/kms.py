"""The pieces of the KMS release (docs/contract.md §3b) the C core does: AWS Signature Version 4
for header-signed requests, and the recipient key pair that opens KMS's CiphertextForRecipient."""
from __future__ import annotations

import ctypes
from ctypes import POINTER, Structure, c_char_p, c_int, c_size_t, c_void_p

from . import EnclaveCoreError, _b, _fn

__all__ = ["SigV4Request", "sigv4_canonical_request", "sigv4_string_to_sign", "sigv4_authorization", "KmsRecipient",
           "CmsRefused", "CMS_REASONS"]


class _Header(Structure):
    _fields_ = [("name", c_char_p), ("name_len", c_size_t), ("value", c_char_p), ("value_len", c_size_t)]


class _Request(Structure):
    _fields_ = [
        ("method", c_char_p), ("method_len", c_size_t), ("path", c_char_p), ("path_len", c_size_t),
        ("query", c_char_p), ("query_len", c_size_t), ("headers", POINTER(_Header)), ("header_count", c_size_t),
        ("payload", c_char_p), ("payload_len", c_size_t), ("amz_date", c_char_p),
        ("region", c_char_p), ("region_len", c_size_t), ("service", c_char_p), ("service_len", c_size_t),
        ("access_key_id", c_char_p), ("access_key_id_len", c_size_t),
        ("secret_access_key", c_char_p), ("secret_access_key_len", c_size_t),
        ("session_token", c_char_p), ("session_token_len", c_size_t),
        ("normalize_path", c_int), ("sign_payload_header", c_int),
    ]


_texts = {name: _fn(f"ec_sigv4_{name}", c_int, POINTER(_Request), c_char_p, c_size_t, POINTER(c_size_t))
          for name in ("canonical_request", "string_to_sign", "authorization")}


class SigV4Request:
    """A request to sign: headers as (name, value) pairs in their order (without x-amz-date,
    which amz_date sets), the payload as bytes."""

    def __init__(self, method, path, query="", headers=(), payload=b"", *, amz_date, region, service,
                 access_key_id, secret_access_key, session_token="", normalize_path=True, sign_payload_header=False):
        self._keep = [_b(x) for x in (method, path, query, payload, amz_date, region, service, access_key_id,
                                      secret_access_key, session_token)]
        m, p, q, body, date, reg, svc, key_id, secret, token = self._keep
        pairs = [(_b(n), _b(v)) for n, v in headers]
        self._keep.append(pairs)
        array = (_Header * max(len(pairs), 1))(*[_Header(n, len(n), v, len(v)) for n, v in pairs])
        self._array = array
        self._request = _Request(m, len(m), p, len(p), q, len(q), array, len(pairs), body, len(body), date,
                                 reg, len(reg), svc, len(svc), key_id, len(key_id), secret, len(secret),
                                 token, len(token), int(normalize_path), int(sign_payload_header))

    def _text(self, name: str) -> str:
        n = c_size_t()
        _texts[name](ctypes.byref(self._request), None, 0, ctypes.byref(n))
        if n.value == 0:
            raise EnclaveCoreError(f"ec_sigv4_{name} failed")
        out = ctypes.create_string_buffer(n.value + 1)
        if _texts[name](ctypes.byref(self._request), out, n.value + 1, ctypes.byref(n)) != 0:
            raise EnclaveCoreError(f"ec_sigv4_{name} failed")
        return out.raw[: n.value].decode()


def sigv4_canonical_request(request: SigV4Request) -> str:
    return request._text("canonical_request")


def sigv4_string_to_sign(request: SigV4Request) -> str:
    return request._text("string_to_sign")


def sigv4_authorization(request: SigV4Request) -> str:
    return request._text("authorization")


# EC_CMS_ codes of enclave_core.h.
CMS_REASONS = {1: "malformed", 2: "not_enveloped", 3: "recipients", 4: "key_encryption", 5: "content_encryption",
               6: "does_not_open", 7: "too_large"}
_recipient_new = _fn("ec_kms_recipient_new", c_void_p)
_recipient_free = _fn("ec_kms_recipient_free", None, c_void_p)
_recipient_public_key = _fn("ec_kms_recipient_public_key", c_int, c_void_p, c_char_p, c_size_t, POINTER(c_size_t))
_recipient_open = _fn("ec_kms_recipient_open", c_int, c_void_p, c_char_p, c_size_t, c_char_p, c_size_t,
                      POINTER(c_size_t), POINTER(c_int))
_reason_string = _fn("ec_cms_reason_string", c_char_p, c_int)


class CmsRefused(EnclaveCoreError):
    """A CiphertextForRecipient the core refused: `reason` is a key of CMS_REASONS' values."""

    def __init__(self, code: int):
        self.code, self.reason = code, CMS_REASONS.get(code, "unknown")
        super().__init__(f"CiphertextForRecipient refused: {_reason_string(code).decode()}")


class KmsRecipient:
    """An RSA-2048 key pair made in the core; only its public half ever leaves it."""

    def __init__(self):
        self._handle = _recipient_new()
        if not self._handle:
            raise EnclaveCoreError("ec_kms_recipient_new failed")

    def __del__(self):
        if getattr(self, "_handle", None):
            _recipient_free(self._handle)
            self._handle = None

    def public_key(self) -> bytes:
        """DER SubjectPublicKeyInfo."""
        n = c_size_t()
        _recipient_public_key(self._handle, None, 0, ctypes.byref(n))
        out = ctypes.create_string_buffer(max(n.value, 1))
        if _recipient_public_key(self._handle, out, n.value, ctypes.byref(n)) != 0:
            raise EnclaveCoreError("ec_kms_recipient_public_key failed")
        return out.raw[: n.value]

    def open(self, cms: bytes, cap: int = 4096) -> bytes:
        out, n, reason = ctypes.create_string_buffer(max(cap, 1)), c_size_t(), c_int()
        if _recipient_open(self._handle, cms, len(cms), out, cap, ctypes.byref(n), ctypes.byref(reason)) != 0:
            raise CmsRefused(reason.value)
        return out.raw[: n.value]
