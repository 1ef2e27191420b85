// SPDX-License-Identifier: GPL-2.0

//! `cr`: checkpoint, restart, inspect and verify checkpoint images.
//!
//! It calls `checkpoint(2)` and `restart(2)` of the patched kernel, and
//! decodes images with the format code the kernel itself runs
//! (`rust-checkpoint/format/`, compiled into this crate's library).
//!
//! Exit status, the same for every subcommand:
//! 0 success; 1 the operation failed or the image is damaged; 2 usage
//! error; 3 a file could not be opened, read or written; 4 the image
//! records a checkpoint that failed.  `cr restart --child` exits as the
//! restored process did (128 + the signal if a signal ended it); `cr
//! diff` exits 0 when the images hold the same state and 1 when not.

mod diff;
mod info;
mod model;
mod sys;

use clap::{Args, CommandFactory, Parser, Subcommand};
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use sys::StopState;

/// Checkpoint and restart processes with the kernel's checkpoint(2) and
/// restart(2), and inspect the images.
#[derive(Parser)]
#[command(name = "cr", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Save a process and its descendants to an image; they are stopped
    /// for the checkpoint and resumed afterwards.
    Checkpoint(CheckpointArgs),
    /// Restart the process saved in an image: this process becomes it, or
    /// with --child it comes back as a child that cr waits for.
    Restart(RestartArgs),
    /// Decode an image: header, task state, files, memory map, pages.
    Info(InfoArgs),
    /// Check an image's structure, limits and checksum without restarting
    /// it; exit status 0 only for a sound image.
    Verify(ImageArg),
    /// Compare two images: task, registers, files, fds, areas and pages.
    Diff(DiffArgs),
    /// Print a shell completion script for cr.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print cr's manual page (roff), e.g. `cr man > cr.1`.
    Man,
}

#[derive(Args)]
struct InfoArgs {
    #[command(flatten)]
    image: ImageArg,
    /// Print the image as JSON (schema 1, in usage.rst) instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct DiffArgs {
    /// The first image.
    a: PathBuf,
    /// The second image.
    b: PathBuf,
}

#[derive(Args)]
struct CheckpointArgs {
    /// The process to save, with all its descendants.
    pid: i32,
    /// Write the image to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Leave the processes stopped afterwards.
    #[arg(long, conflicts_with = "kill")]
    leave_stopped: bool,
    /// Kill the processes once they are saved (not if the checkpoint
    /// failed).
    #[arg(long)]
    kill: bool,
    /// How long to wait for each process to stop, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    stop_timeout: f64,
}

#[derive(Args)]
struct RestartArgs {
    /// Read the image from FILE instead of standard input.
    #[arg(short, long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// Restore the process as a new child of cr (RESTART_CHILD), print its
    /// pid, wait for it and exit as it does.
    #[arg(long)]
    child: bool,
    /// With --child: give the child a new pid instead of its saved one
    /// (RESTART_NEW_PID).
    #[arg(long, requires = "child")]
    new_pid: bool,
}

#[derive(Args)]
struct ImageArg {
    /// The image; standard input without one.
    image: Option<PathBuf>,
}

/// Exit statuses (see the module documentation).
const EXIT_FAILED: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_IO: u8 = 3;
const EXIT_FAILED_CHECKPOINT: u8 = 4;

/// A failure to report: the message, and the exit status.
struct Fail(String, u8);

type CmdResult = Result<ExitCode, Fail>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Checkpoint(a) => checkpoint(&a),
        Command::Restart(a) => restart(&a),
        Command::Info(a) if a.json => info_json(&a.image),
        Command::Info(a) => info(&a.image, false),
        Command::Verify(a) => info(&a, true),
        Command::Diff(a) => diff(&a),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "cr", &mut script);
            say(&String::from_utf8_lossy(&script));
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => manual_page(),
    };
    match result {
        Ok(code) => code,
        Err(Fail(message, code)) => {
            eprintln!("cr: {message}");
            ExitCode::from(code)
        }
    }
}

/// Prints a line on standard output; a reader that went away (say,
/// `head`) is not an error worth a panic.
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(io::stdout(), "{}", line.trim_end_matches('\n'));
}

/// What to do about an errno of `checkpoint(2)` or `restart(2)`.
fn hint(errno: i32, pid: Option<i32>) -> &'static str {
    match errno {
        libc::ENOSYS => "this kernel has no checkpoint/restart: boot the patched kernel",
        libc::EBUSY if pid.is_some() => {
            "the process was not stopped when saved (something resumed it?): try again"
        }
        libc::EBUSY => {
            "a pid, terminal or other resource the image needs is taken: \
             try --child --new-pid, or free it"
        }
        libc::EPERM | libc::EACCES if pid.is_some() => {
            "you may not ptrace that process: run cr as its owner or with CAP_SYS_PTRACE"
        }
        libc::EPERM | libc::EACCES => {
            "the image needs a file or privilege you do not have (see the kernel log)"
        }
        libc::ESRCH => "there is no such process",
        libc::EOPNOTSUPP => {
            "it holds state that checkpoint/restart does not support; \
             the image's error record or the kernel log names it"
        }
        libc::EINVAL | libc::EBADMSG => "the image is damaged: `cr verify` says where",
        _ => "",
    }
}

fn syscall_failure(what: &str, e: &io::Error, pid: Option<i32>) -> String {
    let errno = e.raw_os_error().unwrap_or(0);
    let h = hint(errno, pid);
    if h.is_empty() {
        format!("{what}: {e}")
    } else {
        format!("{what}: {e}\n  {h}")
    }
}

fn checkpoint(a: &CheckpointArgs) -> CmdResult {
    let out = match &a.output {
        Some(path) => {
            let f = File::create(path)
                .map_err(|e| Fail(format!("{}: {e}", path.display()), EXIT_IO))?;
            Some(f)
        }
        None if sys::is_terminal(1) => {
            return Err(Fail(
                "the image would go to a terminal: redirect standard output or use -o FILE".into(),
                EXIT_USAGE,
            ));
        }
        None => None,
    };
    let fd: RawFd = out.as_ref().map_or(1, |f| f.as_raw_fd());
    let pid = a.pid;
    sys::stop_state(pid).map_err(|_| Fail(format!("no process {pid}"), EXIT_FAILED))?;
    // The whole tree is saved: every process of it must be stopped.  A
    // process forked while we stop the others is found on the next round.
    let limit = Duration::from_secs_f64(a.stop_timeout.max(0.0));
    let mut tree = vec![pid];
    let mut we_stopped = Vec::new();
    let stop_all = |tree: &[i32], we_stopped: &mut Vec<i32>| -> Result<(), Fail> {
        for &p in tree {
            if we_stopped.contains(&p) {
                continue;
            }
            if sys::stop_state(p).ok() == Some(StopState::Running) {
                sys::kill(p, libc::SIGSTOP).map_err(|e| {
                    let msg = syscall_failure(&format!("stop {p}"), &e, Some(pid));
                    Fail(msg, EXIT_FAILED)
                })?;
                we_stopped.push(p);
            }
        }
        for &p in tree {
            // One that exited meanwhile is not a process to wait for.
            if sys::stop_state(p).is_ok() && !sys::wait_until_stopped(p, limit).unwrap_or(true) {
                return Err(Fail(
                    format!(
                        "process {p} did not stop within {} s (is it traced, or in an \
                         uninterruptible sleep?)",
                        a.stop_timeout
                    ),
                    EXIT_FAILED,
                ));
            }
        }
        Ok(())
    };
    let mut stopped = stop_all(&tree, &mut we_stopped);
    for _ in 0..10 {
        if stopped.is_err() {
            break;
        }
        let mut now = vec![pid];
        now.extend(sys::descendants(pid).unwrap_or_default());
        if now.iter().all(|p| tree.contains(p)) {
            break;
        }
        tree = now;
        stopped = stop_all(&tree, &mut we_stopped);
    }
    if let Err(fail) = stopped {
        for &p in &we_stopped {
            let _ = sys::kill(p, libc::SIGCONT);
        }
        return Err(fail);
    }
    let began = Instant::now();
    let progress = (sys::is_terminal(2) && a.output.is_some()).then(|| Progress::start(fd));
    let result = sys::checkpoint(pid, fd);
    let took = began.elapsed();
    drop(progress);
    let resume = |kill: bool| {
        for &p in &tree {
            if kill {
                let _ = sys::kill(p, libc::SIGKILL);
            } else if !a.leave_stopped {
                let _ = sys::kill(p, libc::SIGCONT);
            }
        }
    };
    match result {
        Ok(crid) => {
            resume(a.kill);
            let size = out
                .as_ref()
                .map(|f| f.metadata().map(|m| m.len()).unwrap_or(0))
                .or_else(|| std::fs::metadata("/proc/self/fd/1").ok().map(|m| m.len()))
                .filter(|&n| n > 0);
            let size = size.map_or(String::new(), |n| format!(", {n} bytes"));
            let others = match tree.len() - 1 {
                0 => String::new(),
                1 => " and 1 descendant".to_string(),
                n => format!(" and {n} descendants"),
            };
            eprintln!(
                "cr: checkpoint id {crid}: process {pid}{others}{size} in {:.1} ms{}",
                took.as_secs_f64() * 1e3,
                if a.kill {
                    ", then killed"
                } else if a.leave_stopped {
                    ", left stopped"
                } else {
                    ""
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            // A failed checkpoint never kills: the process is all there is.
            resume(false);
            let mut msg = syscall_failure(&format!("checkpoint of {pid}"), &e, Some(pid));
            if let Some(path) = &a.output {
                if let Some(record) = failure_record(path) {
                    msg.push_str(&format!("\n  {record}"));
                }
            }
            Err(Fail(msg, EXIT_FAILED))
        }
    }
}

/// Shows on the terminal how many bytes of the image are written, while
/// `checkpoint(2)` writes it (polling the output file's size every 200 ms;
/// nothing for a checkpoint that takes less).
struct Progress {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    fn start(fd: RawFd) -> Progress {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let path = format!("/proc/self/fd/{fd}");
        let thread = std::thread::spawn(move || {
            let mut shown = false;
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                stopped.recv_timeout(Duration::from_millis(200))
            {
                if let Ok(m) = std::fs::metadata(&path) {
                    eprint!("\rcr: {:.1} MiB written", m.len() as f64 / 1048576.0);
                    shown = true;
                }
            }
            if shown {
                eprint!("\r\x1b[K");
            }
        });
        Progress {
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        // Dropping the sender ends the thread's wait at once.
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What the image at `path` says about its failure, if it is a file that
/// records one or is damaged.
fn failure_record(path: &Path) -> Option<String> {
    // Look before opening: opening a FIFO to read would wait for a writer.
    if !std::fs::metadata(path).ok()?.is_file() {
        return None;
    }
    let f = File::open(path).ok()?;
    info::decode(Box::new(f), true).err().map(|e| e.to_string())
}

fn restart(a: &RestartArgs) -> CmdResult {
    let file = match &a.input {
        Some(path) => {
            Some(File::open(path).map_err(|e| Fail(format!("{}: {e}", path.display()), EXIT_IO))?)
        }
        None => None,
    };
    let fd: RawFd = file.as_ref().map_or(0, |f| f.as_raw_fd());
    let mut flags = 0;
    if a.child {
        flags |= sys::RESTART_CHILD;
    }
    if a.new_pid {
        flags |= sys::RESTART_NEW_PID;
    }
    let pid = match sys::restart(fd, flags) {
        Ok(pid) => pid,
        Err(e) => {
            let mut msg = syscall_failure("restart", &e, None);
            let detail = match &a.input {
                Some(path) => failure_record(path),
                None => failure_record(Path::new("/proc/self/fd/0")),
            };
            if let Some(d) = detail {
                msg.push_str(&format!("\n  {d}"));
            }
            let code = if e.raw_os_error() == Some(libc::EIO) {
                EXIT_FAILED_CHECKPOINT
            } else {
                EXIT_FAILED
            };
            return Err(Fail(msg, code));
        }
    };
    if !a.child {
        // Only an image without a task returns here.
        eprintln!("cr: the image holds no task: nothing to restart");
        return Ok(ExitCode::SUCCESS);
    }
    let pid = pid as i32;
    eprintln!("cr: restored as pid {pid}");
    let status =
        sys::wait_child(pid).map_err(|e| Fail(format!("wait for {pid}: {e}"), EXIT_FAILED))?;
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    Ok(ExitCode::from(code as u8))
}

/// The image at `path` (standard input for `None`) and its name.
fn open_image(path: Option<&Path>) -> Result<(Box<dyn Read>, String), Fail> {
    Ok(match path {
        Some(path) => (
            Box::new(
                File::open(path).map_err(|e| Fail(format!("{}: {e}", path.display()), EXIT_IO))?,
            ),
            path.display().to_string(),
        ),
        None => (Box::new(io::stdin()), "standard input".to_string()),
    })
}

fn manual_page() -> CmdResult {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(|e| Fail(format!("the manual page: {e}"), EXIT_FAILED))?;
    say(&String::from_utf8_lossy(&page));
    Ok(ExitCode::SUCCESS)
}

fn info_json(a: &ImageArg) -> CmdResult {
    let (src, _) = open_image(a.image.as_deref())?;
    let image = info::decode_model(src, false);
    let text = serde_json::to_string_pretty(&image)
        .map_err(|e| Fail(format!("JSON: {e}"), EXIT_FAILED))?;
    say(&text);
    Ok(ExitCode::from(match &image.failure {
        None => 0,
        Some(f) if f.kind == "damaged" => EXIT_FAILED,
        Some(_) => EXIT_FAILED_CHECKPOINT,
    }))
}

fn diff(a: &DiffArgs) -> CmdResult {
    let (src_a, _) = open_image(Some(&a.a))?;
    let (src_b, _) = open_image(Some(&a.b))?;
    let lines = diff::diff(
        &info::decode_model(src_a, true),
        &info::decode_model(src_b, true),
    );
    for line in &lines {
        say(line);
    }
    Ok(ExitCode::from(if lines.is_empty() { 0 } else { 1 }))
}

fn info(a: &ImageArg, verify_only: bool) -> CmdResult {
    let (src, name) = open_image(a.image.as_deref())?;
    match info::decode(src, verify_only) {
        Ok(()) => {
            if verify_only {
                say(&format!("{name}: sound image"));
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ info::Failure::FailedCheckpoint { .. }) => {
            Err(Fail(format!("{name}: {e}"), EXIT_FAILED_CHECKPOINT))
        }
        Err(e) => Err(Fail(format!("{name}: {e}"), EXIT_FAILED)),
    }
}
