//! A signed ping from Rust over plain HTTP/1.1 (std only): `ping HOST:PORT` with
//! ENCLAVE_RPC_SHARED_SECRET. The answer is trusted only when its x-alfred-rpc-response-signature
//! verifies for this request (docs/contract.md §2a) and its `binding` verifies with the attested
//! key: TEE_ATTESTATION_PUBLIC_KEY when pinned, else the key the document publishes (local
//! development; said on stderr). Exits 0 and prints the body only then; otherwise prints why.
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{SystemTime, UNIX_EPOCH};

/// One HTTP/1.1 exchange on a fresh connection: (status, lowercased headers, body).
fn exchange(addr: &str, request: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap_or_else(|_| fail("unreachable"));
    stream.write_all(request.as_bytes()).unwrap_or_else(|_| fail("unreachable"));
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap_or_else(|_| fail("unreachable"));
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
    let key_text = match std::env::var("TEE_ATTESTATION_PUBLIC_KEY") {
        Ok(pinned) if !pinned.is_empty() => pinned,
        _ => {
            let (status, _, body) = exchange(&addr, &format!("GET /v1/attestation/document HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n\r\n", addr));
            if status != 200 {
                fail("bad_document");
            }
            eprintln!("warning: no pinned key; trusting the key the document publishes");
            json_string(&String::from_utf8_lossy(&body), "public_key").unwrap_or_else(|| fail("bad_document"))
        }
    };
    let key: [u8; 32] = base64_decode(&key_text).and_then(|k| k.try_into().ok()).unwrap_or_else(|| fail("bad_document"));

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
    let (status, headers, answer) = exchange(&addr, &request);
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
