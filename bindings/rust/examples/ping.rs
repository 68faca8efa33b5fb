//! A signed ping from Rust over plain HTTP/1.1 (std only): `ping HOST:PORT` with
//! ENCLAVE_RPC_SHARED_SECRET. The answer is trusted only when its x-alfred-rpc-response-signature
//! verifies for this request (docs/contract.md §2a) and its `binding` verifies with the attested
//! key: TEE_ATTESTATION_PUBLIC_KEY when pinned, else the key the document publishes (local
//! development; said on stderr). Exits 0 and prints the body only then; otherwise prints why.
//!
//! With ENCLAVE_RUNTIME_TLS=attested (docs/contract.md §2b) the connection is TLS 1.3 through the
//! system's OpenSSL: after the handshake and before anything is sent, the certificate's document
//! (read by the core) must publish the certificate's key, which must be the pinned key (or, with
//! none pinned, the document a dev-shim one); the binding then verifies with that key. A refused
//! channel prints channel_not_attested.
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::os::raw::{c_int, c_long, c_void};
use std::time::{SystemTime, UNIX_EPOCH};

// The few OpenSSL 3 calls a TLS client needs (libssl, libcrypto), declared by hand: no registry.
#[link(name = "ssl")]
#[link(name = "crypto")]
extern "C" {
    fn TLS_client_method() -> *const c_void;
    fn SSL_CTX_new(method: *const c_void) -> *mut c_void;
    fn SSL_CTX_free(ctx: *mut c_void);
    fn SSL_CTX_ctrl(ctx: *mut c_void, cmd: c_int, larg: c_long, parg: *mut c_void) -> c_long;
    fn SSL_new(ctx: *mut c_void) -> *mut c_void;
    fn SSL_free(ssl: *mut c_void);
    fn SSL_set_fd(ssl: *mut c_void, fd: c_int) -> c_int;
    fn SSL_connect(ssl: *mut c_void) -> c_int;
    fn SSL_get1_peer_certificate(ssl: *const c_void) -> *mut c_void;
    fn SSL_write(ssl: *mut c_void, buf: *const c_void, num: c_int) -> c_int;
    fn SSL_read(ssl: *mut c_void, buf: *mut c_void, num: c_int) -> c_int;
    fn i2d_X509(x: *mut c_void, out: *mut *mut u8) -> c_int;
    fn X509_free(x: *mut c_void);
}
const SSL_CTRL_SET_MIN_PROTO_VERSION: c_int = 123;
const SSL_CTRL_SET_MAX_PROTO_VERSION: c_int = 124;
const TLS1_3_VERSION: c_long = 0x0304;

/// One HTTP/1.1 exchange over TLS 1.3 on a fresh connection, sent only once `accept(certificate DER)`
/// returned the channel's key: (status, headers, body, key).
fn tls_exchange(addr: &str, request: &str, accept: impl Fn(&[u8]) -> Option<[u8; 32]>) -> (u16, Vec<(String, String)>, Vec<u8>, [u8; 32]) {
    let stream = TcpStream::connect(addr).unwrap_or_else(|_| fail("unreachable"));
    unsafe {
        let ctx = SSL_CTX_new(TLS_client_method());
        if ctx.is_null() {
            fail("unreachable");
        }
        SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_3_VERSION, std::ptr::null_mut());
        SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MAX_PROTO_VERSION, TLS1_3_VERSION, std::ptr::null_mut());
        let ssl = SSL_new(ctx);
        if ssl.is_null() || SSL_set_fd(ssl, stream.as_raw_fd()) != 1 || SSL_connect(ssl) != 1 {
            fail("unreachable");
        }
        // No chain and no host name: the document decides, before a byte of the request is sent.
        let cert = SSL_get1_peer_certificate(ssl);
        let len = if cert.is_null() { 0 } else { i2d_X509(cert, std::ptr::null_mut()) };
        let mut der = vec![0u8; len.max(0) as usize];
        let mut cursor = der.as_mut_ptr();
        if len <= 0 || i2d_X509(cert, &mut cursor) != len {
            fail("channel_not_attested");
        }
        X509_free(cert);
        let key = accept(&der).unwrap_or_else(|| fail("channel_not_attested"));
        if SSL_write(ssl, request.as_ptr() as *const c_void, request.len() as c_int) != request.len() as c_int {
            fail("unreachable");
        }
        let mut raw = Vec::new();
        let mut chunk = [0u8; 16384];
        loop {
            let n = SSL_read(ssl, chunk.as_mut_ptr() as *mut c_void, chunk.len() as c_int);
            if n <= 0 {
                break;
            }
            raw.extend_from_slice(&chunk[..n as usize]);
        }
        SSL_free(ssl);
        SSL_CTX_free(ctx);
        let (status, headers, body) = parse(&raw);
        (status, headers, body, key)
    }
}

/// The channel's key when the certificate's document vouches for it under the pin (or, unpinned, is dev-shim).
fn channel_key(der: &[u8], pinned: Option<[u8; 32]>) -> Option<[u8; 32]> {
    let (document, key) = enclave_core::attested_certificate_document(der).ok()?;
    let text = String::from_utf8(document).ok()?;
    let published: [u8; 32] = base64_decode(&json_string(&text, "public_key")?)?.try_into().ok()?;
    let allowed = match pinned {
        Some(pin) => pin == key,
        None => text.contains("\"dev_shim\":true"),
    };
    (published == key && allowed).then_some(key)
}

/// One HTTP/1.1 exchange on a fresh connection: (status, lowercased headers, body).
fn exchange(addr: &str, request: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap_or_else(|_| fail("unreachable"));
    stream.write_all(request.as_bytes()).unwrap_or_else(|_| fail("unreachable"));
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap_or_else(|_| fail("unreachable"));
    parse(&raw)
}

fn parse(raw: &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or_else(|| fail("invalid_response"));
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':').map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string())))
        .collect();
    (status, headers, raw[split + 4..].to_vec())
}

fn fail(word: &str) -> ! {
    eprintln!("{}", word);
    std::process::exit(1)
}

/// The string value of `key` in compact flat JSON (the runtime's own output).
fn json_string(json: &str, key: &str) -> Option<String> {
    let start = json.find(&format!("\"{}\":\"", key))? + key.len() + 4;
    let end = json[start..].find('"')?;
    Some(json[start..start + end].to_string())
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if text.len() % 4 != 0 {
        return None;
    }
    let mut out = Vec::new();
    for chunk in text.as_bytes().chunks(4) {
        let mut value = 0u32;
        let mut pad = 0;
        for &c in chunk {
            value <<= 6;
            if c == b'=' {
                pad += 1;
            } else if pad > 0 {
                return None;
            } else {
                value |= ALPHABET.iter().position(|&a| a == c)? as u32;
            }
        }
        let bytes = [(value >> 16) as u8, (value >> 8) as u8, value as u8];
        out.extend_from_slice(&bytes[..3 - pad.min(2)]);
    }
    Some(out)
}

fn main() {
    let addr = std::env::args().nth(1).expect("usage: ping HOST:PORT");
    let secret = std::env::var("ENCLAVE_RPC_SHARED_SECRET").unwrap_or_else(|_| "local-dev-enclave-rpc-secret".into());
    let attested = std::env::var("ENCLAVE_RUNTIME_TLS").map(|v| v == "attested").unwrap_or(false);
    let pinned_text = std::env::var("TEE_ATTESTATION_PUBLIC_KEY").ok().filter(|p| !p.is_empty());
    let key_text = match pinned_text.clone() {
        _ if attested => String::new(), // the channel's key, from its handshake
        Some(pinned) => pinned,
        _ => {
            let (status, _, body) = exchange(&addr, &format!("GET /v1/attestation/document HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n\r\n", addr));
            if status != 200 {
                fail("bad_document");
            }
            eprintln!("warning: no pinned key; trusting the key the document publishes");
            json_string(&String::from_utf8_lossy(&body), "public_key").unwrap_or_else(|| fail("bad_document"))
        }
    };
    let pinned: Option<[u8; 32]> = pinned_text.map(|p| base64_decode(&p).and_then(|k| k.try_into().ok()).unwrap_or_else(|| fail("bad pinned key")));
    let mut key: [u8; 32] = if attested { [0; 32] } else {
        base64_decode(&key_text).and_then(|k| k.try_into().ok()).unwrap_or_else(|| fail("bad_document"))
    };

    let signer = enclave_core::RpcSigner::new(secret.as_bytes()).unwrap_or_else(|_| fail("empty secret"));
    let ts = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs().to_string();
    let nonce_bytes = enclave_core::blake2b(format!("{:?}{}", SystemTime::now(), std::process::id()).as_bytes(), b"", 16).unwrap();
    let nonce: String = nonce_bytes.iter().map(|b| format!("{:02x}", b)).collect();
    let request_id = format!("rust-{}", &nonce[..8]);
    let body = format!(r#"{{"contract_version":"v1","request_id":"{}"}}"#, request_id);
    let sig = signer.sign_hex("POST", "/v1/rpc/ping", &ts, &nonce, body.as_bytes()).unwrap();
    let request = format!(
        "POST /v1/rpc/ping HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\nx-alfred-rpc-version: v1\r\nx-alfred-rpc-ts: {}\r\nx-alfred-rpc-nonce: {}\r\nx-alfred-rpc-signature: {}\r\n\r\n{}",
        addr, body.len(), ts, nonce, sig, body
    );
    let (status, headers, answer) = if attested {
        let (status, headers, answer, channel) = tls_exchange(&addr, &request, |der| channel_key(der, pinned));
        key = channel;
        (status, headers, answer)
    } else {
        exchange(&addr, &request)
    };
    let signatures: Vec<&String> = headers.iter().filter(|(n, _)| n == "x-alfred-rpc-response-signature").map(|(_, v)| v).collect();
    if signatures.len() != 1 || !signer.verify_response(&sig, status, &answer, signatures[0]) {
        fail(&format!("answer_not_authenticated (status {})", status));
    }
    let text = String::from_utf8_lossy(&answer).to_string();
    if status != 200 {
        fail(&json_string(&text, "code").unwrap_or_else(|| format!("http_{}", status)));
    }
    let binding = json_string(&text, "binding").and_then(|b| base64_decode(&b)).and_then(|b| <[u8; 64]>::try_from(b).ok());
    let message = enclave_core::ping_binding_payload(&request_id, &sig).unwrap();
    match binding {
        Some(binding) if enclave_core::verify(&key, &message, &binding) => println!("{}", text),
        _ => fail("answer_not_authenticated (binding)"),
    }
}
