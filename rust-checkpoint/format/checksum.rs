// SPDX-License-Identifier: GPL-2.0

//! Streaming XXH64, the image checksum.
//!
//! XXH64 detects truncation and corruption as well as a CRC for this use
//! (it is not a defence against a forger, who can recompute it) and runs at
//! several GB/s in portable code, well above the cost of copying pages; a
//! portable implementation keeps the kernel and host builds bit-identical.

const P1: u64 = 0x9E37_79B1_85EB_CA87;
const P2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const P3: u64 = 0x1656_67B1_9E37_79F9;
const P4: u64 = 0x85EB_CA77_C2B2_AE63;
const P5: u64 = 0x27D4_EB2F_1656_67C5;

const STRIPE: usize = 32;

// The helpers are inlined by force: the kernel is built for size, and
// out of line each 8-byte read became a call to `memcpy`, which made the
// checksum several times slower than copying the bytes it covers.
#[inline(always)]
fn round(acc: u64, input: u64) -> u64 {
    acc.wrapping_add(input.wrapping_mul(P2))
        .rotate_left(31)
        .wrapping_mul(P1)
}

fn merge(acc: u64, val: u64) -> u64 {
    (acc ^ round(0, val)).wrapping_mul(P1).wrapping_add(P4)
}

/// The little-endian word at the start of `b` (0 if `b` is shorter).
#[inline(always)]
fn read_u64(b: &[u8]) -> u64 {
    b.first_chunk::<8>().map_or(0, |w| u64::from_le_bytes(*w))
}

/// The little-endian half-word at the start of `b` (0 if `b` is shorter).
fn read_u32(b: &[u8]) -> u32 {
    b.first_chunk::<4>().map_or(0, |w| u32::from_le_bytes(*w))
}

/// Incremental XXH64 state.
#[derive(Clone)]
pub struct Xxh64 {
    acc: [u64; 4],
    seed: u64,
    total_len: u64,
    buf: [u8; STRIPE],
    buf_len: usize,
}

impl Xxh64 {
    /// A new state with the given seed.
    pub fn new(seed: u64) -> Self {
        Xxh64 {
            acc: [
                seed.wrapping_add(P1).wrapping_add(P2),
                seed.wrapping_add(P2),
                seed,
                seed.wrapping_sub(P1),
            ],
            seed,
            total_len: 0,
            buf: [0; STRIPE],
            buf_len: 0,
        }
    }

    #[inline(always)]
    fn stripe(acc: &mut [u64; 4], s: &[u8]) {
        for (a, lane) in acc.iter_mut().zip(s.chunks_exact(8)) {
            *a = round(*a, read_u64(lane));
        }
    }

    /// Feeds `data` into the hash.
    pub fn update(&mut self, mut data: &[u8]) {
        self.total_len = self.total_len.wrapping_add(data.len() as u64);
        if self.buf_len > 0 {
            // `buf_len < STRIPE` here, so neither sum can overflow.
            let take = STRIPE.saturating_sub(self.buf_len).min(data.len());
            let (head, rest) = data.split_at(take);
            let end = self.buf_len.saturating_add(take);
            if let Some(dst) = self.buf.get_mut(self.buf_len..end) {
                dst.copy_from_slice(head);
            }
            self.buf_len = end;
            data = rest;
            if self.buf_len < STRIPE {
                return;
            }
            let buf = self.buf;
            Self::stripe(&mut self.acc, &buf);
            self.buf_len = 0;
        }
        let mut chunks = data.chunks_exact(STRIPE);
        for s in &mut chunks {
            Self::stripe(&mut self.acc, s);
        }
        let rest = chunks.remainder();
        if let Some(dst) = self.buf.get_mut(..rest.len()) {
            dst.copy_from_slice(rest);
        }
        self.buf_len = rest.len();
    }

    /// Returns the hash of everything fed so far (the state is unchanged).
    pub fn digest(&self) -> u64 {
        let [v1, v2, v3, v4] = self.acc;
        let mut h = if self.total_len >= STRIPE as u64 {
            let mut h = v1
                .rotate_left(1)
                .wrapping_add(v2.rotate_left(7))
                .wrapping_add(v3.rotate_left(12))
                .wrapping_add(v4.rotate_left(18));
            for v in self.acc {
                h = merge(h, v);
            }
            h
        } else {
            self.seed.wrapping_add(P5)
        };
        h = h.wrapping_add(self.total_len);
        let mut tail = self.buf.get(..self.buf_len).unwrap_or(&[]);
        while tail.len() >= 8 {
            h ^= round(0, read_u64(tail));
            h = h.rotate_left(27).wrapping_mul(P1).wrapping_add(P4);
            tail = tail.get(8..).unwrap_or(&[]);
        }
        if tail.len() >= 4 {
            h ^= u64::from(read_u32(tail)).wrapping_mul(P1);
            h = h.rotate_left(23).wrapping_mul(P2).wrapping_add(P3);
            tail = tail.get(4..).unwrap_or(&[]);
        }
        for &b in tail {
            h ^= u64::from(b).wrapping_mul(P5);
            h = h.rotate_left(11).wrapping_mul(P1);
        }
        h ^= h >> 33;
        h = h.wrapping_mul(P2);
        h ^= h >> 29;
        h = h.wrapping_mul(P3);
        h ^= h >> 32;
        h
    }
}

/// One-shot XXH64 of `data` with seed 0.
pub fn xxh64(data: &[u8]) -> u64 {
    let mut s = Xxh64::new(0);
    s.update(data);
    s.digest()
}
