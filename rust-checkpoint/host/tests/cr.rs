// SPDX-License-Identifier: GPL-2.0

//! `cr info` and `cr verify` on images the format code writes: the sample
//! image of the format tests (every record type), sound and damaged in
//! each way those tests damage images.  `cr verify` must agree with the
//! kernel's parser on every one: exit 0 only for a sound image, else exit
//! 1 naming the parser's errno.

use ckpt_format::format::testing::{SliceSink, SliceSource};
use ckpt_format::format::tests_records::{sample, write_task, write_tree, zombie, Sample};
use ckpt_format::format::*;
use ckpt_format::{fix_image_tail, image_records};
use std::path::PathBuf;
use std::process::{Command, Output};

/// The sample image of the format tests: header, one task with every kind
/// of record, tail.
fn sample_image() -> Vec<u8> {
    image_of(&sample())
}

/// The image of `s`.
fn image_of(s: &Sample) -> Vec<u8> {
    let mut out = vec![0u8; 640 * 1024];
    let mut wbuf = vec![0u8; 4096];
    let mut page = vec![0u8; 64 * 1024];
    let mut w = ImageWriter::new(SliceSink::new(&mut out), &mut wbuf);
    w.write_record(&s.header).expect("header");
    write_task(&mut w, s, &mut page).expect("task");
    let len = w.finish().expect("tail").len;
    out.truncate(len);
    out
}

/// What the parser says about `image`: `Ok` or the errno.
fn parse(image: &[u8]) -> Result<()> {
    let mut read = vec![0u8; 16 * 1024];
    let mut strings = vec![0u8; MAX_STRING_LEN as usize];
    let mut p = ImageParser::new(
        SliceSource::new(image, 4096),
        &mut read,
        &mut strings,
        Vec::<VmaRecord>::new(),
    )?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match p.next_item()? {
            Item::Tail => return Ok(()),
            Item::Error { .. } => return Err(Errno::EIO),
            Item::Signals(_) => {
                for _ in 0..NSIG {
                    p.read_sigaction()?;
                }
            }
            Item::PosixTimers(r) => {
                for _ in 0..r.count {
                    p.read_posix_timer()?;
                }
            }
            Item::SigPending(r) => {
                for _ in 0..r.count {
                    p.read_pending_signal()?;
                }
            }
            Item::Creds(c) => {
                let mut g = vec![0u32; c.ngroups as usize];
                p.read_groups(&mut g)?;
            }
            Item::Fpu(f) => p.read_xstate(&mut buf[..f.xstate_size as usize])?,
            Item::Pipe(pipe) => p.read_pipe_data(&mut buf[..pipe.data_len as usize])?,
            Item::PtyQueue(q) => p.read_pty_queue(&mut buf[..q.body_len()])?,
            Item::FileData { len, .. } => p.read_file_data(&mut buf[..len])?,
            Item::FileObject(_, FileSource::EpollSet { count }) => {
                for _ in 0..count {
                    p.read_epoll_watch()?;
                }
            }
            Item::Mm(m) => {
                let mut auxv = vec![0u64; m.auxv_words as usize];
                p.read_auxv(&mut auxv)?;
            }
            Item::PageChunk { count } => {
                let size = p.page_size();
                for _ in 0..count {
                    p.read_page(&mut buf[..size])?;
                }
            }
            _ => {}
        }
    }
}

fn cr(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cr"))
        .args(args)
        .output()
        .expect("run cr")
}

/// A file holding an image while it lives.
struct ImageFile(PathBuf);

impl ImageFile {
    fn new(name: &str, image: &[u8]) -> ImageFile {
        let file = format!("cr-test-{}-{name}", std::process::id());
        let path = std::env::temp_dir().join(file);
        std::fs::write(&path, image).expect("write image");
        ImageFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temporary path")
    }
}

impl Drop for ImageFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The errno name `cr` prints for `e`.
fn errno_word(e: Errno) -> &'static str {
    match e {
        Errno::EINVAL => "EINVAL",
        Errno::EBADMSG => "EBADMSG",
        _ => "errno",
    }
}

/// `cr verify` on `image` agrees with the parser.
fn verify_agrees(name: &str, image: &[u8]) -> std::result::Result<(), String> {
    let file = ImageFile::new(name, image);
    let o = cr(&["verify", file.path()]);
    let code = o.status.code();
    match parse(image) {
        Ok(()) if code == Some(0) => Ok(()),
        Err(e) if code == Some(1) && text(&o).contains(errno_word(e)) => Ok(()),
        want => Err(format!(
            "{name}: parser {want:?}, cr verify exit {code:?}: {}",
            text(&o)
        )),
    }
}

#[test]
fn verify_accepts_the_sound_sample() {
    let image = sample_image();
    assert_eq!(parse(&image), Ok(()));
    let file = ImageFile::new("sound.img", &image);
    let o = cr(&["verify", file.path()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("sound image"));
}

#[test]
fn info_prints_records_and_memory_map() {
    let image = sample_image();
    let file = ImageFile::new("info.img", &image);
    let o = cr(&["info", file.path()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = text(&o);
    for want in [
        "header: format",
        "task: comm",
        "thread: comm \"worker\" tid 43",
        "memory map (",
        "checksum ok",
    ] {
        assert!(out.contains(want), "no {want:?} in:\n{out}");
    }
}

#[test]
fn verify_rejects_every_truncation() {
    let image = sample_image();
    let mut failures = Vec::new();
    // Every record boundary, and inside every record.
    for (off, len) in image_records(&image) {
        for cut in [off, off + 3, off + len / 2, off + len - 1] {
            if cut < image.len() {
                let name = format!("cut-{cut}.img");
                if let Err(e) = verify_agrees(&name, &image[..cut]) {
                    failures.push(e);
                }
                assert!(parse(&image[..cut]).is_err(), "cut at {cut} parsed");
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn verify_rejects_corruption_and_damaged_records() {
    let image = sample_image();
    let recs = image_records(&image);
    let mut damaged: Vec<(String, Vec<u8>)> = Vec::new();
    // A bit flipped in page data: only the checksum finds it.
    let mut flipped = image.clone();
    let last_page = image.len() - 32 - 3 * 16 - 2048;
    flipped[last_page] ^= 0x10;
    damaged.push(("page-bit".into(), flipped));
    for (i, &(off, len)) in recs.iter().enumerate() {
        // An unknown record type.
        let mut d = image.clone();
        d[off..off + 4].copy_from_slice(&9999u32.to_le_bytes());
        damaged.push((format!("type-{i}"), d));
        // Lengths off by a little and by a lot.
        for delta in [8i64, -8, 1, 4096, 1 << 31] {
            let mut d = image.clone();
            let bad = (len as i64 + delta) as u32;
            d[off + 4..off + 8].copy_from_slice(&bad.to_le_bytes());
            damaged.push((format!("len-{i}-{delta}"), d));
        }
        // The record dropped, duplicated, swapped with the next one.
        let mut d = image.clone();
        d.drain(off..off + len);
        damaged.push((format!("drop-{i}"), d));
        let mut d = image.clone();
        let copy = image[off..off + len].to_vec();
        d.splice(off..off, copy);
        damaged.push((format!("dup-{i}"), d));
        if let Some(&(_, next_len)) = recs.get(i + 1) {
            let mut d = image.clone();
            let mut both = image[off + len..off + len + next_len].to_vec();
            both.extend_from_slice(&image[off..off + len]);
            d.splice(off..off + len + next_len, both);
            damaged.push((format!("swap-{i}"), d));
        }
        // Every field inflated.
        for slot in (off + 8..off + len).step_by(8).take(16) {
            let mut d = image.clone();
            d[slot..slot + 8].copy_from_slice(&u64::MAX.to_le_bytes());
            damaged.push((format!("field-{i}-{}", slot - off), d));
        }
    }
    let mut failures = Vec::new();
    let mut rejected = 0;
    for (name, mut d) in damaged {
        // Half of them with a checksum that matches again.
        for fixed in [false, true] {
            if fixed {
                fix_image_tail(&mut d);
            }
            if parse(&d).is_err() {
                rejected += 1;
            }
            if let Err(e) = verify_agrees(&format!("{name}-{fixed}.img"), &d) {
                failures.push(e);
            }
        }
    }
    assert!(
        rejected > 100,
        "only {rejected} damaged images were rejected"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn usage_errors_and_missing_files() {
    assert_eq!(cr(&[]).status.code(), Some(2));
    assert_eq!(cr(&["restart", "--new-pid"]).status.code(), Some(2));
    let o = cr(&["verify", "/nonexistent/image"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    for sub in ["checkpoint", "restart", "info", "verify"] {
        let o = cr(&[sub, "--help"]);
        assert_eq!(o.status.code(), Some(0));
        assert!(text(&o).contains("Usage: cr"), "{}", text(&o));
    }
}

#[allow(dead_code)]
#[path = "../bin/cr/model.rs"]
mod model;

#[test]
fn info_json_round_trips_through_the_schema() {
    let image = sample_image();
    let file = ImageFile::new("json.img", &image);
    let o = cr(&["info", "--json", file.path()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let json = String::from_utf8(o.stdout).expect("UTF-8");
    let decoded: model::Image = serde_json::from_str(&json).expect("parses as schema 1");
    assert_eq!(decoded.schema, model::SCHEMA);
    assert_eq!(
        serde_json::to_string_pretty(&decoded).unwrap().trim(),
        json.trim()
    );
    let s = sample();
    let task = decoded.task.as_ref().expect("a task");
    assert_eq!((task.pid, task.tgid), (s.task.pid, s.task.tgid));
    assert_eq!(decoded.registers.as_ref().unwrap().0["ip"], s.cpu.ip);
    assert_eq!(decoded.areas.len(), s.vmas.len());
    assert_eq!(decoded.bytes, image.len() as u64);
    assert!(decoded.failure.is_none());
    assert!(decoded.pages > 0 && !decoded.fds.is_empty() && !decoded.files.is_empty());
    // The rest of the task's state is there too.
    let creds = decoded.creds.as_ref().expect("creds");
    assert_eq!((creds.uids[0], creds.gids[0]), (s.creds.uid, s.creds.gid));
    assert_eq!(creds.groups, s.groups.to_vec());
    assert_eq!(decoded.fs.as_ref().expect("fs").cwd.as_bytes(), s.cwd);
    assert_eq!(decoded.mm.as_ref().expect("mm").brk, s.mm.brk);
    assert_eq!(
        decoded.fpu.as_ref().expect("fpu").size as usize,
        s.xstate_len
    );
    assert_eq!(decoded.sched.as_ref().expect("sched").nice, s.sched.nice);
    assert_eq!(decoded.pending_signals.len(), s.pending.len());
    assert_eq!(decoded.posix_timers.len(), s.posix_timers.len());
    let handled = s
        .actions
        .iter()
        .filter(|(_, a)| a.handler != SIG_DFL)
        .count();
    assert_eq!(decoded.signal_actions.len(), handled);
    // The second thread's block is its own, not the leader's.
    let (thread_rec, thread_cpu) = s.thread.expect("the sample has a thread");
    assert_eq!(decoded.threads.len(), 1);
    let thread = &decoded.threads[0];
    assert_eq!(thread.tid, thread_rec.task.pid);
    assert_eq!(
        thread.sched.as_ref().map(|s| s.nice),
        s.thread_sched.map(|s| s.nice)
    );
    assert_eq!(thread.comm, "worker");
    assert_eq!(thread.blocked_signals, thread_rec.task.sigblocked);
    assert_eq!(thread.registers.as_ref().unwrap().0["ip"], thread_cpu.ip);
    assert_eq!(
        thread.signal_stack.as_ref().expect("a signal stack").sp,
        thread_rec.altstack_sp
    );
    assert_eq!(thread.pending_signals.len(), 1);
    assert_eq!(thread.pending_signals[0].queue, "thread");
    assert!(thread.fpu.is_some());

    // A damaged image: what was decoded, and where it stopped.
    let cut = ImageFile::new("json-cut.img", &image[..image.len() / 2]);
    let o = cr(&["info", "--json", cut.path()]);
    assert_eq!(o.status.code(), Some(1));
    let decoded: model::Image = serde_json::from_slice(&o.stdout).expect("parses");
    let failure = decoded.failure.expect("a failure");
    assert_eq!((failure.kind.as_str(), failure.errno), ("damaged", 22));
    assert!(failure.offset > 0 && failure.offset <= image.len() as u64 / 2);
}

#[test]
fn info_json_keeps_a_threads_own_credentials_apart() {
    let mut s = sample();
    s.thread_creds = Some(CredsRecord {
        euid: 0,
        ngroups: 1,
        ..s.creds
    });
    let file = ImageFile::new("thread-creds.img", &image_of(&s));
    let o = cr(&["info", "--json", file.path()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let decoded: model::Image = serde_json::from_slice(&o.stdout).expect("parses");
    let process = decoded.creds.as_ref().expect("the process's creds");
    assert_eq!(process.uids[1], s.creds.euid);
    assert_eq!(process.groups, s.groups.to_vec());
    let thread = decoded.threads[0].creds.as_ref().expect("the thread's own");
    assert_eq!(thread.uids[1], 0);
    assert_eq!(thread.groups, s.groups[..1].to_vec());
}

#[test]
fn info_json_lists_the_processes_of_a_tree() {
    let s = sample();
    let mut out = vec![0u8; 640 * 1024];
    let mut wbuf = vec![0u8; 4096];
    let mut page = vec![0u8; 64 * 1024];
    let mut w = ImageWriter::new(SliceSink::new(&mut out), &mut wbuf);
    w.write_record(&s.header).expect("header");
    // The root, its children 500 and 502 and zombie 503, and 500's child
    // 501.
    let steps = [(Some(3), 500, 500), (Some(1), 501, 501), (None, 502, 502)];
    write_tree(&mut w, &s, &mut page, &steps).expect("tree");
    w.write_record(&zombie(&s, 503, 42 << 8)).expect("zombie");
    let len = w.finish().expect("tail").len;
    out.truncate(len);
    let file = ImageFile::new("tree.img", &out);
    let o = cr(&["info", "--json", file.path()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let decoded: model::Image = serde_json::from_slice(&o.stdout).expect("parses");
    let tree: Vec<(i32, i32, u32, Option<u32>)> = decoded
        .processes
        .iter()
        .map(|p| (p.pid, p.ppid, p.threads, p.exit_status))
        .collect();
    let root = s.task.pid;
    assert_eq!(
        tree,
        [
            (root, 0, 2, None),
            (500, root, 1, None),
            (501, 500, 1, None),
            (502, root, 1, None),
            (503, root, 0, Some(42 << 8))
        ]
    );
    // The detail is the root's: its task and its areas only.
    assert_eq!(decoded.task.as_ref().expect("a task").pid, root);
    assert_eq!(decoded.areas.len(), s.vmas.len());
    assert_eq!(decoded.bytes, out.len() as u64);
    let o = cr(&["info", file.path()]);
    assert!(text(&o).contains("children: 3"), "{}", text(&o));
    assert!(
        text(&o).contains("zombie: comm \"gone\" pid 503"),
        "{}",
        text(&o)
    );
}

#[test]
fn diff_names_what_differs() {
    let a = ImageFile::new("diff-a.img", &sample_image());
    let o = cr(&["diff", a.path(), a.path()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(o.stdout.is_empty());

    // Another time, another ip, and one page changed.
    let mut s = sample();
    s.header.time_sec += 60;
    s.cpu.ip += 2;
    if let Some((_, cpu)) = s.thread.as_mut() {
        cpu.sp += 8;
    }
    let mut image = image_of(&s);
    let last_page = image.len() - 32 - 3 * 16 - 2048;
    image[last_page] ^= 1;
    fix_image_tail(&mut image);
    let b = ImageFile::new("diff-b.img", &image);
    let o = cr(&["diff", a.path(), b.path()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines.iter().any(|l| l.starts_with("register ip: ")),
        "{out}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("pages: ") && l.contains("1 differ")),
        "{out}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("page 0x") && l.ends_with("differs")),
        "{out}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("thread 43 registers")),
        "{out}"
    );
    assert!(!out.contains("time"), "the time is not a difference: {out}");
    assert_eq!(lines.len(), 4, "{out}");
}

#[test]
fn completions_and_manual_page() {
    let o = cr(&["completions", "bash"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o).contains("checkpoint") && text(&o).contains("complete"));
    let o = cr(&["man"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o).contains(".TH cr"), "{}", text(&o));
}
