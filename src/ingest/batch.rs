//! Column builders for accepted rows, turned into DataFrames batch by batch.

use std::borrow::Cow;

use polars::prelude::*;

use crate::normalise::pseudonym::Hex;
use crate::schema::{ColumnType, Contract, ValueType};

/// A checked value of one field, borrowing from the record or the contract where it can
/// (a row is checked and stored without allocating per field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell<'a> {
    /// Blank.
    Null,
    /// Text.
    Str(Cow<'a, str>),
    /// A code: its position in the column's code list.
    Code(u32),
    /// A pseudonym.
    Pseudonym(Hex),
    /// Integer.
    Int(i64),
    /// Days since 1970-01-01.
    Date(i32),
    /// Milliseconds since 1970-01-01T00:00.
    DateTime(i64),
    /// Milliseconds since midnight.
    Time(i64),
}

enum Builder {
    Str(StringChunkedBuilder),
    /// Category numbers (of [`crate::normalise::categorical`]), and the number of each
    /// code of the list by position: a code is stored without its text being hashed.
    Code(Vec<Option<u32>>, Vec<u32>),
    Int(Vec<Option<i64>>),
    Date(Vec<Option<i32>>),
    DateTime(Vec<Option<i64>>),
    Time(Vec<Option<i64>>),
}

/// Accumulates accepted rows for the stored columns of a contract.
pub struct BatchBuilder {
    columns: Vec<(usize, String, Builder)>,
    rows: Vec<u64>,
    /// Rows a batch is expected to hold: buffers are made this size up front.
    capacity: usize,
    /// The type of code columns ([`crate::normalise::categorical`]).
    code_dtype: DataType,
}

fn text_builder(name: &str, capacity: usize) -> StringChunkedBuilder {
    StringChunkedBuilder::new(name.into(), capacity)
}

/// Name of the lineage column holding the data row number. (A staged file holds the rows
/// of one input file, so its name is not stored per row: normalise adds it.)
pub const ROW_COLUMN: &str = "_row";

impl BatchBuilder {
    /// A builder for the stored (non-sensitive) columns of `contract`, for batches of
    /// about `capacity` rows.
    pub fn new(contract: &Contract, capacity: usize) -> PolarsResult<Self> {
        // The type holds the categories' mapping: numbers taken from it stay valid for
        // as long as the builder (a mapping nothing holds is dropped).
        let code_dtype = crate::normalise::categorical();
        let DataType::Categorical(_, categories) = &code_dtype else {
            polars_bail!(ComputeError: "codes are not categorical");
        };
        let columns = contract
            .columns
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                if let ColumnType::Code(list) = &c.kind {
                    let numbers = list
                        .codes
                        .iter()
                        .map(|code| categories.insert_cat(&code.code))
                        .collect::<PolarsResult<Vec<u32>>>();
                    return Some(numbers.map(|numbers| {
                        let b = Builder::Code(Vec::with_capacity(capacity), numbers);
                        (i, c.name.clone(), b)
                    }));
                }
                let b = match c.kind.stored()? {
                    ValueType::String => Builder::Str(text_builder(&c.name, capacity)),
                    ValueType::Integer => Builder::Int(Vec::with_capacity(capacity)),
                    ValueType::Date => Builder::Date(Vec::with_capacity(capacity)),
                    ValueType::DateTime => Builder::DateTime(Vec::with_capacity(capacity)),
                    ValueType::Time => Builder::Time(Vec::with_capacity(capacity)),
                    // Contract columns are never stored as these.
                    ValueType::Float | ValueType::Boolean => return None,
                };
                Some(Ok((i, c.name.clone(), b)))
            })
            .collect::<PolarsResult<_>>()?;
        Ok(BatchBuilder {
            columns,
            rows: Vec::with_capacity(capacity),
            capacity,
            code_dtype,
        })
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when no rows are held.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Adds one accepted row; `cells` is indexed by contract column.
    pub fn push(&mut self, row: u64, mut cells: Vec<Cell<'_>>) {
        for (i, _, b) in &mut self.columns {
            let cell = std::mem::replace(&mut cells[*i], Cell::Null);
            match (b, cell) {
                (Builder::Str(v), Cell::Str(s)) => v.append_value(&*s),
                (Builder::Str(v), Cell::Pseudonym(h)) => v.append_value(h.as_str()),
                (Builder::Code(v, numbers), Cell::Code(i)) => v.push(Some(numbers[i as usize])),
                (Builder::Int(v), Cell::Int(x)) => v.push(Some(x)),
                (Builder::Date(v), Cell::Date(x)) => v.push(Some(x)),
                (Builder::DateTime(v), Cell::DateTime(x)) => v.push(Some(x)),
                (Builder::Time(v), Cell::Time(x)) => v.push(Some(x)),
                (Builder::Str(v), _) => v.append_null(),
                (Builder::Code(v, _), _) => v.push(None),
                (Builder::Int(v), _) => v.push(None),
                (Builder::Date(v), _) => v.push(None),
                (Builder::DateTime(v), _) => v.push(None),
                (Builder::Time(v), _) => v.push(None),
            }
        }
        self.rows.push(row);
    }

    /// Takes the rows held as a DataFrame and empties the builder.
    pub fn take_frame(&mut self) -> PolarsResult<DataFrame> {
        let n = self.rows.len();
        let cap = self.capacity;
        // The taken values, leaving a buffer of the batch's size (not an empty one that
        // grows, and faults its pages in, again for every batch).
        fn fresh<T>(v: &mut Vec<T>, cap: usize) -> Vec<T> {
            std::mem::replace(v, Vec::with_capacity(cap))
        }
        let mut out = Vec::with_capacity(self.columns.len() + 2);
        for (_, name, b) in &mut self.columns {
            let name = PlSmallStr::from(name.as_str());
            let col = match b {
                Builder::Str(v) => std::mem::replace(v, text_builder(&name, cap))
                    .finish()
                    .into_column(),
                Builder::Code(v, _) => {
                    let numbers = Column::new(name, fresh(v, cap));
                    Series::from_cats_and_dtype(
                        numbers.as_materialized_series(),
                        &self.code_dtype,
                        true,
                    )?
                    .into_column()
                }
                Builder::Int(v) => Column::new(name, fresh(v, cap)),
                Builder::Date(v) => Column::new(name, fresh(v, cap)).cast(&DataType::Date)?,
                Builder::DateTime(v) => Column::new(name, fresh(v, cap))
                    .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?,
                Builder::Time(v) => Column::new(name, fresh(v, cap)),
            };
            out.push(col);
        }
        out.push(Column::new(ROW_COLUMN.into(), fresh(&mut self.rows, cap)));
        DataFrame::new(n, out)
    }
}
