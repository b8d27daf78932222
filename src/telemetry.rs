//! Logging: tracing to stderr, human-readable or JSON, colour only on a terminal, and
//! progress bars for long files only when a person is watching.
//!
//! Log lines carry counts, stages, sources and file paths, never row values: identifiers
//! cannot reach a log because they are pseudonymised before any value is logged, and
//! no stage logs values. A file path can still hold an NHS number (a file named after
//! its patient), so every line is written through [`MaskedStderr`], which withholds NHS
//! numbers ([`crate::ingest::quarantine::mask_nhs_numbers`]) from whatever it is given.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// The levels `JOINEDUP_LOG` may name.
const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

/// What `JOINEDUP_LOG` asks for: a level, or tracing directives (`joinedup=debug`). A
/// bare word that is not a level would be read as a target and silence every event,
/// warnings included, so it is refused: the default level, and a warning saying why.
fn filter_directives(env: Option<&str>, default: &str) -> (String, Option<String>) {
    let Some(v) = env.map(str::trim).filter(|v| !v.is_empty()) else {
        return (default.to_string(), None);
    };
    let level = v.to_ascii_lowercase();
    if LEVELS.contains(&level.as_str()) {
        return (level, None);
    }
    if v.contains('=') && EnvFilter::try_new(v).is_ok() {
        // Directives without a bare level leave every other target off: one naming a
        // mistyped target (`joindup=debug`) silenced the run's fatal error. Warnings and
        // errors of every target stay on unless a directive says otherwise.
        let has_level = v
            .split(',')
            .any(|d| !d.contains('=') && !d.trim().is_empty());
        return (
            if has_level {
                v.to_string()
            } else {
                format!("warn,{v}")
            },
            None,
        );
    }
    (
        default.to_string(),
        Some(format!(
            "JOINEDUP_LOG={v:?} is not a level ({}) nor target=level directives; logging at {default}",
            LEVELS.join(", ")
        )),
    )
}

/// Installs the global subscriber. `JOINEDUP_LOG` overrides the level (e.g. `debug`).
pub fn init(format: LogFormat, quiet: bool) {
    let default = if quiet { "warn" } else { "info" };
    let env = std::env::var("JOINEDUP_LOG").ok();
    let (directives, refused) = filter_directives(env.as_deref(), default);
    let filter = EnvFilter::new(directives);
    let ansi = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(MaskedStderr {
            json: format == LogFormat::Json,
            ansi,
        })
        .with_target(false);
    enable_progress(format == LogFormat::Text && !quiet && std::io::stderr().is_terminal());
    let _ = match format {
        LogFormat::Text => builder.with_ansi(ansi).try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    if let Some(warning) = refused {
        tracing::warn!("{warning}");
    }
}

/// Standard error with NHS numbers withheld: each log event is gathered whole (the
/// formatter writes one event per writer it makes) and written masked in one write when
/// the writer is dropped, so a number split across two writes cannot slip through. In
/// JSON, only string values are masked (a path is a string; a number outside quotes is
/// a count or a time, and masking it would break the line's JSON). In text, every control
/// character is escaped ([`crate::escape`]) but the event's closing line break and, on a
/// colour terminal, its colours: a value cannot forge a line or drive the terminal (JSON
/// escapes them itself).
pub struct MaskedStderr {
    json: bool,
    ansi: bool,
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for MaskedStderr {
    type Writer = MaskedEvent<std::io::Stderr>;

    fn make_writer(&'a self) -> Self::Writer {
        MaskedEvent::new(std::io::stderr(), self.json).with_colours(self.ansi)
    }
}

/// One event's bytes, written to `sink` with NHS numbers withheld when dropped.
pub struct MaskedEvent<W: std::io::Write> {
    sink: W,
    json: bool,
    colours: bool,
    event: Vec<u8>,
}

impl<W: std::io::Write> MaskedEvent<W> {
    /// Gathers an event for `sink`, a JSON object when `json`.
    pub fn new(sink: W, json: bool) -> Self {
        MaskedEvent {
            sink,
            json,
            colours: false,
            event: Vec::new(),
        }
    }

    /// Keeps ANSI colour sequences in a text event (the formatter's own, on a terminal).
    pub fn with_colours(mut self, colours: bool) -> Self {
        self.colours = colours;
        self
    }
}

/// `text` (JSON) with NHS numbers withheld from its string values only, each value
/// decoded first (an escape such as `\u0001` before a number must not hide it) and
/// encoded again when masked, so the line stays JSON.
fn mask_json_strings(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped, mut from) = (false, false, 0);
    for (i, c) in text.char_indices() {
        if !in_string {
            if c == '"' {
                out.push_str(&text[from..i]);
                in_string = true;
                from = i;
            }
        } else if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            let literal = &text[from..=i];
            let masked = serde_json::from_str::<String>(literal)
                .ok()
                .and_then(
                    |value| match crate::ingest::quarantine::mask_nhs_numbers(&value) {
                        std::borrow::Cow::Owned(m) => serde_json::to_string(&m).ok(),
                        std::borrow::Cow::Borrowed(_) => None,
                    },
                );
            out.push_str(masked.as_deref().unwrap_or(literal));
            in_string = false;
            from = i + 1;
        }
    }
    out.push_str(&text[from..]);
    out
}

impl<W: std::io::Write> std::io::Write for MaskedEvent<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.event.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<W: std::io::Write> Drop for MaskedEvent<W> {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.event);
        let masked = if self.json {
            std::borrow::Cow::Owned(mask_json_strings(&text))
        } else {
            let masked = crate::ingest::quarantine::mask_nhs_numbers(&text);
            let (line, end) = match masked.strip_suffix('\n') {
                Some(line) => (line, "\n"),
                None => (masked.as_ref(), ""),
            };
            let keep = crate::escape::Keep {
                layout: false,
                colours: self.colours,
            };
            match crate::escape::escape(line, keep) {
                std::borrow::Cow::Borrowed(_) => masked,
                std::borrow::Cow::Owned(escaped) => std::borrow::Cow::Owned(escaped + end),
            }
        };
        // A log line that cannot be written has nowhere to be reported.
        let _ = self.sink.write_all(masked.as_bytes());
        let _ = self.sink.flush();
    }
}

static PROGRESS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Turns progress bars on (only call when stderr is a terminal and logs are text).
fn enable_progress(on: bool) {
    PROGRESS.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// Shows progress bars for a command whose log is kept to warnings (`check`: its answer is
/// stdout), when a person is watching: text logs, not `--quiet`, stderr a terminal.
pub fn show_progress(format: LogFormat, quiet: bool) {
    enable_progress(format == LogFormat::Text && !quiet && std::io::stderr().is_terminal());
}

/// A progress bar over the bytes of one file, shown only on an interactive terminal with
/// text logs; otherwise a no-op, so schedulers get clean logs.
pub struct FileProgress(Option<indicatif::ProgressBar>);

impl FileProgress {
    /// Files smaller than this finish too fast to need a bar.
    const MIN_BYTES: u64 = 32 << 20;

    /// Starts a bar for `label` over `total` bytes.
    pub fn start(label: &str, total: u64) -> Self {
        if !PROGRESS.load(std::sync::atomic::Ordering::Relaxed) || total < Self::MIN_BYTES {
            return FileProgress(None);
        }
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg:30!} {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message(crate::ingest::quarantine::mask_nhs_numbers(label).into_owned());
        FileProgress(Some(bar))
    }

    /// Reports the byte position reached.
    pub fn set(&self, pos: u64) {
        if let Some(b) = &self.0 {
            b.set_position(pos);
        }
    }
}

impl Drop for FileProgress {
    fn drop(&mut self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

/// This process's resident memory now and at its peak, in MiB (Linux: `/proc/self/status`;
/// `None` elsewhere). Logged with stages and frames so memory can be followed in a run's
/// log without a profiler.
pub fn resident_mb() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kb: u64 = line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kb / 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// CPU seconds (user + system) this process has used so far, every thread's, from
/// `/proc/self/stat` (clock ticks of 1/100 s, Linux's `USER_HZ` on every architecture).
pub fn cpu_seconds() -> Option<f64> {
    cpu_seconds_of(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// The CPU seconds of a `/proc/<pid>/stat` line.
fn cpu_seconds_of(stat: &str) -> Option<f64> {
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are the 14th and 15th fields of the line, the 12th and 13th after
    // the name (the 1st after it is the state).
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    Some((ticks(11)? + ticks(12)?) as f64 / 100.0)
}

#[cfg(test)]
mod tests {
    use super::{MaskedEvent, filter_directives};

    /// Regression: masking the whole JSON line turned a byte count that passes Modulus
    /// 11 into a bare `<withheld>`, and the line was no longer JSON.
    #[test]
    fn in_json_only_string_values_lose_nhs_numbers_and_the_line_stays_json() {
        use std::io::Write;
        let mut sink = Vec::new();
        {
            let mut event = MaskedEvent::new(&mut sink, true);
            write!(
                event,
                r#"{{"file":"/d/\"9434765919\".csv","bytes":9434765919,"n":"a\\"}}"#
            )
            .unwrap();
        }
        let line = String::from_utf8(sink).unwrap();
        assert_eq!(
            line,
            r#"{"file":"/d/\"<withheld>\".csv","bytes":9434765919,"n":"a\\"}"#
        );
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["bytes"], 9434765919u64);
        // Regression: an escape before the number hid it (`\u0001` ends in a digit), and
        // one split by masking broke the line's JSON.
        let mut sink = Vec::new();
        {
            let mut event = MaskedEvent::new(&mut sink, true);
            write!(
                event,
                r#"{{"a":"x\u00019434765919.csv","b":"y\u0019434765919"}}"#
            )
            .unwrap();
        }
        let line = String::from_utf8(sink).unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["a"], "x\u{1}<withheld>.csv", "{line}");
        // Decoded, the second is not a number (0x19, then nine digits): left as it is.
        assert_eq!(v["b"], "y\u{19}434765919", "{line}");
    }

    #[test]
    fn a_log_event_reaches_its_sink_whole_with_nhs_numbers_withheld() {
        use std::io::Write;
        let mut sink = Vec::new();
        {
            let mut event = MaskedEvent::new(&mut sink, false);
            // Split across writes, as a formatter may write it.
            write!(event, "reading /drop/94347").unwrap();
            writeln!(event, "65919.csv bytes=9434765918").unwrap();
        }
        assert_eq!(
            String::from_utf8(sink).unwrap(),
            "reading /drop/<withheld>.csv bytes=9434765918\n"
        );
    }

    /// Regression (review F10): a value holding a line break and a forged event, or an
    /// ANSI sequence, reached a text log raw; it is escaped, the event's own closing line
    /// break and (on a colour terminal) its colours kept, and a tab between the digits of
    /// an NHS number masked before it is escaped.
    #[test]
    fn a_text_log_event_shows_control_characters_as_escapes() {
        use std::io::Write;
        for colours in [false, true] {
            let mut sink = Vec::new();
            {
                let mut event = MaskedEvent::new(&mut sink, false).with_colours(colours);
                writeln!(
                    event,
                    "\u{1b}[2mWARN\u{1b}[0m file=a\nINFO run finished\u{1b}[2J 943\t476\t5919"
                )
                .unwrap();
            }
            let line = String::from_utf8(sink).unwrap();
            let own = if colours { "\u{1b}" } else { "\\x1b" };
            assert_eq!(
                line,
                format!("{own}[2mWARN{own}[0m file=a\\nINFO run finished\\x1b[2J <withheld>\n")
            );
        }
    }

    /// Regression (review): log lines kept NHS numbers joined by two spaces, a tab, one
    /// digit at a time or under escapes (`%A0`); seconds, grouped byte counts and clock
    /// times stay.
    #[test]
    fn regression_log_lines_lose_nhs_numbers_under_any_short_run_of_separators() {
        use std::io::Write;
        let logged = |json: bool, line: &str| {
            let mut sink = Vec::new();
            {
                let mut event = MaskedEvent::new(&mut sink, json);
                write!(event, "{line}").unwrap();
            }
            String::from_utf8(sink).unwrap()
        };
        assert_eq!(
            logged(
                false,
                "10:00:00 file=/in/apc_999  395  3768.csv took 999.3953768 s, 9,993,953,768 bytes"
            ),
            "10:00:00 file=/in/apc_<withheld>.csv took 999.3953768 s, 9,993,953,768 bytes"
        );
        assert_eq!(
            logged(
                true,
                r#"{"file":"apc_9 9 9 3 9 5 3 7 6 8.csv","url":"/apc_999%A0395%A03768.csv","sheet":"999\t395\t3768","bytes":9993953768}"#
            ),
            r#"{"file":"apc_<withheld>.csv","url":"/apc_<withheld>.csv","sheet":"<withheld>","bytes":9993953768}"#
        );
    }

    #[test]
    fn regression_a_mistyped_log_level_keeps_the_default_and_says_so() {
        // "verbose" was read as a target name: every event, warnings included, vanished.
        let (d, w) = filter_directives(Some("verbose"), "info");
        assert_eq!(d, "info");
        assert!(
            w.unwrap()
                .starts_with("JOINEDUP_LOG=\"verbose\" is not a level")
        );
        assert_eq!(
            filter_directives(Some("DEBUG"), "info"),
            ("debug".into(), None)
        );
        assert_eq!(
            filter_directives(Some("joinedup=debug"), "info"),
            ("warn,joinedup=debug".into(), None)
        );
        assert_eq!(
            filter_directives(Some("error,joinedup=debug"), "info"),
            ("error,joinedup=debug".into(), None)
        );
        assert_eq!(filter_directives(None, "warn"), ("warn".into(), None));
        assert_eq!(filter_directives(Some(" "), "warn"), ("warn".into(), None));
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn resident_memory_is_read_and_the_peak_is_at_least_the_current() {
        let (now, peak) = super::resident_mb().expect("Linux has /proc/self/status");
        assert!(now > 0 && peak >= now, "{now} {peak}");
    }

    /// The process's CPU time is read from `/proc/self/stat` and grows with work done; a
    /// command name with spaces and parentheses does not shift the fields.
    #[test]
    fn cpu_seconds_grows_with_work() {
        let line = "4242 (my (odd) prog) R 1 4242 4242 0 -1 4194560 500 0 0 0 250 125 0 0 20 0 3 0";
        assert_eq!(super::cpu_seconds_of(line), Some(3.75));
        assert_eq!(super::cpu_seconds_of("4242 (prog) R 1"), None);
        let before = super::cpu_seconds().unwrap();
        let began = std::time::Instant::now();
        let mut x = 0u64;
        while began.elapsed() < std::time::Duration::from_millis(300) {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        let used = super::cpu_seconds().unwrap() - before;
        assert!((0.2..5.0).contains(&used), "{used}");
    }
}
