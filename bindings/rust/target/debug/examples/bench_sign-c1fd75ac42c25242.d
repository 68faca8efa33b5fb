/work/main/bindings/rust/target/debug/examples/bench_sign-c1fd75ac42c25242.d: examples/bench_sign.rs

/work/main/bindings/rust/target/debug/examples/bench_sign-c1fd75ac42c25242: examples/bench_sign.rs

examples/bench_sign.rs:
