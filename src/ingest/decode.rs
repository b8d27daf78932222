//! Byte-order marks and per-field decoding (UTF-8 or Windows-1252).
//!
//! Fields are decoded one at a time, so a bad byte costs one row (quarantined with its
//! offset), not the file. Invalid in either encoding: a control character other than tab
//! and carriage return (a NUL in an identifier would silently break joins), and in
//! Windows-1252 the five bytes it leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D).

use std::borrow::Cow;

use crate::schema::Encoding;

/// What the first bytes of a file say about its encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bom {
    /// No byte-order mark.
    None,
    /// `EF BB BF`: UTF-8, whatever the contract says.
    Utf8,
    /// `FF FE` or `FE FF`: UTF-16, which joinedup does not read.
    Utf16,
}

/// Recognises a byte-order mark at the start of `head`.
pub fn sniff_bom(head: &[u8]) -> Bom {
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        Bom::Utf8
    } else if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        Bom::Utf16
    } else {
        Bom::None
    }
}

/// What a file starting with `head` is when it is a binary format no contract reads (a
/// gzip archive or a PDF dropped where a CSV was expected), in words. Workbooks are read
/// from their sheet (`super::workbook_sheet`) before this is asked.
pub fn sniff_binary(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(&[0x1F, 0x8B]) {
        Some("gzip-compressed")
    } else if head.starts_with(b"%PDF-") {
        Some("a PDF document")
    } else {
        None
    }
}

/// True when `sample`, the start of a file, holds characters beyond ASCII and is valid
/// UTF-8 throughout (a sequence cut off at its end allowed). Text saved as Windows-1252
/// with any accented letter, dash or pound sign is almost never valid UTF-8 (`é` is one
/// byte, E9, which UTF-8 never leaves alone), so such a file was saved as UTF-8: read as
/// Windows-1252 every `é` would become `Ã©`.
pub fn looks_like_utf8(sample: &[u8]) -> bool {
    match std::str::from_utf8(sample) {
        Ok(s) => !s.is_ascii(),
        Err(e) => e.error_len().is_none() && !sample[..e.valid_up_to()].is_ascii(),
    }
}

/// True for a control character a field may not hold (anything below 0x20 but tab and
/// carriage return, which is trimmed with a CRLF line's last field).
fn is_control(b: u8) -> bool {
    b < 0x20 && b != b'\t' && b != b'\r'
}

/// True when `bytes` hold a control character: every byte checked without branching,
/// so it vectorises (it runs on every record).
fn has_control(bytes: &[u8]) -> bool {
    bytes.iter().fold(false, |any, &b| any | is_control(b))
}

/// Bytes Windows-1252 does not define.
const UNDEFINED_1252: [u8; 5] = [0x81, 0x8D, 0x8F, 0x90, 0x9D];

/// True when the invalid byte at `offset` of `bytes` is a control character (for the
/// message: "a control character", not "not valid UTF-8").
pub fn is_control_at(bytes: &[u8], offset: usize) -> bool {
    bytes.get(offset).is_some_and(|&b| is_control(b))
}

/// Decodes a field; on failure returns the offset of the first invalid byte in the field.
pub fn decode(encoding: Encoding, bytes: &[u8]) -> Result<Cow<'_, str>, usize> {
    if has_control(bytes) {
        return Err(bytes.iter().position(|&b| is_control(b)).unwrap_or(0));
    }
    match encoding {
        Encoding::Utf8 => std::str::from_utf8(bytes)
            .map(Cow::Borrowed)
            .map_err(|e| e.valid_up_to()),
        Encoding::Windows1252 => {
            if bytes.is_ascii() {
                // ASCII is the same in both; skip the decoder.
                Ok(Cow::Borrowed(
                    std::str::from_utf8(bytes).unwrap_or_default(),
                ))
            } else if let Some(at) = bytes.iter().position(|b| UNDEFINED_1252.contains(b)) {
                Err(at)
            } else {
                let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
                Ok(text)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boms() {
        assert_eq!(sniff_bom(b"\xEF\xBB\xBFa,b"), Bom::Utf8);
        assert_eq!(sniff_bom(b"\xFF\xFEa"), Bom::Utf16);
        assert_eq!(sniff_bom(b"a,b"), Bom::None);
        assert_eq!(sniff_bom(b""), Bom::None);
    }

    #[test]
    fn windows_1252_punctuation_and_accents() {
        // 0x96 en dash, 0x92 right single quote, 0xEB e-diaeresis.
        assert_eq!(
            decode(Encoding::Windows1252, b"NFA \x96 Deceased").unwrap(),
            "NFA \u{2013} Deceased"
        );
        assert_eq!(
            decode(Encoding::Windows1252, b"O\x92Neill Zo\xEB").unwrap(),
            "O\u{2019}Neill Zo\u{eb}"
        );
    }

    #[test]
    fn regression_bytes_windows_1252_leaves_undefined_are_invalid() {
        // encoding_rs maps them to C1 controls; a council code "902\x81" was published.
        for b in UNDEFINED_1252 {
            assert_eq!(
                decode(Encoding::Windows1252, &[b'9', b'0', b'2', b]),
                Err(3)
            );
        }
        assert_eq!(decode(Encoding::Windows1252, b"\x80").unwrap(), "\u{20AC}");
    }

    #[test]
    fn regression_control_characters_are_invalid_in_either_encoding() {
        // A NUL at the end of a spell id was accepted and broke joins on it.
        for e in [Encoding::Utf8, Encoding::Windows1252] {
            assert_eq!(decode(e, b"RX20064555\x00"), Err(10));
            assert_eq!(decode(e, b"a\x1fb"), Err(1));
            assert!(is_control_at(b"a\x1fb", 1) && !is_control_at(b"a\xFFb", 1));
            assert_eq!(decode(e, b"a\tb\r").unwrap(), "a\tb\r");
        }
    }

    #[test]
    fn utf8_errors_give_the_byte_offset() {
        assert_eq!(decode(Encoding::Utf8, "Zoë".as_bytes()).unwrap(), "Zoë");
        assert!(looks_like_utf8("Café – NFA".as_bytes()));
        // Cut inside a character at the end of the sample.
        assert!(looks_like_utf8(&"Zoë Zoë".as_bytes()[..8]));
        assert!(!looks_like_utf8(b"Caf\xE9 \x96 NFA"));
        assert!(!looks_like_utf8(b"plain ASCII"));
        assert_eq!(sniff_binary(b"%PDF-1.7"), Some("a PDF document"));
        assert_eq!(sniff_binary(b"LA Code,NHS Number"), None);
        assert_eq!(decode(Encoding::Utf8, b"Zo\xEB").unwrap_err(), 2);
        assert_eq!(decode(Encoding::Utf8, b"\xFFabc").unwrap_err(), 0);
    }
}
