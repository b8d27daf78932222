//! Splitting a large CSV file into byte ranges that can be checked in parallel.
//!
//! A range must start at a record boundary, and each range must know the line number
//! and data-row number of its first record, so quarantine reasons and the `_row` column
//! are exactly what a sequential read gives. Both are only knowable without parsing when
//! every newline ends a record, that is when the data holds no quote character (a quoted
//! field may contain newlines). So: one pass over the bytes (memchr, several GB/s from the
//! page cache) that gives up at the first `"`, counts lines, counts rows (lines holding
//! something besides whitespace and delimiters: blank lines, and lines of delimiters only
//! such as Excel's `,,,,`, are passed over by ingest and are not rows), and cuts at the
//! first newline after each even share of the bytes. Files with quotes, and small files,
//! are read as one range.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// Files smaller than this are read as one range: the pre-pass and extra writers would
/// cost more than they save.
pub const MIN_CHUNK_BYTES: u64 = 32 << 20;

/// The smallest range: [`MIN_CHUNK_BYTES`], or `JOINEDUP_INGEST_CHUNK_BYTES` when set (to
/// tune for a machine, and so tests can split small files).
pub fn min_chunk_bytes() -> u64 {
    std::env::var("JOINEDUP_INGEST_CHUNK_BYTES")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(MIN_CHUNK_BYTES)
}

/// One byte range of a file's data (the header excluded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// First byte (a record start).
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
    /// 1-based line number of the first byte.
    pub first_line: u64,
    /// Data rows before this range (so its first row is number `rows_before + 1`).
    pub rows_before: u64,
}

/// Splits `[data_start, len)` of `path` into at most `parts` ranges of at least
/// `min_bytes` each; `data_line` is the line number at `data_start`. Returns one range
/// when the data holds a quote character or is too small to split.
pub fn plan(
    path: &Path,
    delimiter: u8,
    data_start: u64,
    data_line: u64,
    len: u64,
    parts: usize,
    min_bytes: u64,
) -> Result<Vec<Chunk>> {
    let whole = vec![Chunk {
        start: data_start,
        end: len,
        first_line: data_line,
        rows_before: 0,
    }];
    let span = len.saturating_sub(data_start);
    let parts = (parts as u64).min(span / min_bytes.max(1)).max(1);
    if parts < 2 {
        return Ok(whole);
    }
    let targets: Vec<u64> = (1..parts).map(|k| data_start + span * k / parts).collect();
    let mut file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let mut skip = vec![0u8; 0];
    skip.resize(data_start.min(1 << 20) as usize, 0);
    let mut to_skip = data_start;
    while to_skip > 0 {
        let n = to_skip.min(skip.len() as u64) as usize;
        file.read_exact(&mut skip[..n])
            .map_err(|e| Error::io("reading", path, e))?;
        to_skip -= n as u64;
    }
    let mut buf = vec![0u8; 1 << 20];
    let (mut offset, mut lines, mut rows) = (data_start, 0u64, 0u64);
    let mut line_has_content = false;
    // What a blank line may hold (see `lines::is_blank`): whitespace and delimiters.
    let content = |b: &u8| !b.is_ascii_whitespace() && *b != delimiter;
    let mut cuts = Vec::with_capacity(targets.len());
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| Error::io("reading", path, e))?;
        if n == 0 {
            break;
        }
        let block = &buf[..n];
        if memchr::memchr(b'"', block).is_some() {
            return Ok(whole);
        }
        let mut line_start = 0;
        for nl in memchr::memchr_iter(b'\n', block) {
            if !line_has_content {
                line_has_content = block[line_start..nl].iter().any(content);
            }
            lines += 1;
            rows += u64::from(line_has_content);
            line_has_content = false;
            line_start = nl + 1;
            let next = offset + nl as u64 + 1;
            if cuts.len() < targets.len() && next >= targets[cuts.len()] && next < len {
                cuts.push((next, lines, rows));
            }
        }
        if !line_has_content {
            line_has_content = block[line_start..].iter().any(content);
        }
        offset += n as u64;
    }
    let mut chunks = Vec::with_capacity(cuts.len() + 1);
    let mut previous = (data_start, 0u64, 0u64);
    for cut in cuts.into_iter().chain(std::iter::once((len, 0, 0))) {
        if cut.0 > previous.0 {
            chunks.push(Chunk {
                start: previous.0,
                end: cut.0,
                first_line: data_line + previous.1,
                rows_before: previous.2,
            });
        }
        previous = cut;
    }
    Ok(chunks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_text(text: &str, data_start: u64, parts: usize) -> Vec<Chunk> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.csv");
        std::fs::write(&p, text).unwrap();
        plan(&p, b',', data_start, 2, text.len() as u64, parts, 1).unwrap()
    }

    #[test]
    fn cuts_at_newlines_and_counts_lines_and_rows_skipping_blank_lines() {
        // header (8 bytes) then data; a blank and a whitespace-only line are not rows.
        let text = "h1,h2\r\na,1\r\n\n  \r\nb,2\r\nc,3\r\nd,4";
        let chunks = plan_text(text, 7, 3);
        assert_eq!(chunks.first().unwrap().start, 7);
        assert_eq!(chunks.last().unwrap().end, text.len() as u64);
        for w in chunks.windows(2) {
            assert_eq!(w[0].end, w[1].start);
            assert_eq!(text.as_bytes()[w[1].start as usize - 1], b'\n');
        }
        // Each range's counts equal a direct count of what precedes it.
        for c in &chunks {
            let before = &text[7..c.start as usize];
            let lines = before.matches('\n').count() as u64;
            let rows = before
                .split('\n')
                .take(lines as usize)
                .filter(|l| !l.trim().is_empty())
                .count() as u64;
            assert_eq!((c.first_line, c.rows_before), (2 + lines, rows), "{c:?}");
        }
        assert_eq!(chunks.len(), 3);
        assert_eq!(
            chunks
                .iter()
                .map(|c| (c.first_line, c.rows_before))
                .collect::<Vec<_>>(),
            [(2, 0), (5, 1), (6, 2)]
        );
    }

    /// Regression (review): a line of delimiters only (`,,,,`, as Excel saves a row that
    /// looks empty) is passed over by ingest, so it must not count as a row here either,
    /// or every later range's row numbers are one too many.
    #[test]
    fn regression_a_line_of_delimiters_only_is_blank() {
        let text = "h1,h2\na,1\n,,\r\n , \nb,2\nc,3\n";
        let chunks = plan_text(text, 6, 4);
        assert_eq!(
            chunks
                .iter()
                .map(|c| (c.first_line, c.rows_before))
                .collect::<Vec<_>>(),
            [(2, 0), (4, 1), (5, 1), (6, 2)]
        );
    }

    #[test]
    fn a_quote_anywhere_in_the_data_keeps_the_file_whole() {
        let text = "h\na\nb\n\"c\nd\"\ne\nf\n";
        assert_eq!(
            plan_text(text, 2, 4),
            [Chunk {
                start: 2,
                end: text.len() as u64,
                first_line: 2,
                rows_before: 0
            }]
        );
    }

    #[test]
    fn small_data_is_one_range() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.csv");
        std::fs::write(&p, "h\na\nb\n").unwrap();
        assert_eq!(
            plan(&p, b',', 2, 2, 6, 4, MIN_CHUNK_BYTES).unwrap().len(),
            1
        );
    }
}
