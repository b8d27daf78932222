//! The run manifest: what a run read, did and wrote, as `runs/<run_id>/manifest.json`.
//!
//! Wall-clock values live here, never inside data files.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ingest::quarantine::{mask_file_name, mask_nhs_numbers};

/// The whole manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Run id (UTC start time plus process id).
    pub run_id: String,
    /// `ok`, `data_quality_warning`, `files_failed` (publications) or `up_to_date`.
    pub status: String,
    /// `full`, `incremental` or `up_to_date` (or `dry_run_…`).
    pub mode: String,
    /// Inputs new, removed and unchanged since the last successful run.
    pub changes: crate::app::state::Changes,
    /// Pipeline name and file.
    pub pipeline: PipelineInfo,
    /// Software versions.
    pub versions: BTreeMap<String, String>,
    /// UTC start, RFC 3339.
    pub started_at: String,
    /// The run's date (`YYYY-MM-DD`: today's, UTC, or `JOINEDUP_TODAY`), which dates of
    /// activity are checked against ([`crate::run_date`]); the report's headline month
    /// is never after it.
    #[serde(default)]
    pub run_date: String,
    /// UTC end, RFC 3339.
    pub finished_at: String,
    /// Pseudonymisation key source and fingerprint (never the key); absent when the
    /// pipeline reads no person-level data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pseudonymisation: Option<KeyInfo>,
    /// Per source.
    pub sources: Vec<SourceInfo>,
    /// What the CLD processing rules did to social-care events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub social_care_resolution: Option<ResolutionInfo>,
    /// Per NHS England publication source (sitrep workbooks, A&E files).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub publications: Vec<PublicationInfo>,
    /// Rows repeating a record (by the entity's `record_key`) of an earlier file or row,
    /// per pair of files; every copy is in the datasets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repeated_records: Vec<crate::normalise::repeated::Repeats>,
    /// Seconds per stage.
    pub stages: Vec<StageTiming>,
    /// Datasets written.
    pub outputs: Vec<OutputInfo>,
    /// Warnings (schema drift, demo key, thresholds).
    pub warnings: Vec<String>,
    /// Data-quality results: checks that found something, reported rather than failed.
    #[serde(default)]
    pub data_quality: Vec<DataQualityResult>,
    /// Why the run failed (status `failed`): its exit code and message; for a
    /// publications run with status `files_failed` (exit 3), the files that could not be
    /// loaded and the first one's error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<RunError>,
}

impl Manifest {
    /// Withholds NHS numbers from what the manifest says in words: input paths lose
    /// every NHS-number shape, as the data's `source_file` does (a file may be named
    /// after its patient); warnings and error messages lose NHS numbers
    /// ([`mask_nhs_numbers`]: other numbers in them stay).
    pub fn withhold_nhs_numbers(&mut self) {
        let words = |t: &mut String| {
            if let std::borrow::Cow::Owned(m) = mask_nhs_numbers(t) {
                *t = m;
            }
        };
        for f in self.sources.iter_mut().flat_map(|s| s.files.iter_mut()) {
            f.path = mask_file_name(&f.path);
        }
        let c = &mut self.changes;
        for f in c.new.iter_mut().chain(&mut c.changed).chain(&mut c.removed) {
            *f = mask_file_name(f);
        }
        for f in self
            .publications
            .iter_mut()
            .flat_map(|p| p.files.iter_mut())
        {
            f.path = mask_file_name(&f.path);
            if let Some(e) = &mut f.error {
                words(e);
            }
        }
        self.warnings.iter_mut().for_each(words);
        if let Some(e) = &mut self.error {
            words(&mut e.message);
        }
    }
}

/// A failed run's error, as the binary reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunError {
    /// The process exit code.
    pub exit_code: u8,
    /// The message (names files, keys and columns; never a value from the data).
    pub message: String,
}

/// One data-quality finding: a check, where it looked, what it found and how often.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataQualityResult {
    /// Check name, e.g. `unknown_label`, `sum_icbs_to_england`, `date_outside_period`.
    pub check: String,
    /// Input file.
    pub file: String,
    /// Sheet, for workbooks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// For a value left blank (`value_left_blank`): the source, the contract column
    /// and the reason code the value failed with (never the value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// See `source`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// See `source`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What was found, with example cells.
    pub detail: String,
    /// How many cells or rows it concerns.
    pub count: u64,
}

/// One publication source's files and the periods they loaded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublicationInfo {
    /// Source name.
    pub name: String,
    /// Source kind (`nhse_sitrep`, `nhse_ae`).
    pub kind: String,
    /// Files read.
    pub files: Vec<PublicationFileInfo>,
    /// What happened to each period: added, replaced or kept.
    pub periods: Vec<PeriodInfo>,
}

/// One publication file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublicationFileInfo {
    /// Path as read.
    pub path: String,
    /// SHA-256.
    pub sha256: String,
    /// Size.
    pub bytes: u64,
    /// `loaded`, `failed`, or `superseded` (a revised file for the same period won).
    pub status: String,
    /// What the file was recognised as: `acute`/`community` workbook, `tidy`/`msitae` CSV.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layout: Option<String>,
    /// First day of the stated period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_start: Option<String>,
    /// Last day of the stated period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_end: Option<String>,
    /// Publication date (Cover Sheet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published_on: Option<String>,
    /// Revision date (Cover Sheet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revised_on: Option<String>,
    /// Rows read per dataset.
    pub rows: BTreeMap<String, u64>,
    /// Why the file failed: the sheet and cell where recognition stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What a run did with one period of a publication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodInfo {
    /// `acute` or `community` for sitreps; absent for A&E.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setting: Option<String>,
    /// First day of the month.
    pub month: String,
    /// `added` (new), `replaced` (an earlier load of the period was replaced), or
    /// `kept_existing` (the file already published wins: a later revision, or, when the
    /// dates cannot be compared, one whose name says "revised"; the warnings say why).
    pub action: String,
    /// The file now holding the period.
    pub file: String,
    /// The file whose rows were replaced, or the newer file that was kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_file: Option<String>,
}

/// Pipeline identity.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PipelineInfo {
    /// Name.
    pub name: String,
    /// File.
    pub file: String,
    /// The ICB the pipeline serves, when it names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icb_code: Option<String>,
}

/// Key provenance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyInfo {
    /// `env`, `file` or `demo`.
    pub key_source: String,
    /// How pseudonyms are made ([`crate::normalise::pseudonym::Width::scheme`]); empty in
    /// manifests written before it was recorded (full 256-bit digests).
    #[serde(default)]
    pub scheme: String,
    /// Non-reversible key fingerprint.
    pub fingerprint: String,
}

/// One source's accounting.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// Quarantined rows with each reason code. A row with several reasons counts under
    /// each, so these can add up to more than `quarantined`.
    pub quarantine_reasons: BTreeMap<String, u64>,
    /// Threshold used for exit code 1.
    pub max_quarantine_fraction: f64,
    /// Accepted rows without an NHS number (blank, or left blank as invalid) where the
    /// contract lets the linkage key be blank: rows that link to nothing.
    #[serde(default)]
    pub without_nhs_number: u64,
    /// Their threshold for exit code 1 (a share of `accepted`).
    #[serde(default)]
    pub max_without_nhs_number_fraction: f64,
    /// What the source keys its persons by: `nhs_number`, or `pseudonym:<scheme>` for
    /// NHS numbers pseudonymised upstream; null when it fills no `person_id`. Persons
    /// link only between sources of one key.
    #[serde(default)]
    pub person_key: Option<String>,
}

/// One input file.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// Quarantined rows of this file with each reason code (a row with several counts
    /// under each).
    #[serde(default)]
    pub quarantine_reasons: BTreeMap<String, u64>,
    /// Undeclared columns found.
    pub extra_columns: Vec<String>,
    /// False when this run reused an earlier run's reading of the same file.
    pub read_this_run: bool,
}

/// Time spent in a stage.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StageTiming {
    /// Stage name.
    pub stage: String,
    /// Seconds.
    pub seconds: f64,
    /// Rows the stage produced, where it produces rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_out: Option<u64>,
}

/// One dataset written.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutputInfo {
    /// Dataset or quarantine name.
    pub dataset: String,
    /// `restricted`, `published` or `quarantine`.
    pub access: String,
    /// Folder relative to the data directory.
    pub path: String,
    /// Rows.
    pub rows: u64,
    /// File size.
    pub bytes: u64,
    /// Cells suppressed by disclosure control.
    pub suppressed_cells: u64,
    /// Cells suppressed per column.
    pub suppressed: BTreeMap<String, u64>,
    /// Files (one per month), and whether each was rewritten.
    pub partitions: Vec<crate::publish::partition::PartitionInfo>,
    /// The disclosure rule a published dataset passed (absent for other outputs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disclosure: Option<DisclosureInfo>,
    /// For a dataset whose gate suppresses the counts of small provider-months
    /// (`flow_daily`): the smallest population published and whether every count so
    /// suppressed lies below it. Absent for other outputs, and from manifests written
    /// before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub small_populations: Option<SmallPopulations>,
    /// Seconds spent computing the dataset's rows (a measure; reading, for an entity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_seconds: Option<f64>,
    /// Seconds spent on disclosure control and writing its files into staging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_seconds: Option<f64>,
}

impl OutputInfo {
    /// Totals from the partitions.
    pub fn new(
        dataset: &str,
        access: &str,
        path: &str,
        partitions: Vec<crate::publish::partition::PartitionInfo>,
        suppressed: BTreeMap<String, u64>,
        disclosure: Option<DisclosureInfo>,
    ) -> Self {
        OutputInfo {
            dataset: dataset.to_string(),
            access: access.to_string(),
            path: path.to_string(),
            rows: partitions.iter().map(|p| p.rows).sum(),
            bytes: partitions.iter().map(|p| p.bytes).sum(),
            suppressed_cells: suppressed.values().sum(),
            suppressed,
            partitions,
            disclosure,
            small_populations: None,
            compute_seconds: None,
            write_seconds: None,
        }
    }

    /// Records what the gate's population rule did to the dataset.
    pub fn with_small_populations(mut self, small: Option<SmallPopulations>) -> Self {
        self.small_populations = small;
        self
    }

    /// Records how long the dataset took to compute and to write (the per-dataset part
    /// of the manifest's time breakdown).
    pub fn with_timing(mut self, compute_seconds: f64, write_seconds: f64) -> Self {
        self.compute_seconds = Some(compute_seconds);
        self.write_seconds = Some(write_seconds);
        self
    }

    /// Partitions rewritten by this run.
    pub fn rewritten(&self) -> usize {
        self.partitions.iter().filter(|p| p.rewritten).count()
    }
}

/// The population rule of a published dataset's gate
/// ([`crate::publish::disclosure::GateSpec::population`]), as recorded in the manifest:
/// what a reader needs to say what a cell it suppressed can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmallPopulations {
    /// `[disclosure] daily_min_patients`: a provider-month with fewer distinct patients
    /// has every count of its days suppressed, zeros included.
    pub daily_min_patients: i64,
    /// Whether every count so suppressed was below `daily_min_patients`, checked on the
    /// rows published ([`crate::publish::disclosure::population_counts_below`]): each such
    /// cell then holds 0 to `daily_min_patients − 1`. False when a count was not (rows
    /// without an NHS number count as one patient at most), or when a closed month kept
    /// its earlier file, whose rows this run did not check.
    pub counts_below_minimum: bool,
}

/// The disclosure rule applied to a published dataset, as recorded in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum DisclosureInfo {
    /// Counts of people from 1 to `min_shown - 1` suppressed, the rest rounded to `round_to`.
    Threshold {
        /// Smallest count shown.
        min_shown: i64,
        /// Rounding base.
        round_to: i64,
        /// The dominance rule for totals of what people account for, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dominance: Option<crate::publish::disclosure::Dominance>,
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
                dominance,
            } => DisclosureInfo::Threshold {
                min_shown,
                round_to,
                dominance,
            },
            crate::publish::disclosure::Rule::None => DisclosureInfo::None,
        }
    }
}

/// What the CLD processing rules did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResolutionInfo {
    /// Social-care events before resolution.
    pub events_in: u64,
    /// Events replaced by the same event in a later submission.
    pub superseded_by_later_submission: u64,
    /// Kept events without an NHS number that got one from the same council person.
    pub person_key_backfilled: u64,
    /// Kept events with no NHS-number key (cannot link to NHS records).
    pub without_nhs_key: u64,
    /// Files not read because a later file of the same council and reporting period
    /// replaced them (their events are among `superseded_by_later_submission`).
    #[serde(default)]
    pub replaced_files: Vec<String>,
    /// Requests folded into an earlier request of the same person, council and route
    /// (NHS England's request clustering). Events in = kept + superseded + clustered.
    #[serde(default)]
    pub requests_clustered: u64,
    /// The latest reporting period end of the submissions read (`YYYY-MM-DD`): how far
    /// the social-care data cover. The report says where they end from this, not from
    /// its last month of requests, which with few people can be months earlier.
    #[serde(default)]
    pub reporting_period_end: Option<String>,
}
