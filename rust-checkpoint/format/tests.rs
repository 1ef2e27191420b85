// SPDX-License-Identifier: GPL-2.0

//! Test cases of the format layer, run both as a KUnit suite in the booted
//! kernel and by `cargo test` on the host (see [`format_cases`]).

use super::checksum::{xxh64, Xxh64};
use super::testing::{check, check_eq, Check, SliceSink, SliceSource};
use super::*;

/// Calls `$m!(suite_name, [(case_name, case_fn), ...])` with every case of
/// this file: the single list both harnesses are generated from.
#[macro_export]
macro_rules! format_cases {
    ($m:ident) => {
        $m!(
            checkpoint_format,
            [
                (
                    xxh64_known_vectors,
                    $crate::format::tests::xxh64_known_vectors
                ),
                (
                    xxh64_streaming_matches_oneshot,
                    $crate::format::tests::xxh64_streaming_matches_oneshot
                ),
                (
                    header_tail_roundtrip,
                    $crate::format::tests::header_tail_roundtrip
                ),
                (
                    writer_output_independent_of_buffer,
                    $crate::format::tests::writer_output_independent_of_buffer
                ),
                (
                    page_chunk_from_pages_in_place,
                    $crate::format::tests::page_chunk_from_pages_in_place
                ),
                (
                    header_validation_rejects,
                    $crate::format::tests::header_validation_rejects
                ),
                (
                    header_string_without_nul,
                    $crate::format::tests::header_string_without_nul
                ),
                (
                    truncated_image_rejected,
                    $crate::format::tests::truncated_image_rejected
                ),
                (
                    checksum_mismatch_is_ebadmsg,
                    $crate::format::tests::checksum_mismatch_is_ebadmsg
                ),
                (
                    tail_mismatch_rejected,
                    $crate::format::tests::tail_mismatch_rejected
                ),
                (
                    bad_record_header_rejected,
                    $crate::format::tests::bad_record_header_rejected
                ),
                (
                    record_out_of_order_rejected,
                    $crate::format::tests::record_out_of_order_rejected
                ),
            ]
        );
        $m!(
            checkpoint_records,
            [
                (
                    every_record_roundtrips,
                    $crate::format::tests_records::every_record_roundtrips
                ),
                (
                    error_record_roundtrips,
                    $crate::format::tests_records::error_record_roundtrips
                ),
                (
                    task_counts_parse,
                    $crate::format::tests_records::task_counts_parse
                ),
                (zombies_parse, $crate::format::tests_records::zombies_parse),
                (
                    leader_exited_parses,
                    $crate::format::tests_records::leader_exited_parses
                ),
                (
                    thread_creds_parse,
                    $crate::format::tests_records::thread_creds_parse
                ),
                (
                    shared_tables_parse,
                    $crate::format::tests_records::shared_tables_parse
                ),
                (
                    unknown_type_rejected,
                    $crate::format::tests_records::unknown_type_rejected
                ),
                (
                    bad_length_rejected,
                    $crate::format::tests_records::bad_length_rejected
                ),
                (
                    out_of_order_rejected,
                    $crate::format::tests_records::out_of_order_rejected
                ),
                (
                    counts_beyond_caps_rejected,
                    $crate::format::tests_records::counts_beyond_caps_rejected
                ),
                (
                    bad_vmas_rejected,
                    $crate::format::tests_records::bad_vmas_rejected
                ),
                (
                    bad_pages_rejected,
                    $crate::format::tests_records::bad_pages_rejected
                ),
                (
                    strings_without_nul_rejected,
                    $crate::format::tests_records::strings_without_nul_rejected
                ),
                (
                    bad_object_references_rejected,
                    $crate::format::tests_records::bad_object_references_rejected
                ),
                (
                    bad_fields_rejected,
                    $crate::format::tests_records::bad_fields_rejected
                ),
                (
                    nonzero_padding_rejected,
                    $crate::format::tests_records::nonzero_padding_rejected
                ),
                (
                    truncation_and_corruption_rejected,
                    $crate::format::tests_records::truncation_and_corruption_rejected
                ),
            ]
        );
    };
}

/// Kernel constants used by the tests as "the running kernel".
pub const TEST_CONSTANTS: KernelConstants = KernelConstants {
    page_size: 4096,
    task_comm_len: 16,
    uts_len: 65,
    linux_version_code: 0x060c75,
    _reserved: 0,
};

/// A valid header for [`TEST_CONSTANTS`] on x86-64.
pub fn sample_header() -> ImageHeader {
    let mut h = ImageHeader {
        magic: IMAGE_MAGIC,
        format_rev: FORMAT_REVISION,
        arch: ARCH_X86_64,
        flags: 0,
        time_sec: 1_700_000_000,
        time_nsec: 123_456_789,
        _pad0: 0,
        constants: TEST_CONSTANTS,
        release: [0; UTS_FIELD_SIZE],
        version: [0; UTS_FIELD_SIZE],
        machine: [0; UTS_FIELD_SIZE],
    };
    fill_cstr_field(&mut h.release, b"6.12.117");
    fill_cstr_field(&mut h.version, b"#1 SMP test");
    fill_cstr_field(&mut h.machine, b"x86_64");
    h
}

/// Size of a header-and-tail image.
pub const SMALL_IMAGE_LEN: usize = 8 + 272 + 8 + 24;

/// Writes a header-and-tail image for `h` into `out`; returns its length.
fn write_image(h: &ImageHeader, out: &mut [u8], buf: &mut [u8]) -> Result<usize> {
    let mut w = ImageWriter::new(SliceSink::new(out), buf);
    w.write_record(h)?;
    let sink = w.finish()?;
    Ok(sink.len)
}

/// Reads back a header-and-tail image the way restart does.
fn read_image(image: &[u8], chunk: usize) -> Result<ImageHeader> {
    let mut buf = [0u8; 64];
    let mut r = ImageReader::new(SliceSource::new(image, chunk), &mut buf);
    let h: ImageHeader = r.read_record()?;
    h.validate(ARCH_X86_64, &TEST_CONSTANTS)?;
    r.finish()?;
    Ok(h)
}

fn small_image() -> [u8; SMALL_IMAGE_LEN] {
    let mut out = [0u8; SMALL_IMAGE_LEN];
    let mut buf = [0u8; 128];
    let _ = write_image(&sample_header(), &mut out, &mut buf);
    out
}

/// XXH64 matches published reference values.
pub fn xxh64_known_vectors(t: &mut dyn Check, _scratch: &mut [u8]) {
    check_eq!(t, xxh64(b""), 0xEF46_DB37_51D8_E999u64);
    check_eq!(t, xxh64(b"a"), 0xD24E_C4F1_A98C_6E5Bu64);
    check_eq!(t, xxh64(b"abc"), 0x44BC_2CF5_AD77_0999u64);
    check_eq!(
        t,
        xxh64(b"Nobody inspects the spammish repetition"),
        0xFBCE_A83C_8A37_8BF1u64
    );
}

/// Feeding XXH64 in pieces gives the one-shot result for every split.
pub fn xxh64_streaming_matches_oneshot(t: &mut dyn Check, _scratch: &mut [u8]) {
    let mut data = [0u8; 100];
    for (i, b) in data.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37).wrapping_add(11);
    }
    let want = xxh64(&data);
    for split in 0..data.len() {
        let (a, b) = data.split_at(split);
        let mut s = Xxh64::new(0);
        s.update(a);
        s.update(b);
        check_eq!(t, s.digest(), want);
    }
}

/// A header and a tail written by the writer come back equal and valid,
/// whatever the source's read size.
pub fn header_tail_roundtrip(t: &mut dyn Check, _scratch: &mut [u8]) {
    let mut out = [0u8; 512];
    let mut buf = [0u8; 128];
    let len = write_image(&sample_header(), &mut out, &mut buf);
    check_eq!(t, len, Ok(SMALL_IMAGE_LEN));
    let image = out.get(..SMALL_IMAGE_LEN).unwrap_or(&[]);
    for chunk in [1, 3, 8, 100, 4096] {
        check_eq!(t, read_image(image, chunk), Ok(sample_header()));
    }
    // The tail records the byte count before it.
    let tail = ImageTail::from_bytes(image.get(SMALL_IMAGE_LEN - 24..).unwrap_or(&[]));
    check_eq!(t, tail.map(|x| x.image_len), Some(280u64));
    check_eq!(t, tail.map(|x| x.magic), Some(TAIL_MAGIC));
}

/// The bytes of an image do not depend on the writer's buffer size.
pub fn writer_output_independent_of_buffer(t: &mut dyn Check, _scratch: &mut [u8]) {
    let reference = small_image();
    for size in [1usize, 7, 8, 64, 300, 1024] {
        let mut out = [0u8; SMALL_IMAGE_LEN];
        let mut buf = [0u8; 1024];
        let r = write_image(
            &sample_header(),
            &mut out,
            buf.get_mut(..size).unwrap_or(&mut []),
        );
        check_eq!(t, r, Ok(SMALL_IMAGE_LEN));
        check!(t, out == reference);
    }
}

/// Pages written where they lie, for the tests: `pages` holds `count`
/// pages of `page_len` bytes, of which `for_each_page` gives `given`.
struct PagesInPlace<'a> {
    pages: &'a [u8],
    count: usize,
    page_len: usize,
    given: usize,
}

impl<S: Sink> PageSet<S> for PagesInPlace<'_> {
    fn count(&self) -> usize {
        self.count
    }
    fn page_len(&self) -> usize {
        self.page_len
    }
    fn for_each_page(&self, f: &mut dyn FnMut(&[u8])) -> Result {
        for page in self.pages.chunks(self.page_len).take(self.given) {
            f(page);
        }
        Ok(())
    }
    fn write_to(&self, sink: &mut S) -> Result {
        for page in self.pages.chunks(self.page_len).take(self.given) {
            sink.write_all(page)?;
        }
        Ok(())
    }
}

/// A page chunk whose pages write themselves gives the same image bytes
/// as one written from a buffer, whatever the writer's buffer size (pages
/// that fit in it are copied there, others go to the sink directly); a set
/// whose count or bytes disagree with the addresses is `EINVAL`.
pub fn page_chunk_from_pages_in_place(t: &mut dyn Check, scratch: &mut [u8]) {
    const PAGE: usize = 4096;
    const LEN: usize = 3 * PAGE + 512;
    let (pages, rest) = scratch.split_at_mut(3 * PAGE);
    let (reference, rest) = rest.split_at_mut(LEN);
    let (out, rest) = rest.split_at_mut(LEN);
    let (buf, _) = rest.split_at_mut(4 * PAGE);
    for (i, b) in pages.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(31) ^ (i >> 12) as u8;
    }
    let pages: &[u8] = pages;
    let addrs = [0x1000u64, 0x3000, 0x4000];
    let write = |out: &mut [u8], buf: &mut [u8], set: Option<PagesInPlace<'_>>| {
        let mut w = ImageWriter::new(SliceSink::new(out), buf);
        w.write_record(&sample_header())?;
        match set {
            Some(set) => w.write_page_chunk_from(&addrs, &set)?,
            None => w.write_page_chunk(&addrs, pages)?,
        }
        w.write_page_chunk(&[], &[])?;
        Ok::<usize, Errno>(w.finish()?.len)
    };
    let in_place = |count, given| PagesInPlace {
        pages,
        count,
        page_len: PAGE,
        given,
    };
    let len = write(reference, buf, None);
    check!(t, len.is_ok());
    let len = len.unwrap_or(0);
    for size in [1usize, 8, 100, 1024, 4 * PAGE] {
        let buf = buf.get_mut(..size).unwrap_or(&mut []);
        out.fill(0);
        check_eq!(t, write(out, buf, Some(in_place(3, 3))), Ok(len));
        check!(t, out.get(..len) == reference.get(..len));
    }
    for size in [1024, 4 * PAGE] {
        let buf = buf.get_mut(..size).unwrap_or(&mut []);
        check_eq!(t, write(out, buf, Some(in_place(2, 2))), Err(Errno::EINVAL));
        check_eq!(t, write(out, buf, Some(in_place(3, 2))), Err(Errno::EINVAL));
    }
    let odd = PagesInPlace {
        pages,
        count: 3,
        page_len: 4,
        given: 3,
    };
    check_eq!(t, write(out, buf, Some(odd)), Err(Errno::EINVAL));
}

/// Each header field that restart depends on is checked.
pub fn header_validation_rejects(t: &mut dyn Check, _scratch: &mut [u8]) {
    let ok = sample_header();
    check_eq!(t, ok.validate(ARCH_X86_64, &TEST_CONSTANTS), Ok(()));
    let cases: [fn(&mut ImageHeader); 9] = [
        |h| h.magic ^= 1,
        |h| h.format_rev += 1,
        |h| h.arch = 99,
        |h| h.flags = 1,
        |h| h._pad0 = 1,
        |h| h.time_nsec = 1_000_000_000,
        |h| h.constants.page_size = 65536,
        |h| h.constants.task_comm_len = 32,
        |h| h.constants.uts_len = 64,
    ];
    for mutate in cases {
        let mut h = ok;
        mutate(&mut h);
        check_eq!(
            t,
            h.validate(ARCH_X86_64, &TEST_CONSTANTS),
            Err(Errno::EINVAL)
        );
        // And through a whole image, as restart reads it.
        let mut out = [0u8; SMALL_IMAGE_LEN];
        let mut buf = [0u8; 64];
        check_eq!(t, write_image(&h, &mut out, &mut buf), Ok(SMALL_IMAGE_LEN));
        check_eq!(t, read_image(&out, 64), Err(Errno::EINVAL));
    }
    // The wrong architecture for the running kernel.
    check_eq!(
        t,
        ok.validate(ARCH_X86_64 + 1, &TEST_CONSTANTS),
        Err(Errno::EINVAL)
    );
}

/// A utsname string filling its whole field without a NUL is rejected.
pub fn header_string_without_nul(t: &mut dyn Check, _scratch: &mut [u8]) {
    for field in 0..3 {
        let mut h = sample_header();
        let f = match field {
            0 => &mut h.release,
            1 => &mut h.version,
            _ => &mut h.machine,
        };
        f.fill(b'x');
        check_eq!(
            t,
            h.validate(ARCH_X86_64, &TEST_CONSTANTS),
            Err(Errno::EINVAL)
        );
    }
}

/// Every proper prefix of an image is rejected as truncated.
pub fn truncated_image_rejected(t: &mut dyn Check, _scratch: &mut [u8]) {
    let image = small_image();
    for len in 0..SMALL_IMAGE_LEN {
        let r = read_image(image.get(..len).unwrap_or(&[]), 16);
        check_eq!(t, r, Err(Errno::EINVAL));
    }
}

/// A flipped bit in a field no other check looks at is caught by the
/// checksum, with `EBADMSG`.
pub fn checksum_mismatch_is_ebadmsg(t: &mut dyn Check, _scratch: &mut [u8]) {
    // Offset 8 + 24: the low byte of `time_sec`.
    let mut image = small_image();
    if let Some(b) = image.get_mut(8 + 24) {
        *b ^= 0x40;
    }
    check_eq!(t, read_image(&image, 64), Err(Errno::EBADMSG));
    // The checksum field itself.
    let mut image = small_image();
    if let Some(b) = image.get_mut(SMALL_IMAGE_LEN - 1) {
        *b ^= 1;
    }
    check_eq!(t, read_image(&image, 64), Err(Errno::EBADMSG));
}

/// A tail with the wrong magic or byte count is `EINVAL`.
pub fn tail_mismatch_rejected(t: &mut dyn Check, _scratch: &mut [u8]) {
    let tail_payload = SMALL_IMAGE_LEN - 24;
    // Wrong magic.
    let mut image = small_image();
    if let Some(b) = image.get_mut(tail_payload) {
        *b ^= 1;
    }
    check_eq!(t, read_image(&image, 64), Err(Errno::EINVAL));
    // Wrong byte count.
    let mut image = small_image();
    if let Some(b) = image.get_mut(tail_payload + 8) {
        *b ^= 8;
    }
    check_eq!(t, read_image(&image, 64), Err(Errno::EINVAL));
    // No tail at all: the image ends after the header.
    check_eq!(
        t,
        read_image(image.get(..280).unwrap_or(&[]), 64),
        Err(Errno::EINVAL)
    );
}

/// Record headers with a bad length or an unknown type are `EINVAL`.
pub fn bad_record_header_rejected(t: &mut dyn Check, _scratch: &mut [u8]) {
    // (offset of the field in the image, new little-endian u32 value)
    let cases: [(usize, u32); 6] = [
        (4, 0),                  // shorter than a record header
        (4, 4),                  // shorter than a record header
        (4, 281),                // not aligned
        (4, 272),                // aligned, but not the header's size
        (4, MAX_RECORD_LEN + 8), // beyond the cap
        (0, 0x7777),             // unknown type
    ];
    for (off, val) in cases {
        let mut image = small_image();
        if let Some(f) = image.get_mut(off..off + 4) {
            f.copy_from_slice(&val.to_le_bytes());
        }
        check_eq!(t, read_image(&image, 64), Err(Errno::EINVAL));
    }
}

/// Records must come in the order the format defines.
pub fn record_out_of_order_rejected(t: &mut dyn Check, _scratch: &mut [u8]) {
    // An image that starts with its tail.
    let mut out = [0u8; 64];
    let mut buf = [0u8; 64];
    let w = ImageWriter::new(SliceSink::new(&mut out), &mut buf);
    let len = w.finish().map(|s| s.len);
    check_eq!(t, len, Ok(32usize));
    check_eq!(
        t,
        read_image(out.get(..32).unwrap_or(&[]), 64),
        Err(Errno::EINVAL)
    );
    // Two headers before the tail.
    let mut out = [0u8; 2 * SMALL_IMAGE_LEN];
    let mut buf = [0u8; 64];
    let mut w = ImageWriter::new(SliceSink::new(&mut out), &mut buf);
    let r = w
        .write_record(&sample_header())
        .and_then(|()| w.write_record(&sample_header()))
        .and_then(|()| w.finish().map(|s| s.len));
    check_eq!(t, r, Ok(SMALL_IMAGE_LEN + 280));
    let image = out.get(..SMALL_IMAGE_LEN + 280).unwrap_or(&[]);
    check_eq!(t, read_image(image, 64), Err(Errno::EINVAL));
}
