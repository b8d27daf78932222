//! What `joinedup check` prints: per source, each file's counts, reasons, values left
//! blank, undeclared columns, warnings and first quarantined rows, then the source's
//! shares against its thresholds and what a run would do.

use std::fmt::Write;

use super::check::{CheckReport, FileCheck, SourceCheck};

impl CheckReport {
    /// The report as text for people.
    pub fn render(&self) -> String {
        let mut s = format!(
            "joinedup check {}: files read against their contracts as a run reads them; nothing kept\n",
            self.pipeline
        );
        if self.sources.is_empty() {
            s.push_str("\nthe pipeline reads no source against a contract: nothing to check\n");
        }
        for source in &self.sources {
            render_source(&mut s, source);
        }
        let verdict = match self.exit() {
            crate::error::ExitCode::InputRejected => {
                "a run would be refused: a file breaks its contract as a whole, or a source holds no rows (exit 3)"
            }
            crate::error::ExitCode::DataQuality => {
                "a run would publish, with a source over its threshold (exit 1)"
            }
            _ if self.sources.iter().all(|c| c.files.is_empty()) => "no file was checked",
            _ => "a run would accept these files (exit 0)",
        };
        let _ = write!(s, "\n{verdict}");
        s
    }
}

fn render_source(s: &mut String, c: &SourceCheck) {
    let _ = writeln!(
        s,
        "\n{} (contract {}): {} file(s)",
        c.source,
        c.contract,
        c.files.len()
    );
    if let Some(why) = &c.none_because {
        let _ = writeln!(s, "  no files: {why}");
        return;
    }
    for f in &c.files {
        render_file(s, f);
    }
    if let Some(why) = &c.refused {
        let _ = writeln!(s, "  REFUSED: {why}");
        return;
    }
    // Shares of the files read; a source whose every file was rejected has none.
    if !c.files.iter().any(|f| matches!(f, FileCheck::Read { .. })) {
        return;
    }
    let verdict = |share: f64, max: f64| {
        if share > max {
            "over: a run exits 1"
        } else {
            "within"
        }
    };
    let keyed = if c.keyed {
        format!(
            "{:.2}% of accepted rows without an NHS number (threshold {:.1}%: {})",
            c.without_nhs_number_fraction * 100.0,
            c.max_without_nhs_number_fraction * 100.0,
            verdict(
                c.without_nhs_number_fraction,
                c.max_without_nhs_number_fraction
            ),
        )
    } else {
        "no NHS number or pseudonym column keys its persons".to_string()
    };
    let _ = writeln!(
        s,
        "  {}: {:.2}% of rows quarantined (threshold {:.1}%: {}); {keyed}",
        c.source,
        c.quarantined_fraction * 100.0,
        c.max_quarantine_fraction * 100.0,
        verdict(c.quarantined_fraction, c.max_quarantine_fraction),
    );
}

fn render_file(s: &mut String, f: &FileCheck) {
    let r = match f {
        FileCheck::Rejected { file, rejected } => {
            let _ = writeln!(s, "  {file}: REJECTED: {rejected}");
            return;
        }
        FileCheck::Read(reading) => reading,
    };
    let first = &r.first_quarantined;
    let _ = writeln!(
        s,
        "  {} ({}): {} rows: {} accepted, {} quarantined",
        r.file, r.encoding, r.rows_in, r.accepted, r.quarantined
    );
    if !r.reasons.is_empty() {
        let reasons: Vec<String> = r.reasons.iter().map(|(k, n)| format!("{k} {n}")).collect();
        let _ = writeln!(s, "    quarantined for: {}", reasons.join(", "));
    }
    for (column, reasons) in &r.blanked {
        let each: Vec<String> = reasons.iter().map(|(k, n)| format!("{k} {n}")).collect();
        let _ = writeln!(s, "    left blank in {column}: {}", each.join(", "));
    }
    if !r.blank_in_accepted.is_empty() && r.accepted > 0 {
        let mut blank: Vec<(&String, &u64)> = r.blank_in_accepted.iter().collect();
        // Emptiest first.
        blank.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let each: Vec<String> = blank
            .iter()
            .map(|(c, n)| format!("{c} {:.1}%", **n as f64 * 100.0 / r.accepted as f64))
            .collect();
        let _ = writeln!(s, "    blank in accepted rows: {}", each.join(", "));
    }
    if r.without_nhs_number > 0 {
        let _ = writeln!(
            s,
            "    accepted without an NHS number: {}",
            r.without_nhs_number
        );
    }
    if !r.extra_columns.is_empty() {
        let _ = writeln!(
            s,
            "    columns the contract does not declare: {}",
            r.extra_columns.join(", ")
        );
    }
    for w in &r.warnings {
        let _ = writeln!(s, "    warning: {w}");
    }
    if !first.is_empty() {
        let more = if r.quarantined > first.len() as u64 {
            format!(" (first {} of {})", first.len(), r.quarantined)
        } else {
            String::new()
        };
        let _ = writeln!(s, "    quarantined rows{more}:");
        for q in first {
            let _ = writeln!(
                s,
                "      row {} (line {}): {}: {}",
                q.row, q.line, q.reasons, q.detail
            );
        }
    }
}
