// SPDX-License-Identifier: GPL-2.0

//! `cr diff A B`: what differs between two images, record by record: the
//! task, the registers, files and fds, memory areas and pages.  The time
//! of the checkpoint is left out: two images always differ in it.

use crate::model::{Area, Image};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Most addresses listed per kind of page difference.
const MAX_LISTED: usize = 16;

/// Lines describing every difference between `a` and `b`; empty when
/// they hold the same process state.
pub fn diff(a: &Image, b: &Image) -> Vec<String> {
    let mut out = Vec::new();
    if a.failure != b.failure {
        let say = |i: &Image| {
            i.failure
                .as_ref()
                .map_or("sound".to_string(), |f| f.message.clone())
        };
        out.push(format!("image: {} | {}", say(a), say(b)));
    }
    if a.header.is_none() || b.header.is_none() {
        // Nothing decoded on one side: nothing to compare record by record.
        return out;
    }
    let header = |i: &Image| {
        i.header.as_ref().map(|h| {
            let mut h = h.clone();
            h.time_sec = 0;
            h.time_nsec = 0;
            h
        })
    };
    fields(&mut out, "header", &header(a), &header(b));
    fields(&mut out, "task", &a.task, &b.task);
    fields(&mut out, "register", &a.registers, &b.registers);
    fields(&mut out, "resumes", &a.resumes, &b.resumes);
    fields(&mut out, "fpu", &a.fpu, &b.fpu);
    let actions = |i: &Image| by(&i.signal_actions, |x| x.signal);
    keyed(&mut out, "signal", actions(a), actions(b));
    fields(&mut out, "signal stack", &a.signal_stack, &b.signal_stack);
    if a.pending_signals != b.pending_signals {
        out.push(format!(
            "pending signals: {} | {}",
            json(&a.pending_signals),
            json(&b.pending_signals)
        ));
    }
    keyed(
        &mut out,
        "limit",
        by(&a.limits, |x| x.resource),
        by(&b.limits, |x| x.resource),
    );
    let itimers = |i: &Image| by(&i.interval_timers, |x| x.which.clone());
    keyed(&mut out, "interval timer", itimers(a), itimers(b));
    let timers = |i: &Image| by(&i.posix_timers, |x| x.id);
    keyed(&mut out, "POSIX timer", timers(a), timers(b));
    let threads = |i: &Image| by(&i.threads, |x| x.tid);
    keyed(&mut out, "thread", threads(a), threads(b));
    fields(&mut out, "creds", &a.creds, &b.creds);
    fields(&mut out, "sched", &a.sched, &b.sched);
    fields(&mut out, "fs", &a.fs, &b.fs);
    fields(&mut out, "mm", &a.mm, &b.mm);
    fields(
        &mut out,
        "controlling terminal",
        &a.controlling_terminal,
        &b.controlling_terminal,
    );
    let contents = |i: &Image| -> BTreeMap<String, ()> {
        i.file_contents
            .iter()
            .map(|c| (format!("{}: {}", c.kind, c.detail), ()))
            .collect()
    };
    keyed(&mut out, "file content", contents(a), contents(b));
    keyed(
        &mut out,
        "file",
        by(&a.files, |f| f.id),
        by(&b.files, |f| f.id),
    );
    keyed(&mut out, "fd", by(&a.fds, |f| f.fd), by(&b.fds, |f| f.fd));
    let range = |x: &Area| (x.start, x.end);
    let areas = |i: &Image| -> BTreeMap<String, Area> {
        i.areas
            .iter()
            .map(|x| {
                let (s, e) = range(x);
                (format!("{s:08x}-{e:08x}"), x.clone())
            })
            .collect()
    };
    keyed(&mut out, "area", areas(a), areas(b));
    pages(&mut out, &a.page_hashes, &b.page_hashes);
    out
}

fn by<T: Clone, K: Ord>(items: &[T], key: impl Fn(&T) -> K) -> BTreeMap<K, T> {
    items.iter().map(|x| (key(x), x.clone())).collect()
}

fn json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Field-by-field differences of two values of the same type.
fn fields<T: Serialize>(out: &mut Vec<String>, what: &str, a: &T, b: &T) {
    let (va, vb) = (json(a), json(b));
    match (&va, &vb) {
        (Value::Object(ma), Value::Object(mb)) => {
            let keys: BTreeSet<&String> = ma.keys().chain(mb.keys()).collect();
            for k in keys {
                let (x, y) = (ma.get(k), mb.get(k));
                if x != y {
                    out.push(format!("{what} {k}: {} | {}", show(x), show(y)));
                }
            }
        }
        _ if va != vb => out.push(format!("{what}: {va} | {vb}")),
        _ => {}
    }
}

/// `: VALUE` for a value that says more than its key.
fn value<T: Serialize>(v: &T) -> String {
    match json(v) {
        Value::Null => String::new(),
        v => format!(": {v}"),
    }
}

fn show(v: Option<&Value>) -> String {
    match v {
        None => "-".to_string(),
        Some(Value::Number(n)) if n.as_u64().is_some_and(|n| n > 0xffff) => {
            format!("{:#x}", n.as_u64().unwrap_or(0))
        }
        Some(v) => v.to_string(),
    }
}

/// Differences of two collections keyed alike: only in one, or changed.
fn keyed<K: Ord + std::fmt::Display, T: Serialize>(
    out: &mut Vec<String>,
    what: &str,
    a: BTreeMap<K, T>,
    b: BTreeMap<K, T>,
) {
    let keys: BTreeSet<&K> = a.keys().chain(b.keys()).collect();
    for k in keys {
        match (a.get(k), b.get(k)) {
            (Some(x), None) => out.push(format!("{what} {k}: only in A{}", value(x))),
            (None, Some(y)) => out.push(format!("{what} {k}: only in B{}", value(y))),
            (Some(x), Some(y)) => fields(out, &format!("{what} {k}"), x, y),
            (None, None) => {}
        }
    }
}

/// Pages that differ, or that only one image holds.
fn pages(out: &mut Vec<String>, a: &BTreeMap<u64, u64>, b: &BTreeMap<u64, u64>) {
    let mut changed = Vec::new();
    let mut only_a = Vec::new();
    let mut only_b = Vec::new();
    let mut same = 0u64;
    for (addr, ha) in a {
        match b.get(addr) {
            Some(hb) if hb == ha => same += 1,
            Some(_) => changed.push(*addr),
            None => only_a.push(*addr),
        }
    }
    only_b.extend(b.keys().filter(|k| !a.contains_key(k)));
    if changed.is_empty() && only_a.is_empty() && only_b.is_empty() {
        return;
    }
    out.push(format!(
        "pages: {same} the same, {} differ, {} only in A, {} only in B",
        changed.len(),
        only_a.len(),
        only_b.len()
    ));
    for (what, list) in [
        ("differs", changed),
        ("only in A", only_a),
        ("only in B", only_b),
    ] {
        for addr in list.iter().take(MAX_LISTED) {
            out.push(format!("page {addr:#x}: {what}"));
        }
        if list.len() > MAX_LISTED {
            out.push(format!("  ({} more pages {what})", list.len() - MAX_LISTED));
        }
    }
}
