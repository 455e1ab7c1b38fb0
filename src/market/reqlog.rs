//! The optional JSONL request log: one JSON object a line, written by a
//! thread of its own through a buffer that is flushed at least every
//! second, and on shutdown, so another process can follow it.

use super::RequestRecord;
use serde::Serialize;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const FLUSH_EVERY: Duration = Duration::from_millis(500);

/// One log line.
#[derive(Serialize)]
struct Line<'a> {
    /// Wall-clock time, RFC 3339 with milliseconds (UTC).
    ts: String,
    #[serde(flatten)]
    record: &'a RequestRecord,
}

pub(crate) struct LogWriter {
    tx: Mutex<Option<Sender<String>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl LogWriter {
    /// Opens `path` for appending (creating it) and starts the writer.
    pub fn open(path: &Path) -> std::io::Result<LogWriter> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let (tx, rx) = mpsc::channel::<String>();
        let thread = std::thread::Builder::new()
            .name("market-reqlog".into())
            .spawn(move || run(file, rx))?;
        Ok(LogWriter {
            tx: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
        })
    }

    pub fn write(&self, record: &RequestRecord) {
        let line = Line {
            ts: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            record,
        };
        let Ok(json) = serde_json::to_string(&line) else {
            return;
        };
        if let Some(tx) = self.tx.lock().expect("lock").as_ref() {
            let _ = tx.send(json);
        }
    }

    /// Stops the writer after it has written and flushed every line.
    /// Blocking: call it from `spawn_blocking`.
    pub fn close(&self) {
        self.tx.lock().expect("lock").take();
        if let Some(thread) = self.thread.lock().expect("lock").take() {
            let _ = thread.join();
        }
    }
}

fn run(file: File, rx: mpsc::Receiver<String>) {
    let mut out = BufWriter::with_capacity(64 * 1024, file);
    let mut dirty = false;
    let mut last_flush = Instant::now();
    loop {
        match rx.recv_timeout(FLUSH_EVERY) {
            Ok(line) => {
                let ok = out
                    .write_all(line.as_bytes())
                    .and_then(|_| out.write_all(b"\n"));
                if let Err(e) = ok {
                    tracing::warn!(error = %e, "market request log: write failed");
                }
                dirty = true;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if dirty && last_flush.elapsed() >= FLUSH_EVERY {
            flush(&mut out);
            dirty = false;
            last_flush = Instant::now();
        }
    }
    flush(&mut out);
}

fn flush(out: &mut BufWriter<File>) {
    if let Err(e) = out.flush() {
        tracing::warn!(error = %e, "market request log: flush failed");
    }
}
