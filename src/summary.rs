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
        mode => {
            let what = if c.configuration_changed {
                "everything (configuration, key or version changed, or first run)".to_string()
            } else {
                format!(
                    "{} new and {} removed input file(s)",
                    c.new.len(),
                    c.removed.len()
                )
            };
            let verb = if mode.starts_with("dry_run") {
                "would rebuild from"
            } else {
                "rebuilt from"
            };
            let _ = writeln!(s, "\n{verb} {what}; {} file(s) unchanged", c.unchanged);
            for f in &c.new {
                let _ = writeln!(s, "  new      {f}");
            }
            for f in &c.removed {
                let _ = writeln!(s, "  removed  {f}");
            }
        }
    }
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
    for w in &m.warnings {
        let _ = writeln!(s, "\nwarning: {w}");
    }
    if let Some(p) = manifest_path {
        let _ = write!(s, "\nmanifest: {}", p.display());
    }
    s.trim_end().to_string()
}
