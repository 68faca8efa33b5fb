//! Per-call cost of request signing through the crate (ns/call), for scripts/bench_bindings.py.
use std::time::Instant;

fn main() {
    let body = vec![b'x'; 256];
    let n = 200_000;
    let start = Instant::now();
    let mut last = String::new();
    for _ in 0..n {
        last = enclave_core::sign_hex(b"bench-shared-secret-0123456789abcdef", "POST", "/v1/rpc/google/token/exchange", "1767225600", "0123456789abcdef0123456789abcdef", &body).unwrap();
    }
    let per_call = start.elapsed().as_nanos() as f64 / n as f64;
    println!("{:.0} {}", per_call, &last[..8]);
}
