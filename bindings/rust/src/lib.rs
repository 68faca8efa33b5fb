//! Safe Rust API over libenclave_core (the enclave runtime's crypto core): request signing and
//! verification (docs/contract.md §2), Ed25519 evidence, BLAKE2b, AES-256-GCM sealing, and in
//! `kms` the KMS release's SigV4 signing and CiphertextForRecipient opener.
//! Handles free and wipe their keys on drop; opened plaintext is wiped on drop too.
mod ffi;
pub mod kms;

use std::ffi::CStr;
use std::fmt;
use std::ops::Deref;
use std::os::raw::{c_char, c_void};

/// A call into the core failed; the message names the call, never an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub &'static str);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "enclave_core: {} failed", self.0)
    }
}

impl std::error::Error for Error {}

fn check(rc: i32, what: &'static str) -> Result<(), Error> {
    if rc == 0 { Ok(()) } else { Err(Error(what)) }
}

fn chars(s: &str) -> *const c_char {
    s.as_ptr() as *const c_char
}

pub fn version() -> String {
    unsafe { CStr::from_ptr(ffi::ec_version_string()) }.to_string_lossy().into_owned()
}

/// No core file, and not dumpable: other processes of this user cannot read this one's memory or
/// environment. Call it first in a process that holds the shared secret.
pub fn protect_process() -> Result<(), Error> {
    check(unsafe { ffi::ec_protect_process() }, "ec_protect_process")
}

pub fn process_is_protected() -> bool {
    unsafe { ffi::ec_process_is_protected() == 1 }
}

pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> Result<[u8; 32], Error> {
    let mut out = [0u8; 32];
    check(unsafe { ffi::ec_hmac_sha256(key.as_ptr(), key.len(), msg.as_ptr(), msg.len(), out.as_mut_ptr()) }, "ec_hmac_sha256")?;
    Ok(out)
}

/// The x-alfred-rpc-signature (64 lowercase hex digits) of METHOD \0 PATH \0 TS \0 NONCE \0 BODY.
pub fn sign_hex(key: &[u8], method: &str, path: &str, ts: &str, nonce: &str, body: &[u8]) -> Result<String, Error> {
    let mut out = [0 as c_char; 65];
    check(
        unsafe {
            ffi::ec_rpc_sign_hex(
                key.as_ptr(), key.len(), chars(method), method.len(), chars(path), path.len(), chars(ts), ts.len(),
                chars(nonce), nonce.len(), body.as_ptr(), body.len(), out.as_mut_ptr(),
            )
        },
        "ec_rpc_sign_hex",
    )?;
    Ok(unsafe { CStr::from_ptr(out.as_ptr()) }.to_string_lossy().into_owned())
}

/// A signing key with its HMAC key schedule done once (empty keys are refused); signs requests
/// and checks the enclave's authenticated answers (docs/contract.md §2a). Freed and wiped on drop.
pub struct RpcSigner(*mut c_void);

unsafe impl Send for RpcSigner {}
unsafe impl Sync for RpcSigner {}

impl RpcSigner {
    pub fn new(key: &[u8]) -> Result<Self, Error> {
        let handle = unsafe { ffi::ec_rpc_signer_new(key.as_ptr(), key.len()) };
        if handle.is_null() { Err(Error("ec_rpc_signer_new")) } else { Ok(RpcSigner(handle)) }
    }

    /// The x-alfred-rpc-signature of a request.
    pub fn sign_hex(&self, method: &str, path: &str, ts: &str, nonce: &str, body: &[u8]) -> Result<String, Error> {
        let mut out = [0 as c_char; 65];
        check(
            unsafe {
                ffi::ec_rpc_signer_sign_hex(
                    self.0, chars(method), method.len(), chars(path), path.len(), chars(ts), ts.len(), chars(nonce),
                    nonce.len(), body.as_ptr(), body.len(), out.as_mut_ptr(),
                )
            },
            "ec_rpc_signer_sign_hex",
        )?;
        Ok(unsafe { CStr::from_ptr(out.as_ptr()) }.to_string_lossy().into_owned())
    }

    /// The x-alfred-rpc-response-signature of an answer under this key (stand-ins and tests).
    pub fn sign_response_hex(&self, request_sig: &str, status: u16, body: &[u8]) -> Result<String, Error> {
        let mut out = [0 as c_char; 65];
        check(
            unsafe {
                ffi::ec_rpc_signer_sign_response_hex(
                    self.0, chars(request_sig), request_sig.len(), status as i32, body.as_ptr(), body.len(), out.as_mut_ptr(),
                )
            },
            "ec_rpc_signer_sign_response_hex",
        )?;
        Ok(unsafe { CStr::from_ptr(out.as_ptr()) }.to_string_lossy().into_owned())
    }

    /// True when `response_sig` authenticates (status, body) as the enclave's answer to the request
    /// signed `request_sig`; constant-time. Trust no answer for which this is false.
    pub fn verify_response(&self, request_sig: &str, status: u16, body: &[u8], response_sig: &str) -> bool {
        unsafe {
            ffi::ec_rpc_signer_verify_response(
                self.0, chars(request_sig), request_sig.len(), status as i32, body.as_ptr(), body.len(),
                chars(response_sig), response_sig.len(),
            ) == 0
        }
    }
}

impl Drop for RpcSigner {
    fn drop(&mut self) {
        unsafe { ffi::ec_rpc_signer_free(self.0) }
    }
}

/// The message the ping answer's Ed25519 `binding` signs: "v1-ping" \0 REQUEST_ID \0 REQUEST_SIGNATURE.
pub fn ping_binding_payload(request_id: &str, request_sig: &str) -> Result<Vec<u8>, Error> {
    let cap = request_id.len() + 8 + 1 + 64;
    let mut out = vec![0u8; cap];
    let mut len = 0usize;
    check(
        unsafe {
            ffi::ec_ping_binding_payload(
                chars(request_id), request_id.len(), chars(request_sig), request_sig.len(), out.as_mut_ptr(), cap, &mut len,
            )
        },
        "ec_ping_binding_payload",
    )?;
    out.truncate(len);
    Ok(out)
}

/// Which secret a request was signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    Current,
    Previous,
    Invalid,
}

/// A keyed verifier (the HMAC key schedule done once); thread-safe, freed and wiped on drop.
pub struct RpcVerifier(*mut c_void);

unsafe impl Send for RpcVerifier {}
unsafe impl Sync for RpcVerifier {}

impl RpcVerifier {
    pub fn new(key: &[u8], previous: Option<&[u8]>) -> Result<Self, Error> {
        let (p, n) = match previous {
            Some(k) => (k.as_ptr(), k.len()),
            None => (std::ptr::null(), 0),
        };
        let handle = unsafe { ffi::ec_rpc_verifier_new(key.as_ptr(), key.len(), p, n) };
        if handle.is_null() { Err(Error("ec_rpc_verifier_new")) } else { Ok(RpcVerifier(handle)) }
    }

    /// Constant-time check of `sig_hex` (either hex case).
    pub fn verify(&self, method: &str, path: &str, ts: &str, nonce: &str, body: &[u8], sig_hex: &str) -> Verification {
        let rc = unsafe {
            ffi::ec_rpc_verify(
                self.0, chars(method), method.len(), chars(path), path.len(), chars(ts), ts.len(), chars(nonce),
                nonce.len(), body.as_ptr(), body.len(), chars(sig_hex), sig_hex.len(),
            )
        };
        match rc {
            0 => Verification::Current,
            1 => Verification::Previous,
            _ => Verification::Invalid,
        }
    }
}

impl Drop for RpcVerifier {
    fn drop(&mut self) {
        unsafe { ffi::ec_rpc_verifier_free(self.0) }
    }
}

/// An Ed25519 signing key from a 32-byte seed; freed and wiped on drop.
pub struct Signer(*mut c_void);

unsafe impl Send for Signer {}
unsafe impl Sync for Signer {}

impl Signer {
    pub fn new(seed: &[u8; 32]) -> Result<Self, Error> {
        let handle = unsafe { ffi::ec_ed25519_signer_new(seed.as_ptr()) };
        if handle.is_null() { Err(Error("ec_ed25519_signer_new")) } else { Ok(Signer(handle)) }
    }

    pub fn public_key(&self) -> [u8; 32] {
        let mut pk = [0u8; 32];
        let rc = unsafe { ffi::ec_ed25519_signer_public_key(self.0, pk.as_mut_ptr()) };
        assert_eq!(rc, 0, "ec_ed25519_signer_public_key on a live signer");
        pk
    }

    pub fn sign(&self, msg: &[u8]) -> Result<[u8; 64], Error> {
        let mut sig = [0u8; 64];
        check(unsafe { ffi::ec_ed25519_signer_sign(self.0, msg.as_ptr(), msg.len(), sig.as_mut_ptr()) }, "ec_ed25519_signer_sign")?;
        Ok(sig)
    }
}

impl Drop for Signer {
    fn drop(&mut self) {
        unsafe { ffi::ec_ed25519_signer_free(self.0) }
    }
}

/// True when `sig` is a valid Ed25519 signature of `msg` under `pk`.
/// The attested TLS certificate (docs/contract.md §2b): DER, self-signed by `signer`, `document`
/// (the JSON GET /v1/attestation/document serves) in its one extension.
pub fn attested_certificate(signer: &Signer, document: &[u8], not_before: i64, not_after: i64) -> Result<Vec<u8>, Error> {
    let mut len = 0usize;
    unsafe {
        ffi::ec_attested_certificate(signer.0, document.as_ptr(), document.len(), not_before, not_after, std::ptr::null_mut(), 0, &mut len)
    };
    if len == 0 {
        return Err(Error("ec_attested_certificate refused its arguments"));
    }
    let mut out = vec![0u8; len];
    let rc = unsafe {
        ffi::ec_attested_certificate(signer.0, document.as_ptr(), document.len(), not_before, not_after, out.as_mut_ptr(), len, &mut len)
    };
    if rc != 0 {
        return Err(Error("ec_attested_certificate"));
    }
    Ok(out)
}

/// The document and Ed25519 key of a peer's attested certificate, or an error when it is not
/// exactly one certificate with an Ed25519 key and one document extension.
pub fn attested_certificate_document(certificate: &[u8]) -> Result<(Vec<u8>, [u8; 32]), Error> {
    let (mut len, mut pk) = (0usize, [0u8; 32]);
    unsafe {
        ffi::ec_attested_certificate_document(certificate.as_ptr(), certificate.len(), std::ptr::null_mut(), 0, &mut len, pk.as_mut_ptr())
    };
    if len == 0 {
        return Err(Error("not an attested certificate"));
    }
    let mut document = vec![0u8; len];
    let rc = unsafe {
        ffi::ec_attested_certificate_document(certificate.as_ptr(), certificate.len(), document.as_mut_ptr(), len, &mut len, pk.as_mut_ptr())
    };
    if rc != 0 {
        return Err(Error("not an attested certificate"));
    }
    Ok((document, pk))
}

pub fn verify(pk: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
    unsafe { ffi::ec_ed25519_verify(pk.as_ptr(), msg.as_ptr(), msg.len(), sig.as_ptr()) == 0 }
}

/// The canonical evidence payload of docs/contract.md §4.
#[allow(clippy::too_many_arguments)]
pub fn challenge_payload(
    runtime: &str, measurement: &str, nonce: &str, issued_at: i64, expires_at: i64, purpose: &str, request_id: &str,
    evidence_issued_at: i64,
) -> Result<Vec<u8>, Error> {
    let cap = runtime.len() + measurement.len() + nonce.len() + purpose.len() + request_id.len() + 3 * 20 + 8;
    let mut out = vec![0u8; cap];
    let mut len = 0usize;
    check(
        unsafe {
            ffi::ec_challenge_payload(
                chars(runtime), runtime.len(), chars(measurement), measurement.len(), chars(nonce), nonce.len(),
                issued_at, expires_at, chars(purpose), purpose.len(), chars(request_id), request_id.len(),
                evidence_issued_at, out.as_mut_ptr() as *mut c_char, cap, &mut len,
            )
        },
        "ec_challenge_payload",
    )?;
    out.truncate(len);
    Ok(out)
}

pub fn blake2b(input: &[u8], key: &[u8], out_len: usize) -> Result<Vec<u8>, Error> {
    let mut out = vec![0u8; out_len.max(1)];
    check(
        unsafe {
            ffi::ec_blake2b(out.as_mut_ptr(), out_len, input.as_ptr() as *const c_void, input.len(), key.as_ptr() as *const c_void, key.len())
        },
        "ec_blake2b",
    )?;
    out.truncate(out_len);
    Ok(out)
}

/// Bytes wiped when dropped (opened plaintext).
pub struct SecretBytes(Vec<u8>);

impl Deref for SecretBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for SecretBytes {
    fn drop(&mut self) {
        unsafe { ffi::ec_wipe(self.0.as_mut_ptr() as *mut c_void, self.0.len()) }
    }
}

/// AES-256-GCM: nonce || ciphertext || tag, `aad` bound in.
pub fn seal(key: &[u8; 32], aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, Error> {
    let cap = plain.len() + unsafe { ffi::ec_seal_overhead_bytes() };
    let mut out = vec![0u8; cap];
    let mut len = 0usize;
    check(
        unsafe { ffi::ec_seal(key.as_ptr(), aad.as_ptr(), aad.len(), plain.as_ptr(), plain.len(), out.as_mut_ptr(), cap, &mut len) },
        "ec_seal",
    )?;
    out.truncate(len);
    Ok(out)
}

pub fn open(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Result<SecretBytes, Error> {
    let cap = sealed.len().saturating_sub(unsafe { ffi::ec_seal_overhead_bytes() });
    let mut out = SecretBytes(vec![0u8; cap.max(1)]);
    let mut len = 0usize;
    check(
        unsafe { ffi::ec_open(key.as_ptr(), aad.as_ptr(), aad.len(), sealed.as_ptr(), sealed.len(), out.0.as_mut_ptr(), cap, &mut len) },
        "ec_open",
    )?;
    out.0.truncate(len);
    Ok(out)
}

/// Why the core refused a Nitro document or a PCR policy: its reason code and phrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NitroError {
    pub reason: i32,
    pub message: String,
}

impl fmt::Display for NitroError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "nitro document refused: {}", self.message)
    }
}

impl std::error::Error for NitroError {}

fn nitro_error(reason: i32) -> NitroError {
    let message = unsafe { CStr::from_ptr(ffi::ec_nitro_error_string(reason)) }.to_string_lossy().into_owned();
    NitroError { reason, message }
}

/// The fields of a verified AWS Nitro attestation document (docs/contract.md §3a), copied out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NitroDocument {
    pub module_id: String,
    pub digest: String,
    pub timestamp_ms: u64,
    pub pcrs: std::collections::BTreeMap<usize, Vec<u8>>,
    pub certificate: Vec<u8>,
    pub cabundle: Vec<Vec<u8>>,
    pub public_key: Option<Vec<u8>>,
    pub user_data: Option<Vec<u8>>,
    pub nonce: Option<Vec<u8>>,
}

/// The AWS Nitro Enclaves Root-G1 certificate (DER), built into the core.
pub fn aws_nitro_root_der() -> Vec<u8> {
    let mut len = 0usize;
    let root = unsafe { ffi::ec_nitro_aws_root_der(&mut len) };
    unsafe { std::slice::from_raw_parts(root, len) }.to_vec()
}

fn view(v: ffi::View) -> Option<Vec<u8>> {
    if v.data.is_null() { None } else { Some(unsafe { std::slice::from_raw_parts(v.data, v.len) }.to_vec()) }
}

/// Verifies a Nitro document at `at_ms` (Unix milliseconds) against `root_der` (the AWS root when
/// None): structure, chain, ES384 signature, and a timestamp at most `max_age_ms` old and
/// `max_future_ms` ahead.
pub fn verify_nitro_document(
    doc: &[u8], at_ms: i64, root_der: Option<&[u8]>, max_age_ms: i64, max_future_ms: i64,
) -> Result<NitroDocument, NitroError> {
    assert_eq!(std::mem::size_of::<ffi::NitroDocument>(), unsafe { ffi::ec_nitro_document_size() }, "ec_nitro_document layout");
    let aws = aws_nitro_root_der();
    let root = root_der.unwrap_or(&aws);
    let mut d = std::mem::MaybeUninit::<ffi::NitroDocument>::zeroed();
    let mut reason = 0;
    unsafe {
        if ffi::ec_nitro_verify(doc.as_ptr(), doc.len(), root.as_ptr(), root.len(), at_ms, d.as_mut_ptr(), &mut reason) != 0 {
            return Err(nitro_error(reason));
        }
        let d = d.assume_init();
        if ffi::ec_nitro_check_time(&d, at_ms, max_age_ms, max_future_ms, &mut reason) != 0 {
            return Err(nitro_error(reason));
        }
        let mut pcrs = std::collections::BTreeMap::new();
        for i in 0..32 {
            if d.pcr_present & (1 << i) != 0 {
                pcrs.insert(i, view(d.pcrs[i]).unwrap_or_default());
            }
        }
        Ok(NitroDocument {
            module_id: String::from_utf8_lossy(&view(d.module_id).unwrap_or_default()).into_owned(),
            digest: String::from_utf8_lossy(&view(d.digest).unwrap_or_default()).into_owned(),
            timestamp_ms: d.timestamp_ms,
            pcrs,
            certificate: view(d.certificate).unwrap_or_default(),
            cabundle: (0..d.cabundle_count).map(|i| view(d.cabundle[i]).unwrap_or_default()).collect(),
            public_key: view(d.public_key),
            user_data: view(d.user_data),
            nonce: view(d.nonce),
        })
    }
}

/// Whether `pcrs` satisfy a TEE_ALLOWED_PCRS policy; Err for a malformed policy.
pub fn pcrs_match(pcrs: &std::collections::BTreeMap<usize, Vec<u8>>, policy: &str, allow_debug: bool) -> Result<bool, NitroError> {
    let mut d: ffi::NitroDocument = unsafe { std::mem::zeroed() };
    for (&i, value) in pcrs.iter().filter(|(&i, _)| i < 32) {
        d.pcrs[i] = ffi::View { data: value.as_ptr(), len: value.len() };
        d.pcr_present |= 1 << i;
    }
    let mut reason = 0;
    let rc = unsafe { ffi::ec_nitro_pcrs_match(&d, chars(policy), policy.len(), allow_debug as i32, &mut reason) };
    match (rc, reason) {
        (0, _) => Ok(true),
        (_, 22) => Err(nitro_error(reason)), // EC_NITRO_POLICY_MALFORMED
        _ => Ok(false),
    }
}
