//! Monthly A&E attendances → `ae_monthly` rows, from either published CSV layout.
//!
//! The layout is recognised from the header (labels in the mapping file):
//!
//! - tidy long form (`period,org_code,type,attendances,breaches,admissions`): one row per
//!   organisation and department type. Types 3 and 4 are both `other` (the label
//!   mapping), so their rows are added into one: a count blank in either is blank in the
//!   sum (the total is not known). The same type twice for one organisation and month,
//!   or `other` beside `3` or `4`, refuses the file;
//! - the raw "MSitAE" CSV (22 columns, `Period` = `MSitAE-MARCH-2026`): one row per
//!   organisation, split here into three rows (department types 1, 2 and other). The
//!   national `TOTAL` row is not data: it is left out and used to check the sum of the
//!   organisations. Waits from decision to admit and other emergency admissions are
//!   counted per organisation, not per department type, so they are written on the
//!   type 1 row only (null on the others), where summing them counts each once.
//!
//! Blank numbers stay null (public parsers that fill them with 0 invent data).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use chrono::{Datelike, NaiveDate};

use super::FileError;
use super::checks::{Quality, examples, ods_code_ok};
use super::labels::{DepartmentType, Labels, label_key};
use super::period::{date_in_text, month_in_text, month_start, numeric_month};
use crate::ingest::decode::{Bom, sniff_bom};

/// Which CSV layout a file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AeLayout {
    /// `period,org_code,type,attendances,breaches,admissions`.
    Tidy,
    /// The published monthly "MSitAE" CSV.
    Msitae,
}

impl AeLayout {
    /// How the manifest names it.
    pub fn name(self) -> &'static str {
        match self {
            AeLayout::Tidy => "tidy",
            AeLayout::Msitae => "msitae",
        }
    }
}

/// One `ae_monthly` row.
#[derive(Debug, Clone, PartialEq)]
pub struct AeRow {
    /// First day of the month.
    pub month: NaiveDate,
    /// ODS code.
    pub org_code: String,
    /// Name (MSitAE only).
    pub org_name: Option<String>,
    /// Region (MSitAE `Parent Org`, trimmed).
    pub parent_org: Option<String>,
    /// `1`, `2`, `other`, or an unknown value as written.
    pub department_type: String,
    /// Attendances (excluding booked appointments where those are given separately).
    pub attendances: Option<i64>,
    /// Attendances over 4 hours.
    pub over_4h: Option<i64>,
    /// Emergency admissions via A&E.
    pub emergency_admissions: Option<i64>,
    /// Booked-appointment attendances (MSitAE only).
    pub booked_attendances: Option<i64>,
    /// Booked-appointment attendances over 4 hours (MSitAE only).
    pub booked_over_4h: Option<i64>,
    /// Patients waiting 4–12 hours from decision to admit (organisation level, type 1 row).
    pub dta_4_to_12h: Option<i64>,
    /// Patients waiting over 12 hours from decision to admit (organisation level, type 1 row).
    pub dta_over_12h: Option<i64>,
    /// Emergency admissions not via A&E (organisation level, type 1 row).
    pub other_emergency_admissions: Option<i64>,
}

/// Everything read from one file.
#[derive(Debug, Clone)]
pub struct AeFile {
    /// The layout recognised.
    pub layout: AeLayout,
    /// Rows.
    pub rows: Vec<AeRow>,
    /// The months the file holds.
    pub months: BTreeSet<NaiveDate>,
    /// Data-quality results.
    pub quality: Vec<crate::publish::manifest::DataQualityResult>,
}

const TIDY_REQUIRED: [&str; 6] = [
    "month",
    "org_code",
    "department_type",
    "attendances",
    "over_4h",
    "emergency_admissions",
];
const MSITAE_REQUIRED: [&str; 11] = [
    "period",
    "org_code",
    "attendances_type_1",
    "attendances_type_2",
    "attendances_other",
    "over_4h_type_1",
    "over_4h_type_2",
    "over_4h_other",
    "emergency_admissions_type_1",
    "emergency_admissions_type_2",
    "emergency_admissions_other",
];

/// Reads one A&E CSV.
pub fn load(path: &Path, name: &str, labels: &Labels) -> Result<AeFile, FileError> {
    let bytes =
        std::fs::read(path).map_err(|e| FileError::Unreadable(format!("cannot read: {e}")))?;
    read(&bytes, name, labels)
}

/// Decodes a field: UTF-8, or Windows-1252 when it is not valid UTF-8.
fn text(field: &[u8]) -> String {
    match std::str::from_utf8(field) {
        Ok(s) => s.trim().to_string(),
        Err(_) => encoding_rs::WINDOWS_1252.decode(field).0.trim().to_string(),
    }
}

/// Reads an A&E CSV's bytes.
pub fn read(bytes: &[u8], name: &str, labels: &Labels) -> Result<AeFile, FileError> {
    let body = match sniff_bom(bytes) {
        Bom::Utf8 => &bytes[3..],
        Bom::Utf16 => {
            return Err(FileError::Unreadable(
                "line 1: is UTF-16; save it as UTF-8 or Windows-1252".to_string(),
            ));
        }
        Bom::None => bytes,
    };
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut record = csv::ByteRecord::new();
    let has_header = csv
        .read_byte_record(&mut record)
        .map_err(|e| FileError::Unreadable(format!("line 1: {e}")))?;
    if !has_header {
        return Err(FileError::Unreadable(
            "is empty: expected a header row".to_string(),
        ));
    }
    let headers: Vec<String> = record.iter().map(text).collect();
    let keys: Vec<String> = headers.iter().map(|h| label_key(h)).collect();
    // Where each named column of a layout sits (the first header it accepts).
    let find = |columns: &HashMap<&'static str, Vec<String>>| -> BTreeMap<&'static str, usize> {
        columns
            .iter()
            .filter_map(|(name, alts)| Some((*name, keys.iter().position(|k| alts.contains(k))?)))
            .collect()
    };
    let tidy = find(&labels.ae_tidy);
    let msitae = find(&labels.ae_msitae);
    let missing = |found: &BTreeMap<&str, usize>, required: &[&str]| -> Vec<String> {
        required
            .iter()
            .filter(|r| !found.contains_key(*r))
            .map(|r| r.to_string())
            .collect()
    };
    let (layout, cols) = match (
        missing(&tidy, &TIDY_REQUIRED),
        missing(&msitae, &MSITAE_REQUIRED),
    ) {
        (m, _) if m.is_empty() => (AeLayout::Tidy, tidy),
        (_, m) if m.is_empty() => (AeLayout::Msitae, msitae),
        (t, m) => {
            return Err(FileError::Unreadable(format!(
                "line 1: the header matches neither A&E layout in {}: the tidy form lacks {}; the MSitAE form lacks {}; the file has columns {}",
                labels.file.display(),
                t.join(", "),
                m.join(", "),
                headers
                    .iter()
                    .map(|h| format!("\"{h}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    };

    let mut q = Quality::new(name);
    let mut out = AeFile {
        layout,
        rows: Vec::new(),
        months: BTreeSet::new(),
        quality: Vec::new(),
    };
    let mut missing_values = 0u64;
    let mut invalid = Vec::new();
    let mut skipped = Vec::new();
    let mut bad_codes = Vec::new();
    let mut unknown_types: BTreeMap<String, u64> = BTreeMap::new();
    let mut not_first_day = 0u64;
    let mut totals: Vec<(Option<NaiveDate>, Vec<Option<i64>>, u64)> = Vec::new();
    const MEASURES: [&str; 9] = [
        "attendances_type_1",
        "attendances_type_2",
        "attendances_other",
        "over_4h_type_1",
        "over_4h_type_2",
        "over_4h_other",
        "emergency_admissions_type_1",
        "emergency_admissions_type_2",
        "emergency_admissions_other",
    ];
    let mut org_sums: BTreeMap<NaiveDate, Vec<i64>> = BTreeMap::new();
    // (month, organisation, department type) -> the line that gave it: a second row for
    // one key would be published beside the first and summed with it.
    let mut seen: HashMap<(NaiveDate, String, String), u64> = HashMap::new();
    let mut once = |row: &AeRow, line: u64| -> Result<(), FileError> {
        let key = (row.month, row.org_code.clone(), row.department_type.clone());
        match seen.insert(key, line) {
            Some(first) => Err(FileError::Unreadable(format!(
                "lines {first} and {line} are both {} {} department type {}: which is right cannot be told",
                row.month.format("%Y-%m"),
                row.org_code,
                row.department_type
            ))),
            None => Ok(()),
        }
    };
    // Tidy rows by (month, organisation, department type): where the row is in `out.rows`,
    // and the type as written and line of each row added into it (types 3 and 4 are both
    // `other`).
    let mut tidy_rows: HashMap<RowKey, (usize, Vec<(String, u64)>)> = HashMap::new();
    let (mut counted, mut line_at) = (0usize, 1u64);
    loop {
        let more = csv
            .read_byte_record(&mut record)
            .map_err(|e| FileError::Unreadable(e.to_string()))?;
        if !more {
            break;
        }
        // Line numbers from byte offsets: on CRLF files the csv crate counts lines one
        // short and starts a record at the '\n' of the previous line ending.
        let mut byte = record.position().map(|p| p.byte() as usize).unwrap_or(0);
        while matches!(body.get(byte), Some(b'\r' | b'\n')) {
            byte += 1;
        }
        line_at += body
            .get(counted..byte)
            .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count() as u64);
        counted = counted.max(byte);
        let line = line_at;
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        let field = |name: &str| -> Option<String> {
            let i = *cols.get(name)?;
            let v = text(record.get(i)?);
            (!v.is_empty()).then_some(v)
        };
        let mut number = |name: &str| -> Option<i64> {
            cols.get(name)?;
            match field(name) {
                None => {
                    missing_values += 1;
                    None
                }
                Some(v) => match v.replace(',', "").parse::<f64>() {
                    Ok(n) if n.fract() == 0.0 => Some(n as i64),
                    _ => {
                        invalid.push(format!("line {line} {name} \"{v}\""));
                        None
                    }
                },
            }
        };
        let period_col = if layout == AeLayout::Tidy {
            "month"
        } else {
            "period"
        };
        let period_text = field(period_col).unwrap_or_default();
        // A national TOTAL row is not an organisation, in either layout (a tidy file's
        // `TOTAL` even passes as an ODS code).
        let is_total = field("org_code").is_some_and(|p| labels.is_total_row(&p))
            || (layout == AeLayout::Msitae
                && (labels.is_total_row(&period_text)
                    || field("parent_org").is_some_and(|p| labels.is_total_row(&p))));
        let month = date_in_text(&period_text)
            .or_else(|| month_in_text(&period_text))
            .or_else(|| numeric_month(&period_text));
        if is_total {
            let values: Vec<Option<i64>> = MEASURES.iter().map(|m| number(m)).collect();
            totals.push((month.map(month_start), values, line));
            continue;
        }
        let Some(month) = month else {
            skipped.push(format!(
                "line {line}: period \"{period_text}\" is not a date or month"
            ));
            continue;
        };
        if month.day() != 1 {
            not_first_day += 1;
        }
        let month = month_start(month);
        let Some(org_code) = field("org_code") else {
            skipped.push(format!("line {line}: no organisation code"));
            continue;
        };
        if !ods_code_ok(&org_code) {
            bad_codes.push(format!("line {line} \"{org_code}\""));
        }
        out.months.insert(month);
        match layout {
            AeLayout::Tidy => {
                let raw_type = field("department_type").unwrap_or_default();
                let department_type = match labels.department_type(&raw_type) {
                    Some(t) => t.name().to_string(),
                    None => {
                        *unknown_types.entry(raw_type.clone()).or_default() += 1;
                        raw_type.clone()
                    }
                };
                let row = AeRow {
                    month,
                    org_code,
                    org_name: None,
                    parent_org: None,
                    department_type,
                    attendances: number("attendances"),
                    over_4h: number("over_4h"),
                    emergency_admissions: number("emergency_admissions"),
                    booked_attendances: None,
                    booked_over_4h: None,
                    dta_4_to_12h: None,
                    dta_over_12h: None,
                    other_emergency_admissions: None,
                };
                let key = (month, row.org_code.clone(), row.department_type.clone());
                match tidy_rows.get_mut(&key) {
                    None => {
                        tidy_rows.insert(key, (out.rows.len(), vec![(raw_type, line)]));
                        out.rows.push(row);
                    }
                    Some((at, parts)) => {
                        check_addable(parts, &raw_type, line, &row)?;
                        add_counts(&mut out.rows[*at], &row);
                        parts.push((raw_type, line));
                    }
                }
            }
            AeLayout::Msitae => {
                let org_name = field("org_name");
                let parent_org = field("parent_org");
                let (dta_4_12, dta_12, other_adm) = (
                    number("dta_4_to_12h"),
                    number("dta_over_12h"),
                    number("other_emergency_admissions"),
                );
                let sums = org_sums
                    .entry(month)
                    .or_insert_with(|| vec![0; MEASURES.len()]);
                for (t, suffix) in [
                    (DepartmentType::Type1, "type_1"),
                    (DepartmentType::Type2, "type_2"),
                    (DepartmentType::Other, "other"),
                ] {
                    let row = AeRow {
                        month,
                        org_code: org_code.clone(),
                        org_name: org_name.clone(),
                        parent_org: parent_org.clone(),
                        department_type: t.name().to_string(),
                        attendances: number(&format!("attendances_{suffix}")),
                        over_4h: number(&format!("over_4h_{suffix}")),
                        emergency_admissions: number(&format!("emergency_admissions_{suffix}")),
                        booked_attendances: number(&format!("booked_attendances_{suffix}")),
                        booked_over_4h: number(&format!("booked_over_4h_{suffix}")),
                        dta_4_to_12h: (t == DepartmentType::Type1).then_some(dta_4_12).flatten(),
                        dta_over_12h: (t == DepartmentType::Type1).then_some(dta_12).flatten(),
                        other_emergency_admissions: (t == DepartmentType::Type1)
                            .then_some(other_adm)
                            .flatten(),
                    };
                    for (k, m) in MEASURES.iter().enumerate() {
                        if m.ends_with(suffix) {
                            let v = if m.starts_with("attendances") {
                                row.attendances
                            } else if m.starts_with("over_4h") {
                                row.over_4h
                            } else {
                                row.emergency_admissions
                            };
                            sums[k] += v.unwrap_or(0);
                        }
                    }
                    once(&row, line)?;
                    out.rows.push(row);
                }
            }
        }
    }

    // A file none of whose rows could be placed is not loaded: "loaded, 0 rows" would
    // leave its month out of the dataset without failing anything.
    if out.rows.is_empty() && !skipped.is_empty() {
        return Err(FileError::Unreadable(format!(
            "none of its {} rows could be placed: {}",
            skipped.len(),
            examples(&skipped)
        )));
    }
    if missing_values > 0 {
        q.push(
            "missing_values",
            None,
            format!("{missing_values} numeric fields are blank: written as null"),
            missing_values,
        );
    }
    if !invalid.is_empty() {
        q.push(
            "invalid_values",
            None,
            format!(
                "{} fields are not whole numbers: written as null: {}",
                invalid.len(),
                examples(&invalid)
            ),
            invalid.len() as u64,
        );
    }
    if !skipped.is_empty() {
        q.push(
            "rows_skipped",
            None,
            format!(
                "{} rows could not be placed and were left out: {}",
                skipped.len(),
                examples(&skipped)
            ),
            skipped.len() as u64,
        );
    }
    if !bad_codes.is_empty() {
        q.push(
            "ods_code_format",
            None,
            format!(
                "{} rows without an ODS code (3–6 upper-case letters or digits, one a letter): {}",
                bad_codes.len(),
                examples(&bad_codes)
            ),
            bad_codes.len() as u64,
        );
    }
    for (value, n) in &unknown_types {
        q.push(
            "unknown_label",
            None,
            format!("department type \"{value}\" is not in the label mapping: kept as written"),
            *n,
        );
    }
    if not_first_day > 0 {
        q.push(
            "date_outside_period",
            None,
            format!("{not_first_day} rows give a period that is not the first day of a month: read as that month"),
            not_first_day,
        );
    }
    for (month, values, line) in &totals {
        // A TOTAL row whose period is "TOTAL" belongs to the file's month, if it has one.
        let month = month.or_else(|| {
            (out.months.len() == 1)
                .then(|| out.months.first().copied())
                .flatten()
        });
        let Some(month) = month else {
            q.push(
                "total_row_excluded",
                None,
                format!("line {line}: a national TOTAL row was left out; its month is not known, so the organisations were not checked against it"),
                1,
            );
            continue;
        };
        q.push(
            "total_row_excluded",
            None,
            format!("line {line}: the national TOTAL row for {month} is not an organisation and was left out"),
            1,
        );
        let Some(sums) = org_sums.get(&month) else {
            continue;
        };
        let differ: Vec<String> = MEASURES
            .iter()
            .zip(values)
            .zip(sums)
            .filter_map(|((m, total), sum)| match total {
                Some(t) if t != sum => Some(format!("{m}: TOTAL {t} vs sum {sum}")),
                _ => None,
            })
            .collect();
        if !differ.is_empty() {
            q.push(
                "sum_orgs_to_total",
                None,
                format!("{} of {} TOTAL-row values for {month} differ from the sum of the organisations: {}", differ.len(), MEASURES.len(), examples(&differ)),
                differ.len() as u64,
            );
        }
    }
    out.quality = q.results;
    Ok(out)
}

/// A row's month, organisation and department type.
type RowKey = (NaiveDate, String, String);

/// True when a department type is written as its number (`3`, `4`): one of NHS
/// England's numbered types, which never includes another.
fn numbered(raw_type: &str) -> bool {
    !raw_type.is_empty() && raw_type.bytes().all(|b| b.is_ascii_digit())
}

/// Whether a tidy row (`raw_type` on `line`) may be added into the row already read for
/// its month, organisation and department type from `parts` (each type as written and its
/// line). Types 3 and 4 are both `other` in the label mapping, so a file giving them
/// separately is added up. The same type twice, or a type added to one that may already
/// include it (`other` beside `3`), refuses the file: which is right cannot be told.
fn check_addable(
    parts: &[(String, u64)],
    raw_type: &str,
    line: u64,
    row: &AeRow,
) -> Result<(), FileError> {
    let period = |first: u64| {
        format!(
            "lines {first} and {line} are both {} {}",
            row.month.format("%Y-%m"),
            row.org_code
        )
    };
    if let Some((_, first)) = parts
        .iter()
        .find(|(t, _)| label_key(t) == label_key(raw_type))
    {
        return Err(FileError::Unreadable(format!(
            "{} department type {raw_type}: which is right cannot be told",
            period(*first)
        )));
    }
    if let Some((t, first)) = parts
        .iter()
        .find(|(t, _)| !numbered(t) || !numbered(raw_type))
    {
        return Err(FileError::Unreadable(format!(
            "{} department type {}, written \"{t}\" and \"{raw_type}\": whether one includes the other cannot be told",
            period(*first),
            row.department_type
        )));
    }
    Ok(())
}

/// Adds a tidy row's counts into the row of the same month, organisation and department
/// type: a blank in either leaves the sum blank (null), since the total is not known.
fn add_counts(into: &mut AeRow, row: &AeRow) {
    let sum = |a: Option<i64>, b: Option<i64>| Some(a? + b?);
    into.attendances = sum(into.attendances, row.attendances);
    into.over_4h = sum(into.over_4h, row.over_4h);
    into.emergency_admissions = sum(into.emergency_admissions, row.emergency_admissions);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigErrors;

    fn labels() -> Labels {
        let file =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/mappings/nhse_labels.toml");
        let mut errors = ConfigErrors::default();
        super::super::labels::load(&file, &mut errors).expect("labels")
    }

    /// Regression (review): a tidy file's `TOTAL` row was published as a provider (it
    /// passes as an ODS code), and two rows for one organisation, month and type were
    /// both published, silently.
    #[test]
    fn a_tidy_total_row_is_left_out_and_a_repeated_row_refuses_the_file() {
        let csv = b"period,org_code,type,attendances,breaches,admissions\n\
            2016-05-01,RF4,1,10,2,3\n\
            2016-05-01,TOTAL,1,999999,1,1\n";
        let f = read(csv, "t.csv", &labels()).unwrap();
        assert_eq!(f.rows.len(), 1);
        assert_eq!(f.rows[0].org_code, "RF4");
        assert!(
            f.quality.iter().any(|r| r.check == "total_row_excluded"
                && r.detail
                    .starts_with("line 3: the national TOTAL row for 2016-05-01")),
            "{:?}",
            f.quality
        );
        let csv = b"period,org_code,type,attendances,breaches,admissions\n\
            2016-05-01,RF4,1,10,2,3\n\
            2016-05-01,RF4,2,5,0,0\n\
            2016-05-01,RF4,1,11,2,3\n";
        let Err(FileError::Unreadable(e)) = read(csv, "t.csv", &labels()) else {
            panic!("loaded")
        };
        assert_eq!(
            e,
            "lines 2 and 4 are both 2016-05 RF4 department type 1: which is right cannot be told"
        );
    }

    /// Regression (review): a tidy file giving type 3 and type 4 rows for one
    /// organisation and month was refused whole ("lines 3 and 4 are both 2016-04 RF4
    /// department type other"), though the label mapping makes both `other` on purpose.
    #[test]
    fn regression_type_3_and_type_4_rows_are_added_as_other() {
        let csv = b"period,org_code,type,attendances,breaches,admissions\n\
            2016-04-01,RF4,1,18788,4082,4074\n\
            2016-04-01,RF4,3,1200,30,0\n\
            2016-04-01,RF4,4,345,6,2\n\
            2016-04-01,R1H,3,50,,1\n\
            2016-04-01,R1H,4,7,1,1\n";
        let f = read(csv, "t.csv", &labels()).unwrap();
        let got: Vec<String> = f
            .rows
            .iter()
            .map(|r| {
                format!(
                    "{} {}: {:?} {:?} {:?}",
                    r.org_code, r.department_type, r.attendances, r.over_4h, r.emergency_admissions
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                "RF4 1: Some(18788) Some(4082) Some(4074)",
                "RF4 other: Some(1545) Some(36) Some(2)",
                // A blank breach count on the type 3 row: the sum is not known.
                "R1H other: Some(57) None Some(2)",
            ]
        );
        // The same type twice is still two answers to one question.
        let csv = b"period,org_code,type,attendances,breaches,admissions\n\
            2016-04-01,RF4,3,1200,30,0\n\
            2016-04-01,RF4,4,345,6,2\n\
            2016-04-01,RF4,3,1201,30,0\n";
        let Err(FileError::Unreadable(e)) = read(csv, "t.csv", &labels()) else {
            panic!("loaded")
        };
        assert_eq!(
            e,
            "lines 2 and 4 are both 2016-04 RF4 department type 3: which is right cannot be told"
        );
        // `other` may already include type 3: not added.
        let csv = b"period,org_code,type,attendances,breaches,admissions\n\
            2016-04-01,RF4,other,1545,36,2\n\
            2016-04-01,RF4,3,1200,30,0\n";
        let Err(FileError::Unreadable(e)) = read(csv, "t.csv", &labels()) else {
            panic!("loaded")
        };
        assert_eq!(
            e,
            "lines 2 and 3 are both 2016-04 RF4 department type other, written \"other\" and \"3\": whether one includes the other cannot be told"
        );
    }

    #[test]
    fn a_header_of_neither_layout_names_what_each_lacks() {
        let e = read(
            b"month,org,attendances\n2016-04-01,RF4,1\n",
            "x.csv",
            &labels(),
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("the tidy form lacks month, org_code, department_type, over_4h, emergency_admissions;"),
            "{text}"
        );
        assert!(
            text.contains("the file has columns \"month\", \"org\", \"attendances\""),
            "{text}"
        );
    }

    #[test]
    fn regression_a_file_none_of_whose_rows_can_be_placed_fails_and_iso_months_are_read() {
        // Every row skipped used to be "loaded, 0 rows": the month silently missing.
        let csv = b"period,org_code,type,attendances,breaches,admissions\n\
            TOTAL,RF4,1,18788,4082,4074\n\
            not a month,R1H,1,1,1,1\n";
        let Err(FileError::Unreadable(e)) = read(csv, "t.csv", &labels()) else {
            panic!("loaded")
        };
        assert!(e.starts_with("none of its 2 rows could be placed"), "{e}");
        let csv = b"period,org_code,type,attendances,breaches,admissions\n\
            2016-04,RF4,1,18788,4082,4074\n";
        let f = read(csv, "t.csv", &labels()).unwrap();
        assert_eq!(
            f.rows[0].month,
            NaiveDate::from_ymd_opt(2016, 4, 1).unwrap()
        );
    }

    #[test]
    fn tidy_rows_keep_unknown_types_verbatim_and_blank_numbers_null() {
        let csv = b"period,org_code,type,attendances,breaches,admissions\n\
            2016-04-01,RF4,1,18788,4082,4074\n\
            2016-04-01,RF4,Type 3,10,,0\n\
            2016-04-15,R1H,other,x,1,0\n\
            not a date,R1H,1,1,1,1\n";
        let f = read(csv, "t.csv", &labels()).unwrap();
        assert_eq!(f.layout, AeLayout::Tidy);
        assert_eq!(f.rows.len(), 3);
        assert_eq!(f.rows[1].department_type, "Type 3");
        assert_eq!(f.rows[1].over_4h, None);
        assert_eq!(f.rows[2].attendances, None);
        assert_eq!(
            f.rows[2].month,
            NaiveDate::from_ymd_opt(2016, 4, 1).unwrap()
        );
        let found: Vec<(&str, u64)> = f
            .quality
            .iter()
            .map(|r| (r.check.as_str(), r.count))
            .collect();
        assert_eq!(
            found,
            vec![
                ("missing_values", 1),
                ("invalid_values", 1),
                ("rows_skipped", 1),
                ("unknown_label", 1),
                ("date_outside_period", 1),
            ]
        );
        assert_eq!(
            f.quality[2].detail,
            "1 rows could not be placed and were left out: line 5: period \"not a date\" is not a date or month"
        );
        let crlf = String::from_utf8(csv.to_vec())
            .unwrap()
            .replace('\n', "\r\n");
        let f = read(crlf.as_bytes(), "t.csv", &labels()).unwrap();
        assert_eq!(
            f.quality[2].detail,
            "1 rows could not be placed and were left out: line 5: period \"not a date\" is not a date or month",
            "line numbers hold on CRLF files"
        );
    }
}
