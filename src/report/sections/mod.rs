//! The report's sections, one file each, in reading order. Each takes what it needs from
//! the published data and returns its heading, period, one-sentence reading and body.

use super::data::{Cell, ReportData};
use super::format;
use super::hidden::Hidden;
use super::html::{Section, Td};
use super::period::Period;

mod ae;
mod flow;
mod headline;
mod quality;
mod queue;
mod sitrep;
mod waits;

/// What every section reads.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The published data and manifest.
    pub data: &'a ReportData,
    /// The periods, when there is any monthly or daily data.
    pub period: Option<Period>,
    /// The ICB to compare in NHS England's sitrep, when given.
    pub icb: Option<&'a str>,
}

/// The id of section 7, NHS England's sitrep (shown only when its data is loaded).
pub const SITREP_ID: &str = sitrep::ID;

pub use sitrep::check_icb;

/// Every section, in order; the NHS England comparison only when its data is loaded.
pub fn all(cx: &Context) -> Vec<Section> {
    let mut out = vec![
        headline::section(cx),
        waits::section(cx),
        flow::section(cx),
        queue::section(cx),
        ae::section(cx),
        quality::section(cx),
    ];
    if let Some(s) = sitrep::section(cx) {
        out.push(s);
    }
    out
}

/// A section with nothing to show: its dataset is not in the data directory (not
/// published by the pipelines that wrote into it, or removed since), or it is (`present`)
/// but holds no rows for the months the report covers.
fn missing(id: &'static str, title: &str, dataset: &str, present: bool) -> Section {
    Section {
        id,
        title: title.to_string(),
        period: "none".to_string(),
        reading: if present {
            format!(
                "{dataset} holds no rows for the months this report covers, so there is nothing to show here."
            )
        } else {
            format!(
                "There is no {dataset} in this data directory, so there is nothing to show here."
            )
        },
        body: String::new(),
    }
}

/// A published value as a table cell: the value formatted by `f`, what it stands for when
/// suppressed (`hidden`: "suppressed (1–7)", "suppressed (1–7 people)", …), or "–" for no
/// value.
fn td<T>(c: Cell<T>, hidden: Hidden, f: impl Fn(T) -> String) -> Td {
    match c {
        Cell::Shown(v) => Td::Num(f(v)),
        Cell::Suppressed => Td::Suppressed(format::suppressed(hidden)),
        Cell::Empty => Td::Empty(format::EMPTY.to_string()),
    }
}
