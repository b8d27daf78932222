//! Matching a file's header row to its contract, by folded name and alias.

use std::collections::HashMap;
use std::path::Path;

use crate::error::{Error, Location};
use crate::schema::Contract;
use crate::schema::fold::fold;

/// Where each contract column sits in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderMap {
    /// For each contract column, its field index in the file (`None` = absent, optional).
    pub positions: Vec<Option<usize>>,
    /// Headers the contract does not declare, as written.
    pub extra: Vec<String>,
    /// Number of fields in the header row.
    pub width: usize,
}

/// Matches `headers` against `contract`; a missing required column or an ambiguous
/// header rejects the file, naming the column and listing the columns found.
pub fn match_header(
    contract: &Contract,
    headers: &[String],
    file: &Path,
) -> Result<HeaderMap, Error> {
    let mut by_folded: HashMap<String, usize> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        let key = fold(h);
        if key.is_empty() {
            continue;
        }
        if let Some(first) = by_folded.insert(key, i) {
            return Err(Error::InputRejected {
                location: Location {
                    file: file.to_path_buf(),
                    line: Some(1),
                    column: Some(h.clone()),
                },
                message: format!(
                    "header \"{h}\" appears twice (fields {} and {}); the file is ambiguous",
                    first + 1,
                    i + 1
                ),
            });
        }
    }
    let mut used = vec![false; headers.len()];
    let mut positions = Vec::with_capacity(contract.columns.len());
    let mut missing = Vec::new();
    for col in &contract.columns {
        let found = std::iter::once(&col.header)
            .chain(&col.aliases)
            .find_map(|name| by_folded.get(&fold(name)).copied());
        if let Some(i) = found {
            used[i] = true;
        } else if col.required {
            missing.push(col);
        }
        positions.push(found);
    }
    if !missing.is_empty() {
        let names: Vec<String> = missing
            .iter()
            .map(|c| {
                if c.aliases.is_empty() {
                    format!("\"{}\"", c.header)
                } else {
                    format!(
                        "\"{}\" (or {})",
                        c.header,
                        c.aliases
                            .iter()
                            .map(|a| format!("\"{a}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            })
            .collect();
        return Err(Error::InputRejected {
            location: Location {
                file: file.to_path_buf(),
                line: Some(1),
                column: None,
            },
            message: format!(
                "required column{} {} missing (contract \"{}\"); the file has columns: {}",
                if missing.len() == 1 { "" } else { "s" },
                names.join(", "),
                contract.name,
                headers
                    .iter()
                    .map(|h| format!("\"{h}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    let extra = headers
        .iter()
        .zip(&used)
        .filter(|(h, used)| !**used && !h.trim().is_empty())
        .map(|(h, _)| h.clone())
        .collect();
    Ok(HeaderMap {
        positions,
        extra,
        width: headers.len(),
    })
}
