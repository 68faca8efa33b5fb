/work/main/bindings/rust/target/debug/deps/vectors-6e3c3241a062052b.d: tests/vectors.rs

/work/main/bindings/rust/target/debug/deps/vectors-6e3c3241a062052b: tests/vectors.rs

tests/vectors.rs:

# env-dep:CARGO_MANIFEST_DIR=/work/main/bindings/rust
