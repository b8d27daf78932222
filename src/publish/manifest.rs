//! The run manifest: what a run read, did and wrote, as `runs/<run_id>/manifest.json`.
//!
//! Wall-clock values live here, never inside data files.

use std::collections::BTreeMap;

use serde::Serialize;

/// The whole manifest.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    /// Run id (UTC start time plus process id).
    pub run_id: String,
    /// `ok` or `data_quality_warning`.
    pub status: String,
    /// Pipeline name and file.
    pub pipeline: PipelineInfo,
    /// Software versions.
    pub versions: BTreeMap<String, String>,
    /// UTC start, RFC 3339.
    pub started_at: String,
    /// UTC end, RFC 3339.
    pub finished_at: String,
    /// Pseudonymisation key source and fingerprint (never the key).
    pub pseudonymisation: KeyInfo,
    /// Per source.
    pub sources: Vec<SourceInfo>,
    /// What the CLD processing rules did to social-care events.
    pub social_care_resolution: ResolutionInfo,
    /// Seconds per stage.
    pub stages: Vec<StageTiming>,
    /// Datasets written.
    pub outputs: Vec<OutputInfo>,
    /// Warnings (schema drift, demo key, thresholds).
    pub warnings: Vec<String>,
}

/// Pipeline identity.
#[derive(Debug, Clone, Serialize)]
pub struct PipelineInfo {
    /// Name.
    pub name: String,
    /// File.
    pub file: String,
    /// The ICB the pipeline serves, when it names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icb_code: Option<String>,
}

/// Key provenance.
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    /// `env`, `file` or `demo`.
    pub key_source: String,
    /// Non-reversible key fingerprint.
    pub fingerprint: String,
}

/// One source's accounting.
#[derive(Debug, Clone, Serialize)]
pub struct SourceInfo {
    /// Source name.
    pub name: String,
    /// Contract name.
    pub contract: String,
    /// Contract version.
    pub contract_version: u32,
    /// Files read.
    pub files: Vec<FileInfo>,
    /// Rows read.
    pub rows_in: u64,
    /// Rows accepted (and carried to the shared model).
    pub accepted: u64,
    /// Rows quarantined.
    pub quarantined: u64,
    /// Quarantined rows per reason code.
    pub quarantine_reasons: BTreeMap<String, u64>,
    /// Threshold used for exit code 1.
    pub max_quarantine_fraction: f64,
}

/// One input file.
#[derive(Debug, Clone, Serialize)]
pub struct FileInfo {
    /// Path as read.
    pub path: String,
    /// SHA-256.
    pub sha256: String,
    /// Size.
    pub bytes: u64,
    /// Encoding used.
    pub encoding: String,
    /// Rows read.
    pub rows_in: u64,
    /// Rows accepted.
    pub accepted: u64,
    /// Rows quarantined.
    pub quarantined: u64,
    /// Undeclared columns found.
    pub extra_columns: Vec<String>,
}

/// Time spent in a stage.
#[derive(Debug, Clone, Serialize)]
pub struct StageTiming {
    /// Stage name.
    pub stage: String,
    /// Seconds.
    pub seconds: f64,
    /// Rows the stage produced, where it produces rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_out: Option<u64>,
}

/// One dataset written.
#[derive(Debug, Clone, Serialize)]
pub struct OutputInfo {
    /// Dataset or quarantine name.
    pub dataset: String,
    /// `restricted`, `published` or `quarantine`.
    pub access: String,
    /// Path relative to the data directory.
    pub path: String,
    /// Rows.
    pub rows: u64,
    /// File size.
    pub bytes: u64,
    /// Cells suppressed by disclosure control.
    pub suppressed_cells: u64,
    /// Cells suppressed per column.
    pub suppressed: BTreeMap<String, u64>,
    /// The disclosure rule a published dataset passed (absent for other outputs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disclosure: Option<DisclosureInfo>,
}

/// The disclosure rule applied to a published dataset, as recorded in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum DisclosureInfo {
    /// Counts of people from 1 to `min_shown - 1` suppressed, the rest rounded to `round_to`.
    Threshold {
        /// Smallest count shown.
        min_shown: i64,
        /// Rounding base.
        round_to: i64,
    },
    /// No suppression.
    None,
}

impl From<crate::publish::disclosure::Rule> for DisclosureInfo {
    fn from(rule: crate::publish::disclosure::Rule) -> Self {
        match rule {
            crate::publish::disclosure::Rule::Threshold {
                min_shown,
                round_to,
            } => DisclosureInfo::Threshold {
                min_shown,
                round_to,
            },
            crate::publish::disclosure::Rule::None => DisclosureInfo::None,
        }
    }
}

/// What the CLD processing rules did.
#[derive(Debug, Clone, Serialize)]
pub struct ResolutionInfo {
    /// Social-care events before resolution.
    pub events_in: u64,
    /// Events replaced by the same event in a later submission.
    pub superseded_by_later_submission: u64,
    /// Kept events without an NHS number that got one from the same council person.
    pub person_key_backfilled: u64,
    /// Kept events with no NHS-number key (cannot link to NHS records).
    pub without_nhs_key: u64,
}
