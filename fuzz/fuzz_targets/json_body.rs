#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = tack_fuzz::json_body(data);
});
