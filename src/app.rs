//! Orchestration: a checked plan → pull → ingest → normalise → link → measure → publish.
//!
//! This is the only place that knows the run order. A run takes the data directory's
//! lock, removes staging left by a killed run, compares the inputs with the state of the
//! last successful run ([`state`]), and then either stops (nothing changed), or reads the
//! new files (earlier files come from the ingest cache), recomputes the datasets, writes
//! the partitions whose content changed and switches each dataset into place atomically.
//! The state is written last, so a run killed at any point is redone by the next one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use polars::prelude::*;

use crate::config::{ConfigErrors, KeySource, Plan, SourceOverride, load_plan};
use crate::error::{Error, ExitCode, Result};
use crate::fault;
use crate::ingest::{SourceIngest, ingest_all};
use crate::normalise::pseudonym::Pseudonymiser;
use crate::normalise::{empty_entity, normalise_source};
use crate::publish::Access;
use crate::publish::disclosure;
use crate::publish::manifest::{
    FileInfo, KeyInfo, Manifest, OutputInfo, PipelineInfo, ResolutionInfo, SourceInfo, StageTiming,
};
use crate::publish::partition::{write_dataset, write_dataset_with};
use crate::publish::pieces::PieceWriter;
use crate::publish::staging::{RunDir, remove_stale, write_atomic};
use crate::pull::InputFile;

mod datasets;
mod ed_pass;
pub mod lock;
pub mod state;

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
}

/// Loads and checks a pipeline without reading any data.
pub fn validate(pipeline: &Path, overrides: &[SourceOverride]) -> Result<Plan> {
    load_plan(pipeline, overrides).map_err(Error::Config)
}

/// Reads the pseudonymisation key named by the plan.
pub fn load_key(plan: &Plan) -> Result<(Pseudonymiser, &'static str)> {
    let config_error = |key: &str, message: String| {
        let mut e = ConfigErrors::default();
        e.push(&plan.file, key, message);
        Error::Config(e)
    };
    let Some(key) = &plan.key else {
        return Err(config_error(
            "pseudonymisation",
            "missing: name the key with key_env = \"JOINEDUP_PSEUDONYM_KEY\" or key_file = \"…\""
                .to_string(),
        ));
    };
    let (bytes, kind) = match key {
        KeySource::Env(var) => match std::env::var_os(var) {
            Some(v) if !v.is_empty() => (v.into_encoded_bytes(), "env"),
            _ => {
                return Err(config_error(
                    "pseudonymisation.key_env",
                    format!(
                        "environment variable {var} is not set; refusing to run without a pseudonymisation key"
                    ),
                ));
            }
        },
        KeySource::File(path) => match std::fs::read(path) {
            Ok(mut b) => {
                while b.last().is_some_and(|c| c.is_ascii_whitespace()) {
                    b.pop();
                }
                (b, "file")
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
    let pseudo = Pseudonymiser::new(&bytes).map_err(|m| config_error("pseudonymisation", m))?;
    Ok((pseudo, kind))
}

fn run_id(now: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "{}-{}",
        now.format("%Y%m%dT%H%M%S%.3fZ"),
        std::process::id()
    )
}

/// Stage timings: each lap logs a "stage finished" event and records it for the manifest.
pub(crate) struct Timer(pub(crate) Vec<StageTiming>, pub(crate) Instant);

impl Timer {
    pub(crate) fn lap(&mut self, stage: &str, rows_out: Option<u64>) {
        let now = Instant::now();
        let seconds = (now - self.1).as_secs_f64();
        let (rss_mb, peak_rss_mb) = crate::telemetry::resident_mb().unwrap_or_default();
        match rows_out {
            Some(rows) => {
                tracing::info!(
                    stage,
                    seconds,
                    rows_out = rows,
                    rss_mb,
                    peak_rss_mb,
                    "stage finished"
                )
            }
            None => tracing::info!(stage, seconds, rss_mb, peak_rss_mb, "stage finished"),
        }
        self.0.push(StageTiming {
            stage: stage.to_string(),
            seconds: (now - self.1).as_secs_f64(),
            rows_out,
        });
        self.1 = now;
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
    std::fs::create_dir_all(out).map_err(|e| Error::io("creating", out, e))?;
    let _lock = lock::acquire(out)?;
    crate::pull::fetch_all(&plan, out)
}

/// Lists and fingerprints the input files of every ingested source. Every file is read
/// to hash it, on every run (that is how unchanged files are recognised), so the files
/// are hashed on one thread per core, largest first.
pub fn list_inputs(plan: &Plan, out: &Path) -> Result<Vec<(String, Vec<InputFile>)>> {
    let mut listed = Vec::new();
    for s in &plan.sources {
        let path = if s.landed {
            out.join(&s.path)
        } else {
            s.path.clone()
        };
        listed.push((s, crate::pull::list_paths(&s.name, &path, &s.pattern)?));
    }
    let jobs: Vec<(&str, &Path)> = listed
        .iter()
        .flat_map(|(s, paths)| paths.iter().map(|p| (s.name.as_str(), p.as_path())))
        .collect();
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&j| std::cmp::Reverse(size(jobs[j].1)));
    let mut hashed =
        crate::parallel::map_in_order(&jobs, &order, crate::parallel::cores(), |(source, p)| {
            crate::pull::fingerprint_input(source, p)
        })
        .into_iter();
    let mut inputs = Vec::new();
    for (s, paths) in &listed {
        let files = hashed
            .by_ref()
            .take(paths.len())
            .collect::<Result<Vec<_>>>()?;
        tracing::info!(stage = "pull", source = %s.name, files = files.len(), "inputs found");
        inputs.push((s.name.clone(), files));
    }
    Ok(inputs)
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
        finished_at: now_rfc3339(),
        pseudonymisation: None,
        sources: Vec::new(),
        social_care_resolution: None,
        publications: Vec::new(),
        stages: timer.0.clone(),
        outputs: Vec::new(),
        warnings: Vec::new(),
        data_quality: Vec::new(),
    }
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
        ("polars".to_string(), "0.55.2".to_string()),
    ])
}

/// Takes the data directory for a run: creates it, takes its lock, removes what a killed
/// run left, and fetches the fetched sources. A dry run only reads, so it does none of
/// this and holds no lock.
pub(crate) fn open_data_dir(plan: &Plan, opts: &RunOptions) -> Result<Option<lock::DataDirLock>> {
    if opts.dry_run {
        return Ok(None);
    }
    std::fs::create_dir_all(&opts.out).map_err(|e| Error::io("creating", &opts.out, e))?;
    let lock = lock::acquire(&opts.out)?;
    fault::point("run_after_lock");
    remove_stale(&opts.out);
    let pulled = crate::pull::fetch_all(plan, &opts.out)?;
    if let Some(e) = crate::pull::failures_error(&pulled) {
        return Err(e);
    }
    Ok(Some(lock))
}

/// The state the listed inputs would leave, what changed since the pipeline's saved
/// state (everything under `--full-refresh`), and whether every output folder exists.
pub(crate) fn compare_with_state(
    plan: &Plan,
    opts: &RunOptions,
    fingerprint: &str,
    id: &str,
    inputs: &[(String, Vec<InputFile>)],
) -> (state::State, state::Changes, bool) {
    let previous = state::load(&opts.out, &plan.name);
    let now_state = state::current(fingerprint, id, inputs);
    let mut changes = state::changes(previous.as_ref(), &now_state);
    if opts.full_refresh {
        changes.configuration_changed = true;
    }
    let outputs_present = plan.outputs.iter().all(|o| {
        opts.out
            .join(o.dataset.access().folder())
            .join(o.dataset.name())
            .is_dir()
    });
    (now_state, changes, outputs_present)
}

/// The rows of one dataset to write: a whole frame, or pieces already split by month.
enum Rows {
    Frame(DataFrame),
    Pieces(PieceWriter),
}

/// Rows of the A&E attendances read, summarised and split by month at a time: small enough
/// that one piece is a small part of the run's memory, large enough that reading it is
/// efficient (whole Parquet row groups) and per-piece work is negligible.
pub const ROWS_PER_PIECE: usize = 500_000;

/// [`ROWS_PER_PIECE`], or `JOINEDUP_PIECE_ROWS` when set (to tune for a machine, and so
/// tests can split small data into many pieces).
fn rows_per_piece() -> usize {
    std::env::var("JOINEDUP_PIECE_ROWS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(ROWS_PER_PIECE)
}

/// Runs a pipeline: everything when something changed, nothing when nothing did.
pub fn run(opts: &RunOptions) -> Result<RunReport> {
    let started = chrono::Utc::now();
    let id = run_id(started);
    let span = tracing::info_span!("run", run_id = %id);
    let _entered = span.enter();
    let mut timer = Timer(Vec::new(), Instant::now());
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
    let (pseudo, key_kind) = load_key(&plan)?;
    let mut warnings = Vec::new();
    if key_kind == "demo" {
        warnings.push(
            "the DEMO pseudonymisation key was used: outputs are for synthetic data only"
                .to_string(),
        );
    }
    let fingerprint = state::fingerprint(&plan, &pseudo.provenance())?;
    timer.lap("config", None);

    let _lock = open_data_dir(&plan, opts)?;
    let inputs = list_inputs(&plan, &opts.out)?;
    let (now_state, changes, outputs_present) =
        compare_with_state(&plan, opts, &fingerprint, &id, &inputs);
    timer.lap("pull", None);
    fault::point("run_after_pull");

    let base_manifest =
        |mode: &str, timer: &Timer, warnings: Vec<String>, changes: &state::Changes| Manifest {
            pseudonymisation: Some(KeyInfo {
                key_source: key_kind.to_string(),
                scheme: crate::normalise::pseudonym::SCHEME.to_string(),
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
        });
    }
    if changes.is_empty() && outputs_present {
        tracing::info!(
            stage = "pull",
            unchanged_files = changes.unchanged,
            "inputs unchanged since the last run; nothing to do"
        );
        let manifest = base_manifest("up_to_date", &timer, warnings, &changes);
        let path = write_manifest(&opts.out, &id, &manifest)?;
        // Nothing was published, so the report would be the same; but one that is missing
        // (deleted, or its writing failed after the last run published) is written now.
        let report = if plan.report && !opts.out.join(crate::report::REPORT_PATH).is_file() {
            write_report(&opts.out)?
        } else {
            None
        };
        return Ok(RunReport {
            manifest,
            manifest_path: Some(path),
            exit: ExitCode::Ok,
            report,
        });
    }
    let cache = opts.out.join(".cache").join("ingest");
    if changes.configuration_changed && cache.exists() {
        tracing::info!("configuration, key or version changed: rebuilding from every input");
        std::fs::remove_dir_all(&cache).map_err(|e| Error::io("clearing", &cache, e))?;
    }
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
    timer.lap(
        "ingest",
        Some(ingested.iter().map(SourceIngest::accepted).sum()),
    );
    fault::point("run_after_ingest");

    // Normalise: map every staged file of each entity's sources (in order: they stack to
    // the entity), and number its persons, reading one file's pseudonyms at a time
    // (frames carry the number, not the pseudonym).
    let mut entities: BTreeMap<String, Vec<LazyFrame>> = BTreeMap::new();
    for (name, entity) in &plan.entities {
        let mut parts = Vec::new();
        for (s, r) in plan.sources.iter().zip(&ingested) {
            if &s.mapping.target == name {
                for file in r.files.iter().flat_map(|f| &f.staged) {
                    parts.push(normalise_source(s, entity, std::slice::from_ref(file))?);
                }
            }
        }
        if parts.is_empty() {
            parts.push(empty_entity(entity));
        }
        entities.insert(name.clone(), parts);
    }
    let mut entity = |n: &str| -> Result<Vec<LazyFrame>> {
        entities
            .remove(n)
            .ok_or_else(|| Error::Internal(format!("entity {n} missing from the plan")))
    };
    let (spells, ed, care) = (
        entity("hospital_spell")?,
        entity("ed_attendance")?,
        entity("social_care_event")?,
    );
    let (persons, rows) = datasets::number_persons(vec![spells, ed, care])?;
    let [spells, ed, care]: [datasets::EntityRows; 3] = rows
        .try_into()
        .map_err(|_| Error::Internal("rows of three entities".into()))?;
    let restore = |df: DataFrame| persons.restore(df);

    // Disclosure-control (published datasets) and write one dataset into staging.
    let mut staged: Vec<(usize, OutputInfo, String)> = Vec::new();
    let mut measured = 0;
    let mut stage = |index: usize, rows: Rows, began: Instant, computed: f64| -> Result<()> {
        let o = &plan.outputs[index];
        let access = o.dataset.access();
        let rel = format!("{}/{}", access.folder(), o.dataset.name());
        let lookback = if changes.configuration_changed {
            None
        } else {
            plan.lookback_months
        };
        let (staged_dir, current_dir) = (run.staged(&rel), opts.out.join(&rel));
        let (partitions, suppressed) = match (rows, access) {
            (Rows::Frame(df), access) => {
                measured += df.height() as u64;
                let (df, suppressed) = match access {
                    Access::Published => disclosure::apply(df, &o.dataset.gate(), o.disclosure)
                        .map_err(|e| {
                            Error::engine(format!("disclosure control on {}", o.dataset.name()), e)
                        })?,
                    Access::Restricted => (df, Default::default()),
                };
                let month = Some(o.dataset.month_column());
                let partitions =
                    write_dataset_with(df, month, &staged_dir, &current_dir, lookback, &restore)?;
                (partitions, suppressed)
            }
            (Rows::Pieces(writer), Access::Restricted) => {
                measured += writer.rows();
                let partitions = writer.finish(&staged_dir, &current_dir, lookback, &restore)?;
                (partitions, Default::default())
            }
            (Rows::Pieces(_), Access::Published) => {
                return Err(Error::Internal(format!(
                    "{rel} is published, so it is disclosure-controlled whole, not in pieces"
                )));
            }
        };
        for p in partitions.iter().filter(|p| p.closed_changed) {
            warnings.push(format!(
                "{rel}/{}: late data for a closed month was not published (outside lookback_months); run with --full-refresh to include it",
                p.file
            ));
        }
        let total = began.elapsed().as_secs_f64();
        let info = OutputInfo::new(
            o.dataset.name(),
            access.folder(),
            &rel,
            partitions,
            suppressed,
            (access == Access::Published).then(|| o.disclosure.into()),
        )
        .with_timing(computed, total - computed);
        let (rss_mb, peak_rss_mb) = crate::telemetry::resident_mb().unwrap_or_default();
        tracing::debug!(
            dataset = o.dataset.name(),
            compute_seconds = computed,
            total_seconds = total,
            rss_mb,
            peak_rss_mb,
            "dataset staged"
        );
        fault::point(&format!("publish_staged_{}", rel.replace('/', "_")));
        staged.push((index, info, rel));
        Ok(())
    };

    // A&E attendances are written as normalised (nothing in them depends on linkage) and
    // summarised in the same pass: linkage and the measures keep only what they need of
    // them (`datasets::EdSummary`), so the largest entity is gone before linkage starts.
    // The summary needs the persons and admissions of the spells and the resolved
    // social-care events, so those are read first (of the spells, only those columns).
    crate::memory::release();
    let (care, resolution) = datasets::resolve_care(care)?;
    crate::memory::release();
    // The pass needs only each spell's person and admission; the spells themselves are
    // read after it, so they are not held while the attendances are.
    let mut pass = datasets::EdPass::new(
        &spells.collect_columns("reading spell admissions", &["admission_datetime"])?,
        &care,
        &plan.link,
    )?;
    {
        // Read and written in pieces (kept by month, compressed), so the attendances are
        // never held whole.
        let began = Instant::now();
        let output = plan
            .outputs
            .iter()
            .position(|o| o.dataset == crate::publish::Dataset::EdAttendance);
        let mut writer =
            output.map(|_| PieceWriter::new(crate::publish::Dataset::EdAttendance.month_column()));
        // The summary and the month split of a piece are independent: on two threads.
        ed.for_each_piece("reading A&E attendances", rows_per_piece(), |piece| {
            std::thread::scope(|scope| {
                let split = writer.as_mut().map(|w| scope.spawn(|| w.add(&piece)));
                pass.add(&piece)?;
                match split.map(|h| h.join()) {
                    Some(Ok(r)) => r,
                    Some(Err(_)) => Err(Error::Internal(
                        "splitting a piece of A&E attendances by month panicked".into(),
                    )),
                    None => Ok(()),
                }
            })
        })?;
        if let (Some(index), Some(writer)) = (output, writer) {
            stage(index, Rows::Pieces(writer), began, 0.0)?;
        }
    }
    // The attendances' lazy parts and person numbers are not needed again.
    drop(ed);
    let ed = pass.finish()?;
    crate::memory::release();
    let spells = spells.collect("reading hospital spells")?;
    crate::memory::release();
    let entities = datasets::Entities {
        spells,
        ed,
        care,
        resolution,
    };
    timer.lap("normalise", None);
    fault::point("run_after_normalise");

    // Link, then measure and write each remaining dataset into staging.
    let mut linked = datasets::link(entities, &plan.link)?;
    crate::memory::release();
    timer.lap("link", Some(linked.journey_rows as u64));
    fault::point("run_after_link");
    let after_link: Vec<(usize, crate::publish::Dataset)> = plan
        .outputs
        .iter()
        .enumerate()
        .filter(|(_, o)| o.dataset != crate::publish::Dataset::EdAttendance)
        .map(|(index, o)| (index, o.dataset))
        .collect();
    let kinds: Vec<crate::publish::Dataset> = after_link.iter().map(|(_, d)| *d).collect();
    let order = datasets::write_order(&kinds);
    for (n, &k) in order.iter().enumerate() {
        let (index, dataset) = after_link[k];
        let began = Instant::now();
        let df = datasets::dataset(dataset, &linked, &plan.link)?;
        let remaining: Vec<crate::publish::Dataset> =
            order[n + 1..].iter().map(|&k| kinds[k]).collect();
        linked.release_unneeded(&remaining);
        stage(index, Rows::Frame(df), began, began.elapsed().as_secs_f64())?;
        crate::memory::release();
    }
    // The manifest lists datasets in the pipeline's order, whatever order they were written.
    staged.sort_by_key(|(index, _, _)| *index);
    let (mut outputs, mut rels): (Vec<OutputInfo>, Vec<String>) =
        staged.into_iter().map(|(_, info, rel)| (info, rel)).unzip();
    timer.lap("measure", Some(measured));
    for r in &ingested {
        let rel = format!("quarantine/{}", r.name);
        let files: Vec<PathBuf> = r.files.iter().map(|f| f.quarantine.clone()).collect();
        let df = datasets::collect(
            crate::normalise::scan_stacked(&files)
                .map_err(|e| Error::engine("reading quarantine", e))?,
            "stacking quarantine",
        )?;
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
    fault::point("run_before_switch");
    run.commit(&rels)?;
    timer.lap("publish", Some(outputs.iter().map(|o| o.rows).sum()));
    fault::point("run_before_state");
    state::save(&opts.out, &plan.name, &now_state)?;
    fault::point("run_after_state");

    // Accounting and the exit code.
    let mut exit = ExitCode::Ok;
    let mut sources = Vec::new();
    for (s, r) in plan.sources.iter().zip(&ingested) {
        if r.rows_in() != r.accepted() + r.quarantined() {
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
            warnings.push(format!(
                "source {}: {:.1}% of rows quarantined, above the threshold of {:.1}%",
                s.name,
                fraction * 100.0,
                s.max_quarantine_fraction * 100.0
            ));
        }
        sources.push(SourceInfo {
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
                    extra_columns: f.extra_columns.clone(),
                    read_this_run: !f.cached,
                })
                .collect(),
            rows_in: r.rows_in(),
            accepted: r.accepted(),
            quarantined: r.quarantined(),
            quarantine_reasons: r.reasons(),
            max_quarantine_fraction: s.max_quarantine_fraction,
        });
    }
    let mode = if changes.configuration_changed {
        "full"
    } else {
        "incremental"
    };
    let mut manifest = base_manifest(mode, &timer, warnings, &changes);
    manifest.status = if exit == ExitCode::Ok {
        "ok"
    } else {
        "data_quality_warning"
    }
    .to_string();
    manifest.social_care_resolution = Some(ResolutionInfo {
        events_in: linked.resolution.events_in,
        superseded_by_later_submission: linked.resolution.superseded,
        person_key_backfilled: linked.resolution.person_key_backfilled,
        without_nhs_key: linked.resolution.without_nhs_key,
    });
    manifest.sources = sources;
    manifest.outputs = outputs;
    let manifest_path = write_manifest(&opts.out, &id, &manifest)?;
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
    })
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

pub(crate) fn write_manifest(out: &Path, id: &str, manifest: &Manifest) -> Result<PathBuf> {
    let path = out.join("runs").join(id).join("manifest.json");
    let json = serde_json::to_vec_pretty(manifest)
        .map_err(|e| Error::Internal(format!("manifest: {e}")))?;
    write_atomic(&path, &json)?;
    Ok(path)
}
