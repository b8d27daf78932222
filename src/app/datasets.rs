//! Link and measure: the shared entities in, every dataset a pipeline can write out.
//!
//! Social-care events are resolved first (NHS England's CLD rules), then journeys are
//! linked, then each measure is computed from the journeys. Frames that several
//! datasets share are collected once.

use polars::prelude::*;

use crate::config::LinkPlan;
use crate::error::{Error, Result};
use crate::link::person_index::{PERSON, number_persons};
use crate::link::social_care::{Resolution, resolve};
use crate::publish::Dataset;

/// The `ed_attendance` columns linkage and the measures read (those of
/// [`crate::link::REQUIRED_FIELDS`]; the `ed_attendance` dataset itself is written from
/// the whole entity before linkage).
pub fn ed_columns_for_linkage() -> Vec<Expr> {
    crate::link::REQUIRED_FIELDS
        .iter()
        .filter(|(entity, _)| *entity == "ed_attendance")
        .flat_map(|(_, fields)| fields.iter().map(|(name, _)| col(*name)))
        .collect()
}

/// The entities after normalise, as lazy frames.
pub struct Entities {
    /// `hospital_spell`.
    pub spells: LazyFrame,
    /// `ed_attendance` (for linkage: [`ed_columns_for_linkage`]).
    pub ed: LazyFrame,
    /// `social_care_event`, before resolution.
    pub care: LazyFrame,
}

/// Everything link and measure produce. Every frame carries the linkage-only person
/// number [`PERSON`], which [`dataset`] drops.
pub struct Linked {
    /// Resolved social-care events.
    pub care: DataFrame,
    /// What resolution did.
    pub resolution: Resolution,
    /// A&E attendances.
    pub ed: DataFrame,
    /// Hospital spells.
    pub spells: DataFrame,
    /// One row per spell.
    pub journey: DataFrame,
}

pub(crate) fn collect(lf: LazyFrame, what: &str) -> Result<DataFrame> {
    let began = std::time::Instant::now();
    let df = lf
        .collect_with_engine(Engine::Streaming)
        .map(|r| r.unwrap_single())
        .map_err(|e| Error::engine(what.to_string(), e))?;
    tracing::debug!(
        step = what,
        rows = df.height(),
        megabytes = df.estimated_size() / (1 << 20),
        seconds = began.elapsed().as_secs_f64(),
        "frame collected"
    );
    Ok(df)
}

/// Resolves social care and links journeys.
pub fn link(entities: Entities, plan: &LinkPlan) -> Result<Linked> {
    let care = collect(entities.care, "reading social-care events")?;
    let began = std::time::Instant::now();
    let (care, resolution) =
        resolve(care).map_err(|e| Error::engine("resolving social-care events (CLD rules)", e))?;
    tracing::debug!(
        seconds = began.elapsed().as_secs_f64(),
        "social care resolved"
    );
    // Rows stay in input order (files in input order, rows in file order): deterministic,
    // and a month's rows keep their relative order when other months' files change.
    let mut spells = collect(entities.spells, "reading hospital spells")?;
    let mut ed = collect(entities.ed, "reading A&E attendances for linkage")?;
    let mut care = care;
    let began = std::time::Instant::now();
    number_persons(&mut [&mut spells, &mut ed, &mut care])
        .map_err(|e| Error::engine("numbering persons for linkage", e))?;
    // A&E pseudonyms are a fifth of the run's data in memory; past numbering nothing
    // reads them (the ed_attendance dataset was written before linkage).
    let mut ed = {
        let with_pseudonyms = ed; // moved here so its buffers are freed at this block's end
        with_pseudonyms
            .drop("person_id")
            .map_err(|e| Error::engine("dropping A&E pseudonyms after numbering", e))?
    };
    // One contiguous chunk per column, once: every dataset and measure below shares these
    // buffers (a rechunk per writer would copy the frame each time).
    for df in [&mut spells, &mut ed, &mut care] {
        df.rechunk_mut_par();
    }
    tracing::debug!(
        seconds = began.elapsed().as_secs_f64(),
        "persons numbered, frames rechunked"
    );
    let mut journey = collect(
        crate::link::patient_journey(
            spells.clone().lazy(),
            ed.clone().lazy(),
            care.clone().lazy(),
            plan,
        ),
        "linking patient journeys",
    )?;
    journey.rechunk_mut_par();
    Ok(Linked {
        care,
        resolution,
        ed,
        spells,
        journey,
    })
}

fn without_person(df: &DataFrame) -> Result<DataFrame> {
    df.drop(PERSON)
        .map_err(|e| Error::engine("dropping the linkage person number", e))
}

/// The unrounded frame for one dataset.
pub fn dataset(d: Dataset, linked: &Linked, plan: &LinkPlan) -> Result<DataFrame> {
    let journey = || linked.journey.clone().lazy();
    match d {
        Dataset::HospitalSpell => without_person(&linked.spells),
        Dataset::EdAttendance => Err(Error::Internal(
            "ed_attendance is written before linkage, from the whole entity".into(),
        )),
        Dataset::SocialCareEvent => without_person(&linked.care),
        Dataset::PatientJourney => linked
            .journey
            .drop(crate::link::journey::SOURCE)
            .map_err(|e| Error::engine("dropping the journey's source", e))
            .and_then(|df| without_person(&df)),
        Dataset::DischargeDelays => collect(
            crate::measure::discharge_delays(journey()),
            "measuring discharge delays",
        ),
        Dataset::FlowDaily => crate::measure::flow_daily(&linked.journey, &linked.ed)
            .map_err(|e| Error::engine("measuring daily flow", e)),
        Dataset::SocialCareQueue => collect(
            crate::measure::social_care_queue(
                linked.care.clone().lazy(),
                &plan.discharge_route,
                plan.care_window_days,
            ),
            "measuring the social-care queue",
        ),
        Dataset::Bottlenecks => crate::measure::bottlenecks(journey())
            .map_err(|e| Error::engine("ranking bottlenecks", e)),
        Dataset::LinkageQuality => collect(
            crate::measure::linkage_quality(
                journey(),
                linked.spells.clone().lazy(),
                linked.ed.clone().lazy(),
                linked.care.clone().lazy(),
            ),
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
