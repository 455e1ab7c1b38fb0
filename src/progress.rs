//! Progress bars for long work: shown on a terminal, silent otherwise.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A progress bar that is hidden when stderr is not a terminal.
#[derive(Clone, Debug)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A counter with a known total (`None`: a spinner with a count).
    pub fn new(total: Option<u64>, unit: &str, enabled: bool) -> Self {
        let bar = match total {
            Some(t) => ProgressBar::new(t),
            None => ProgressBar::new_spinner(),
        };
        let template = match total {
            Some(_) => format!(
                "{{spinner}} {{msg}} [{{bar:30}}] {{human_pos}}/{{human_len}} {unit} ({{per_sec}}, eta {{eta}})"
            ),
            None => format!("{{spinner}} {{msg}} {{human_pos}} {unit} ({{per_sec}})"),
        };
        bar.set_style(
            ProgressStyle::with_template(&template)
                .expect("valid template")
                .progress_chars("=> "),
        );
        if !(enabled && std::io::stderr().is_terminal()) {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        Progress { bar }
    }

    /// The same bar drawn under `multi` (several bars at once).
    pub fn in_multi(self, multi: &indicatif::MultiProgress) -> Self {
        if self.bar.is_hidden() {
            return self;
        }
        Progress {
            bar: multi.add(self.bar),
        }
    }

    pub fn hidden() -> Self {
        Progress {
            bar: ProgressBar::hidden(),
        }
    }

    pub fn set_message(&self, msg: impl Into<String>) {
        self.bar.set_message(msg.into());
    }

    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
    }

    pub fn set_length(&self, n: u64) {
        self.bar.set_length(n);
    }

    pub fn set_position(&self, n: u64) {
        self.bar.set_position(n);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
