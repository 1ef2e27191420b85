// SPDX-License-Identifier: GPL-2.0

//! Feeds arbitrary bytes to the image parser the way restart does: every
//! item is read, with its body, until the parser stops.  Nothing may panic,
//! overflow or allocate beyond the format's caps.

#![no_main]

use ckpt_format::format::testing::SliceSource;
use ckpt_format::format::{
    FileSource, ImageParser, Item, VmaRecord, MAX_FILE_DATA, MAX_PIPE_DATA, MAX_STRING_LEN,
    MAX_XSTATE_SIZE, VMA_SHARED,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The source's read size varies with the input's length, so that
    // short reads are explored without changing the image's bytes.
    let chunk = 1 + data.len() % 4099;
    let image = data;
    let mut read_buf = vec![0u8; 512];
    let mut strings = vec![0u8; MAX_STRING_LEN as usize];
    let mut xstate = vec![0u8; MAX_XSTATE_SIZE as usize];
    let mut page = vec![0u8; 65536];
    let Ok(mut p) = ImageParser::new(
        SliceSource::new(image, chunk),
        &mut read_buf,
        &mut strings,
        Vec::<VmaRecord>::new(),
    ) else {
        return;
    };
    loop {
        match p.next_item() {
            Ok(Item::Fpu(f)) => {
                let size = f.xstate_size as usize;
                assert!(size <= xstate.len());
                if p.read_xstate(&mut xstate[..size]).is_err() {
                    return;
                }
            }
            Ok(Item::PageChunk { count }) => {
                let size = p.page_size();
                for _ in 0..count {
                    match p.read_page(&mut page[..size]) {
                        Ok(addr) => assert!(p.vmas().iter().any(|a| {
                            addr >= a.start && addr < a.end && a.flags & VMA_SHARED == 0
                        })),
                        Err(_) => return,
                    }
                }
            }
            Ok(Item::PosixTimers(rec)) => {
                for _ in 0..rec.count {
                    match p.read_posix_timer() {
                        Ok(t) => assert!(t.is_valid()),
                        Err(_) => return,
                    }
                }
            }
            Ok(Item::Pipe(rec)) => {
                let len = rec.data_len as usize;
                assert!(len <= MAX_PIPE_DATA as usize && rec.data_len <= rec.size);
                if p.read_pipe_data(&mut vec![0u8; len]).is_err() {
                    return;
                }
            }
            Ok(Item::FileObject(f, FileSource::EpollSet { count })) => {
                for _ in 0..count {
                    match p.read_epoll_watch() {
                        Ok(w) => assert!(w.file_ref >= 1 && w.file_ref < f.objref),
                        Err(_) => return,
                    }
                }
            }
            Ok(Item::FileData { len, .. }) => {
                assert!(len <= MAX_FILE_DATA as usize);
                if p.read_file_data(&mut vec![0u8; len]).is_err() {
                    return;
                }
            }
            Ok(Item::Tail) | Ok(Item::Error { .. }) | Err(_) => return,
            Ok(_) => {}
        }
    }
});
