//! Link and measure: the shared entities in, every dataset a pipeline can write out.
//!
//! Social-care events are resolved first (NHS England's CLD rules), then journeys are
//! linked, then each measure is computed from the journeys. Frames that several
//! datasets share are collected once.

use polars::prelude::*;

use crate::config::LinkPlan;
use crate::error::{Error, Result};
use crate::link::person_index::{Numbering, PERSON_ID, Persons};
use crate::link::social_care::{Resolution, resolve};
use crate::normalise::repeated::{RepeatedRecords, Repeats};

pub use super::ed_pass::{EdPass, EdSummary};
use crate::publish::Dataset;

/// One entity after normalise: its rows, and the person number of each.
pub struct EntityRows {
    /// The rows in parts (one per staged file; an empty entity when no source feeds it),
    /// lazy, with `person_id`; stacked in order they are the entity.
    pub parts: Vec<LazyFrame>,
    /// The rows of each part.
    pub part_rows: Vec<usize>,
    /// The person number of each row, in row order.
    pub persons: UInt32Chunked,
}

/// Rows a part of an entity holds on average below which parts are read a part on each
/// core ([`EntityRows::stack`]).
const SMALL_PART_ROWS: usize = 100_000;

impl EntityRows {
    /// The rows with [`PERSON`](crate::link::person_index::PERSON) in `person_id`'s place (the pseudonyms are not read), one
    /// chunk per column. Parts are read one at a time and columns made contiguous one at
    /// a time, so the frame is never held twice.
    pub fn collect(&self, what: &str) -> Result<DataFrame> {
        let began = std::time::Instant::now();
        let first = self
            .parts
            .first()
            .ok_or_else(|| Error::Internal(format!("{what}: no parts")))?;
        let at = person_id_at(first, what)?;
        let mut df = self.stack(what, at, |lf| {
            lf.clone()
                .drop(cols([PERSON_ID]))
                .collect_with_engine(Engine::Streaming)
                .map(|r| r.unwrap_single())
        })?;
        crate::publish::partition::rechunk_lean(&mut df)
            .map_err(|e| Error::engine(what.to_string(), e))?;
        log_collected(&df, what, began);
        Ok(df)
    }

    /// `columns` of every row (not `person_id`) with the person number
    /// ([`PERSON`](crate::link::person_index::PERSON)) first: a narrow read for a step
    /// that needs little of a large entity.
    pub fn collect_columns(&self, what: &str, columns: &[&str]) -> Result<DataFrame> {
        let mut df = self.stack(what, 0, |lf| {
            lf.clone()
                .select(columns.iter().map(|c| col(*c)).collect::<Vec<_>>())
                .collect()
        })?;
        df.rechunk_mut();
        Ok(df)
    }

    /// Every part read by `read` and stacked in order, with the person numbers inserted
    /// as column `at`. Small parts are read a part on each core (polars reads a small
    /// file with little parallelism: the 156 files of a CLD history kept a core idle);
    /// large ones one at a time, each on every core already (two at once held both
    /// reads' buffers: the spells took the peak from 0.83 to 0.99 GB at 10 M rows).
    fn stack(
        &self,
        what: &str,
        at: usize,
        read: impl Fn(&LazyFrame) -> PolarsResult<DataFrame> + Sync,
    ) -> Result<DataFrame> {
        let engine = |e| Error::engine(what.to_string(), e);
        let order: Vec<usize> = (0..self.parts.len()).collect();
        let rows: usize = self.part_rows.iter().sum();
        let workers = if rows < SMALL_PART_ROWS * self.parts.len() {
            crate::parallel::cores()
        } else {
            1
        };
        let frames = crate::parallel::map_in_order(&self.parts, &order, workers, &read);
        let mut stacked: Option<DataFrame> = None;
        for df in frames {
            let df = df.map_err(engine)?;
            match &mut stacked {
                None => stacked = Some(df),
                Some(s) => {
                    s.vstack_mut_owned(df).map_err(engine)?;
                }
            }
        }
        let mut df = stacked.ok_or_else(|| Error::Internal(format!("{what}: no parts")))?;
        if df.height() != self.persons.len() {
            return Err(Error::Internal(format!(
                "{what}: {} rows but {} person numbers",
                df.height(),
                self.persons.len()
            )));
        }
        df.insert_column(at, self.persons.clone().into_series().into_column())
            .map_err(engine)?;
        Ok(df)
    }

    /// Reads the rows in order, in pieces of at most `rows_per_piece` rows (a slice of
    /// one part each), each with [`PERSON`](crate::link::person_index::PERSON) in
    /// `person_id`'s place, handing each to `each`. An entity with no rows is one empty
    /// piece, so its columns are still seen.
    pub fn for_each_piece(
        &self,
        what: &str,
        rows_per_piece: usize,
        mut each: impl FnMut(DataFrame) -> Result<()>,
    ) -> Result<()> {
        let engine = |e| Error::engine(what.to_string(), e);
        let total: usize = self.part_rows.iter().sum();
        let mut start = 0;
        for (part, &rows) in self.parts.iter().zip(&self.part_rows) {
            let at = person_id_at(part, what)?;
            let mut offset = 0;
            while offset < rows || (total == 0 && offset == 0) {
                let began = std::time::Instant::now();
                let len = rows_per_piece.min(rows - offset);
                let mut df = part
                    .clone()
                    .slice(offset as i64, len as IdxSize)
                    .drop(cols([PERSON_ID]))
                    .collect_with_engine(Engine::Streaming)
                    .map(|r| r.unwrap_single())
                    .map_err(engine)?;
                if df.height() != len {
                    return Err(Error::Internal(format!(
                        "{what}: a piece of {} rows where {len} were numbered",
                        df.height()
                    )));
                }
                let persons = self.persons.slice((start + offset) as i64, len);
                df.insert_column(at, persons.into_series().into_column())
                    .map_err(engine)?;
                log_collected(&df, what, began);
                each(df)?;
                offset += len.max(1);
            }
            start += rows;
        }
        Ok(())
    }
}

/// The position of `person_id` in a part's columns.
fn person_id_at(part: &LazyFrame, what: &str) -> Result<usize> {
    part.clone()
        .collect_schema()
        .map_err(|e| Error::engine(what.to_string(), e))?
        .index_of(PERSON_ID)
        .ok_or_else(|| Error::Internal(format!("{what}: no {PERSON_ID} column")))
}

/// One entity's parts (one per staged file, in order), the input file each was read
/// from, and the check of its repeated records.
pub struct EntityParts {
    /// Each staged file mapped onto the entity (lazy).
    pub frames: Vec<LazyFrame>,
    /// The input file of each part: its path, and its name as shown (no NHS number).
    pub files: Vec<(String, String)>,
    /// The entity's repeated-record check, when it declares a record key.
    pub repeated: Option<RepeatedRecords>,
}

/// Numbers the persons of several entities, whose parts stack, in order, to the entity's
/// rows: read one at a time, `person_id` (and the record key) only, so no more than two
/// parts' pseudonyms are held at once (the one numbered and the next, read meanwhile). Each entity's record keys are checked in the same
/// read. Returns the pseudonym table, each entity's rows, and the records repeated, per
/// pair of files. A row without a `person_id` (no valid NHS number, or a council person
/// without one) gets no number.
pub fn number_persons(parts: Vec<EntityParts>) -> Result<(Persons, Vec<EntityRows>, Vec<Repeats>)> {
    let began = std::time::Instant::now();
    let mut numbering = Numbering::new(crate::parallel::cores());
    let mut part_rows = Vec::with_capacity(parts.len());
    let mut repeats = Vec::new();
    let mut entities = Vec::with_capacity(parts.len());
    for mut entity in parts {
        let mut read = vec![col(PERSON_ID)];
        if let Some(r) = &entity.repeated {
            read.extend(r.key().iter().map(|k| col(k.as_str())));
        }
        let rows = number_entity(&mut numbering, &mut entity, &read)?;
        if let Some(r) = entity.repeated.take() {
            repeats.extend(r.repeats());
        }
        part_rows.push(rows);
        entities.push(entity.frames);
    }
    let (persons, numbers) = numbering.finish();
    let mut start = 0;
    let entities = entities
        .into_iter()
        .zip(part_rows)
        .map(|(parts, part_rows)| {
            let n: usize = part_rows.iter().sum();
            // A copy, not a slice: a slice would keep every entity's numbers alive for as
            // long as any one entity's are (the A&E attendances' 24 MB at 10 M rows,
            // held through linkage).
            let persons = UInt32Chunked::from_iter_options(
                numbers.name().clone(),
                numbers.slice(start as i64, n).iter(),
            );
            start += n;
            EntityRows {
                parts,
                part_rows,
                persons,
            }
        })
        .collect();
    tracing::debug!(
        persons = persons.len(),
        rows = numbers.len(),
        seconds = began.elapsed().as_secs_f64(),
        "persons numbered"
    );
    Ok((persons, entities, repeats))
}

/// Numbers the persons of one entity's parts and checks their record keys; returns the
/// rows of each part. The next part is read while one is numbered, and a part's record
/// keys are checked while its persons are numbered (each on its own thread), so the
/// reading, the numbering and the check overlap: two parts' columns are held at most.
fn number_entity(
    numbering: &mut Numbering,
    entity: &mut EntityParts,
    read: &[Expr],
) -> Result<Vec<usize>> {
    let engine = |e| Error::engine("numbering persons", e);
    let frames = &entity.frames;
    let mut rows = Vec::with_capacity(frames.len());
    std::thread::scope(|scope| {
        // A rendezvous: the reader holds the next part until it is taken, so two parts
        // are held at most (a slot of one held three, code review).
        let (tx, rx) = std::sync::mpsc::sync_channel::<PolarsResult<DataFrame>>(0);
        let reader = scope.spawn(move || {
            for part in frames {
                let df = part.clone().select(read).collect();
                let failed = df.is_err();
                // A closed channel: the numbering stopped at an error of its own.
                if tx.send(df).is_err() || failed {
                    break;
                }
            }
        });
        let mut numbered = || -> Result<()> {
            for file in &entity.files {
                let df = rx
                    .recv()
                    .map_err(|_| Error::Internal("a part of an entity was not read".into()))?
                    .map_err(engine)?;
                let before = numbering.rows();
                let ids = df.column(PERSON_ID).and_then(|c| c.str()).map_err(engine)?;
                let repeated = entity.repeated.as_mut();
                let numbering = &mut *numbering;
                // The check on this thread: its map of keys grows here, where it is
                // dropped (a map grown on a short-lived thread kept ~15 MB more resident
                // at 10 M rows).
                std::thread::scope(|inner| {
                    let pushing = inner.spawn(|| numbering.push(ids));
                    let checked = repeated.map_or(Ok(()), |r| r.add(&file.0, &file.1, &df));
                    let pushed = pushing.join().unwrap_or_else(|_| {
                        Err(PolarsError::ComputeError(
                            "numbering persons panicked".into(),
                        ))
                    });
                    pushed.and(checked)
                })
                .map_err(engine)?;
                rows.push(numbering.rows() - before);
            }
            Ok(())
        };
        let result = numbered();
        drop(rx);
        reader
            .join()
            .map_err(|_| Error::Internal("reading parts of an entity panicked".into()))?;
        result
    })?;
    Ok(rows)
}

/// The entities after normalise, ready to link.
pub struct Entities {
    /// `hospital_spell`.
    pub spells: DataFrame,
    /// What linkage and the measures need of `ed_attendance`.
    pub ed: EdSummary,
    /// `social_care_event`, resolved.
    pub care: DataFrame,
    /// What resolution did.
    pub resolution: Resolution,
}

/// Everything link and measure produce. Every frame carries the person number
/// [`PERSON`](crate::link::person_index::PERSON) in `person_id`'s place;
/// [`Persons::restore`] puts pseudonyms back. Frames are released once no dataset left
/// to write reads them ([`Linked::release_unneeded`]).
pub struct Linked {
    /// What resolution did.
    pub resolution: Resolution,
    /// Rows of the journey (one per spell).
    pub journey_rows: usize,
    /// Resolved social-care events.
    care: Option<DataFrame>,
    /// What linkage and the measures need of the A&E attendances.
    ed: Option<EdSummary>,
    /// One row per spell (the spells' fields that linkage reads are shared with it, so
    /// the spells themselves are not kept).
    journey: Option<DataFrame>,
}

/// The frames a dataset is built from: journey, A&E summary, social care.
fn reads(d: Dataset) -> [bool; 3] {
    match d {
        Dataset::SocialCareQueue => [false, false, true],
        Dataset::PatientJourney | Dataset::DischargeDelays | Dataset::Bottlenecks => {
            [true, false, false]
        }
        Dataset::FlowDaily => [true, true, false],
        Dataset::LinkageQuality => [true, true, true],
        _ => [false; 3],
    }
}

/// The order to build and write the datasets after linkage in (indices into
/// `datasets`): those that read the most frames first, so that each frame is released
/// ([`Linked::release_unneeded`]) before the journey's measures, which hold the most.
pub fn write_order(datasets: &[Dataset]) -> Vec<usize> {
    let rank = |d: Dataset| match d {
        Dataset::LinkageQuality => 0,
        Dataset::SocialCareQueue => 1,
        Dataset::FlowDaily => 2,
        Dataset::Bottlenecks => 3,
        Dataset::DischargeDelays => 4,
        Dataset::PatientJourney => 5,
        _ => 6,
    };
    let mut order: Vec<usize> = (0..datasets.len()).collect();
    order.sort_by_key(|&i| rank(datasets[i]));
    order
}

fn released<'a, T>(frame: &'a Option<T>, what: &str) -> Result<&'a T> {
    frame
        .as_ref()
        .ok_or_else(|| Error::Internal(format!("{what} was released before its last use")))
}

impl Linked {
    fn care(&self) -> Result<&DataFrame> {
        released(&self.care, "the social-care frame")
    }

    fn ed(&self) -> Result<&EdSummary> {
        released(&self.ed, "the A&E summary")
    }

    fn journey(&self) -> Result<&DataFrame> {
        released(&self.journey, "the journey frame")
    }

    /// Drops every frame that none of `remaining` reads.
    pub fn release_unneeded(&mut self, remaining: &[Dataset]) {
        let needed = remaining.iter().fold([false; 3], |acc, d| {
            let r = reads(*d);
            [acc[0] || r[0], acc[1] || r[1], acc[2] || r[2]]
        });
        if !needed[0] {
            self.journey = None;
        }
        if !needed[1] {
            self.ed = None;
        }
        if !needed[2] {
            self.care = None;
        }
    }
}

/// `df` (an entity with [`PERSON`](crate::link::person_index::PERSON) in `person_id`'s
/// place) narrowed to the fields linkage and the measures read of `entity`
/// ([`crate::link::REQUIRED_FIELDS`]), in its own column order.
pub fn linked_fields(df: DataFrame, entity: &str) -> Result<DataFrame> {
    let fields = crate::link::REQUIRED_FIELDS
        .iter()
        .find(|(e, _)| *e == entity)
        .map(|(_, fields)| *fields)
        .ok_or_else(|| Error::Internal(format!("linkage reads no fields of {entity}")))?;
    let read = |name: &str| {
        name == crate::link::person_index::PERSON
            || fields.iter().any(|(f, _)| *f == name && *f != PERSON_ID)
    };
    let keep: Vec<PlSmallStr> = df
        .get_column_names()
        .into_iter()
        .filter(|n| read(n))
        .cloned()
        .collect();
    df.select(keep)
        .map_err(|e| Error::engine(format!("narrowing {entity} to the linked fields"), e))
}

/// Reads the social-care events and resolves them (NHS England's CLD rules).
pub fn resolve_care(care: EntityRows) -> Result<(DataFrame, Resolution)> {
    let care = care.collect("reading social-care events")?;
    let began = std::time::Instant::now();
    let (mut care, resolution) =
        resolve(care).map_err(|e| Error::engine("resolving social-care events (CLD rules)", e))?;
    crate::publish::partition::rechunk_lean(&mut care)
        .map_err(|e| Error::engine("making frames contiguous", e))?;
    // Memory too: the resolution's joins, sorts and uniques copy the events (the
    // run's peak at 2.8 M CLD rows).
    let (rss_mb, peak_rss_mb) = crate::telemetry::resident_mb().unwrap_or_default();
    tracing::debug!(
        seconds = began.elapsed().as_secs_f64(),
        rss_mb,
        peak_rss_mb,
        "social care resolved"
    );
    Ok((care, resolution))
}

/// The columns of the resolved events that clustering and the queue read: leaving out
/// the rest before clustering copies the events (its filter) halves the copy.
fn queue_columns(care: &DataFrame) -> Result<DataFrame> {
    use crate::link::social_care::{CLOSING_COLUMNS, CLUSTER_READS};
    let mut reads: Vec<&str> = Vec::new();
    for c in CLUSTER_READS
        .iter()
        .chain(&CLOSING_COLUMNS)
        .chain(&crate::measure::SOCIAL_CARE_QUEUE_READS)
    {
        if !reads.contains(c) && care.column(c).is_ok() {
            reads.push(c);
        }
    }
    care.select(reads)
        .map_err(|e| Error::engine("choosing the social-care queue's columns", e))
}

pub(crate) fn collect(lf: LazyFrame, what: &str) -> Result<DataFrame> {
    measured(what, || {
        lf.collect_with_engine(Engine::Streaming)
            .map(|r| r.unwrap_single())
    })
}

/// Small Parquet files of one schema (a source's quarantine, one file per input), read a
/// file on each core and stacked in order: polars reads many small files one after
/// another (the 156 quarantine files of a CLD history took 0.7 s on one core).
pub(crate) fn stack_files(files: &[std::path::PathBuf], what: &str) -> Result<DataFrame> {
    measured(what, || {
        let order: Vec<usize> = (0..files.len()).collect();
        let frames = crate::parallel::map_in_order(files, &order, crate::parallel::cores(), |f| {
            crate::normalise::scan_stacked(std::slice::from_ref(f))?.collect()
        });
        let mut frames = frames.into_iter();
        let Some(first) = frames.next() else {
            // No files: the error polars gives for stacking nothing.
            return crate::normalise::scan_stacked(files)?.collect();
        };
        let mut stacked = first?;
        for df in frames {
            stacked.vstack_mut_owned(df?)?;
        }
        stacked.rechunk_mut();
        Ok(stacked)
    })
}

/// The frame `compute` gives, with its debug line ([`log_collected`]).
fn measured(what: &str, compute: impl FnOnce() -> PolarsResult<DataFrame>) -> Result<DataFrame> {
    let began = std::time::Instant::now();
    let df = compute().map_err(|e| Error::engine(what.to_string(), e))?;
    log_collected(&df, what, began);
    Ok(df)
}

/// The debug line for a collected frame: its size, the time taken and memory.
fn log_collected(df: &DataFrame, what: &str, began: std::time::Instant) {
    let (rss_mb, peak_rss_mb) = crate::telemetry::resident_mb().unwrap_or_default();
    tracing::debug!(
        step = what,
        rows = df.height(),
        megabytes = df.estimated_size() / (1 << 20),
        seconds = began.elapsed().as_secs_f64(),
        rss_mb,
        peak_rss_mb,
        "frame collected"
    );
}

/// Links journeys.
pub fn link(entities: Entities, plan: &LinkPlan) -> Result<Linked> {
    let Entities {
        spells,
        mut ed,
        care,
        resolution,
    } = entities;
    let began = std::time::Instant::now();
    let mut journey = crate::link::patient_journey(&spells, &ed.candidates, &care, plan)
        .map_err(|e| Error::engine("linking patient journeys", e))?;
    // Only linkage reads the candidates (the journey keeps what it gathered of them).
    ed.candidates = DataFrame::empty();
    log_collected(&journey, "linking patient journeys", began);
    crate::publish::partition::rechunk_lean(&mut journey)
        .map_err(|e| Error::engine("making the journey contiguous", e))?;
    Ok(Linked {
        resolution,
        journey_rows: journey.height(),
        care: Some(care),
        ed: Some(ed),
        journey: Some(journey),
    })
}

/// The unrounded frame for one dataset.
pub fn dataset(
    d: Dataset,
    linked: &Linked,
    plan: &LinkPlan,
    rule: crate::publish::disclosure::Rule,
) -> Result<DataFrame> {
    let journey = || linked.journey().map(|j| j.clone().lazy());
    // The largest patients' parts of the bed-days, only for a dominance rule to read.
    let with_largest = matches!(
        rule,
        crate::publish::disclosure::Rule::Threshold {
            dominance: Some(_),
            ..
        }
    );
    match d {
        d @ (Dataset::HospitalSpell | Dataset::EdAttendance | Dataset::SocialCareEvent) => {
            Err(Error::Internal(format!(
                "{} is handed to the writer before linkage",
                d.name()
            )))
        }
        Dataset::PatientJourney => linked
            .journey()?
            .drop(crate::link::journey::SOURCE)
            .map_err(|e| Error::engine("dropping the journey's source", e)),
        Dataset::DischargeDelays => {
            let journey = journey()?;
            measured("measuring discharge delays", || {
                crate::measure::discharge_delays(journey, with_largest)
            })
        }
        Dataset::FlowDaily => {
            let ed = linked.ed()?;
            crate::measure::flow_daily(linked.journey()?, &ed.daily, &ed.population)
                .map_err(|e| Error::engine("measuring daily flow", e))
        }
        Dataset::SocialCareQueue => collect(
            crate::measure::social_care_queue(
                crate::link::social_care::without_clustered_requests(&queue_columns(
                    linked.care()?,
                )?)
                .map_err(|e| Error::engine("clustering social-care requests", e))?
                .lazy(),
                &plan.discharge_route,
                plan.care_window_days,
            ),
            "measuring the social-care queue",
        ),
        Dataset::Bottlenecks => crate::measure::bottlenecks(journey()?, with_largest)
            .map_err(|e| Error::engine("ranking bottlenecks", e)),
        Dataset::LinkageQuality => collect(
            crate::measure::linkage_quality(
                linked.journey()?,
                &linked.ed()?.persons,
                linked.ed()?.counts.clone(),
                linked.care()?,
            )
            .map_err(|e| Error::engine("measuring linkage quality", e))?,
            "measuring linkage quality",
        ),
        d @ (Dataset::SitrepDaily
        | Dataset::SitrepBedDays
        | Dataset::SitrepDestinations
        | Dataset::SitrepDelayReasons
        | Dataset::AeMonthly) => Err(Error::Internal(format!(
            "dataset {} is written by the publications run, not the person-level run",
            d.name()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_stack_in_their_order_whichever_core_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<std::path::PathBuf> = (0..23)
            .map(|i| {
                let path = dir.path().join(format!("q{i}.parquet"));
                let mut df = df!(
                    "file" => vec![format!("f{i}.csv"); i % 4],
                    "line" => (0..(i % 4) as u64).map(|l| l + 2).collect::<Vec<_>>(),
                )
                .unwrap();
                let f = std::fs::File::create(&path).unwrap();
                ParquetWriter::new(f).finish(&mut df).unwrap();
                path
            })
            .collect();
        let df = stack_files(&files, "stacking").unwrap();
        let expected: Vec<Option<String>> = (0..23)
            .flat_map(|i| vec![Some(format!("f{i}.csv")); i % 4])
            .collect();
        assert_eq!(
            crate::test_support::texts(df.column("file").unwrap()),
            expected
        );
        assert_eq!(df.column("line").unwrap().u64().unwrap().get(1), Some(2));
        assert!(stack_files(&[], "stacking").is_err());
        let missing = [dir.path().join("gone.parquet")];
        assert!(stack_files(&missing, "stacking").is_err());
    }

    #[test]
    fn spells_are_narrowed_to_the_fields_linkage_reads_in_their_order() {
        use crate::link::person_index::PERSON;
        let df = df!(
            "treatment_function" => ["100"],
            "spell_id" => ["S1"],
            PERSON => [0u32],
            "source_file" => ["apc.csv"],
            "admission_type" => ["emergency"],
        )
        .unwrap();
        let narrowed = linked_fields(df, "hospital_spell").unwrap();
        let names: Vec<&str> = narrowed
            .get_column_names()
            .iter()
            .map(|n| n.as_str())
            .collect();
        assert_eq!(names, ["spell_id", PERSON, "admission_type"]);
        assert!(linked_fields(DataFrame::empty(), "no_such_entity").is_err());
    }

    #[test]
    fn frames_are_released_after_their_last_reader_and_not_before() {
        let all = [
            Dataset::PatientJourney,
            Dataset::DischargeDelays,
            Dataset::FlowDaily,
            Dataset::SocialCareQueue,
            Dataset::Bottlenecks,
            Dataset::LinkageQuality,
        ];
        let frame = || Some(DataFrame::empty());
        let mut linked = Linked {
            resolution: Resolution::default(),
            journey_rows: 0,
            care: frame(),
            ed: Some(EdSummary {
                candidates: DataFrame::empty(),
                daily: DataFrame::empty(),
                counts: Vec::new(),
                persons: DataFrame::empty(),
                population: Default::default(),
            }),
            journey: frame(),
        };
        let order = write_order(&all);
        assert_eq!(
            all[order[0]],
            Dataset::LinkageQuality,
            "the widest reader first"
        );
        assert_eq!(all[order[5]], Dataset::PatientJourney);
        let held = |l: &Linked| [l.journey.is_some(), l.ed.is_some(), l.care.is_some()];
        for (n, &i) in order.iter().enumerate() {
            let needs = reads(all[i]);
            let has = held(&linked);
            for k in 0..3 {
                assert!(
                    !needs[k] || has[k],
                    "{} finds frame {k} released",
                    all[i].name()
                );
            }
            let remaining: Vec<Dataset> = order[n + 1..].iter().map(|&j| all[j]).collect();
            linked.release_unneeded(&remaining);
        }
        assert_eq!(held(&linked), [false; 3], "everything released at the end");
        // The care frame goes as soon as the social-care queue is measured.
        let mut linked2 = Linked {
            care: frame(),
            ..linked
        };
        linked2.release_unneeded(&[Dataset::FlowDaily, Dataset::PatientJourney]);
        assert!(linked2.care.is_none());
    }
}
