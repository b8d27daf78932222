//! Data-quality checks on publications: reported in the manifest, never fatal.
//!
//! - Sums: region rows to the England row, ICB and trust rows to their region and to
//!   England, per cell. NHS England notes that ICB- and trust-level figures exclude some
//!   patients for disclosure reasons, so a difference is reported, not corrected. The
//!   publications do not say which ICB a trust belongs to, so trusts are summed to their
//!   region rather than to an ICB.
//! - Code formats: an ICB code is `Q` and two letters or digits; an organisation (ODS)
//!   code is 3–6 upper-case letters or digits, at least one of them a letter (a council's
//!   numeric code in a provider row is reported).

use super::labels::label_key;
use super::layout::{Level, Table};
use super::workbook::a1;
use crate::publish::manifest::DataQualityResult;

/// Data-quality results for one file.
#[derive(Debug, Clone, Default)]
pub struct Quality {
    /// The file, as named in results.
    pub file: String,
    /// Results so far.
    pub results: Vec<DataQualityResult>,
}

impl Quality {
    /// Results for `file`.
    pub fn new(file: impl Into<String>) -> Self {
        Quality {
            file: file.into(),
            results: Vec::new(),
        }
    }

    /// Records a result.
    pub fn push(&mut self, check: &str, sheet: Option<&str>, detail: String, count: u64) {
        self.results.push(DataQualityResult {
            check: check.to_string(),
            file: self.file.clone(),
            sheet: sheet.map(String::from),
            source: None,
            column: None,
            reason: None,
            detail,
            count,
        });
    }
}

/// True for an ICB code such as `QRV`.
pub fn icb_code_ok(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 3
        && b[0] == b'Q'
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// True for an ODS organisation code such as `RAJ`, `NMV`, `AN09`, `8J094`, `Y02696`:
/// 3–6 upper-case letters or digits, at least one a letter.
pub fn ods_code_ok(code: &str) -> bool {
    let b = code.as_bytes();
    (3..=6).contains(&b.len())
        && b.iter().any(u8::is_ascii_uppercase)
        && b.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// Checks the codes of a table's ICB and trust rows.
pub fn code_formats(q: &mut Quality, table: &Table<'_>) {
    for (level, check, ok, what) in [
        (
            Level::Icb,
            "icb_code_format",
            icb_code_ok as fn(&str) -> bool,
            "an ICB code (Q and two letters or digits)",
        ),
        (
            Level::Trust,
            "ods_code_format",
            ods_code_ok as fn(&str) -> bool,
            "an ODS code (3–6 upper-case letters or digits, one a letter)",
        ),
    ] {
        let bad: Vec<String> = table
            .rows
            .iter()
            .filter(|r| r.level == level && !r.code.as_deref().is_some_and(ok))
            .map(|r| {
                format!(
                    "{} \"{}\"",
                    table
                        .sheet
                        .cell_ref(r.row, table.name_col.saturating_sub(1)),
                    r.code.as_deref().unwrap_or("")
                )
            })
            .collect();
        if !bad.is_empty() {
            q.push(
                check,
                Some(&table.sheet.name),
                format!(
                    "{} {} row(s) without {what}: {}",
                    bad.len(),
                    level.name(),
                    examples(&bad)
                ),
                bad.len() as u64,
            );
        }
    }
}

/// A total row and the rows that should add up to it (indices into `Table::rows`).
type Total = (usize, Vec<usize>);

/// Compares totals with the sums of their parts, per data column.
///
/// `values[i][j]` is row `i`'s value in column `j` of `table`; `tolerance` is how far a
/// sum of `n` parts may differ per part (0 for counts; rounding for averages).
pub fn sums(q: &mut Quality, table: &Table<'_>, values: &[Vec<Option<f64>>], tolerance: f64) {
    let rows = &table.rows;
    let by_level = |level: Level| -> Vec<usize> {
        (0..rows.len())
            .filter(|&i| rows[i].level == level)
            .collect()
    };
    let england = by_level(Level::England);
    let regions = by_level(Level::Region);
    let icbs = by_level(Level::Icb);
    let trusts = by_level(Level::Trust);
    let region_of = |i: usize| rows[i].region.as_deref().map(label_key);

    let mut comparisons: Vec<(&str, Vec<Total>)> = Vec::new();
    for (check, parts) in [
        ("sum_regions_to_england", &regions),
        ("sum_icbs_to_england", &icbs),
        ("sum_trusts_to_england", &trusts),
    ] {
        if !parts.is_empty() {
            comparisons.push((check, england.iter().map(|&e| (e, parts.clone())).collect()));
        }
    }
    for (check, parts) in [
        ("sum_icbs_to_region", &icbs),
        ("sum_trusts_to_region", &trusts),
    ] {
        if parts.is_empty() {
            continue;
        }
        let totals = regions
            .iter()
            .map(|&r| {
                let key = Some(label_key(&rows[r].name));
                (
                    r,
                    parts
                        .iter()
                        .copied()
                        .filter(|&p| region_of(p) == key)
                        .collect(),
                )
            })
            .collect();
        comparisons.push((check, totals));
    }

    let expected = excludes_note(table);
    for (check, totals) in comparisons {
        let mut compared = 0u64;
        let mut differ = Vec::new();
        for (total, parts) in totals {
            for (j, col) in table.columns.iter().enumerate() {
                let Some(t) = values[total][j] else { continue };
                let present: Vec<f64> = parts.iter().filter_map(|&p| values[p][j]).collect();
                if present.is_empty() {
                    continue;
                }
                compared += 1;
                let sum: f64 = present.iter().sum();
                if (t - sum).abs() > tolerance * present.len() as f64 + 1e-6 {
                    differ.push(format!(
                        "{} {} {} vs sum {}",
                        a1(rows[total].row, col.col),
                        rows[total].name,
                        fmt(t),
                        fmt(sum)
                    ));
                }
            }
        }
        if !differ.is_empty() {
            q.push(
                check,
                Some(&table.sheet.name),
                format!(
                    "{} of {compared} cells differ from the sum of their parts{}: {}",
                    differ.len(),
                    if expected {
                        " (the table's notes say lower levels exclude some patients)"
                    } else {
                        ""
                    },
                    examples(&differ)
                ),
                differ.len() as u64,
            );
        }
    }
}

/// True when the notes above the table say lower levels exclude some patients.
fn excludes_note(table: &Table<'_>) -> bool {
    (0..=table.header_row).any(|r| {
        (table.sheet.first_col()..=table.name_col).any(|c| {
            table
                .sheet
                .value(r, c)
                .text()
                .is_some_and(|t| t.to_lowercase().contains("exclude"))
        })
    })
}

fn fmt(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// The first few examples, and how many more.
pub fn examples(items: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut s = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if items.len() > SHOWN {
        s.push_str(&format!("; and {} more", items.len() - SHOWN));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::nhse::layout::recognise;
    use crate::ingest::nhse::workbook::Sheet;
    use calamine::{Data, Range};

    #[test]
    fn code_formats_accept_real_codes() {
        for ok in ["QRV", "QE1", "QOC"] {
            assert!(icb_code_ok(ok), "{ok}");
        }
        for bad in ["RAJ", "Q1", "QRVX", "qrv", ""] {
            assert!(!icb_code_ok(bad), "{bad}");
        }
        for ok in ["RAJ", "R1H", "NMV", "AN09", "Y02696", "NLO09", "8J094"] {
            assert!(ods_code_ok(ok), "{ok}");
        }
        for bad in ["RA", "507", "RAJ 01", "ABCDEFG", "raj"] {
            assert!(!ods_code_ok(bad), "{bad}");
        }
    }

    fn sheet(rows: &[&[&str]]) -> Sheet {
        let mut range = Range::new((0, 0), (rows.len() as u32 - 1, 5));
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                if !v.is_empty() {
                    let d = match v.parse::<f64>() {
                        Ok(n) => Data::Float(n),
                        Err(_) => Data::String(v.to_string()),
                    };
                    range.set_value((r as u32, c as u32), d);
                }
            }
        }
        Sheet::new("T", range)
    }

    #[test]
    fn sums_report_differences_by_level_with_cells() {
        let s = sheet(&[
            &["", "Table: x"],
            &["", "", "", "", "n"],
            &["", "", "", "ENGLAND", "10"],
            &["", "", "", "LONDON", "10"],
            &["", "Region", "ICB Code", "ICB Name"],
            &["", "LONDON", "QRV", "A", "4"],
            &["", "LONDON", "QMJ", "B", "5"],
            &["", "Region", "Org Code", "Org Name"],
            &["", "LONDON", "RAL", "C", "4"],
            &["", "LONDON", "RAS", "D", "-"],
            &["", "LONDON", "bad", "E", "6"],
        ]);
        let t = recognise(&s, 0).unwrap();
        let values: Vec<Vec<Option<f64>>> = t
            .rows
            .iter()
            .map(|r| {
                vec![match s.value(r.row, 4) {
                    crate::ingest::nhse::workbook::Value::Number(n) => Some(n),
                    _ => None,
                }]
            })
            .collect();
        let mut q = Quality::new("f.xlsx");
        sums(&mut q, &t, &values, 0.0);
        code_formats(&mut q, &t);
        let got: Vec<(&str, u64, &str)> = q
            .results
            .iter()
            .map(|r| (r.check.as_str(), r.count, r.detail.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "sum_icbs_to_england",
                    1,
                    "1 of 1 cells differ from the sum of their parts: E3 ENGLAND 10 vs sum 9"
                ),
                (
                    "sum_icbs_to_region",
                    1,
                    "1 of 1 cells differ from the sum of their parts: E4 LONDON 10 vs sum 9"
                ),
                (
                    "ods_code_format",
                    1,
                    "1 trust row(s) without an ODS code (3–6 upper-case letters or digits, one a letter): 'T'!C11 \"bad\""
                ),
            ]
        );
    }
}
