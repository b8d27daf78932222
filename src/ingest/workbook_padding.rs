//! Whole numbers an `.xlsx` shows with leading zeros: a cell formatted `00` holding 1
//! shows `01`, and that is what its typist meant (a department type, a code of two
//! digits). Excel stores the number 1, so read as stored the code would be unknown
//! (`01` is in the list, `1` is not) and `draft` would call the column an integer. A cell
//! whose number format is zeros only (`00`, `000`: the first section, before any `;`)
//! holding a whole number of zero or more is read as the text it shows, padded to the
//! format's width (a negative number, or zero under a format with a section of its own
//! for zero, is read as stored).
//!
//! The formats come from the workbook's style palette. Only when one of them pads is the
//! workbook opened a second time, and its sheet's style ids read a cell at a time beside
//! the values ([`PaddedCells`]): both readers meet the same cells in the same order, so
//! nothing is held but the next styled cell, and a draft's early stop stops both. The
//! second opening holds the shared strings a second time. `.xls` and `.ods` sheets are
//! read as stored.

use std::io::Cursor;

use calamine::{Data, DataRef, Reader, Xlsx, XlsxCellReader};

/// The widest padding taken: a format of more zeros is not a code's.
const MAX_WIDTH: usize = 30;

/// How a number format pads whole numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pad {
    /// The digits shown.
    pub width: u8,
    /// Whether zero is shown so too (the format has no section of its own for zero).
    pub zero: bool,
}

/// How `format_code` pads whole numbers: its first section's count of zeros, when it
/// holds nothing else and there are at least two.
pub fn zero_padded(format_code: &str) -> Option<Pad> {
    let sections: Vec<&str> = format_code.split(';').collect();
    let first = sections[0].trim();
    let zeros = first.len() >= 2 && first.len() <= MAX_WIDTH && first.bytes().all(|b| b == b'0');
    zeros.then_some(Pad {
        width: first.len() as u8,
        zero: sections.len() < 3,
    })
}

/// `value` as `pad` shows it, when it is a whole number it pads.
pub fn padded(value: f64, pad: Pad) -> Option<String> {
    // Whole numbers within f64's exact integers only; a fraction is shown rounded by
    // Excel, and is left as stored (a code with a fraction is not a code).
    let whole = value.fract() == 0.0 && (0.0..9.007_199_254_740_992e15).contains(&value);
    (whole && (value > 0.0 || pad.zero))
        .then(|| format!("{:0width$}", value as u64, width = pad.width as usize))
}

/// The second opening of a workbook some of whose styles pad whole numbers.
pub struct Padding<'a> {
    xlsx: Xlsx<Cursor<&'a [u8]>>,
    /// How each style of the palette pads, by style id.
    pads: Vec<Option<Pad>>,
}

impl<'a> Padding<'a> {
    /// The padding of sheet `sheet` of `xlsx` (the workbook `content`, opened): none when
    /// no style of the workbook pads.
    pub fn of(
        xlsx: &mut Xlsx<Cursor<&'a [u8]>>,
        content: &'a [u8],
        sheet: &str,
    ) -> Result<Option<Padding<'a>>, String> {
        let pads: Vec<Option<Pad>> = xlsx
            .worksheet_cells_reader(sheet)
            .map_err(|e| e.to_string())?
            .styles()
            .iter()
            .map(|s| {
                s.number_format
                    .as_ref()
                    .and_then(|f| zero_padded(&f.format_code))
            })
            .collect();
        if pads.iter().all(Option::is_none) {
            return Ok(None);
        }
        let xlsx = Xlsx::new(Cursor::new(content)).map_err(|e| e.to_string())?;
        Ok(Some(Padding { xlsx, pads }))
    }

    /// The sheet's cells' styles, read beside its values.
    pub fn cells(&mut self, sheet: &str) -> Result<PaddedCells<'_, 'a>, String> {
        Ok(PaddedCells {
            reader: self
                .xlsx
                .worksheet_cells_reader(sheet)
                .map_err(|e| e.to_string())?,
            pads: &self.pads,
            next: None,
            ended: false,
        })
    }
}

/// The style ids of a sheet's cells, read as its values are read.
pub struct PaddedCells<'p, 'a> {
    reader: XlsxCellReader<'p, Cursor<&'a [u8]>>,
    pads: &'p [Option<Pad>],
    /// The next cell with a style of its own: position and style id.
    next: Option<(u32, u32, usize)>,
    ended: bool,
}

impl PaddedCells<'_, '_> {
    /// How the cell at `(r, c)` pads whole numbers. Called for every cell the value
    /// reader gives, in order, empty ones included.
    pub fn pad_at(&mut self, r: u32, c: u32) -> Result<Option<Pad>, String> {
        // The style reader skips cells of the default style (id 0), so the next cell it
        // gives is this one only when it is at this cell's position; one before it (out
        // of order in a hand-written file) is passed over.
        loop {
            if self.next.is_none() && !self.ended {
                self.next = self.reader.next_style_id().map_err(|e| e.to_string())?;
                self.ended = self.next.is_none();
            }
            match self.next {
                Some((sr, sc, _)) if (sr, sc) < (r, c) => self.next = None,
                Some((sr, sc, id)) if (sr, sc) == (r, c) => {
                    self.next = None;
                    return Ok(self.pads.get(id).copied().flatten());
                }
                _ => return Ok(self.pads.first().copied().flatten()),
            }
        }
    }
}

/// `value` as it is read: the text it shows when `pad` pads it, else as stored.
pub fn read(value: DataRef<'_>, pad: Option<Pad>) -> Data {
    let number = match value {
        DataRef::Float(f) => f,
        DataRef::Int(i) => i as f64,
        _ => return value.into(),
    };
    pad.and_then(|pad| padded(number, pad))
        .map_or_else(|| value.into(), Data::String)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_format_of_zeros_only_pads_and_others_do_not() {
        let pad = |width, zero| Some(Pad { width, zero });
        assert_eq!(zero_padded("00"), pad(2, true));
        assert_eq!(zero_padded("000;-000"), pad(3, true));
        assert_eq!(zero_padded("00;-00;\"-\""), pad(2, false));
        for other in [
            "0",
            "General",
            "0.00",
            "#,##0",
            "00.0",
            "@",
            "dd/mm/yyyy",
            "\"A\"00",
            "[Red]00",
            "",
        ] {
            assert_eq!(zero_padded(other), None, "{other}");
        }
        assert_eq!(zero_padded(&"0".repeat(31)), None);
    }

    #[test]
    fn a_whole_number_is_padded_to_the_width_and_others_are_read_as_stored() {
        let two = Pad {
            width: 2,
            zero: true,
        };
        assert_eq!(padded(1.0, two).as_deref(), Some("01"));
        let three = Pad { width: 3, ..two };
        assert_eq!(padded(7.0, three).as_deref(), Some("007"));
        assert_eq!(padded(123.0, two).as_deref(), Some("123"));
        assert_eq!(padded(0.0, two).as_deref(), Some("00"));
        // Read as stored: a negative number, zero under a section of its own, a
        // fraction, a number past f64's exact integers.
        assert_eq!(padded(-1.0, two), None);
        assert_eq!(padded(0.0, Pad { zero: false, ..two }), None);
        assert_eq!(padded(1.5, two), None);
        assert_eq!(padded(1e16, two), None);
        assert_eq!(read(DataRef::Int(4), Some(two)), Data::String("04".into()));
        assert_eq!(read(DataRef::Float(4.0), None), Data::Float(4.0));
        assert_eq!(read(DataRef::Bool(true), Some(two)), Data::Bool(true));
    }
}
