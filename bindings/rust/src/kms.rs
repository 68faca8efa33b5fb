//! The KMS release's pieces in the core (docs/contract.md §3b): AWS Signature Version 4 for
//! header-signed requests, and the per-start RSA-2048 recipient key that opens KMS's
//! `CiphertextForRecipient` strictly.
use crate::{Error, SecretBytes};
use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_void};

#[repr(C)]
struct Header {
    name: *const c_char,
    name_len: usize,
    value: *const c_char,
    value_len: usize,
}

#[repr(C)]
struct Request {
    method: *const c_char,
    method_len: usize,
    path: *const c_char,
    path_len: usize,
    query: *const c_char,
    query_len: usize,
    headers: *const Header,
    header_count: usize,
    payload: *const u8,
    payload_len: usize,
    amz_date: *const c_char,
    region: *const c_char,
    region_len: usize,
    service: *const c_char,
    service_len: usize,
    access_key_id: *const c_char,
    access_key_id_len: usize,
    secret_access_key: *const u8,
    secret_access_key_len: usize,
    session_token: *const c_char,
    session_token_len: usize,
    normalize_path: c_int,
    sign_payload_header: c_int,
}

extern "C" {
    fn ec_sigv4_canonical_request(r: *const Request, out: *mut c_char, cap: usize, len: *mut usize) -> c_int;
    fn ec_sigv4_string_to_sign(r: *const Request, out: *mut c_char, cap: usize, len: *mut usize) -> c_int;
    fn ec_sigv4_authorization(r: *const Request, out: *mut c_char, cap: usize, len: *mut usize) -> c_int;
    fn ec_kms_recipient_new() -> *mut c_void;
    fn ec_kms_recipient_free(r: *mut c_void);
    fn ec_kms_recipient_public_key(r: *const c_void, out: *mut u8, cap: usize, len: *mut usize) -> c_int;
    fn ec_kms_recipient_open(
        r: *const c_void, cms: *const u8, cms_len: usize, out: *mut u8, cap: usize, len: *mut usize, reason: *mut c_int,
    ) -> c_int;
    fn ec_cms_reason_string(reason: c_int) -> *const c_char;
}

/// A request to sign. `headers` exclude x-amz-date (from `amz_date`, `YYYYMMDDTHHMMSSZ`), which
/// the signer adds, as it adds x-amz-security-token for a non-empty `session_token`.
pub struct SigV4Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub payload: &'a [u8],
    pub amz_date: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    pub access_key_id: &'a str,
    pub secret_access_key: &'a [u8],
    pub session_token: &'a str,
    pub normalize_path: bool,
    pub sign_payload_header: bool,
}

type TextFn = unsafe extern "C" fn(*const Request, *mut c_char, usize, *mut usize) -> c_int;

impl SigV4Request<'_> {
    fn text(&self, f: TextFn, what: &'static str) -> Result<String, Error> {
        let headers: Vec<Header> = self
            .headers
            .iter()
            .map(|(n, v)| Header { name: n.as_ptr() as *const c_char, name_len: n.len(), value: v.as_ptr() as *const c_char, value_len: v.len() })
            .collect();
        let date = std::ffi::CString::new(self.amz_date).map_err(|_| Error(what))?;
        let r = Request {
            method: self.method.as_ptr() as *const c_char,
            method_len: self.method.len(),
            path: self.path.as_ptr() as *const c_char,
            path_len: self.path.len(),
            query: self.query.as_ptr() as *const c_char,
            query_len: self.query.len(),
            headers: headers.as_ptr(),
            header_count: headers.len(),
            payload: self.payload.as_ptr(),
            payload_len: self.payload.len(),
            amz_date: date.as_ptr(),
            region: self.region.as_ptr() as *const c_char,
            region_len: self.region.len(),
            service: self.service.as_ptr() as *const c_char,
            service_len: self.service.len(),
            access_key_id: self.access_key_id.as_ptr() as *const c_char,
            access_key_id_len: self.access_key_id.len(),
            secret_access_key: self.secret_access_key.as_ptr(),
            secret_access_key_len: self.secret_access_key.len(),
            session_token: self.session_token.as_ptr() as *const c_char,
            session_token_len: self.session_token.len(),
            normalize_path: self.normalize_path as c_int,
            sign_payload_header: self.sign_payload_header as c_int,
        };
        let mut len = 0usize;
        unsafe { f(&r, std::ptr::null_mut(), 0, &mut len) };
        if len == 0 {
            return Err(Error(what));
        }
        let mut out = vec![0u8; len + 1];
        if unsafe { f(&r, out.as_mut_ptr() as *mut c_char, out.len(), &mut len) } != 0 {
            return Err(Error(what));
        }
        out.truncate(len);
        String::from_utf8(out).map_err(|_| Error(what))
    }

    pub fn canonical_request(&self) -> Result<String, Error> {
        self.text(ec_sigv4_canonical_request, "ec_sigv4_canonical_request")
    }

    pub fn string_to_sign(&self) -> Result<String, Error> {
        self.text(ec_sigv4_string_to_sign, "ec_sigv4_string_to_sign")
    }

    /// The Authorization header's value.
    pub fn authorization(&self) -> Result<String, Error> {
        self.text(ec_sigv4_authorization, "ec_sigv4_authorization")
    }
}

/// Why a `CiphertextForRecipient` was refused: the core's `EC_CMS_` code and its sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmsRefused {
    pub reason: i32,
    pub message: String,
}

/// An RSA-2048 key pair made in the core; only its public half leaves it. Freed on drop.
pub struct KmsRecipient(*mut c_void);

impl KmsRecipient {
    pub fn new() -> Result<Self, Error> {
        let handle = unsafe { ec_kms_recipient_new() };
        if handle.is_null() { Err(Error("ec_kms_recipient_new")) } else { Ok(KmsRecipient(handle)) }
    }

    /// DER SubjectPublicKeyInfo.
    pub fn public_key(&self) -> Result<Vec<u8>, Error> {
        let mut len = 0usize;
        unsafe { ec_kms_recipient_public_key(self.0, std::ptr::null_mut(), 0, &mut len) };
        let mut out = vec![0u8; len.max(1)];
        if unsafe { ec_kms_recipient_public_key(self.0, out.as_mut_ptr(), out.len(), &mut len) } != 0 {
            return Err(Error("ec_kms_recipient_public_key"));
        }
        out.truncate(len);
        Ok(out)
    }

    /// The content of a strict CMS EnvelopedData for this key (at most 4 KiB of it).
    pub fn open(&self, cms: &[u8]) -> Result<SecretBytes, CmsRefused> {
        let mut out = SecretBytes(vec![0u8; 4096]);
        let (mut len, mut reason) = (0usize, 0 as c_int);
        let rc = unsafe { ec_kms_recipient_open(self.0, cms.as_ptr(), cms.len(), out.0.as_mut_ptr(), out.0.len(), &mut len, &mut reason) };
        if rc != 0 {
            let message = unsafe { CStr::from_ptr(ec_cms_reason_string(reason)) }.to_string_lossy().into_owned();
            return Err(CmsRefused { reason, message });
        }
        out.0.truncate(len);
        Ok(out)
    }
}

impl Drop for KmsRecipient {
    fn drop(&mut self) {
        unsafe { ec_kms_recipient_free(self.0) }
    }
}

// The handle is only read after it is made; the core's calls on it are reentrant.
unsafe impl Send for KmsRecipient {}
unsafe impl Sync for KmsRecipient {}
