// Links libenclave_core: from ENCLAVE_CORE_LIB_DIR when set, else wherever pkg-config says.
use std::env;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=ENCLAVE_CORE_LIB_DIR");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    let mut dirs: Vec<String> = Vec::new();
    if let Ok(dir) = env::var("ENCLAVE_CORE_LIB_DIR") {
        dirs.push(dir);
    } else if let Ok(out) = Command::new("pkg-config").args(["--libs-only-L", "enclave_core"]).output() {
        if out.status.success() {
            for flag in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                if let Some(dir) = flag.strip_prefix("-L") {
                    dirs.push(dir.to_string());
                }
            }
        }
    }
    for dir in &dirs {
        println!("cargo:rustc-link-search=native={}", dir);
        // So tests and examples find the shared library without LD_LIBRARY_PATH.
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir);
    }
    println!("cargo:rustc-link-lib=dylib=enclave_core");
}
