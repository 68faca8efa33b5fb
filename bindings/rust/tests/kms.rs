//! SigV4 against AWS's test suite (two cases here; all 38 in bindings/python/tests/test_sigv4.py)
//! and the CMS opener against `openssl cms -encrypt`.
use enclave_core::kms::{KmsRecipient, SigV4Request};
use std::fs;
use std::process::Command;

const SUITE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../Tests/Vectors/sigv4");

fn expected(case: &str, file: &str) -> String {
    fs::read_to_string(format!("{SUITE}/{case}/{file}")).unwrap().trim_end_matches('\n').to_string()
}

fn suite_request<'a>(method: &'a str, headers: &'a [(&'a str, &'a str)], token: &'a str) -> SigV4Request<'a> {
    SigV4Request {
        method, path: "/", query: "", headers, payload: b"", amz_date: "20150830T123600Z", region: "us-east-1", service: "service",
        access_key_id: "AKIDEXAMPLE", secret_access_key: b"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", session_token: token,
        normalize_path: true, sign_payload_header: false,
    }
}

#[test]
fn aws_signing_test_suite() {
    let host = [("Host", "example.amazonaws.com")];
    let token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
    for (case, method, token) in [("get-vanilla-with-session-token", "GET", token), ("post-vanilla", "POST", "")] {
        let request = suite_request(method, &host, token);
        assert_eq!(request.canonical_request().unwrap(), expected(case, "header-canonical-request.txt"), "{case}");
        assert_eq!(request.string_to_sign().unwrap(), expected(case, "header-string-to-sign.txt"), "{case}");
        assert!(request.authorization().unwrap().ends_with(&format!("Signature={}", expected(case, "header-signature.txt"))));
    }
    let bad = SigV4Request { amz_date: "2015-08-30", ..suite_request("GET", &host, "") };
    assert!(bad.authorization().is_err());
}

fn openssl(args: &[&str], input: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "openssl {args:?}");
    out.stdout
}

#[test]
fn ciphertext_for_recipient() {
    let recipient = KmsRecipient::new().unwrap();
    let spki = recipient.public_key().unwrap();
    assert_eq!(spki.len(), 294);
    let dir = std::env::temp_dir().join(format!("enclave-core-kms-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
    fs::write(path("pub.pem"), openssl(&["pkey", "-pubin", "-inform", "DER"], &spki)).unwrap();
    openssl(&["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", &path("ca.key"), "-out", &path("ca.pem"), "-subj", "/CN=ca", "-days", "1"], b"");
    openssl(&["req", "-new", "-key", &path("ca.key"), "-subj", "/CN=r", "-out", &path("csr.pem")], b"");
    openssl(&["x509", "-req", "-in", &path("csr.pem"), "-CA", &path("ca.pem"), "-CAkey", &path("ca.key"), "-CAcreateserial",
              "-force_pubkey", &path("pub.pem"), "-days", "1", "-out", &path("cert.pem")], b"");
    let key: Vec<u8> = (0u8..32).collect();
    let cert = path("cert.pem");
    let mut args = vec!["cms", "-encrypt", "-binary", "-outform", "DER", "-stream", "-aes-256-cbc", "-recip", &cert];
    let oaep = ["-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256", "-keyopt", "rsa_mgf1_md:sha256"];
    let sha1 = openssl(&[&args[..], &oaep[..2]].concat(), &key);
    args.extend_from_slice(&oaep);
    let ber = openssl(&args, &key);
    assert_eq!(&recipient.open(&ber).unwrap()[..], &key[..]);
    let refused = |cms: &[u8]| recipient.open(cms).err().expect("refused");
    let sha1_refusal = refused(&sha1);
    assert_eq!(sha1_refusal.reason, 4, "{}", sha1_refusal.message);
    assert_eq!(refused(b"not cms").reason, 1);
    fs::remove_dir_all(&dir).ok();
}
