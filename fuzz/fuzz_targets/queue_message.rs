#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| gen3d_fuzz_targets::queue_message(data));
