//! NHS number format and Modulus 11 check (Connecting for Health algorithm).
//!
//! Spaces and dashes are stripped (`943 476 5919` is valid). Weights 10..2 over digits
//! 1–9; `check = 11 − (sum mod 11)`; 11 means 0; 10 means the number can never be valid.
//! All-same-digit numbers (`0000000000`, `9999999999`, …) pass the checksum or not, but
//! are placeholders, not people, and are rejected.

/// Why a value is not a usable NHS number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NhsNumberDefect {
    /// Not 10 digits after removing spaces and dashes.
    Length,
    /// Contains something other than digits, spaces and dashes.
    NotDigits,
    /// The check digit computes to 10: no number with these first nine digits is valid.
    CheckDigitTen,
    /// The last digit differs from the computed check digit.
    WrongCheckDigit,
    /// A placeholder such as `0000000000` or `9999999999`.
    Placeholder,
}

impl NhsNumberDefect {
    /// A short explanation that never repeats the value.
    pub fn describe(self) -> &'static str {
        match self {
            NhsNumberDefect::Length => "not 10 digits",
            NhsNumberDefect::NotDigits => {
                "contains characters other than digits, spaces and dashes"
            }
            NhsNumberDefect::CheckDigitTen => {
                "check digit computes to 10, so no such NHS number exists"
            }
            NhsNumberDefect::WrongCheckDigit => "fails the Modulus 11 check digit",
            NhsNumberDefect::Placeholder => "is a placeholder (all digits the same)",
        }
    }
}

/// Normalises and checks a value; returns the 10 digits on success.
pub fn validate(value: &str) -> Result<[u8; 10], NhsNumberDefect> {
    let mut digits = [0u8; 10];
    let mut n = 0;
    for b in value.bytes() {
        match b {
            b'0'..=b'9' => {
                if n == 10 {
                    return Err(NhsNumberDefect::Length);
                }
                digits[n] = b;
                n += 1;
            }
            b' ' | b'-' => {}
            _ => return Err(NhsNumberDefect::NotDigits),
        }
    }
    if n != 10 {
        return Err(NhsNumberDefect::Length);
    }
    let sum: u32 = digits[..9]
        .iter()
        .zip((2..=10).rev())
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return Err(NhsNumberDefect::CheckDigitTen),
        c => c,
    };
    if u32::from(digits[9] - b'0') != check {
        return Err(NhsNumberDefect::WrongCheckDigit);
    }
    if digits.iter().all(|&d| d == digits[0]) {
        return Err(NhsNumberDefect::Placeholder);
    }
    Ok(digits)
}

/// Whether a value is written as NHS numbers are (ten digits, in groups or not), whether
/// or not its check digit is right: in a column of pseudonyms it is an NHS number,
/// mistyped or not, never a pseudonym.
pub fn is_shaped_like(value: &str) -> bool {
    matches!(
        validate(value),
        Ok(_)
            | Err(NhsNumberDefect::CheckDigitTen
                | NhsNumberDefect::WrongCheckDigit
                | NhsNumberDefect::Placeholder)
    )
}

#[cfg(test)]
mod tests {
    use super::{NhsNumberDefect as D, validate};

    // Vectors from reference/nhs-data.md §7 (Connecting for Health tech_nn_check_digit).
    #[test]
    fn valid_numbers() {
        assert_eq!(&validate("9434765919").unwrap(), b"9434765919");
        assert_eq!(&validate("943 476 5919").unwrap(), b"9434765919");
        assert_eq!(&validate("943-476-5919").unwrap(), b"9434765919");
        assert!(validate("3417284996").is_ok());
        assert!(validate("9000000009").is_ok());
        assert!(validate("9000000017").is_ok());
        assert!(validate("4010232137").is_ok());
    }

    #[test]
    fn check_digit_eleven_means_zero() {
        assert!(validate("1100000100").is_ok());
    }

    #[test]
    fn check_digit_ten_is_never_valid() {
        assert_eq!(validate("0000000400"), Err(D::CheckDigitTen));
        for last in 0..=9 {
            assert_eq!(validate(&format!("123456713{last}")), Err(D::CheckDigitTen));
            assert_eq!(validate(&format!("999000000{last}")), Err(D::CheckDigitTen));
        }
    }

    #[test]
    fn wrong_check_digit() {
        assert_eq!(validate("9434765918"), Err(D::WrongCheckDigit));
        assert_eq!(validate("9434765910"), Err(D::WrongCheckDigit));
    }

    #[test]
    fn placeholders_and_malformed() {
        assert_eq!(validate("0000000000"), Err(D::Placeholder));
        assert_eq!(validate("9999999999"), Err(D::Placeholder));
        assert_eq!(validate("12312"), Err(D::Length));
        assert_eq!(validate("94347659190"), Err(D::Length));
        assert_eq!(validate(""), Err(D::Length));
        assert_eq!(validate("abc"), Err(D::NotDigits));
        assert_eq!(validate("943476591X"), Err(D::NotDigits));
    }
}
