//! Stage 6, publish: write datasets as Parquet, disclosure-controlled where shareable.
//!
//! - `restricted/<dataset>/`: person-level data, pseudonymised (never raw identifiers).
//! - `published/<dataset>/`: aggregates that passed the disclosure gate.
//! - `quarantine/<source>/`: rejected rows with reasons.
//! - `runs/<run_id>/manifest.json`: inputs, counts, outputs, timings.
//!
//! Everything is written under a staging folder first and moved into place only when the
//! whole run succeeded ([`staging::RunDir`]), so a failed run leaves earlier outputs as
//! they were and writes no partial dataset.

pub mod disclosure;
pub mod manifest;
pub mod parquet;
pub mod staging;

/// Who may see a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Person-level, pseudonymised: `restricted/`.
    Restricted,
    /// Aggregate, disclosure-controlled: `published/`.
    Published,
}

impl Access {
    /// The folder under the data directory.
    pub fn folder(self) -> &'static str {
        match self {
            Access::Restricted => "restricted",
            Access::Published => "published",
        }
    }
}

/// The datasets joinedup can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dataset {
    /// The shared `hospital_spell` entity, all sources stacked.
    HospitalSpell,
    /// The shared `ed_attendance` entity.
    EdAttendance,
    /// The shared `social_care_event` entity.
    SocialCareEvent,
    /// One row per spell with its A&E and social-care links.
    PatientJourney,
    /// Delayed discharges by month, provider, council and awaited service.
    DischargeDelays,
    /// NHS England discharge sitrep, Table 2: daily counts per organisation.
    SitrepDaily,
    /// NHS England discharge sitrep, Table 3: weekly additional bed days by length of stay.
    SitrepBedDays,
    /// NHS England discharge sitrep, Table 4: the month's discharges by pathway and destination.
    SitrepDestinations,
    /// NHS England discharge sitrep, Table 5: average long-stay patients by reason for delay.
    SitrepDelayReasons,
    /// NHS England monthly A&E attendances, 4-hour breaches and emergency admissions.
    AeMonthly,
}

impl Dataset {
    /// Every dataset.
    pub const ALL: [Dataset; 10] = [
        Dataset::HospitalSpell,
        Dataset::EdAttendance,
        Dataset::SocialCareEvent,
        Dataset::PatientJourney,
        Dataset::DischargeDelays,
        Dataset::SitrepDaily,
        Dataset::SitrepBedDays,
        Dataset::SitrepDestinations,
        Dataset::SitrepDelayReasons,
        Dataset::AeMonthly,
    ];

    /// The name used in pipelines and folders.
    pub fn name(self) -> &'static str {
        match self {
            Dataset::HospitalSpell => "hospital_spell",
            Dataset::EdAttendance => "ed_attendance",
            Dataset::SocialCareEvent => "social_care_event",
            Dataset::PatientJourney => "patient_journey",
            Dataset::DischargeDelays => "discharge_delays",
            Dataset::SitrepDaily => "sitrep_daily",
            Dataset::SitrepBedDays => "sitrep_bed_days",
            Dataset::SitrepDestinations => "sitrep_destinations",
            Dataset::SitrepDelayReasons => "sitrep_delay_reasons",
            Dataset::AeMonthly => "ae_monthly",
        }
    }

    /// Looks a dataset up by name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.name() == name)
    }

    /// Where it is written.
    pub fn access(self) -> Access {
        match self {
            Dataset::DischargeDelays => Access::Published,
            d if d.is_publication() => Access::Published,
            _ => Access::Restricted,
        }
    }

    /// True for NHS England's own published statistics. They are aggregates NHS England
    /// has already released under the Open Government Licence, after its own disclosure
    /// control; joinedup republishes them as they are (`disclosure = "none"`), because
    /// rounding them again would only make them disagree with the official figures.
    pub fn is_publication(self) -> bool {
        matches!(
            self,
            Dataset::SitrepDaily
                | Dataset::SitrepBedDays
                | Dataset::SitrepDestinations
                | Dataset::SitrepDelayReasons
                | Dataset::AeMonthly
        )
    }
}
