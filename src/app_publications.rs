//! Running a pipeline of NHS England publications (`kind = "nhse_sitrep"`, `"nhse_ae"`).
//!
//! No person-level data, so no pseudonymisation key, no linkage and no disclosure
//! rounding: each file is read by rule, the periods it holds are merged into what earlier
//! runs published (a revised workbook replaces its period; which of two files holds a
//! period is the rule of `revisions.rs`), and the datasets are written
//! by the same operational rules as a person-level run: the data directory's lock,
//! staging left by a killed run removed, nothing done when no input changed since the
//! last run ([`crate::app::state`]), one `<YYYY-MM>.parquet` per month of each dataset's
//! month column ([`write_dataset`], which keeps unchanged months as they were), each
//! dataset folder switched into place atomically ([`RunDir::commit`]), and the state
//! written last.
//!
//! A file that cannot be understood does not stop the run: the others are loaded and
//! published, the manifest names the sheet and cell where recognition stopped, and the
//! run exits with code 3.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::app::state;
use crate::app::{RunOptions, RunReport, Timer, write_manifest};
use crate::config::{Plan, PublicationSourcePlan};
use crate::error::{Error, ExitCode, Result};
use crate::fault;
use crate::ingest::nhse::ae::AeFile;
use crate::ingest::nhse::frames::{self, ExistingPeriod, PeriodKey};
use crate::ingest::nhse::sitrep::SitrepWorkbook;
use crate::ingest::nhse::{PublicationKind, ae, sitrep};
use crate::publish::Dataset;
use crate::publish::manifest::{
    DataQualityResult, OutputInfo, PeriodInfo, PublicationFileInfo, PublicationInfo, RunError,
};
use crate::publish::partition::write_dataset;
use crate::publish::staging::RunDir;
use crate::pull::InputFile;

/// What one file became.
enum Loaded {
    Sitrep(Box<SitrepWorkbook>),
    Ae(AeFile),
    Failed(String),
}

/// One input file and what became of it.
struct Input {
    source: usize,
    info: PublicationFileInfo,
    name: String,
    loaded: Loaded,
}

mod revisions;

use revisions::{AgainstPublished, Claim, says_revised};

/// A period offered by one loaded file.
struct Offer {
    key: PeriodKey,
    input: usize,
    stamp: Option<NaiveDate>,
    /// The file's name says it is a revision (A&E files carry no revision date).
    revised: bool,
}

impl Offer {
    fn claim<'a>(&self, inputs: &'a [Input]) -> Claim<'a> {
        Claim {
            file: &inputs[self.input].name,
            stamp: self.stamp,
            revised: self.revised,
        }
    }
}

/// "acute 2023-06", "A&E 2016-04": a period in words.
fn period_words(key: &PeriodKey) -> String {
    format!(
        "{} {}",
        key.0.as_deref().unwrap_or("A&E"),
        key.1.format("%Y-%m")
    )
}

/// Lists and fingerprints the files of every publication source; the sources
/// unavailable are one error naming each ([`Error::unavailable`]).
pub fn list_inputs(plan: &Plan) -> Result<Vec<(String, Vec<InputFile>)>> {
    let mut listed = Vec::new();
    let mut unavailable = Error::gather_unavailable();
    for s in &plan.publications {
        let files = crate::pull::list_inputs(&s.name, &s.path, &s.pattern);
        if let Some(files) = unavailable.keep(files)? {
            tracing::info!(stage = "pull", source = %s.name, files = files.len(), "inputs found");
            listed.push((s.name.clone(), files));
        }
    }
    unavailable.check()?;
    Ok(listed)
}

/// Runs a publications-only pipeline (called by [`crate::app::run`], which has checked
/// the plan and started the run's span and timer).
pub(crate) fn run_publications(
    plan: &Plan,
    opts: &RunOptions,
    id: &str,
    started: chrono::DateTime<chrono::Utc>,
    mut timer: Timer,
) -> Result<RunReport> {
    // No key: the state's fingerprint covers configuration, label mappings and build.
    let configuration = state::configuration(plan, None)?;
    timer.lap("config", None);

    // Publications are read from local folders: nothing is pulled, so no pull warnings.
    let (_lock, _) = crate::app::open_data_dir(plan, opts)?;
    let listed = list_inputs(plan)?;
    let (now_state, changes, outputs_present) =
        crate::app::compare_with_state(plan, opts, &configuration, id, &listed);
    timer.lap("pull", None);
    fault::point("run_after_pull");

    let base_manifest = |mode: &str, timer: &Timer, changes: &state::Changes| {
        crate::app::manifest_skeleton(plan, id, started, mode, timer, changes)
    };
    if opts.dry_run {
        let mode = if changes.is_empty() && outputs_present {
            "dry_run_up_to_date"
        } else {
            "dry_run_would_build"
        };
        return Ok(RunReport {
            manifest: base_manifest(mode, &timer, &changes),
            manifest_path: None,
            exit: ExitCode::Ok,
            report: None,
            dry_run_notes: Vec::new(),
        });
    }
    if changes.is_empty() && outputs_present {
        tracing::info!(
            stage = "pull",
            unchanged_files = changes.unchanged,
            "inputs unchanged since the last run; nothing to do"
        );
        let mut manifest = base_manifest("up_to_date", &timer, &changes);
        let path = write_manifest(&opts.out, id, &mut manifest)?;
        return Ok(RunReport {
            manifest,
            manifest_path: Some(path),
            exit: ExitCode::Ok,
            report: None,
            dry_run_notes: Vec::new(),
        });
    }
    if let Some(why) = changes.rebuild_reason() {
        tracing::info!("rebuilding from every input ({why})");
    }
    let run = RunDir::create(&opts.out, id)?;

    // Ingest: each file whole or not at all.
    let mut inputs = Vec::new();
    for (si, (s, (_, files))) in plan.publications.iter().zip(&listed).enumerate() {
        for f in files {
            // The name the data, the periods and the checks carry: without an NHS-number
            // shape (a file named after its patient).
            let name = crate::ingest::quarantine::mask_file_name(
                f.path.file_name().and_then(|n| n.to_str()).unwrap_or("?"),
            );
            let loaded = load(s, &f.path, &name);
            // Loaded under the hash taken before: only the file hashed (a workbook
            // replaced in between was kept under the old hash, and the next run found
            // nothing changed).
            if let Some(why) = f.changed_since_hashed() {
                return Err(Error::SourceUnavailable {
                    source_name: s.name.clone(),
                    message: format!(
                        "{} {why}: nothing read from it is kept; run again once it is complete",
                        crate::ingest::quarantine::shown_path(&f.path)
                    ),
                });
            }
            let mut info = PublicationFileInfo {
                path: f.path.display().to_string(),
                sha256: f.sha256.clone(),
                bytes: f.bytes,
                status: "loaded".to_string(),
                layout: None,
                period_start: None,
                period_end: None,
                published_on: None,
                revised_on: None,
                rows: BTreeMap::new(),
                error: None,
            };
            match &loaded {
                Loaded::Sitrep(wb) => {
                    info.layout = Some(wb.setting.name().to_string());
                    info.period_start = Some(wb.period.0.to_string());
                    info.period_end = Some(wb.period.1.to_string());
                    info.published_on = wb.published_on.map(|d| d.to_string());
                    info.revised_on = wb.revised_on.map(|d| d.to_string());
                    for (d, n) in [
                        (Dataset::SitrepDaily, wb.daily.len()),
                        (Dataset::SitrepBedDays, wb.bed_days.len()),
                        (Dataset::SitrepDestinations, wb.destinations.len()),
                        (Dataset::SitrepDelayReasons, wb.reasons.len()),
                    ] {
                        info.rows.insert(d.name().to_string(), n as u64);
                    }
                    tracing::info!(stage = "ingest", source = %s.name, file = %name, setting = wb.setting.name(), month = %wb.report_month, "workbook loaded");
                }
                Loaded::Ae(a) => {
                    info.layout = Some(a.layout.name().to_string());
                    info.period_start = a.months.first().map(|d| d.to_string());
                    info.period_end = a
                        .months
                        .last()
                        .map(|d| crate::ingest::nhse::period::month_end(*d).to_string());
                    info.rows
                        .insert(Dataset::AeMonthly.name().to_string(), a.rows.len() as u64);
                    tracing::info!(stage = "ingest", source = %s.name, file = %name, layout = a.layout.name(), rows = a.rows.len(), "A&E file loaded");
                }
                Loaded::Failed(e) => {
                    info.status = "failed".to_string();
                    info.error = Some(e.clone());
                    tracing::error!(stage = "ingest", source = %s.name, file = %f.path.display(), "file not loaded: {e}");
                }
            }
            inputs.push(Input {
                source: si,
                info,
                name,
                loaded,
            });
        }
    }
    timer.lap(
        "ingest",
        Some(
            inputs
                .iter()
                .map(|i| i.info.rows.values().sum::<u64>())
                .sum(),
        ),
    );
    fault::point("run_after_ingest");

    // Periods: the latest revision of each wins, in this run or already published.
    let written: Vec<Dataset> = plan.outputs.iter().map(|o| o.dataset).collect();
    let mut existing: BTreeMap<Dataset, polars::prelude::DataFrame> = BTreeMap::new();
    for d in &written {
        // The published folder: one file per month (or, from before month partitions,
        // one `part-0.parquet`); all of them together are the dataset.
        let dir = opts.out.join(d.access().folder()).join(d.name());
        if let Some(df) = frames::read_existing(&dir)
            .map_err(|e| Error::engine(format!("reading the published {}", d.name()), e))?
        {
            existing.insert(*d, df);
        }
    }
    let mut offers = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        match &input.loaded {
            Loaded::Sitrep(wb) => offers.push(Offer {
                key: (Some(wb.setting.name().to_string()), wb.report_month),
                input: i,
                stamp: wb.revised_on.or(wb.published_on),
                revised: says_revised(&input.name),
            }),
            Loaded::Ae(a) => offers.extend(a.months.iter().map(|m| Offer {
                key: (None, *m),
                input: i,
                stamp: None,
                revised: says_revised(&input.name),
            })),
            Loaded::Failed(_) => {}
        }
    }
    // Which file of this run holds each period (`revisions`: dates when known, else the
    // name saying "revised", else the later file in name order).
    let mut offered: BTreeMap<PeriodKey, Vec<&Offer>> = BTreeMap::new();
    for o in &offers {
        offered.entry(o.key.clone()).or_default().push(o);
    }
    let mut warnings = crate::app::unclaimed_warnings(&opts.out, plan);
    warnings.extend(crate::app::state_warning(opts, &changes));
    let mut winners: BTreeMap<PeriodKey, &Offer> = BTreeMap::new();
    for (key, group) in &offered {
        let claims: Vec<Claim> = group.iter().map(|o| o.claim(&inputs)).collect();
        let w = revisions::choose(&claims);
        for l in (0..group.len()).filter(|&l| l != w) {
            warnings.push(format!(
                "{}: {} is also in {}, which was used: {}",
                claims[l].file,
                period_words(key),
                claims[w].file,
                revisions::in_run_reason(&claims, w, l, key.0.is_none())
            ));
        }
        winners.insert(key.clone(), group[w]);
    }
    let mut previous: BTreeMap<PeriodKey, ExistingPeriod> = BTreeMap::new();
    for (d, df) in &existing {
        for p in frames::existing_periods(df, *d)
            .map_err(|e| Error::engine(format!("reading the published {}", d.name()), e))?
        {
            previous.entry(p.key.clone()).or_insert(p);
        }
    }
    let mut periods: Vec<Vec<PeriodInfo>> = vec![Vec::new(); plan.publications.len()];
    let mut accepted: BTreeMap<PeriodKey, usize> = BTreeMap::new();
    for (key, w) in &winners {
        let input = &inputs[w.input];
        let (action, other) = match previous.get(key) {
            None => ("added", None),
            Some(p) => {
                let published = Claim {
                    file: &p.file,
                    stamp: p.stamp,
                    revised: says_revised(&p.file),
                };
                let action = match revisions::against_published(
                    &published,
                    &w.claim(&inputs),
                    key.0.is_none(),
                ) {
                    AgainstPublished::Keep(why) => {
                        warnings.push(format!(
                            "{}: {} is already published from {}, which was kept: {why}",
                            input.name,
                            period_words(key),
                            p.file
                        ));
                        "kept_existing"
                    }
                    AgainstPublished::Replace(why) => {
                        if let Some(why) = why {
                            warnings.push(format!(
                                "{}: {} replaces {}, published by an earlier run: {why}",
                                input.name,
                                period_words(key),
                                p.file
                            ));
                        }
                        "replaced"
                    }
                };
                (action, Some(p.file.clone()))
            }
        };
        if action != "kept_existing" {
            accepted.insert(key.clone(), w.input);
        }
        periods[input.source].push(PeriodInfo {
            setting: key.0.clone(),
            month: key.1.to_string(),
            action: action.to_string(),
            file: input.name.clone(),
            other_file: other,
        });
    }
    for (i, input) in inputs.iter_mut().enumerate() {
        let offered = offers.iter().filter(|o| o.input == i).count();
        let won = accepted.values().filter(|&&w| w == i).count();
        if input.info.status == "loaded" && offered > 0 && won == 0 {
            input.info.status = "superseded".to_string();
        }
    }

    // Publish: merge with the existing datasets, write into staging, switch into place.
    let replaced: Vec<PeriodKey> = accepted.keys().cloned().collect();
    let mut outputs = Vec::new();
    let mut rels = Vec::new();
    let accepted = &accepted;
    for d in &written {
        let new = match d {
            Dataset::AeMonthly => {
                let rows: Vec<_> = inputs
                    .iter()
                    .enumerate()
                    .filter_map(|(i, input)| match &input.loaded {
                        Loaded::Ae(a) => Some((i, input, a)),
                        _ => None,
                    })
                    .flat_map(|(i, input, a)| {
                        a.rows
                            .iter()
                            .filter(move |r| accepted.get(&(None, r.month)) == Some(&i))
                            .map(move |r| (r, input.name.clone(), a.layout.name()))
                    })
                    .collect();
                frames::ae_frame(&rows)
            }
            _ => {
                let wbs: Vec<(&SitrepWorkbook, String)> = inputs
                    .iter()
                    .enumerate()
                    .filter_map(|(i, input)| match &input.loaded {
                        Loaded::Sitrep(wb)
                            if accepted
                                .get(&(Some(wb.setting.name().to_string()), wb.report_month))
                                == Some(&i) =>
                        {
                            Some((wb.as_ref(), input.name.clone()))
                        }
                        _ => None,
                    })
                    .collect();
                frames::sitrep_frame(*d, &wbs)
            }
        }
        .map_err(|e| Error::engine(format!("building {}", d.name()), e))?;
        // A period is replaced in a dataset only when the winning file has rows for it
        // there: a revised workbook whose Table 3 was not recognised (reported as
        // `table_not_found`) leaves the Table 3 already published for its month, instead
        // of erasing it. (Sitrep periods carry a setting; A&E periods do not.)
        let provided: std::collections::BTreeSet<PeriodKey> = frames::existing_periods(&new, *d)
            .map_err(|e| Error::engine(format!("reading the periods of {}", d.name()), e))?
            .into_iter()
            .map(|p| p.key)
            .collect();
        let drop: Vec<PeriodKey> = replaced
            .iter()
            .filter(|k| k.0.is_some() == (*d != Dataset::AeMonthly) && provided.contains(*k))
            .cloned()
            .collect();
        let df = frames::merge(*d, existing.remove(d), new, &drop)
            .map_err(|e| {
                Error::engine(
                    format!(
                        "merging {} with the dataset already published in {} (remove it if it was written by another version)",
                        d.name(),
                        opts.out.display()
                    ),
                    e,
                )
            })?;
        let rel = format!("{}/{}", d.access().folder(), d.name());
        // Months this run did not touch serialise to the bytes already published, so
        // write_dataset keeps their files (hard links); only changed months are written.
        // No look-back: a revised workbook for an old period is an explicit correction.
        let partitions = write_dataset(
            df,
            Some(d.month_column()),
            &run.staged(&rel),
            &opts.out.join(&rel),
            None,
        )?;
        outputs.push(OutputInfo::new(
            d.name(),
            d.access().folder(),
            &rel,
            partitions,
            Default::default(),
            plan.outputs
                .iter()
                .find(|o| o.dataset == *d && d.access() == crate::publish::Access::Published)
                .map(|o| o.disclosure.into()),
        ));
        fault::point(&format!("publish_staged_{}", rel.replace('/', "_")));
        rels.push(rel);
    }
    let failed = inputs
        .iter()
        .filter(|i| matches!(i.loaded, Loaded::Failed(_)))
        .count();
    let mut data_quality: Vec<DataQualityResult> = Vec::new();
    for input in &inputs {
        match &input.loaded {
            Loaded::Sitrep(wb) => data_quality.extend(wb.quality.iter().cloned()),
            Loaded::Ae(a) => data_quality.extend(a.quality.iter().cloned()),
            Loaded::Failed(_) => {}
        }
    }
    let publications = plan
        .publications
        .iter()
        .enumerate()
        .map(|(si, s)| PublicationInfo {
            name: s.name.clone(),
            kind: s.kind.name().to_string(),
            files: inputs
                .iter()
                .filter(|i| i.source == si)
                .map(|i| i.info.clone())
                .collect(),
            periods: std::mem::take(&mut periods[si]),
        })
        .collect();
    if failed > 0 {
        warnings.push(format!(
            "{failed} file(s) could not be loaded; the others were published (see publications[].files[].error)"
        ));
    }
    let exit = if failed > 0 {
        ExitCode::InputRejected
    } else {
        ExitCode::Ok
    };
    let mode = if changes.rebuild_all() {
        "full"
    } else {
        "incremental"
    };
    let mut manifest = base_manifest(mode, &timer, &changes);
    manifest.status = crate::app::PUBLISHING.to_string();
    // The exit code and why, as a failed run's manifest gives them, so `status` shows them.
    manifest.error = failures(&inputs, exit);
    manifest.publications = publications;
    manifest.outputs = outputs;
    manifest.warnings = warnings;
    manifest.data_quality = data_quality;
    // Switched into place with the run's record before and after, as a person-level run.
    let manifest_path = crate::app::switch_and_record(
        &opts.out,
        id,
        run,
        &rels,
        &mut manifest,
        &mut timer,
        if failed > 0 { "files_failed" } else { "ok" },
    )?;
    // The state is written last, after the manifest that describes what it says is done,
    // and only when every file was loaded: a run with a failed file is redone (and
    // reported again) by the next run.
    if failed == 0 {
        fault::point("run_before_state");
        crate::interrupt::finish(|| state::save(&opts.out, &plan.name, &now_state))?;
        fault::point("run_after_state");
    }
    Ok(RunReport {
        manifest,
        manifest_path: Some(manifest_path),
        exit,
        report: None,
        dry_run_notes: Vec::new(),
    })
}

/// The run's error when files could not be loaded: how many, which (paths without an
/// NHS-number shape), and the first one's error; `None` when every file loaded.
fn failures(inputs: &[Input], exit: ExitCode) -> Option<RunError> {
    let failed: Vec<(String, &str)> = inputs
        .iter()
        .filter_map(|i| match &i.loaded {
            Loaded::Failed(e) => Some((
                crate::ingest::quarantine::mask_file_name(&i.info.path),
                e.as_str(),
            )),
            _ => None,
        })
        .collect();
    let (first, error) = failed.first()?;
    let message = if failed.len() == 1 {
        format!("1 file could not be loaded (the others were published): {first}: {error}")
    } else {
        format!(
            "{} files could not be loaded (the others were published): {}; the first, {first}: {error}",
            failed.len(),
            failed
                .iter()
                .map(|(p, _)| p.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    Some(RunError {
        exit_code: exit as u8,
        message,
    })
}

fn load(source: &PublicationSourcePlan, path: &std::path::Path, name: &str) -> Loaded {
    match source.kind {
        PublicationKind::Sitrep => match sitrep::load(path, name, &source.labels) {
            Ok(wb) => Loaded::Sitrep(Box::new(wb)),
            Err(e) => Loaded::Failed(e.to_string()),
        },
        PublicationKind::Ae => match ae::load(path, name, &source.labels) {
            Ok(a) => Loaded::Ae(a),
            Err(e) => Loaded::Failed(e.to_string()),
        },
    }
}
