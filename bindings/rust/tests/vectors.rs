//! The published vectors (flattened by Tests/Vectors/flatten.py into build/c/vectors.txt by
//! `make check-c`), the cross-language table, rotation and sealing.
use enclave_core::*;
use std::fs;

fn unhex(s: &str) -> Vec<u8> {
    if s == "-" {
        return Vec::new();
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn published_vectors() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../build/c/vectors.txt");
    let text = fs::read_to_string(path).expect("run `make build/c/vectors.txt` first");
    let mut counts = [0usize; 4];
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f[0] {
            "hmac" => {
                let (key, msg, tag) = (unhex(f[1]), unhex(f[2]), unhex(f[3]));
                let mac = hmac_sha256(&key, &msg).unwrap();
                assert_eq!(mac[..tag.len()] == tag[..], f[4] == "1", "{}", line);
                counts[0] += 1;
            }
            "ed25519_verify" => {
                let (pk, msg, sig) = (unhex(f[1]), unhex(f[2]), unhex(f[3]));
                let ok = pk.len() == 32 && sig.len() == 64 && verify(pk[..].try_into().unwrap(), &msg, sig[..].try_into().unwrap());
                assert_eq!(ok, f[4] == "1", "{}", line);
                counts[1] += 1;
            }
            "ed25519_sign" => {
                let seed: [u8; 32] = unhex(f[1])[..].try_into().unwrap();
                let signer = Signer::new(&seed).unwrap();
                assert_eq!(signer.public_key().to_vec(), unhex(f[2]));
                assert_eq!(signer.sign(&unhex(f[3])).unwrap().to_vec(), unhex(f[4]));
                counts[2] += 1;
            }
            "blake2b" => {
                assert_eq!(blake2b(&unhex(f[1]), &unhex(f[2]), 64).unwrap(), unhex(f[3]));
                counts[3] += 1;
            }
            _ => {}
        }
    }
    assert_eq!(counts, [181, 151, 5, 256]);
}

#[test]
fn cross_language_table() {
    // The same inputs and signature as the Swift, Python and C tests.
    let sig = sign_hex(
        b"local-dev-enclave-rpc-secret", "POST", "/v1/rpc/ping", "1767225600", "nonce-0123456789abcdef0123456789ab",
        br#"{"contract_version":"v1","request_id":"r-3"}"#,
    )
    .unwrap();
    assert_eq!(sig, "1ce3361b9f42bbd4ec0cf8f329e9fa5f0e6f544bd93e92be0ade8adf9cfb0a03");
}

#[test]
fn rotation_and_tampering() {
    let (cur, prev) = (b"current-secret-0123456789".as_ref(), b"previous-secret-0123456789".as_ref());
    let v = RpcVerifier::new(cur, Some(prev)).unwrap();
    let body = br#"{"contract_version":"v1","request_id":"r"}"#;
    let sign = |k: &[u8]| sign_hex(k, "POST", "/v1/rpc/ping", "1", "n", body).unwrap();
    assert_eq!(v.verify("POST", "/v1/rpc/ping", "1", "n", body, &sign(cur)), Verification::Current);
    assert_eq!(v.verify("POST", "/v1/rpc/ping", "1", "n", body, &sign(prev)), Verification::Previous);
    assert_eq!(v.verify("POST", "/v1/rpc/ping", "1", "n", body, &sign(b"other-secret-0123456789")), Verification::Invalid);
    assert_eq!(v.verify("POST", "/v1/rpc/ping", "1", "n", body, &sign(cur).to_uppercase()), Verification::Current);
    assert_eq!(v.verify("POST", "/v1/rpc/ping", "2", "n", body, &sign(cur)), Verification::Invalid);
}

#[test]
fn seal_open_and_payload() {
    let key = [7u8; 32];
    let sealed = seal(&key, b"aad", b"refresh-token").unwrap();
    assert_eq!(&*open(&key, b"aad", &sealed).unwrap(), b"refresh-token");
    assert!(open(&key, b"aad!", &sealed).is_err());
    for i in 0..sealed.len() {
        let mut t = sealed.clone();
        t[i] ^= 1;
        assert!(open(&key, b"aad", &t).is_err());
    }
    assert_eq!(challenge_payload("nitro", "m", "n", 1, 2, "p", "r", 3).unwrap(), b"nitro|m|n|1|2|p|r|3".to_vec());
    assert!(challenge_payload("nitro", "m|x", "n", 1, 2, "p", "r", 3).is_err());
    assert_eq!(version(), "1.5.0");
}

#[test]
fn empty_keys_are_refused() {
    assert!(RpcVerifier::new(b"real-secret-0123456789", Some(b"")).is_err());
    assert!(RpcVerifier::new(b"", None).is_err());
    assert!(RpcSigner::new(b"").is_err());
    assert!(sign_hex(b"", "POST", "/v1/rpc/ping", "1", "n", b"{}").is_err());
}

#[test]
fn authenticated_answers() {
    let signer = RpcSigner::new(b"current-secret-0123456789abcdef").unwrap();
    let request = signer.sign_hex("POST", "/v1/rpc/ping", "1767225600", "n-1", b"{}").unwrap();
    let body = br#"{"contract_version":"v1","request_id":"r-1"}"#;
    let answer = signer.sign_response_hex(&request, 200, body).unwrap();
    let mut message = b"v1-response\0".to_vec();
    message.extend_from_slice(request.as_bytes());
    message.extend_from_slice(b"\0200\0");
    message.extend_from_slice(body);
    let want: String = hmac_sha256(b"current-secret-0123456789abcdef", &message).unwrap().iter().map(|b| format!("{:02x}", b)).collect();
    assert_eq!(answer, want);
    assert!(signer.verify_response(&request.to_uppercase(), 200, body, &answer));
    assert!(!signer.verify_response(&request, 201, body, &answer));
    assert!(!signer.verify_response(&request, 200, b"{}", &answer));
    assert!(!signer.verify_response(&request, 200, body, ""));
    let mut binding = b"v1-ping\0r-1\0".to_vec();
    binding.extend_from_slice(request.as_bytes());
    assert_eq!(ping_binding_payload("r-1", &request.to_uppercase()).unwrap(), binding);
}

#[test]
fn attested_certificate_round_trip() {
    let signer = Signer::new(&[7u8; 32]).unwrap();
    let document = br#"{"runtime":"nitro","measurement":"m","dev_shim":true}"#;
    let der = attested_certificate(&signer, document, 1_796_638_500, 1_796_724_900).unwrap();
    let (back, key) = attested_certificate_document(&der).unwrap();
    assert_eq!(back, document.to_vec());
    assert_eq!(key, signer.public_key());
    let mut trailing = der.clone();
    trailing.push(0);
    assert!(attested_certificate_document(&trailing).is_err());
    assert!(attested_certificate_document(&der[..der.len() - 1]).is_err());
    assert!(attested_certificate(&signer, b"", 0, 1).is_err());
}
