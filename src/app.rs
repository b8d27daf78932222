//! Orchestration: a checked plan → pull → ingest → normalise → link → measure → publish.
//!
//! This is the only place that knows the run order. A run takes the data directory's
//! lock, removes staging left by a killed run, compares the inputs with the state of the
//! last successful run ([`state`]), and then either stops (nothing changed), or reads the
//! new files (earlier files come from the ingest cache), recomputes the datasets, writes
//! the partitions whose content changed and switches each dataset into place atomically.
//! Rows are accounted for before the switch (a count that does not add up publishes
//! nothing); the manifest is written whole (status `publishing`) before it and with its
//! final status after it, then the state, so a run killed at any point is redone by the
//! next one, whatever is switched is described by its run's manifest, and the run a state
//! names has always described what it published. A `--full-refresh` is marked in the state before its first switch
//! ([`state::mark_full_refresh_pending`]). The report comes after the state: a run with
//! nothing to do writes it again when it is not from the run that published.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::config::{ConfigErrors, KeySource, Plan, SourceOverride, load_plan};
use crate::error::{Error, ExitCode, Result};
use crate::fault;
use crate::ingest::{SourceIngest, ingest_all};
use crate::normalise::pseudonym::Pseudonymiser;
use crate::publish::manifest::{
    FileInfo, KeyInfo, Manifest, OutputInfo, PipelineInfo, ResolutionInfo, SourceInfo, StageTiming,
};
use crate::publish::partition::write_dataset;
use crate::publish::staging::{RunDir, remove_stale, write_atomic};
use crate::pull::InputFile;

pub mod check;
mod check_text;
mod datasets;
mod ed_pass;
mod ingest_cache;
mod inputs;
pub mod lock;
mod person_level;
mod run_record;
pub mod run_retention;
mod stager;
pub mod state;

pub use ingest_cache::source_folders as ingest_cache_sources;
pub use inputs::{check_here, list_inputs};
pub use run_record::interrupted as record_interrupted;
pub use run_record::{FAILED_AFTER_PUBLISHING, PUBLISHING};
pub use run_record::{error_chain, last_run_id, log_finished as log_run_finished, run_span};

/// What `joinedup run` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The pipeline file.
    pub pipeline: PathBuf,
    /// `--source NAME=PATH` overrides.
    pub overrides: Vec<SourceOverride>,
    /// The data directory.
    pub out: PathBuf,
    /// Rebuild everything, ignoring the state and the ingest cache.
    pub full_refresh: bool,
    /// Say what would be done; read and write nothing but the input listing.
    pub dry_run: bool,
    /// Keep this pipeline's newest N run folders (`--keep-runs`); `None` keeps all.
    pub keep_runs: Option<usize>,
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The manifest (written unless this was a dry run).
    pub manifest: Manifest,
    /// Where it was written.
    pub manifest_path: Option<PathBuf>,
    /// `Ok` or `DataQuality`.
    pub exit: ExitCode,
    /// The HTML report, when the pipeline asks for one (`[pipeline] report = true`).
    pub report: Option<PathBuf>,
    /// What a dry run cannot know (a fetched source is pulled by a run first), for the
    /// dry run's summary, `explain` and `status`.
    pub dry_run_notes: Vec<String>,
}

/// Loads and checks a pipeline without reading any data.
pub fn validate(pipeline: &Path, overrides: &[SourceOverride]) -> Result<Plan> {
    load_plan(pipeline, overrides).map_err(Error::Config)
}

/// Why a run refuses a source whose files hold no data rows (unless `allow_empty`).
pub(crate) fn no_data_rows(source: &str, files: usize) -> String {
    format!(
        "source {source}: its {files} file(s) hold no data rows (a header only, or nothing at all), which would empty every dataset it feeds"
    )
}

/// Warnings of a disclosure rule weaker than the default: published datasets of one
/// pipeline share its rule (one warning), and `flow_daily`'s minimum of patients. Said by
/// every run, and by `validate`, allowed but never silently.
pub fn disclosure_warnings(plan: &Plan) -> Vec<String> {
    let rule = plan
        .outputs
        .iter()
        .filter(|o| o.dataset.access() == crate::publish::Access::Published)
        .find_map(|o| crate::publish::disclosure::weaker_than_hes(o.disclosure));
    rule.into_iter()
        .chain(crate::measure::daily_population::weaker_than_default(plan))
        .collect()
}

/// Reads the pseudonymisation key named by the plan: the demo key pseudonymises
/// synthetic (999 test range) NHS numbers only.
pub fn load_key(plan: &Plan) -> Result<(Pseudonymiser, &'static str)> {
    let (bytes, kind) = key_bytes(plan)?;
    let pseudo = pseudonymiser(plan, &bytes, kind)?;
    Ok(if kind == "demo" {
        (pseudo.for_test_data_only(), kind)
    } else {
        (pseudo, kind)
    })
}

/// The pseudonymiser of a key read from `kind` (`env`, `file`, `demo`): a key too short,
/// or a secret one that is public or too regular ([`key_weakness`]), is a configuration
/// error, wherever the pipeline runs.
///
/// [`key_weakness`]: crate::normalise::pseudonym::key_weakness
pub(crate) fn pseudonymiser(plan: &Plan, key: &[u8], kind: &str) -> Result<Pseudonymiser> {
    let pseudo = Pseudonymiser::new(key, plan.pseudonym_width)
        .map_err(|m| key_error(plan, "pseudonymisation", m))?;
    if kind != "demo"
        && let Some(why) = crate::normalise::pseudonym::key_weakness(key)
    {
        let setting = if kind == "file" {
            "pseudonymisation.key_file"
        } else {
            "pseudonymisation.key_env"
        };
        return Err(key_error(plan, setting, why));
    }
    Ok(pseudo)
}

fn key_error(plan: &Plan, key: &str, message: String) -> Error {
    let mut e = ConfigErrors::default();
    e.push(&plan.file, key, message);
    Error::Config(e)
}

/// The key's bytes and where they came from (`env`, `file`, `demo`); a key this machine
/// lacks (no such variable, no such file) is a configuration error.
pub(crate) fn key_bytes(plan: &Plan) -> Result<(Vec<u8>, &'static str)> {
    let config_error = |key: &str, message: String| key_error(plan, key, message);
    let Some(key) = &plan.key else {
        return Err(config_error(
            "pseudonymisation",
            "missing: name the key with key_env = \"JOINEDUP_PSEUDONYM_KEY\" or key_file = \"…\""
                .to_string(),
        ));
    };
    // Trailing whitespace is never part of a key, from a file or the environment alike: a
    // secret mounted with a final newline must give the same pseudonyms as one without.
    // Nor is a byte-order mark (Notepad writes one) or leading whitespace.
    let trimmed = |mut b: Vec<u8>| {
        while b.last().is_some_and(|c| c.is_ascii_whitespace()) {
            b.pop();
        }
        let bom = if b.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
        let lead = b[bom..]
            .iter()
            .take_while(|c| c.is_ascii_whitespace())
            .count();
        b.split_off(bom + lead)
    };
    let (bytes, kind) = match key {
        KeySource::Env(var) => match std::env::var_os(var).map(|v| trimmed(v.into_encoded_bytes()))
        {
            Some(v) if !v.is_empty() => (v, "env"),
            set => {
                return Err(config_error(
                    "pseudonymisation.key_env",
                    format!(
                        "environment variable {var} is {}; refusing to run without a pseudonymisation key",
                        if set.is_some() { "empty" } else { "not set" }
                    ),
                ));
            }
        },
        KeySource::File(path) => match std::fs::read(path) {
            Ok(b) => {
                warn_if_others_read(path);
                (trimmed(b), "file")
            }
            Err(e) => {
                return Err(config_error(
                    "pseudonymisation.key_file",
                    format!("cannot read key file {}: {e}", path.display()),
                ));
            }
        },
        KeySource::Demo(k) => {
            tracing::warn!(
                "using the DEMO pseudonymisation key from the pipeline file: pseudonyms are not protected; never use it with real data"
            );
            (k.as_bytes().to_vec(), "demo")
        }
    };
    Ok((bytes, kind))
}

/// Warns when a key file can be read by users other than its owner (a Kubernetes secret
/// is mounted 0644 by default, where no other user may exist, so not refused).
fn warn_if_others_read(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            file = %path.display(),
            mode = %format!("{:o}", meta.permissions().mode() & 0o777),
            "the pseudonymisation key file can be read by other users than its owner: chmod 600 it"
        );
    }
}

fn run_id(now: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "{}-{}",
        now.format("%Y%m%dT%H%M%S%.3fZ"),
        std::process::id()
    )
}

/// Stage timings: each lap logs a "stage finished" event and records it for the manifest.
/// The event also says how much CPU the stage used and how many cores that kept busy
/// (CPU seconds / wall seconds), which shows where a run leaves a core idle.
pub(crate) struct Timer {
    pub(crate) stages: Vec<StageTiming>,
    began: Instant,
    cpu: Option<f64>,
}

impl Timer {
    /// A timer whose next lap starts now, after the `stages` already done.
    pub(crate) fn new(stages: Vec<StageTiming>) -> Self {
        Timer {
            stages,
            began: Instant::now(),
            cpu: crate::telemetry::cpu_seconds(),
        }
    }

    pub(crate) fn lap(&mut self, stage: &str, rows_out: Option<u64>) {
        let now = Instant::now();
        let seconds = (now - self.began).as_secs_f64();
        let (rss_mb, peak_rss_mb) = crate::telemetry::resident_mb().unwrap_or_default();
        let cpu = crate::telemetry::cpu_seconds();
        let cpu_seconds = cpu.zip(self.cpu).map_or(0.0, |(now, then)| now - then);
        let cores_busy = if seconds > 0.0 {
            cpu_seconds / seconds
        } else {
            0.0
        };
        // To the hundredth (CPU time is counted in clock ticks of 1/100 s).
        let (cpu_seconds, cores_busy) = (
            (cpu_seconds * 100.0).round() / 100.0,
            (cores_busy * 100.0).round() / 100.0,
        );
        match rows_out {
            Some(rows) => {
                tracing::info!(
                    stage,
                    seconds,
                    cpu_seconds,
                    cores_busy,
                    rows_out = rows,
                    rss_mb,
                    peak_rss_mb,
                    "stage finished"
                )
            }
            None => tracing::info!(
                stage,
                seconds,
                cpu_seconds,
                cores_busy,
                rss_mb,
                peak_rss_mb,
                "stage finished"
            ),
        }
        let timing = StageTiming {
            stage: stage.to_string(),
            seconds,
            rows_out,
        };
        run_record::stage_finished(&timing);
        self.stages.push(timing);
        self.began = now;
        self.cpu = cpu;
    }
}

/// Runs only the pull stage: fetches every fetched source into `<out>/landing/`.
pub fn pull(pipeline: &Path, out: &Path) -> Result<Vec<crate::pull::SourcePull>> {
    let plan = validate(pipeline, &[])?;
    if plan.fetches.is_empty() {
        let mut e = ConfigErrors::default();
        e.push(
            &plan.file,
            "sources",
            "no source is fetched (kind = \"http\", \"mesh\" or \"file_drop\"); nothing to pull",
        );
        return Err(Error::Config(e));
    }
    let _lock = lock::open_data_dir(out)?;
    crate::pull::fetch_all(&plan, out)
}

/// What every run's manifest records (run, pipeline, versions, times, changes), with no
/// sources, outputs, key or warnings yet.
pub(crate) fn manifest_skeleton(
    plan: &Plan,
    run_id: &str,
    started: chrono::DateTime<chrono::Utc>,
    mode: &str,
    timer: &Timer,
    changes: &state::Changes,
) -> Manifest {
    Manifest {
        run_id: run_id.to_string(),
        status: mode.to_string(),
        mode: mode.to_string(),
        changes: changes.clone(),
        pipeline: PipelineInfo {
            name: plan.name.clone(),
            file: plan.file.display().to_string(),
            icb_code: plan.icb_code.clone(),
        },
        versions: versions(),
        started_at: started.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        run_date: crate::run_date::iso(crate::run_date::today_or_now()),
        finished_at: now_rfc3339(),
        pseudonymisation: None,
        sources: Vec::new(),
        social_care_resolution: None,
        publications: Vec::new(),
        repeated_records: Vec::new(),
        stages: timer.stages.clone(),
        outputs: Vec::new(),
        warnings: Vec::new(),
        data_quality: Vec::new(),
        error: None,
    }
}

/// A source's record in the manifest: its files (path, SHA-256, rows in, accepted,
/// quarantined and why) and their totals against its thresholds.
fn source_info(s: &crate::config::SourcePlan, r: &SourceIngest) -> SourceInfo {
    SourceInfo {
        name: s.name.clone(),
        contract: s.contract.name.clone(),
        contract_version: s.contract.version,
        files: r
            .files
            .iter()
            .map(|f| FileInfo {
                path: f.input.path.display().to_string(),
                sha256: f.input.sha256.clone(),
                bytes: f.input.bytes,
                encoding: f.encoding.clone(),
                rows_in: f.rows_in,
                accepted: f.accepted,
                quarantined: f.quarantined,
                quarantine_reasons: f.reasons.clone(),
                extra_columns: f.extra_columns.clone(),
                read_this_run: !f.cached,
            })
            .collect(),
        rows_in: r.rows_in(),
        accepted: r.accepted(),
        quarantined: r.quarantined(),
        quarantine_reasons: r.reasons(),
        max_quarantine_fraction: s.max_quarantine_fraction,
        without_nhs_number: r.without_nhs_number(),
        max_without_nhs_number_fraction: s.max_without_nhs_number_fraction,
        person_key: s.person_key_code(),
    }
}

/// The values a source's files left blank and accepted (`on_invalid`/`on_fail =
/// "blank"`), one `value_left_blank` result per file, column and reason: counts and
/// names only, never a value.
fn left_blank(
    s: &crate::config::SourcePlan,
    r: &crate::ingest::SourceIngest,
) -> Vec<crate::publish::manifest::DataQualityResult> {
    let mut out = Vec::new();
    for f in &r.files {
        for (column, reasons) in &f.blanked {
            let header = s
                .contract
                .columns
                .iter()
                .find(|c| &c.name == column)
                .map_or(column.as_str(), |c| c.header.as_str());
            for (reason, &count) in reasons {
                out.push(crate::publish::manifest::DataQualityResult {
                    check: "value_left_blank".to_string(),
                    file: crate::ingest::quarantine::mask_file_name(
                        &f.input.path.display().to_string(),
                    ),
                    sheet: None,
                    source: Some(s.name.clone()),
                    column: Some(column.clone()),
                    reason: Some(reason.clone()),
                    detail: format!(
                        "source {}, column {column} (\"{header}\"): values failing {reason} were left blank and their rows accepted, as contract \"{}\" declares",
                        s.name, s.contract.name
                    ),
                    count,
                });
            }
        }
    }
    out
}

pub(crate) fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(crate) fn versions() -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "joinedup".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
        (
            "joinedup_build".to_string(),
            env!("JOINEDUP_BUILD").to_string(),
        ),
        ("polars".to_string(), "0.55.2".to_string()),
    ])
}

/// Opens the data directory for a run: creates it, takes its lock, refuses it when its
/// datasets belong to another pipeline, removes what a killed run left, and fetches the
/// fetched sources. Returns the lock and the pull's warnings (drop-folder files still
/// being written). A dry run only reads: it checks what a run would refuse (the
/// directory, the lock held elsewhere, the ownership) and holds no lock (`None`).
pub(crate) fn open_data_dir(
    plan: &Plan,
    opts: &RunOptions,
) -> Result<(Option<lock::DataDirLock>, Vec<String>)> {
    // A dry run (`explain`, `status`) says so too: a run now would stop here.
    let owned_elsewhere = || {
        state::claimed_elsewhere(&opts.out, &plan.name, &state::dataset_folders(plan)).map(
            |(other, file, folders)| {
                Error::Usage(format!(
                    "{} holds datasets of pipeline \"{other}\" ({}), which pipeline \"{}\" would replace; give this pipeline its own --out, or, to hand the datasets over, remove {}",
                    opts.out.display(),
                    folders.join(", "),
                    plan.name,
                    file.display()
                ))
            },
        )
    };
    if opts.dry_run {
        lock::check_data_dir(&opts.out)?;
        // A run in progress would stop a run now, and may change what it would do.
        if lock::held_elsewhere(&opts.out) {
            return Err(Error::Busy {
                lock: opts.out.join(".lock"),
            });
        }
        return match owned_elsewhere() {
            Some(e) => Err(e),
            None => Ok((None, Vec::new())),
        };
    }
    let lock = lock::open_data_dir(&opts.out)?;
    fault::point("run_after_lock");
    if let Some(e) = owned_elsewhere() {
        return Err(e);
    }
    remove_stale(&opts.out);
    crate::publish::staging::close_private_folders(&opts.out);
    let pulled = crate::pull::fetch_all(plan, &opts.out)?;
    if let Some(e) = crate::pull::failures_error(&pulled) {
        return Err(e);
    }
    // A file still being written is left for the next run; say so, or a run that found
    // only such a file reports "nothing to do" with no word about it.
    let mut warnings: Vec<String> = pulled
        .iter()
        .filter(|r| r.waiting > 0)
        .map(|r| {
            let w = format!(
                "source {}: {} file(s) in the drop folder still being written (changed while settling) were left for the next run",
                r.source, r.waiting
            );
            tracing::warn!(source = %r.source, waiting = r.waiting, "{w}");
            w
        })
        .collect();
    // What the pull took off a source that was not data (logged as it was pulled).
    warnings.extend(pulled.iter().flat_map(|r| {
        r.notes
            .iter()
            .map(move |n| format!("source {}: {n}", r.source))
    }));
    Ok((Some(lock), warnings))
}

/// The state the listed inputs would leave, what changed since the pipeline's saved
/// state (everything under `--full-refresh`, or when the saved state cannot be read:
/// [`state::Changes::state_warning`]), and whether every output folder exists.
pub(crate) fn compare_with_state(
    plan: &Plan,
    opts: &RunOptions,
    configuration: &state::Configuration,
    id: &str,
    inputs: &[(String, Vec<InputFile>)],
) -> (state::State, state::Changes, bool) {
    let (previous, unreadable) = match state::load(&opts.out, &plan.name) {
        Ok(previous) => (previous, None),
        Err(why) => (None, Some(why)),
    };
    let mut now_state = state::current(configuration, id, inputs, state::dataset_folders(plan));
    now_state.pipeline = plan.name.clone();
    let mut changes = state::changes(previous.as_ref(), &now_state);
    changes.full_refresh = opts.full_refresh;
    if unreadable.is_some() {
        // Not a first run: what changed is not known.
        changes.configuration_changes.clear();
    }
    changes.state_unreadable = unreadable;
    // The published datasets are those the saved state's run built: without its manifest
    // nothing describes them (`status`, the report), so they are built again.
    if let Some(p) = &previous
        && !run_record::recorded(&opts.out, &p.run_id, !p.outputs.is_empty())
    {
        changes.unrecorded_run = Some(p.run_id.clone());
    }
    // A later run that began switching datasets into place and did not save its state
    // (killed, or failed after its first switch): what is published may be its data.
    changes.run_date_moved = previous
        .as_ref()
        .and_then(|p| p.run_dates.why_not(crate::run_date::today_or_now()));
    changes.switched_unsaved = run_record::switched_since(
        &opts.out,
        &plan.name,
        previous.as_ref().map(|p| p.run_id.as_str()),
    );
    let outputs_present = plan.outputs.iter().all(|o| {
        opts.out
            .join(o.dataset.access().folder())
            .join(o.dataset.name())
            .is_dir()
    });
    (now_state, changes, outputs_present)
}

/// A warning (logged, and for the manifest) for each dataset folder no pipeline writes
/// any more.
pub(crate) fn unclaimed_warnings(out: &Path, plan: &Plan) -> Vec<String> {
    state::unclaimed_datasets(out, &plan.name, &state::dataset_folders(plan))
        .into_iter()
        .map(|rel| {
            let w = format!(
                "{rel}: no pipeline of this data directory writes it any more (its source or output was removed from the pipeline), so it is no longer updated; remove {} if it is not wanted",
                out.join(&rel).display()
            );
            tracing::warn!("{w}");
            w
        })
        .collect()
}

/// For each folder local sources read: the files there no source's pattern matches, in
/// one warning naming the first few (and a log event). A council's workbook dropped
/// beside its CSV files (`*.csv`, the default) was otherwise passed over without a word.
pub(crate) fn unmatched_warnings(plan: &Plan) -> Vec<String> {
    const NAMED: usize = 3;
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    // Folders in the pipeline's order, each with its sources.
    let mut folders: Vec<(PathBuf, &Path, Vec<&crate::config::SourcePlan>)> = Vec::new();
    for s in plan.sources.iter().filter(|s| !s.landed && s.path.is_dir()) {
        let folder = canonical(&s.path);
        match folders.iter_mut().find(|(f, _, _)| *f == folder) {
            Some((_, _, sources)) => sources.push(s),
            None => folders.push((folder, &s.path, vec![s])),
        }
    }
    folders
        .into_iter()
        .filter_map(|(_, path, sources)| {
            let patterns: Vec<&str> = sources.iter().map(|s| s.pattern.as_str()).collect();
            let left = crate::pull::local::unmatched(path, &patterns);
            let first = left.first()?;
            let named: Vec<String> = left
                .iter()
                .take(NAMED)
                .map(|n| format!("\"{}\"", crate::ingest::quarantine::mask_file_name(n)))
                .collect();
            let more = match left.len().saturating_sub(NAMED) {
                0 => String::new(),
                n => format!(" and {n} more"),
            };
            let shown = crate::ingest::quarantine::shown_path(path);
            let names: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
            let patterns: Vec<String> = patterns.iter().map(|p| format!("\"{p}\"")).collect();
            tracing::warn!(sources = %names.join(", "), folder = %shown, files = left.len(), first = %crate::ingest::quarantine::mask_file_name(first), "files in a source's folder no pattern matches are not read");
            Some(format!(
                "{} file(s) in {shown} match no pattern of source {} ({}) and are not read: {}{more}; to read one, widen the pattern of its source so it matches (a workbook is read whatever its name: \"cld_*\" matches both cld_q1.csv and cld_q2.xlsx), else move it out of the folder",
                left.len(),
                names.join(", "),
                patterns.join(", "),
                named.join(", ")
            ))
        })
        .collect()
}

/// The warning for a saved state that cannot be read, logged unless this is a dry run
/// (whose summary, `explain` and `status` give it), for the manifest.
pub(crate) fn state_warning(opts: &RunOptions, changes: &state::Changes) -> Option<String> {
    let w = changes.state_warning()?;
    if !opts.dry_run {
        tracing::warn!("{w}");
    }
    Some(w)
}

/// For a dry run: each fetched source (HTTP, MESH, drop folder) is pulled by a run before
/// it reads anything, which a dry run does not do, so what it says counts only the files
/// already landed.
fn unpulled_notes(plan: &Plan, inputs: &[(String, Vec<crate::pull::InputFile>)]) -> Vec<String> {
    plan.fetches
        .iter()
        .filter_map(|f| {
            let kind = match f.kind {
                crate::config::fetch::Fetch::Http(_) => "HTTP",
                crate::config::fetch::Fetch::Mesh(_) => "a MESH mailbox",
                crate::config::fetch::Fetch::FileDrop(_) => "a drop folder",
            };
            let (_, files) = inputs.iter().find(|(name, _)| *name == f.source)?;
            Some(format!(
                "source {} is fetched from {kind}: a run pulls it first, which this dry run does not, so this counts only the {} file(s) already landed; `joinedup pull` fetches without building",
                f.source,
                files.len()
            ))
        })
        .collect()
}

/// Runs a pipeline: everything when something changed, nothing when nothing did. A run
/// that fails after its pipeline loaded leaves a manifest with status `failed` and its
/// error, so `status` lists it.
pub fn run(opts: &RunOptions) -> Result<RunReport> {
    let started = chrono::Utc::now();
    let id = run_id(started);
    // A dry run (`explain`, `status`, `--dry-run`) leaves no manifest: its events are
    // not given an id no run folder holds, and a later error is not filed under it.
    let span = if opts.dry_run {
        run_record::dry_run_span()
    } else {
        run_record::started(&id);
        run_span(&id)
    };
    let _entered = span.enter();
    run_record::in_progress(Some((opts, &id, started)));
    let result = run_as(opts, &id, started);
    run_record::in_progress(None);
    if let Err(e) = &result {
        run_record::failed(opts, &id, started, e);
    }
    // After every run that left a manifest, failed ones too: a night after night of
    // failures (an extract not delivered for weeks) must not fill runs/.
    if let Some(keep) = opts.keep_runs
        && !opts.dry_run
    {
        run_retention::prune_after(&opts.out, &id, keep);
    }
    result
}

fn run_as(
    opts: &RunOptions,
    id: &str,
    started: chrono::DateTime<chrono::Utc>,
) -> Result<RunReport> {
    let id = id.to_string();
    let mut timer = Timer::new(Vec::new());
    // Rows are checked against the run's date: one given that is not a date is refused
    // before anything is read.
    crate::run_date::today().map_err(Error::Usage)?;
    let plan = validate(&opts.pipeline, &opts.overrides)?;
    if !plan.publications.is_empty() {
        // NHS England publications only: no person-level data, no key, no linkage.
        return crate::app_publications::run_publications(&plan, opts, &id, started, timer);
    }
    if plan.sources.is_empty() {
        let mut e = ConfigErrors::default();
        e.push(&plan.file, "sources", "no source has a contract and mapping, so there is nothing to run; use `joinedup pull` to only fetch");
        return Err(Error::Config(e));
    }
    // A key that cannot be read is the configuration's, but unlike an error in a file it
    // is how a nightly run fails when a secret is not mounted: it is recorded, so
    // `status` lists it.
    let (pseudo, key_kind) = load_key(&plan).inspect_err(|e| {
        if !opts.dry_run {
            run_record::failed_anyway(opts, &id, started, e);
        }
    })?;
    let mut warnings = Vec::new();
    if key_kind == "demo" {
        warnings.push(
            "the DEMO pseudonymisation key was used: outputs are for synthetic data only"
                .to_string(),
        );
    }
    for w in plan
        .unfed_outputs()
        .into_iter()
        .chain(plan.person_key_warnings())
    {
        tracing::warn!("{w}");
        warnings.push(w);
    }
    for w in disclosure_warnings(&plan) {
        tracing::warn!("{w}");
        warnings.push(w);
    }
    let configuration = state::configuration(&plan, Some(&pseudo))?;
    timer.lap("config", None);

    let (_lock, pull_warnings) = open_data_dir(&plan, opts)?;
    warnings.extend(pull_warnings);
    let inputs = list_inputs(&plan, &opts.out, opts.dry_run)?;
    let (mut now_state, changes, outputs_present) =
        compare_with_state(&plan, opts, &configuration, &id, &inputs);
    run_record::changes_found(&changes);
    warnings.extend(unclaimed_warnings(&opts.out, &plan));
    warnings.extend(unmatched_warnings(&plan));
    warnings.extend(crate::app::inputs::refused_entries(
        &plan,
        &changes,
        opts.dry_run,
    )?);
    warnings.extend(state_warning(opts, &changes));
    timer.lap("pull", None);
    fault::point("run_after_pull");

    let base_manifest =
        |mode: &str, timer: &Timer, warnings: Vec<String>, changes: &state::Changes| Manifest {
            pseudonymisation: Some(KeyInfo {
                key_source: key_kind.to_string(),
                scheme: pseudo.scheme().to_string(),
                fingerprint: pseudo.fingerprint().to_string(),
            }),
            warnings,
            ..manifest_skeleton(&plan, &id, started, mode, timer, changes)
        };
    if opts.dry_run {
        let mode = if changes.is_empty() && outputs_present {
            "dry_run_up_to_date"
        } else {
            "dry_run_would_build"
        };
        return Ok(RunReport {
            manifest: base_manifest(mode, &timer, warnings, &changes),
            manifest_path: None,
            exit: ExitCode::Ok,
            report: None,
            dry_run_notes: unpulled_notes(&plan, &inputs),
        });
    }
    if changes.is_empty() && outputs_present {
        tracing::info!(
            stage = "pull",
            unchanged_files = changes.unchanged,
            "inputs unchanged since the last run; nothing to do"
        );
        let mut manifest = base_manifest("up_to_date", &timer, warnings, &changes);
        let path = write_manifest(&opts.out, &id, &mut manifest)?;
        // Entries of inputs gone since a run that failed after reading them.
        ingest_cache::prune(
            &ingest_cache::folder(&opts.out, &now_state.fingerprint),
            &cache_used(&plan, &inputs),
        );
        // Nothing was published, so the report would be the same; but one that is missing
        // (deleted) or not from the run that published (its writing failed, or the run
        // was killed, after that run saved its state) is written now.
        let report = if plan.report && !crate::report::is_current(&opts.out) {
            write_report(&opts.out)?
        } else {
            None
        };
        return Ok(RunReport {
            manifest,
            manifest_path: Some(path),
            exit: ExitCode::Ok,
            report,
            dry_run_notes: Vec::new(),
        });
    }
    if let Some(why) = changes.rebuild_reason() {
        tracing::info!("rebuilding from every input ({why})");
    }
    let cache = ingest_cache::prepare(
        &opts.out,
        &now_state.fingerprint,
        &state::fingerprints(&opts.out),
        changes.is_full_refresh(),
    )?;
    let run = RunDir::create(&opts.out, &id)?;

    // Ingest: new files are read; files seen before come from the cache.
    let jobs: Vec<(&crate::config::SourcePlan, &[InputFile])> = plan
        .sources
        .iter()
        .zip(&inputs)
        .map(|(s, (_, files))| (s, files.as_slice()))
        .collect();
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let ingested: Vec<SourceIngest> = ingest_all(&jobs, &pseudo, &cache, workers)?;
    now_state.run_dates = ingested
        .iter()
        .flat_map(|s| &s.files)
        .fold(Default::default(), |d, f| f.run_dates.and(d));
    for (s, r) in plan.sources.iter().zip(&ingested) {
        tracing::info!(
            stage = "ingest",
            source = %s.name,
            files = r.files.len(),
            files_read = r.fresh(),
            rows_in = r.rows_in(),
            accepted = r.accepted(),
            quarantined = r.quarantined(),
            "source ingested"
        );
        warnings.extend(r.warnings().cloned());
    }
    // An extract of headers only, or of empty files, is a failed extract far more often
    // than an empty week: it would empty every dataset the source feeds.
    for (s, r) in plan.sources.iter().zip(&ingested) {
        if r.rows_in() == 0 && !s.allow_empty {
            return Err(Error::InputRejected {
                location: crate::error::Location {
                    file: r
                        .files
                        .first()
                        .map(|f| f.input.path.clone())
                        .unwrap_or_default(),
                    line: None,
                    column: None,
                },
                message: format!(
                    "{}; nothing was published. If the source may be empty, set allow_empty = true under [sources.{}]",
                    no_data_rows(&s.name, r.files.len()),
                    s.name
                ),
            });
        }
    }
    run_record::sources_read(
        &plan
            .sources
            .iter()
            .zip(&ingested)
            .map(|(s, r)| source_info(s, r))
            .collect::<Vec<_>>(),
    );
    timer.lap(
        "ingest",
        Some(ingested.iter().map(SourceIngest::accepted).sum()),
    );
    fault::point("run_after_ingest");

    // Normalise, link and measure; each dataset is written into the run folder as soon
    // as its rows exist.
    let lookback = if changes.rebuild_all() {
        None
    } else {
        plan.lookback_months
    };
    let built = person_level::build(&plan, &ingested, &run, &opts.out, lookback, &mut timer)?;
    warnings.extend(built.repeats.iter().map(|r| r.warning()));
    warnings.extend(built.staged.warnings);
    for f in &built.resolution.replaced_files {
        let w = format!(
            "social care: {} was not read: a later file of the same council and reporting period replaces it",
            crate::ingest::quarantine::mask_file_name(f)
        );
        tracing::warn!("{w}");
        warnings.push(w);
    }
    let (mut outputs, mut rels): (Vec<OutputInfo>, Vec<String>) = built
        .staged
        .outputs
        .into_iter()
        .map(|(_, info, rel)| (info, rel))
        .unzip();
    for r in &ingested {
        let rel = format!("quarantine/{}", r.name);
        let files: Vec<PathBuf> = r.files.iter().map(|f| f.quarantine.clone()).collect();
        let df = datasets::stack_files(&files, "stacking quarantine")?;
        let partitions = write_dataset(df, None, &run.staged(&rel), &opts.out.join(&rel), None)?;
        outputs.push(OutputInfo::new(
            &r.name,
            "quarantine",
            &rel,
            partitions,
            Default::default(),
            None,
        ));
        fault::point(&format!("publish_staged_{}", rel.replace('/', "_")));
        rels.push(rel);
    }
    // Accounting and the exit code, before anything is switched into place: a count
    // that does not add up publishes nothing.
    let mut exit = ExitCode::Ok;
    let mut sources = Vec::new();
    let mut data_quality = Vec::new();
    for (s, r) in plan.sources.iter().zip(&ingested) {
        data_quality.extend(left_blank(s, r));
        let rows_in = r.rows_in() + u64::from(fault::flag("rows_in_miscounted"));
        if rows_in != r.accepted() + r.quarantined() {
            return Err(Error::Internal(format!(
                "source {}: rows in ≠ accepted + quarantined",
                s.name
            )));
        }
        let fraction = if r.rows_in() == 0 {
            0.0
        } else {
            r.quarantined() as f64 / r.rows_in() as f64
        };
        if fraction > s.max_quarantine_fraction {
            exit = ExitCode::DataQuality;
            // In the log too: under a scheduler the exit code 1 must have its reason there.
            tracing::warn!(
                source = %s.name,
                quarantined = r.quarantined(),
                rows_in = r.rows_in(),
                threshold = s.max_quarantine_fraction,
                "quarantined rows above the source's threshold: the run exits 1"
            );
            // No count or exact share: warnings reach the report, where the counts are
            // shown under the disclosure rule (0.6 % of a source shown as 525 rows is 3).
            warnings.push(format!(
                "source {}: more rows quarantined than its threshold of {:.1}% (the manifest's sources[] count them)",
                s.name,
                s.max_quarantine_fraction * 100.0
            ));
        }
        // Rows that link to nothing: a few are unidentified patients; most of a source is a
        // broken extract (pseudonyms or blanks where NHS numbers should be).
        let without = r.without_nhs_number();
        if r.accepted() > 0
            && without as f64 / r.accepted() as f64 > s.max_without_nhs_number_fraction
        {
            exit = ExitCode::DataQuality;
            tracing::warn!(
                source = %s.name,
                without_nhs_number = without,
                accepted = r.accepted(),
                threshold = s.max_without_nhs_number_fraction,
                "accepted rows without an NHS number above the threshold: they link to nothing; the run exits 1"
            );
            warnings.push(format!(
                "source {}: more accepted rows without a valid NHS number than the threshold of {:.1}%: they link to nothing (is the NHS number column blank, or already pseudonymised? a column of pseudonyms is declared type = \"pseudonym\" with its scheme, and one of NHS numbers type = \"nhs_number\"); the manifest's sources[] count them",
                s.name,
                s.max_without_nhs_number_fraction * 100.0
            ));
        }
        sources.push(source_info(s, r));
    }
    // A full refresh is marked in the state before its first switch: stopped part-way, it
    // is done again by the next run instead of taken for done.
    if changes.is_full_refresh() {
        state::mark_full_refresh_pending(&opts.out, &plan.name)?;
    }
    let mode = if changes.rebuild_all() {
        "full"
    } else {
        "incremental"
    };
    let mut manifest = base_manifest(mode, &timer, warnings, &changes);
    let final_status = if exit == ExitCode::Ok {
        "ok"
    } else {
        "data_quality_warning"
    };
    manifest.status = run_record::PUBLISHING.to_string();
    manifest.repeated_records = built.repeats.clone();
    manifest.data_quality = data_quality;
    manifest.social_care_resolution = Some(ResolutionInfo {
        events_in: built.resolution.events_in,
        superseded_by_later_submission: built.resolution.superseded,
        person_key_backfilled: built.resolution.person_key_backfilled,
        without_nhs_key: built.resolution.without_nhs_key,
        replaced_files: built
            .resolution
            .replaced_files
            .iter()
            .map(|f| crate::ingest::quarantine::mask_file_name(f))
            .collect(),
        requests_clustered: built.resolution.requests_clustered,
        reporting_period_end: built
            .resolution
            .reporting_period_end
            .map(|d| d.format("%Y-%m-%d").to_string()),
    });
    manifest.sources = sources;
    manifest.outputs = outputs;
    // The manifest before the state: the run a saved state names has always described
    // what it published (`status`, the report), however the run ends after this.
    let manifest_path = switch_and_record(
        &opts.out,
        &id,
        run,
        &rels,
        &mut manifest,
        &mut timer,
        final_status,
    )?;
    fault::point("run_before_state");
    crate::interrupt::finish(|| state::save(&opts.out, &plan.name, &now_state))?;
    fault::point("run_after_state");
    // Only now, with the state naming the inputs read: entries of files replaced or
    // removed are of no further use.
    ingest_cache::prune(&cache, &cache_used(&plan, &inputs));
    let report = if plan.report {
        write_report(&opts.out)?
    } else {
        None
    };
    Ok(RunReport {
        manifest,
        manifest_path: Some(manifest_path),
        exit,
        report,
        dry_run_notes: Vec::new(),
    })
}

/// The ingest cache entries the current inputs use, by source.
fn cache_used(
    plan: &Plan,
    inputs: &[(String, Vec<InputFile>)],
) -> BTreeMap<String, std::collections::BTreeSet<String>> {
    plan.sources
        .iter()
        .zip(inputs)
        .map(|(s, (_, files))| (s.name.clone(), crate::ingest::cache_entries(files)))
        .collect()
}

/// Writes the HTML report from what is published and the latest manifest that published
/// it. The data is committed by now, so a failure here is joinedup's fault, not the
/// inputs' (exit 5); the next run, even one with nothing to do, writes it again.
fn write_report(out: &Path) -> Result<Option<PathBuf>> {
    crate::report::write(out, &crate::report::Options::default())
        .map(Some)
        .map_err(|e| {
            Error::Internal(format!(
                "the datasets were published, but writing the report failed: {e}"
            ))
        })
}

/// Writes a run's manifest, NHS numbers withheld from it first
/// ([`Manifest::withhold_nhs_numbers`]: what is then shown of it shows none either).
/// Switches a run's staged datasets (`rels`) into place, recorded: the whole manifest,
/// status `publishing`, durably before the first switch, so whenever a dataset holds the
/// run's data the run's record lists it (a signal or a failure from here on leaves it
/// `failed_after_publish`; a kill -9 leaves it `publishing`, which the next run, `status`
/// and the report read as a run that may have switched some datasets); then the manifest
/// again with `status` and the run's times. Person-level and publications runs alike.
pub(crate) fn switch_and_record(
    out: &Path,
    id: &str,
    run: RunDir,
    rels: &[String],
    manifest: &mut Manifest,
    timer: &mut Timer,
    status: &str,
) -> Result<PathBuf> {
    write_manifest(out, id, manifest)?;
    fault::point("run_before_switch");
    run.commit(rels)?;
    // Folders this run created (a first run's) are closed too.
    crate::publish::staging::close_private_folders(out);
    timer.lap(
        "publish",
        Some(manifest.outputs.iter().map(|o| o.rows).sum()),
    );
    fault::point("run_before_manifest");
    manifest.status = status.to_string();
    manifest.stages = timer.stages.clone();
    manifest.finished_at = now_rfc3339();
    write_manifest(out, id, manifest)
}

pub(crate) fn write_manifest(out: &Path, id: &str, manifest: &mut Manifest) -> Result<PathBuf> {
    manifest.withhold_nhs_numbers();
    let path = out.join("runs").join(id).join("manifest.json");
    let json = serde_json::to_vec_pretty(manifest)
        .map_err(|e| Error::Internal(format!("manifest: {e}")))?;
    write_atomic(&path, &json)?;
    Ok(path)
}
