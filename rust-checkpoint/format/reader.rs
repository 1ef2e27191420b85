// SPDX-License-Identifier: GPL-2.0

//! The validating image reader.
//!
//! This is where restart meets untrusted input.  The reader consumes the
//! stream as it goes, like the kernel's `UserSliceReader`: a byte can only be
//! read once, so nothing can be validated in one read and used from
//! another.  Before a payload is read, its record header is checked: the
//! length must be aligned, within [`MAX_RECORD_LEN`] and exactly the size of
//! the expected payload, and the type must be the one the format allows at
//! this point.  A short stream is a truncated image (`EINVAL`).  The tail
//! must carry the number of bytes before it (`EINVAL` otherwise) and their
//! checksum (`EBADMSG` otherwise).

use super::checksum::Xxh64;
use super::{
    Errno, ImageTail, Pod, Record, RecordHeader, RecordType, Result, VarRecord, MAX_RECORD_LEN,
    RECORD_ALIGN, TAIL_MAGIC,
};
use core::mem::size_of;

/// Where image bytes come from (in the kernel: a file descriptor).
pub trait Source {
    /// Reads up to `buf.len()` bytes; `Ok(0)` means end of input.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize>;
}

impl<S: Source + ?Sized> Source for &mut S {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        (**self).read(buf)
    }
}

/// The pages of a chunk, read into where they lie rather than into one
/// buffer (in the kernel: the restored task's page frames, which the
/// source fills straight from the file).
pub trait PageTarget<S: Source> {
    /// Number of pages.
    fn count(&self) -> usize;
    /// Length of each page in bytes.
    fn page_len(&self) -> usize;
    /// Calls `f` with the bytes of each page, writable, in order.
    fn for_each_page_mut(&mut self, f: &mut dyn FnMut(&mut [u8])) -> Result;
    /// Fills the pages, seen as one run of `count() * page_len()` bytes,
    /// from byte `offset` to their end with the next bytes of `src`; an
    /// input that ends first is `EINVAL`.
    fn read_from(&mut self, src: &mut S, offset: usize) -> Result;
}

/// Reads an image record by record.
///
/// The reader may read ahead of the record it returns by up to the size of
/// its buffer, so the source's position after a restart is not defined.
pub struct ImageReader<'b, S: Source> {
    src: S,
    buf: &'b mut [u8],
    /// Unconsumed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    consumed: u64,
    hash: Xxh64,
    /// Checksum state and position before the last record header.
    mark: (Xxh64, u64),
}

impl<'b, S: Source> ImageReader<'b, S> {
    /// A reader from `src` that reads ahead into `buf` (any non-zero size).
    pub fn new(src: S, buf: &'b mut [u8]) -> Self {
        ImageReader {
            src,
            buf,
            start: 0,
            end: 0,
            consumed: 0,
            hash: Xxh64::new(0),
            mark: (Xxh64::new(0), 0),
        }
    }

    /// Number of image bytes consumed so far.
    pub fn position(&self) -> u64 {
        self.consumed
    }

    /// Fills `out` completely from the stream; a short stream is `EINVAL`.
    pub(super) fn take(&mut self, out: &mut [u8]) -> Result {
        let mut filled = 0;
        while filled < out.len() {
            if self.start == self.end {
                let want = out.len() - filled;
                if want >= self.buf.len() {
                    // Large reads go straight to the destination.
                    let dst = out.get_mut(filled..).ok_or(Errno::EINVAL)?;
                    let n = self.src.read(dst)?;
                    if n == 0 || n > dst.len() {
                        return Err(Errno::EINVAL);
                    }
                    filled += n;
                    continue;
                }
                let n = self.src.read(self.buf)?;
                if n == 0 || n > self.buf.len() {
                    return Err(Errno::EINVAL);
                }
                self.start = 0;
                self.end = n;
            }
            let avail = self.end - self.start;
            let take = avail.min(out.len() - filled);
            let src = self
                .buf
                .get(self.start..self.start + take)
                .ok_or(Errno::EINVAL)?;
            out.get_mut(filled..filled + take)
                .ok_or(Errno::EINVAL)?
                .copy_from_slice(src);
            self.start += take;
            filled += take;
        }
        self.hash.update(out);
        self.consumed = self
            .consumed
            .checked_add(out.len() as u64)
            .ok_or(Errno::EINVAL)?;
        Ok(())
    }

    /// Fills `pages` completely from the stream, as [`ImageReader::take`]
    /// fills a buffer: the bytes read ahead first, then the rest straight
    /// from the source.  A short stream is `EINVAL`.
    pub(super) fn take_into<P: PageTarget<S>>(&mut self, pages: &mut P) -> Result {
        let total = pages
            .count()
            .checked_mul(pages.page_len())
            .ok_or(Errno::EINVAL)?;
        let buffered = (self.end - self.start).min(total);
        if buffered > 0 {
            let mut ahead = self
                .buf
                .get(self.start..self.start + buffered)
                .ok_or(Errno::EINVAL)?;
            pages.for_each_page_mut(&mut |page| {
                let n = ahead.len().min(page.len());
                let (now, later) = ahead.split_at(n);
                if let Some(dst) = page.get_mut(..n) {
                    dst.copy_from_slice(now);
                }
                ahead = later;
            })?;
            self.start += buffered;
        }
        if buffered < total {
            pages.read_from(&mut self.src, buffered)?;
        }
        let mut hashed = 0usize;
        let hash = &mut self.hash;
        pages.for_each_page_mut(&mut |page| {
            hash.update(page);
            hashed = hashed.saturating_add(page.len());
        })?;
        if hashed != total {
            return Err(Errno::EINVAL);
        }
        self.consumed = self
            .consumed
            .checked_add(total as u64)
            .ok_or(Errno::EINVAL)?;
        Ok(())
    }

    /// Consumes `len` bytes that must all be zero (padding).
    pub(super) fn take_zeros(&mut self, mut len: usize) -> Result {
        let mut chunk = [0u8; 64];
        while len > 0 {
            let n = len.min(chunk.len());
            let part = chunk.get_mut(..n).ok_or(Errno::EINVAL)?;
            self.take(part)?;
            if part.iter().any(|&b| b != 0) {
                return Err(Errno::EINVAL);
            }
            len -= n;
        }
        Ok(())
    }

    /// Consumes and discards `len` bytes.
    pub(super) fn skip(&mut self, mut len: usize) -> Result {
        let mut chunk = [0u8; 256];
        while len > 0 {
            let n = len.min(chunk.len());
            self.take(chunk.get_mut(..n).ok_or(Errno::EINVAL)?)?;
            len -= n;
        }
        Ok(())
    }

    pub(super) fn take_pod<T: Pod>(&mut self) -> Result<T> {
        let mut v = T::zeroed();
        // SAFETY: `T: Pod`, so any bytes written through this view leave a
        // valid `T`; the slice covers exactly `v` and lives only here.
        let bytes = unsafe {
            core::slice::from_raw_parts_mut((&mut v as *mut T).cast::<u8>(), size_of::<T>())
        };
        self.take(bytes)?;
        Ok(v)
    }

    /// Reads and checks the next record header.
    ///
    /// The length must be aligned and within `[8, MAX_RECORD_LEN]`, and the
    /// type known; otherwise `EINVAL`.
    pub fn next_header(&mut self) -> Result<(RecordType, RecordHeader)> {
        self.mark = (self.hash.clone(), self.consumed);
        let h: RecordHeader = self.take_pod()?;
        if (h.len as usize) < size_of::<RecordHeader>()
            || h.len > MAX_RECORD_LEN
            || (h.len as usize) % RECORD_ALIGN != 0
        {
            return Err(Errno::EINVAL);
        }
        let t = RecordType::from_u32(h.rtype).ok_or(Errno::EINVAL)?;
        Ok((t, h))
    }

    /// Reads the payload of a record whose header was `h` as a `T`: the
    /// type must be `T`'s and the length exact, or `EINVAL`.
    pub fn payload<T: Record>(&mut self, t: RecordType, h: RecordHeader) -> Result<T> {
        if t != T::TYPE || h.len != T::RECORD_LEN {
            return Err(Errno::EINVAL);
        }
        self.take_pod()
    }

    /// Reads the prefix of a variable-length record whose header was `h`
    /// and returns it with the length of the body that follows it.
    pub fn prefix<T: VarRecord>(&mut self, t: RecordType, h: RecordHeader) -> Result<(T, usize)> {
        let fixed = size_of::<RecordHeader>() + size_of::<T>();
        if t != T::TYPE || (h.len as usize) < fixed {
            return Err(Errno::EINVAL);
        }
        let prefix = self.take_pod()?;
        Ok((prefix, h.len as usize - fixed))
    }

    /// Reads the next record, which must be a `T`.
    pub fn read_record<T: Record>(&mut self) -> Result<T> {
        let (t, h) = self.next_header()?;
        self.payload(t, h)
    }

    /// Reads the payload of the tail record whose header was `h` and
    /// checks it against the bytes read before that header: a wrong magic
    /// or byte count is `EINVAL`, a wrong checksum `EBADMSG`.
    pub fn tail(&mut self, t: RecordType, h: RecordHeader) -> Result<ImageTail> {
        let tail: ImageTail = self.payload(t, h)?;
        let (hash, len) = &self.mark;
        if tail.magic != TAIL_MAGIC || tail.image_len != *len {
            return Err(Errno::EINVAL);
        }
        if tail.checksum != hash.digest() {
            return Err(Errno::EBADMSG);
        }
        Ok(tail)
    }

    /// Reads the tail record, which must come next, checks it (see
    /// [`ImageReader::tail`]) and gives the source back.
    pub fn finish(mut self) -> Result<S> {
        let (t, h) = self.next_header()?;
        self.tail(t, h)?;
        Ok(self.src)
    }
}
