// SPDX-License-Identifier: GPL-2.0

//! The image writer: records in, bytes out, with the running checksum.

use super::checksum::Xxh64;
use super::{
    align_record_len, CredsRecord, Errno, ErrorRecord, FileObjectRecord, FpuRecord, FsRecord,
    ImageTail, MmRecord, PageChunkRecord, PendingSignal, Pod, Record, RecordHeader, RecordType,
    Result, SigPendingRecord, SigactionRecord, SignalsRecord, StringRecord, VarRecord,
    MAX_AUXV_WORDS, MAX_CHUNK_PAGES, MAX_GROUPS, MAX_PENDING_SIGNALS, MAX_RECORD_LEN,
    MAX_STRING_LEN, NSIG, TAIL_MAGIC,
};
use super::{
    DeletedFileRecord, EpollWatch, EpollWatchesRecord, FileDataRecord, FileStateRecord,
    InotifyWatchRecord, InotifyWatchesRecord, MemfdRecord, PipeRecord, PosixTimer,
    PosixTimersRecord, PtyPairRecord, PtyQueueRecord, SharedMemoryRecord, ShmSegmentRecord,
    TtyRecord, MAX_EPOLL_WATCHES, MAX_FILE_DATA, MAX_PIPE_DATA, MAX_POSIX_TIMERS,
};
use core::mem::{size_of, size_of_val};

/// Where image bytes go (in the kernel: a file descriptor).
pub trait Sink {
    /// Writes all of `buf` or fails.
    fn write_all(&mut self, buf: &[u8]) -> Result;
}

/// The pages of a chunk, held where they are rather than gathered into
/// one buffer, so that a sink can write them straight from there (in the
/// kernel: from their page frames, with one vectored write).
pub trait PageSet<S: Sink> {
    /// Number of pages.
    fn count(&self) -> usize;
    /// Length of each page in bytes.
    fn page_len(&self) -> usize;
    /// Calls `f` with the bytes of each page, in order.
    fn for_each_page(&self, f: &mut dyn FnMut(&[u8])) -> Result;
    /// Writes the bytes of every page to `sink`, in order: exactly what
    /// [`PageSet::for_each_page`] gives, `count() * page_len()` bytes.
    fn write_to(&self, sink: &mut S) -> Result;
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

    /// Writes a variable-length record: `prefix`, then the `body` parts,
    /// then zero padding to the record alignment.  A record longer than
    /// [`MAX_RECORD_LEN`] is `EINVAL`.
    pub fn write_var<T: VarRecord>(&mut self, prefix: &T, body: &[&[u8]]) -> Result {
        let mut len = size_of::<RecordHeader>() + size_of::<T>();
        for part in body {
            len = len.checked_add(part.len()).ok_or(Errno::EINVAL)?;
        }
        let padded = align_record_len(len).ok_or(Errno::EINVAL)?;
        if padded > MAX_RECORD_LEN as usize {
            return Err(Errno::EINVAL);
        }
        let header = RecordHeader {
            rtype: T::TYPE as u32,
            len: padded as u32,
        };
        self.put(header.as_bytes())?;
        self.put(prefix.as_bytes())?;
        for part in body {
            self.put(part)?;
        }
        let zeros = [0u8; 8];
        self.put(zeros.get(..padded - len).ok_or(Errno::EINVAL)?)
    }

    /// Writes the signals record of a task: `prefix` (whose `count` must
    /// be [`NSIG`]) and the action of each signal from 1 to [`NSIG`], asked
    /// of `action` one at a time (index `n - 1` for signal `n`), so that
    /// no caller needs the whole table at once.
    pub fn write_signals(
        &mut self,
        prefix: &SignalsRecord,
        mut action: impl FnMut(usize) -> Result<SigactionRecord>,
    ) -> Result {
        if prefix.count != NSIG {
            return Err(Errno::EINVAL);
        }
        let len = size_of::<RecordHeader>()
            + size_of::<SignalsRecord>()
            + NSIG as usize * size_of::<SigactionRecord>();
        let header = RecordHeader {
            rtype: RecordType::Signals as u32,
            len: len as u32,
        };
        self.put(header.as_bytes())?;
        self.put(prefix.as_bytes())?;
        for i in 0..NSIG as usize {
            self.put(action(i)?.as_bytes())?;
        }
        Ok(())
    }

    /// Writes the pending-signals record of a task: `count` signals (at
    /// most [`MAX_PENDING_SIGNALS`]), asked of `signal` one at a time.
    pub fn write_pending_signals(
        &mut self,
        count: usize,
        mut signal: impl FnMut(usize) -> Result<PendingSignal>,
    ) -> Result {
        if count > MAX_PENDING_SIGNALS as usize {
            return Err(Errno::EINVAL);
        }
        let len = size_of::<RecordHeader>()
            + size_of::<SigPendingRecord>()
            + count * size_of::<PendingSignal>();
        let header = RecordHeader {
            rtype: RecordType::SigPending as u32,
            len: len as u32,
        };
        self.put(header.as_bytes())?;
        let prefix = SigPendingRecord {
            count: count as u32,
            _pad: 0,
        };
        self.put(prefix.as_bytes())?;
        for i in 0..count {
            self.put(signal(i)?.as_bytes())?;
        }
        Ok(())
    }

    /// Writes the POSIX-timers record of a task's process: `timers` (at
    /// most [`MAX_POSIX_TIMERS`], in increasing id order) and the id the
    /// next `timer_create(2)` starts from.
    pub fn write_posix_timers(&mut self, next_id: u32, timers: &[PosixTimer]) -> Result {
        let count = u32::try_from(timers.len())
            .ok()
            .filter(|&c| c <= MAX_POSIX_TIMERS)
            .ok_or(Errno::EINVAL)?;
        self.write_words(&PosixTimersRecord { count, next_id }, timers)
    }

    /// Writes a record of `prefix` and a body of `words`, padded with
    /// zeros to the record alignment.
    fn write_words<T: VarRecord, W: Pod>(&mut self, prefix: &T, words: &[W]) -> Result {
        let len = size_of::<RecordHeader>() + size_of::<T>() + size_of_val(words);
        let padded = align_record_len(len).ok_or(Errno::EINVAL)?;
        if padded > MAX_RECORD_LEN as usize {
            return Err(Errno::EINVAL);
        }
        let header = RecordHeader {
            rtype: T::TYPE as u32,
            len: padded as u32,
        };
        self.put(header.as_bytes())?;
        self.put(prefix.as_bytes())?;
        for word in words {
            self.put(word.as_bytes())?;
        }
        let zeros = [0u8; 8];
        self.put(zeros.get(..padded - len).ok_or(Errno::EINVAL)?)
    }

    /// Writes the credentials record of a task: `creds` (whose `ngroups`
    /// must be `groups.len()`) and the supplementary groups.
    pub fn write_creds(&mut self, creds: &CredsRecord, groups: &[u32]) -> Result {
        if creds.ngroups as usize != groups.len() || groups.len() > MAX_GROUPS as usize {
            return Err(Errno::EINVAL);
        }
        self.write_words(creds, groups)
    }

    /// Writes the mm record `mm` (whose `auxv_words` must be
    /// `auxv.len()`) with its auxiliary vector.
    pub fn write_mm(&mut self, mm: &MmRecord, auxv: &[u64]) -> Result {
        if mm.auxv_words as usize != auxv.len() || auxv.len() > MAX_AUXV_WORDS {
            return Err(Errno::EINVAL);
        }
        self.write_words(mm, auxv)
    }

    /// Writes a string record holding `s` and a terminating NUL.  `s` must
    /// not contain a NUL and must be shorter than [`MAX_STRING_LEN`].
    pub fn write_string(&mut self, s: &[u8]) -> Result {
        if s.contains(&0) || s.len() >= MAX_STRING_LEN as usize {
            return Err(Errno::EINVAL);
        }
        let prefix = StringRecord {
            len: s.len() as u32 + 1,
            _pad: 0,
        };
        self.write_var(&prefix, &[s, &[0]])
    }

    /// Writes an error record: the checkpoint failed with `errno` because
    /// of `msg` (cut at its first NUL and to [`MAX_STRING_LEN`]).
    pub fn write_error(&mut self, errno: i32, msg: &[u8]) -> Result {
        let end = msg.iter().position(|&b| b == 0).unwrap_or(msg.len());
        let msg = msg
            .get(..end.min(MAX_STRING_LEN as usize - 1))
            .unwrap_or(&[]);
        let prefix = ErrorRecord {
            errno,
            len: msg.len() as u32 + 1,
        };
        self.write_var(&prefix, &[msg, &[0]])
    }

    /// Writes a page chunk: the page addresses `addrs` and their contents,
    /// `pages` holding `addrs.len()` pages back to back.  An empty chunk
    /// ends the pages of the current task.
    pub fn write_page_chunk(&mut self, addrs: &[u64], pages: &[u8]) -> Result {
        let count = addrs.len();
        if count > MAX_CHUNK_PAGES as usize || (count == 0) != pages.is_empty() {
            return Err(Errno::EINVAL);
        }
        if count > 0 && pages.len() % count != 0 {
            return Err(Errno::EINVAL);
        }
        let prefix = PageChunkRecord {
            count: count as u32,
            _pad: 0,
        };
        let mut addr_bytes = [0u8; 8 * MAX_CHUNK_PAGES as usize];
        for (dst, a) in addr_bytes.chunks_exact_mut(8).zip(addrs) {
            dst.copy_from_slice(&a.to_le_bytes());
        }
        let addr_bytes = addr_bytes.get(..8 * count).ok_or(Errno::EINVAL)?;
        self.write_var(&prefix, &[addr_bytes, pages])
    }

    /// Writes a page chunk as [`ImageWriter::write_page_chunk`] does, for
    /// the non-empty `addrs` and their pages `pages`, which write
    /// themselves to the sink: their bytes are read once for the checksum
    /// and once more by the sink, never copied here.  The caller keeps the
    /// pages from changing in between; if they change, the image's
    /// checksum no longer matches and restart refuses it.
    pub fn write_page_chunk_from<P: PageSet<S>>(&mut self, addrs: &[u64], pages: &P) -> Result {
        let count = addrs.len();
        if count == 0 || count > MAX_CHUNK_PAGES as usize || pages.count() != count {
            return Err(Errno::EINVAL);
        }
        let page_len = pages.page_len();
        let page_bytes = page_len.checked_mul(count).ok_or(Errno::EINVAL)?;
        // Header, count and addresses are multiples of 8 bytes; so must
        // the pages be, as the record has no padding after them.
        let len = size_of::<RecordHeader>() + size_of::<PageChunkRecord>() + 8 * count;
        let len = len.checked_add(page_bytes).ok_or(Errno::EINVAL)?;
        if page_len == 0 || align_record_len(len) != Some(len) || len > MAX_RECORD_LEN as usize {
            return Err(Errno::EINVAL);
        }
        let header = RecordHeader {
            rtype: RecordType::PageChunk as u32,
            len: len as u32,
        };
        self.put(header.as_bytes())?;
        let prefix = PageChunkRecord {
            count: count as u32,
            _pad: 0,
        };
        self.put(prefix.as_bytes())?;
        for a in addrs {
            self.put(&a.to_le_bytes())?;
        }
        // Pages that fit in the buffer's room are copied into it, so that
        // small chunks share a write to the sink rather than cost two
        // each (the buffered bytes, then the pages).
        if page_bytes <= self.buf.len() - self.used {
            let mut result = Ok(());
            let mut copied = 0usize;
            pages.for_each_page(&mut |page| {
                if result.is_ok() {
                    copied = copied.saturating_add(page.len());
                    result = self.put(page);
                }
            })?;
            result?;
            return if copied == page_bytes {
                Ok(())
            } else {
                Err(Errno::EINVAL)
            };
        }
        let mut hashed = 0usize;
        let hash = &mut self.hash;
        pages.for_each_page(&mut |page| {
            hash.update(page);
            hashed = hashed.saturating_add(page.len());
        })?;
        // A set that gave other bytes than it claimed has left the image
        // broken: fail the checkpoint.
        if hashed != page_bytes {
            return Err(Errno::EINVAL);
        }
        // What is buffered goes out before the pages.
        self.flush()?;
        pages.write_to(&mut self.sink)?;
        self.written = self
            .written
            .checked_add(page_bytes as u64)
            .ok_or(Errno::EINVAL)?;
        Ok(())
    }

    /// Writes the FPU record for the XSAVE buffer `xsave` saved with the
    /// feature mask `xfeatures`.
    pub fn write_fpu(&mut self, xfeatures: u64, xsave: &[u8]) -> Result {
        let prefix = FpuRecord {
            xstate_size: u32::try_from(xsave.len()).map_err(|_| Errno::EINVAL)?,
            _pad: 0,
            xfeatures,
        };
        self.write_var(&prefix, &[xsave])
    }

    /// Writes a file object and the string record with its path.
    pub fn write_file_object(&mut self, file: &FileObjectRecord, path: &[u8]) -> Result {
        self.write_record(file)?;
        self.write_string(path)
    }

    /// Writes a terminal's file object, its path and its settings.
    pub fn write_file_object_terminal(
        &mut self,
        file: &FileObjectRecord,
        path: &[u8],
        tty: &TtyRecord,
    ) -> Result {
        self.write_record(file)?;
        self.write_string(path)?;
        self.write_record(tty)
    }

    /// Writes a pseudo-terminal master's file object, the path of its
    /// `ptmx` device and its pair; the two queues follow with
    /// [`Self::write_pty_queue`].
    pub fn write_file_object_pty_master(
        &mut self,
        file: &FileObjectRecord,
        ptmx: &[u8],
        pair: &PtyPairRecord,
    ) -> Result {
        self.write_record(file)?;
        self.write_string(ptmx)?;
        self.write_record(pair)
    }

    /// Writes what one side of a pseudo-terminal pair has not read yet:
    /// `queue` (whose lengths must match the slices), the bytes in its
    /// line discipline, their line-end bitmap, and the bytes pending.
    pub fn write_pty_queue(
        &mut self,
        queue: &PtyQueueRecord,
        read: &[u8],
        line_ends: &[u8],
        pending: &[u8],
    ) -> Result {
        if read.len() != queue.read_len as usize
            || line_ends.len() != queue.bitmap_len()
            || pending.len() != queue.pending_len as usize
            || !queue.is_valid(queue.side, align_record_len(queue.body_len()).unwrap_or(0))
        {
            return Err(Errno::EINVAL);
        }
        self.write_var(queue, &[read, line_ends, pending])
    }

    /// Writes an unlinked file's object, its directory's path, and its
    /// size and mode; its contents follow with [`Self::write_file_data`].
    pub fn write_file_object_deleted(
        &mut self,
        file: &FileObjectRecord,
        dir: &[u8],
        size: u64,
        mode: u32,
    ) -> Result {
        self.write_record(file)?;
        self.write_string(dir)?;
        self.write_record(&DeletedFileRecord {
            size,
            mode,
            _pad: 0,
        })
    }

    /// Writes a memfd's object, its name, and its size, seals and mode;
    /// its contents follow with [`Self::write_file_data`].
    pub fn write_file_object_memfd(
        &mut self,
        file: &FileObjectRecord,
        name: &[u8],
        size: u64,
        seals: u32,
        mode: u32,
    ) -> Result {
        self.write_record(file)?;
        self.write_string(name)?;
        self.write_record(&MemfdRecord { size, seals, mode })
    }

    /// Writes the object behind shared anonymous memory and its size;
    /// its contents follow with [`Self::write_file_data`].
    pub fn write_file_object_shared_memory(
        &mut self,
        file: &FileObjectRecord,
        size: u64,
    ) -> Result {
        self.write_record(file)?;
        self.write_record(&SharedMemoryRecord { size })
    }

    /// Writes an inotify instance's object and the number of its watches
    /// and next descriptor; its watches follow with
    /// [`Self::write_inotify_watch`].
    pub fn write_file_object_inotify(
        &mut self,
        file: &FileObjectRecord,
        count: u32,
        next_wd: u32,
    ) -> Result {
        self.write_record(file)?;
        self.write_record(&InotifyWatchesRecord { count, next_wd })
    }

    /// Writes one watch of the inotify instance written last.
    pub fn write_inotify_watch(&mut self, wd: i32, mask: u32, path: &[u8]) -> Result {
        self.write_record(&InotifyWatchRecord { wd, mask })?;
        self.write_string(path)
    }

    /// Writes a SysV shared memory segment; its contents follow with
    /// [`Self::write_file_data`], then the file object of an attach.
    pub fn write_shm_segment(&mut self, segment: &ShmSegmentRecord) -> Result {
        self.write_record(segment)
    }

    /// Writes `data` (at most [`MAX_FILE_DATA`] bytes) as the contents of
    /// a file at `offset`; empty, it ends the contents.
    pub fn write_file_data(&mut self, offset: u64, data: &[u8]) -> Result {
        let len = u32::try_from(data.len())
            .ok()
            .filter(|&len| len <= MAX_FILE_DATA)
            .ok_or(Errno::EINVAL)?;
        self.write_var(
            &FileDataRecord {
                offset,
                len,
                _pad: 0,
            },
            &[data],
        )
    }

    /// Writes an epoll set's file object and its interest list.
    pub fn write_file_object_epoll(
        &mut self,
        file: &FileObjectRecord,
        watches: &[EpollWatch],
    ) -> Result {
        let count = u32::try_from(watches.len())
            .ok()
            .filter(|&c| c <= MAX_EPOLL_WATCHES)
            .ok_or(Errno::EINVAL)?;
        self.write_record(file)?;
        self.write_words(&EpollWatchesRecord { count, _pad: 0 }, watches)
    }

    /// Writes a file object of a kind without a path and its state.
    pub fn write_file_object_state(
        &mut self,
        file: &FileObjectRecord,
        state: &FileStateRecord,
    ) -> Result {
        self.write_record(file)?;
        self.write_record(state)
    }

    /// Writes the record of pipe number `pipe` of `size` bytes holding
    /// `data` (at most [`MAX_PIPE_DATA`] bytes).
    pub fn write_pipe(&mut self, pipe: u32, size: u32, data: &[u8]) -> Result {
        let data_len = u32::try_from(data.len())
            .ok()
            .filter(|&len| len <= MAX_PIPE_DATA)
            .ok_or(Errno::EINVAL)?;
        let prefix = PipeRecord {
            pipe,
            size,
            data_len,
            _pad: 0,
        };
        self.write_var(&prefix, &[data])
    }

    /// Writes the fs record and the string record with the working
    /// directory.
    pub fn write_fs(&mut self, fs: &FsRecord, cwd: &[u8]) -> Result {
        self.write_record(fs)?;
        self.write_string(cwd)
    }

    /// Flushes what was written, without a tail, and gives the sink back:
    /// the end of an image whose last record is an error record.
    pub fn abort(mut self) -> Result<S> {
        self.flush()?;
        Ok(self.sink)
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
