//! Merged cells of a sheet read under a contract ([`super::workbook_sheet`]).
//!
//! A workbook keeps a merged region's value in its first (top-left) cell only; the other
//! cells are empty in the file, though a person reading the sheet sees the value across
//! the whole region. Councils merge a column's cells down a block of rows that share a
//! value (a council, a team, a period). Such a region — one column wide, below the
//! header — gives every row it spans its value, as the person reading it would. A region
//! wider than one column is left as the file holds it (its value in its first column
//! only): which of its columns the value belongs to cannot be told. Both are counted, so
//! a run warning can say so.

use calamine::{Data, Dimensions};

use super::workbook_sheet::Cells;

/// The merged regions of one sheet, and what filling them did.
#[derive(Debug, Default)]
pub struct Merged {
    /// Regions one column wide and more than one row tall, by first row.
    down: Vec<Dimensions>,
    /// Regions wider than one column.
    across: Vec<Dimensions>,
    /// The value of each region of `down` once its first row has been read.
    values: Vec<Option<Data>>,
    /// Regions filled down (their first cell held a value and a row below it was read).
    pub filled: Cells,
    /// Regions wider than one column in the rows read below the header.
    pub wide: Cells,
}

impl Merged {
    /// The regions of a sheet as calamine lists them.
    pub fn new(regions: Vec<Dimensions>) -> Self {
        let (mut down, across): (Vec<Dimensions>, Vec<Dimensions>) = regions
            .into_iter()
            .filter(|m| m.end.0 > m.start.0 || m.end.1 > m.start.1)
            .partition(|m| m.start.1 == m.end.1);
        down.sort_by_key(|m| m.start);
        let values = vec![None; down.len()];
        Merged {
            down,
            across,
            values,
            filled: Cells::default(),
            wide: Cells::default(),
        }
    }

    /// Whether the sheet has no region that [`Merged::fill`] would fill or count.
    pub fn is_empty(&self) -> bool {
        self.down.is_empty() && self.across.is_empty()
    }

    /// Takes sheet row `r` (0-based), a data row below the header at `header`: a region
    /// starting on it keeps its value; an empty cell of a region above it takes the
    /// region's value.
    pub fn fill(&mut self, r: u32, header: u32, row: &mut Vec<Data>) {
        for (i, m) in self.down.iter().enumerate() {
            if m.start.0 > r {
                break;
            }
            if m.end.0 < r || m.start.0 <= header {
                continue;
            }
            let col = m.start.1 as usize;
            if m.start.0 == r {
                self.values[i] = row.get(col).cloned().filter(|v| *v != Data::Empty);
                continue;
            }
            let Some(value) = &self.values[i] else {
                continue;
            };
            if row.len() <= col {
                row.resize(col + 1, Data::Empty);
            }
            if row[col] == Data::Empty {
                if m.start.0 + 1 == r {
                    self.filled.add(m.start.0, m.start.1);
                }
                row[col] = value.clone();
            }
        }
        for m in &self.across {
            if m.start.0 == r && r > header {
                self.wide.add(m.start.0, m.start.1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(r0: u32, c0: u32, r1: u32, c1: u32) -> Dimensions {
        Dimensions {
            start: (r0, c0),
            end: (r1, c1),
        }
    }

    fn text(s: &str) -> Data {
        Data::String(s.into())
    }

    #[test]
    fn a_region_one_column_wide_fills_down_and_a_wider_one_is_counted() {
        // Header on row 0; A2:A4 merged ("North"), B5:C5 merged, A1:A2 (with the header).
        let mut m = Merged::new(vec![
            region(1, 0, 3, 0),
            region(4, 1, 4, 2),
            region(0, 2, 1, 2),
            region(6, 0, 6, 0),
        ]);
        let mut rows = [
            vec![text("North"), text("a")],
            vec![Data::Empty, text("b")],
            vec![Data::Empty, text("c"), Data::Empty],
            vec![Data::Empty, text("wide"), Data::Empty],
        ];
        for (i, row) in rows.iter_mut().enumerate() {
            m.fill(i as u32 + 1, 0, row);
        }
        assert_eq!(rows[1][0], text("North"));
        assert_eq!(rows[2][0], text("North"));
        assert_eq!(rows[3][0], Data::Empty, "below the region");
        assert_eq!(
            m.filled,
            Cells {
                count: 1,
                first: Some("A2".into())
            }
        );
        assert_eq!(
            m.wide,
            Cells {
                count: 1,
                first: Some("B5".into())
            }
        );
        // The region reaching into the header's row is not filled into row 2.
        let mut row = vec![text("x"), text("y")];
        m.fill(1, 0, &mut row);
        assert_eq!(row.len(), 2);
    }

    #[test]
    fn a_region_whose_first_cell_is_empty_fills_nothing() {
        let mut m = Merged::new(vec![region(1, 0, 2, 0)]);
        let mut first = vec![Data::Empty, text("a")];
        let mut second = vec![Data::Empty, text("b")];
        m.fill(1, 0, &mut first);
        m.fill(2, 0, &mut second);
        assert_eq!(second[0], Data::Empty);
        assert_eq!(m.filled, Cells::default());
    }
}
