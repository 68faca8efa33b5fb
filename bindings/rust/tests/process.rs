//! Its own test binary, so protecting this process leaves the other tests' processes as they are.
use enclave_core::*;

#[test]
fn protect_process_turns_off_core_files_and_dumping() {
    assert!(!process_is_protected());
    protect_process().unwrap();
    assert!(process_is_protected());
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let core = limits.lines().find(|l| l.starts_with("Max core file size")).unwrap();
    assert_eq!(core.split_whitespace().skip(4).take(2).collect::<Vec<_>>(), ["0", "0"]);
}
