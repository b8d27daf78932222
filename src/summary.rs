//! The short summary `joinedup run` prints on stdout.

use std::fmt::Write;
use std::path::Path;

use crate::publish::manifest::Manifest;

/// Renders the run summary: what changed, sources, row accounting, datasets written.
pub fn render(m: &Manifest, manifest_path: Option<&Path>) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "joinedup run {} ({}) — {}",
        m.run_id, m.pipeline.name, m.status
    );
    let c = &m.changes;
    match m.mode.as_str() {
        "up_to_date" => {
            let _ = writeln!(
                s,
                "\nup to date: {} input file(s) unchanged since the last run; nothing to do",
                c.unchanged
            );
        }
        // Regression: said "would rebuild from 0 new, 0 changed and 0 removed".
        "dry_run_up_to_date" => {
            let _ = writeln!(
                s,
                "\nup to date: {} input file(s) unchanged since the last run; a run now would do nothing",
                c.unchanged
            );
        }
        mode => {
            let what = match c.rebuild_reason() {
                Some(why) => format!("everything ({why})"),
                None => c.files_line(),
            };
            let verb = if mode.starts_with("dry_run") {
                "would rebuild from"
            } else {
                "rebuilt from"
            };
            let _ = writeln!(s, "\n{verb} {what}; {} file(s) unchanged", c.unchanged);
            s.push_str(&c.file_lines());
        }
    }
    if !m.sources.is_empty() {
        let _ = writeln!(
            s,
            "\nsources               files    rows in    accepted  quarantined"
        );
    }
    for src in &m.sources {
        let _ = writeln!(
            s,
            "  {:<18} {:>6} {:>10} {:>11} {:>12}",
            src.name,
            src.files.len(),
            src.rows_in,
            src.accepted,
            src.quarantined
        );
        for (reason, n) in &src.quarantine_reasons {
            let _ = writeln!(s, "  {:<18} {:>42}  {reason}", "", n);
        }
        if src.quarantine_reasons.values().sum::<u64>() > src.quarantined {
            let _ = writeln!(
                s,
                "  {:<18} {:>42}  (a row with several reasons counts under each)",
                "", ""
            );
        }
    }
    render_publications(&mut s, m);
    if !m.outputs.is_empty() {
        let _ = writeln!(
            s,
            "\ndatasets written                        rows  suppressed  files rewritten"
        );
    }
    for o in &m.outputs {
        let _ = writeln!(
            s,
            "  {:<34} {:>9} {:>11} {:>8} of {}",
            o.path,
            o.rows,
            o.suppressed_cells,
            o.rewritten(),
            o.partitions.len()
        );
    }
    if !m.data_quality.is_empty() {
        let mut by_check: std::collections::BTreeMap<&str, (usize, u64)> = Default::default();
        for r in &m.data_quality {
            let e = by_check.entry(r.check.as_str()).or_default();
            e.0 += 1;
            e.1 += r.count;
        }
        let _ = writeln!(
            s,
            "\ndata quality (details in the manifest)   results       count"
        );
        for (check, (n, count)) in by_check {
            let _ = writeln!(s, "  {check:<36} {n:>9} {count:>11}");
        }
    }
    for w in &m.warnings {
        let _ = writeln!(s, "\nwarning: {w}");
    }
    if let Some(p) = manifest_path {
        let _ = write!(s, "\nmanifest: {}", p.display());
    }
    s.trim_end().to_string()
}

/// NHS England publication sources: files loaded, superseded and failed, with each
/// failure's sheet and cell.
fn render_publications(s: &mut String, m: &Manifest) {
    if m.publications.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\npublications          files     loaded  superseded       failed"
    );
    for p in &m.publications {
        let count = |status: &str| p.files.iter().filter(|f| f.status == status).count();
        let _ = writeln!(
            s,
            "  {:<18} {:>6} {:>10} {:>11} {:>12}",
            p.name,
            p.files.len(),
            count("loaded"),
            count("superseded"),
            count("failed")
        );
        for f in p.files.iter().filter(|f| f.error.is_some()) {
            let _ = writeln!(
                s,
                "    failed: {}: {}",
                f.path,
                f.error.as_deref().unwrap_or("")
            );
        }
    }
}
