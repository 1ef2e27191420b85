// SPDX-License-Identifier: GPL-2.0

//! The image writer: records in, bytes out, with the running checksum.

use super::checksum::Xxh64;
use super::{Errno, ImageTail, Pod, Record, RecordHeader, Result, TAIL_MAGIC};

/// Where image bytes go (in the kernel: a file descriptor).
pub trait Sink {
    /// Writes all of `buf` or fails.
    fn write_all(&mut self, buf: &[u8]) -> Result;
}

/// Writes an image as a stream of records.
///
/// Small records are gathered in a caller-supplied buffer so that each one
/// does not cost a write to the sink.  Every byte passes through the
/// checksum; [`ImageWriter::finish`] writes the tail that records the byte
/// count and checksum, and flushes.
pub struct ImageWriter<'b, S: Sink> {
    sink: S,
    buf: &'b mut [u8],
    used: usize,
    written: u64,
    hash: Xxh64,
}

impl<'b, S: Sink> ImageWriter<'b, S> {
    /// A writer to `sink` that gathers output in `buf` (any non-zero size;
    /// a few pages is plenty).
    pub fn new(sink: S, buf: &'b mut [u8]) -> Self {
        ImageWriter {
            sink,
            buf,
            used: 0,
            written: 0,
            hash: Xxh64::new(0),
        }
    }

    /// Number of image bytes produced so far.
    pub fn position(&self) -> u64 {
        self.written
    }

    fn flush(&mut self) -> Result {
        if self.used > 0 {
            let data = self.buf.get(..self.used).ok_or(Errno::EINVAL)?;
            self.sink.write_all(data)?;
            self.used = 0;
        }
        Ok(())
    }

    /// Appends raw bytes to the stream (they count towards the checksum).
    fn put(&mut self, mut data: &[u8]) -> Result {
        self.hash.update(data);
        self.written = self
            .written
            .checked_add(data.len() as u64)
            .ok_or(Errno::EINVAL)?;
        while !data.is_empty() {
            if self.used == 0 && data.len() >= self.buf.len() {
                // Large payloads bypass the buffer.
                return self.sink.write_all(data);
            }
            let room = self.buf.len() - self.used;
            let take = room.min(data.len());
            let (head, rest) = data.split_at(take);
            self.buf
                .get_mut(self.used..self.used + take)
                .ok_or(Errno::EINVAL)?
                .copy_from_slice(head);
            self.used += take;
            data = rest;
            if self.used == self.buf.len() {
                self.flush()?;
            }
        }
        Ok(())
    }

    /// Writes one fixed-size record.
    pub fn write_record<T: Record>(&mut self, payload: &T) -> Result {
        let header = RecordHeader {
            rtype: T::TYPE as u32,
            len: T::RECORD_LEN,
        };
        self.put(header.as_bytes())?;
        self.put(payload.as_bytes())
    }

    /// Writes the tail record, flushes, and gives the sink back.
    pub fn finish(mut self) -> Result<S> {
        let tail = ImageTail {
            magic: TAIL_MAGIC,
            image_len: self.written,
            checksum: self.hash.digest(),
        };
        self.write_record(&tail)?;
        self.flush()?;
        Ok(self.sink)
    }
}
