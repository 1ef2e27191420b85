// SPDX-License-Identifier: GPL-2.0

//! Address spaces: the memory areas and the present pages of a task at
//! checkpoint, and their re-creation in the calling task at restart.
//!
//! # Checkpoint
//!
//! [`save`] writes the layout, the areas and then the pages of all the
//! private areas, in one sequence of chunks.
//! The areas are listed under the mmap read lock.  Anonymous and
//! file-backed areas, private or shared, are saved, and the vDSO is
//! noted; anything else (device and huge-page mappings, other special
//! mappings) makes the checkpoint fail with `EOPNOTSUPP`.  Pages are found
//! with `get_user_pages_remote(FOLL_DUMP)`, which skips holes and the zero
//! page without allocating, so only touched memory is written; in a
//! private file-backed area only the pages the task modified (anonymous
//! copies) are saved, the rest comes back from the file.  The pages are
//! checksummed and written to the image from their frames, not copied.
//!
//! A shared area saves no pages: its data is in its file, which stays
//! where it is (a file with a path), or is saved once with its contents
//! however many areas map it (shared anonymous memory, a memfd, an
//! unlinked file; see [`crate::file_kinds`]).  Such memory may be shared
//! by the processes of the tree, which map the one restored object again;
//! one that a process outside the tree maps too would not be shared with
//! it after restart, and is refused ([`check_tree`]).
//!
//! # Restart
//!
//! [`check_areas`] validates the areas against this kernel before the
//! point of no return; [`replace_mm`] then unmaps the whole user address
//! space of the caller, maps the vDSO at its saved address, maps every
//! saved area at its address with its protection (shared areas shared,
//! on the file restart opened or re-created), and sets the layout
//! fields (brk, stack, arguments, environment, executable).  [`read_pages`]
//! then takes each chunk's pages in the new memory with
//! `get_user_pages_remote(FOLL_WRITE | FOLL_FORCE)`, which, like a
//! debugger's write, also reaches read-only private areas, and reads the
//! image straight into them.

use crate::error::{eopnotsupp, fmt_result, to_format_errno, Failure};
use crate::file::{FileRef, FileSink, FrameSource};
use crate::files;
use crate::format::{
    self, auxv_ok, CredsRecord, Errno, ImageParser, ImageWriter, Item, MmRecord, RlimitsRecord,
    VmaKind, VmaRecord, VmaStore, MAX_AUXV_WORDS, MAX_CHUNK_PAGES, MAX_VMAS, VMA_DONTDUMP,
    VMA_DONTFORK, VMA_GROWSDOWN, VMA_HEAP, VMA_HUGEPAGE, VMA_LOCKED, VMA_LOCK_ON_FAULT,
    VMA_NOHUGEPAGE, VMA_PROT_EXEC, VMA_PROT_READ, VMA_PROT_WRITE, VMA_RANDOM, VMA_SEQUENTIAL,
    VMA_SHARED, VMA_STACK, VMA_WIPEONFORK,
};
use crate::objhash::{CheckpointObjects, RestartObjects};
use crate::task::TaskRef;
use crate::tree::Next;
use core::ptr::NonNull;
use kernel::alloc::{flags::GFP_KERNEL, KBox, KVVec, KVec};
use kernel::bindings;
use kernel::error::{code::*, Error, Result};

/// The page size of this kernel.
pub const PAGE_SIZE: usize = bindings::PAGE_SIZE;

/// The memory areas of one address space, in image order.
pub struct VmaList(KVVec<VmaRecord>);

impl VmaList {
    /// An empty list.
    pub fn new() -> Self {
        VmaList(KVVec::new())
    }
}

impl Default for VmaList {
    fn default() -> Self {
        Self::new()
    }
}

impl VmaStore for VmaList {
    fn reset(&mut self, count: usize) -> format::Result {
        // The parser bounds `count`; check again before sizing memory by it.
        if count > MAX_VMAS as usize {
            return Err(Errno::EINVAL);
        }
        self.0 = KVVec::with_capacity(count, GFP_KERNEL).map_err(|_| Errno::ENOMEM)?;
        Ok(())
    }

    fn push(&mut self, vma: VmaRecord) -> format::Result {
        self.0.push(vma, GFP_KERNEL).map_err(|_| Errno::ENOMEM)
    }

    fn as_slice(&self) -> &[VmaRecord] {
        &self.0
    }
}

/// A counted reference to an address space (`get_task_mm`, `mmput`).
///
/// # Invariants
///
/// `ptr` points to an `mm_struct` on which this object owns one `mm_users`
/// reference.
pub struct MmRef {
    ptr: NonNull<bindings::mm_struct>,
}

impl MmRef {
    /// The address space of `task`; `EINVAL` for a task without one
    /// (a kernel thread, or one that is exiting).
    pub fn of_task(task: &TaskRef) -> Result<Self> {
        // SAFETY: the task is alive; `get_task_mm` returns a counted
        // reference or null.
        let mm = unsafe { bindings::get_task_mm(task.as_ptr()) };
        // INVARIANT: we own the reference `get_task_mm` took.
        NonNull::new(mm).map(|ptr| MmRef { ptr }).ok_or(EINVAL)
    }

    /// The address space of the calling task.
    pub fn current() -> Result<Self> {
        Self::of_task(&TaskRef::current()?)
    }

    /// The address space, valid while `self` lives.
    pub fn as_ptr(&self) -> *mut bindings::mm_struct {
        self.ptr.as_ptr()
    }

    fn read_lock(&self) -> MmapReadGuard<'_> {
        // SAFETY: the mm is alive (type invariant).
        unsafe { bindings::mmap_read_lock(self.as_ptr()) };
        MmapReadGuard(self)
    }

    fn write_lock(&self) -> MmapWriteGuard<'_> {
        // SAFETY: the mm is alive (type invariant).
        unsafe { bindings::mmap_write_lock(self.as_ptr()) };
        MmapWriteGuard(self)
    }
}

impl Drop for MmRef {
    fn drop(&mut self) {
        // SAFETY: we own one reference (type invariant), dropped here.
        unsafe { bindings::mmput(self.as_ptr()) };
    }
}

/// Holds the mmap lock for reading.
struct MmapReadGuard<'a>(&'a MmRef);

impl Drop for MmapReadGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: the guard was created by taking the read lock.
        unsafe { bindings::mmap_read_unlock(self.0.as_ptr()) };
    }
}

/// Holds the mmap lock for writing.
struct MmapWriteGuard<'a>(&'a MmRef);

impl Drop for MmapWriteGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: the guard was created by taking the write lock.
        unsafe { bindings::mmap_write_unlock(self.0.as_ptr()) };
    }
}

/// One memory area found at checkpoint.
pub struct Area {
    /// Its record (`file_ref` is filled in when the file is saved).
    pub rec: VmaRecord,
    /// The mapped file of a file-backed area.
    pub file: Option<FileRef>,
}

/// The `vm_flags` bits saved in an area's flags: locking, and what
/// `madvise` sets.
const AREA_FLAGS: [(u64, u32); 9] = [
    (bindings::VM_LOCKED as u64, VMA_LOCKED),
    (bindings::VM_LOCKONFAULT as u64, VMA_LOCK_ON_FAULT),
    (bindings::VM_DONTCOPY as u64, VMA_DONTFORK),
    (bindings::VM_DONTDUMP as u64, VMA_DONTDUMP),
    (bindings::VM_WIPEONFORK as u64, VMA_WIPEONFORK),
    (bindings::VM_HUGEPAGE as u64, VMA_HUGEPAGE),
    (bindings::VM_NOHUGEPAGE as u64, VMA_NOHUGEPAGE),
    (bindings::VM_SEQ_READ as u64, VMA_SEQUENTIAL),
    (bindings::VM_RAND_READ as u64, VMA_RANDOM),
];

/// The `madvise` advice that sets each area flag again.
const AREA_ADVICE: [(u32, u32); 7] = [
    (VMA_DONTFORK, bindings::MADV_DONTFORK),
    (VMA_DONTDUMP, bindings::MADV_DONTDUMP),
    (VMA_WIPEONFORK, bindings::MADV_WIPEONFORK),
    (VMA_HUGEPAGE, bindings::MADV_HUGEPAGE),
    (VMA_NOHUGEPAGE, bindings::MADV_NOHUGEPAGE),
    (VMA_SEQUENTIAL, bindings::MADV_SEQUENTIAL),
    (VMA_RANDOM, bindings::MADV_RANDOM),
];

/// `CAP_IPC_LOCK`.
const CAP_IPC_LOCK: u64 = 1 << 14;

const VM_UNSUPPORTED: u64 =
    (bindings::VM_IO | bindings::VM_PFNMAP | bindings::VM_MIXEDMAP | bindings::VM_HUGETLB) as u64;

/// The layout record of `mm` (without the executable's reference and the
/// area count, which the caller fills in).
pub fn layout(mm: &MmRef) -> MmRecord {
    let _lock = mm.read_lock();
    // SAFETY: the mm is alive and its layout fields are stable under the
    // mmap lock.
    let m = unsafe { &*mm.as_ptr() };
    MmRecord {
        start_code: m.__bindgen_anon_1.start_code as u64,
        end_code: m.__bindgen_anon_1.end_code as u64,
        start_data: m.__bindgen_anon_1.start_data as u64,
        end_data: m.__bindgen_anon_1.end_data as u64,
        start_brk: m.__bindgen_anon_1.start_brk as u64,
        brk: m.__bindgen_anon_1.brk as u64,
        start_stack: m.__bindgen_anon_1.start_stack as u64,
        arg_start: m.__bindgen_anon_1.arg_start as u64,
        arg_end: m.__bindgen_anon_1.arg_end as u64,
        env_start: m.__bindgen_anon_1.env_start as u64,
        env_end: m.__bindgen_anon_1.env_end as u64,
        vdso_base: m.__bindgen_anon_1.context.vdso as u64,
        exe_file_ref: 0,
        vma_count: 0,
        auxv_words: 0,
        _pad: 0,
    }
}

/// The auxiliary vector of `mm` as `/proc/PID/auxv` shows it: its pairs
/// up to and including the first `AT_NULL` pair.
pub fn saved_auxv(mm: &MmRef) -> Result<KVec<u64>> {
    let mut auxv = KVec::with_capacity(MAX_AUXV_WORDS, GFP_KERNEL)?;
    let _lock = mm.read_lock();
    // SAFETY: the mm is alive; the vector is written only at exec and by
    // `prctl(PR_SET_MM_AUXV)` of its own task, which is stopped or us.
    let m = unsafe { &*mm.as_ptr() };
    for pair in m.__bindgen_anon_1.saved_auxv.chunks_exact(2) {
        let &[key, value] = pair else { break };
        if key == 0 || auxv.len() + 2 > MAX_AUXV_WORDS {
            break;
        }
        auxv.push(key as u64, GFP_KERNEL)?;
        auxv.push(value as u64, GFP_KERNEL)?;
    }
    // The kernel keeps its last pair AT_NULL; the record's ends so too.
    if auxv.len() + 2 > MAX_AUXV_WORDS {
        return Err(EINVAL);
    }
    auxv.push(0, GFP_KERNEL)?;
    auxv.push(0, GFP_KERNEL)?;
    Ok(auxv)
}

/// Checks, before the point of no return, that a saved auxiliary vector
/// fits this kernel's (`EINVAL` otherwise).
pub fn check_auxv(auxv: &[u64]) -> Result {
    if !auxv_ok(auxv) || auxv.len() > bindings::AT_VECTOR_SIZE as usize {
        return Err(EINVAL);
    }
    Ok(())
}

/// The executable file of `mm`, if any.
pub fn exe_file(mm: &MmRef) -> Option<FileRef> {
    // SAFETY: the mm is alive; `get_mm_exe_file` returns a counted
    // reference or null, which we hand to `from_owned`.
    unsafe { FileRef::from_owned(bindings::get_mm_exe_file(mm.as_ptr())) }
}

fn prot_of(vm_flags: u64) -> u32 {
    let mut prot = 0;
    if vm_flags & bindings::VM_READ as u64 != 0 {
        prot |= VMA_PROT_READ;
    }
    if vm_flags & bindings::VM_WRITE as u64 != 0 {
        prot |= VMA_PROT_WRITE;
    }
    if vm_flags & bindings::VM_EXEC as u64 != 0 {
        prot |= VMA_PROT_EXEC;
    }
    prot
}

/// Shared memory without a path (shared anonymous memory, a memfd, an
/// unlinked file, a SysV segment) as one area of the tree maps it.
pub struct SharedArea {
    /// Identifies the memory (its `address_space`), whichever open file
    /// maps it.
    key: usize,
    /// The file the area maps it through.
    file: FileRef,
    /// The process of this area, and where it is.
    pid: i32,
    start: u64,
    end: u64,
}

/// Refuses, with `EOPNOTSUPP` and the reason in `failure`, shared memory
/// that a process outside the tree maps too, which a restarted copy would
/// no longer share with it: once every process of the tree is saved,
/// each such memory must have as many areas in the tree as in the whole
/// system, counted once per memory.  Sorts `areas`.
pub fn check_tree(areas: &mut [SharedArea], failure: &mut Failure) -> Result {
    areas.sort_unstable_by_key(|a| a.key);
    for group in areas.chunk_by(|a, b| a.key == b.key) {
        let Some(first) = group.first() else { continue };
        if shared_mappings(&first.file) > group.len() {
            let (pid, start, end) = (first.pid, first.start, first.end);
            failure.set(format_args!(
                "shared memory at {start:#x}-{end:#x} of process {pid} is also mapped by a process outside the tree"
            ));
            return Err(eopnotsupp());
        }
    }
    Ok(())
}

/// Lists the areas of `mm`, the address space of process `pid`; adds its
/// shared memory without a path to `shared`.  An area this version cannot
/// save fails with `EOPNOTSUPP` and a message in `failure`.
pub fn collect_areas(
    mm: &MmRef,
    pid: i32,
    layout: &MmRecord,
    shared: &mut KVec<SharedArea>,
    failure: &mut Failure,
) -> Result<KVVec<Area>> {
    let mut areas = KVVec::new();
    let _lock = mm.read_lock();
    let mut addr = 0u64;
    loop {
        // SAFETY: the mm is alive and read-locked.
        let vma = unsafe { bindings::find_vma(mm.as_ptr(), addr as usize) };
        let Some(vma) = NonNull::new(vma) else { break };
        let vma = vma.as_ptr();
        // SAFETY: `vma` belongs to the read-locked mm; the range is the
        // live member of its union while the area is in the tree.
        let (start, end, pgoff, file) = unsafe {
            let range = (*vma).__bindgen_anon_1.__bindgen_anon_1;
            (
                range.vm_start as u64,
                range.vm_end as u64,
                (*vma).vm_pgoff as u64,
                (*vma).vm_file,
            )
        };
        // SAFETY: as above.
        let vm_flags = unsafe { bindings::vma_flags(vma) } as u64;
        // SAFETY: as above; the name, if any, is a static string.
        let special = unsafe { bindings::vma_special_name(vma) };
        addr = end;
        if areas.len() >= MAX_VMAS as usize {
            failure.set(format_args!("more than {MAX_VMAS} memory areas"));
            return Err(eopnotsupp());
        }
        let mut rec = VmaRecord {
            start,
            end,
            pgoff: 0,
            prot: prot_of(vm_flags),
            flags: 0,
            kind: VmaKind::Anonymous as u32,
            file_ref: 0,
        };
        if !special.is_null() {
            // SAFETY: a special mapping's name is a NUL-terminated static
            // string.
            let name = unsafe { kernel::str::CStr::from_char_ptr(special) };
            rec.kind = match name.as_bytes() {
                b"[vdso]" => VmaKind::Vdso as u32,
                b"[vvar]" => VmaKind::Vvar as u32,
                other => {
                    failure.set(format_args!(
                        "special mapping {} at {start:#x}-{end:#x}",
                        kernel::str::BStr::from_bytes(other)
                    ));
                    return Err(eopnotsupp());
                }
            };
            areas.push(Area { rec, file: None }, GFP_KERNEL)?;
            continue;
        }
        if vm_flags & VM_UNSUPPORTED != 0 {
            failure.set(format_args!(
                "device or huge-page mapping at {start:#x}-{end:#x}"
            ));
            return Err(eopnotsupp());
        }
        if vm_flags & bindings::VM_GROWSDOWN as u64 != 0 {
            rec.flags |= VMA_GROWSDOWN;
        }
        for &(vm, flag) in AREA_FLAGS.iter() {
            if vm_flags & vm != 0 {
                rec.flags |= flag;
            }
        }
        if start <= layout.start_stack && layout.start_stack < end {
            rec.flags |= VMA_STACK;
        }
        if start < layout.brk.max(layout.start_brk + 1) && layout.start_brk < end {
            rec.flags |= VMA_HEAP;
        }
        let file = match NonNull::new(file) {
            Some(f) => {
                rec.kind = VmaKind::File as u32;
                rec.pgoff = pgoff;
                // SAFETY: the area holds a reference on its file while the
                // mm is locked.
                Some(unsafe { FileRef::from_raw_get(f) })
            }
            None => None,
        };
        // VM_MAYSHARE alone: shared, on a file open read-only.
        if vm_flags & (bindings::VM_SHARED | bindings::VM_MAYSHARE) as u64 != 0 {
            let Some(file) = &file else {
                // The kernel gives every shared area a file.
                failure.set(format_args!(
                    "shared mapping at {start:#x}-{end:#x} without a file"
                ));
                return Err(eopnotsupp());
            };
            // A file with a path is shared through its name; memory
            // without one only through its mappings, which the tree must
            // hold all of.
            if file.on_internal_mount() {
                // SAFETY: the file is alive (the area holds it, and so
                // does `file`); `f_mapping` is set when it is opened.
                let key = unsafe { (*file.as_ptr()).f_mapping } as usize;
                // SAFETY: as just said.
                let file = unsafe { FileRef::from_raw_get(file.as_non_null()) };
                shared.push(
                    SharedArea {
                        key,
                        file,
                        pid,
                        start,
                        end,
                    },
                    GFP_KERNEL,
                )?;
            }
            rec.flags |= VMA_SHARED;
        }
        areas.push(Area { rec, file }, GFP_KERNEL)?;
    }
    Ok(areas)
}

/// How many areas of every address space map the pages of `file` shared.
fn shared_mappings(file: &FileRef) -> usize {
    // SAFETY: the file is alive (type invariant of `FileRef`); the helper
    // takes the i_mmap lock, and the caller holds no mmap lock.
    unsafe { bindings::ckpt_shared_mappings(file.as_ptr()) as usize }
}

/// Up to a chunk of referenced pages, as the `bio_vec`s of one vectored
/// read or write of the image file.
///
/// # Invariants
///
/// Each of the first `count` entries of `frames` points at a page on which
/// this owns one reference, for `PAGE_SIZE` bytes from offset 0.
struct PageFrames {
    frames: [bindings::bio_vec; MAX_CHUNK_PAGES as usize],
    count: usize,
}

impl PageFrames {
    fn new() -> Self {
        let none = bindings::bio_vec {
            bv_page: core::ptr::null_mut(),
            bv_len: 0,
            bv_offset: 0,
        };
        PageFrames {
            frames: [none; MAX_CHUNK_PAGES as usize],
            count: 0,
        }
    }

    fn as_slice(&self) -> &[bindings::bio_vec] {
        self.frames.get(..self.count).unwrap_or(&[])
    }

    fn is_full(&self) -> bool {
        self.count >= self.frames.len()
    }

    /// Appends `page`, taking over its reference; when full, drops it and
    /// is `EINVAL`.
    ///
    /// # Safety
    ///
    /// The caller owns a reference on `page`, which it gives away.
    unsafe fn push(&mut self, page: *mut bindings::page) -> Result {
        let Some(frame) = self.frames.get_mut(self.count) else {
            // SAFETY: the caller gave us its reference.
            unsafe { bindings::put_page(page) };
            return Err(EINVAL);
        };
        *frame = bindings::bio_vec {
            bv_page: page,
            bv_len: PAGE_SIZE as u32,
            bv_offset: 0,
        };
        // INVARIANT: the reference on `page` is now ours.
        self.count += 1;
        Ok(())
    }

    /// Drops the pages' references, after marking each page dirty if
    /// `dirty` (as a write through `access_remote_vm` does), and empties
    /// the set.
    fn release(&mut self, dirty: bool) {
        for frame in self.as_slice() {
            // SAFETY: by the type invariant we own a reference on each
            // page; `count` is reset below, so each is dropped once.
            unsafe {
                if dirty {
                    bindings::set_page_dirty_lock(frame.bv_page);
                }
                bindings::put_page(frame.bv_page);
            }
        }
        self.count = 0;
    }

    /// Calls `f` with the bytes of each page, in order.
    fn for_each(&self, f: &mut dyn FnMut(&[u8])) {
        for frame in self.as_slice() {
            // Who else may write the page meanwhile: see the set's users.
            // SAFETY: the page is referenced (type invariant), mapped until
            // `kunmap_local`, and the slice does not outlive the mapping.
            unsafe {
                let src = bindings::kmap_local_page(frame.bv_page);
                f(core::slice::from_raw_parts(src.cast::<u8>(), PAGE_SIZE));
                bindings::kunmap_local(src);
            }
        }
    }

    /// Calls `f` with the bytes of each page, writable, in order.
    fn for_each_mut(&mut self, f: &mut dyn FnMut(&mut [u8])) {
        for frame in self.as_slice() {
            // SAFETY: as in `for_each`; the page is one only this restart
            // writes (see `RestoredPages`).
            unsafe {
                let dst = bindings::kmap_local_page(frame.bv_page);
                f(core::slice::from_raw_parts_mut(dst.cast::<u8>(), PAGE_SIZE));
                bindings::kunmap_local(dst);
            }
        }
    }
}

impl Drop for PageFrames {
    fn drop(&mut self) {
        self.release(false);
    }
}

/// The present pages of one chunk, held by reference rather than copied:
/// they are checksummed and written to the image straight from their
/// frames ([`format::PageSet`]).  The stopped task does not write its
/// pages, and the extra references make a sharer that writes one copy it
/// first; only a writer from outside (`process_vm_writev`) could still
/// change a page between its checksum and its write, which the image's
/// checksum would then show, as a copy made at that moment would.
pub struct PageChunk {
    addrs: [u64; MAX_CHUNK_PAGES as usize],
    frames: PageFrames,
}

impl PageChunk {
    /// An empty chunk, on the heap (it is about 1.5 KiB).
    pub fn new() -> Result<KBox<Self>> {
        Ok(KBox::new(
            PageChunk {
                addrs: [0; MAX_CHUNK_PAGES as usize],
                frames: PageFrames::new(),
            },
            GFP_KERNEL,
        )?)
    }

    /// The addresses of the gathered pages.
    pub fn addrs(&self) -> &[u64] {
        self.addrs.get(..self.frames.count).unwrap_or(&[])
    }

    /// Appends the page `page` at `addr`, taking over its reference; a
    /// full chunk drops it and is `EINVAL`.
    ///
    /// # Safety
    ///
    /// The caller owns a reference on `page`, which it gives to the chunk.
    unsafe fn push(&mut self, addr: u64, page: *mut bindings::page) -> Result {
        let at = self.addrs.get_mut(self.frames.count);
        // SAFETY: the caller's reference goes on (function safety
        // requirement).
        unsafe { self.frames.push(page) }?;
        if let Some(at) = at {
            *at = addr;
        }
        Ok(())
    }

    /// Whether the chunk holds as many pages as a chunk may.
    pub fn is_full(&self) -> bool {
        self.frames.is_full()
    }

    /// Drops the pages' references and empties the chunk.
    pub fn clear(&mut self) {
        self.frames.release(false);
    }
}

impl format::PageSet<FileSink<'_>> for PageChunk {
    fn count(&self) -> usize {
        self.frames.count
    }

    fn page_len(&self) -> usize {
        PAGE_SIZE
    }

    fn for_each_page(&self, f: &mut dyn FnMut(&[u8])) -> format::Result {
        self.frames.for_each(f);
        Ok(())
    }

    fn write_to(&self, sink: &mut FileSink<'_>) -> format::Result {
        // SAFETY: every frame is a referenced page of PAGE_SIZE bytes from
        // offset 0 (type invariant of `PageFrames`), alive for the call.
        unsafe { sink.0.write_pages(self.frames.as_slice()) }.map_err(to_format_errno)
    }
}

/// Adds to `chunk` the next present pages of `area` from `*addr` on, until
/// the chunk is full, and advances `*addr` past the pages looked at.
/// Ranges the page tables do not map are skipped without looking at their
/// pages; so are never-written pages (the zero page), and in a
/// file-backed area pages that still are the file's.  Only private areas
/// have pages in an image: the caller skips shared ones.
pub fn gather_pages(mm: &MmRef, area: &Area, addr: &mut u64, chunk: &mut PageChunk) -> Result {
    let file_backed = area.rec.kind == VmaKind::File as u32;
    let end = area.rec.end;
    let _lock = mm.read_lock();
    let mut pages = [core::ptr::null_mut::<bindings::page>(); MAX_CHUNK_PAGES as usize];
    while *addr < end && !chunk.is_full() {
        // SAFETY: the mm is alive and read-locked; the range lies in one
        // of its areas.
        let next =
            unsafe { bindings::ckpt_next_populated(mm.as_ptr(), *addr as usize, end as usize) }
                as u64;
        if next >= end {
            *addr = end;
            break;
        }
        *addr = next;
        let room = (MAX_CHUNK_PAGES as usize - chunk.frames.count)
            .min(((end - next) / PAGE_SIZE as u64) as usize);
        // FOLL_DUMP stops at the first hole or zero page, without faulting.
        // SAFETY: the mm is alive and read-locked; `pages` has room for `room`
        // entries, each given one page reference up to the returned count.
        let got = unsafe {
            bindings::get_user_pages_remote(
                mm.as_ptr(),
                next as usize,
                room,
                bindings::FOLL_FORCE | bindings::FOLL_DUMP,
                pages.as_mut_ptr(),
                core::ptr::null_mut(),
            )
        };
        if got == -(bindings::EFAULT as isize) || got == 0 {
            // The zero page, or an area not readable even by force.
            *addr += PAGE_SIZE as u64;
            continue;
        }
        if got < 0 {
            return Err(Error::from_errno(got as i32));
        }
        let got = (got as usize).min(room);
        // `room` left space for every page, so `push` cannot fail; all
        // references are handed on or dropped before an error returns.
        let mut result = Ok(());
        for (i, &page) in pages.iter().take(got).enumerate() {
            // SAFETY: `page` holds the reference taken above.
            let keep = !file_backed || unsafe { bindings::PageAnon(page) };
            if keep && result.is_ok() {
                // SAFETY: the reference taken above goes to the chunk.
                result = unsafe { chunk.push(next + (i * PAGE_SIZE) as u64, page) };
            } else {
                // SAFETY: drops the reference `get_user_pages_remote` took.
                unsafe { bindings::put_page(page) };
            }
        }
        result?;
        *addr = next + (got * PAGE_SIZE) as u64;
    }
    Ok(())
}

/// Saves the address space of `target`: layout (with the executable),
/// areas (with their files), then the pages of its private areas; adds
/// its shared memory without a path to `shared`.
pub fn save(
    w: &mut ImageWriter<'_, FileSink<'_>>,
    target: &TaskRef,
    objects: &mut CheckpointObjects,
    path: &mut [u8],
    shared: &mut KVec<SharedArea>,
    failure: &mut Failure,
) -> Result {
    let mm = MmRef::of_task(target)?;
    let mut layout = layout(&mm);
    let auxv = saved_auxv(&mm)?;
    layout.auxv_words = auxv.len() as u32;
    let mut areas = collect_areas(&mm, target.tid(), &layout, shared, failure)?;
    if let Some(exe) = exe_file(&mm) {
        layout.exe_file_ref = files::save_file(
            w,
            objects,
            &exe,
            path,
            failure,
            format_args!("the executable"),
        )?;
    }
    layout.vma_count = u32::try_from(areas.len()).map_err(|_| EINVAL)?;
    fmt_result(w.write_mm(&layout, &auxv))?;
    for area in areas.iter_mut() {
        if let Some(file) = &area.file {
            let start = area.rec.start;
            area.rec.file_ref = files::save_file(
                w,
                objects,
                file,
                path,
                failure,
                format_args!("the mapping at {start:#x}"),
            )?;
        }
        fmt_result(w.write_record(&area.rec))?;
    }
    // One sequence of chunks for all the areas: a chunk may hold the pages
    // of several small areas.
    let mut chunk = PageChunk::new()?;
    for area in areas.iter() {
        let kind = area.rec.kind;
        // A shared area's pages are in its file, saved once.
        let shared = area.rec.flags & format::VMA_SHARED != 0;
        if (kind == VmaKind::Anonymous as u32 || kind == VmaKind::File as u32) && !shared {
            let mut addr = area.rec.start;
            while addr < area.rec.end {
                gather_pages(&mm, area, &mut addr, &mut chunk)?;
                if chunk.is_full() {
                    fmt_result(w.write_page_chunk_from(chunk.addrs(), &*chunk))?;
                    chunk.clear();
                }
            }
        }
    }
    if !chunk.addrs().is_empty() {
        fmt_result(w.write_page_chunk_from(chunk.addrs(), &*chunk))?;
    }
    if !areas.is_empty() {
        fmt_result(w.write_page_chunk(&[], &[]))?;
    }
    Ok(())
}

/// The pages of one chunk in the restored task's memory, filled straight
/// from the image ([`format::PageTarget`]).  They are pages the task's new
/// memory has just faulted in for writing, and that task runs nothing
/// until the restart ends: only this restart writes them.
pub struct RestoredPages {
    frames: PageFrames,
}

impl RestoredPages {
    /// None yet, on the heap (about 1 KiB).
    pub fn new() -> Result<KBox<Self>> {
        Ok(KBox::new(
            RestoredPages {
                frames: PageFrames::new(),
            },
            GFP_KERNEL,
        )?)
    }

    /// Takes the pages at `addrs` (at most a chunk) in `mm` for writing,
    /// faulting them in and breaking copy-on-write as a debugger's write
    /// does (`FOLL_FORCE` also reaches read-only private areas).
    fn get(&mut self, mm: &MmRef, addrs: &[u64]) -> Result {
        self.put();
        if addrs.len() > self.frames.frames.len() {
            return Err(EINVAL);
        }
        let mut pages = [core::ptr::null_mut::<bindings::page>(); MAX_CHUNK_PAGES as usize];
        let _lock = mm.read_lock();
        while self.frames.count < addrs.len() {
            let done = self.frames.count;
            let start = *addrs.get(done).ok_or(EINVAL)?;
            // The run of adjacent addresses from `start`.
            let run = addrs
                .iter()
                .skip(done)
                .enumerate()
                .take_while(|&(i, &a)| a == start + (i * PAGE_SIZE) as u64)
                .count();
            // SAFETY: the mm is alive and read-locked; `pages` has room for
            // `run` entries, each given one page reference up to the
            // returned count.
            let got = unsafe {
                bindings::get_user_pages_remote(
                    mm.as_ptr(),
                    start as usize,
                    run,
                    bindings::FOLL_FORCE | bindings::FOLL_WRITE,
                    pages.as_mut_ptr(),
                    core::ptr::null_mut(),
                )
            };
            if got <= 0 {
                return Err(EFAULT);
            }
            // The check above left room for every page; all references
            // are handed on or dropped before an error returns.
            let mut result = Ok(());
            for &page in pages.iter().take((got as usize).min(run)) {
                if result.is_ok() {
                    // SAFETY: the reference taken above goes to the set.
                    result = unsafe { self.frames.push(page) };
                } else {
                    // SAFETY: drops the reference taken above, which no
                    // frame holds.
                    unsafe { bindings::put_page(page) };
                }
            }
            result?;
        }
        Ok(())
    }

    /// Marks the pages dirty and drops their references.
    fn put(&mut self) {
        self.frames.release(true);
    }
}

impl Drop for RestoredPages {
    fn drop(&mut self) {
        self.put();
    }
}

impl<S: format::Source + FrameSource> format::PageTarget<S> for RestoredPages {
    fn count(&self) -> usize {
        self.frames.count
    }

    fn page_len(&self) -> usize {
        PAGE_SIZE
    }

    fn for_each_page_mut(&mut self, f: &mut dyn FnMut(&mut [u8])) -> format::Result {
        self.frames.for_each_mut(f);
        Ok(())
    }

    fn read_from(&mut self, src: &mut S, offset: usize) -> format::Result {
        // SAFETY: every frame is a referenced page of PAGE_SIZE writable
        // bytes from offset 0 (type invariant of `PageFrames`), alive for
        // the call.
        unsafe { src.read_frames(self.frames.as_slice(), offset) }.map_err(to_format_errno)
    }
}

/// Reads the pages of a process, from a first chunk of `first_chunk`
/// pages to the end of its last area, into `mm`; returns what follows
/// them.  Past the point of no return.  Each chunk's pages are taken in
/// `mm` first (faulted in), then read from the image straight into them.
pub fn read_pages<S: format::Source + FrameSource, V: VmaStore>(
    parser: &mut ImageParser<'_, S, V>,
    mm: &MmRef,
    first_chunk: usize,
) -> Result<Next> {
    let mut target = RestoredPages::new()?;
    let mut pages = first_chunk;
    loop {
        if pages > 0 {
            target.get(mm, parser.chunk_addrs())?;
            fmt_result(parser.read_chunk_pages_into(&mut *target))?;
            target.put();
        }
        match fmt_result(parser.next_item())? {
            Item::PageChunk { count } => pages = count,
            item => return Next::of(&item).ok_or(EINVAL),
        }
    }
}

/// Checks saved areas against this kernel before the point of no return:
/// every area inside the user address space this kernel allows, mapped
/// files opened, and the vDSO where this kernel's vDSO fits.
pub fn check_areas(mm: &MmRecord, areas: &[VmaRecord], objects: &RestartObjects) -> Result {
    // SAFETY: no preconditions.
    let limit = unsafe { bindings::task_size_max() } as u64;
    // SAFETY: a variable set by sysctl; a racy read is what mmap does.
    let min_addr = unsafe { bindings::mmap_min_addr } as u64;
    // SAFETY: `vdso_image_64` is a constant image description.
    let (vdso_size, vvar_start) = unsafe {
        (
            bindings::vdso_image_64.size as u64,
            bindings::vdso_image_64.sym_vvar_start,
        )
    };
    let mut vdso_seen = false;
    for a in areas {
        if a.start < min_addr || a.end > limit {
            return Err(EINVAL);
        }
        match VmaKind::from_u32(a.kind) {
            Some(VmaKind::File) => {
                let file = objects.file(a.file_ref)?;
                require_regular(file)?;
                check_mappable(file, a)?;
            }
            Some(VmaKind::Vdso) => {
                if a.start != mm.vdso_base || a.end - a.start != vdso_size {
                    return Err(EINVAL);
                }
                vdso_seen = true;
            }
            Some(VmaKind::Vvar) => {
                let vvar = mm.vdso_base.wrapping_add(vvar_start as u64);
                if a.start != vvar || a.end != mm.vdso_base {
                    return Err(EINVAL);
                }
            }
            Some(VmaKind::Anonymous) => {}
            None => return Err(EINVAL),
        }
    }
    if vdso_seen != (mm.vdso_base != 0) {
        return Err(EINVAL);
    }
    if mm.exe_file_ref != 0 {
        require_regular(objects.file(mm.exe_file_ref)?)?;
    }
    Ok(())
}

/// Checks before the point of no return that the advice and locking of
/// `areas` can be applied again at its end, by the restored task with
/// its saved `RLIMIT_MEMLOCK` (in `rlimits`) and effective capabilities
/// (in `creds`), as `mlock` would check them: `EPERM` with a zero limit,
/// `ENOMEM` beyond it, `EINVAL` for huge-page advice on a kernel without
/// transparent huge pages.
pub fn check_area_flags(
    areas: &[VmaRecord],
    rlimits: &RlimitsRecord,
    creds: &CredsRecord,
) -> Result {
    let memlock_limit = rlimits
        .limits
        .get(bindings::RLIMIT_MEMLOCK as usize)
        .map_or(0, |l| l.cur);
    let cap_effective = creds.cap_effective;
    let mut locked = 0u64;
    for a in areas {
        if a.flags & (VMA_HUGEPAGE | VMA_NOHUGEPAGE) != 0 && !cfg!(CONFIG_TRANSPARENT_HUGEPAGE) {
            return Err(EINVAL);
        }
        if a.flags & VMA_LOCKED != 0 {
            locked = locked.saturating_add(a.end - a.start);
        }
    }
    if locked == 0 || cap_effective & CAP_IPC_LOCK != 0 {
        return Ok(());
    }
    if memlock_limit == 0 {
        return Err(EPERM);
    }
    if locked > memlock_limit {
        return Err(ENOMEM);
    }
    Ok(())
}

/// Gives the calling task's areas their saved advice and locking again,
/// once their pages are in (past the point of no return; checked before
/// it by [`check_area_flags`]).
pub fn apply_area_flags(mm: &MmRef, areas: &[VmaRecord]) -> Result {
    for a in areas {
        let (start, len) = (a.start as usize, (a.end - a.start) as usize);
        for &(flag, advice) in AREA_ADVICE.iter() {
            if a.flags & flag == 0 {
                continue;
            }
            // SAFETY: the mm is the caller's and alive; `do_madvise`
            // takes its locks and checks the range itself.
            let ret = unsafe { bindings::do_madvise(mm.as_ptr(), start, len, advice as i32) };
            if ret < 0 {
                return Err(Error::from_errno(ret));
            }
        }
        if a.flags & VMA_LOCKED != 0 {
            // SAFETY: locks a range of the caller's own memory as
            // `mlock2` would, with its checks.
            let ret = unsafe { bindings::ckpt_mlock(start, len, a.flags & VMA_LOCK_ON_FAULT != 0) };
            if ret < 0 {
                return Err(Error::from_errno(ret));
            }
        }
    }
    Ok(())
}

/// Checks that `file` can be mapped as the area `a` says, as `mmap` would
/// check it past the point of no return: read access for any mapping,
/// and for a shared writable one write access, no `O_APPEND`, and no
/// memfd seal against writing (`EACCES`, `EPERM`).
fn check_mappable(file: &FileRef, a: &VmaRecord) -> Result {
    file.require_readable().map_err(|_| EACCES)?;
    if a.flags & VMA_SHARED == 0 || a.prot & VMA_PROT_WRITE == 0 {
        return Ok(());
    }
    file.require_writable().map_err(|_| EACCES)?;
    if file.flags() & bindings::O_APPEND != 0 {
        return Err(EACCES);
    }
    let mut vm_flags = (bindings::VM_SHARED | bindings::VM_MAYSHARE | bindings::VM_WRITE) as usize;
    // SAFETY: the file is alive; the call reads its seals, if it is a
    // memfd, and writes only `vm_flags`.
    let ret = unsafe { bindings::memfd_check_seals_mmap(file.as_ptr(), &mut vm_flags) };
    if ret < 0 {
        return Err(Error::from_errno(ret));
    }
    Ok(())
}

/// Only regular files can be mapped or be the executable.
fn require_regular(file: &FileRef) -> Result {
    if file.inode_mode() & bindings::S_IFMT != bindings::S_IFREG {
        return Err(EINVAL);
    }
    Ok(())
}

/// Replaces the calling task's address space by the saved one (without
/// page contents).  This is past the point of no return: on error the
/// caller is half replaced and must be killed.
pub fn replace_mm(
    mm: &MmRef,
    rec: &MmRecord,
    auxv: &[u64],
    areas: &[VmaRecord],
    objects: &RestartObjects,
) -> Result {
    // SAFETY: no preconditions.
    let limit = unsafe { bindings::task_size_max() };
    // SAFETY: unmaps the caller's own user address space; the kernel does
    // not use user mappings of the task it runs for.
    let ret = unsafe { bindings::vm_munmap(0, limit as usize) };
    if ret < 0 {
        return Err(Error::from_errno(ret));
    }
    if rec.exe_file_ref != 0 {
        let exe = objects.file(rec.exe_file_ref)?;
        // SAFETY: the mm is alive; `exe` is a live file; nothing is
        // mapped now, so neither is the old executable (which
        // `replace_mm_exe_file` requires).
        let ret = unsafe { bindings::replace_mm_exe_file(mm.as_ptr(), exe.as_ptr()) };
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
    }
    if rec.vdso_base != 0 {
        // SAFETY: `vdso_image_64` is a constant image description.
        let vvar_start = unsafe { bindings::vdso_image_64.sym_vvar_start };
        let addr = rec.vdso_base.wrapping_add(vvar_start as u64);
        // SAFETY: maps this kernel's vDSO into the (now empty) caller's
        // mm at `addr`, as `arch_prctl(ARCH_MAP_VDSO_64)` does.
        let ret = unsafe { bindings::map_vdso_once(&bindings::vdso_image_64, addr as usize) };
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
        // SAFETY: the mm is alive; `context.vdso` was just set.
        if unsafe { (*mm.as_ptr()).__bindgen_anon_1.context.vdso } as u64 != rec.vdso_base {
            return Err(EINVAL);
        }
    }
    for a in areas {
        let kind = VmaKind::from_u32(a.kind).ok_or(EINVAL)?;
        let shared = a.flags & VMA_SHARED != 0;
        let mut flags = bindings::MAP_FIXED
            | if shared {
                bindings::MAP_SHARED
            } else {
                bindings::MAP_PRIVATE
            };
        if a.flags & VMA_GROWSDOWN != 0 {
            flags |= bindings::MAP_GROWSDOWN;
        }
        let (file, offset) = match kind {
            VmaKind::Vdso | VmaKind::Vvar => continue,
            VmaKind::Anonymous => {
                flags |= bindings::MAP_ANONYMOUS;
                (core::ptr::null_mut(), 0)
            }
            VmaKind::File => {
                let file = objects.file(a.file_ref)?;
                if shared && file_is_shared_anon(file) {
                    map_shared_anon(file, a)?;
                    continue;
                }
                let offset = a.pgoff.checked_mul(PAGE_SIZE as u64).ok_or(EINVAL)?;
                (file.as_ptr(), offset)
            }
        };
        // The prot bits of the format are PROT_READ/WRITE/EXEC.
        // SAFETY: maps into the caller's own mm; `file` is null or a file
        // the objhash holds a reference on.
        let got = unsafe {
            bindings::vm_mmap(
                file,
                a.start as usize,
                (a.end - a.start) as usize,
                a.prot as usize,
                flags as usize,
                offset as usize,
            )
        };
        if got as u64 != a.start {
            let err = got as i64;
            return Err(if (-4095..0).contains(&err) {
                Error::from_errno(err as i32)
            } else {
                EINVAL
            });
        }
    }
    {
        let _lock = mm.write_lock();
        // SAFETY: the mm is alive and write-locked; the layout fields are
        // plain values (the parser checked their ranges).
        let m = unsafe { &mut *mm.as_ptr() };
        m.__bindgen_anon_1.start_code = rec.start_code as usize;
        m.__bindgen_anon_1.end_code = rec.end_code as usize;
        m.__bindgen_anon_1.start_data = rec.start_data as usize;
        m.__bindgen_anon_1.end_data = rec.end_data as usize;
        m.__bindgen_anon_1.start_brk = rec.start_brk as usize;
        m.__bindgen_anon_1.brk = rec.brk as usize;
        m.__bindgen_anon_1.start_stack = rec.start_stack as usize;
        m.__bindgen_anon_1.arg_start = rec.arg_start as usize;
        m.__bindgen_anon_1.arg_end = rec.arg_end as usize;
        m.__bindgen_anon_1.env_start = rec.env_start as usize;
        m.__bindgen_anon_1.env_end = rec.env_end as usize;
        if rec.vdso_base == 0 {
            m.__bindgen_anon_1.context.vdso = core::ptr::null_mut();
        }
        // `check_auxv` made sure the vector fits.
        let saved = &mut m.__bindgen_anon_1.saved_auxv;
        for (i, word) in saved.iter_mut().enumerate() {
            *word = auxv.get(i).copied().unwrap_or(0) as usize;
        }
    }
    Ok(())
}

/// Whether `file` is the object behind shared anonymous memory.
fn file_is_shared_anon(file: &FileRef) -> bool {
    // SAFETY: the file is alive (type invariant of `FileRef`).
    unsafe { bindings::ckpt_is_shared_anon(file.as_ptr()) }
}

/// Maps the shared anonymous memory `file` into the calling task as the
/// area `a`, so that the kernel sees shared anonymous memory again.
fn map_shared_anon(file: &FileRef, a: &VmaRecord) -> Result {
    // SAFETY: maps into the caller's own mm; the objhash holds a reference
    // on `file`, and the helper takes its own for the area.
    let ret = unsafe {
        bindings::ckpt_shared_anon_map(
            file.as_ptr(),
            a.start as usize,
            (a.end - a.start) as usize,
            a.prot as usize,
            a.pgoff as usize,
        )
    };
    if ret < 0 {
        return Err(Error::from_errno(ret));
    }
    Ok(())
}
