//! Quarantined rows: collected during ingest, written as Parquet with their reasons.
//!
//! A quarantine row keeps where the row was (file, line, data row number), every reason
//! code, a human-readable detail naming each failing column, and the row's
//! non-identifying values as JSON so an analyst can fix the source. Identifying columns
//! (NHS numbers, person identifiers, names, dates of birth, postcodes) are never
//! written, and anything else that looks like an NHS number is masked.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::reason::Reason;
use super::shapes::{Text, nhs_shapes, passes_modulus_11, withhold};
pub use super::shapes::{holds_postcode, mask_postcodes};

/// One quarantined row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantineRow {
    /// Input file name.
    pub file: String,
    /// 1-based line where the row starts.
    pub line: u64,
    /// 1-based data row number (header excluded).
    pub row: u64,
    /// Reasons, sorted, without repeats.
    pub reasons: Vec<Reason>,
    /// One entry per failing check, naming the column.
    pub details: Vec<String>,
    /// Non-identifying values as JSON, when the row's fields line up with the header.
    pub record: Option<String>,
}

/// The quarantine of one source.
#[derive(Debug, Default)]
pub struct Quarantine {
    rows: Vec<QuarantineRow>,
    counts: BTreeMap<&'static str, u64>,
}

impl Quarantine {
    /// Adds a row and counts its reasons.
    pub fn push(&mut self, mut row: QuarantineRow) {
        row.reasons.sort();
        row.reasons.dedup();
        for r in &row.reasons {
            *self.counts.entry(r.code()).or_default() += 1;
        }
        self.rows.push(row);
    }

    /// Appends another quarantine's rows (and counts) after this one's.
    pub fn append(&mut self, other: Quarantine) {
        for (k, v) in other.counts {
            *self.counts.entry(k).or_default() += v;
        }
        self.rows.extend(other.rows);
    }

    /// Number of quarantined rows.
    pub fn len(&self) -> u64 {
        self.rows.len() as u64
    }

    /// Number of quarantined rows with a detail containing `text`.
    pub fn rows_with_detail(&self, text: &str) -> u64 {
        self.rows
            .iter()
            .filter(|r| r.details.iter().any(|d| d.contains(text)))
            .count() as u64
    }

    /// True when nothing was quarantined.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Rows per reason code (a row with two reasons counts under both).
    pub fn counts(&self) -> &BTreeMap<&'static str, u64> {
        &self.counts
    }

    /// The quarantined rows.
    pub fn rows(&self) -> &[QuarantineRow] {
        &self.rows
    }

    /// The rows as a DataFrame: `source, file, line, row, reasons, detail, record`.
    pub fn to_frame(&self, source: &str) -> PolarsResult<DataFrame> {
        let n = self.rows.len();
        let r = &self.rows;
        DataFrame::new(
            n,
            vec![
                Column::new("source".into(), vec![source; n]),
                // A file name holding an NHS number (`apc_9434765919.csv`) is masked too.
                Column::new(
                    "file".into(),
                    r.iter()
                        .map(|q| mask_file_name(&q.file))
                        .collect::<Vec<_>>(),
                ),
                Column::new("line".into(), r.iter().map(|q| q.line).collect::<Vec<_>>()),
                Column::new("row".into(), r.iter().map(|q| q.row).collect::<Vec<_>>()),
                Column::new(
                    "reasons".into(),
                    r.iter()
                        .map(|q| {
                            q.reasons
                                .iter()
                                .map(|x| x.code())
                                .collect::<Vec<_>>()
                                .join(";")
                        })
                        .collect::<Vec<_>>(),
                ),
                Column::new(
                    "detail".into(),
                    r.iter().map(|q| q.details.join("; ")).collect::<Vec<_>>(),
                ),
                Column::new(
                    "record".into(),
                    r.iter().map(|q| q.record.as_deref()).collect::<Vec<_>>(),
                ),
            ],
        )
    }
}

/// Replaces anything shaped like an NHS number ([`super::shapes`]: ten digits, or eleven
/// with a leading zero, grouped under single separators or a run of digits joined by
/// short runs of separators, not a date or a time) with `<withheld>`: for values from the
/// data (quarantine records and details, headers), where a number with a wrong check digit
/// is still somebody's mistyped number.
pub fn mask_nhs_like(text: &str) -> String {
    let ranges = nhs_shapes(text, Text::Value, |_| true);
    withhold(text, &ranges).into_owned()
}

/// A value from the data as quarantine records, details and messages show it: NHS-number
/// shapes ([`mask_nhs_like`]) and full UK postcodes ([`mask_postcodes`]) withheld. (Names
/// have no shape to find: only columns the contract constrains are copied at all.)
pub fn mask_data_value(text: &str) -> String {
    let nhs = mask_nhs_like(text);
    match mask_postcodes(&nhs) {
        std::borrow::Cow::Borrowed(_) => nhs,
        std::borrow::Cow::Owned(o) => o,
    }
}

/// Replaces every NHS number in a file name or path (a shape as [`mask_nhs_like`] finds
/// them whose digits pass Modulus 11) with `<withheld>`: a file named after its patient
/// keeps its name otherwise, and names that only look like one (a time stamp, a batch
/// number) stay apart. Postcodes and dates are kept: their shapes are common in the
/// names of ordinary files (`Q3 1st`, `wk1 2nd`, a hex id, a reporting date), and
/// masking them made two submissions' names equal, so the later could no longer replace
/// the earlier (CLD's latest-submission rule goes by name). Control characters are then
/// shown as escapes ([`crate::escape::one_line`]): a name holding a line break and a
/// forged log line, or ANSI sequences, is shown on one line as what it is.
pub fn mask_file_name(name: &str) -> String {
    // Masked first: an escape's letters (`\t`) would join digits a tab kept apart.
    let masked = withhold_in_name(name);
    crate::escape::one_line(&masked).into_owned()
}

/// [`mask_file_name`] without the escapes: for a name made safe another way
/// ([`crate::pull::landing::landed_name`] keeps only letters, digits, `.`, `_`, `-`).
pub fn withhold_in_name(name: &str) -> std::borrow::Cow<'_, str> {
    let ranges = nhs_shapes(name, Text::Value, passes_modulus_11);
    withhold(name, &ranges)
}

/// A path as messages, warnings and logs show it: every NHS number in it withheld
/// ([`mask_file_name`]).
pub fn shown_path(path: &std::path::Path) -> String {
    mask_file_name(&path_text(path))
}

/// The last part of a path as text ([`path_text`]): `?` when there is none.
pub fn file_name_text(path: &std::path::Path) -> String {
    match path.file_name() {
        Some(n) => path_text(std::path::Path::new(n)),
        None => "?".to_string(),
    }
}

/// A path as text: bytes that are not UTF-8 as `%XX` (a Latin-1 `cld_903_Sept\xe9.csv`
/// is `cld_903_Sept%E9.csv`, as a drop folder takes it), not all as one `\u{fffd}`, and
/// `%` itself as `%25`, so no two names are one text (regression, code review: the
/// state keyed `cld_\xe9.csv` and a file named `cld_%E9.csv` alike, and an edit of one
/// was taken as no change).
pub fn path_text(path: &std::path::Path) -> String {
    crate::pull::file_drop::shown_name(path.as_os_str()).0
}

/// Replaces every NHS number in free text such as log lines and error messages (a shape
/// whose digits pass Modulus 11, dots and commas not taken for separators) with
/// `<withheld>`, leaving other numbers as they are: byte counts,
/// seconds (`123.4567891`) and other ten-digit numbers are common there. Borrowed when
/// nothing is masked.
pub fn mask_nhs_numbers(text: &str) -> std::borrow::Cow<'_, str> {
    if !may_hold_ten_digits(text) {
        return std::borrow::Cow::Borrowed(text);
    }
    let ranges = nhs_shapes(text, Text::Free, passes_modulus_11);
    withhold(text, &ranges)
}

/// Whether `text` holds an NHS-number shape (any grouping, as [`mask_nhs_like`] finds
/// them) whose digits pass Modulus 11: a real NHS number, not just ten digits.
pub fn holds_valid_nhs_number(text: &str) -> bool {
    may_hold_ten_digits(text) && !nhs_shapes(text, Text::Value, passes_modulus_11).is_empty()
}

/// False when `text` cannot hold ten digits: the cheap test run first on every value.
fn may_hold_ten_digits(text: &str) -> bool {
    if text.is_ascii() {
        text.bytes().filter(u8::is_ascii_digit).count() >= 10
    } else {
        text.chars().filter(|c| c.is_numeric()).count() >= 10
    }
}

#[cfg(test)]
mod tests {
    /// Regression (code review): a name that is not UTF-8 and a name holding the same
    /// text with `%` were one key of the saved state.
    #[cfg(unix)]
    #[test]
    fn regression_a_percent_sign_is_escaped_so_no_two_names_are_one_text() {
        use std::os::unix::ffi::OsStrExt;
        let latin1 = std::path::Path::new(std::ffi::OsStr::from_bytes(b"cld_\xe9.csv"));
        let percent = std::path::Path::new("cld_%E9.csv");
        assert_eq!(super::path_text(latin1), "cld_%E9.csv");
        assert_eq!(super::path_text(percent), "cld_%25E9.csv");
        assert_eq!(
            super::path_text(std::path::Path::new("apc_2026Q3.csv")),
            "apc_2026Q3.csv"
        );
    }

    #[test]
    fn postcodes_of_every_shape_are_found_and_masked_but_codes_and_ids_are_not() {
        for pc in [
            "M1 1AE",
            "B33 8TH",
            "CR2 6XH",
            "DN55 1PT",
            "W1A 0AX",
            "EC1A 1BB",
            "sw1a1aa",
            "ls1 4ap",
            // Regression (review): ONS's fixed-width two spaces, and a no-break space.
            "LS1  4AP",
            "LS1\u{A0}4AP",
        ] {
            assert!(super::holds_postcode(pc), "{pc}");
            assert_eq!(super::mask_data_value(pc), "<withheld>", "{pc}");
        }
        assert_eq!(
            super::mask_data_value("moved to LS1 4AP, 9434765919"),
            "moved to <withheld>, <withheld>"
        );
        for not in [
            "RX1",
            "RX101",
            "RX10037461",
            "NS-SVC-025821",
            "E06000002",
            "300",
            "1 - Male",
            "2026-07-01",
            "XLS1 4AP",
            "LS1 4APX",
            "LS1 4A",
        ] {
            assert!(!super::holds_postcode(not), "{not}");
            assert_eq!(super::mask_data_value(not), not);
        }
    }

    use super::{mask_nhs_like, mask_nhs_numbers};

    /// Regression: free text's exact grouping (so that `123.4567891` seconds was not
    /// masked) was applied to data and names too, and let `943476 5919` and
    /// `943 4765919` through the row check into restricted data.
    #[test]
    fn data_and_names_take_any_grouping_free_text_only_3_3_4_or_5_5() {
        use super::{holds_valid_nhs_number, mask_file_name};
        for spelt in ["943476 5919", "943 4765919", "943-476-5919", "943_476_5919"] {
            assert!(holds_valid_nhs_number(spelt), "{spelt}");
            assert_eq!(
                mask_file_name(&format!("a_{spelt}.csv")),
                "a_<withheld>.csv"
            );
        }
        assert_eq!(mask_nhs_numbers("took 943.4765919 s"), "took 943.4765919 s");
        assert_eq!(mask_nhs_numbers("in 943 476 5919"), "in <withheld>");
        // Names keep numbers that only look like one (a time stamp, a batch number).
        assert_eq!(mask_file_name("ecds_1722470400.csv"), "ecds_1722470400.csv");
        assert_eq!(mask_file_name("cld_0000012345.csv"), "cld_0000012345.csv");
    }

    #[test]
    fn free_text_loses_its_nhs_numbers_and_keeps_other_numbers() {
        // 943 476 5919 passes Modulus 11; 943 476 5918 does not.
        assert_eq!(
            mask_nhs_numbers("reading /in/9434765919_apc.csv: bytes=9434765918"),
            "reading /in/<withheld>_apc.csv: bytes=9434765918"
        );
        assert_eq!(
            mask_nhs_numbers("943-476-5919 and 94347 65919 and 09434765919"),
            "<withheld> and <withheld> and <withheld>"
        );
        assert!(matches!(
            mask_nhs_numbers("rows=1234567890 nothing here"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn masks_nhs_shapes_only() {
        assert_eq!(mask_nhs_like("x 9434765919 y"), "x <withheld> y");
        assert_eq!(mask_nhs_like("943 476 5919"), "<withheld>");
        assert_eq!(mask_nhs_like("943-476-5919,"), "<withheld>,");
        // Regression: other spacings, dots and a leading zero passed through unmasked.
        assert_eq!(mask_nhs_like("94347 65919"), "<withheld>");
        assert_eq!(mask_nhs_like("943.476.5919"), "<withheld>");
        assert_eq!(
            mask_nhs_like("value \"09434765919\""),
            "value \"<withheld>\""
        );
        assert_eq!(mask_nhs_like("apc_943_476_5919.csv"), "apc_<withheld>.csv");
        assert_eq!(mask_nhs_like("2026-08-01 10:00"), "2026-08-01 10:00");
        // In data any split into groups of three digits or more is somebody's number.
        assert_eq!(mask_nhs_like("943476 5919"), "<withheld>");
        assert_eq!(mask_nhs_like("943 4765919"), "<withheld>");
        // Ten digits in any grouping: a group of two no longer keeps them (only a date's
        // or a time's does).
        assert_eq!(mask_nhs_like("943 47 65919"), "<withheld>");
        // Regression: groups of three or more under any separators (a review put numbers
        // split 4-3-3 into published group keys, and 3-3-4 with a space and a dash into
        // quarantine).
        assert_eq!(mask_nhs_like("9434-765-919"), "<withheld>");
        assert_eq!(mask_nhs_like("943 476-5919"), "<withheld>");
        assert_eq!(mask_nhs_like("94 3476 5919"), "<withheld>");
        assert_eq!(mask_nhs_like("2026.08.01 1000"), "2026.08.01 1000");
        // SNOMED codes, dates and short numbers stay.
        assert_eq!(mask_nhs_like("1064891000000107"), "1064891000000107");
        assert_eq!(mask_nhs_like("01/08/2026"), "01/08/2026");
        assert_eq!(mask_nhs_like("12345"), "12345");
    }

    /// Regression (review): a no-break space, a slash, a tab or full-width digits between
    /// the groups hid an NHS number from the text-column check (it reached a published
    /// group key and the report) and from the quarantine's masks; file names split 6-4,
    /// 3-7, 4-3-3 or 6-2-2 kept their number in messages and `source_file`.
    #[test]
    fn any_separator_and_unicode_digits_make_an_nhs_number_shape() {
        use super::{holds_valid_nhs_number, mask_file_name};
        for spelt in [
            "943\u{A0}476\u{A0}5919",
            "943/476/5919",
            "943\t476\t5919",
            "９４３４７６５９１９",
            "９４３ ４７６ ５９１９",
            "9434-765-919",
            "94347\u{A0}65919",
        ] {
            assert!(holds_valid_nhs_number(spelt), "{spelt}");
            assert_eq!(mask_nhs_like(&format!("x {spelt} y")), "x <withheld> y");
        }
        for name in [
            "cld_943476_5919.csv",
            "cld_943_4765919.csv",
            "cld_9434-765-919.csv",
            "cld_9434_765_919.csv",
            "cld_943_476_5919_2024-04.csv",
            "cld_503_943_476_5919.csv",
        ] {
            let masked = mask_file_name(name);
            assert!(
                masked.starts_with("cld_")
                    && masked.contains("<withheld>")
                    && !masked.contains("5919")
                    && !masked.contains("919."),
                "{name}: {masked}"
            );
            assert_eq!(
                mask_nhs_numbers(&format!("file={name}")),
                format!("file={masked}")
            );
        }
        // A number beside another under a different separator is still one in a value.
        assert_eq!(
            mask_nhs_like("9434765919 01/02/1950"),
            "<withheld> 01/02/1950"
        );
        // Free text keeps number punctuation: seconds, thousands, clock times.
        for kept in [
            "took 943.4765919 s",
            "1,943,476,591 bytes",
            "at 2026-08-01 10:00:00",
            "rows 943 476 5918",
        ] {
            assert_eq!(mask_nhs_numbers(kept), kept);
        }
        // Regression (review): a number followed or preceded by another stayed in logs
        // and names (`apc_9434765919_2024.csv`, `503_943_476_5919`).
        assert_eq!(mask_nhs_like("943 476 5919 12"), "<withheld> 12");
        // Regression (review): but a telephone number, a time stamp and sequence, or a
        // landline with its leading zero, are not NHS numbers.
        for kept in [
            "+44 7700 900019",
            "Northshire +44 7700 900019",
            "cld_901_20240401_153012_0004.csv",
            "0161 496 0000",
        ] {
            assert_eq!(mask_nhs_like(kept), kept);
            assert!(!super::holds_valid_nhs_number(kept), "{kept}");
        }
        assert_eq!(
            mask_file_name("cld_901_20240401_153012_0004.csv"),
            "cld_901_20240401_153012_0004.csv"
        );
        assert_eq!(
            mask_nhs_numbers("unexpected argument 'extra_9434765919_2024.csv'"),
            "unexpected argument 'extra_<withheld>_2024.csv'"
        );
    }

    /// Regression: an NHS number in a URL with percent-encoded separators
    /// (`943%20476%205919`) reached log lines and the pull report: the escapes' hex digits
    /// joined the groups into a longer number.
    #[test]
    fn percent_encoded_separators_are_read_as_separators() {
        use super::mask_file_name;
        assert_eq!(
            mask_nhs_numbers("url=https://h/p/943%20476%205919.csv retrying"),
            "url=https://h/p/<withheld>.csv retrying"
        );
        assert_eq!(
            mask_file_name("https://h/x?nhs=943%2D476%2D5919&a=%41"),
            "https://h/x?nhs=<withheld>&a=%41"
        );
        assert_eq!(mask_nhs_like("943%5F476%5F5919"), "<withheld>");
        // Other escapes and numbers stay as they are.
        assert_eq!(
            mask_nhs_numbers("GET /a%20b/2026%2D08%2D01 took 12.5 s"),
            "GET /a%20b/2026%2D08%2D01 took 12.5 s"
        );
    }
}
