//! After publish, optionally: the HTML report a manager reads in five minutes.
//!
//! `joinedup report` (or `[pipeline] report = true`) reads the published datasets
//! (disclosure-controlled, but for NHS England's own figures, which section 7 shows as
//! published; `about` says so) (every month file of each dataset folder) and the latest
//! manifest of a run that published them — never `restricted/` — and
//! writes one self-contained file, `<out>/report/index.html`: inline CSS and SVG, no
//! scripts, no external requests, printable to A4.
//!
//! ```text
//!  published/<dataset>/*.parquet ─┐
//!  runs/<id>/manifest ────────────┴▶ data ─▶ period ─▶ sections (text, svg, html) ─▶ report/index.html
//! ```
//!
//! The report is a function of those files only (no clock, no environment), so the same
//! data always gives the same bytes.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::publish::Dataset;
use crate::publish::staging::write_atomic;

mod data;
pub(crate) mod format;
mod hidden;
mod html;
pub mod palette;
mod period;
mod sections;
mod svg;
mod text;

use data::ReportData;
use html::Page;
use period::Period;

/// Where the report goes, relative to the data directory.
pub const REPORT_PATH: &str = "report/index.html";

/// What `joinedup report` was asked for.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The ICB to compare in NHS England's sitrep (ODS code); found from the data if absent.
    /// Given, it must be an ICB in the sitrep data ([`Error::Usage`](crate::error::Error::Usage) otherwise).
    pub icb: Option<String>,
}

/// Builds the report page from the data directory `out`.
pub fn build(out: &Path, opts: &Options) -> Result<String> {
    let data = ReportData::load(out)?;
    let icb = sections::check_icb(data.sitrep.as_ref(), opts.icb.as_deref(), out)?;
    let period = Period::choose(&data);
    let cx = sections::Context {
        data: &data,
        period,
        icb: icb.as_deref(),
    };
    let sections = sections::all(&cx);

    let pipeline = data
        .manifest
        .as_ref()
        .map_or("joinedup".to_string(), |m| m.pipeline.name.clone());
    let mut subtitle = Vec::new();
    if let Some(p) = period {
        subtitle.push(format!(
            "Headline month: {}{}",
            format::month(p.month),
            p.data_end_note()
        ));
    }
    if let Some(m) = &data.manifest {
        subtitle.push(format!(
            "Run {} ({}), finished {}",
            m.run_id, m.status, m.finished_at
        ));
        // Stopped while or after switching its datasets into place, its state unsaved:
        // the data may mix its datasets with an earlier run's until the next run.
        if m.status == crate::app::PUBLISHING || m.status == crate::app::FAILED_AFTER_PUBLISHING {
            subtitle.push(
                "This run stopped after it began switching its datasets into place: some datasets may still be an earlier run's; the next run builds them all again"
                    .to_string(),
            );
        }
    }
    // Section 7, when shown, is NHS England's figures as published: not this run's rule.
    let republished = sections.iter().any(|s| s.id == sections::SITREP_ID);
    let about = about(&data, republished);
    let page = Page {
        title: format!("Discharge bottlenecks report: {pipeline}"),
        subtitle,
        sections,
        about,
        run_id: data.manifest.as_ref().map(|m| m.run_id.clone()),
    };
    Ok(page.render())
}

/// The "About this report" paragraphs: what it is built from, and what disclosure
/// control did. `republished` when section 7 shows NHS England's own figures, which are
/// republished as published (unsuppressed, unrounded): the privacy note is then said of
/// sections 1 to 6 only (it was said of the whole report, untrue for section 7).
fn about(data: &ReportData, republished: bool) -> Vec<String> {
    // The primary rule's range: 1 to min_shown − 1.
    let top = data
        .recorded(Dataset::Bottlenecks)
        .min_shown
        .or(data.recorded(Dataset::FlowDaily).min_shown)
        .filter(|m| *m > 1)
        .map(|m| m - 1);
    let rounding = data
        .round_to("bottlenecks")
        .or(data.round_to("flow_daily"))
        .filter(|r| *r > 1);
    let (built_from, scope) = if republished {
        (
            "the published datasets (disclosure-controlled, but for NHS England's own figures in section 7)",
            "In sections 1 to 6, to protect privacy",
        )
    } else {
        (
            "the published, disclosure-controlled datasets",
            "To protect privacy",
        )
    };
    let mut about = vec![
        format!(
            "Built by joinedup {} from {built_from} and the run manifest only. It holds no person-level data and makes no network requests.",
            env!("CARGO_PKG_VERSION")
        ),
        match top {
            Some(hi) => format!(
                "{scope}, counts of 1 to {hi} people, and figures based on them, are suppressed: they are shown as “suppressed (1–{hi})”, or “suppressed (1–{hi} people)” where the range is of the people a figure rests on (bed-days, records, a median), never as zero, and drawn hatched. A figure that is part of a suppressed one (the delayed discharges of a suppressed total) is suppressed with it, even when it is 0, so its range starts at 0.{} A share, a change, or a figure with no known top is shown as “suppressed”.{} A dash (–) means there is no value, for example a median over nobody.",
                small_populations(data),
                rounding
                    .map(|r| format!(
                        " Other counts are rounded to the nearest {r}, so figures need not add up."
                    ))
                    .unwrap_or_default()
            ),
            None => format!(
                "{scope}, counts of few people, and figures based on them, are suppressed: they are shown as “suppressed”, never as zero, and drawn hatched. A dash (–) means there is no value."
            ),
        },
    ];
    if republished {
        about.push(format!(
            "Section 7 republishes NHS England's published figures as NHS England published them: joinedup neither suppresses nor rounds them, so {} appear as published.",
            match top {
                Some(hi) => format!("counts of 1 to {hi}"),
                None => "small counts".to_string(),
            }
        ));
    }
    if let Some(d) = data
        .recorded(Dataset::Bottlenecks)
        .dominance
        .or(data.recorded(Dataset::DischargeDelays).dominance)
    {
        let who = if d.top == 1 {
            "one patient accounts"
        } else {
            "two patients account"
        };
        about.push(format!(
            "Delayed bed-days are also suppressed where {who} for more than {} % of them, so that a total is not shown where one patient's long wait makes most of it; they are shown as “suppressed”.",
            d.max_share_pct
        ));
    }
    about.push("Every chart has a data table: open “Data table” under it. Each published column is defined in schemas/shared/<dataset>.toml of the joinedup repository.".to_string());
    about
}

/// The privacy note's sentence on `flow_daily`'s small provider-months, when its gate
/// suppresses them: ` Every daily figure of a provider in a month it had fewer than 50
/// patients is suppressed too, zeros included: “suppressed (0–49)”.`; empty without
/// daily data.
fn small_populations(data: &ReportData) -> String {
    let bounds = data.bounds(Dataset::FlowDaily);
    let (Some(_), Some(small)) = (&data.flow, bounds.small_population()) else {
        return String::new();
    };
    let fewer = match bounds.recorded().small_populations {
        Some(s) => format!("fewer than {} patients", format::int(s.daily_min_patients)),
        None => "too few patients".to_string(),
    };
    let shown = match small.high {
        Some(h) => format!("“suppressed (0–{})”", format::int(h)),
        None => "“suppressed”, as no top is known".to_string(),
    };
    format!(
        " Every daily figure of a provider in a month it had {fewer} is suppressed too, zeros included: {shown}."
    )
}

/// `joinedup report`: [`write`] under the data directory's lock, so the page never mixes
/// datasets a run is switching into place with those it has not yet switched (nor the
/// manifest of the run before). A lock another run holds is [`Error::Busy`] (exit 6),
/// nothing written. (A run writes its own report while it holds the lock: [`write`].)
///
/// [`Error::Busy`]: crate::error::Error::Busy
pub fn write_locked(out: &Path, opts: &Options) -> Result<PathBuf> {
    // A data directory that is not there has nothing published: `write` says so (exit
    // 4); none is made to hold a lock.
    let _lock = if out.is_dir() {
        Some(crate::app::lock::acquire(out)?)
    } else {
        None
    };
    write(out, opts)
}

/// Whether `<out>/report/index.html` is there and describes the run it would describe if
/// written now (the latest that published: [`data`]). A run with nothing to do writes
/// the report again when it is not (deleted, or not written by the run that published:
/// its writing failed, or the run was killed, after that run saved its state).
pub fn is_current(out: &Path) -> bool {
    let Ok(page) = std::fs::read_to_string(out.join(REPORT_PATH)) else {
        return false;
    };
    let Ok((manifest, _)) = data::latest_manifest(out) else {
        return false;
    };
    let recorded = page
        .split_once(&format!("<meta name=\"{}\" content=\"", html::RUN_META))
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(id, _)| id);
    recorded == manifest.as_ref().map(|m| html::esc(&m.run_id)).as_deref()
}

/// Builds the report and writes it atomically to `<out>/report/index.html`.
pub fn write(out: &Path, opts: &Options) -> Result<PathBuf> {
    let page = build(out, opts)?;
    let path = out.join(REPORT_PATH);
    write_atomic(&path, page.as_bytes())?;
    tracing::info!(stage = "report", path = %path.display(), bytes = page.len(), "report written");
    Ok(path)
}
