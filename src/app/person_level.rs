//! Normalise, link and measure: from the staged rows of every source to each person-level
//! run's dataset in the run folder.
//!
//! Order: map every staged file onto its entity and number the persons; resolve the
//! social-care events; one pass over the A&E attendances (written by month and summarised
//! for linkage); read the spells; link journeys; then each remaining dataset, widest
//! reader first, so frames are released after their last reader. Every dataset is handed
//! to the writer ([`super::stager`]) as soon as its rows exist, and written while the run
//! goes on.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use polars::prelude::*;

use super::Timer;
use super::datasets::{self, EntityParts};
use super::stager::{Job, Rows, Staged, Stager, Writer, start_writer};
use crate::config::Plan;
use crate::error::{Error, Result};
use crate::fault;
use crate::ingest::SourceIngest;
use crate::ingest::quarantine::mask_file_name;
use crate::link::social_care::Resolution;
use crate::normalise::repeated::{RepeatedRecords, Repeats};
use crate::normalise::{empty_entity, normalise_source};
use crate::publish::Dataset;
use crate::publish::pieces::PieceWriter;
use crate::publish::staging::RunDir;

/// What the person-level datasets gave.
pub(crate) struct Built {
    /// Every dataset staged.
    pub staged: Staged,
    /// What the CLD rules did to the social-care events.
    pub resolution: Resolution,
    /// Records repeated across or within input files, per pair of files.
    pub repeats: Vec<Repeats>,
}

/// Datasets handed to the writer before linkage, from frames linkage reads too.
const BEFORE_LINKAGE: [Dataset; 3] = [
    Dataset::SocialCareEvent,
    Dataset::EdAttendance,
    Dataset::HospitalSpell,
];

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

/// Builds and stages every person-level dataset of `plan` from what ingest staged.
/// `lookback_months` is `None` when every month is rebuilt.
pub(crate) fn build(
    plan: &Plan,
    ingested: &[SourceIngest],
    run: &RunDir,
    out: &Path,
    lookback_months: Option<u32>,
    timer: &mut Timer,
) -> Result<Built> {
    // Map every staged file of each entity's sources (in order: they stack to the entity),
    // and number its persons, reading one file's pseudonyms at a time (frames carry the
    // number, not the pseudonym).
    let mut entities: BTreeMap<String, EntityParts> = BTreeMap::new();
    for (name, entity) in &plan.entities {
        let mut parts = EntityParts {
            frames: Vec::new(),
            files: Vec::new(),
            repeated: RepeatedRecords::new(entity),
        };
        // A name that is not UTF-8 with its other bytes as `%XX`, as it is shown.
        let file_name = |f: &crate::ingest::FileIngest| {
            crate::ingest::quarantine::file_name_text(&f.input.path)
        };
        // Social-care events: each file's place in submission order by its own name (the
        // name shown in `source_file` withholds NHS-number shapes, which can reorder it).
        let submissions: BTreeMap<String, i64> = if name == "social_care_event" {
            let mut names: Vec<String> = plan
                .sources
                .iter()
                .zip(ingested)
                .filter(|(s, _)| &s.mapping.target == name)
                .flat_map(|(_, r)| r.files.iter().map(file_name))
                .collect();
            names.sort_by(|a, b| crate::link::social_care::submission_order(a, b));
            names.dedup();
            names.into_iter().zip(0..).collect()
        } else {
            BTreeMap::new()
        };
        for (s, r) in plan.sources.iter().zip(ingested) {
            if &s.mapping.target == name {
                for f in &r.files {
                    let input = file_name(f);
                    let submission = submissions.get(&input).copied();
                    for staged in &f.staged {
                        parts
                            .frames
                            .push(normalise_source(s, entity, staged, &input, submission)?);
                        parts.files.push((
                            f.input.path.to_string_lossy().into_owned(),
                            mask_file_name(&input),
                        ));
                    }
                }
            }
        }
        if parts.frames.is_empty() {
            parts.frames.push(empty_entity(entity));
            parts.files.push((String::new(), String::new()));
        }
        entities.insert(name.clone(), parts);
    }
    let mut entity = |n: &str| -> Result<EntityParts> {
        entities
            .remove(n)
            .ok_or_else(|| Error::Internal(format!("entity {n} missing from the plan")))
    };
    let (spells, ed, care) = (
        entity("hospital_spell")?,
        entity("ed_attendance")?,
        entity("social_care_event")?,
    );
    let (persons, rows, repeats) = datasets::number_persons(vec![spells, ed, care])?;
    for r in &repeats {
        tracing::warn!("{}", r.warning());
    }
    let [spells, ed, care]: [datasets::EntityRows; 3] = rows
        .try_into()
        .map_err(|_| Error::Internal("rows of three entities".into()))?;
    let restore = |df: DataFrame| persons.restore(df);
    let stager = Stager {
        plan,
        run,
        out,
        lookback_months,
        finish: &restore,
        staged: Staged::default(),
    };

    std::thread::scope(|scope| {
        let mut writer = start_writer(scope, stager);

        // A&E attendances are written as normalised (nothing in them depends on linkage)
        // and summarised in the same pass: linkage and the measures keep only what they
        // need of them (`datasets::EdSummary`), so the largest entity is gone before
        // linkage starts. The summary needs the persons and admissions of the spells and
        // the resolved social-care events, so those are read first (of the spells, only
        // those columns).
        crate::memory::release();
        let (care, resolution) = datasets::resolve_care(care)?;
        hand_over(&mut writer, plan, Dataset::SocialCareEvent, &care)?;
        crate::memory::release();
        // The pass needs only each spell's person, admission and type; the spells themselves
        // are read after it, so they are not held while the attendances are.
        let mut pass = datasets::EdPass::new(
            &spells.collect_columns(
                "reading spell admissions",
                &["admission_datetime", "admission_type"],
            )?,
            &care,
            &plan.link,
            plan.daily_min_patients,
        )?;
        // Read and written in pieces (kept by month, compressed), so the attendances are
        // never held whole.
        let began = Instant::now();
        let ed_output = output_index(plan, Dataset::EdAttendance);
        let mut pieces = ed_output.map(|_| PieceWriter::new(Dataset::EdAttendance.month_column()));
        // The summary and the month split of a piece are independent: on two threads.
        ed.for_each_piece("reading A&E attendances", rows_per_piece(), |piece| {
            std::thread::scope(|scope| {
                let split = pieces.as_mut().map(|w| scope.spawn(|| w.add(&piece)));
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
        if let (Some(index), Some(pieces)) = (ed_output, pieces) {
            writer.send(Job {
                index,
                rows: Rows::Pieces(pieces),
                computed: began.elapsed().as_secs_f64(),
            })?;
            // The months kept compressed are a large part of the run's memory: they are
            // written before anything else is read.
            writer.flush()?;
        }
        // The attendances' lazy parts and person numbers are not needed again.
        drop(ed);
        let ed = pass.finish()?;
        crate::memory::release();
        // In month order: the spells and the journey (built in the spells' order) are
        // both written by admission month, so their month files are slices.
        let spells = crate::publish::partition::into_month_order(
            spells.collect("reading hospital spells")?,
            Dataset::HospitalSpell.month_column(),
        )
        .map_err(|e| Error::engine("putting the spells in month order", e))?;
        hand_over(&mut writer, plan, Dataset::HospitalSpell, &spells)?;
        // Linkage and the measures read only their own fields of the spells: the others
        // are freed as soon as the writer has written them.
        let spells = datasets::linked_fields(spells, "hospital_spell")?;
        crate::memory::release();
        timer.lap("normalise", None);
        fault::point("run_after_normalise");

        // Link, then measure each remaining dataset and hand it to the writer.
        let entities = datasets::Entities {
            spells,
            ed,
            care,
            resolution,
        };
        let mut linked = datasets::link(entities, &plan.link)?;
        crate::memory::release();
        timer.lap("link", Some(linked.journey_rows as u64));
        fault::point("run_after_link");
        let after_link: Vec<(usize, Dataset)> = plan
            .outputs
            .iter()
            .enumerate()
            .filter(|(_, o)| !BEFORE_LINKAGE.contains(&o.dataset))
            .map(|(index, o)| (index, o.dataset))
            .collect();
        let kinds: Vec<Dataset> = after_link.iter().map(|(_, d)| *d).collect();
        let order = datasets::write_order(&kinds);
        for (n, &k) in order.iter().enumerate() {
            let (index, dataset) = after_link[k];
            let began = Instant::now();
            let rule = plan.outputs[index].disclosure;
            let df = datasets::dataset(dataset, &linked, &plan.link, rule)?;
            let remaining: Vec<Dataset> = order[n + 1..].iter().map(|&k| kinds[k]).collect();
            linked.release_unneeded(&remaining);
            writer.send(Job {
                index,
                rows: Rows::Frame(df),
                computed: began.elapsed().as_secs_f64(),
            })?;
        }
        let resolution = std::mem::take(&mut linked.resolution);
        drop(linked);
        crate::memory::release();
        let mut staged = writer.finish()?.staged;
        // The manifest lists datasets in the pipeline's order, whatever order they were
        // written in.
        staged.outputs.sort_by_key(|(index, _, _)| *index);
        timer.lap("measure", Some(staged.rows));
        Ok(Built {
            staged,
            resolution,
            repeats,
        })
    })
}

/// Hands an entity's frame to the writer as dataset `d`, when the pipeline writes it.
fn hand_over<'scope, 'env: 'scope>(
    writer: &mut Writer<'scope, 'env>,
    plan: &Plan,
    d: Dataset,
    frame: &DataFrame,
) -> Result<()> {
    match output_index(plan, d) {
        Some(index) => writer.send(Job {
            index,
            rows: Rows::Frame(frame.clone()),
            computed: 0.0,
        }),
        None => Ok(()),
    }
}

/// The index of the output that writes dataset `d`, if the pipeline writes it.
fn output_index(plan: &Plan, d: Dataset) -> Option<usize> {
    plan.outputs.iter().position(|o| o.dataset == d)
}
