//! A signed ping from Rust over plain HTTP/1.1 (std only): `ping HOST:PORT` with
//! ENCLAVE_RPC_SHARED_SECRET; exits 0 when the enclave answers 200, else prints the status line.
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    let addr = std::env::args().nth(1).expect("usage: ping HOST:PORT");
    let secret = std::env::var("ENCLAVE_RPC_SHARED_SECRET").unwrap_or_else(|_| "local-dev-enclave-rpc-secret".into());
    let ts = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs().to_string();
    let nonce_bytes = enclave_core::blake2b(format!("{:?}{}", SystemTime::now(), std::process::id()).as_bytes(), b"", 16).unwrap();
    let nonce: String = nonce_bytes.iter().map(|b| format!("{:02x}", b)).collect();
    let body = format!(r#"{{"contract_version":"v1","request_id":"rust-{}"}}"#, &nonce[..8]);
    let sig = enclave_core::sign_hex(secret.as_bytes(), "POST", "/v1/rpc/ping", &ts, &nonce, body.as_bytes()).unwrap();
    let request = format!(
        "POST /v1/rpc/ping HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\nx-alfred-rpc-version: v1\r\nx-alfred-rpc-ts: {}\r\nx-alfred-rpc-nonce: {}\r\nx-alfred-rpc-signature: {}\r\n\r\n{}",
        addr, body.len(), ts, nonce, sig, body
    );
    let mut stream = TcpStream::connect(&addr).expect("connect");
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status_line = answer.lines().next().unwrap_or("").to_string();
    if status_line.contains(" 200 ") {
        println!("{}", answer.split("\r\n\r\n").nth(1).unwrap_or(""));
    } else {
        eprintln!("{}", status_line);
        std::process::exit(1);
    }
}
