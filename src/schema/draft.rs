//! `joinedup draft`: a first source contract for a new feed, drafted from one of its CSV
//! files or a workbook's sheet ([`super::draft_sheet`]), for a person to review and
//! `joinedup check` to try.
//!
//! What is inferred: the encoding (UTF-8, else Windows-1252), the delimiter (or the
//! sheet read, and its header's row), the blank
//! values (each spelling of `NULL` seen), and per column its type — `sensitive` for a
//! header that names a person's name, date of birth, address, postcode or contact
//! details (its values never looked at); `nhs_number` for a header naming one or values
//! most of which pass Modulus 11 (blanked, not quarantined, when some are blank or
//! invalid); `pseudonym` for a header naming a pseudonym over hex values; `identifier`
//! (required) for a person id when a council-code column can scope it; `date`,
//! `datetime` or `time` with the formats the values are written in (the formats the
//! contract reader itself parses, each value counted under the first that reads it and
//! only within the years a run accepts; day first or month first as the values with a
//! day over 12 say, never both); `sensitive` too for values that look like postcodes or
//! hold NHS numbers written in another form;
//! `code` with an existing code list (`schemas/codes/`) that nearly every value is in
//! and that shares a word with the header; `integer`; else `string`, with a `pattern` of
//! its characters and lengths when it is a short code — and `required` where no value
//! was blank.
//!
//! Nothing of a value is written: types, formats, list names, counts. A header row that
//! cannot be one is refused before anything is printed: a cell holding a line break (a
//! quote left open) or longer than 128 characters, or a cell that is itself a value of
//! its column's type or one of the values below it (the file has no header).

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;
use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, Location, Result};
use crate::ingest::dates::DateFormat;
use crate::ingest::nhs_number;
use crate::schema::CodeList;
use crate::schema::personal_headers::{names_personal_data, words};

/// Rows read to infer types from (the rest of the file is not read).
pub const ROWS_READ: usize = 200_000;

/// Bytes read from the file's start, at most (cut at a line's end): a file of
/// [`ROWS_READ`] rows of 300 bytes.
const BYTES_READ: u64 = 64 << 20;

/// The longest header cell drafted from.
const MAX_HEADER_CHARS: usize = 128;

/// Distinct values counted per column; a column with more is not a code.
const DISTINCT_KEPT: usize = 500;

/// Share of non-blank values a type or list must take for the column to be given it.
const NEARLY_ALL: f64 = 0.99;

/// The years a date column accepts unless its contract says otherwise.
const DEFAULT_YEARS: (i32, i32) = (1900, 2100);

/// Where day-first and month-first slashed dates are in [`DATE_FORMATS`].
const UK_DATE: usize = 0;
const US_DATE: usize = 5;

const DATE_FORMATS: [&str; 7] = [
    "%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%m/%d/%Y", "%Y%m%d",
];
const DATETIME_FORMATS: [&str; 8] = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
];
const TIME_FORMATS: [&str; 2] = ["%H:%M:%S", "%H:%M"];

/// What was seen of one column's values.
#[derive(Default)]
struct Seen {
    blank: u64,
    values: u64,
    nhs_valid: u64,
    hex: u64,
    lower_hex: u64,
    upper_hex: u64,
    uk_only: u64,
    us_only: u64,
    postcodes: u64,
    nhs_in_text: u64,
    integer: u64,
    dates: Vec<u64>,
    datetimes: Vec<u64>,
    times: Vec<u64>,
    distinct: HashMap<String, u64>,
    too_many: bool,
    min_len: usize,
    max_len: usize,
    chars: CharClasses,
}

/// The characters a column's values use, for its pattern.
#[derive(Default, Clone, Copy)]
struct CharClasses {
    upper: bool,
    lower: bool,
    digit: bool,
    other: bool,
    punct: [bool; 4],
}

const PUNCT: [char; 4] = ['-', '_', '/', '.'];

impl CharClasses {
    fn add(&mut self, v: &str) {
        for c in v.chars() {
            match c {
                'A'..='Z' => self.upper = true,
                'a'..='z' => self.lower = true,
                '0'..='9' => self.digit = true,
                _ => match PUNCT.iter().position(|&p| p == c) {
                    Some(i) => self.punct[i] = true,
                    None => self.other = true,
                },
            }
        }
    }

    /// `[A-Z0-9]{3}`-like, or `None` when a value holds another character (a space).
    fn pattern(&self, min: usize, max: usize) -> Option<String> {
        if self.other || min == 0 {
            return None;
        }
        let mut class = String::new();
        for (on, text) in [
            (self.upper, "A-Z"),
            (self.lower, "a-z"),
            (self.digit, "0-9"),
        ] {
            if on {
                class.push_str(text);
            }
        }
        // '-' last, so it is a literal.
        for (i, p) in PUNCT.iter().enumerate().rev() {
            if self.punct[i] {
                class.push(*p);
            }
        }
        let count = if min == max {
            format!("{{{min}}}")
        } else {
            format!("{{{min},{max}}}")
        };
        Some(format!("[{class}]{count}"))
    }
}

/// The type a column was drafted with, as far as it tells a value of the column: what a
/// header cell is tested against ([`header_is_a_value`]).
#[derive(Debug, Clone, PartialEq)]
enum ValueKind {
    NhsNumber,
    Date,
    DateTime,
    Time,
    Integer,
    /// A code of the named list.
    Code(String),
    /// Any other type: a text can be anything.
    Other,
}

/// One column as drafted.
struct Drafted {
    name: String,
    header: String,
    lines: Vec<String>,
}

/// How the file drafted from is laid out: what the contract says of it besides its
/// columns.
enum Layout {
    /// Delimited text; in UTF-8, with `not_utf8` bytes that are not.
    Csv {
        utf8: bool,
        not_utf8: usize,
        delimiter: u8,
    },
    /// A workbook's sheet, with its header's row and the workbook's other sheets.
    Sheet {
        sheet: String,
        header_row: u32,
        others: Vec<String>,
        /// Formula cells without a saved result (read as blank).
        uncalculated: crate::ingest::workbook_sheet::Cells,
    },
}

/// The error refusing the file at `path` as a whole.
fn rejected(path: &Path) -> impl Fn(String) -> Error + '_ {
    move |message| Error::InputRejected {
        location: Location {
            file: path.to_path_buf(),
            line: None,
            column: None,
        },
        message,
    }
}

/// Drafts a contract named `name` from the CSV file or workbook at `path` (its sheet
/// `sheet`, else its first visible sheet), with the code lists of `lists`; returns its
/// TOML.
pub fn draft(
    path: &Path,
    name: &str,
    lists: &[Arc<CodeList>],
    sheet: Option<&str>,
) -> Result<String> {
    let rejected = rejected(path);
    let unreadable = |e: std::io::Error| {
        Error::Usage(format!(
            "cannot read {}: {e}",
            crate::ingest::quarantine::shown_path(path)
        ))
    };
    // The file's start, whole lines of it: more than enough for the rows read.
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(
            std::fs::File::open(path).map_err(unreadable)?,
            BYTES_READ + 1,
        ),
        &mut bytes,
    )
    .map_err(unreadable)?;
    let read_cut = bytes.len() as u64 > BYTES_READ;
    if read_cut {
        let end = bytes
            .iter()
            .rposition(|&b| b == b'\n')
            .unwrap_or(bytes.len());
        bytes.truncate(end + 1);
    }
    if crate::ingest::workbook_sheet::is_workbook(&bytes) {
        drop(bytes);
        let table = super::draft_sheet::read(path, sheet, ROWS_READ).map_err(|e| match e {
            // A sheet named on the command line that is not there: a command-line error.
            super::draft_sheet::SheetError::NoSuchSheet(m) => Error::Usage(format!(
                "{} {m}",
                crate::ingest::quarantine::shown_path(path)
            )),
            super::draft_sheet::SheetError::Refused(m) => rejected(m),
        })?;
        let layout = Layout::Sheet {
            others: table
                .sheets
                .iter()
                .filter(|s| **s != table.sheet)
                .cloned()
                .collect(),
            sheet: table.sheet,
            header_row: table.header_row,
            uncalculated: table.uncalculated,
        };
        let header = table.header.iter().map(|h| h.trim().to_string()).collect();
        let records = table
            .rows
            .into_iter()
            .map(|r| Ok(csv::StringRecord::from(r)));
        return infer(path, name, lists, header, records, layout, table.cut);
    }
    if let Some(sheet) = sheet {
        return Err(Error::Usage(format!(
            "--sheet \"{sheet}\" is for a workbook, and {} is not one",
            crate::ingest::quarantine::shown_path(path)
        )));
    }
    if let Some(kind) = crate::ingest::decode::sniff_binary(&bytes) {
        return Err(rejected(format!(
            "is {kind}, not a CSV file: draft a contract from the CSV file itself"
        )));
    }
    let body = match crate::ingest::decode::sniff_bom(&bytes) {
        crate::ingest::decode::Bom::Utf8 => &bytes[3..],
        crate::ingest::decode::Bom::None => &bytes[..],
        crate::ingest::decode::Bom::Utf16 => {
            return Err(rejected(
                "is UTF-16 text, which joinedup does not read: save it as UTF-8".into(),
            ));
        }
    };
    // A byte-order mark makes a run read the file as UTF-8, whatever the contract says.
    // UTF-8 when the file says so, or holds more characters written in UTF-8 than bytes
    // that are not (a stray byte among accented names is a row a run quarantines, not a
    // Windows-1252 file: read so, every `é` would become `Ã©`).
    let (written_utf8, not_utf8) = utf8_spread(body);
    let utf8 = body.len() < bytes.len() || not_utf8 == 0 || written_utf8 > not_utf8;
    let text: String = if utf8 {
        String::from_utf8_lossy(body).into_owned()
    } else {
        encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(body)
            .0
            .into_owned()
    };
    let first_line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    // As a run reads lines: a carriage return that does not end a line makes the file one
    // line, which a run refuses.
    if first_line.trim_end_matches('\r').contains('\r') {
        return Err(rejected(
            "its lines end in CR only (as classic Mac OS and some Excel for Mac exports write them), which a run refuses; save the file with CRLF or LF line endings".into(),
        ));
    }
    let delimiter = [b',', b';', b'|', b'\t']
        .into_iter()
        .max_by_key(|d| first_line.bytes().filter(|b| b == d).count())
        .filter(|d| first_line.as_bytes().contains(d))
        .unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| rejected(format!("its header row cannot be read: {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let layout = Layout::Csv {
        utf8,
        not_utf8: if utf8 { not_utf8 } else { 0 },
        delimiter,
    };
    infer(
        path,
        name,
        lists,
        headers,
        reader.into_records(),
        layout,
        read_cut,
    )
}

/// Drafts the contract from a file's `headers` and `records` (the rows below it), laid
/// out as `layout`; `read_cut` when the file was read only in part.
fn infer(
    path: &Path,
    name: &str,
    lists: &[Arc<CodeList>],
    headers: Vec<String>,
    records: impl Iterator<Item = std::result::Result<csv::StringRecord, csv::Error>>,
    layout: Layout,
    read_cut: bool,
) -> Result<String> {
    let rejected = rejected(path);
    // Where the header is, as the refusals below name it.
    let (first_row, header_row, quote_hint) = match &layout {
        Layout::Csv { .. } => (
            "its first row".to_string(),
            "its header row".to_string(),
            " (a quote left open?)",
        ),
        Layout::Sheet {
            sheet, header_row, ..
        } => {
            let row = format!("row {header_row} of sheet \"{sheet}\", taken as its header,");
            (row.clone(), row, "")
        }
    };
    if headers.iter().all(String::is_empty) {
        return Err(rejected("has no header row".into()));
    }
    // A quote left open in the header takes the rest of the file into one cell: never a
    // header, and printed as one it would be the file's values.
    if let Some(at) = headers
        .iter()
        .position(|h| h.chars().count() > MAX_HEADER_CHARS || h.chars().any(char::is_control))
    {
        // Not shown: such a cell holds the rows after it.
        return Err(rejected(format!(
            "the cell of {header_row} in column {} holds a line break or more than {MAX_HEADER_CHARS} characters{quote_hint}",
            at + 1
        )));
    }
    if crate::ingest::header::holds_data(&headers)
        || headers.iter().any(|h| {
            h.contains('@')
                || crate::ingest::quarantine::holds_postcode(h)
                || crate::ingest::quarantine::holds_valid_nhs_number(h)
        })
    {
        return Err(rejected(format!(
            "{first_row} looks like data, not a header (a contract reads files by their headers)"
        )));
    }
    let formats = |list: &[&str]| -> Vec<DateFormat> {
        list.iter()
            .map(|f| DateFormat::compile(f).expect("built-in format"))
            .collect()
    };
    let (dates, datetimes, times) = (
        formats(&DATE_FORMATS),
        formats(&DATETIME_FORMATS),
        formats(&TIME_FORMATS),
    );
    let mut seen: Vec<Seen> = headers
        .iter()
        .map(|_| Seen {
            dates: vec![0; dates.len()],
            datetimes: vec![0; datetimes.len()],
            times: vec![0; times.len()],
            min_len: usize::MAX,
            ..Seen::default()
        })
        .collect();
    // Personal data is recognised by its header and never looked at.
    let sensitive: Vec<bool> = headers.iter().map(|h| names_personal_data(h)).collect();
    let mut nulls: BTreeSet<String> = BTreeSet::new();
    let (mut rows, mut wider, mut narrower) = (0usize, 0usize, 0usize);
    let mut records = records;
    for record in records.by_ref().take(ROWS_READ) {
        let record = record.map_err(|e| rejected(format!("cannot be read as CSV: {e}")))?;
        rows += 1;
        // A row of another width is quarantined by a run (wrong_field_count): said, and
        // not counted (its fields are not the header's columns, and its missing ones
        // would make columns look optional).
        if record.len() != headers.len() {
            wider += usize::from(record.len() > headers.len());
            narrower += usize::from(record.len() < headers.len());
            continue;
        }
        for ((s, value), &skip) in seen.iter_mut().zip(record.iter()).zip(&sensitive) {
            if skip {
                continue;
            }
            let v = value.trim();
            if v.is_empty() || v.eq_ignore_ascii_case("NULL") {
                // Blank values are compared as written (after trimming): each spelling.
                if !v.is_empty() && !nulls.contains(v) {
                    nulls.insert(v.to_string());
                }
                s.blank += 1;
                continue;
            }
            s.add(v, &dates, &datetimes, &times);
        }
    }
    let mut taken = BTreeSet::new();
    let names: Vec<String> = headers.iter().map(|h| unique_name(h, &mut taken)).collect();
    // A council-code column scopes the person ids councils issue.
    let scope_at = headers.iter().position(|h| is_council_code(h));
    let scope = scope_at.map(|i| names[i].as_str());
    // A header matches its column case- and space-folded: a second column of one header,
    // or one without a header, cannot be declared (ingest warns of it as undeclared).
    let mut folded = BTreeSet::new();
    let (mut unnamed, mut repeated) = (Vec::new(), Vec::new());
    let mut columns = Vec::new();
    for (i, ((h, s), name)) in headers.iter().zip(&seen).zip(&names).enumerate() {
        // A header of invisible characters only (a zero-width space) names nothing.
        if h.chars().all(is_invisible) {
            unnamed.push(i + 1);
            continue;
        }
        if !folded.insert(crate::schema::fold::fold(h)) {
            repeated.push(i + 1);
            continue;
        }
        let (mut lines, kind) = if sensitive[i] {
            let line =
                "type = \"sensitive\"  # personal data: recognised by its header, never read";
            (vec![line.to_string()], ValueKind::Other)
        } else {
            column_lines(h, s, &dates, &datetimes, &times, lists, scope)
        };
        // The first row is data, not a header, when a cell of it is a value of the type
        // its column was given (a date in a date column) or one of the values below it
        // (`F` over a column of `F` and `M`): refused before it is printed.
        if header_is_a_value(h, &kind, &dates, &datetimes, &times, lists)
            || (!s.too_many && s.distinct.contains_key(h.as_str()))
        {
            return Err(rejected(format!(
                "{first_row} looks like data, not a header (a cell of it is a value of its column): a contract reads files by their headers"
            )));
        }
        // A scope is required (a blank one would make one person of two councils' ids).
        if scope_at == Some(i) && !lines.iter().any(|l| l.starts_with("required")) {
            lines.push(
                "required = true  # it scopes the person ids: a row without it is quarantined"
                    .into(),
            );
        }
        columns.push(Drafted {
            lines,
            name: name.clone(),
            header: h.clone(),
        });
    }
    let notes = Notes {
        rows,
        cut: read_cut || records.next().is_some(),
        wider,
        narrower,
        unnamed,
        repeated,
        no_lists: lists.is_empty(),
    };
    Ok(render(path, name, &notes, &layout, &nulls, &columns))
}

/// Whether `c` takes no room when shown: a zero-width space, joiner or non-joiner, a word
/// joiner, a byte-order mark.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// In `bytes` (whole lines): the characters beyond ASCII written in UTF-8, and the bytes
/// that are not UTF-8.
fn utf8_spread(bytes: &[u8]) -> (usize, usize) {
    bytes.utf8_chunks().fold((0, 0), |(written, not), chunk| {
        (
            written + chunk.valid().chars().filter(|c| !c.is_ascii()).count(),
            not + chunk.invalid().len(),
        )
    })
}

/// What the draft says of its reading, in comments at its top.
struct Notes {
    rows: usize,
    cut: bool,
    wider: usize,
    narrower: usize,
    /// Columns (1-based) without a header.
    unnamed: Vec<usize>,
    /// Columns (1-based) whose header an earlier column has.
    repeated: Vec<usize>,
    no_lists: bool,
}

/// Whether header cell `h` is itself a value of the kind its column was given.
fn header_is_a_value(
    h: &str,
    kind: &ValueKind,
    dates: &[DateFormat],
    datetimes: &[DateFormat],
    times: &[DateFormat],
    lists: &[Arc<CodeList>],
) -> bool {
    let parses = |formats: &[DateFormat]| formats.iter().any(|f| f.parse(h).is_some());
    match kind {
        ValueKind::NhsNumber => nhs_number::is_shaped_like(h),
        ValueKind::Date => parses(dates),
        ValueKind::DateTime => parses(datetimes),
        ValueKind::Time => parses(times),
        ValueKind::Integer => h
            .trim_start_matches('-')
            .bytes()
            .all(|b| b.is_ascii_digit()),
        ValueKind::Code(name) => lists
            .iter()
            .find(|c| &c.name == name)
            .is_some_and(|c| c.position_as_spelt(h).is_some()),
        ValueKind::Other => false,
    }
}

impl Seen {
    fn add(
        &mut self,
        v: &str,
        dates: &[DateFormat],
        datetimes: &[DateFormat],
        times: &[DateFormat],
    ) {
        self.values += 1;
        if nhs_number::validate(v).is_ok() {
            self.nhs_valid += 1;
        }
        if v.len() >= 16 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
            self.hex += 1;
            self.lower_hex += u64::from(v.bytes().any(|b| b.is_ascii_lowercase()));
            self.upper_hex += u64::from(v.bytes().any(|b| b.is_ascii_uppercase()));
        }
        let digits = v.strip_prefix('-').unwrap_or(v);
        if !digits.is_empty()
            && digits.len() <= 9
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'))
        {
            self.integer += 1;
        }
        // Each value counted under the first format that reads it (formats overlap:
        // `05/07/2026` is both `%d/%m/%Y` and `%m/%d/%Y`), so counts add up.
        // A date outside the years a run accepts by default (a `9999-12-31` placeholder)
        // is not counted as one: the column would quarantine it.
        let years = DEFAULT_YEARS.0..=DEFAULT_YEARS.1;
        for (counts, formats, dated) in [
            (&mut self.dates, dates, true),
            (&mut self.datetimes, datetimes, true),
            (&mut self.times, times, false),
        ] {
            if let Some(i) = formats.iter().position(|f| {
                f.parse(v)
                    .is_some_and(|p| !dated || years.contains(&p.year))
            }) {
                counts[i] += 1;
            }
        }
        // Day first or month first: only a value with a day over 12 tells.
        let (uk, us) = (&dates[UK_DATE], &dates[US_DATE]);
        match (uk.parse(v).is_some(), us.parse(v).is_some()) {
            (true, false) => self.uk_only += 1,
            (false, true) => self.us_only += 1,
            _ => {}
        }
        self.postcodes += u64::from(crate::ingest::quarantine::holds_postcode(v));
        self.nhs_in_text += u64::from(crate::ingest::quarantine::holds_valid_nhs_number(v));
        let len = v.chars().count();
        self.min_len = self.min_len.min(len);
        self.max_len = self.max_len.max(len);
        self.chars.add(v);
        if !self.too_many {
            let room = self.distinct.len() < DISTINCT_KEPT;
            match self.distinct.get_mut(v) {
                Some(n) => *n += 1,
                None if room => {
                    self.distinct.insert(v.to_string(), 1);
                }
                None => {
                    self.too_many = true;
                    self.distinct.clear();
                }
            }
        }
    }

    fn nearly_all(&self, n: u64) -> bool {
        self.values > 0 && n as f64 >= self.values as f64 * NEARLY_ALL
    }
}

/// The formats (of `formats`, by their counts `counts`) that together take nearly every
/// value, most used first; empty when they do not.
fn covering(counts: &[u64], formats: &[DateFormat], s: &Seen) -> Vec<String> {
    let mut order: Vec<usize> = (0..formats.len()).filter(|&i| counts[i] > 0).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(counts[i]));
    // Each value is counted under one format only ([`Seen::add`]), so counts add up.
    let mut taken = 0;
    let mut chosen = Vec::new();
    for i in order {
        if s.nearly_all(taken) {
            break;
        }
        taken += counts[i];
        chosen.push(formats[i].as_str().to_string());
    }
    if s.nearly_all(taken) {
        chosen
    } else {
        Vec::new()
    }
}

/// A contract name from a file's name: its stem in lower-case letters, digits and `_`,
/// without the parts with digits that end it (a date or period: `CLD_904_2026Q3.csv` →
/// `cld`) or any part with six digits in a row; `contract` when nothing is left.
pub fn name_from_file(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    // A run of six or more digits may be an NHS number, a date or a batch: never a name.
    let long_digits = |p: &str| {
        p.as_bytes()
            .split(|b| !b.is_ascii_digit())
            .any(|run| run.len() >= 6)
    };
    let parts: Vec<&str> = stem
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty() && !long_digits(p))
        .collect();
    let mut taken = BTreeSet::new();
    let name = unique_name(&parts.join("_"), &mut taken);
    let mut parts: Vec<&str> = name.split('_').collect();
    while parts.len() > 1
        && parts
            .last()
            .is_some_and(|p| p.bytes().any(|b| b.is_ascii_digit()))
    {
        parts.pop();
    }
    match parts.join("_").as_str() {
        "" | "column" => "contract".to_string(),
        name => name.to_string(),
    }
}

/// Header words of an id, a reference or a code: its digits are not a quantity, so it is
/// a string (leading zeros and all), not an integer.
fn names_an_id(ws: &[String]) -> bool {
    ws.iter().any(|w| {
        [
            "id",
            "ident",
            "identifier",
            "ref",
            "reference",
            "number",
            "no",
            "code",
            "key",
        ]
        .contains(&w.as_str())
    })
}

/// A header of the council (local authority) code: `LA Code`, `LA_Code`, `Council Code`.
fn is_council_code(h: &str) -> bool {
    let ws = words(h);
    ws.iter().any(|w| w == "code")
        && ws
            .iter()
            .any(|w| ["la", "council", "authority"].contains(&w.as_str()))
}

/// A header of a person's id other than the NHS number: `LA Person Unique Identifier`,
/// `Client ID`, `Person_ID`.
fn is_person_id(h: &str) -> bool {
    let ws = words(h);
    let who = ws
        .iter()
        .any(|w| ["person", "client", "patient", "user"].contains(&w.as_str()));
    let id = ws
        .iter()
        .any(|w| ["id", "identifier", "ref", "reference"].contains(&w.as_str()));
    who && id && !ws.iter().any(|w| w == "nhs")
}

/// A column name from its header: lower-case letters, digits and `_`, unique.
fn unique_name(h: &str, names: &mut BTreeSet<String>) -> String {
    let mut base = String::new();
    for c in h.chars() {
        if c.is_ascii_alphanumeric() {
            base.push(c.to_ascii_lowercase());
        } else if !base.ends_with('_') && !base.is_empty() {
            base.push('_');
        }
    }
    let mut base = base.trim_end_matches('_').to_string();
    if base.is_empty() || base.starts_with(|c: char| c.is_ascii_digit()) {
        base = format!("column_{base}").trim_end_matches('_').to_string();
    }
    let mut name = base.clone();
    let mut n = 2;
    while !names.insert(name.clone()) {
        name = format!("{base}_{n}");
        n += 1;
    }
    name
}

/// The contract lines of one column after its name and header — type, its settings, and
/// `required` when no value was blank — and the kind of value the type takes.
#[allow(clippy::too_many_arguments)]
fn column_lines(
    h: &str,
    s: &Seen,
    dates: &[DateFormat],
    datetimes: &[DateFormat],
    times: &[DateFormat],
    lists: &[Arc<CodeList>],
    scope: Option<&str>,
) -> (Vec<String>, ValueKind) {
    let quoted = |v: &str| toml::Value::String(v.to_string()).to_string();
    let list_of = |fs: &[String]| {
        format!(
            "[{}]",
            fs.iter().map(|f| quoted(f)).collect::<Vec<_>>().join(", ")
        )
    };
    let mut lines = Vec::new();
    let required = s.values > 0 && s.blank == 0;
    let ws = words(h);
    // By its header (`NHS Number`, `NHS_No`), or by values most of which pass Modulus 11:
    // a column of NHS numbers with a few mistyped is still one, never kept as text.
    // A flag about the number (`NHS Number Traced Flag`), or pseudonyms under an NHS
    // number's header (64 hex digits), is not one.
    let named = ws.iter().any(|w| w == "nhs")
        && ws
            .iter()
            .any(|w| ["number", "no", "num", "nbr"].contains(&w.as_str()))
        && !ws.iter().any(|w| {
            w.starts_with("pseudo")
                || [
                    "status",
                    "flag",
                    "traced",
                    "trace",
                    "verified",
                    "indicator",
                    "valid",
                    "code",
                ]
                .contains(&w.as_str())
        })
        && !(s.values > 0 && s.nearly_all(s.hex));
    if named || (s.values > 0 && s.nhs_valid * 2 > s.values) {
        lines.push("type = \"nhs_number\"".into());
        lines.push("header_required = true".into());
        if s.blank > 0 || s.nhs_valid < s.values {
            lines.push(
                "on_invalid = \"blank\"  # a row without a valid number still counts, linked to no one"
                    .into(),
            );
        }
        return (lines, ValueKind::NhsNumber);
    }
    let pseudonyms = ws.iter().any(|w| w.starts_with("pseudo"))
        || (ws.iter().any(|w| w == "nhs") && s.values > 0);
    if pseudonyms && s.nearly_all(s.hex) {
        lines.push("type = \"pseudonym\"".into());
        lines.push(
            "scheme = \"upstream\"  # name the scheme that pseudonymised them (the same on every contract of its pseudonyms)"
                .into(),
        );
        if s.lower_hex > 0 && s.upper_hex > 0 {
            lines.push("ignore_case = true  # written in both cases".into());
        }
        lines.push("header_required = true".into());
        return (lines, ValueKind::Other);
    }
    if is_person_id(h) {
        match scope {
            Some(scope) => {
                lines.push("type = \"identifier\"".into());
                lines.push(format!("scope = {}", quoted(scope)));
                if required {
                    lines.push("required = true".into());
                }
            }
            None => lines.push(
                "type = \"sensitive\"  # a person's id: declare type = \"identifier\" with scope = the column holding the code of the organisation that issued it (none was recognised)"
                    .into(),
            ),
        }
        return (lines, ValueKind::Other);
    }
    // Values a run refuses in a kept column: postcodes, and NHS numbers written in another
    // form (`9434765919.0`). Never kept: declared sensitive, said why.
    if s.values > 0 && s.postcodes * 2 > s.values {
        lines.push(
            "type = \"sensitive\"  # its values look like postcodes: personal data, never read"
                .into(),
        );
        return (lines, ValueKind::Other);
    }
    if s.values > 0 && s.nhs_in_text * 2 > s.values {
        lines.push("type = \"sensitive\"  # its values hold NHS numbers in another form (e.g. with a decimal point): mend the extract and declare it nhs_number".into());
        return (lines, ValueKind::Other);
    }
    // Day first or month first: the values with a day over 12 decide; both seen, the
    // column is not read as dates (its values are ambiguous).
    let mut date_counts = s.dates.clone();
    let ambiguous = s.uk_only > 0 && s.us_only > 0;
    if ambiguous {
        date_counts[UK_DATE] = 0;
        date_counts[US_DATE] = 0;
    } else if s.us_only > 0 {
        date_counts[US_DATE] += date_counts[UK_DATE];
        date_counts[UK_DATE] = 0;
    }
    let mut kind = ValueKind::Other;
    let mut typed = |name: &str, fs: Vec<String>| {
        lines.push(format!("type = \"{name}\""));
        lines.push(format!("formats = {}", list_of(&fs)));
    };
    let found = covering(&s.datetimes, datetimes, s);
    if !found.is_empty() {
        typed("datetime", found);
        kind = ValueKind::DateTime;
    } else {
        let found = covering(&date_counts, dates, s);
        if !found.is_empty() {
            typed("date", found);
            kind = ValueKind::Date;
        } else if ambiguous {
            lines.push("type = \"string\"  # dates written day first and month first (both have days over 12): mend the extract, then declare the date".into());
        } else {
            let found = covering(&s.times, times, s);
            if !found.is_empty() {
                typed("time", found);
                kind = ValueKind::Time;
            } else if let Some(list) = code_list(h, s, lists) {
                lines.push("type = \"code\"".into());
                lines.push(format!("codes = {}", quoted(&list)));
                kind = ValueKind::Code(list);
            } else if s.integer == s.values && s.values > 0 && !names_an_id(&ws) {
                lines.push("type = \"integer\"".into());
                kind = ValueKind::Integer;
            } else {
                lines.push("type = \"string\"".into());
                // A code-like value (short, with a digit) of few distinct values: its
                // shape is checked. Names and free text are not.
                if !s.too_many
                    && s.max_len <= 10
                    && s.chars.digit
                    && let Some(p) = s.chars.pattern(s.min_len, s.max_len)
                {
                    lines.push(format!("pattern = {}", quoted(&p)));
                }
            }
        }
    }
    if required {
        lines.push("required = true".into());
    }
    (lines, kind)
}

/// The code list nearly every value of the column is in: of those, the one whose name
/// shares most of its words with the header, then the shortest.
fn code_list(h: &str, s: &Seen, lists: &[Arc<CodeList>]) -> Option<String> {
    if s.too_many || s.values == 0 {
        return None;
    }
    let ws = words(h);
    lists
        .iter()
        .filter(|l| {
            let inside: u64 = s
                .distinct
                .iter()
                .filter(|(v, _)| l.position_as_spelt(v).is_some())
                .map(|(_, n)| n)
                .sum();
            s.nearly_all(inside)
        })
        .map(|l| {
            let name_words: Vec<&str> = l.name.split('_').collect();
            let shared = name_words
                .iter()
                .filter(|w| ws.iter().any(|h| h == *w))
                .count();
            (shared as f64 / name_words.len() as f64, l)
        })
        .filter(|(share, _)| *share > 0.0)
        .max_by(|(a, la), (b, lb)| {
            a.total_cmp(b)
                .then_with(|| lb.codes.len().cmp(&la.codes.len()))
        })
        .map(|(_, l)| l.name.clone())
}

fn render(
    path: &Path,
    name: &str,
    notes: &Notes,
    layout: &Layout,
    nulls: &BTreeSet<String>,
    columns: &[Drafted],
) -> String {
    let quoted = |v: &str| toml::Value::String(v.to_string()).to_string();
    let file = crate::ingest::quarantine::file_name_text(path);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Drafted by `joinedup draft` from {} ({} rows read{}): review every column.",
        crate::ingest::quarantine::mask_file_name(&file),
        notes.rows,
        if notes.cut { ", the first" } else { "" }
    );
    s.push_str(
        "# Types, formats and code lists were inferred from the values; no value is written here.\n\
         # Save as schemas/sources/<name>.toml and try it on the feed's files:\n\
         #   joinedup check --contract schemas/sources/<name>.toml --file FILE\n\
         # then map it onto an entity (pipelines/mappings/) and add the source to a pipeline.\n",
    );
    if notes.rows == 0 {
        s.push_str("# The file has no data rows: every type below is a guess from its header.\n");
    }
    if notes.narrower > 0 {
        let _ = writeln!(
            s,
            "# {} row(s) have fewer fields than the header: a run quarantines them (wrong_field_count); they were not read.",
            notes.narrower
        );
    }
    if notes.wider > 0 {
        let _ = writeln!(
            s,
            "# {} row(s) have more fields than the header: a run quarantines them (wrong_field_count).",
            notes.wider
        );
    }
    let listed = |at: &[usize]| {
        at.iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !notes.unnamed.is_empty() {
        let _ = writeln!(
            s,
            "# Column(s) {} have no header: not declared (a run warns of them as undeclared).",
            listed(&notes.unnamed)
        );
    }
    if !notes.repeated.is_empty() {
        let _ = writeln!(
            s,
            "# Column(s) {} repeat an earlier column's header: a run refuses such a file as ambiguous; rename them in the extract.",
            listed(&notes.repeated)
        );
    }
    if notes.no_lists {
        s.push_str("# No code lists were found (--schemas): no column was matched to one.\n");
    }
    let _ = writeln!(s, "[contract]\nname = {}\nversion = 1", quoted(name));
    let _ = writeln!(
        s,
        "description = {}",
        quoted(&format!(
            "Drafted from {}: say what the extract is",
            crate::ingest::quarantine::mask_file_name(&file)
        ))
    );
    match layout {
        Layout::Csv {
            utf8,
            not_utf8,
            delimiter,
        } => {
            if *not_utf8 > 0 {
                let _ = writeln!(
                    s,
                    "# {not_utf8} byte(s) of the rows read are not UTF-8: a run quarantines their rows (invalid_encoding) where it reads their column."
                );
            }
            let _ = writeln!(
                s,
                "encoding = \"{}\"",
                if *utf8 { "utf-8" } else { "windows-1252" }
            );
            if *delimiter != b',' {
                let shown = if *delimiter == b'\t' {
                    "\\t".to_string()
                } else {
                    (*delimiter as char).to_string()
                };
                let _ = writeln!(s, "delimiter = \"{shown}\"");
            }
        }
        Layout::Sheet {
            sheet,
            header_row,
            others,
            uncalculated,
        } => {
            if let Some(first) = &uncalculated.first {
                let _ = writeln!(
                    s,
                    "# {} formula cell(s) have no saved result (the first {first}; a workbook written by a script, not saved by Excel): read as blank, as a run reads them. Open and save it in Excel, then draft again.",
                    uncalculated.count
                );
            }
            let beside = if others.is_empty() {
                String::new()
            } else {
                format!("; the workbook's other sheets: {}", others.join(", "))
            };
            // The sheet is read as the UTF-8 text its copy is written in.
            s.push_str("encoding = \"utf-8\"\n");
            let _ = writeln!(
                s,
                "sheet = {}  # its header is row {header_row}; rows above it are passed over{beside}",
                quoted(sheet)
            );
        }
    }
    let blanks: Vec<String> = std::iter::once(String::new())
        .chain(nulls.iter().cloned())
        .map(|v| quoted(&v))
        .collect();
    let _ = writeln!(s, "null_values = [{}]", blanks.join(", "));
    s.push_str("on_extra_column = \"warn\"\n");
    for c in columns {
        let _ = writeln!(
            s,
            "\n[[columns]]\nname = {}\nheader = {}",
            quoted(&c.name),
            quoted(&c.header)
        );
        for line in &c.lines {
            let _ = writeln!(s, "{line}");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contract_is_named_after_its_file_without_its_period() {
        for (file, name) in [
            ("/drop/CLD_904_2026Q3.csv", "cld"),
            ("apc_spells_2026Q3.csv", "apc_spells"),
            ("Acute Discharges (Oct).csv", "acute_discharges_oct"),
            ("2026-10.csv", "contract"),
            ("9434765919_extract.csv", "extract"),
        ] {
            assert_eq!(name_from_file(Path::new(file)), name, "{file}");
        }
    }

    #[test]
    fn column_names_are_lower_case_words_and_unique() {
        let mut taken = BTreeSet::new();
        let names: Vec<String> = [
            "Start Date (Hospital Provider Spell)",
            "Request: Route of Access",
            "start date hospital provider spell",
            "1st Contact",
            "",
        ]
        .iter()
        .map(|h| unique_name(h, &mut taken))
        .collect();
        assert_eq!(
            names,
            [
                "start_date_hospital_provider_spell",
                "request_route_of_access",
                "start_date_hospital_provider_spell_2",
                "column_1st_contact",
                "column",
            ]
        );
    }

    #[test]
    fn a_pattern_holds_the_characters_and_lengths_seen() {
        let mut c = CharClasses::default();
        for v in ["RX1", "RYJ02", "R-1"] {
            c.add(v);
        }
        assert_eq!(c.pattern(3, 5).as_deref(), Some("[A-Z0-9-]{3,5}"));
        let mut spaced = CharClasses::default();
        spaced.add("A 1");
        assert_eq!(spaced.pattern(3, 3), None);
    }

    #[test]
    fn formats_are_chosen_together_until_nearly_every_value_parses() {
        let datetimes: Vec<DateFormat> = DATETIME_FORMATS
            .iter()
            .map(|f| DateFormat::compile(f).unwrap())
            .collect();
        let dates: Vec<DateFormat> = DATE_FORMATS
            .iter()
            .map(|f| DateFormat::compile(f).unwrap())
            .collect();
        let times: Vec<DateFormat> = TIME_FORMATS
            .iter()
            .map(|f| DateFormat::compile(f).unwrap())
            .collect();
        let mut s = Seen {
            dates: vec![0; dates.len()],
            datetimes: vec![0; datetimes.len()],
            times: vec![0; times.len()],
            min_len: usize::MAX,
            ..Seen::default()
        };
        for _ in 0..60 {
            s.add("2026-07-01 10:00", &dates, &datetimes, &times);
        }
        for _ in 0..40 {
            s.add("2026-07-01 10:00:59", &dates, &datetimes, &times);
        }
        assert_eq!(
            covering(&s.datetimes, &datetimes, &s),
            ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
        );
        assert!(covering(&s.dates, &dates, &s).is_empty());
    }
}
