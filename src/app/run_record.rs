//! What a run leaves about itself beyond its work: the span its events are logged in,
//! its id for events logged after it returned (the binary's error event, a signal's), and
//! the manifest of a run that failed, so `joinedup status` lists it.

use std::time::Instant;

use super::{RunOptions, Timer, manifest_skeleton, state, validate, write_manifest};
use crate::error::Error;

/// The id of the run this process started last, for events logged after it returned
/// (the binary's error event).
static LAST_RUN_ID: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// The span every event of run `id` is logged in: at error level, so it is enabled (and
/// its run id on every event) whatever level the log is filtered to.
pub fn run_span(id: &str) -> tracing::Span {
    tracing::error_span!("run", run_id = %id)
}

/// The span a dry run's events are logged in: named `dry_run`, with no run id (a dry run
/// writes no manifest, so an id would name a run `runs/` does not hold).
pub fn dry_run_span() -> tracing::Span {
    tracing::error_span!("dry_run")
}

/// Records `id` as the run this process started last.
pub(super) fn started(id: &str) {
    if let Ok(mut last) = LAST_RUN_ID.lock() {
        *last = Some(id.to_string());
    }
}

/// The id of the run this process started last, if any.
pub fn last_run_id() -> Option<String> {
    LAST_RUN_ID.lock().ok().and_then(|id| id.clone())
}

/// Writes the manifest of a run that failed, when there is a data directory and the
/// pipeline loaded (a configuration error is the command's own output; a run refused
/// for the lock changes nothing, not even `runs/`).
pub(super) fn failed(
    opts: &RunOptions,
    id: &str,
    started: chrono::DateTime<chrono::Utc>,
    e: &Error,
) {
    if opts.dry_run || matches!(e, Error::Busy { .. } | Error::Config(_)) || !opts.out.is_dir() {
        return;
    }
    let Ok(plan) = validate(&opts.pipeline, &opts.overrides) else {
        return;
    };
    let timer = Timer(Vec::new(), Instant::now());
    let mut m = manifest_skeleton(
        &plan,
        id,
        started,
        "failed",
        &timer,
        &state::Changes::default(),
    );
    m.error = Some(crate::publish::manifest::RunError {
        exit_code: e.exit_code() as u8,
        message: error_chain(e),
    });
    if let Err(w) = write_manifest(&opts.out, id, &m) {
        tracing::warn!("cannot record the failed run: {w}");
    }
}

/// An error and its sources, as one line.
pub fn error_chain(e: &Error) -> String {
    crate::error::chain(e)
}
