//! Genuine AWS Nitro documents through the safe API.
use enclave_core::*;

fn document(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../../Tests/Vectors/nitro/{}", env!("CARGO_MANIFEST_DIR"), name)).unwrap()
}

#[test]
fn genuine_documents_verify_at_their_time_and_not_today() {
    for (name, at, debug) in [
        ("evervault_ga_attestation_doc.cbor", 1695049410860i64, true),
        ("evervault_beta_valid-attestation-doc.cbor", 1665651482136, false),
        ("evervault_beta_debug-mode-attestation-doc.cbor", 1665582606081, true),
    ] {
        let doc = verify_nitro_document(&document(name), at, None, 300_000, 30_000).unwrap();
        assert_eq!(doc.timestamp_ms as i64, at);
        assert_eq!(doc.cabundle[0], aws_nitro_root_der());
        assert_eq!(doc.pcrs.len(), 16);
        let zeros = format!("0={}", "00".repeat(48));
        assert_eq!(pcrs_match(&doc.pcrs, &zeros, false).unwrap(), false);
        assert_eq!(pcrs_match(&doc.pcrs, &zeros, true).unwrap(), debug);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
        assert_eq!(verify_nitro_document(&document(name), now, None, 300_000, 30_000).unwrap_err().reason, 17); // expired
        assert_eq!(verify_nitro_document(&document(name), at + 300_001, None, 300_000, 30_000).unwrap_err().reason, 20); // stale
    }
    assert!(pcrs_match(&Default::default(), "0=zz", false).is_err());
}
