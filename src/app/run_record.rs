//! What a run leaves about itself beyond its work: the span its events are logged in,
//! its id for events logged after it returned (the binary's error event, a signal's), and
//! the manifest of a run that failed, so `joinedup status` lists it.
//!
//! A run writes its whole manifest, status [`PUBLISHING`], durably before it switches
//! its first dataset into place, and again with its final status once they are all in
//! place, before its state ([`super::state`]) says they are done: a run that fails or is
//! stopped by a signal after that first write (its switch, its state, its report) keeps
//! what its manifest says it published, status [`FAILED_AFTER_PUBLISHING`], with its
//! error beside it, so `status` and the report still find the run whose data may be
//! published ([`recorded`]). A run killed outright (`kill -9`, power) leaves it
//! `publishing`: the next run of the pipeline finds it newer than the saved state's run
//! and builds the datasets again ([`switched_since`]).

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
    if let Ok(mut so_far) = SO_FAR.lock() {
        *so_far = Some(SoFar {
            id: id.to_string(),
            ..SoFar::default()
        });
    }
}

/// What the run in progress has done so far, for the manifest of a run that fails
/// before it writes its own: what changed since the last run, the stages finished and
/// the sources read (files, rows in, accepted, quarantined). A failure after ingest (a
/// full disk while writing a dataset) otherwise left a manifest with none of it.
#[derive(Default)]
struct SoFar {
    /// The run it is of ([`started`]): another run's record is never used.
    id: String,
    changes: Option<state::Changes>,
    stages: Vec<crate::publish::manifest::StageTiming>,
    sources: Vec<crate::publish::manifest::SourceInfo>,
}

static SO_FAR: std::sync::Mutex<Option<SoFar>> = std::sync::Mutex::new(None);

/// Updates the record of the run started last, if any (a dry run keeps none).
fn so_far(f: impl FnOnce(&mut SoFar)) {
    if let Ok(mut s) = SO_FAR.lock()
        && let Some(s) = s.as_mut()
    {
        f(s);
    }
}

/// Records what changed since the last run.
pub(super) fn changes_found(changes: &state::Changes) {
    so_far(|s| s.changes = Some(changes.clone()));
}

/// Records a finished stage.
pub(super) fn stage_finished(stage: &crate::publish::manifest::StageTiming) {
    so_far(|s| s.stages.push(stage.clone()));
}

/// Records the sources read.
pub(super) fn sources_read(sources: &[crate::publish::manifest::SourceInfo]) {
    so_far(|s| s.sources = sources.to_vec());
}

/// The id of the run this process started last, if any.
pub fn last_run_id() -> Option<String> {
    LAST_RUN_ID.lock().ok().and_then(|id| id.clone())
}

/// Writes the manifest of a run that failed, when there is a data directory and the
/// pipeline loaded (a configuration error is the command's own output, but see
/// [`failed_anyway`]; a run refused for the lock changes nothing, not even `runs/`).
pub(super) fn failed(
    opts: &RunOptions,
    id: &str,
    started: chrono::DateTime<chrono::Utc>,
    e: &Error,
) {
    if !matches!(e, Error::Busy { .. } | Error::Config(_)) {
        failed_anyway(opts, id, started, e);
    }
}

/// Writes the manifest of a failed run whatever the error (a configuration error found
/// after the pipeline loaded, such as a key that cannot be read).
pub(super) fn failed_anyway(
    opts: &RunOptions,
    id: &str,
    started: chrono::DateTime<chrono::Utc>,
    e: &Error,
) {
    failed_with(opts, id, started, e.exit_code() as u8, &error_chain(e));
}

/// The run in progress, for a signal that stops it ([`interrupted`]).
static CURRENT: std::sync::Mutex<Option<(RunOptions, String, chrono::DateTime<chrono::Utc>)>> =
    std::sync::Mutex::new(None);

/// Records the run in progress (`None` when it ended), so a signal can leave its manifest.
pub(super) fn in_progress(run: Option<(&RunOptions, &str, chrono::DateTime<chrono::Utc>)>) {
    if let Ok(mut current) = CURRENT.lock() {
        *current = run.map(|(o, id, at)| (o.clone(), id.to_string(), at));
    }
}

/// Writes the manifest of the run a signal stopped (exit 130 or 143), so `status` lists it
/// like any failed run, and logs the run's last event, `run finished`, as every run that
/// is not a dry run ends its log. Before the run began switching its datasets into place
/// the status is `failed` and nothing was switched; from then on it is
/// [`FAILED_AFTER_PUBLISHING`], its outputs kept listed, and the message says so.
pub fn interrupted(exit_code: u8, signal: &str) {
    let current = CURRENT.lock().ok().and_then(|c| c.clone());
    if let Some((opts, id, started)) = current {
        let switching = published_record(&opts.out, &id).is_some();
        let message = if switching {
            format!(
                "interrupted by {signal} after it began switching its datasets into place: the outputs listed may hold this run's data, though its state was not saved; the next run builds them again"
            )
        } else {
            format!(
                "interrupted by {signal} before switching any dataset into place: the datasets are as before this run; the next run redoes the work"
            )
        };
        let manifest = failed_with(&opts, &id, started, exit_code, &message);
        let status = if switching {
            FAILED_AFTER_PUBLISHING
        } else {
            "failed"
        };
        if !opts.dry_run {
            log_finished(&id, exit_code, status, manifest.as_deref());
        }
    }
}

/// Logs a run's last event, `run finished`, in its span: exit code, status, and the
/// manifest it left (empty when it left none).
pub fn log_finished(id: &str, exit_code: u8, status: &str, manifest: Option<&std::path::Path>) {
    let span = run_span(id);
    let _entered = span.enter();
    tracing::info!(
        exit_code,
        status,
        manifest = %manifest.map(|p| p.display().to_string()).unwrap_or_default(),
        "run finished"
    );
}

/// Writes the manifest of a failed run; returns its path when it was written.
fn failed_with(
    opts: &RunOptions,
    id: &str,
    started: chrono::DateTime<chrono::Utc>,
    exit_code: u8,
    message: &str,
) -> Option<std::path::PathBuf> {
    if opts.dry_run || !opts.out.is_dir() {
        return None;
    }
    let Ok(plan) = validate(&opts.pipeline, &opts.overrides) else {
        return None;
    };
    let mut m = match published_record(&opts.out, id) {
        // The run had switched its datasets into place and recorded them: what it
        // published stays described, with its error.
        Some(mut m) => {
            m.status = FAILED_AFTER_PUBLISHING.to_string();
            m.finished_at = super::now_rfc3339();
            m
        }
        // What the run had done before it failed: what changed, its finished stages
        // and the sources it read.
        None => {
            let done = SO_FAR
                .lock()
                .ok()
                .and_then(|mut s| s.take_if(|s| s.id == id))
                .unwrap_or_default();
            let timer = Timer::new(done.stages);
            let mut m = manifest_skeleton(
                &plan,
                id,
                started,
                "failed",
                &timer,
                &done.changes.unwrap_or_default(),
            );
            m.sources = done.sources;
            m
        }
    };
    m.error = Some(crate::publish::manifest::RunError {
        exit_code,
        message: message.to_string(),
    });
    match write_manifest(&opts.out, id, &mut m) {
        Ok(path) => Some(path),
        Err(w) => {
            // The whole chain: "creating DIR" alone does not say why.
            let why = crate::error::chain(&w);
            tracing::warn!("cannot record the failed run: {why}");
            None
        }
    }
}

/// The status of a run that failed after it recorded its datasets and began switching
/// them into place (the switch itself, its final manifest, its state, its report, or a
/// signal in any of these).
pub const FAILED_AFTER_PUBLISHING: &str = "failed_after_publish";

/// The status of a run's manifest while its datasets are switched into place: written
/// whole, outputs listed, before the first switch. Left as it is only by a run killed
/// outright (`kill -9`, power) or one still switching: some of its datasets may be in
/// place, others not.
pub const PUBLISHING: &str = "publishing";

/// The newest run of `pipeline` after run `since` (the run its saved state names; `None`
/// when there is no state) whose manifest says it may have switched datasets into place
/// without saving its state (status [`PUBLISHING`] or [`FAILED_AFTER_PUBLISHING`]): the
/// published datasets may hold its data, not the state's, so they are built again even
/// when the inputs equal the state.
pub(crate) fn switched_since(
    out: &std::path::Path,
    pipeline: &str,
    since: Option<&str>,
) -> Option<String> {
    let mut ids: Vec<String> = std::fs::read_dir(out.join("runs"))
        .ok()?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|id| since.is_none_or(|s| id.as_str() > s))
        .collect();
    ids.sort();
    ids.into_iter().rev().find(|id| {
        std::fs::read_to_string(out.join("runs").join(id).join("manifest.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<crate::publish::manifest::Manifest>(&t).ok())
            .is_some_and(|m| {
                m.pipeline.name == pipeline
                    && (m.status == PUBLISHING || m.status == FAILED_AFTER_PUBLISHING)
                    && !m.outputs.is_empty()
            })
    })
}

/// The manifest run `id` wrote once its datasets were in place, when it lists them.
fn published_record(out: &std::path::Path, id: &str) -> Option<crate::publish::manifest::Manifest> {
    let text = std::fs::read_to_string(out.join("runs").join(id).join("manifest.json")).ok()?;
    let m: crate::publish::manifest::Manifest = serde_json::from_str(&text).ok()?;
    (!m.outputs.is_empty()).then_some(m)
}

/// Whether run `id` (the run a saved state names) left a manifest describing what it
/// published: one that can be read and, when the state lists dataset folders
/// (`lists_outputs`), lists its outputs. A state saved by an older joinedup before it
/// wrote its manifest (killed between the two, or its manifest replaced by a failed
/// run's record) did not.
pub(crate) fn recorded(out: &std::path::Path, id: &str, lists_outputs: bool) -> bool {
    let Ok(text) = std::fs::read_to_string(out.join("runs").join(id).join("manifest.json")) else {
        return false;
    };
    serde_json::from_str::<crate::publish::manifest::Manifest>(&text)
        .is_ok_and(|m| !lists_outputs || !m.outputs.is_empty())
}

/// An error and its sources, as one line.
pub fn error_chain(e: &Error) -> String {
    crate::error::chain(e)
}
