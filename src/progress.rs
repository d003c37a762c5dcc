//! Progress on stderr: a bar when stderr is a terminal, nothing otherwise (so logs and CI
//! output stay clean). Labelling counts sentences; training counts steps through
//! [`stance_model::train::Progress`].

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Silences progress bars and progress lines for the rest of the program (`--quiet`);
/// warnings and errors still go to stderr.
pub fn set_quiet() {
    QUIET.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Whether `--quiet` was given.
pub fn quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

/// Prints a progress line on stderr unless `--quiet`.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        if !$crate::progress::quiet() {
            eprintln!($($arg)*);
        }
    };
}

pub use stance_report::plural;

/// A progress bar on stderr counting `unit`, hidden when stderr is not a terminal or `show`
/// is false.
pub fn progress_bar(len: u64, unit: &str, show: bool) -> ProgressBar {
    let target =
        if show && !quiet() && std::io::stderr().is_terminal() { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    let template = format!("{{elapsed_precise}} [{{bar:40}}] {{pos}}/{{len}} {unit} ({{per_sec}}, eta {{eta}}) {{msg}}");
    bar.set_style(ProgressStyle::with_template(&template).expect("static template").progress_chars("=> "));
    bar
}

/// Training progress as a bar of steps; lines for the user go above it (or to stderr when the
/// bar is hidden).
pub struct Bar(ProgressBar);

impl Bar {
    /// A bar counting training steps (its length is set when training starts).
    pub fn steps() -> Self {
        Bar(progress_bar(0, "steps", true))
    }
}

impl stance_model::train::Progress for Bar {
    fn start(&self, total: u64, done: u64) {
        self.0.set_length(total);
        self.0.set_position(done);
    }

    fn step(&self, status: &str) {
        self.0.set_message(status.to_string());
        self.0.inc(1);
    }

    fn say(&self, line: &str) {
        if quiet() {
            return;
        }
        if self.0.is_hidden() {
            eprintln!("{line}");
        } else {
            self.0.println(line);
        }
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}
