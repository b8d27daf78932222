//! What a pull did, per source: found, landed, already had, unchanged, waiting, failed.

use serde::Serialize;

use crate::ingest::quarantine::mask_file_name;

/// One source's pull.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SourcePull {
    /// Source name.
    pub source: String,
    /// `http`, `mesh` or `file_drop`.
    pub kind: String,
    /// Items found (URLs, inbox messages, drop files).
    pub found: u64,
    /// Newly landed.
    pub landed: u64,
    /// Content or message already landed earlier.
    pub already_had: u64,
    /// HTTP 304: not changed since the last download.
    pub unchanged: u64,
    /// Drop files still growing, left for the next pull.
    pub waiting: u64,
    /// Failures: item and reason.
    pub failed: Vec<Failure>,
    /// Items taken off the source that were not data (a MESH delivery report): what each
    /// said.
    pub notes: Vec<String>,
    /// A failure of this machine rather than the source (a full disk, a file where the
    /// landing zone keeps a folder): the path, the kind of error and the whole message.
    /// The pull then exits as that error does (5, or 2 for a setting to fix), not 4.
    #[serde(skip)]
    pub local: Option<LocalFailure>,
}

/// A failure of this machine while landing (see [`SourcePull::local`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalFailure {
    /// What was being done.
    pub action: &'static str,
    /// The path it was done to.
    pub path: std::path::PathBuf,
    /// The kind of I/O error.
    pub kind: std::io::ErrorKind,
    /// The error's message, causes included.
    pub message: String,
}

/// A failed item.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Failure {
    /// URL, message id or file.
    pub item: String,
    /// Why.
    pub reason: String,
}

impl SourcePull {
    /// An empty report.
    pub fn new(source: &str, kind: &str) -> Self {
        SourcePull {
            source: source.to_string(),
            kind: kind.to_string(),
            found: 0,
            landed: 0,
            already_had: 0,
            unchanged: 0,
            waiting: 0,
            failed: Vec::new(),
            notes: Vec::new(),
            local: None,
        }
    }

    /// Records a note (also logged as a warning).
    pub fn note(&mut self, note: String) {
        tracing::warn!(stage = "pull", source = %self.source, "{note}");
        self.notes.push(note);
    }

    /// Records a failure of this machine while landing `item` (a full disk, a file where
    /// the landing zone keeps a folder): the reason is the error with every cause (the
    /// OS's own words), and an I/O error is kept as [`SourcePull::local`] (the first
    /// one), so the pull exits as that error does rather than as a source failure.
    pub fn fail_local(&mut self, item: &str, e: crate::error::Error) {
        self.fail(item, crate::error::chain(&e));
        if let crate::error::Error::Io {
            action,
            path,
            source,
        } = &e
            && self.local.is_none()
        {
            self.local = Some(LocalFailure {
                action,
                path: path.clone(),
                kind: source.kind(),
                message: source.to_string(),
            });
        }
    }

    /// Records a failure (also logged, without secrets: reasons never carry them). The
    /// item, often a file's name or URL, shows no NHS number ([`mask_file_name`]).
    pub fn fail(&mut self, item: &str, reason: String) {
        let item = mask_file_name(item);
        tracing::warn!(stage = "pull", source = %self.source, item = %item, reason = %reason, "pull failed");
        self.failed.push(Failure { item, reason });
    }
}

/// Renders the pull summary table.
pub fn render(pulls: &[SourcePull]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "pulled                kind        found  landed  already had  unchanged  waiting  failed"
    );
    for p in pulls {
        let _ = writeln!(
            s,
            "  {:<18} {:<10} {:>6} {:>7} {:>12} {:>10} {:>8} {:>7}",
            p.source,
            p.kind,
            p.found,
            p.landed,
            p.already_had,
            p.unchanged,
            p.waiting,
            p.failed.len()
        );
        for n in &p.notes {
            let _ = writeln!(
                s,
                "    note: {}",
                crate::ingest::quarantine::mask_nhs_numbers(n)
            );
        }
        for f in &p.failed {
            // A file's name (masked as it was recorded) and the reason naming it: no NHS
            // number (a file named after its patient).
            let _ = writeln!(
                s,
                "    failed: {}: {}",
                f.item,
                crate::ingest::quarantine::mask_nhs_numbers(&f.reason)
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (review): a failed item (a dropped file's name) was recorded as written,
    /// and the error a failed pull ends with, masked as free text, kept a number written
    /// with commas (`9,998,193,036`, Modulus 11 valid).
    #[test]
    fn regression_a_failed_item_is_recorded_without_its_nhs_number() {
        let mut pull = SourcePull::new("cld", "file_drop");
        pull.fail("cld_9,998,193,036.csv", "gone".to_string());
        assert_eq!(pull.failed[0].item, "cld_<withheld>.csv");
        assert!(
            render(&[pull]).contains("    failed: cld_<withheld>.csv: gone\n"),
            "rendered"
        );
    }
}
