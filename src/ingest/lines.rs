//! Records that span lines: one line at a time instead.
//!
//! NHS and council extracts have no multi-line fields, so a quoted field holding a line
//! break is a stray or unbalanced quote: read as CSV, it would swallow the lines after it
//! (to the end of the file when the quote never closes) into one record, and publish
//! other rows' values, NHS numbers included, inside one of its fields. When the reader
//! returns such a record, ingest reads its bytes again here, one physical line at a time:
//! a line whose own quote is not closed on it is quarantined (`unbalanced_quote`), and
//! every other line is checked as the row it is.

use csv::{ByteRecord, Position};

/// One physical line of a record that spanned lines.
pub struct Line {
    /// The line's fields, read as CSV on their own; the position is the line's start
    /// (byte relative to the reader's first byte, line number within the file).
    pub record: ByteRecord,
    /// True when a quote opened on the line is not closed on it.
    pub unbalanced: bool,
    /// True when the line holds only whitespace (not a row).
    pub blank: bool,
}

/// True when every field of a record is empty or whitespace: a blank line, or a line of
/// delimiters only (Excel's "Save as CSV" writes `,,,,` for a row whose cells look
/// empty), which is not a row.
pub fn is_blank(record: &ByteRecord) -> bool {
    record
        .iter()
        .all(|field| field.iter().all(u8::is_ascii_whitespace))
}

/// True when a record read by the CSV reader holds a line break inside a field.
pub fn spans_lines(record: &ByteRecord) -> bool {
    memchr::memchr(b'\n', record.as_slice()).is_some()
}

/// Splits `bytes` (a record's bytes as in the file, from its first byte to the next
/// record's) into lines, each read as CSV on its own. `start` is the position of the
/// first byte.
pub fn split(bytes: &[u8], delimiter: u8, start: &Position) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut at = 0usize;
    let mut line_no = start.line();
    while at < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |n| at + n + 1);
        let text = &bytes[at..end];
        let mut position = Position::new();
        position
            .set_byte(start.byte() + at as u64)
            .set_line(line_no)
            .set_record(start.record());
        lines.push(read_line(text, delimiter, position));
        at = end;
        line_no += 1;
    }
    lines
}

/// Reads one line (with its `\n`, if any) as a CSV record.
fn read_line(text: &[u8], delimiter: u8, position: Position) -> Line {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .terminator(csv::Terminator::Any(b'\n'))
        .delimiter(delimiter)
        .from_reader(text);
    let mut record = ByteRecord::new();
    // Reading from memory cannot fail; a line that ends inside quotes ends the record
    // at the end of the input, its line break kept in the last field.
    let read = reader.read_byte_record(&mut record).unwrap_or(false);
    if !read {
        record.clear();
    }
    let blank = is_blank(&record);
    let unbalanced = !blank && spans_lines(&record);
    record.set_position(Some(position));
    Line {
        record,
        unbalanced,
        blank,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(byte: u64, line: u64) -> Position {
        let mut p = Position::new();
        p.set_byte(byte).set_line(line).set_record(3);
        p
    }

    fn fields(l: &Line) -> Vec<String> {
        l.record
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect()
    }

    #[test]
    fn a_record_read_across_lines_is_read_again_line_by_line() {
        let bytes = b"1,\"open,2\n3,4,5\n6,7\"\n";
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(&bytes[..]);
        let mut whole = ByteRecord::new();
        assert!(reader.read_byte_record(&mut whole).unwrap());
        assert!(spans_lines(&whole));
        let lines = split(bytes, b',', &start(100, 7));
        assert_eq!(lines.len(), 3);
        assert!(lines[0].unbalanced);
        assert_eq!(fields(&lines[1]), ["3", "4", "5"]);
        assert!(!lines[1].unbalanced && !lines[1].blank);
        // A quote inside an unquoted field is a character, as the reader reads it.
        assert_eq!(fields(&lines[2]), ["6", "7\""]);
        assert!(!lines[2].unbalanced);
        let p = lines[1].record.position().unwrap();
        assert_eq!((p.byte(), p.line()), (110, 8));
        assert_eq!(lines[2].record.position().unwrap().line(), 9);
    }

    #[test]
    fn blank_lines_and_a_last_line_without_a_line_break() {
        let lines = split(b"\"a\n \r\n1,2", b',', &start(0, 1));
        assert_eq!(lines.len(), 3);
        assert!(lines[0].unbalanced);
        assert!(lines[1].blank && !lines[1].unbalanced);
        assert_eq!(fields(&lines[2]), ["1", "2"]);
    }

    /// Regression (review): Excel's "Save as CSV" writes a row whose cells look empty as
    /// `,,,,`; it was quarantined as a data row (missing values) instead of passed over.
    #[test]
    fn regression_a_line_of_delimiters_only_is_blank() {
        assert!(is_blank(&ByteRecord::from(vec!["", "", "", "\r"])));
        assert!(is_blank(&ByteRecord::from(vec![" ", "\t", ""])));
        assert!(is_blank(&ByteRecord::new()));
        assert!(!is_blank(&ByteRecord::from(vec!["", "x", ""])));
        let lines = split(b"\"a\n,, ,\r\n1,2", b',', &start(0, 1));
        assert!(lines[1].blank && !lines[1].unbalanced);
    }

    #[test]
    fn a_record_on_one_line_does_not_span_lines() {
        let record = ByteRecord::from(vec!["a", "b\r"]);
        assert!(!spans_lines(&record));
        assert!(spans_lines(&ByteRecord::from(vec!["a\nb"])));
    }
}
