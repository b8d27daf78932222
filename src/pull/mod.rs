//! Stage 1, pull: bring files in, then find and fingerprint what each source will read.
//!
//! Fetched sources (`kind = "http" | "mesh" | "file_drop"`) land into
//! `<data dir>/landing/<source>/` ([`landing`]): written under a temporary name, fsynced,
//! renamed, and recorded in `landing/manifest.jsonl` before anything is acknowledged or
//! moved. Local sources (`kind = "local"`) are read where they are. Either way every
//! input file is listed with its size and SHA-256 before it is read ([`list_inputs`]).
//!
//! Network work runs on a tokio runtime owned by [`fetch_all`]; nothing else in joinedup
//! is async.

pub mod file_drop;
pub mod folder_entry;
pub mod http;
pub mod landing;
pub(crate) mod local;
pub mod mesh;
pub mod report;
pub mod retry;
pub mod secret;
mod sniff;

use std::path::Path;
use std::sync::Arc;

pub use local::{
    InputFile, fingerprint_input, list_inputs, list_paths, list_paths_with, wildcard_match,
};
pub use report::SourcePull;

use crate::config::Plan;
use crate::config::fetch::Fetch;
use crate::error::{Error, Result};
use landing::LandingZone;

/// Fetches every fetched source of the plan into `<out>/landing/`. A failing source does
/// not stop the others; the caller decides what failures mean.
pub fn fetch_all(plan: &Plan, out: &Path) -> Result<Vec<SourcePull>> {
    if plan.fetches.is_empty() {
        return Ok(Vec::new());
    }
    let missing = crate::config::fetch::missing_settings(plan);
    if !missing.is_empty() {
        return Err(Error::Config(missing));
    }
    let zone = Arc::new(LandingZone::open(out)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the network runtime for", out, e))?;
    let reports = runtime.block_on(async {
        let mut reports = Vec::new();
        for f in &plan.fetches {
            let r = match &f.kind {
                Fetch::Http(cfg) => http::pull_urls(&f.source, cfg, zone.clone()).await,
                Fetch::Mesh(cfg) => mesh::pull_mailbox(&f.source, cfg, &zone).await,
                Fetch::FileDrop(cfg) => file_drop::pull_folder(&f.source, cfg, &zone).await,
            };
            tracing::info!(
                stage = "pull",
                source = %r.source,
                found = r.found,
                landed = r.landed,
                already_had = r.already_had,
                unchanged = r.unchanged,
                waiting = r.waiting,
                failed = r.failed.len(),
                "source pulled"
            );
            reports.push(r);
        }
        reports
    });
    Ok(reports)
}

/// The error for a pull where some source failed (after everything else was landed).
pub fn failures_error(reports: &[SourcePull]) -> Option<Error> {
    // A failure of this machine is the error the run ends with: it is not the source's.
    if let Some(l) = reports.iter().find_map(|r| r.local.as_ref()) {
        return Some(Error::io(
            l.action,
            l.path.clone(),
            std::io::Error::new(l.kind, l.message.clone()),
        ));
    }
    let failed: Vec<&SourcePull> = reports.iter().filter(|r| !r.failed.is_empty()).collect();
    let first = failed.first()?;
    Some(Error::SourceUnavailable {
        source_name: failed
            .iter()
            .map(|r| r.source.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        message: format!(
            "{} item(s) failed to pull; first: {}: {}",
            failed.iter().map(|r| r.failed.len()).sum::<usize>(),
            first.failed[0].item,
            first.failed[0].reason
        ),
    })
}
