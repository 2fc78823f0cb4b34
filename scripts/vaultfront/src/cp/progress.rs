//! Progress of one copy: a bar (bytes, rate, time left) on a terminal, one
//! plain line per finished part otherwise.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Instant;

pub struct Progress {
    bar: Option<ProgressBar>,
    label: String,
    total: u64,
    started: Instant,
    done: std::sync::atomic::AtomicU64,
}

impl Progress {
    pub fn new(label: &str, total: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta} left",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_message(label.to_owned());
            bar
        });
        Progress {
            bar,
            label: label.to_owned(),
            total,
            started: Instant::now(),
            done: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// `bytes` more are through (a part, a range).
    pub fn advance(&self, what: &str, bytes: u64) {
        let done = self
            .done
            .fetch_add(bytes, std::sync::atomic::Ordering::Relaxed)
            + bytes;
        match &self.bar {
            Some(bar) => bar.inc(bytes),
            None => {
                let seconds = self.started.elapsed().as_secs_f64().max(0.001);
                eprintln!(
                    "{}: {what} done, {} of {} bytes, {:.1} MiB/s",
                    self.label,
                    done,
                    self.total,
                    done as f64 / seconds / 1_048_576.0
                );
            }
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}
