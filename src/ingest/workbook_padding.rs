//! Whole numbers an `.xlsx` shows with leading zeros: a cell formatted `00` holding 1
//! shows `01`, and that is what its typist meant (a department type, a code of two
//! digits). Excel stores the number 1, so read as stored the code would be unknown
//! (`01` is in the list, `1` is not) and `draft` would call the column an integer. A cell
//! whose number format is zeros only (`00`, `000`: the first section, before any `;`) is
//! read as the text it shows, padded to the format's width.
//!
//! The formats come from the workbook's style palette; only when one of them pads is
//! the sheet's XML read a first time, for the positions of its padded cells (stream
//! order, a cell at a time, as its values are read). `.xls` and `.ods` sheets are read
//! as stored.

use std::collections::HashMap;
use std::io::Cursor;

use calamine::{Data, DataRef, Xlsx};

/// The widest padding taken: a format of more zeros is not a code's.
const MAX_WIDTH: usize = 30;

/// The width a number format pads whole numbers to: its first section's count of zeros
/// when it holds nothing else and there are at least two.
pub fn zero_padded_width(format_code: &str) -> Option<u8> {
    let first = format_code.split(';').next().unwrap_or_default().trim();
    (first.len() >= 2 && first.len() <= MAX_WIDTH && first.bytes().all(|b| b == b'0'))
        .then_some(first.len() as u8)
}

/// `value` as a format of zeros `width` wide shows it, when it is a whole number.
pub fn padded(value: f64, width: u8) -> Option<String> {
    // Whole numbers within f64's exact integers only; a fraction is shown rounded by
    // Excel, and is left as stored (a code with a fraction is not a code).
    if value.fract() != 0.0 || value.abs() >= 9.007_199_254_740_992e15 {
        return None;
    }
    let digits = format!("{:0width$}", value.abs() as u64, width = width as usize);
    Some(if value < 0.0 {
        format!("-{digits}")
    } else {
        digits
    })
}

/// The cells of one sheet whose format pads whole numbers, by position.
#[derive(Debug, Default)]
pub struct Padded(HashMap<(u32, u32), u8>);

impl Padded {
    /// The padded cells of sheet `sheet`: none, without reading the sheet, when no style
    /// of the workbook pads.
    pub fn read(xlsx: &mut Xlsx<Cursor<&[u8]>>, sheet: &str) -> Result<Padded, String> {
        let mut reader = xlsx
            .worksheet_cells_reader(sheet)
            .map_err(|e| e.to_string())?;
        let widths: Vec<Option<u8>> = reader
            .styles()
            .iter()
            .map(|s| {
                s.number_format
                    .as_ref()
                    .and_then(|f| zero_padded_width(&f.format_code))
            })
            .collect();
        let mut padded = HashMap::new();
        if widths.iter().all(Option::is_none) {
            return Ok(Padded(padded));
        }
        while let Some((r, c, style)) = reader.next_style_id().map_err(|e| e.to_string())? {
            if let Some(&Some(width)) = widths.get(style) {
                padded.insert((r, c), width);
            }
        }
        Ok(Padded(padded))
    }

    /// The cell at `(r, c)` as it is read: the text it shows when its format pads a
    /// whole number, else `value`.
    pub fn cell(&self, r: u32, c: u32, value: DataRef<'_>) -> Data {
        let number = match value {
            DataRef::Float(f) => Some(f),
            DataRef::Int(i) => Some(i as f64),
            _ => None,
        };
        match (number, self.0.get(&(r, c))) {
            (Some(n), Some(&width)) => padded(n, width).map_or_else(|| value.into(), Data::String),
            _ => value.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_format_of_zeros_only_pads_and_others_do_not() {
        assert_eq!(zero_padded_width("00"), Some(2));
        assert_eq!(zero_padded_width("000;-000;0"), Some(3));
        for other in [
            "0",
            "General",
            "0.00",
            "#,##0",
            "00.0",
            "@",
            "dd/mm/yyyy",
            "\"A\"00",
            "",
        ] {
            assert_eq!(zero_padded_width(other), None, "{other}");
        }
        assert_eq!(zero_padded_width(&"0".repeat(31)), None);
    }

    #[test]
    fn a_whole_number_is_padded_to_the_width_and_a_fraction_is_not() {
        assert_eq!(padded(1.0, 2).as_deref(), Some("01"));
        assert_eq!(padded(7.0, 3).as_deref(), Some("007"));
        assert_eq!(padded(123.0, 2).as_deref(), Some("123"));
        assert_eq!(padded(-1.0, 2).as_deref(), Some("-01"));
        assert_eq!(padded(0.0, 2).as_deref(), Some("00"));
        assert_eq!(padded(1.5, 2), None);
        assert_eq!(padded(1e16, 2), None);
    }
}
