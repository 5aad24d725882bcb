//! Progress on stderr with indicatif, drawn only when stderr is a terminal: a bar while a large
//! package is read, a spinner saying what a module is waited for, for how long and at most how
//! long. The library reports the events ([`fwguard::progress`]); this draws them.

use std::sync::Arc;
use std::time::Duration;

use fwguard::progress::{Event, Progress, Reporter};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Packages smaller than this are read too fast for a bar to help: 8 MiB.
const BAR_FROM: u64 = 8 << 20;

/// One line of progress on stderr.
pub struct Line {
    bar: ProgressBar,
}

impl Line {
    /// A line on stderr, hidden when stderr is not a terminal (indicatif checks).
    pub fn stderr() -> Arc<Line> {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        Arc::new(Line { bar })
    }

    /// A [`Reporter`] feeding this line, for the library's options.
    pub fn reporter(self: &Arc<Self>) -> Reporter {
        Reporter::new(Arc::clone(self) as Arc<dyn Progress>)
    }

    /// Clears the line (the work it showed is over).
    pub fn clear(&self) {
        self.bar.disable_steady_tick();
        self.bar.finish_and_clear();
    }

    /// Shows `message` with a spinner and the time since (work the library does not report step
    /// by step).
    pub fn show(&self, message: String) {
        self.spin(message, true);
    }

    fn spin(&self, message: String, restart: bool) {
        let style = ProgressStyle::with_template("{spinner} {msg}: {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        self.bar.set_style(style);
        self.bar.unset_length();
        if restart {
            self.bar.reset();
        }
        self.bar.set_message(message);
        self.bar.enable_steady_tick(Duration::from_millis(120));
    }
}

impl Drop for Line {
    /// The line goes with its last holder: nothing is left on the terminal.
    fn drop(&mut self) {
        self.clear();
    }
}

fn secs(d: Duration) -> String {
    if d.subsec_millis() == 0 { format!("{} s", d.as_secs()) } else { format!("{:.1} s", d.as_secs_f64()) }
}

impl Progress for Line {
    fn event(&self, event: &Event<'_>) {
        match event {
            Event::Reading { package, bytes: Some(total) } if *total >= BAR_FROM => {
                let style = ProgressStyle::with_template(
                    "reading {msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
                self.bar.set_style(style);
                self.bar.reset();
                self.bar.set_length(*total);
                self.bar.set_message(package.to_string());
                self.bar.disable_steady_tick();
            }
            Event::Reading { package, bytes: None } => self.spin(format!("reading {package}"), true),
            Event::Read { done } if self.bar.length().is_some() => self.bar.set_position(*done),
            Event::ReadDone => self.clear(),
            Event::WaitingForBoot { port, attempt, limit } => self.spin(
                format!(
                    "waiting for the module on {port} to answer AT (it may still be booting; try {attempt}, at most {})",
                    secs(*limit)
                ),
                *attempt == 1,
            ),
            Event::WaitingForAnswer { port, command, limit } => {
                self.spin(format!("waiting for {port} to answer {command} (at most {})", secs(*limit)), true);
            }
            _ => {}
        }
    }
}
