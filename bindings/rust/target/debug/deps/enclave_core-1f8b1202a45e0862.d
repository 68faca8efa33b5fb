/work/main/bindings/rust/target/debug/deps/enclave_core-1f8b1202a45e0862.d: src/lib.rs src/ffi.rs

/work/main/bindings/rust/target/debug/deps/libenclave_core-1f8b1202a45e0862.rlib: src/lib.rs src/ffi.rs

/work/main/bindings/rust/target/debug/deps/libenclave_core-1f8b1202a45e0862.rmeta: src/lib.rs src/ffi.rs

src/lib.rs:
src/ffi.rs:
