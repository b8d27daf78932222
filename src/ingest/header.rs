//! Matching a file's header row to its contract, by folded name and alias.
//!
//! A header is text from the file: when the header row is missing, or a stray quote ran
//! it into the rows after it, it holds patients' values. Messages and warnings show
//! headers through [`shown`] and [`listed`] only: NHS-number and postcode shapes masked, each name
//! and the list cut short.

use std::collections::HashMap;
use std::path::Path;

use csv::ByteRecord;

use super::decode::{decode, is_control_at};
use super::quarantine::{holds_postcode, mask_data_value};
use crate::error::{Error, Location};
use crate::schema::fold::fold;
use crate::schema::{ColumnType, Contract, Encoding};

/// Characters of one header shown in a message.
const SHOWN_CHARS: usize = 60;

/// Headers listed in a message.
const LISTED: usize = 40;

/// A header as a message shows it: quoted, NHS-number and postcode shapes masked,
/// control characters escaped (a quoted header holding a line break cannot forge a line
/// of the log), cut at [`SHOWN_CHARS`] characters.
pub fn shown(h: &str) -> String {
    format!("\"{}\"", bare(h))
}

/// A header as [`shown`], without the quotes (for a location's column, which adds its own).
fn bare(h: &str) -> String {
    let masked = crate::escape::one_line(&mask_data_value(h)).into_owned();
    match masked.char_indices().nth(SHOWN_CHARS) {
        Some((cut, _)) => format!("{}…", &masked[..cut]),
        None => masked,
    }
}

/// A hint for a first line that matched no column: when it is one field holding another
/// common delimiter, the file is likely delimited by that, not the contract's.
fn delimiter_hint(headers: &[String], delimiter: u8) -> String {
    let [only] = headers else {
        return String::new();
    };
    [b',', b';', b'\t', b'|']
        .into_iter()
        .filter(|&d| d != delimiter)
        .find(|&d| only.as_bytes().contains(&d))
        .map(|d| {
            format!(
                "; it holds {}: is the file delimited by that? the contract says delimiter = {}",
                delimiter_name(d),
                delimiter_name(delimiter)
            )
        })
        .unwrap_or_default()
}

/// A delimiter as a contract writes it.
fn delimiter_name(d: u8) -> String {
    match d {
        b'\t' => "\"\\t\" (tab)".to_string(),
        d => format!("\"{}\"", d as char),
    }
}

/// `column(s) "A", "B"`, naming the headers as [`listed`], unless one looks like a data
/// value (a date, a postcode, a long number): then a header row with a patient's row
/// joined to it (a line break lost) would put names, dates of birth and postcodes in the
/// message, so only the count is given.
pub fn listed_unless_data(headers: &[String]) -> String {
    if holds_data(headers) {
        format!(
            "{} column(s) (not named: some look like data values rather than names; is the line break after the header row missing?)",
            headers.len()
        )
    } else {
        format!("column(s) {}", listed(headers))
    }
}

/// Whether some of `headers` looks like a value from a row ([`looks_like_data`]).
pub fn holds_data(headers: &[String]) -> bool {
    headers.iter().any(|h| looks_like_data(h))
}

/// Whether a header cell looks like a value from a row: six or more digits in a run, a
/// date (`31/05/1906`, `1906-05-31`) or a UK postcode (`QQ4 1TU`).
fn looks_like_data(h: &str) -> bool {
    let b = h.trim().as_bytes();
    let mut run = 0;
    for &c in b {
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
        if run >= 6 {
            return true;
        }
    }
    let date = |s: &[u8]| {
        let parts: Vec<&[u8]> = s.split(|c| matches!(c, b'/' | b'-' | b'.')).collect();
        parts.len() == 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.len() <= 4 && p.iter().all(u8::is_ascii_digit))
    };
    b.split(|c| c.is_ascii_whitespace()).any(date) || holds_postcode(h)
}

/// Headers as a message lists them: each [`shown`], at most [`LISTED`] of them.
pub fn listed(headers: &[String]) -> String {
    let mut s: Vec<String> = headers.iter().take(LISTED).map(|h| shown(h)).collect();
    if headers.len() > LISTED {
        s.push(format!("… and {} more", headers.len() - LISTED));
    }
    s.join(", ")
}

/// Where each contract column sits in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderMap {
    /// For each contract column, its field index in the file (`None` = absent, optional).
    pub positions: Vec<Option<usize>>,
    /// Headers the contract does not declare, as written.
    pub extra: Vec<String>,
    /// Columns found under more than one of their names (header, aliases): one line
    /// each, naming the one read (the first in the contract's order) and those ignored.
    pub repeated: Vec<String>,
    /// Some header looks like a data value ([`holds_data`]): a patient's row may be
    /// joined to the header row (its line break lost), so no header is named anywhere.
    pub holds_data: bool,
    /// Number of fields in the header row.
    pub width: usize,
}

/// The header row's fields as text, trimmed; or why the row cannot be a header: a quote
/// left open (it swallowed the rows), CR-only line endings (the whole file is one line),
/// a control character or bytes invalid in the contract's encoding.
pub fn header_texts(record: &ByteRecord, encoding: Encoding) -> Result<Vec<String>, String> {
    if super::lines::spans_lines(record) {
        return Err("the header row has a quote that is not closed on its line".into());
    }
    let inner_cr = |f: &[u8]| {
        let end = f.len() - f.iter().rev().take_while(|&&b| b == b'\r').count();
        f[..end].contains(&b'\r')
    };
    // UTF-16 without a byte-order mark: every other byte of its ASCII text is zero (and
    // its CRLF is CR NUL LF NUL, which looked like CR-only line endings).
    let bytes = record.as_slice();
    let zeros = bytes.iter().filter(|&&b| b == 0).count();
    if zeros >= 2 && zeros * 3 >= bytes.len() {
        return Err("looks like UTF-16 without a byte-order mark (every other byte of the header is zero), which joinedup does not read; save the file as UTF-8 or Windows-1252".into());
    }
    if record.iter().any(inner_cr) {
        return Err("lines end in CR only (as classic Mac OS and some Excel for Mac exports write them); save the file with CRLF or LF line endings".into());
    }
    record
        .iter()
        .enumerate()
        .map(|(i, field)| match decode(encoding, field) {
            Ok(h) => Ok(h.trim().to_string()),
            Err(offset) if is_control_at(field, offset) => Err(format!(
                "header field {} has a control character (0x{:02X}, byte {} of the field)",
                i + 1,
                field[offset],
                offset + 1
            )),
            Err(offset) => Err(format!(
                "header field {} has bytes that are not valid {} (byte {} of the field); check the contract's encoding",
                i + 1,
                if encoding == Encoding::Utf8 {
                    "UTF-8"
                } else {
                    "Windows-1252"
                },
                offset + 1
            )),
        })
        .collect()
}

/// The headers of the contract's optional columns missing from a file (sensitive ones,
/// never read, aside): every row reads them as blank.
pub fn absent_optional(contract: &Contract, header: &HeaderMap) -> Vec<String> {
    contract
        .columns
        .iter()
        .zip(&header.positions)
        .filter(|(c, at)| at.is_none() && !matches!(c.kind, ColumnType::Sensitive))
        .map(|(c, _)| c.header.clone())
        .collect()
}

/// How many of `contract`'s columns `headers` name (by header or alias, as
/// [`match_header`] compares them): which of a sheet's first rows is most like its header.
pub fn columns_named(contract: &Contract, headers: &[String]) -> usize {
    let folded: std::collections::HashSet<String> = headers.iter().map(|h| fold(h)).collect();
    contract
        .columns
        .iter()
        .filter(|c| {
            std::iter::once(&c.header)
                .chain(&c.aliases)
                .any(|n| folded.contains(&fold(n)))
        })
        .count()
}

/// Where each of `contract`'s columns is in `headers` (the first of its names, in the
/// contract's order, that is there), as [`match_header`] places them, without refusing
/// a header that lacks a required column: which of a sheet's columns are the contract's.
pub fn columns_at(contract: &Contract, headers: &[String]) -> Vec<Option<usize>> {
    let mut by_folded: HashMap<String, usize> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        by_folded.entry(fold(h)).or_insert(i);
    }
    contract
        .columns
        .iter()
        .map(|c| {
            std::iter::once(&c.header)
                .chain(&c.aliases)
                .find_map(|n| by_folded.get(&fold(n)).copied())
        })
        .collect()
}

/// Matches `headers` against `contract`; a missing required column or an ambiguous
/// header (one of the contract's names twice) rejects the file, naming the column and
/// listing the columns found. A name the contract does not declare may repeat: each is
/// an extra column.
pub fn match_header(
    contract: &Contract,
    headers: &[String],
    file: &Path,
) -> Result<HeaderMap, Error> {
    let declared: std::collections::HashSet<String> = contract
        .columns
        .iter()
        .flat_map(|c| std::iter::once(&c.header).chain(&c.aliases))
        .map(|n| fold(n))
        .collect();
    let mut by_folded: HashMap<String, usize> = HashMap::new();
    let mut twice = None;
    for (i, h) in headers.iter().enumerate() {
        let key = fold(h);
        if key.is_empty() {
            continue;
        }
        let contract_name = declared.contains(&key);
        if let Some(first) = by_folded.insert(key, i)
            && contract_name
        {
            twice.get_or_insert((first, i));
        }
    }
    let rejected = |column: Option<String>, message: String| Error::InputRejected {
        location: Location {
            file: file.to_path_buf(),
            line: Some(1),
            column,
        },
        message,
    };
    let known = |name: &String| by_folded.contains_key(&fold(name));
    if !contract
        .columns
        .iter()
        .any(|c| std::iter::once(&c.header).chain(&c.aliases).any(known))
    {
        return Err(rejected(
            None,
            format!(
                "the first line is not a header row of contract \"{}\": none of its {} columns is there (is the header row missing?); the first line has {} field(s), not shown: it may be a patient's row{}",
                contract.name,
                contract.columns.len(),
                headers.len(),
                delimiter_hint(headers, contract.delimiter)
            ),
        ));
    }
    if let Some((first, i)) = twice {
        return Err(rejected(
            Some(bare(&headers[i])),
            format!(
                "header {} appears twice (fields {} and {}); the file is ambiguous",
                shown(&headers[i]),
                first + 1,
                i + 1
            ),
        ));
    }
    let mut used = vec![false; headers.len()];
    let mut positions = Vec::with_capacity(contract.columns.len());
    let mut missing = Vec::new();
    let mut repeated = Vec::new();
    for col in &contract.columns {
        // Where each of its names is, in the contract's order (header, then aliases).
        let mut at: Vec<usize> = Vec::new();
        for name in std::iter::once(&col.header).chain(&col.aliases) {
            if let Some(&i) = by_folded.get(&fold(name))
                && !at.contains(&i)
            {
                at.push(i);
            }
        }
        if let [read, ref ignored @ ..] = at[..]
            && !ignored.is_empty()
        {
            // Real extracts carry a column twice under two of its names (a derived copy);
            // the first in the contract's order is read, and the others named.
            for &i in ignored {
                used[i] = true;
            }
            repeated.push(format!(
                "column \"{}\" is in the file under {} of its names: {} (field {}) is read, {} ignored",
                col.name,
                at.len(),
                shown(&headers[read]),
                read + 1,
                ignored
                    .iter()
                    .map(|&i| format!("{} (field {})", shown(&headers[i]), i + 1))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let found = at.first().copied();
        if let Some(i) = found {
            used[i] = true;
        } else if col.header_required {
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
        return Err(rejected(
            None,
            format!(
                "required column{} {} missing (contract \"{}\"); the file has {}",
                if missing.len() == 1 { "" } else { "s" },
                names.join(", "),
                contract.name,
                // Not the headers when a patient's row may be joined to them.
                if holds_data(headers) {
                    listed_unless_data(headers)
                } else {
                    format!("columns: {}", listed(headers))
                }
            ),
        ));
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
        repeated,
        holds_data: holds_data(headers),
        width: headers.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apc() -> std::sync::Arc<Contract> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let plan = crate::config::load_plan(&root.join("pipelines/sample.toml"), &[]).unwrap();
        plan.sources
            .into_iter()
            .find(|s| s.name == "apc")
            .unwrap()
            .contract
    }

    fn valid_header() -> Vec<String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let csv = std::fs::read_to_string(root.join("tests/fixtures/bad/apc/valid.csv")).unwrap();
        csv.lines()
            .next()
            .unwrap()
            .split(',')
            .map(String::from)
            .collect()
    }

    /// Regression (review): the same undeclared column name twice (`Notes`, `Notes`)
    /// refused the whole file as ambiguous; only a contract column's name twice is.
    /// Regression (code review): a quoted header holding a line break reached the
    /// `error:` line raw, so it could forge a log line.
    #[test]
    fn regression_a_header_s_line_break_is_shown_escaped() {
        assert_eq!(
            shown("LA Code\n2026-11-28T00:00:00Z  INFO run finished"),
            "\"LA Code\\n2026-11-28T00:00:00Z  INFO run finished\""
        );
    }

    #[test]
    fn regression_an_undeclared_column_name_twice_is_two_extra_columns() {
        let apc = apc();
        let mut headers = valid_header();
        headers.extend(["Notes".to_string(), "notes ".to_string()]);
        let map = match_header(&apc, &headers, Path::new("f.csv")).unwrap();
        assert_eq!(map.extra, ["Notes", "notes "]);
        assert_eq!(map.positions[0], Some(0));
        let mut twice = valid_header();
        twice.push("NHS number".into());
        let err = match_header(&apc, &twice, Path::new("f.csv")).unwrap_err();
        assert!(
            err.to_string().contains(
                "header \"NHS number\" appears twice (fields 3 and 17); the file is ambiguous"
            ),
            "{err}"
        );
    }

    /// Review (minor): UTF-16 without a byte-order mark was said to have lines ending
    /// in CR only (its CRLF is CR NUL LF NUL); it is named as what it looks like.
    #[test]
    fn utf16_without_a_bom_is_named_as_such() {
        let text: Vec<u8> = "NHS Number,Sex\r\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_slice());
        let mut record = ByteRecord::new();
        csv.read_byte_record(&mut record).unwrap();
        let err = header_texts(&record, Encoding::Utf8).unwrap_err();
        assert!(
            err.starts_with("looks like UTF-16 without a byte-order mark"),
            "{err}"
        );
    }

    #[test]
    fn headers_in_messages_are_masked_and_cut_short() {
        assert_eq!(shown("NHS Number"), "\"NHS Number\"");
        assert_eq!(shown("9991000003"), "\"<withheld>\"");
        let long = "x".repeat(70);
        assert_eq!(shown(&long), format!("\"{}…\"", "x".repeat(60)));
        let many: Vec<String> = (0..45).map(|i| i.to_string()).collect();
        let l = listed(&many);
        assert!(
            l.starts_with("\"0\", \"1\"") && l.ends_with("\"39\", … and 5 more"),
            "{l}"
        );
    }

    /// Regression: a header row with a patient's row joined to it (a line break lost)
    /// listed the name, date of birth and postcode as "ignored column(s)".
    #[test]
    fn headers_that_look_like_data_are_counted_not_listed() {
        let h = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let joined = h(&[
            "Event Type",
            "Ottoline",
            "Fairweatherq",
            "31/05/1906",
            "QQ4 1TU",
        ]);
        assert_eq!(
            listed_unless_data(&joined),
            "5 column(s) (not named: some look like data values rather than names; is the line break after the header row missing?)"
        );
        for data in ["1906-05-31", "QQ4 1TU", "EA000946", "M1 1AE"] {
            assert!(looks_like_data(data), "{data}");
        }
        for name in [
            "Der_Postcode_LSOA_2011",
            "Age_At_Arrival",
            "PbR 2023/24",
            "LA Code",
        ] {
            assert!(!looks_like_data(name), "{name}");
        }
        assert_eq!(
            listed_unless_data(&h(&["Ward", "Bay"])),
            "column(s) \"Ward\", \"Bay\""
        );
    }
}
