//! Orchestration: a checked plan → pull → ingest → normalise → link → measure → publish.
//!
//! This is the only place that knows the run order. Each stage lives in its own module
//! and is called once per source or dataset; counts and timings flow into the manifest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use polars::prelude::*;

use crate::config::{ConfigErrors, KeySource, Plan, SourceOverride, load_plan};
use crate::error::{Error, ExitCode, Result};
use crate::ingest::{SourceIngest, ingest_source};
use crate::normalise::pseudonym::Pseudonymiser;
use crate::normalise::{empty_entity, normalise_source};
use crate::publish::Access;
use crate::publish::disclosure;
use crate::publish::manifest::{
    FileInfo, KeyInfo, Manifest, OutputInfo, PipelineInfo, ResolutionInfo, SourceInfo, StageTiming,
};
use crate::publish::parquet::write_parquet;
use crate::publish::staging::{RunDir, write_atomic};

mod datasets;

/// What `joinedup run` was asked to do.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The pipeline file.
    pub pipeline: PathBuf,
    /// `--source NAME=PATH` overrides.
    pub overrides: Vec<SourceOverride>,
    /// The data directory.
    pub out: PathBuf,
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The manifest as written.
    pub manifest: Manifest,
    /// Where it was written.
    pub manifest_path: PathBuf,
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
    let (bytes, kind) = match &plan.key {
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

struct Timer(Vec<StageTiming>, Instant);

impl Timer {
    fn lap(&mut self, stage: &str, rows_out: Option<u64>) {
        let now = Instant::now();
        self.0.push(StageTiming {
            stage: stage.to_string(),
            seconds: (now - self.1).as_secs_f64(),
            rows_out,
        });
        self.1 = now;
    }
}

/// Runs a pipeline end to end.
pub fn run(opts: &RunOptions) -> Result<RunReport> {
    let started = chrono::Utc::now();
    let mut timer = Timer(Vec::new(), Instant::now());
    let plan = validate(&opts.pipeline, &opts.overrides)?;
    let (pseudo, key_kind) = load_key(&plan)?;
    let mut warnings = Vec::new();
    if key_kind == "demo" {
        warnings.push(
            "the DEMO pseudonymisation key was used: outputs are for synthetic data only"
                .to_string(),
        );
    }
    timer.lap("config", None);

    // Pull: find and fingerprint every input before reading any.
    let mut inputs = Vec::new();
    for s in &plan.sources {
        let files = crate::pull::list_inputs(&s.name, &s.path, &s.pattern)?;
        tracing::info!(stage = "pull", source = %s.name, files = files.len(), "inputs found");
        inputs.push(files);
    }
    timer.lap("pull", None);

    std::fs::create_dir_all(&opts.out).map_err(|e| Error::io("creating", &opts.out, e))?;
    let id = run_id(started);
    let run = RunDir::create(&opts.out, &id)?;

    // Ingest.
    let mut ingested: Vec<SourceIngest> = Vec::new();
    for (s, files) in plan.sources.iter().zip(&inputs) {
        let r = ingest_source(s, files, &pseudo, &run.ingest_dir())?;
        tracing::info!(
            stage = "ingest",
            source = %s.name,
            rows_in = r.rows_in(),
            accepted = r.accepted(),
            quarantined = r.quarantined(),
            "source ingested"
        );
        warnings.extend(r.warnings.iter().cloned());
        ingested.push(r);
    }
    timer.lap(
        "ingest",
        Some(ingested.iter().map(SourceIngest::accepted).sum()),
    );

    // Normalise: stack every source of each entity.
    let mut entities: BTreeMap<String, LazyFrame> = BTreeMap::new();
    for (name, entity) in &plan.entities {
        let frames: Vec<LazyFrame> = plan
            .sources
            .iter()
            .zip(&ingested)
            .filter(|(s, _)| &s.mapping.target == name)
            .map(|(s, r)| normalise_source(s, entity, &r.staged))
            .collect::<Result<_>>()?;
        let lf = if frames.is_empty() {
            empty_entity(entity)
        } else {
            concat(frames, UnionArgs::default())
                .map_err(|e| Error::engine(format!("stacking {name}"), e))?
        };
        entities.insert(name.clone(), lf);
    }
    let mut entity = |n: &str| -> Result<LazyFrame> {
        entities
            .remove(n)
            .ok_or_else(|| Error::Internal(format!("entity {n} missing from the plan")))
    };
    let entities = datasets::Entities {
        spells: entity("hospital_spell")?,
        ed: entity("ed_attendance")?,
        care: entity("social_care_event")?,
    };
    timer.lap("normalise", None);

    // Link, then measure and publish each dataset into staging.
    let linked = datasets::link(entities, &plan.link)?;
    timer.lap("link", Some(linked.journey.height() as u64));
    let mut outputs = Vec::new();
    let mut rels = Vec::new();
    let mut measured = 0;
    for o in &plan.outputs {
        let df = datasets::dataset(o.dataset, &linked, &plan.link)?;
        measured += df.height() as u64;
        let access = o.dataset.access();
        let (mut df, suppressed) = match access {
            Access::Published => {
                disclosure::apply(df, &o.dataset.gate(), o.disclosure).map_err(|e| {
                    Error::engine(format!("disclosure control on {}", o.dataset.name()), e)
                })?
            }
            Access::Restricted => (df, Default::default()),
        };
        let rel = format!("{}/{}", access.folder(), o.dataset.name());
        let bytes = write_parquet(&mut df, &run.staged(&rel).join("part-0.parquet"))?;
        outputs.push(OutputInfo {
            dataset: o.dataset.name().to_string(),
            access: access.folder().to_string(),
            path: format!("{rel}/part-0.parquet"),
            rows: df.height() as u64,
            bytes,
            suppressed_cells: suppressed.values().sum(),
            suppressed,
            disclosure: (access == Access::Published).then(|| o.disclosure.into()),
        });
        rels.push(rel);
    }
    timer.lap("measure", Some(measured));
    for r in &ingested {
        let rel = format!("quarantine/{}", r.name);
        let mut df = r
            .quarantine
            .to_frame(&r.name)
            .map_err(|e| Error::engine("building quarantine", e))?;
        let bytes = write_parquet(&mut df, &run.staged(&rel).join("part-0.parquet"))?;
        outputs.push(OutputInfo {
            dataset: r.name.clone(),
            access: "quarantine".to_string(),
            path: format!("{rel}/part-0.parquet"),
            rows: df.height() as u64,
            bytes,
            suppressed_cells: 0,
            suppressed: Default::default(),
            disclosure: None,
        });
        rels.push(rel);
    }
    run.commit(&rels)?;
    timer.lap("publish", Some(outputs.iter().map(|o| o.rows).sum()));

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
                    encoding: f.encoding.to_string(),
                    rows_in: f.rows_in,
                    accepted: f.accepted,
                    quarantined: f.quarantined,
                    extra_columns: f.extra_columns.clone(),
                })
                .collect(),
            rows_in: r.rows_in(),
            accepted: r.accepted(),
            quarantined: r.quarantined(),
            quarantine_reasons: r
                .quarantine
                .counts()
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            max_quarantine_fraction: s.max_quarantine_fraction,
        });
    }
    let manifest = Manifest {
        run_id: id.clone(),
        status: if exit == ExitCode::Ok {
            "ok"
        } else {
            "data_quality_warning"
        }
        .to_string(),
        pipeline: PipelineInfo {
            name: plan.name.clone(),
            file: plan.file.display().to_string(),
            icb_code: plan.icb_code.clone(),
        },
        versions: BTreeMap::from([
            (
                "joinedup".to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            ),
            ("polars".to_string(), "0.55.2".to_string()),
        ]),
        started_at: started.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        finished_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        social_care_resolution: ResolutionInfo {
            events_in: linked.resolution.events_in,
            superseded_by_later_submission: linked.resolution.superseded,
            person_key_backfilled: linked.resolution.person_key_backfilled,
            without_nhs_key: linked.resolution.without_nhs_key,
        },
        pseudonymisation: KeyInfo {
            key_source: key_kind.to_string(),
            fingerprint: pseudo.fingerprint().to_string(),
        },
        sources,
        stages: timer.0,
        outputs,
        warnings,
    };
    let manifest_path = opts.out.join("runs").join(&id).join("manifest.json");
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| Error::Internal(format!("manifest: {e}")))?;
    write_atomic(&manifest_path, &json)?;
    // The report reads back only what was just published and the manifest. The data is
    // committed by now, so a failure here is joinedup's fault, not the inputs'.
    let report = if plan.report {
        let path =
            crate::report::write(&opts.out, &crate::report::Options::default()).map_err(|e| {
                Error::Internal(format!(
                    "the datasets were published, but writing the report failed: {e}"
                ))
            })?;
        Some(path)
    } else {
        None
    };
    Ok(RunReport {
        manifest,
        manifest_path,
        exit,
        report,
    })
}
