//! Reason codes for quarantined rows: stable strings, documented in README.

/// Why a row was quarantined. One row may have several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// The row has more or fewer fields than the header (includes a truncated last line).
    WrongFieldCount,
    /// A quote opened on the line is not closed on it (a field may not span lines).
    UnbalancedQuote,
    /// A field's bytes are not valid in the declared encoding.
    InvalidEncoding,
    /// A required value is blank.
    MissingRequired,
    /// An NHS number fails the format or Modulus 11 check.
    NhsNumberInvalid,
    /// A date, datetime or time fits none of the column's formats, or is not a real date.
    InvalidDate,
    /// A date of activity that has happened is after the run's date (beyond its
    /// column's `not_after_run_days`).
    DateInFuture,
    /// An integer column holds something else.
    InvalidInteger,
    /// A code column holds a value missing from its code list.
    UnknownCode,
    /// A value shaped like a valid NHS number in a column kept as written.
    NhsNumberInText,
    /// A value shaped like a full UK postcode in a column kept as written.
    PostcodeInText,
    /// A `string` column's value does not have the shape its contract declares.
    PatternMismatch,
    /// Two dates in the row are in an impossible order (e.g. discharge before admission).
    DateOrder,
}

impl Reason {
    /// All reasons, in report order.
    pub const ALL: [Reason; 13] = [
        Reason::WrongFieldCount,
        Reason::UnbalancedQuote,
        Reason::InvalidEncoding,
        Reason::MissingRequired,
        Reason::NhsNumberInvalid,
        Reason::InvalidDate,
        Reason::DateInFuture,
        Reason::InvalidInteger,
        Reason::UnknownCode,
        Reason::NhsNumberInText,
        Reason::PostcodeInText,
        Reason::PatternMismatch,
        Reason::DateOrder,
    ];

    /// The stable reason code written to quarantine files and the manifest.
    pub fn code(self) -> &'static str {
        match self {
            Reason::WrongFieldCount => "wrong_field_count",
            Reason::UnbalancedQuote => "unbalanced_quote",
            Reason::InvalidEncoding => "invalid_encoding",
            Reason::MissingRequired => "missing_required",
            Reason::NhsNumberInvalid => "nhs_number_invalid",
            Reason::InvalidDate => "invalid_date",
            Reason::DateInFuture => "date_in_future",
            Reason::InvalidInteger => "invalid_integer",
            Reason::UnknownCode => "unknown_code",
            Reason::NhsNumberInText => "nhs_number_in_text",
            Reason::PostcodeInText => "postcode_in_text",
            Reason::PatternMismatch => "pattern_mismatch",
            Reason::DateOrder => "date_order",
        }
    }
}
