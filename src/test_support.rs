//! Helpers shared by the unit tests of several modules.

use polars::prelude::*;

/// A column's values as text (a string, categorical or number column, cast), null as
/// `None`.
pub fn texts(column: &Column) -> Vec<Option<String>> {
    column
        .cast(&DataType::String)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.map(str::to_string))
        .collect()
}
