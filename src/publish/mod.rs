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
pub mod durable;
pub mod encoder;
pub mod kept;
pub mod manifest;
pub mod parquet;
pub mod partition;
pub mod pieces;
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

/// The datasets joinedup can write. Their columns are documented, field by field, in
/// `schemas/shared/<name>.toml` (checked by the integration tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dataset {
    /// The shared `hospital_spell` entity, all sources stacked.
    HospitalSpell,
    /// The shared `ed_attendance` entity.
    EdAttendance,
    /// The shared `social_care_event` entity, after CLD resolution (latest submission).
    SocialCareEvent,
    /// One row per spell with its A&E and social-care links.
    PatientJourney,
    /// Delayed discharges by month, provider, council, pathway and awaited service.
    DischargeDelays,
    /// Per provider and day: admissions, discharges, occupancy, delays, A&E.
    FlowDaily,
    /// Hospital-discharge requests to councils and how long they wait.
    SocialCareQueue,
    /// Ranked delayed bed-days by council, awaited service and provider, per month.
    Bottlenecks,
    /// Match rates per source, council and month.
    LinkageQuality,
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
    /// The shared entities a person-level dataset is built from (any one of them
    /// suffices); empty for one built from whatever there is (`linkage_quality`) and for
    /// NHS England's publications.
    pub fn fed_by(self) -> &'static [&'static str] {
        match self {
            Dataset::HospitalSpell
            | Dataset::PatientJourney
            | Dataset::DischargeDelays
            | Dataset::Bottlenecks => &["hospital_spell"],
            Dataset::EdAttendance => &["ed_attendance"],
            Dataset::SocialCareEvent | Dataset::SocialCareQueue => &["social_care_event"],
            Dataset::FlowDaily => &["hospital_spell", "ed_attendance"],
            _ => &[],
        }
    }

    /// Every dataset.
    pub const ALL: [Dataset; 14] = [
        Dataset::HospitalSpell,
        Dataset::EdAttendance,
        Dataset::SocialCareEvent,
        Dataset::PatientJourney,
        Dataset::DischargeDelays,
        Dataset::FlowDaily,
        Dataset::SocialCareQueue,
        Dataset::Bottlenecks,
        Dataset::LinkageQuality,
        Dataset::SitrepDaily,
        Dataset::SitrepBedDays,
        Dataset::SitrepDestinations,
        Dataset::SitrepDelayReasons,
        Dataset::AeMonthly,
    ];

    /// The name used in pipelines, folders and `schemas/shared/`.
    pub fn name(self) -> &'static str {
        match self {
            Dataset::HospitalSpell => "hospital_spell",
            Dataset::EdAttendance => "ed_attendance",
            Dataset::SocialCareEvent => "social_care_event",
            Dataset::PatientJourney => "patient_journey",
            Dataset::DischargeDelays => "discharge_delays",
            Dataset::FlowDaily => "flow_daily",
            Dataset::SocialCareQueue => "social_care_queue",
            Dataset::Bottlenecks => "bottlenecks",
            Dataset::LinkageQuality => "linkage_quality",
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
            Dataset::HospitalSpell
            | Dataset::EdAttendance
            | Dataset::SocialCareEvent
            | Dataset::PatientJourney => Access::Restricted,
            _ => Access::Published,
        }
    }

    /// The date column whose month partitions the dataset's files.
    pub fn month_column(self) -> &'static str {
        match self {
            Dataset::HospitalSpell | Dataset::PatientJourney => "admission_date",
            Dataset::EdAttendance => "arrival",
            Dataset::SocialCareEvent => "event_start",
            Dataset::FlowDaily => "date",
            Dataset::DischargeDelays
            | Dataset::SocialCareQueue
            | Dataset::Bottlenecks
            | Dataset::LinkageQuality
            | Dataset::AeMonthly => "month",
            // A sitrep workbook's period: every row it loads shares one report month, so a
            // period (setting, report_month) always lives in one file.
            Dataset::SitrepDaily
            | Dataset::SitrepBedDays
            | Dataset::SitrepDestinations
            | Dataset::SitrepDelayReasons => "report_month",
        }
    }

    /// Which columns the disclosure gate treats as counts of people and statistics.
    pub fn gate(self) -> disclosure::GateSpec {
        use disclosure::{GateSpec, P90_MIN_BASE};
        match self {
            Dataset::DischargeDelays => GateSpec {
                counts: vec![],
                counts_of_people_things: {
                    use crate::measure::DISCHARGE_DELAYS_PEOPLE as PEOPLE;
                    vec![
                        ("discharges", PEOPLE[0]),
                        ("delayed_discharges", PEOPLE[1]),
                        ("delayed_bed_days", PEOPLE[1]),
                    ]
                },
                helpers: crate::measure::DISCHARGE_DELAYS_PEOPLE.to_vec(),
                population: vec![],
                parts: vec![
                    ("delayed_discharges", "discharges"),
                    ("delayed_bed_days", "delayed_discharges"),
                ],
                statistics: vec![
                    ("median_delay_days", "delayed_discharges", 0),
                    ("p90_delay_days", "delayed_discharges", P90_MIN_BASE),
                ],
                rates: vec![],
                changes: vec![],
                ranks: vec![],
                magnitudes: vec![magnitude(
                    "delayed_bed_days",
                    crate::measure::DISCHARGE_DELAYS_LARGEST,
                )],
            },
            Dataset::FlowDaily => GateSpec {
                counts: crate::measure::FLOW_DAILY_COUNTS.to_vec(),
                population: crate::measure::SMALL_POPULATIONS
                    .iter()
                    .map(|h| (*h, crate::measure::flow_daily_counts_of(h)))
                    .collect(),
                ..GateSpec::default()
            },
            Dataset::SocialCareQueue => {
                use crate::measure::SOCIAL_CARE_QUEUE_PEOPLE as PEOPLE;
                GateSpec {
                    counts: vec![],
                    counts_of_people_things: vec![
                        ("requests", PEOPLE[0]),
                        ("assessed", PEOPLE[1]),
                        ("service_started", PEOPLE[2]),
                        ("still_waiting_at_month_end", PEOPLE[3]),
                    ],
                    helpers: PEOPLE.to_vec(),
                    population: vec![],
                    parts: vec![
                        ("assessed", "requests"),
                        ("service_started", "requests"),
                        ("still_waiting_at_month_end", "requests"),
                    ],
                    statistics: vec![
                        ("median_days_to_assessment", "assessed", 0),
                        ("p90_days_to_assessment", "assessed", P90_MIN_BASE),
                        ("median_days_to_service", "service_started", 0),
                        ("p90_days_to_service", "service_started", P90_MIN_BASE),
                    ],
                    rates: vec![],
                    changes: vec![],
                    ranks: vec![],
                    magnitudes: vec![],
                }
            }
            Dataset::Bottlenecks => GateSpec {
                counts: vec![],
                counts_of_people_things: {
                    use crate::measure::BOTTLENECKS_PEOPLE as PEOPLE;
                    vec![
                        ("delayed_discharges", PEOPLE[0]),
                        ("delayed_bed_days", PEOPLE[0]),
                        ("system_delayed_discharges", PEOPLE[1]),
                        ("system_delayed_bed_days", PEOPLE[1]),
                    ]
                },
                helpers: crate::measure::BOTTLENECKS_PEOPLE.to_vec(),
                population: vec![],
                parts: vec![
                    ("delayed_discharges", "system_delayed_discharges"),
                    ("delayed_bed_days", "delayed_discharges"),
                ],
                statistics: vec![],
                rates: vec![(
                    "share_of_system_pct",
                    "delayed_bed_days",
                    "system_delayed_bed_days",
                )],
                changes: vec![disclosure::ChangeSpec {
                    column: "change_in_delayed_bed_days",
                    current: "delayed_bed_days",
                    previous: "previous_delayed_bed_days",
                    previous_base: crate::measure::BOTTLENECKS_PREVIOUS_PEOPLE,
                }],
                ranks: vec![disclosure::RankSpec {
                    column: "rank",
                    by: "delayed_bed_days",
                    within: "month",
                    then: vec!["la_code", "awaited_service", "provider_code"],
                }],
                magnitudes: vec![
                    magnitude("delayed_bed_days", crate::measure::BOTTLENECKS_LARGEST),
                    magnitude(
                        "system_delayed_bed_days",
                        crate::measure::BOTTLENECKS_SYSTEM_LARGEST,
                    ),
                    magnitude(
                        "previous_delayed_bed_days",
                        crate::measure::BOTTLENECKS_PREVIOUS_LARGEST,
                    ),
                ],
            },
            Dataset::LinkageQuality => {
                use crate::measure::LINKAGE_QUALITY_PEOPLE as PEOPLE;
                GateSpec {
                    counts: vec![],
                    counts_of_people_things: vec![
                        ("records", PEOPLE[0]),
                        ("with_valid_nhs_number", PEOPLE[1]),
                        ("linked_to_other_source", PEOPLE[2]),
                        ("delayed_spells", PEOPLE[3]),
                        ("delayed_spells_linked_to_social_care", PEOPLE[4]),
                    ],
                    helpers: PEOPLE.to_vec(),
                    population: vec![],
                    parts: vec![
                        ("with_valid_nhs_number", "records"),
                        ("linked_to_other_source", "records"),
                        ("delayed_spells", "records"),
                        ("delayed_spells_linked_to_social_care", "delayed_spells"),
                    ],
                    statistics: vec![],
                    rates: vec![
                        ("linked_pct", "linked_to_other_source", "records"),
                        (
                            "delayed_linked_to_social_care_pct",
                            "delayed_spells_linked_to_social_care",
                            "delayed_spells",
                        ),
                    ],
                    changes: vec![],
                    ranks: vec![],
                    magnitudes: vec![],
                }
            }
            _ => GateSpec::default(),
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

/// A total of what people account for, with the measure's helper columns holding its
/// largest two patients' parts.
fn magnitude(
    column: &'static str,
    largest: crate::measure::largest_patients::Largest,
) -> disclosure::Magnitude {
    disclosure::Magnitude {
        column,
        largest: largest[0],
        second: largest[1],
    }
}
