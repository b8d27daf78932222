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
    let _ = writeln!(
        s,
        "\nsources               files    rows in   published  quarantined"
    );
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
    for w in &m.warnings {
        let _ = writeln!(s, "\nwarning: {w}");
    }
    let _ = write!(s, "\nmanifest: {manifest_path}");
    s
}
