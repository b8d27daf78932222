//! Resolved schemas: source contracts, the shared model and code lists.
//!
//! These are built from the raw TOML by [`crate::config::plan`]; stages only ever see
//! these checked types.

pub mod draft;
pub mod draft_sheet;
pub mod fold;
mod pattern;
pub mod personal_headers;

pub use pattern::Pattern;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::ingest::dates::DateFormat;

/// Text encoding of a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8; a byte-order mark is accepted and skipped.
    Utf8,
    /// Windows-1252 (what council systems export); a UTF-8 BOM overrides it.
    Windows1252,
}

/// What to do with a column a contract does not declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriftPolicy {
    /// Log a warning, record it in the manifest, and ignore the column.
    Warn,
    /// Ignore the column silently.
    Ignore,
    /// Reject the file.
    Error,
}

/// The type of a contract column and how its values are checked.
#[derive(Debug, Clone)]
pub enum ColumnType {
    /// Free text, kept as written (trimmed).
    String,
    /// A whole number.
    Integer,
    /// A date in one of the formats.
    Date(Vec<DateFormat>),
    /// A date and time in one of the formats.
    DateTime(Vec<DateFormat>),
    /// A time of day in one of the formats.
    Time(Vec<DateFormat>),
    /// A value from a code list; stored as the canonical code.
    Code(Arc<CodeList>),
    /// An NHS number: checked with Modulus 11, stored only as its pseudonym.
    NhsNumber,
    /// An NHS number pseudonymised before it reached joinedup (NCDR/UDAL's
    /// `Der_Pseudo_NHS_Number`, a DSCRO's pseudonym): stored only as joinedup's keyed
    /// pseudonym of it, in a domain of its scheme's own, so it links with the pseudonyms
    /// of the same scheme and never with an NHS number's.
    Pseudonym {
        /// The scheme's name, as the contract gives it.
        scheme: String,
        /// Letters are compared regardless of case: each value is hashed in upper case
        /// (ASCII letters only), so `a541caf1` and `A541CAF1` are one person.
        ignore_case: bool,
    },
    /// Another person identifier: stored only as its pseudonym, scoped by another column.
    Identifier {
        /// Index of the column whose value scopes the identifier (e.g. the council code).
        scope: Option<usize>,
    },
    /// Personal data joinedup must never keep (names, dates of birth, postcodes):
    /// declared so the file is recognised, discarded at decode time.
    Sensitive,
}

impl ColumnType {
    /// The stored value type, or `None` for a sensitive column.
    pub fn stored(&self) -> Option<ValueType> {
        Some(match self {
            ColumnType::String
            | ColumnType::Code(_)
            | ColumnType::NhsNumber
            | ColumnType::Pseudonym { .. }
            | ColumnType::Identifier { .. } => ValueType::String,
            ColumnType::Integer => ValueType::Integer,
            ColumnType::Date(_) => ValueType::Date,
            ColumnType::DateTime(_) => ValueType::DateTime,
            ColumnType::Time(_) => ValueType::Time,
            ColumnType::Sensitive => return None,
        })
    }

    /// The type's name as written in contracts.
    pub fn name(&self) -> &'static str {
        match self {
            ColumnType::String => "string",
            ColumnType::Integer => "integer",
            ColumnType::Date(_) => "date",
            ColumnType::DateTime(_) => "datetime",
            ColumnType::Time(_) => "time",
            ColumnType::Code(_) => "code",
            ColumnType::NhsNumber => "nhs_number",
            ColumnType::Pseudonym { .. } => "pseudonym",
            ColumnType::Identifier { .. } => "identifier",
            ColumnType::Sensitive => "sensitive",
        }
    }

    /// True for columns whose raw values identify a person.
    pub fn is_identifying(&self) -> bool {
        matches!(
            self,
            ColumnType::NhsNumber
                | ColumnType::Pseudonym { .. }
                | ColumnType::Identifier { .. }
                | ColumnType::Sensitive
        )
    }
}

/// A stored value type, shared by contract columns and entity fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// Text.
    String,
    /// 64-bit integer.
    Integer,
    /// Calendar date.
    Date,
    /// Date and time (naive UK local time, millisecond precision).
    DateTime,
    /// Time of day (milliseconds since midnight); only used to build datetimes.
    Time,
    /// 64-bit float (measures only).
    Float,
    /// True or false (measures only).
    Boolean,
}

impl ValueType {
    /// The name used in TOML files.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::Integer => "integer",
            ValueType::Date => "date",
            ValueType::DateTime => "datetime",
            ValueType::Time => "time",
            ValueType::Float => "float",
            ValueType::Boolean => "boolean",
        }
    }
}

/// One declared column of a source contract.
#[derive(Debug, Clone)]
pub struct Column {
    /// Internal name.
    pub name: String,
    /// The header as written by the supplier.
    pub header: String,
    /// Other accepted headers.
    pub aliases: Vec<String>,
    /// Type and checks.
    pub kind: ColumnType,
    /// Header must be present and values non-blank.
    pub required: bool,
    /// Header must be present (always when `required`; values may be blank otherwise).
    pub header_required: bool,
    /// Years a date or date-time may be in.
    pub years: std::ops::RangeInclusive<i32>,
    /// For a date or date-time of activity that has happened: the most days a value may
    /// be after the run's date ([`crate::run_date`]); a later one is `date_in_future`.
    pub not_after_run_days: Option<i32>,
    /// A `string` or `integer` column may hold values shaped like a valid NHS number (else such a row
    /// is quarantined as `nhs_number_in_text`).
    pub allow_nhs_number_shape: bool,
    /// The shape every value of a `string` column must have (anchored): a value of
    /// another shape is quarantined as `pattern_mismatch` without being quoted, and a
    /// column without one is free text, which quarantine records leave out.
    pub pattern: Option<Pattern>,
    /// What an unusable value does to its row (`on_invalid`).
    pub on_invalid: OnInvalid,
    /// The name, header or an alias names personal data (a date of birth, a name, an
    /// address: [`personal_headers::names_personal_data`]): whatever the declared type,
    /// the column's values are left out of quarantine records and never quoted in a
    /// detail.
    pub personal: bool,
}

/// What an unusable value of a column (one failing its type, Modulus 11, years, code
/// list, shape or pattern check) does to its row: `on_invalid` in a contract column,
/// `on_fail` in a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnInvalid {
    /// The row is quarantined (the default).
    #[default]
    Quarantine,
    /// The value is left blank (null) and the row accepted; the blanked value is counted
    /// per column and reason in the manifest's `data_quality`, never shown.
    Blank,
}

impl OnInvalid {
    /// The settings as written, for error messages.
    pub const NAMES: [&'static str; 2] = ["quarantine", "blank"];

    /// The setting named `name`, if any.
    pub fn named(name: &str) -> Option<Self> {
        match name {
            "quarantine" => Some(OnInvalid::Quarantine),
            "blank" => Some(OnInvalid::Blank),
            _ => None,
        }
    }
}

/// A comparison between two columns of one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// `column` must be on or after `reference`.
    NotBefore,
    /// `column` must be on or before `reference`.
    NotAfter,
}

/// A row rule, with column indexes resolved.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The comparison.
    pub kind: RuleKind,
    /// Checked column index.
    pub column: usize,
    /// Reference column index.
    pub reference: usize,
    /// A row breaking the rule is quarantined (`None`), or accepted with this column
    /// (the rule's column or its reference) left blank (`on_fail = "blank"`).
    pub blank: Option<usize>,
}

/// A source contract: what one supplier's file must look like.
#[derive(Debug, Clone)]
pub struct Contract {
    /// Name.
    pub name: String,
    /// Version.
    pub version: u32,
    /// The contract file.
    pub file: PathBuf,
    /// Declared encoding.
    pub encoding: Encoding,
    /// Field delimiter.
    pub delimiter: u8,
    /// Values that mean blank (compared after trimming).
    pub null_values: Vec<String>,
    /// Undeclared-column policy.
    pub on_extra_column: DriftPolicy,
    /// The sheet read when a file is an Excel workbook (`None`: the first).
    pub sheet: Option<String>,
    /// Declared columns.
    pub columns: Vec<Column>,
    /// Row rules.
    pub rules: Vec<Rule>,
}

impl Contract {
    /// Index of the column with this internal name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

/// How labels in a code list are compared with file values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matching {
    /// Byte-for-byte after trimming.
    Exact,
    /// After [`fold::fold`].
    Folded,
}

/// One code of a code list.
#[derive(Debug, Clone)]
pub struct Code {
    /// Canonical value.
    pub code: String,
    /// Meaning.
    pub label: Option<String>,
    /// Group for mappings.
    pub group: Option<String>,
}

/// A code list with its lookup index.
#[derive(Debug, Clone)]
pub struct CodeList {
    /// Name.
    pub name: String,
    /// Comparison rule.
    pub matching: Matching,
    /// Codes in file order.
    pub codes: Vec<Code>,
    index: HashMap<String, usize, foldhash::fast::FixedState>,
    /// Codes as written in the list (trimmed), for folded lists: most file values are
    /// spelled exactly so, and are found without folding (which allocates).
    as_written: HashMap<String, usize, foldhash::fast::FixedState>,
    /// The width of the codes, every one of digits, when a value of fewer digits is the
    /// code with its leading zeros put back ([`Self::allow_missing_leading_zeros`]).
    digits: Option<usize>,
}

impl CodeList {
    /// Builds a code list and its index.
    pub fn new(name: String, matching: Matching, codes: Vec<Code>) -> Self {
        let index: HashMap<String, usize, foldhash::fast::FixedState> = codes
            .iter()
            .enumerate()
            .map(|(i, c)| (Self::key(matching, &c.code), i))
            .collect();
        // Only spellings whose folded form finds the same code: a shortcut, never a
        // different answer.
        let as_written = match matching {
            Matching::Exact => HashMap::default(),
            Matching::Folded => codes
                .iter()
                .enumerate()
                .filter(|(i, c)| index.get(&Self::key(matching, &c.code)) == Some(i))
                .map(|(i, c)| (c.code.trim().to_string(), i))
                .collect(),
        };
        CodeList {
            name,
            matching,
            codes,
            index,
            as_written,
            digits: None,
        }
    }

    /// Matches a value of fewer digits than the list's codes as the code it is with its
    /// leading zeros put back (`1` for `01`): Excel drops them from a code it takes for
    /// a number, and a CSV file saved from it keeps the number. Refused (naming the codes
    /// that are not) unless every code is digits of one width.
    pub fn allow_missing_leading_zeros(&mut self) -> Result<(), String> {
        let width = self.codes.first().map_or(0, |c| c.code.trim().len());
        let other: Vec<&str> = self
            .codes
            .iter()
            .map(|c| c.code.trim())
            .filter(|c| c.len() != width || !c.bytes().all(|b| b.is_ascii_digit()))
            .collect();
        if width == 0 || !other.is_empty() {
            return Err(format!(
                "needs codes of digits only, all {width} long; these are not: {}",
                other
                    .iter()
                    .take(5)
                    .map(|c| format!("\"{c}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        self.digits = Some(width);
        Ok(())
    }

    fn key(matching: Matching, value: &str) -> String {
        match matching {
            Matching::Exact => value.trim().to_string(),
            Matching::Folded => fold::fold(value),
        }
    }

    /// Finds the code a file value stands for.
    pub fn lookup(&self, value: &str) -> Option<&Code> {
        self.position(value).map(|i| &self.codes[i])
    }

    /// The position in [`Self::codes`] of the code a file value stands for.
    pub fn position(&self, value: &str) -> Option<usize> {
        self.position_as_spelt(value)
            .or_else(|| self.with_zeros_put_back(value))
    }

    /// [`Self::position`] without putting back leading zeros: the code a value is as it
    /// is spelt, what `draft` asks (a column of `1` to `4` is not taken for department
    /// types `01` to `04`).
    pub fn position_as_spelt(&self, value: &str) -> Option<usize> {
        let found = match self.matching {
            Matching::Exact => self.index.get(trim(value)),
            Matching::Folded => match self.as_written.get(trim(value)) {
                Some(i) => Some(i),
                None => self.index.get(&fold::fold(value)),
            },
        };
        found.copied()
    }

    /// The code `value` is with its leading zeros put back, for a list whose codes are
    /// digits of one width that allows it.
    fn with_zeros_put_back(&self, value: &str) -> Option<usize> {
        let width = self.digits?;
        let digits = trim(value);
        if digits.is_empty() || digits.len() >= width || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        self.index
            .get(&Self::key(self.matching, &format!("{digits:0>width$}")))
            .copied()
    }
}

/// `str::trim`, without looking at characters when neither end can be white space: a
/// field that starts and ends with a printable ASCII character (nearly every field; the
/// row check trims ~20 fields a row, and `trim` decodes a character at each end).
pub(crate) fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(&first), Some(&last))
            if (b'!'..=b'~').contains(&first) && (b'!'..=b'~').contains(&last) =>
        {
            s
        }
        _ => s.trim(),
    }
}

/// What a pseudonym field of a shared entity stands for, and so the contract column type
/// it must be filled from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PseudonymOf {
    /// An NHS number (column type `nhs_number`, or `pseudonym` for one pseudonymised
    /// upstream): the key persons are linked on.
    NhsNumber,
    /// Another person identifier (column type `identifier`), such as a council's.
    Identifier,
}

impl PseudonymOf {
    /// The contract column type that fills it, as written in contracts.
    pub fn column_type(self) -> &'static str {
        match self {
            PseudonymOf::NhsNumber => ColumnType::NhsNumber,
            PseudonymOf::Identifier => ColumnType::Identifier { scope: None },
        }
        .name()
    }

    /// Whether a contract column of type `kind` fills it.
    pub fn filled_by(self, kind: &ColumnType) -> bool {
        matches!(
            (self, kind),
            (PseudonymOf::NhsNumber, ColumnType::NhsNumber)
                | (PseudonymOf::NhsNumber, ColumnType::Pseudonym { .. })
                | (PseudonymOf::Identifier, ColumnType::Identifier { .. })
        )
    }
}

/// A field of a shared entity.
#[derive(Debug, Clone)]
pub struct Field {
    /// Name.
    pub name: String,
    /// Type.
    pub kind: ValueType,
    /// Nulls allowed.
    pub nullable: bool,
    /// A string (nearly) unique per row: held as text, not as a categorical
    /// ([`crate::normalise::held_dtype`]).
    pub identifier: bool,
    /// The code list its values come from: a mapping fills it with that list's codes.
    pub codes: Option<String>,
    /// What the field is a pseudonym of, if it holds one: a mapping fills it only from a
    /// contract column of that type.
    pub pseudonym: Option<PseudonymOf>,
    /// One-line description.
    pub description: String,
}

/// An entity of the shared model (`hospital_spell`, `ed_attendance`, `social_care_event`).
#[derive(Debug, Clone)]
pub struct Entity {
    /// Name.
    pub name: String,
    /// What one row is.
    pub description: String,
    /// Fields in output order.
    pub fields: Vec<Field>,
    /// Fields that together name one record; empty when not declared. Rows with the
    /// same key are reported (`normalise::repeated`), not removed.
    pub record_key: Vec<String>,
}

impl Entity {
    /// The field with this name.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

#[cfg(test)]
mod trim_tests {
    use super::trim;

    #[test]
    fn trim_is_str_trim_for_ascii_unicode_and_empty_fields() {
        for s in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\ta\r\n",
            "A1 B2",
            "\u{a0}x\u{a0}",
            "\u{3000}全\u{3000}",
            "é",
            " é ",
            "~!",
            "\u{85}x",
            "x\u{2028}",
            "\u{7f}",
        ] {
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
    }
}

#[cfg(test)]
mod code_list_tests {
    use super::*;

    fn list(matching: Matching, codes: &[&str]) -> CodeList {
        let codes = codes
            .iter()
            .map(|c| Code {
                code: c.to_string(),
                label: None,
                group: None,
            })
            .collect();
        CodeList::new("t".into(), matching, codes)
    }

    /// A value of fewer digits is the code with its zeros put back, only in a list that
    /// allows it; a value of as many digits, or more, or not of digits, is not padded.
    #[test]
    fn a_list_of_digit_codes_can_take_a_value_that_lost_its_leading_zeros() {
        let strict = list(Matching::Exact, &["01", "02", "10"]);
        assert_eq!(strict.position("1"), None);
        for matching in [Matching::Exact, Matching::Folded] {
            let mut lenient = list(matching, &["01", "02", "10"]);
            lenient.allow_missing_leading_zeros().unwrap();
            assert_eq!(lenient.position("01"), Some(0));
            assert_eq!(lenient.position("1"), Some(0));
            // As spelt (what `draft` asks), `1` is no code.
            assert_eq!(lenient.position_as_spelt("1"), None);
            assert_eq!(lenient.position_as_spelt("01"), Some(0));
            assert_eq!(lenient.position(" 2 "), Some(1));
            assert_eq!(lenient.position("10"), Some(2));
            for other in ["3", "001", "", "1a", "-1", "0"] {
                assert_eq!(lenient.position(other), None, "{other}");
            }
        }
        let mut three = list(Matching::Exact, &["001", "020"]);
        three.allow_missing_leading_zeros().unwrap();
        assert_eq!(three.position("1"), Some(0));
        assert_eq!(three.position("01"), Some(0));
        assert_eq!(three.position("20"), Some(1));
        // Codes that are not digits of one width are refused, naming them.
        for (codes, why) in [
            (
                &["11", "2A"][..],
                "needs codes of digits only, all 2 long; these are not: \"2A\"",
            ),
            (
                &["1", "01"][..],
                "needs codes of digits only, all 1 long; these are not: \"01\"",
            ),
        ] {
            let refused = list(Matching::Exact, codes).allow_missing_leading_zeros();
            assert_eq!(refused, Err(why.to_string()), "{codes:?}");
        }
    }
}
