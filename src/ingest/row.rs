//! Checking one row against its contract: decode, blank, type, code list, NHS number and
//! row rules. Every failing check is reported, not just the first. A value failing a
//! check of a column declared `on_invalid = "blank"`, or of a rule declared
//! `on_fail = "blank"`, is left blank instead and the row goes on; the blanks of
//! accepted rows are counted by column and reason ([`RowChecker::blanked`]).

use std::borrow::Cow;

use csv::ByteRecord;

use super::batch::Cell;
use super::dates::{datetime_ms, days_from_civil, parse_any, time_ms};
use super::decode::{decode, is_control_at};
use super::header::HeaderMap;
use super::nhs_number;
use super::quarantine::{QuarantineRow, mask_data_value};
use super::reason::Reason;
use crate::normalise::pseudonym::Pseudonymiser;
use crate::schema::{Column, ColumnType, Contract, OnInvalid, RuleKind, trim};

/// Values left blank in accepted rows, by contract column index and reason.
pub type Blanked = std::collections::BTreeMap<(usize, Reason), u64>;

/// Checks rows of one file.
pub struct RowChecker<'a> {
    /// The contract.
    pub contract: &'a Contract,
    /// Where the contract's columns are in this file.
    pub header: &'a HeaderMap,
    /// Pseudonymiser for identifiers.
    pub pseudo: &'a Pseudonymiser,
    /// File name for quarantine rows.
    pub file_name: &'a str,
    /// Byte offset in the file of the reader's first byte: record positions are relative
    /// to it, reported offsets are not.
    pub byte_base: u64,
    /// True when the file is a workbook sheet's copy ([`super::workbook_sheet`]): a
    /// field is named by its cell (`B4`), as the copy is gone once the rows are read.
    pub cells: bool,
    /// Each `string` column's last accepted value (see [`RowChecker::string_shape`]).
    pub last_accepted: std::cell::RefCell<Vec<Option<String>>>,
    /// Which contract columns the source reads ([`crate::config::SourcePlan::columns_read`]):
    /// a column it does not read (of any type but the identifying ones) is neither
    /// stored, nor checked but for its `pattern`, nor copied into a quarantine record.
    pub read: &'a [bool],
    /// Values left blank in the rows accepted so far (`on_invalid`/`on_fail = "blank"`).
    pub blanked: std::cell::RefCell<Blanked>,
    /// The contract column the source's `person_id` comes from, when it is an NHS number
    /// ([`crate::config::SourcePlan::person_column`]).
    pub person_column: Option<usize>,
    /// Rows accepted so far without an NHS number in [`RowChecker::person_column`]
    /// (blank, left blank as invalid, or the column missing from the file): rows with no
    /// person, linking to nothing.
    pub without_nhs_number: std::cell::Cell<u64>,
    /// Valid NHS numbers outside the 999 test range read under a pseudonymiser for test
    /// data only (the demo key): the file is refused when there is one.
    pub outside_test_range: std::cell::Cell<u64>,
    /// The run's date, days since 1970-01-01 ([`crate::run_date`]): a column's
    /// `not_after_run_days` counts from it.
    pub run_day: i32,
    /// The run dates the values checked against it so far hold for.
    pub run_dates: std::cell::Cell<crate::run_date::RunDates>,
}

/// A `string` column's value against its contract `pattern`. A value of another shape
/// than declared is not quoted: in a code's or an id's place it may be a name.
fn pattern_check(col: &Column, text: &str) -> Result<(), (Reason, String)> {
    match &col.pattern {
        Some(p) if !p.matches(text) => Err((
            Reason::PatternMismatch,
            format!(
                "\"{}\" value (not shown) does not have the declared shape {}",
                col.header, p.text
            ),
        )),
        _ => Ok(()),
    }
}

impl RowChecker<'_> {
    /// A date or date-time of activity that has happened, against the run's date: more
    /// than the column's `not_after_run_days` after it, it is impossible (a typing error
    /// such as 2099 for 2029 would otherwise make a month file for every month up to it).
    fn not_after_run<'r>(
        &self,
        col: &Column,
        text: &str,
        p: &super::dates::Parts,
    ) -> Result<Cell<'r>, (Reason, String)> {
        let bound = col.not_after_run_days.unwrap_or(0);
        let day = days_from_civil(p.year, p.month, p.day);
        let ok = i64::from(day) <= i64::from(self.run_day) + i64::from(bound);
        let mut dates = self.run_dates.get();
        if col.personal {
            // The run dates the reading holds for are kept with it (the ingest cache's
            // record, the state): worked out from a date of birth, the latest accepted
            // one would be a person's. The run's own date is recorded instead, as if the
            // value were due today (accepted) or tomorrow (refused): the reading then
            // holds from today on, or until tomorrow — never for longer than it does.
            let due = self.run_day.saturating_add(i32::from(!ok));
            dates.saw(due.saturating_add(bound), bound, ok);
        } else {
            dates.saw(day, bound, ok);
        }
        self.run_dates.set(dates);
        if !ok {
            return Err((
                Reason::DateInFuture,
                format!(
                    "\"{}\" value \"{text}\" is after the run's date {} (more than {bound} day(s) ahead): activity not yet happened, most likely a typing error",
                    col.header,
                    crate::run_date::iso(self.run_day)
                ),
            ));
        }
        Ok(match col.kind {
            ColumnType::Date(_) => Cell::Date(day),
            _ => Cell::DateTime(datetime_ms(p)),
        })
    }

    /// Returns the row's cells (indexed by contract column) or its quarantine entry.
    pub fn check<'r>(
        &'r self,
        record: &'r ByteRecord,
        line: u64,
        row: u64,
    ) -> Result<Vec<Cell<'r>>, QuarantineRow> {
        let c = self.contract;
        // The quarantine entry is only built for rows that fail.
        let mut q = QuarantineRow {
            file: String::new(),
            line,
            row,
            reasons: Vec::new(),
            details: Vec::new(),
            record: None,
        };
        if record.len() != self.header.width {
            q.file = self.file_name.to_string();
            q.reasons.push(Reason::WrongFieldCount);
            q.details.push(format!(
                "expected {} fields as in the header, found {}{}",
                self.header.width,
                record.len(),
                if record.len() < self.header.width {
                    " (a short or truncated line)"
                } else {
                    ""
                }
            ));
            return Err(q);
        }

        // Decode the fields the contract reads; keep text for the quarantine record.
        // A record that is text as a whole (ASCII, or valid UTF-8 when the contract says
        // UTF-8: nearly every record) is checked once and its fields borrowed from it;
        // otherwise each field is decoded on its own, so a bad byte is reported by field.
        let whole = self.whole_text(record);
        let mut texts: Vec<Option<Cow<'r, str>>> = Vec::with_capacity(c.columns.len());
        for (i, col) in c.columns.iter().enumerate() {
            let at = match self.header.positions[i] {
                Some(pos) if !matches!(col.kind, ColumnType::Sensitive) => pos,
                _ => {
                    texts.push(None);
                    continue;
                }
            };
            if let Some(t) = whole.and_then(|w| w.get(record.range(at)?)) {
                texts.push(Some(Cow::Borrowed(trim(t))));
                continue;
            }
            texts.push(None);
            let bytes = record.get(at).unwrap_or_default();
            match decode(c.encoding, bytes) {
                Ok(t) => texts[i] = Some(trimmed(t)),
                Err(offset) => {
                    q.reasons.push(Reason::InvalidEncoding);
                    let what = if is_control_at(bytes, offset) {
                        format!("a control character (0x{:02X})", bytes[offset])
                    } else {
                        invalid_bytes(c)
                    };
                    let place = if self.cells {
                        let row = u32::try_from(line.saturating_sub(1)).unwrap_or(u32::MAX);
                        let col = u32::try_from(at).unwrap_or(u32::MAX);
                        format!("cell {}", super::nhse::workbook::a1(row, col))
                    } else {
                        let start =
                            self.byte_base + record.position().map(|p| p.byte()).unwrap_or(0);
                        format!("the row starts at byte offset {start}")
                    };
                    q.details.push(format!(
                        "\"{}\" has {what} (byte {} of the field; {place})",
                        col.header,
                        offset + 1
                    ));
                }
            }
        }
        if !q.reasons.is_empty() {
            q.file = self.file_name.to_string();
            return Err(q);
        }

        let is_null = |t: &str| {
            // Most blanks are empty: no string comparison for them.
            if t.is_empty() {
                c.null_values.iter().any(String::is_empty)
            } else {
                c.null_values.iter().any(|n| n == t)
            }
        };
        let mut cells: Vec<Cell<'r>> = Vec::with_capacity(c.columns.len());
        // Values left blank (column, reason): counted if the row is accepted.
        let mut blanks: Vec<(usize, Reason)> = Vec::new();
        for (i, col) in c.columns.iter().enumerate() {
            cells.push(Cell::Null);
            let Some(text) = texts[i].as_deref().filter(|t| !is_null(t)) else {
                if col.required {
                    q.reasons.push(Reason::MissingRequired);
                    q.details.push(format!("\"{}\" is blank", col.header));
                }
                continue;
            };
            let parsed = match &col.kind {
                // A column the source never reads (no field filled from it, no rule
                // comparing it, no identifier scoped by it) is not stored and not
                // checked, whatever its type — a date of birth declared `date` rather
                // than `sensitive` reaches no file — only its `pattern` applies.
                ColumnType::String
                | ColumnType::Integer
                | ColumnType::Date(_)
                | ColumnType::DateTime(_)
                | ColumnType::Time(_)
                | ColumnType::Code(_)
                    if !self.read.get(i).copied().unwrap_or(true) =>
                {
                    pattern_check(col, text).map(|()| Cell::Null)
                }
                ColumnType::String => self
                    .string_shape(i, col, text)
                    .map(|()| Cell::Str(texts[i].clone().unwrap_or_default())),
                // A whole number of ten digits may be an NHS number in the wrong column.
                ColumnType::Integer
                    if !col.allow_nhs_number_shape
                        && crate::ingest::quarantine::holds_valid_nhs_number(text) =>
                {
                    Err((
                        Reason::NhsNumberInText,
                        format!(
                            "\"{}\" holds a value shaped like a valid NHS number, in a number column",
                            col.header
                        ),
                    ))
                }
                ColumnType::Integer => text.parse::<i64>().map(Cell::Int).map_err(|_| {
                    (
                        Reason::InvalidInteger,
                        format!("\"{}\" value \"{text}\" is not a whole number", col.header),
                    )
                }),
                ColumnType::Date(f) | ColumnType::DateTime(f) | ColumnType::Time(f) => {
                    match parse_any(f, text) {
                        Some((p, _))
                            if !matches!(col.kind, ColumnType::Time(_))
                                && !col.years.contains(&p.year) =>
                        {
                            Err((
                                Reason::InvalidDate,
                                format!(
                                    "\"{}\" value \"{text}\" is outside the years {}-{} (a placeholder or a typing error)",
                                    col.header,
                                    col.years.start(),
                                    col.years.end()
                                ),
                            ))
                        }
                        Some((p, _))
                            if !matches!(col.kind, ColumnType::Time(_))
                                && col.not_after_run_days.is_some() =>
                        {
                            self.not_after_run(col, text, &p)
                        }
                        Some((p, _)) => Ok(match col.kind {
                            ColumnType::Date(_) => {
                                Cell::Date(days_from_civil(p.year, p.month, p.day))
                            }
                            ColumnType::DateTime(_) => Cell::DateTime(datetime_ms(&p)),
                            _ => Cell::Time(time_ms(&p)),
                        }),
                        None => Err((
                            Reason::InvalidDate,
                            format!(
                                "\"{}\" value \"{text}\" is not a real date/time in format {}",
                                col.header,
                                f.iter()
                                    .map(|x| x.as_str())
                                    .collect::<Vec<_>>()
                                    .join(" or ")
                            ),
                        )),
                    }
                }
                ColumnType::Code(list) => match list.position(text) {
                    Some(code) => Ok(Cell::Code(code as u32)),
                    None => Err((
                        Reason::UnknownCode,
                        format!(
                            "\"{}\" value \"{text}\" is not in code list \"{}\"",
                            col.header, list.name
                        ),
                    )),
                },
                ColumnType::NhsNumber => match nhs_number::validate(text) {
                    // A real patient's number under the public demo key: counted, and
                    // the file refused once read (never hashed with that key).
                    Ok(digits) if self.pseudo.test_range_only() && !digits.starts_with(b"999") => {
                        self.outside_test_range
                            .set(self.outside_test_range.get() + 1);
                        Ok(Cell::Null)
                    }
                    Ok(digits) => Ok(Cell::Pseudonym(self.pseudo.nhs_number_hex(&digits))),
                    Err(d) => Err((
                        Reason::NhsNumberInvalid,
                        format!("\"{}\" {}", col.header, d.describe()),
                    )),
                },
                // An NHS number where a pseudonym was declared (its check digit right or
                // not): an extract sent before it was pseudonymised, whose persons would
                // link to no one of the scheme. A scheme of ten-digit pseudonyms sets
                // `allow_nhs_number_shape`.
                ColumnType::Pseudonym { .. }
                    if !col.allow_nhs_number_shape && nhs_number::is_shaped_like(text) =>
                {
                    Err((
                        Reason::NhsNumberInText,
                        format!(
                            "\"{}\" holds an NHS number (ten digits), in a column declared to hold pseudonyms (was the extract pseudonymised?)",
                            col.header
                        ),
                    ))
                }
                ColumnType::Pseudonym {
                    scheme,
                    ignore_case,
                } => {
                    // Folded before its shape is checked, so a pattern is written for one
                    // case; allocated only for a value with a lower-case letter.
                    let text = if *ignore_case && text.bytes().any(|b| b.is_ascii_lowercase()) {
                        std::borrow::Cow::Owned(text.to_ascii_uppercase())
                    } else {
                        std::borrow::Cow::Borrowed(text)
                    };
                    pattern_check(col, &text).map(|()| {
                        Cell::Pseudonym(self.pseudo.upstream_pseudonym_hex(scheme, &text))
                    })
                }
                // Scoped identifiers are hashed below, once their scope is known.
                ColumnType::Identifier { .. } => {
                    Ok(Cell::Str(texts[i].clone().unwrap_or_default()))
                }
                ColumnType::Sensitive => Ok(Cell::Null),
            };
            match parsed {
                Ok(cell) => cells[i] = cell,
                // Unusable, and declared to be left blank: the cell stays null.
                Err((reason, _)) if col.on_invalid == OnInvalid::Blank => blanks.push((i, reason)),
                Err((reason, detail)) => {
                    q.reasons.push(reason);
                    let detail = if col.personal {
                        withhold_personal(&detail, text)
                    } else {
                        withhold_long_number(&detail, text)
                    };
                    q.details.push(mask_data_value(&detail));
                }
            }
        }
        for (i, col) in c.columns.iter().enumerate() {
            if let ColumnType::Identifier { scope } = col.kind
                && let Cell::Str(raw) = &cells[i]
            {
                let scope_value = match scope.map(|s| (s, &cells[s])) {
                    Some((_, Cell::Str(s))) => s.as_ref(),
                    Some((_, Cell::Pseudonym(h))) => h.as_str(),
                    Some((s, Cell::Code(code))) => match &c.columns[s].kind {
                        ColumnType::Code(list) => list.codes[*code as usize].code.as_str(),
                        _ => "",
                    },
                    _ => "",
                };
                cells[i] = Cell::Pseudonym(self.pseudo.scoped_identifier_hex(scope_value, raw));
            }
        }
        for rule in &c.rules {
            let (a, b) = (&cells[rule.column], &cells[rule.reference]);
            let order = match (a, b) {
                (Cell::Date(x), Cell::Date(y)) => Some(x.cmp(y)),
                // UK clock times: compared as the times they are, so a departure at 01:10
                // after an arrival at 01:50 in the hour the October change repeats is in
                // order (`measure::uk_clock`), each way round: out of order only when no
                // reading of the two puts them in order.
                (Cell::DateTime(x), Cell::DateTime(y)) => Some(match rule.kind {
                    RuleKind::NotBefore => crate::measure::uk_clock::elapsed_ms(*y, *x).cmp(&0),
                    RuleKind::NotAfter => 0.cmp(&crate::measure::uk_clock::elapsed_ms(*x, *y)),
                }),
                (Cell::Int(x), Cell::Int(y)) => Some(x.cmp(y)),
                _ => None,
            };
            let broken = match (rule.kind, order) {
                (RuleKind::NotBefore, Some(std::cmp::Ordering::Less)) => Some("before"),
                (RuleKind::NotAfter, Some(std::cmp::Ordering::Greater)) => Some("after"),
                _ => None,
            };
            if let (Some(_), Some(blank)) = (broken, rule.blank) {
                // Declared to leave a column blank: later rules see it blank.
                cells[blank] = Cell::Null;
                blanks.push((blank, Reason::DateOrder));
            } else if let Some(word) = broken {
                let (ca, cb) = (&c.columns[rule.column], &c.columns[rule.reference]);
                // A value of a column whose header names personal data (a date of birth
                // compared with an admission) is not shown.
                let shown = |col: &Column, i: usize| {
                    if col.personal {
                        WITHHELD_PERSONAL
                    } else {
                        texts[i].as_deref().unwrap_or("")
                    }
                };
                q.reasons.push(Reason::DateOrder);
                q.details.push(mask_data_value(&format!(
                    "\"{}\" ({}) is {word} \"{}\" ({})",
                    ca.header,
                    shown(ca, rule.column),
                    cb.header,
                    shown(cb, rule.reference)
                )));
            }
        }
        if q.reasons.is_empty() {
            // The linkage key blank (left blank as invalid, or its column not in the file).
            if self
                .person_column
                .is_some_and(|i| matches!(cells[i], Cell::Null))
            {
                self.without_nhs_number
                    .set(self.without_nhs_number.get() + 1);
            }
            if !blanks.is_empty() {
                let mut blanked = self.blanked.borrow_mut();
                for b in blanks {
                    *blanked.entry(b).or_default() += 1;
                }
            }
            return Ok(cells);
        }
        q.file = self.file_name.to_string();
        q.record = Some(self.record_json(&texts));
        Err(q)
    }

    /// Checks a value kept as written (`string`): no NHS number, no postcode, the
    /// column's `pattern`. A repeat of the column's last accepted value (a provider code
    /// on every row) passes without them.
    fn string_shape(&self, i: usize, col: &Column, text: &str) -> Result<(), (Reason, String)> {
        let mut last = self.last_accepted.borrow_mut();
        if last.len() <= i {
            last.resize(i + 1, None);
        }
        if last[i].as_deref() == Some(text) {
            return Ok(());
        }
        // A value kept as written must not be an NHS number: it would reach restricted/,
        // and as a group key (a provider, a council) published/.
        if !col.allow_nhs_number_shape && crate::ingest::quarantine::holds_valid_nhs_number(text) {
            return Err((
                Reason::NhsNumberInText,
                format!(
                    "\"{}\" holds a value shaped like a valid NHS number, in a column kept as written",
                    col.header
                ),
            ));
        }
        // Nor a postcode, which would reach the same places.
        if crate::ingest::quarantine::holds_postcode(text) {
            return Err((
                Reason::PostcodeInText,
                format!(
                    "\"{}\" holds a value shaped like a postcode, in a column kept as written",
                    col.header
                ),
            ));
        }
        pattern_check(col, text)?;
        match &mut last[i] {
            Some(kept) => {
                kept.clear();
                kept.push_str(text);
            }
            slot => *slot = Some(text.to_string()),
        }
        Ok(())
    }

    /// The record as one text when [`decode`] can borrow it whole (valid UTF-8 under a
    /// UTF-8 contract; ASCII under Windows-1252). A field is then a slice of it.
    fn whole_text<'r>(&self, record: &'r ByteRecord) -> Option<&'r str> {
        match decode(self.contract.encoding, record.as_slice()) {
            Ok(Cow::Borrowed(text)) => Some(text),
            _ => None,
        }
    }

    /// A value of the row as its quarantine record shows it: one failing its column's
    /// type with ten digits or more is withheld whole ([`withhold_long_number`]).
    fn shown_value(col: &Column, text: &str) -> String {
        let valid = match &col.kind {
            ColumnType::Date(f) | ColumnType::DateTime(f) | ColumnType::Time(f) => {
                parse_any(f, text).is_some()
            }
            ColumnType::Code(list) => list.position(text).is_some(),
            ColumnType::Integer => text.parse::<i64>().is_ok() && !holds_ten_digits(text),
            _ => true,
        };
        if valid {
            mask_data_value(text)
        } else {
            mask_data_value(&withhold_long_number(text, text))
        }
    }

    /// The row's values whose shape the contract checks (codes, dates, numbers, strings
    /// whose value has their `pattern`), as JSON keyed by contract column name, NHS-number
    /// and postcode shapes masked. Identifying columns are never decoded; free text (a
    /// `string` column without a pattern) is left out, as a name typed in it has no shape
    /// to mask.
    fn record_json(&self, texts: &[Option<Cow<'_, str>>]) -> String {
        let mut map = serde_json::Map::new();
        for (i, (col, text)) in self.contract.columns.iter().zip(texts).enumerate() {
            // Nor a value of a column the source never reads (a date of birth declared
            // `date`): it is kept nowhere else either.
            // Nor one whose header names personal data, whatever its type.
            if col.kind.is_identifying()
                || col.personal
                || !self.read.get(i).copied().unwrap_or(true)
            {
                continue;
            }
            if let Some(t) = text {
                // A value failing its pattern is not shown either.
                if matches!(col.kind, ColumnType::String)
                    && !col.pattern.as_ref().is_some_and(|p| p.matches(t))
                {
                    continue;
                }
                map.insert(
                    col.name.clone(),
                    serde_json::Value::String(Self::shown_value(col, t)),
                );
            }
        }
        serde_json::Value::Object(map).to_string()
    }
}

/// Whether `text` holds ten digits or more, in any grouping.
fn holds_ten_digits(text: &str) -> bool {
    text.chars().filter(|c| c.is_numeric()).count() >= 10
}

/// `shown` with `value` withheld whole when `value` holds ten digits or more: a value that
/// failed its column's check may hold an NHS number run together with other digits
/// (`999  251  8693 1`, a date beside it), which no shape recognises; such a value is
/// never quoted. A value with fewer digits (a mistyped date or code) is shown, its
/// NHS-number and postcode shapes masked.
fn withhold_long_number(shown: &str, value: &str) -> String {
    if holds_ten_digits(value) && !value.is_empty() {
        shown.replace(value, "<withheld>")
    } else {
        shown.to_string()
    }
}

/// `detail` without the value it quotes (`value "…"`), for a column whose header names
/// personal data ([`Column::personal`]): a date of birth declared `date` is never
/// quoted, whatever it holds.
fn withhold_personal(detail: &str, value: &str) -> String {
    detail.replacen(
        &format!("value \"{value}\""),
        &format!("value {WITHHELD_PERSONAL}"),
        1,
    )
}

/// What a detail shows in place of a personal column's value.
const WITHHELD_PERSONAL: &str = "<withheld: personal data>";

/// Trims a decoded field without copying it when it was borrowed.
fn trimmed(t: Cow<'_, str>) -> Cow<'_, str> {
    match t {
        Cow::Borrowed(b) => Cow::Borrowed(trim(b)),
        Cow::Owned(o) => {
            let t = o.trim();
            if t.len() == o.len() {
                Cow::Owned(o)
            } else {
                Cow::Owned(t.to_string())
            }
        }
    }
}

/// How a field's detail names bytes its contract's encoding does not allow (the file-level
/// hint counts the rows whose detail says so).
pub(super) fn invalid_bytes(c: &Contract) -> String {
    format!("bytes that are not valid {}", encoding_name(c))
}

fn encoding_name(c: &Contract) -> &'static str {
    match c.encoding {
        crate::schema::Encoding::Utf8 => "UTF-8",
        crate::schema::Encoding::Windows1252 => "Windows-1252",
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::schema::{Code, CodeList, Column, Encoding, Matching};

    fn column(name: &str, kind: ColumnType) -> Column {
        Column {
            name: name.into(),
            header: name.into(),
            aliases: Vec::new(),
            kind,
            required: true,
            header_required: true,
            years: crate::ingest::dates::PLAUSIBLE_YEARS,
            not_after_run_days: None,
            allow_nhs_number_shape: false,
            pattern: None,
            on_invalid: OnInvalid::Quarantine,
            personal: false,
        }
    }

    /// A contract with its columns in file order, a test key, and checkers over them.
    struct Fixture {
        contract: Contract,
        header: HeaderMap,
        pseudo: Pseudonymiser,
        read: Vec<bool>,
    }

    impl Fixture {
        fn new(contract: Contract) -> Fixture {
            let width = contract.columns.len();
            Fixture {
                contract,
                read: vec![true; width],
                header: HeaderMap {
                    positions: (0..width).map(Some).collect(),
                    extra: Vec::new(),
                    repeated: Vec::new(),
                    holds_data: false,
                    width,
                },
                pseudo: Pseudonymiser::new(
                    b"a test key of thirty-two bytes!!",
                    crate::normalise::pseudonym::Width::default(),
                )
                .unwrap(),
            }
        }

        fn checker(&self) -> RowChecker<'_> {
            RowChecker {
                contract: &self.contract,
                header: &self.header,
                pseudo: &self.pseudo,
                file_name: "f.csv",
                byte_base: 0,
                cells: false,
                last_accepted: Default::default(),
                read: &self.read,
                blanked: Default::default(),
                person_column: None,
                without_nhs_number: Default::default(),
                outside_test_range: Default::default(),
                run_day: crate::run_date::parse_iso("2026-11-28").unwrap(),
                run_dates: Default::default(),
            }
        }
    }

    /// Regression (review F5): a discharge dated 15/07/2099, inside the contract's years,
    /// was accepted, and `flow_daily` grew a month file for every month up to it. A date
    /// of activity more than its column's `not_after_run_days` after the run's date is
    /// `date_in_future`, or left blank under `on_invalid = "blank"`; the dates checked
    /// record the run dates the reading holds for.
    #[test]
    fn a_date_of_activity_after_the_run_is_date_in_future() {
        let formats = vec![crate::ingest::dates::DateFormat::compile("%d/%m/%Y").unwrap()];
        let dated = |name: &str, on_invalid| Column {
            not_after_run_days: Some(1),
            on_invalid,
            required: false,
            header_required: false,
            ..column(name, ColumnType::Date(formats.clone()))
        };
        let mut contract = contract();
        contract.columns.extend([
            dated("discharge", OnInvalid::Quarantine),
            dated("ready", OnInvalid::Blank),
            // Not bound: a planned end may be ahead.
            column("planned_end", ColumnType::Date(formats.clone())),
        ]);
        let fixture = Fixture::new(contract);
        let day = |s| crate::run_date::parse_iso(s).unwrap();
        let check = |discharge: &str, ready: &str| {
            let checker = fixture.checker();
            let record = ByteRecord::from(vec!["E06000001", "1", discharge, ready, "01/01/2099"]);
            let result = checker.check(&record, 2, 1).map(|c| c[3] == Cell::Null);
            (
                result.map_err(|q| (q.reasons, q.details)),
                checker.run_dates.get(),
                checker.blanked.take(),
            )
        };
        // The run's date and the day after it are allowed; the planned end is not bound.
        let (ok, dates, _) = check("29/11/2026", "28/11/2026");
        assert_eq!(ok, Ok(false));
        assert_eq!(dates.from, Some(day("2026-11-28")));
        assert_eq!(dates.before, None);
        // Two days ahead: quarantined, naming the column, the value and the run's date.
        let (q, dates, _) = check("15/07/2099", "");
        let (reasons, details) = q.unwrap_err();
        assert_eq!(reasons, vec![Reason::DateInFuture]);
        assert!(
            details[0]
                .contains("\"discharge\" value \"15/07/2099\" is after the run's date 2026-11-28"),
            "{details:?}"
        );
        assert_eq!(dates.before, Some(day("2099-07-14")));
        assert_eq!(Reason::DateInFuture.code(), "date_in_future");
        // Under on_invalid = "blank": the value is left blank and counted, the row kept.
        let (ok, dates, blanked) = check("28/11/2026", "30/11/2026");
        assert_eq!(ok, Ok(true));
        assert_eq!(blanked.get(&(3, Reason::DateInFuture)), Some(&1));
        assert_eq!(dates.before, Some(day("2026-11-29")));
    }

    /// A council code (from a code list) and a council person id scoped by it.
    fn contract() -> Contract {
        let code = |c: &str| Code {
            code: c.into(),
            label: None,
            group: None,
        };
        let councils = CodeList::new(
            "councils".into(),
            Matching::Folded,
            vec![code("E06000001"), code("E06000002")],
        );
        Contract {
            name: "t".into(),
            version: 1,
            file: "t.toml".into(),
            encoding: Encoding::Utf8,
            delimiter: b',',
            null_values: vec![String::new()],
            on_extra_column: crate::schema::DriftPolicy::Warn,
            sheet: None,
            columns: vec![
                column("la_code", ColumnType::Code(Arc::new(councils))),
                column("la_person_id", ColumnType::Identifier { scope: Some(0) }),
            ],
            rules: Vec::new(),
        }
    }

    /// Regression guard: codes are stored by their position in the list, so a scope held
    /// as a code must be turned back into its text before hashing (an empty scope would
    /// give every council's person 123 the same pseudonym).
    #[test]
    fn an_identifier_scoped_by_a_code_column_is_hashed_with_the_code_text() {
        let contract = contract();
        let fixture = Fixture::new(contract);
        let checker = fixture.checker();
        let pseudo = &fixture.pseudo;
        // Folded matching: the written " e06000002" is the list's second code.
        let record = ByteRecord::from(vec![" e06000002", "123"]);
        let cells = checker.check(&record, 2, 1).unwrap();
        assert_eq!(cells[0], Cell::Code(1));
        assert_eq!(
            cells[1],
            Cell::Pseudonym(pseudo.scoped_identifier_hex("E06000002", "123"))
        );
        assert_ne!(
            cells[1],
            Cell::Pseudonym(pseudo.scoped_identifier_hex("", "123"))
        );
    }

    /// Regression: the quarantine record copied every non-identifying column, free text
    /// included (a name typed into a gender or reference column reached `quarantine/`).
    /// It holds the values whose shape the contract checks, a value failing its pattern
    /// excepted, with postcode shapes masked.
    #[test]
    fn a_quarantine_record_leaves_out_free_text_and_values_of_the_wrong_shape() {
        let mut contract = contract();
        let text = |name: &str, pattern: Option<&str>| Column {
            required: false,
            header_required: false,
            pattern: pattern.map(|p| crate::schema::Pattern::new(p).unwrap()),
            ..column(name, ColumnType::String)
        };
        contract.columns.extend([
            text("gender", None),
            text("reference", Some("[A-Z]+-[0-9]+")),
            text("site", Some("[A-Z0-9]{3,5}")),
        ]);
        let fixture = Fixture::new(contract);
        let checker = fixture.checker();
        // An unknown council code, a name in free text, a good reference, a bad site.
        let record = ByteRecord::from(vec!["LS1 4AP", "123", "Jane", "EV-12", "Jane"]);
        let q = checker.check(&record, 2, 1).unwrap_err();
        assert_eq!(
            q.reasons,
            vec![Reason::UnknownCode, Reason::PatternMismatch]
        );
        assert_eq!(
            q.details,
            vec![
                "\"la_code\" value \"<withheld>\" is not in code list \"councils\"",
                "\"site\" value (not shown) does not have the declared shape [A-Z0-9]{3,5}",
            ]
        );
        assert_eq!(
            q.record.as_deref(),
            Some(r#"{"la_code":"<withheld>","reference":"EV-12"}"#)
        );
    }

    /// Regression (known limit of session 26): `check --contract` reads every column, so
    /// a date of birth declared `date` (not `sensitive`) was quoted in its row's detail
    /// and copied into its quarantine record. A column whose header names personal data
    /// is checked as declared, but its value is never quoted nor copied; a value of
    /// another column in the same row still is.
    #[test]
    fn a_column_whose_header_names_personal_data_is_never_quoted() {
        let formats = vec![crate::ingest::dates::DateFormat::compile("%d/%m/%Y").unwrap()];
        let mut contract = contract();
        contract.columns.extend([
            Column {
                personal: true,
                header: "Date of Birth".into(),
                ..column("dob", ColumnType::Date(formats.clone()))
            },
            column("start", ColumnType::Date(formats)),
        ]);
        // A date of birth after the start is a date-order fault, whose detail shows the
        // start but not the date of birth.
        contract.rules.push(crate::schema::Rule {
            kind: crate::schema::RuleKind::NotAfter,
            column: 2,
            reference: 3,
            blank: None,
        });
        let fixture = Fixture::new(contract);
        let checker = fixture.checker();
        let record = ByteRecord::from(vec!["E06000001", "1", "02/02/2030", "01/02/2025"]);
        let q = checker.check(&record, 2, 1).unwrap_err();
        assert_eq!(q.reasons, vec![Reason::DateOrder]);
        assert_eq!(
            q.details,
            vec!["\"Date of Birth\" (<withheld: personal data>) is after \"start\" (01/02/2025)"]
        );
        let record = ByteRecord::from(vec!["E06000001", "1", "31/02/1941", "31/02/2025"]);
        let q = checker.check(&record, 2, 1).unwrap_err();
        assert_eq!(q.reasons, vec![Reason::InvalidDate, Reason::InvalidDate]);
        assert_eq!(
            q.details,
            vec![
                "\"Date of Birth\" value <withheld: personal data> is not a real date/time in format %d/%m/%Y",
                "\"start\" value \"31/02/2025\" is not a real date/time in format %d/%m/%Y",
            ]
        );
        assert_eq!(
            q.record.as_deref(),
            Some(r#"{"la_code":"E06000001","start":"31/02/2025"}"#)
        );
        // A valid date of birth is not copied into the record of a row quarantined for
        // another column either.
        let record = ByteRecord::from(vec!["E06000009", "1", "01/02/1941", "01/02/2025"]);
        let q = checker.check(&record, 2, 1).unwrap_err();
        assert_eq!(q.reasons, vec![Reason::UnknownCode]);
        assert!(
            !q.record.as_deref().unwrap().contains("1941"),
            "{:?}",
            q.record
        );
    }

    /// Regression (review): a date of birth bound by `not_after_run_days` set the run
    /// dates the reading holds for from its own value, so the latest accepted date of
    /// birth reached the ingest cache's record and the state. A personal column records
    /// the run's date instead (the reading holds from today), and a refused value
    /// tomorrow (it holds until then).
    #[test]
    fn a_personal_date_is_not_kept_in_the_run_dates() {
        let formats = vec![crate::ingest::dates::DateFormat::compile("%d/%m/%Y").unwrap()];
        let mut contract = contract();
        contract.columns.push(Column {
            personal: true,
            not_after_run_days: Some(0),
            header: "Date of Birth".into(),
            ..column("dob", ColumnType::Date(formats))
        });
        let fixture = Fixture::new(contract);
        let day = |s| crate::run_date::parse_iso(s).unwrap();
        let checker = fixture.checker();
        let record = ByteRecord::from(vec!["E06000001", "1", "15/03/1941"]);
        assert!(checker.check(&record, 2, 1).is_ok());
        let record = ByteRecord::from(vec!["E06000001", "1", "15/03/2041"]);
        let q = checker.check(&record, 3, 2).unwrap_err();
        assert_eq!(q.reasons, vec![Reason::DateInFuture]);
        assert!(!q.details[0].contains("2041"), "{:?}", q.details);
        let dates = checker.run_dates.get();
        assert_eq!(dates.from, Some(day("2026-11-28")));
        assert_eq!(dates.before, Some(day("2026-11-29")));
    }

    /// A pseudonym column (an NHS number pseudonymised upstream) is stored as joinedup's
    /// pseudonym of it in its scheme's domain; a blank one leaves the row without a
    /// person, counted; one not of its declared shape is unusable (and not shown); a
    /// valid NHS number in it is an extract not pseudonymised, unusable, never hashed
    /// as a pseudonym.
    #[test]
    fn a_pseudonym_column_is_hashed_in_its_scheme_and_refuses_nhs_numbers() {
        let contract = Contract {
            columns: vec![Column {
                required: false,
                header_required: true,
                pattern: Some(crate::schema::Pattern::new("[0-9A-F]{8}").unwrap()),
                ..column(
                    "nhs_pseudo",
                    ColumnType::Pseudonym {
                        scheme: "ncdr".into(),
                        ignore_case: false,
                    },
                )
            }],
            ..contract()
        };
        let fixture = Fixture::new(contract);
        let mut checker = fixture.checker();
        checker.person_column = Some(0);
        let pseudo = &fixture.pseudo;
        let record = ByteRecord::from(vec![" A541CAF1 "]);
        let cells = checker.check(&record, 2, 1).unwrap();
        assert_eq!(
            cells[0],
            Cell::Pseudonym(pseudo.upstream_pseudonym_hex("ncdr", "A541CAF1"))
        );
        assert_eq!(checker.without_nhs_number.get(), 0);
        let blank = ByteRecord::from(vec![""]);
        assert_eq!(checker.check(&blank, 3, 2).unwrap()[0], Cell::Null);
        assert_eq!(checker.without_nhs_number.get(), 1);
        let q = checker
            .check(&ByteRecord::from(vec!["not-a-pseudonym"]), 4, 3)
            .unwrap_err();
        assert_eq!(q.reasons, vec![Reason::PatternMismatch]);
        assert!(!q.details[0].contains("not-a-pseudonym"), "{:?}", q.details);
        // Valid, grouped, and with a wrong check digit: NHS numbers all.
        for nhs in ["9434765919", "943 476 5919", "9434765918"] {
            let q = checker
                .check(&ByteRecord::from(vec![nhs]), 5, 4)
                .unwrap_err();
            assert_eq!(q.reasons, vec![Reason::NhsNumberInText], "{nhs}");
            assert_eq!(
                q.details,
                vec![
                    "\"nhs_pseudo\" holds an NHS number (ten digits), in a column declared to hold pseudonyms (was the extract pseudonymised?)"
                ]
            );
            assert_eq!(q.record.as_deref(), Some("{}"));
        }
        // A scheme whose pseudonyms are ten digits says so.
        let mut contract = fixture.contract.clone();
        contract.columns[0].allow_nhs_number_shape = true;
        contract.columns[0].pattern = None;
        let digits = Fixture::new(contract);
        let record = ByteRecord::from(vec!["9434765919"]);
        assert_eq!(
            digits.checker().check(&record, 2, 1).unwrap()[0],
            Cell::Pseudonym(pseudo.upstream_pseudonym_hex("ncdr", "9434765919"))
        );
    }

    /// A scheme that ignores case hashes each pseudonym in upper case: written in lower,
    /// upper or mixed case it is one person's; the pattern is checked on the folded
    /// value. Without `ignore_case` a lower-case one is another value (here, of another
    /// shape).
    #[test]
    fn a_pseudonym_column_ignoring_case_hashes_every_case_as_upper_case() {
        let folded = |ignore_case| Contract {
            columns: vec![Column {
                pattern: Some(crate::schema::Pattern::new("[0-9A-F]{8}").unwrap()),
                ..column(
                    "nhs_pseudo",
                    ColumnType::Pseudonym {
                        scheme: "ncdr".into(),
                        ignore_case,
                    },
                )
            }],
            ..contract()
        };
        let fixture = Fixture::new(folded(true));
        let checker = fixture.checker();
        let want = Cell::Pseudonym(fixture.pseudo.upstream_pseudonym_hex("ncdr", "A541CAF1"));
        for written in ["A541CAF1", "a541caf1", " a541CaF1 "] {
            let record = ByteRecord::from(vec![written]);
            assert_eq!(checker.check(&record, 2, 1).unwrap()[0], want, "{written}");
        }
        let exact = Fixture::new(folded(false));
        let q = exact
            .checker()
            .check(&ByteRecord::from(vec!["a541caf1"]), 2, 1)
            .unwrap_err();
        assert_eq!(q.reasons, vec![Reason::PatternMismatch]);
    }

    /// Regression (review): a number column took a ten-digit NHS number as a whole
    /// number and kept it (in the ingest cache, and in any output it is mapped to).
    #[test]
    fn an_nhs_number_in_a_number_column_is_quarantined() {
        let contract = Contract {
            columns: vec![column("age", ColumnType::Integer)],
            ..contract()
        };
        let fixture = Fixture::new(contract);
        let checker = fixture.checker();
        let nhs = ByteRecord::from(vec!["9434765919"]);
        let q = checker.check(&nhs, 2, 1).unwrap_err();
        assert_eq!(q.reasons, vec![Reason::NhsNumberInText]);
        assert_eq!(q.record.as_deref(), Some(r#"{"age":"<withheld>"}"#));
        // Ten digits failing Modulus 11 are a number like any other.
        let other = ByteRecord::from(vec!["9434765918"]);
        let cells = checker.check(&other, 3, 2).unwrap();
        assert_eq!(cells, vec![Cell::Int(9_434_765_918)]);
    }

    /// A repeated value skips the shape checks only when it was accepted: a value of the
    /// wrong shape is refused however often it comes.
    #[test]
    fn only_an_accepted_value_is_remembered() {
        let contract = Contract {
            columns: vec![Column {
                pattern: Some(crate::schema::Pattern::new("[A-Z0-9]{3}").unwrap()),
                ..column("provider", ColumnType::String)
            }],
            ..contract()
        };
        let fixture = Fixture::new(contract);
        let checker = fixture.checker();
        let rows: Vec<ByteRecord> = ["RX1", "Bob", "Bob", "RX1", "RX2", "LS1 4AP", "LS1 4AP"]
            .into_iter()
            .map(|v| ByteRecord::from(vec![v]))
            .collect();
        let accepted: Vec<bool> = rows
            .iter()
            .enumerate()
            .map(|(n, r)| checker.check(r, n as u64 + 2, n as u64 + 1).is_ok())
            .collect();
        assert_eq!(accepted, [true, false, false, true, true, false, false]);
    }

    /// Regression (review): datetimes in the hour the October change repeats are in order
    /// each way round: `not_before` (departure 01:10 after arrival 01:50) was fixed, but
    /// `not_after` (arrival not after departure) still quarantined the same pair, and an
    /// in-order pair (01:10, 01:50) too. Out of order is a pair no reading puts in order.
    #[test]
    fn regression_datetime_rules_read_the_repeated_october_hour_both_ways() {
        let format = || vec![crate::ingest::dates::DateFormat::compile("%Y-%m-%d %H:%M").unwrap()];
        let contract = |kind: RuleKind, column_index: usize, reference: usize| Contract {
            columns: vec![
                column("arrival", ColumnType::DateTime(format())),
                column("departure", ColumnType::DateTime(format())),
            ],
            rules: vec![crate::schema::Rule {
                kind,
                column: column_index,
                reference,
                blank: None,
            }],
            ..contract()
        };
        let ok = |f: &Fixture, arrival: &str, departure: &str| {
            f.checker()
                .check(&ByteRecord::from(vec![arrival, departure]), 2, 1)
                .is_ok()
        };
        for f in [
            Fixture::new(contract(RuleKind::NotBefore, 1, 0)),
            Fixture::new(contract(RuleKind::NotAfter, 0, 1)),
        ] {
            assert!(ok(&f, "2026-10-25 01:50", "2026-10-25 01:10"));
            assert!(ok(&f, "2026-10-25 01:10", "2026-10-25 01:50"));
            assert!(!ok(&f, "2026-10-24 01:50", "2026-10-24 01:10"));
            assert!(!ok(&f, "2026-10-25 03:00", "2026-10-25 01:30"));
        }
    }
}
