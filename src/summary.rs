//! The short summary `joinedup run` prints on stdout.

use std::fmt::Write;

use crate::publish::manifest::Manifest;

/// Renders the run summary: sources, row accounting, datasets written.
pub fn render(m: &Manifest, manifest_path: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "joinedup run {} ({}) — {}",
        m.run_id, m.pipeline.name, m.status
    );
    if !m.sources.is_empty() {
        let _ = writeln!(
            s,
            "\nsources               files    rows in   published  quarantined"
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
    }
    render_publications(&mut s, m);
    let _ = writeln!(
        s,
        "\ndatasets written                              rows  suppressed"
    );
    for o in &m.outputs {
        let _ = writeln!(
            s,
            "  {:<40} {:>9} {:>11}",
            o.path, o.rows, o.suppressed_cells
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
    let _ = write!(s, "\nmanifest: {manifest_path}");
    s
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
