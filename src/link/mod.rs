//! Stage 4, link: person-level joins across sources, keyed by pseudonymised NHS number.
//!
//! - [`social_care::resolve`] applies NHS England's CLD processing rules before anything
//!   links to social-care events: one person key per council person, and each event kept
//!   from the latest submission only.
//! - [`journey::patient_journey`] builds one row per hospital spell with its A&E
//!   attendance, social-care request, assessment and awaited service, pathway and
//!   readmission.
//! - [`person_index`] gives every pseudonym a dense number (its rank, read one staged
//!   file at a time by [`person_index::Numbering`]), so the joins above compare integers
//!   instead of 32-character strings and frames never hold a pseudonym per row;
//!   [`person_index::Persons::restore`] puts pseudonyms back as files are written.

pub mod by_person;
pub mod codes;
pub mod journey;
pub mod person_index;
pub mod social_care;

pub use journey::patient_journey;

use crate::schema::ValueType::{self, Date, DateTime, String as Str};

/// The entity fields the link and measure stages read, checked against
/// `schemas/shared/` when the configuration is loaded.
pub const REQUIRED_FIELDS: &[(&str, &[(&str, ValueType)])] = &[
    (
        "hospital_spell",
        &[
            ("spell_id", Str),
            ("person_id", Str),
            ("provider_code", Str),
            ("admission_date", Date),
            ("admission_datetime", DateTime),
            ("admission_method", Str),
            ("admission_source", Str),
            ("admission_type", Str),
            ("discharge_date", Date),
            ("discharge_destination", Str),
            ("discharge_destination_group", Str),
            ("discharge_method", Str),
            ("discharge_ready_date", Date),
            ("source", Str),
        ],
    ),
    (
        "ed_attendance",
        &[
            ("attendance_id", Str),
            ("person_id", Str),
            ("provider_code", Str),
            ("arrival", DateTime),
            ("departure", DateTime),
            ("source", Str),
        ],
    ),
    (
        "social_care_event",
        &[
            ("la_code", Str),
            ("person_id", Str),
            ("la_person_id", Str),
            ("client_type", Str),
            ("event_type", Str),
            ("event_start", Date),
            ("event_end", Date),
            ("event_outcome_group", Str),
            ("route_of_access", Str),
            ("service_type", Str),
            ("service_component", Str),
            ("service_group", Str),
            ("delivery_mechanism", Str),
            ("reporting_period_start", Date),
            ("reporting_period_end", Date),
            ("source_file", Str),
            ("source", Str),
        ],
    ),
];
