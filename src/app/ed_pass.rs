//! One pass over the A&E attendances, a part at a time, gathering everything linkage and
//! the measures need from them, so that the attendances (the largest entity) are never
//! held after they are written:
//!
//! - the attendances that can link to a spell ([`EdCandidates`]), for the journey;
//! - arrivals and long waits per provider × day ([`crate::measure::ae_daily`]), and
//!   patients per provider × month (`Population`), for `flow_daily`;
//! - records, valid NHS numbers and links per source × month
//!   ([`crate::measure::ae_counts`]), and the persons seen in A&E, for `linkage_quality`.
//!
//! It needs the spells and the resolved social-care events first (their persons and
//! admissions).

use polars::prelude::*;

use crate::config::LinkPlan;
use crate::error::{Error, Result};
use crate::link::journey::EdCandidates;
use crate::link::person_index::{PERSON, PersonSet};
use crate::measure::daily_population::Population;

/// What the run keeps of the A&E attendances.
pub struct EdSummary {
    /// The attendances that can link to a spell: [`crate::link::journey::ED_COLUMNS`].
    pub candidates: DataFrame,
    /// [`crate::measure::ae_daily`] of all attendances.
    pub daily: DataFrame,
    /// [`crate::measure::ae_counts`] of each part.
    pub counts: Vec<DataFrame>,
    /// The persons seen in A&E: one column, [`PERSON`].
    pub persons: DataFrame,
    /// A&E patients per provider × arrival month ([`Population`]), for `flow_daily`.
    pub population: Population,
}

/// The pass: [`EdPass::add`] each part, in any order, then [`EdPass::finish`].
pub struct EdPass {
    picker: EdCandidates,
    /// Persons of spells and resolved social-care events: an attendance of one of them is
    /// linked to another source.
    others: PersonSet,
    seen: PersonSet,
    candidates: Vec<DataFrame>,
    daily: Vec<DataFrame>,
    counts: Vec<DataFrame>,
    /// Patients per provider × month, for which days `flow_daily` may publish.
    population: Population,
}

fn engine(e: PolarsError) -> Error {
    Error::engine("summarising A&E attendances", e)
}

impl EdPass {
    /// A pass for linking to `spells`, with `care` the resolved social-care events,
    /// counting A&E patients per provider-month up to `daily_min_patients`.
    pub fn new(
        spells: &DataFrame,
        care: &DataFrame,
        link: &LinkPlan,
        daily_min_patients: usize,
    ) -> Result<Self> {
        let persons = |df: &DataFrame| -> PolarsResult<UInt32Chunked> {
            Ok(df.column(PERSON)?.u32()?.clone())
        };
        Ok(EdPass {
            picker: EdCandidates::new(spells, link).map_err(engine)?,
            others: PersonSet::of(&[
                &persons(spells).map_err(engine)?,
                &persons(care).map_err(engine)?,
            ]),
            seen: PersonSet::default(),
            candidates: Vec::new(),
            daily: Vec::new(),
            counts: Vec::new(),
            population: Population::new(daily_min_patients),
        })
    }

    /// Takes in one part of the attendances (every entity column, [`PERSON`] in
    /// `person_id`'s place).
    pub fn add(&mut self, part: &DataFrame) -> Result<()> {
        self.seen
            .extend(part.column(PERSON).and_then(|c| c.u32()).map_err(engine)?);
        self.candidates
            .push(self.picker.pick(part).map_err(engine)?);
        self.daily
            .push(crate::measure::ae_daily(part).map_err(engine)?);
        self.counts
            .push(crate::measure::ae_counts(part, &self.others).map_err(engine)?);
        self.population.add_attendances(part).map_err(engine)?;
        Ok(())
    }

    /// The summary of every part added.
    pub fn finish(self) -> Result<EdSummary> {
        let mut parts = self.candidates.into_iter();
        let mut candidates = parts
            .next()
            .ok_or_else(|| Error::Internal("no A&E part was summarised".into()))?;
        for part in parts {
            candidates.vstack_mut_owned(part).map_err(engine)?;
        }
        crate::publish::partition::rechunk_lean(&mut candidates).map_err(engine)?;
        tracing::debug!(
            candidates = candidates.height(),
            "A&E attendances that can link to a spell"
        );
        Ok(EdSummary {
            candidates,
            daily: crate::measure::add_ae_daily(self.daily).map_err(engine)?,
            counts: self.counts,
            persons: self.seen.to_frame().map_err(engine)?,
            population: self.population,
        })
    }
}
