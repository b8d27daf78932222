//! Publication rows → the published DataFrames, and merging a run's periods into what an
//! earlier run already published.
//!
//! Publication datasets are keyed by period: a sitrep dataset by `(setting,
//! report_month)`, `ae_monthly` by `month`. A run replaces the periods it loads and keeps
//! the others, so loading one folder after another accumulates months, and loading a
//! revised workbook replaces its period (idempotent: loading the same files twice gives
//! the same dataset). Rows are sorted on their keys, so the files are deterministic.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;

use super::ae::AeRow;
use super::sitrep::{Org, SitrepWorkbook};
use crate::publish::Dataset;

/// A period key: `(setting, first day of month)`; the setting is `None` for A&E.
pub type PeriodKey = (Option<String>, NaiveDate);

/// A period an existing dataset already holds, with the file it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingPeriod {
    /// The key.
    pub key: PeriodKey,
    /// `source_file` of its rows.
    pub file: String,
    /// The later of its revised and published dates, when known.
    pub stamp: Option<NaiveDate>,
}

const EPOCH_DAYS_CE: i32 = 719_163;

fn days(d: NaiveDate) -> i32 {
    use chrono::Datelike;
    d.num_days_from_ce() - EPOCH_DAYS_CE
}

fn date_col(name: &str, v: Vec<Option<NaiveDate>>) -> PolarsResult<Column> {
    Column::new(
        name.into(),
        v.into_iter()
            .map(|d| d.map(days))
            .collect::<Vec<Option<i32>>>(),
    )
    .cast(&DataType::Date)
}

fn str_col(name: &str, v: Vec<Option<String>>) -> Column {
    Column::new(name.into(), v)
}

/// Columns every sitrep dataset starts with and ends with.
struct SitrepCommon {
    setting: Vec<Option<String>>,
    report_month: Vec<Option<NaiveDate>>,
    org_level: Vec<Option<String>>,
    org_code: Vec<Option<String>>,
    org_name: Vec<Option<String>>,
    icb_code: Vec<Option<String>>,
    region: Vec<Option<String>>,
    source_file: Vec<Option<String>>,
    published_on: Vec<Option<NaiveDate>>,
    revised_on: Vec<Option<NaiveDate>>,
}

impl SitrepCommon {
    fn new() -> Self {
        SitrepCommon {
            setting: Vec::new(),
            report_month: Vec::new(),
            org_level: Vec::new(),
            org_code: Vec::new(),
            org_name: Vec::new(),
            icb_code: Vec::new(),
            region: Vec::new(),
            source_file: Vec::new(),
            published_on: Vec::new(),
            revised_on: Vec::new(),
        }
    }

    fn push(&mut self, wb: &SitrepWorkbook, file: &str, org: &Org) {
        self.setting.push(Some(wb.setting.name().to_string()));
        self.report_month.push(Some(wb.report_month));
        self.org_level.push(Some(org.level.name().to_string()));
        self.org_code.push(org.code.clone());
        self.org_name.push(Some(org.name.clone()));
        self.icb_code.push(org.icb_code.clone());
        self.region.push(org.region.clone());
        self.source_file.push(Some(file.to_string()));
        self.published_on.push(wb.published_on);
        self.revised_on.push(wb.revised_on);
    }

    /// `setting, report_month, <period>, org_level … region, <values>, source_file, published_on, revised_on`.
    fn frame(self, period: Column, values: Vec<Column>) -> PolarsResult<DataFrame> {
        let mut cols = vec![
            str_col("setting", self.setting),
            date_col("report_month", self.report_month)?,
            period,
            str_col("org_level", self.org_level),
            str_col("org_code", self.org_code),
            str_col("org_name", self.org_name),
            str_col("icb_code", self.icb_code),
            str_col("region", self.region),
        ];
        cols.extend(values);
        cols.push(str_col("source_file", self.source_file));
        cols.push(date_col("published_on", self.published_on)?);
        cols.push(date_col("revised_on", self.revised_on)?);
        DataFrame::new_infer_height(cols)
    }
}

/// Builds one sitrep dataset from the workbooks that won their period.
pub fn sitrep_frame(
    dataset: Dataset,
    workbooks: &[(&SitrepWorkbook, String)],
) -> PolarsResult<DataFrame> {
    let mut common = SitrepCommon::new();
    let mut period: Vec<Option<NaiveDate>> = Vec::new();
    let df = match dataset {
        Dataset::SitrepDaily => {
            let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
            for (wb, file) in workbooks {
                for r in &wb.daily {
                    common.push(wb, file, &r.org);
                    period.push(Some(r.date));
                    a.push(r.nctr);
                    b.push(r.discharged);
                    c.push(r.remaining_nctr);
                }
            }
            common.frame(
                date_col("date", period)?,
                vec![
                    Column::new("nctr".into(), a),
                    Column::new("discharged".into(), b),
                    Column::new("remaining_nctr".into(), c),
                ],
            )?
        }
        Dataset::SitrepBedDays => {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for (wb, file) in workbooks {
                for r in &wb.bed_days {
                    common.push(wb, file, &r.org);
                    period.push(Some(r.week_commencing));
                    a.push(r.los_threshold);
                    b.push(r.additional_bed_days);
                }
            }
            common.frame(
                date_col("week_commencing", period)?,
                vec![
                    Column::new("los_threshold".into(), a),
                    Column::new("additional_bed_days".into(), b),
                ],
            )?
        }
        Dataset::SitrepDestinations => {
            let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
            for (wb, file) in workbooks {
                for r in &wb.destinations {
                    common.push(wb, file, &r.org);
                    period.push(Some(r.month));
                    a.push(r.pathway.clone());
                    b.push(Some(r.destination_label.clone()));
                    c.push(r.discharges);
                }
            }
            common.frame(
                date_col("month", period)?,
                vec![
                    str_col("pathway", a),
                    str_col("destination_label", b),
                    Column::new("discharges".into(), c),
                ],
            )?
        }
        Dataset::SitrepDelayReasons => {
            let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
            for (wb, file) in workbooks {
                for r in &wb.reasons {
                    common.push(wb, file, &r.org);
                    period.push(Some(r.period_start));
                    a.push(r.reason_code.clone());
                    b.push(Some(r.reason_label.clone()));
                    c.push(r.avg_patients);
                }
            }
            common.frame(
                date_col("period_start", period)?,
                vec![
                    str_col("reason_code", a),
                    str_col("reason_label", b),
                    Column::new("avg_patients".into(), c),
                ],
            )?
        }
        other => {
            return Err(PolarsError::ComputeError(
                format!("{} is not a sitrep dataset", other.name()).into(),
            ));
        }
    };
    Ok(df)
}

/// Builds `ae_monthly` from rows and the file each came from.
pub fn ae_frame(rows: &[(&AeRow, String, &'static str)]) -> PolarsResult<DataFrame> {
    let s = |f: &dyn Fn(&AeRow) -> Option<String>| -> Vec<Option<String>> {
        rows.iter().map(|(r, ..)| f(r)).collect()
    };
    let n = |f: &dyn Fn(&AeRow) -> Option<i64>| -> Vec<Option<i64>> {
        rows.iter().map(|(r, ..)| f(r)).collect()
    };
    DataFrame::new_infer_height(vec![
        date_col("month", rows.iter().map(|(r, ..)| Some(r.month)).collect())?,
        str_col("org_code", s(&|r| Some(r.org_code.clone()))),
        str_col("org_name", s(&|r| r.org_name.clone())),
        str_col("parent_org", s(&|r| r.parent_org.clone())),
        str_col("department_type", s(&|r| Some(r.department_type.clone()))),
        Column::new("attendances".into(), n(&|r| r.attendances)),
        Column::new("over_4h".into(), n(&|r| r.over_4h)),
        Column::new(
            "emergency_admissions".into(),
            n(&|r| r.emergency_admissions),
        ),
        Column::new("booked_attendances".into(), n(&|r| r.booked_attendances)),
        Column::new("booked_over_4h".into(), n(&|r| r.booked_over_4h)),
        Column::new("dta_4_to_12h".into(), n(&|r| r.dta_4_to_12h)),
        Column::new("dta_over_12h".into(), n(&|r| r.dta_over_12h)),
        Column::new(
            "other_emergency_admissions".into(),
            n(&|r| r.other_emergency_admissions),
        ),
        str_col(
            "source_file",
            rows.iter().map(|(_, f, _)| Some(f.clone())).collect(),
        ),
        str_col(
            "layout",
            rows.iter().map(|(.., l)| Some(l.to_string())).collect(),
        ),
    ])
}

/// The sort keys of a publication dataset.
pub fn sort_keys(dataset: Dataset) -> &'static [&'static str] {
    match dataset {
        Dataset::SitrepDaily => &[
            "setting",
            "report_month",
            "date",
            "org_level",
            "org_code",
            "org_name",
        ],
        Dataset::SitrepBedDays => &[
            "setting",
            "report_month",
            "week_commencing",
            "los_threshold",
            "org_level",
            "org_code",
            "org_name",
        ],
        Dataset::SitrepDestinations => &[
            "setting",
            "report_month",
            "month",
            "org_level",
            "org_code",
            "org_name",
            "destination_label",
        ],
        Dataset::SitrepDelayReasons => &[
            "setting",
            "report_month",
            "period_start",
            "org_level",
            "org_code",
            "org_name",
            "reason_label",
        ],
        _ => &["month", "org_code", "department_type"],
    }
}

/// Reads the dataset an earlier run published into `dir`, if there is one: every
/// `*.parquet` file of the folder (one per month, `undated.parquet` for an empty dataset,
/// or a single `part-0.parquet` written before datasets were partitioned by month),
/// stacked in name order.
pub fn read_existing(dir: &Path) -> PolarsResult<Option<DataFrame>> {
    let io = |e: std::io::Error| PolarsError::IO {
        error: std::sync::Arc::new(e),
        msg: None,
    };
    if !dir.is_dir() {
        return Ok(None);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let visible = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| !n.starts_with('.'));
        if visible && path.extension().is_some_and(|e| e == "parquet") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    let mut frames = Vec::with_capacity(files.len());
    for path in files {
        let file = std::fs::File::open(&path).map_err(io)?;
        frames.push(ParquetReader::new(file).finish()?);
    }
    let Some(first) = frames.first() else {
        return Ok(None);
    };
    let mut all = first.clone();
    for df in &frames[1..] {
        all.vstack_mut(df)?;
    }
    all.rechunk_mut();
    Ok(Some(all))
}

/// The periods an existing dataset holds.
pub fn existing_periods(df: &DataFrame, dataset: Dataset) -> PolarsResult<Vec<ExistingPeriod>> {
    let sitrep = dataset != Dataset::AeMonthly;
    let month_col = if sitrep { "report_month" } else { "month" };
    let months = df.column(month_col)?.cast(&DataType::Int32)?;
    let months = months.i32()?;
    let files = df.column("source_file")?.str()?.clone();
    let settings = if sitrep {
        Some(df.column("setting")?.str()?.clone())
    } else {
        None
    };
    let stamps = if sitrep {
        let p = df.column("published_on")?.cast(&DataType::Int32)?;
        let r = df.column("revised_on")?.cast(&DataType::Int32)?;
        Some((p.i32()?.clone(), r.i32()?.clone()))
    } else {
        None
    };
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for i in 0..df.height() {
        let Some(m) = months
            .get(i)
            .and_then(|d| NaiveDate::from_num_days_from_ce_opt(d + EPOCH_DAYS_CE))
        else {
            continue;
        };
        let setting = settings.as_ref().and_then(|s| s.get(i)).map(String::from);
        let key = (setting, m);
        if !seen.insert(key.clone()) {
            continue;
        }
        let stamp = stamps.as_ref().and_then(|(p, r)| {
            r.get(i)
                .or(p.get(i))
                .and_then(|d| NaiveDate::from_num_days_from_ce_opt(d + EPOCH_DAYS_CE))
        });
        out.push(ExistingPeriod {
            key,
            file: files.get(i).unwrap_or("").to_string(),
            stamp,
        });
    }
    Ok(out)
}

/// The existing dataset without the periods in `drop`, then `new`, sorted.
pub fn merge(
    dataset: Dataset,
    existing: Option<DataFrame>,
    new: DataFrame,
    drop: &[PeriodKey],
) -> PolarsResult<DataFrame> {
    let mut frames = Vec::new();
    if let Some(old) = existing {
        let columns: Vec<Expr> = new
            .schema()
            .iter()
            .map(|(name, dtype)| col(name.clone()).cast(dtype.clone()))
            .collect();
        let sitrep = dataset != Dataset::AeMonthly;
        let month_col = if sitrep { "report_month" } else { "month" };
        let mut keep = lit(true);
        for (setting, month) in drop {
            let mut same = col(month_col).cast(DataType::Int32).eq(lit(days(*month)));
            if let Some(s) = setting {
                same = same.and(col("setting").eq(lit(s.clone())));
            }
            keep = keep.and(same.not());
        }
        frames.push(old.lazy().filter(keep).select(columns));
    }
    frames.push(new.lazy());
    let keys: Vec<PlSmallStr> = sort_keys(dataset).iter().map(|k| (*k).into()).collect();
    concat(frames, UnionArgs::default())?
        .sort(
            keys,
            SortMultipleOptions::default()
                .with_maintain_order(true)
                .with_nulls_last(false),
        )
        .collect()
}
