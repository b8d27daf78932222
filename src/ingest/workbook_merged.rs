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

/// The merged regions of one sheet, and what filling them did. Rows come in order, so
/// each region is looked at only while it spans the row at hand (a cursor into each
/// list, sorted by first row): a sheet of many merged blocks costs a row only its own.
#[derive(Debug, Default)]
pub struct Merged {
    /// Regions one column wide and more than one row tall, by first row.
    down: Vec<Dimensions>,
    /// Regions wider than one column, by first row.
    across: Vec<Dimensions>,
    /// The first regions of `down` and `across` not yet reached.
    next_down: usize,
    next_across: usize,
    /// The regions of `down` reached and not yet passed, each with its value once its
    /// first row has been read.
    active: Vec<(usize, Option<Data>)>,
    /// Regions filled down (their first cell held a value and a row below it was read).
    pub filled: Cells,
    /// Regions wider than one column in the rows read below the header.
    pub wide: Cells,
}

impl Merged {
    /// The regions of a sheet as calamine lists them.
    pub fn new(regions: Vec<Dimensions>) -> Self {
        let (mut down, mut across): (Vec<Dimensions>, Vec<Dimensions>) = regions
            .into_iter()
            .filter(|m| m.end.0 > m.start.0 || m.end.1 > m.start.1)
            .partition(|m| m.start.1 == m.end.1);
        down.sort_by_key(|m| m.start);
        across.sort_by_key(|m| m.start);
        Merged {
            down,
            across,
            ..Merged::default()
        }
    }

    /// The regions wider than one column that span sheet row `r` (0-based): on the header
    /// row, each leaves the columns under all but its first cell without a name.
    pub fn across_row(&self, r: u32) -> Cells {
        let mut cells = Cells::default();
        for m in self
            .across
            .iter()
            .filter(|m| m.start.0 <= r && r <= m.end.0)
        {
            cells.add(m.start.0, m.start.1);
        }
        cells
    }

    /// Whether the sheet has no region that [`Merged::fill`] would fill or count.
    pub fn is_empty(&self) -> bool {
        self.down.is_empty() && self.across.is_empty()
    }

    /// Moves on to sheet row `r` (rows come in order): whether a region reaches it, so
    /// [`Merged::fill`] has something to do.
    pub fn reaches(&mut self, r: u32) -> bool {
        while self
            .down
            .get(self.next_down)
            .is_some_and(|m| m.start.0 <= r)
        {
            self.active.push((self.next_down, None));
            self.next_down += 1;
        }
        let down = &self.down;
        self.active.retain(|(i, _)| down[*i].end.0 >= r);
        while self
            .across
            .get(self.next_across)
            .is_some_and(|m| m.start.0 < r)
        {
            self.next_across += 1;
        }
        !self.active.is_empty()
            || self
                .across
                .get(self.next_across)
                .is_some_and(|m| m.start.0 == r)
    }

    /// Takes sheet row `r` (0-based), a data row below the header at `header`, after
    /// [`Merged::reaches`]: a region starting on it keeps its value; an empty cell of a
    /// region above it takes the region's value.
    pub fn fill(&mut self, r: u32, header: u32, row: &mut Vec<Data>) {
        for (i, value) in &mut self.active {
            let m = &self.down[*i];
            if m.start.0 <= header {
                continue;
            }
            let col = m.start.1 as usize;
            if m.start.0 == r {
                *value = row.get(col).cloned().filter(|v| *v != Data::Empty);
                continue;
            }
            let Some(value) = value else {
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
        if r > header {
            for m in self.across[self.next_across..]
                .iter()
                .take_while(|m| m.start.0 == r)
            {
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
    fn regions_across_columns_of_a_row_are_counted_for_it_and_no_others() {
        let merged = Merged::new(vec![
            region(0, 0, 1, 3), // a title over the header, down into it
            region(1, 5, 1, 6), // a header cell over two columns
            region(1, 8, 4, 8), // one column wide: not across
            region(3, 1, 3, 2), // below the header
        ]);
        let header = merged.across_row(1);
        assert_eq!((header.count, header.first.as_deref()), (2, Some("A1")));
        assert_eq!(merged.across_row(2).count, 0);
        assert_eq!(merged.across_row(3).first.as_deref(), Some("B4"));
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
            m.reaches(i as u32 + 1);
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
        let mut m = Merged::new(vec![region(0, 2, 1, 2)]);
        let mut row = vec![text("x"), text("y")];
        assert!(m.reaches(1));
        m.fill(1, 0, &mut row);
        assert_eq!(row.len(), 2);
        // Past every region, a row is not reached.
        assert!(!m.reaches(2));
    }

    #[test]
    fn a_region_whose_first_cell_is_empty_fills_nothing() {
        let mut m = Merged::new(vec![region(1, 0, 2, 0)]);
        let mut first = vec![Data::Empty, text("a")];
        let mut second = vec![Data::Empty, text("b")];
        m.reaches(1);
        m.fill(1, 0, &mut first);
        m.reaches(2);
        m.fill(2, 0, &mut second);
        assert_eq!(second[0], Data::Empty);
        assert_eq!(m.filled, Cells::default());
    }
}
