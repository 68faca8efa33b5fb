//! The C ABI of enclave_core.h, declared by hand (no bindgen: no registry dependencies).
use std::os::raw::{c_char, c_int, c_void};

#[repr(C)]
#[derive(Clone, Copy)]
pub struct View {
    pub data: *const u8,
    pub len: usize,
}

/// ec_nitro_document; its size is checked against ec_nitro_document_size() at run time.
#[repr(C)]
pub struct NitroDocument {
    pub module_id: View,
    pub digest: View,
    pub timestamp_ms: u64,
    pub pcr_present: u32,
    pub pcrs: [View; 32],
    pub certificate: View,
    pub cabundle_count: usize,
    pub cabundle: [View; 8],
    pub public_key: View,
    pub user_data: View,
    pub nonce: View,
    pub payload: View,
}

extern "C" {
    pub fn ec_version_string() -> *const c_char;
    pub fn ec_seal_overhead_bytes() -> usize;
    pub fn ec_wipe(p: *mut c_void, len: usize);
    pub fn ec_protect_process() -> c_int;
    pub fn ec_process_is_protected() -> c_int;
    pub fn ec_hmac_sha256(key: *const u8, key_len: usize, msg: *const u8, msg_len: usize, out: *mut u8) -> c_int;
    pub fn ec_rpc_sign_hex(
        key: *const u8, key_len: usize, method: *const c_char, method_len: usize, path: *const c_char, path_len: usize,
        ts: *const c_char, ts_len: usize, nonce: *const c_char, nonce_len: usize, body: *const u8, body_len: usize,
        out_hex: *mut c_char,
    ) -> c_int;
    pub fn ec_rpc_signer_new(key: *const u8, key_len: usize) -> *mut c_void;
    pub fn ec_rpc_signer_free(s: *mut c_void);
    pub fn ec_rpc_signer_sign_hex(
        s: *const c_void, method: *const c_char, method_len: usize, path: *const c_char, path_len: usize,
        ts: *const c_char, ts_len: usize, nonce: *const c_char, nonce_len: usize, body: *const u8, body_len: usize,
        out_hex: *mut c_char,
    ) -> c_int;
    pub fn ec_rpc_signer_sign_response_hex(
        s: *const c_void, request_sig: *const c_char, request_sig_len: usize, status: c_int, body: *const u8,
        body_len: usize, out_hex: *mut c_char,
    ) -> c_int;
    pub fn ec_rpc_signer_verify_response(
        s: *const c_void, request_sig: *const c_char, request_sig_len: usize, status: c_int, body: *const u8,
        body_len: usize, response_sig: *const c_char, response_sig_len: usize,
    ) -> c_int;
    pub fn ec_ping_binding_payload(
        request_id: *const c_char, request_id_len: usize, request_sig: *const c_char, request_sig_len: usize,
        out: *mut u8, out_cap: usize, out_len: *mut usize,
    ) -> c_int;
    pub fn ec_rpc_verifier_new(key: *const u8, key_len: usize, previous: *const u8, previous_len: usize) -> *mut c_void;
    pub fn ec_rpc_verifier_free(v: *mut c_void);
    pub fn ec_rpc_verify(
        v: *const c_void, method: *const c_char, method_len: usize, path: *const c_char, path_len: usize,
        ts: *const c_char, ts_len: usize, nonce: *const c_char, nonce_len: usize, body: *const u8, body_len: usize,
        sig_hex: *const c_char, sig_hex_len: usize,
    ) -> c_int;
    pub fn ec_ed25519_signer_new(seed: *const u8) -> *mut c_void;
    pub fn ec_ed25519_signer_free(s: *mut c_void);
    pub fn ec_ed25519_signer_public_key(s: *const c_void, pk: *mut u8) -> c_int;
    pub fn ec_ed25519_signer_sign(s: *const c_void, msg: *const u8, len: usize, sig: *mut u8) -> c_int;
    pub fn ec_ed25519_verify(pk: *const u8, msg: *const u8, len: usize, sig: *const u8) -> c_int;
    pub fn ec_attested_certificate(
        s: *const c_void, document: *const u8, document_len: usize, not_before: i64, not_after: i64, out: *mut u8, cap: usize,
        len: *mut usize,
    ) -> c_int;
    pub fn ec_attested_certificate_document(
        certificate: *const u8, certificate_len: usize, document: *mut u8, cap: usize, document_len: *mut usize, pk: *mut u8,
    ) -> c_int;
    pub fn ec_challenge_payload(
        runtime: *const c_char, runtime_len: usize, measurement: *const c_char, measurement_len: usize,
        nonce: *const c_char, nonce_len: usize, issued_at: i64, expires_at: i64, purpose: *const c_char,
        purpose_len: usize, request_id: *const c_char, request_id_len: usize, evidence_issued_at: i64,
        out: *mut c_char, out_cap: usize, out_len: *mut usize,
    ) -> c_int;
    pub fn ec_nitro_error_string(reason: c_int) -> *const c_char;
    pub fn ec_nitro_aws_root_der(len: *mut usize) -> *const u8;
    pub fn ec_nitro_document_size() -> usize;
    pub fn ec_nitro_verify(
        doc: *const u8, doc_len: usize, root: *const u8, root_len: usize, at_ms: i64, out: *mut NitroDocument,
        reason: *mut c_int,
    ) -> c_int;
    pub fn ec_nitro_check_time(d: *const NitroDocument, at_ms: i64, max_age_ms: i64, max_future_ms: i64, reason: *mut c_int) -> c_int;
    pub fn ec_nitro_pcrs_match(d: *const NitroDocument, policy: *const c_char, len: usize, allow_debug: c_int, reason: *mut c_int) -> c_int;
    pub fn ec_blake2b(out: *mut u8, out_len: usize, input: *const c_void, in_len: usize, key: *const c_void, key_len: usize) -> c_int;
    pub fn ec_seal(
        key: *const u8, aad: *const u8, aad_len: usize, plain: *const u8, plain_len: usize, out: *mut u8,
        out_cap: usize, out_len: *mut usize,
    ) -> c_int;
    pub fn ec_open(
        key: *const u8, aad: *const u8, aad_len: usize, sealed: *const u8, sealed_len: usize, out: *mut u8,
        out_cap: usize, out_len: *mut usize,
    ) -> c_int;
}
