//! Reads what the report shows: the published (disclosure-controlled) datasets and the
//! latest run manifest, into typed rows. Never opens `restricted/` or `quarantine/`.
//!
//! A gated column is read together with its `<column>_suppressed` flag into a [`Cell`], so
//! a suppressed value can never be mistaken for zero or for "no value"; what a suppressed
//! cell can stand for comes from the manifest's record of the rule ([`ReportData::bounds`],
//! worked out in `hidden`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;
use serde::Deserialize;

use super::hidden::{Bounds, GatedRow, Recorded};
use crate::error::{Error, Location, Result};
use crate::publish::Dataset;
use crate::publish::manifest::SmallPopulations;

/// The published datasets the report reads: folders under the data directory, each
/// holding one Parquet file per month (`<YYYY-MM>.parquet`, or `undated.parquet` /
/// `data.parquet`), which together are the dataset.
pub const BOTTLENECKS: &str = "published/bottlenecks";
/// Per provider and day.
pub const FLOW_DAILY: &str = "published/flow_daily";
/// Hospital-discharge requests to councils.
pub const SOCIAL_CARE_QUEUE: &str = "published/social_care_queue";
/// Match rates.
pub const LINKAGE_QUALITY: &str = "published/linkage_quality";
/// NHS England's daily discharge sitrep, when a publications pipeline has loaded it.
pub const SITREP_DAILY: &str = "published/sitrep_daily";

/// One published value: shown, suppressed by disclosure control, or empty (no value).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<T> {
    /// The published value.
    Shown(T),
    /// Null with its `_suppressed` flag true: hidden by disclosure control (what it can
    /// stand for depends on why: `hidden`).
    Suppressed,
    /// Null with no flag set: there is no value (e.g. a median over nobody).
    Empty,
}

impl<T: Copy> Cell<T> {
    /// The value, if shown.
    pub fn shown(self) -> Option<T> {
        match self {
            Cell::Shown(v) => Some(v),
            _ => None,
        }
    }

    /// Whether disclosure control hid the value.
    pub fn is_suppressed(self) -> bool {
        matches!(self, Cell::Suppressed)
    }
}

/// A row of `published/bottlenecks`.
#[derive(Debug, Clone)]
pub struct Bottleneck {
    /// First day of the discharge month.
    pub month: NaiveDate,
    /// 1 = most delayed bed-days that month among the groups whose bed-days are shown
    /// (computed before rounding); `None` where they are suppressed.
    pub rank: Option<i64>,
    /// Council of the linked social care, if any.
    pub la_code: Option<String>,
    /// Awaited service group, or `none`.
    pub awaited_service: String,
    /// Provider ODS code.
    pub provider_code: String,
    /// Delayed discharges in the group.
    pub delayed_discharges: Cell<i64>,
    /// Delayed bed-days in the group.
    pub delayed_bed_days: Cell<i64>,
    /// Delayed discharges in the month, all groups.
    pub system_delayed_discharges: Cell<i64>,
    /// Delayed bed-days in the month, all groups.
    pub system_delayed_bed_days: Cell<i64>,
    /// Share of the month's delayed bed-days, percent.
    pub share_of_system_pct: Cell<f64>,
    /// Change on the same group in the previous month.
    pub change_in_delayed_bed_days: Cell<i64>,
}

/// A row of `published/flow_daily`.
#[derive(Debug, Clone)]
pub struct FlowDay {
    /// Provider ODS code.
    pub provider_code: String,
    /// The day.
    pub date: NaiveDate,
    /// Elective admissions.
    pub admissions_elective: Cell<i64>,
    /// Emergency admissions.
    pub admissions_emergency: Cell<i64>,
    /// Maternity and other admissions.
    pub admissions_other: Cell<i64>,
    /// Discharges.
    pub discharges: Cell<i64>,
    /// Patients in hospital at midnight.
    pub occupied_beds_midnight: Cell<i64>,
    /// Of those, ready to leave.
    pub ready_to_leave_in_hospital: Cell<i64>,
    /// A&E arrivals.
    pub ae_arrivals: Cell<i64>,
    /// Of those, more than 4 hours in A&E.
    pub ae_over_4h: Cell<i64>,
    /// Of those, more than 12 hours in A&E.
    pub ae_over_12h: Cell<i64>,
}

/// The counts of a `published/flow_daily` row the report reads, by their column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowColumn {
    /// `admissions_elective`.
    AdmissionsElective,
    /// `admissions_emergency`.
    AdmissionsEmergency,
    /// `admissions_other`.
    AdmissionsOther,
    /// `discharges`.
    Discharges,
    /// `occupied_beds_midnight`.
    OccupiedBedsMidnight,
    /// `ready_to_leave_in_hospital`.
    ReadyToLeaveInHospital,
    /// `ae_arrivals`.
    AeArrivals,
    /// `ae_over_4h`.
    AeOver4h,
    /// `ae_over_12h`.
    AeOver12h,
}

impl FlowColumn {
    /// Every count of [`FlowDay`].
    pub const ALL: [FlowColumn; 9] = [
        FlowColumn::AdmissionsElective,
        FlowColumn::AdmissionsEmergency,
        FlowColumn::AdmissionsOther,
        FlowColumn::Discharges,
        FlowColumn::OccupiedBedsMidnight,
        FlowColumn::ReadyToLeaveInHospital,
        FlowColumn::AeArrivals,
        FlowColumn::AeOver4h,
        FlowColumn::AeOver12h,
    ];

    /// The published column.
    pub fn name(self) -> &'static str {
        match self {
            FlowColumn::AdmissionsElective => "admissions_elective",
            FlowColumn::AdmissionsEmergency => "admissions_emergency",
            FlowColumn::AdmissionsOther => "admissions_other",
            FlowColumn::Discharges => "discharges",
            FlowColumn::OccupiedBedsMidnight => "occupied_beds_midnight",
            FlowColumn::ReadyToLeaveInHospital => "ready_to_leave_in_hospital",
            FlowColumn::AeArrivals => "ae_arrivals",
            FlowColumn::AeOver4h => "ae_over_4h",
            FlowColumn::AeOver12h => "ae_over_12h",
        }
    }
}

impl FlowDay {
    /// The cell of `column`.
    pub fn get(&self, column: FlowColumn) -> Cell<i64> {
        match column {
            FlowColumn::AdmissionsElective => self.admissions_elective,
            FlowColumn::AdmissionsEmergency => self.admissions_emergency,
            FlowColumn::AdmissionsOther => self.admissions_other,
            FlowColumn::Discharges => self.discharges,
            FlowColumn::OccupiedBedsMidnight => self.occupied_beds_midnight,
            FlowColumn::ReadyToLeaveInHospital => self.ready_to_leave_in_hospital,
            FlowColumn::AeArrivals => self.ae_arrivals,
            FlowColumn::AeOver4h => self.ae_over_4h,
            FlowColumn::AeOver12h => self.ae_over_12h,
        }
    }
}

impl GatedRow for FlowDay {
    fn suppressed(&self, column: &str) -> Option<bool> {
        FlowColumn::ALL
            .into_iter()
            .find(|c| c.name() == column)
            .map(|c| self.get(c).is_suppressed())
    }
}

impl GatedRow for Bottleneck {
    fn suppressed(&self, column: &str) -> Option<bool> {
        Some(match column {
            "delayed_discharges" => self.delayed_discharges.is_suppressed(),
            "delayed_bed_days" => self.delayed_bed_days.is_suppressed(),
            "system_delayed_discharges" => self.system_delayed_discharges.is_suppressed(),
            "system_delayed_bed_days" => self.system_delayed_bed_days.is_suppressed(),
            "share_of_system_pct" => self.share_of_system_pct.is_suppressed(),
            "change_in_delayed_bed_days" => self.change_in_delayed_bed_days.is_suppressed(),
            _ => return None,
        })
    }
}

/// A row of `published/social_care_queue`.
#[derive(Debug, Clone)]
pub struct QueueRow {
    /// First day of the request month.
    pub month: NaiveDate,
    /// Council.
    pub la_code: String,
    /// Type of the first service started, or `not_started`.
    pub service_type: String,
    /// Hospital-discharge requests.
    pub requests: Cell<i64>,
    /// Of those, assessed.
    pub assessed: Cell<i64>,
    /// Median days from request to assessment.
    pub median_days_to_assessment: Cell<f64>,
    /// Of those, with a service started.
    pub service_started: Cell<i64>,
    /// Median days from request to service start.
    pub median_days_to_service: Cell<f64>,
    /// 90th percentile days from request to service start.
    pub p90_days_to_service: Cell<f64>,
    /// Requests still waiting at month end.
    pub still_waiting_at_month_end: Cell<i64>,
}

impl GatedRow for QueueRow {
    fn suppressed(&self, column: &str) -> Option<bool> {
        Some(match column {
            "requests" => self.requests.is_suppressed(),
            "assessed" => self.assessed.is_suppressed(),
            "median_days_to_assessment" => self.median_days_to_assessment.is_suppressed(),
            "service_started" => self.service_started.is_suppressed(),
            "median_days_to_service" => self.median_days_to_service.is_suppressed(),
            "p90_days_to_service" => self.p90_days_to_service.is_suppressed(),
            "still_waiting_at_month_end" => self.still_waiting_at_month_end.is_suppressed(),
            _ => return None,
        })
    }
}

/// A row of `published/linkage_quality`.
#[derive(Debug, Clone)]
pub struct LinkageRow {
    /// Pipeline source name.
    pub source: String,
    /// Council, if any.
    pub la_code: Option<String>,
    /// First day of the month.
    pub month: NaiveDate,
    /// Records.
    pub records: Cell<i64>,
    /// Records whose person appears in another source.
    pub linked_to_other_source: Cell<i64>,
    /// The same as a percentage of records.
    pub linked_pct: Cell<f64>,
    /// Hospital spells discharged after their ready date.
    pub delayed_spells: Cell<i64>,
    /// Of those, linked to a social-care service.
    pub delayed_spells_linked_to_social_care: Cell<i64>,
}

impl GatedRow for LinkageRow {
    fn suppressed(&self, column: &str) -> Option<bool> {
        Some(match column {
            "records" => self.records.is_suppressed(),
            "linked_to_other_source" => self.linked_to_other_source.is_suppressed(),
            "linked_pct" => self.linked_pct.is_suppressed(),
            "delayed_spells" => self.delayed_spells.is_suppressed(),
            "delayed_spells_linked_to_social_care" => {
                self.delayed_spells_linked_to_social_care.is_suppressed()
            }
            _ => return None,
        })
    }
}

/// A row of NHS England's daily discharge sitrep (`published/sitrep_daily`).
#[derive(Debug, Clone)]
pub struct SitrepRow {
    /// Setting, e.g. acute.
    pub setting: String,
    /// The day.
    pub date: NaiveDate,
    /// `england`, `region`, `icb` or `trust`.
    pub org_level: String,
    /// Organisation code (ODS code of an ICB or trust; none for England and regions).
    pub org_code: Option<String>,
    /// Organisation name.
    pub org_name: String,
    /// The ICB the organisation belongs to.
    pub icb_code: Option<String>,
    /// The NHS England region.
    pub region: Option<String>,
    /// Patients who no longer meet the criteria to reside.
    pub nctr: Option<i64>,
    /// Of those, discharged.
    pub discharged: Option<i64>,
    /// Of those, still in hospital.
    pub remaining_nctr: Option<i64>,
}

/// The parts of `runs/<id>/manifest.json` the report uses (read leniently: fields added
/// later are ignored).
#[derive(Debug, Clone, Deserialize)]
pub struct RunManifest {
    /// Run id.
    pub run_id: String,
    /// `ok` or `data_quality_warning`.
    pub status: String,
    /// Pipeline name.
    pub pipeline: PipelineRef,
    /// UTC end.
    pub finished_at: String,
    /// The run's date, `YYYY-MM-DD` (absent from older manifests: then `finished_at`'s).
    #[serde(default)]
    pub run_date: String,
    /// Per-source accounting.
    #[serde(default)]
    pub sources: Vec<SourceCounts>,
    /// What the CLD rules did.
    pub social_care_resolution: Option<Resolution>,
    /// Datasets written.
    #[serde(default)]
    pub outputs: Vec<OutputRef>,
    /// Warnings.
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl RunManifest {
    /// The run's date: its `run_date`, else the day it finished (an older manifest);
    /// `None` when neither reads as a date.
    pub fn run_day(&self) -> Option<chrono::NaiveDate> {
        [
            self.run_date.as_str(),
            self.finished_at.get(..10).unwrap_or(""),
        ]
        .into_iter()
        .find_map(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    }
}

/// Pipeline identity.
#[derive(Debug, Clone, Deserialize)]
pub struct PipelineRef {
    /// Name.
    pub name: String,
    /// The ICB the pipeline serves (`[pipeline] icb_code`), when named.
    pub icb_code: Option<String>,
}

/// One source's row accounting.
#[derive(Debug, Clone, Deserialize)]
pub struct SourceCounts {
    /// Source name.
    pub name: String,
    /// Rows read.
    pub rows_in: u64,
    /// Rows accepted.
    pub accepted: u64,
    /// Rows quarantined.
    pub quarantined: u64,
    /// Quarantined rows per reason code.
    #[serde(default)]
    pub quarantine_reasons: BTreeMap<String, u64>,
    /// Accepted rows without an NHS number where the contract lets the linkage key be
    /// blank (hospital, A&E); 0 in manifests from before it was counted.
    #[serde(default)]
    pub without_nhs_number: u64,
}

/// CLD resolution counts.
#[derive(Debug, Clone, Deserialize)]
pub struct Resolution {
    /// Events before resolution.
    pub events_in: u64,
    /// Replaced by a later submission.
    pub superseded_by_later_submission: u64,
    /// Given an NHS-number key from the same council person.
    pub person_key_backfilled: u64,
    /// Without an NHS-number key.
    pub without_nhs_key: u64,
    /// Requests folded into an earlier one (request clustering).
    #[serde(default)]
    pub requests_clustered: u64,
    /// The latest reporting period end of the submissions read: how far the social-care
    /// data cover. Absent from manifests of earlier versions (then not known).
    #[serde(default, deserialize_with = "optional_date")]
    pub reporting_period_end: Option<NaiveDate>,
}

/// An optional `YYYY-MM-DD` date of the manifest; anything else makes it no manifest the
/// report can read (its line named).
fn optional_date<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<NaiveDate>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(t) => NaiveDate::parse_from_str(&t, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("\"{t}\" is not a date (yyyy-mm-dd)"))),
    }
}

/// One dataset the run wrote.
#[derive(Debug, Clone, Deserialize)]
pub struct OutputRef {
    /// Dataset name.
    pub dataset: String,
    /// `restricted`, `published` or `quarantine`.
    pub access: String,
    /// Rows.
    pub rows: u64,
    /// Cells suppressed.
    #[serde(default)]
    pub suppressed_cells: u64,
    /// Cells suppressed per column.
    #[serde(default)]
    pub suppressed: BTreeMap<String, u64>,
    /// The disclosure rule, when the manifest records it.
    pub disclosure: Option<RuleRef>,
    /// What the gate's population rule did (`flow_daily`), when the manifest records it
    /// (absent from older manifests: then a cell it suppressed has no known top).
    #[serde(default)]
    pub small_populations: Option<SmallPopulations>,
}

/// A disclosure rule as recorded in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum RuleRef {
    /// Counts from 1 to `min_shown - 1` suppressed, others rounded to `round_to`.
    Threshold {
        /// Smallest count shown.
        min_shown: i64,
        /// Rounding base.
        round_to: i64,
        /// The dominance rule for totals, when one applied.
        #[serde(default)]
        dominance: Option<crate::publish::disclosure::Dominance>,
    },
    /// No suppression.
    None,
}

/// Everything the report reads. A dataset the pipeline did not write is `None`.
#[derive(Debug, Clone, Default)]
pub struct ReportData {
    /// The latest manifest of a run that wrote the published datasets.
    pub manifest: Option<RunManifest>,
    /// `published/bottlenecks`.
    pub bottlenecks: Option<Vec<Bottleneck>>,
    /// `published/flow_daily`.
    pub flow: Option<Vec<FlowDay>>,
    /// `published/social_care_queue`.
    pub queue: Option<Vec<QueueRow>>,
    /// `published/linkage_quality`.
    pub linkage: Option<Vec<LinkageRow>>,
    /// `published/sitrep_daily` (NHS England), when loaded; `Err` says why it could not
    /// be read (another pipeline writes it, so the report shows the problem in its section
    /// rather than failing).
    pub sitrep: Option<std::result::Result<Vec<SitrepRow>, String>>,
    /// When no run published the person-level datasets (`manifest` is `None`): the
    /// pipelines whose runs `runs/` holds (NHS England publications, say), so the report
    /// says there is no person-level run rather than no manifest.
    pub other_pipelines: BTreeSet<String>,
}

/// The published datasets a joinedup run writes, by name (used to find its manifest).
const RUN_DATASETS: [&str; 5] = [
    "discharge_delays",
    "flow_daily",
    "social_care_queue",
    "bottlenecks",
    "linkage_quality",
];

impl ReportData {
    /// Reads the published datasets and the latest manifest under the data directory.
    pub fn load(out: &Path) -> Result<Self> {
        let (manifest, other_pipelines) = latest_manifest(out)?;
        let read = |rel: &str| -> Result<Option<Frame>> {
            let dataset = rel.trim_start_matches("published/");
            Frame::open(&out.join(rel), flags_required(manifest.as_ref(), dataset))
        };
        // The manifest last: `read` borrows it until then.
        let data = ReportData {
            bottlenecks: read(BOTTLENECKS)?.map(|f| bottlenecks(&f)).transpose()?,
            flow: read(FLOW_DAILY)?.map(|f| flow(&f)).transpose()?,
            queue: read(SOCIAL_CARE_QUEUE)?.map(|f| queue(&f)).transpose()?,
            linkage: read(LINKAGE_QUALITY)?.map(|f| linkage(&f)).transpose()?,
            sitrep: match read(SITREP_DAILY) {
                Ok(None) => None,
                r => Some(r.and_then(|f| sitrep(&f.expect("not None"))).map_err(|e| {
                    tracing::warn!(stage = "report", error = %e, "NHS England sitrep not shown");
                    e.to_string()
                })),
            },
            manifest,
            other_pipelines,
        };
        if data.manifest.is_none()
            && data.bottlenecks.is_none()
            && data.flow.is_none()
            && data.queue.is_none()
            && data.linkage.is_none()
            && data.sitrep.is_none()
        {
            return Err(Error::SourceUnavailable {
                source_name: "published".to_string(),
                message: format!(
                    "no published datasets and no run manifest under {}; run `joinedup run --out {}` first",
                    out.display(),
                    out.display()
                ),
            });
        }
        Ok(data)
    }

    /// What the manifest records of the rule `dataset` was written under (nothing, without
    /// a manifest or with one that does not record it, or under a rule that suppresses
    /// nothing).
    pub fn recorded(&self, dataset: Dataset) -> Recorded {
        let Some(o) = self
            .manifest
            .iter()
            .flat_map(|m| &m.outputs)
            .find(|o| o.dataset == dataset.name())
        else {
            return Recorded::default();
        };
        match o.disclosure {
            Some(RuleRef::Threshold {
                min_shown,
                round_to,
                dominance,
            }) => Recorded {
                min_shown: Some(min_shown),
                round_to: Some(round_to),
                small_populations: o.small_populations,
                dominance,
            },
            _ => Recorded::default(),
        }
    }

    /// What the suppressed cells of `dataset` can stand for.
    pub fn bounds(&self, dataset: Dataset) -> Bounds {
        Bounds::new(dataset, self.recorded(dataset))
    }

    /// The rule for counts the report takes from the manifest (rows received, quarantined,
    /// resolved): the strictest of the rules the run's published datasets were written
    /// under (the largest smallest-shown count and rounding base), or the HES rule when the
    /// manifest records none. Counts are shown no more exactly than the data they describe.
    pub fn counts_rule(&self) -> crate::publish::disclosure::Rule {
        use crate::publish::disclosure::Rule;
        let recorded = self
            .manifest
            .iter()
            .flat_map(|m| &m.outputs)
            .filter_map(|o| match o.disclosure? {
                RuleRef::Threshold {
                    min_shown,
                    round_to,
                    ..
                } => Some((min_shown, round_to)),
                RuleRef::None => None,
            });
        recorded
            .reduce(|(a, b), (c, d)| (a.max(c), b.max(d)))
            .map_or(Rule::HES, |(min_shown, round_to)| Rule::Threshold {
                min_shown,
                round_to,
                dominance: None,
            })
    }

    /// The rounding base of shown counts of `dataset`, when recorded.
    pub fn round_to(&self, dataset: &str) -> Option<i64> {
        let m = self.manifest.as_ref()?;
        let o = m.outputs.iter().find(|o| o.dataset == dataset)?;
        match o.disclosure? {
            RuleRef::Threshold { round_to, .. } => Some(round_to),
            RuleRef::None => None,
        }
    }
}

#[cfg(test)]
impl ReportData {
    /// Data with a manifest whose `outputs` are as given (JSON, as a run writes them).
    pub fn with_outputs(outputs: serde_json::Value) -> Self {
        let manifest = serde_json::json!({
            "run_id": "20261101T000000.000Z-1",
            "status": "ok",
            "pipeline": {"name": "sample"},
            "finished_at": "2026-11-01T00:00:00Z",
            "outputs": outputs,
        });
        ReportData {
            manifest: Some(serde_json::from_value(manifest).expect("a manifest")),
            ..Default::default()
        }
    }
}

/// Whether `dataset`'s gated columns must come with their `<column>_suppressed` flags: unless
/// the manifest records that its rule suppresses nothing. Without a flag a suppressed
/// cell (null) would read as no value, shown as "–" and added up as 0 (regression,
/// review: flow_daily and bottlenecks with their flag columns dropped gave exact-looking
/// totals); a rule not recorded is taken to suppress, as the default rule does.
fn flags_required(manifest: Option<&RunManifest>, dataset: &str) -> bool {
    let rule = manifest
        .and_then(|m| m.outputs.iter().find(|o| o.dataset == dataset))
        .and_then(|o| o.disclosure);
    !matches!(rule, Some(RuleRef::None))
}

/// The newest `runs/<id>/manifest.json` that lists one of the published datasets (run ids
/// start with their UTC start time, so name order is time order), and the pipelines of
/// the newer runs passed over. Manifests of runs that published none of them are passed
/// over: an up-to-date run (nothing to do, no outputs) and a publications run writing
/// NHS England's datasets into the same data directory.
pub(super) fn latest_manifest(out: &Path) -> Result<(Option<RunManifest>, BTreeSet<String>)> {
    let mut passed_over = BTreeSet::new();
    let runs = out.join("runs");
    let entries = match std::fs::read_dir(&runs) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((None, passed_over)),
        Err(e) => return Err(Error::io("listing", &runs, e)),
    };
    let mut dirs: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("listing", &runs, e))?;
        dirs.push(entry.path());
    }
    dirs.sort();
    for dir in dirs.iter().rev() {
        let path = dir.join("manifest.json");
        if !path.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io("reading", &path, e))?;
        let m: RunManifest = serde_json::from_str(&text).map_err(|e| Error::InputRejected {
            location: Location {
                file: path.clone(),
                line: Some(e.line() as u64),
                column: None,
            },
            message: format!("not a joinedup run manifest: {e}"),
        })?;
        let writes_published = m
            .outputs
            .iter()
            .any(|o| o.access == "published" && RUN_DATASETS.contains(&o.dataset.as_str()));
        if writes_published {
            return Ok((Some(m), passed_over));
        }
        passed_over.insert(m.pipeline.name);
    }
    Ok((None, passed_over))
}

fn bottlenecks(f: &Frame) -> Result<Vec<Bottleneck>> {
    let month = f.required("month", f.dates("month")?)?;
    let rank = f.ints("rank")?;
    let la_code = f.strings("la_code")?;
    let awaited = f.required("awaited_service", f.strings("awaited_service")?)?;
    let provider = f.required("provider_code", f.strings("provider_code")?)?;
    let dd = f.int_cells("delayed_discharges")?;
    let dbd = f.int_cells("delayed_bed_days")?;
    let sdd = f.int_cells("system_delayed_discharges")?;
    let sdbd = f.int_cells("system_delayed_bed_days")?;
    let share = f.float_cells("share_of_system_pct")?;
    let change = f.int_cells("change_in_delayed_bed_days")?;
    Ok((0..f.height())
        .map(|i| Bottleneck {
            month: month[i],
            rank: rank[i],
            la_code: la_code[i].clone(),
            awaited_service: awaited[i].clone(),
            provider_code: provider[i].clone(),
            delayed_discharges: dd[i],
            delayed_bed_days: dbd[i],
            system_delayed_discharges: sdd[i],
            system_delayed_bed_days: sdbd[i],
            share_of_system_pct: share[i],
            change_in_delayed_bed_days: change[i],
        })
        .collect())
}

fn flow(f: &Frame) -> Result<Vec<FlowDay>> {
    let provider = f.required("provider_code", f.strings("provider_code")?)?;
    let date = f.required("date", f.dates("date")?)?;
    let el = f.int_cells("admissions_elective")?;
    let em = f.int_cells("admissions_emergency")?;
    let ot = f.int_cells("admissions_other")?;
    let dis = f.int_cells("discharges")?;
    let occ = f.int_cells("occupied_beds_midnight")?;
    let ready = f.int_cells("ready_to_leave_in_hospital")?;
    let arr = f.int_cells("ae_arrivals")?;
    let o4 = f.int_cells("ae_over_4h")?;
    let o12 = f.int_cells("ae_over_12h")?;
    Ok((0..f.height())
        .map(|i| FlowDay {
            provider_code: provider[i].clone(),
            date: date[i],
            admissions_elective: el[i],
            admissions_emergency: em[i],
            admissions_other: ot[i],
            discharges: dis[i],
            occupied_beds_midnight: occ[i],
            ready_to_leave_in_hospital: ready[i],
            ae_arrivals: arr[i],
            ae_over_4h: o4[i],
            ae_over_12h: o12[i],
        })
        .collect())
}

fn queue(f: &Frame) -> Result<Vec<QueueRow>> {
    let month = f.required("month", f.dates("month")?)?;
    let la = f.required("la_code", f.strings("la_code")?)?;
    let service = f.required("service_type", f.strings("service_type")?)?;
    let requests = f.int_cells("requests")?;
    let assessed = f.int_cells("assessed")?;
    let med_a = f.float_cells("median_days_to_assessment")?;
    let started = f.int_cells("service_started")?;
    let med_s = f.float_cells("median_days_to_service")?;
    let p90_s = f.float_cells("p90_days_to_service")?;
    let waiting = f.int_cells("still_waiting_at_month_end")?;
    Ok((0..f.height())
        .map(|i| QueueRow {
            month: month[i],
            la_code: la[i].clone(),
            service_type: service[i].clone(),
            requests: requests[i],
            assessed: assessed[i],
            median_days_to_assessment: med_a[i],
            service_started: started[i],
            median_days_to_service: med_s[i],
            p90_days_to_service: p90_s[i],
            still_waiting_at_month_end: waiting[i],
        })
        .collect())
}

fn linkage(f: &Frame) -> Result<Vec<LinkageRow>> {
    let source = f.required("source", f.strings("source")?)?;
    let la = f.strings("la_code")?;
    let month = f.required("month", f.dates("month")?)?;
    let records = f.int_cells("records")?;
    let linked = f.int_cells("linked_to_other_source")?;
    let pct = f.float_cells("linked_pct")?;
    let delayed = f.int_cells("delayed_spells")?;
    let delayed_linked = f.int_cells("delayed_spells_linked_to_social_care")?;
    Ok((0..f.height())
        .map(|i| LinkageRow {
            source: source[i].clone(),
            la_code: la[i].clone(),
            month: month[i],
            records: records[i],
            linked_to_other_source: linked[i],
            linked_pct: pct[i],
            delayed_spells: delayed[i],
            delayed_spells_linked_to_social_care: delayed_linked[i],
        })
        .collect())
}

fn sitrep(f: &Frame) -> Result<Vec<SitrepRow>> {
    let setting = f.required("setting", f.strings("setting")?)?;
    let date = f.required("date", f.dates("date")?)?;
    let level = f.required("org_level", f.strings("org_level")?)?;
    let code = f.strings("org_code")?;
    let name = f.strings("org_name")?;
    let icb = f.strings("icb_code")?;
    let region = f.strings("region")?;
    let nctr = f.ints("nctr")?;
    let discharged = f.ints("discharged")?;
    let remaining = f.ints("remaining_nctr")?;
    Ok((0..f.height())
        .map(|i| SitrepRow {
            setting: setting[i].clone(),
            date: date[i],
            org_level: level[i].to_ascii_lowercase(),
            org_code: code[i].clone(),
            org_name: name[i]
                .clone()
                .or_else(|| code[i].clone())
                .unwrap_or_else(|| level[i].clone()),
            icb_code: icb[i].clone(),
            region: region[i].clone(),
            nctr: nctr[i],
            discharged: discharged[i],
            remaining_nctr: remaining[i],
        })
        .collect())
}

/// One published dataset (every month file of its folder), read whole, with typed column
/// accessors that name the folder and column in every error.
struct Frame {
    path: PathBuf,
    df: DataFrame,
    /// Whether a gated column without its `_suppressed` flag is a rejected input.
    flags_required: bool,
}

/// Days from 0001-01-01 (chrono's day 1) to 1970-01-01.
const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// The Parquet files of a dataset folder, in name order (months in order); hidden files
/// are not part of the dataset.
fn dataset_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("listing", dir, e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| Error::io("listing", dir, e))?.path();
        let visible = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| !n.starts_with('.'));
        if visible && path.extension().is_some_and(|e| e == "parquet") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Why a dataset folder could not be read, naming the file at fault: one that is not a
/// readable Parquet file, or one whose columns differ from the rest of its dataset. A
/// published file the report cannot use is a rejected input (exit 3), as a column of the
/// wrong type or a broken manifest is, not a fault of joinedup (regression: a corrupt
/// month file exited 5, "internal error", naming only its folder). Each file is read on
/// its own here, only when reading them together failed.
///
/// The files are compared with the columns most of them have (the newest file's among
/// equals), so the odd one out is named with what it lacks: comparing every file with
/// the oldest named the wrong file when the oldest was the odd one (regression, review).
fn unreadable(dir: &Path, files: &[PathBuf], e: PolarsError) -> Error {
    let rejected = |file: &Path, message: String| Error::InputRejected {
        location: Location {
            file: file.to_path_buf(),
            line: None,
            column: None,
        },
        message,
    };
    // Each file's columns and their types.
    let mut schemas: Vec<BTreeMap<String, String>> = Vec::new();
    for f in files {
        let file = match std::fs::File::open(f) {
            Ok(file) => file,
            Err(e) => return Error::io("opening", f, e),
        };
        let mut reader = ParquetReader::new(file);
        let columns = match reader.schema() {
            Ok(schema) => schema
                .iter()
                .map(|(name, field)| (name.to_string(), format!("{:?}", field.dtype)))
                .collect(),
            Err(e) => return rejected(f, format!("not a readable Parquet file ({e})")),
        };
        if let Err(e) = reader.finish() {
            return rejected(f, format!("not a readable Parquet file ({e})"));
        }
        schemas.push(columns);
    }
    let Some(reference) = (0..schemas.len())
        .max_by_key(|&i| (schemas.iter().filter(|s| **s == schemas[i]).count(), i))
    else {
        return rejected(
            dir,
            format!("the dataset's files cannot be read together ({e})"),
        );
    };
    let name = |i: usize| {
        files[i]
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    };
    let odd: Vec<usize> = (0..schemas.len())
        .filter(|&i| schemas[i] != schemas[reference])
        .collect();
    let Some(&first) = odd.first() else {
        return rejected(
            dir,
            format!("the dataset's files cannot be read together ({e})"),
        );
    };
    let (here, there) = (&schemas[first], &schemas[reference]);
    let list = |a: &BTreeMap<String, String>, b: &BTreeMap<String, String>| {
        a.keys()
            .filter(|c| !b.contains_key(*c))
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (lacks, extra) = (list(there, here), list(here, there));
    let others = match &odd[1..] {
        [] => String::new(),
        rest => format!(
            "; {} of the same dataset differ too",
            rest.iter().map(|&i| name(i)).collect::<Vec<_>>().join(", ")
        ),
    };
    let like = match schemas.iter().filter(|s| **s == schemas[reference]).count() - 1 {
        0 => format!("{}, the newest file of the same dataset", name(reference)),
        k => format!(
            "{} and {k} other file{} of the same dataset",
            name(reference),
            if k == 1 { "" } else { "s" }
        ),
    };
    let message = if lacks.is_empty() && extra.is_empty() {
        let (column, t) = here
            .iter()
            .find(|(c, t)| there.get(*c) != Some(*t))
            .map_or((String::new(), String::new()), |(c, t)| {
                (c.clone(), t.clone())
            });
        format!("column {column} is of another type ({t}) than in {like}{others}")
    } else {
        format!(
            "its columns differ from those of {like}{}{}{others}",
            if lacks.is_empty() {
                String::new()
            } else {
                format!("; it lacks {lacks}")
            },
            if extra.is_empty() {
                String::new()
            } else {
                format!("; it has {extra} besides")
            }
        )
    };
    rejected(&files[first], message)
}

impl Frame {
    /// Reads every file of the dataset folder `dir` as one frame; `None` when the folder
    /// does not exist or holds no Parquet file (the pipeline does not write the dataset).
    /// `flags_required`: see [`flags_required`].
    fn open(dir: &Path, flags_required: bool) -> Result<Option<Self>> {
        let files = dataset_files(dir)?;
        if files.is_empty() {
            return Ok(None);
        }
        let paths: Vec<PlRefPath> = files
            .iter()
            .map(|f| PlRefPath::new(f.to_string_lossy().as_ref()))
            .collect();
        let df = LazyFrame::scan_parquet_files(paths.into(), ScanArgsParquet::default())
            .and_then(LazyFrame::collect)
            .map_err(|e| unreadable(dir, &files, e))?;
        Ok(Some(Frame {
            path: dir.to_path_buf(),
            df,
            flags_required,
        }))
    }

    fn height(&self) -> usize {
        self.df.height()
    }

    fn bad(&self, column: &str, message: String) -> Error {
        Error::InputRejected {
            location: Location {
                file: self.path.clone(),
                line: None,
                column: Some(column.to_string()),
            },
            message,
        }
    }

    fn column(&self, name: &str) -> Result<&Column> {
        self.df.column(name).map_err(|_| {
            let found: Vec<String> = self
                .df
                .get_column_names()
                .iter()
                .map(|c| c.to_string())
                .collect();
            self.bad(
                name,
                format!(
                    "column missing from a published dataset; found {}",
                    found.join(", ")
                ),
            )
        })
    }

    fn engine(&self, name: &str, e: PolarsError) -> Error {
        Error::engine(format!("reading {} column {name}", self.path.display()), e)
    }

    fn strings(&self, name: &str) -> Result<Vec<Option<String>>> {
        let c = self.column(name)?;
        if !matches!(c.dtype(), DataType::String) {
            return Err(self.bad(name, format!("expected text, found {}", c.dtype())));
        }
        let s = c.str().map_err(|e| self.engine(name, e))?;
        Ok(s.iter().map(|v| v.map(str::to_string)).collect())
    }

    fn dates(&self, name: &str) -> Result<Vec<Option<NaiveDate>>> {
        let c = self.column(name)?;
        match c.dtype() {
            DataType::Date => {
                let d = c.date().map_err(|e| self.engine(name, e))?;
                Ok(d.physical()
                    .iter()
                    .map(|v| {
                        v.and_then(|days| {
                            NaiveDate::from_num_days_from_ce_opt(days + UNIX_EPOCH_DAYS_FROM_CE)
                        })
                    })
                    .collect())
            }
            DataType::String => {
                let s = c.str().map_err(|e| self.engine(name, e))?;
                s.iter()
                    .map(|v| match v {
                        None => Ok(None),
                        Some(t) => NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d")
                            .map(Some)
                            .map_err(|_| {
                                self.bad(name, format!("\"{t}\" is not a date (yyyy-mm-dd)"))
                            }),
                    })
                    .collect()
            }
            other => Err(self.bad(name, format!("expected a date, found {other}"))),
        }
    }

    fn ints(&self, name: &str) -> Result<Vec<Option<i64>>> {
        let c = self.column(name)?;
        if c.dtype().is_float() {
            // Whole numbers stored as floats (e.g. read from a spreadsheet) are accepted.
            return self
                .floats(name)?
                .into_iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Some(f as i64)),
                    Some(f) => {
                        Err(self.bad(name, format!("row {}: {f} is not a whole number", i + 1)))
                    }
                    None => Ok(None),
                })
                .collect();
        }
        if !c.dtype().is_integer() {
            return Err(self.bad(
                name,
                format!("expected a whole number, found {}", c.dtype()),
            ));
        }
        let c = c.cast(&DataType::Int64).map_err(|e| self.engine(name, e))?;
        let v = c.i64().map_err(|e| self.engine(name, e))?;
        Ok(v.iter().collect())
    }

    fn floats(&self, name: &str) -> Result<Vec<Option<f64>>> {
        let c = self.column(name)?;
        if !c.dtype().is_primitive_numeric() {
            return Err(self.bad(name, format!("expected a number, found {}", c.dtype())));
        }
        let c = c
            .cast(&DataType::Float64)
            .map_err(|e| self.engine(name, e))?;
        let v = c.f64().map_err(|e| self.engine(name, e))?;
        Ok(v.iter().collect())
    }

    /// The `<name>_suppressed` flags. A dataset without the column is a rejected input
    /// when its rule suppresses ([`flags_required`]); otherwise nothing in it is
    /// suppressed.
    fn flags(&self, name: &str) -> Result<Vec<bool>> {
        let flag = format!("{name}_suppressed");
        let Ok(c) = self.df.column(&flag) else {
            if self.flags_required {
                return Err(self.bad(
                    &flag,
                    format!(
                        "column missing from a published dataset: without it a suppressed {name} could not be told from no value (the disclosure rule suppresses small counts)"
                    ),
                ));
            }
            return Ok(vec![false; self.height()]);
        };
        let b = c.bool().map_err(|e| self.engine(&flag, e))?;
        Ok(b.iter().map(|v| v.unwrap_or(false)).collect())
    }

    fn cells<T>(&self, name: &str, values: Vec<Option<T>>) -> Result<Vec<Cell<T>>> {
        let flags = self.flags(name)?;
        values
            .into_iter()
            .zip(flags)
            .map(|(v, suppressed)| match (v, suppressed) {
                (Some(v), false) => Ok(Cell::Shown(v)),
                (None, true) => Ok(Cell::Suppressed),
                (None, false) => Ok(Cell::Empty),
                (Some(_), true) => Err(self.bad(
                    name,
                    "a value is present although its _suppressed flag is true".to_string(),
                )),
            })
            .collect()
    }

    fn int_cells(&self, name: &str) -> Result<Vec<Cell<i64>>> {
        let v = self.ints(name)?;
        self.cells(name, v)
    }

    fn float_cells(&self, name: &str) -> Result<Vec<Cell<f64>>> {
        let v = self.floats(name)?;
        self.cells(name, v)
    }

    fn required<T>(&self, name: &str, values: Vec<Option<T>>) -> Result<Vec<T>> {
        values
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                v.ok_or_else(|| self.bad(name, format!("row {}: a required value is null", i + 1)))
            })
            .collect()
    }
}
