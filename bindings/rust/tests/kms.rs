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

/// A CiphertextForRecipient that tools/kms/cms_for_key.py (`openssl cms`) made for `spki`;
/// `options` replace KMS's shape.
fn cms_for_key(plain: &[u8], spki: &[u8], options: &[&str]) -> Vec<u8> {
    use std::io::Write;
    let key = std::env::temp_dir().join(format!("enclave-core-kms-{}.der", std::process::id()));
    fs::write(&key, spki).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tools/kms/cms_for_key.py");
    let mut command = Command::new("/usr/bin/python3");
    command.arg(script).arg(&key);
    if !options.is_empty() {
        command.arg("--").args(options);
    }
    let mut child = command.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(plain).unwrap();
    let out = child.wait_with_output().unwrap();
    fs::remove_file(&key).ok();
    assert!(out.status.success(), "cms_for_key.py {options:?}");
    out.stdout
}

#[test]
fn ciphertext_for_recipient() {
    let recipient = KmsRecipient::new().unwrap();
    let spki = recipient.public_key().unwrap();
    assert_eq!(spki.len(), 294);
    let key: Vec<u8> = (0u8..32).collect();
    assert_eq!(&recipient.open(&cms_for_key(&key, &spki, &[])).unwrap()[..], &key[..]);
    let refused = |cms: &[u8]| recipient.open(cms).err().expect("refused");
    let sha1 = refused(&cms_for_key(&key, &spki, &["-outform", "DER", "-aes-256-cbc", "-keyopt", "rsa_padding_mode:oaep"]));
    assert_eq!(sha1.reason, 4, "{}", sha1.message);
    assert_eq!(refused(b"not cms").reason, 1);
}
