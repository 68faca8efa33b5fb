/work/main/bindings/rust/target/debug/deps/enclave_core-05c5b92cb31264c9.d: src/lib.rs src/ffi.rs

/work/main/bindings/rust/target/debug/deps/enclave_core-05c5b92cb31264c9: src/lib.rs src/ffi.rs

src/lib.rs:
src/ffi.rs:
