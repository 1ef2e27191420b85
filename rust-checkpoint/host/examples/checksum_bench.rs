// SPDX-License-Identifier: GPL-2.0

//! Prints the throughput of the image checksum (XXH64, as the kernel runs
//! it) next to copying the same pages and next to CRC32C with the SSE4.2
//! instruction, the alternative the kernel's `lib/` offers.
//!
//!     cargo run --release --example checksum_bench

use ckpt_format::format::checksum::Xxh64;
use std::hint::black_box;
use std::time::Instant;

const PAGE: usize = 4096;
const PAGES: usize = 16 * 1024; // 64 MiB, larger than the caches
const ROUNDS: usize = 10;

fn gbps(bytes: usize, secs: f64) -> f64 {
    bytes as f64 / secs / 1e9
}

fn time(mut f: impl FnMut()) -> f64 {
    f(); // warm up
    let t = Instant::now();
    for _ in 0..ROUNDS {
        f();
    }
    t.elapsed().as_secs_f64()
}

#[cfg(target_arch = "x86_64")]
fn crc32c_hw(data: &[u8]) -> u32 {
    #[target_feature(enable = "sse4.2")]
    unsafe fn run(data: &[u8]) -> u32 {
        use std::arch::x86_64::_mm_crc32_u64;
        let mut crc = !0u64;
        for chunk in data.chunks_exact(8) {
            let v = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
            crc = _mm_crc32_u64(crc, v);
        }
        !(crc as u32)
    }
    assert!(std::is_x86_feature_detected!("sse4.2"));
    // SAFETY: the CPU supports SSE4.2 (asserted just above).
    unsafe { run(data) }
}

fn main() {
    let src: Vec<u8> = (0..PAGE * PAGES).map(|i| (i * 31 % 251) as u8).collect();
    let mut dst = vec![0u8; src.len()];
    let total = src.len() * ROUNDS;

    let copy = time(|| {
        for (d, s) in dst.chunks_exact_mut(PAGE).zip(src.chunks_exact(PAGE)) {
            d.copy_from_slice(s);
        }
        black_box(&dst);
    });
    let xxh = time(|| {
        let mut h = Xxh64::new(0);
        for page in black_box(&src).chunks_exact(PAGE) {
            h.update(page);
        }
        black_box(h.digest());
    });
    println!("page copy (memcpy):     {:6.2} GB/s", gbps(total, copy));
    println!("xxh64 (image checksum): {:6.2} GB/s", gbps(total, xxh));
    #[cfg(target_arch = "x86_64")]
    {
        let crc = time(|| {
            black_box(crc32c_hw(black_box(&src)));
        });
        println!("crc32c (SSE4.2):        {:6.2} GB/s", gbps(total, crc));
    }
}
