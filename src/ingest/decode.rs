//! Byte-order marks and per-field decoding (UTF-8 or Windows-1252).
//!
//! Fields are decoded one at a time, so a bad byte costs one row (quarantined with its
//! offset), not the file. Windows-1252 can decode every byte; UTF-8 can fail.

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

/// Decodes a field; on failure returns the offset of the first invalid byte in the field.
pub fn decode(encoding: Encoding, bytes: &[u8]) -> Result<Cow<'_, str>, usize> {
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
    fn utf8_errors_give_the_byte_offset() {
        assert_eq!(decode(Encoding::Utf8, "Zoë".as_bytes()).unwrap(), "Zoë");
        assert_eq!(decode(Encoding::Utf8, b"Zo\xEB").unwrap_err(), 2);
        assert_eq!(decode(Encoding::Utf8, b"\xFFabc").unwrap_err(), 0);
    }
}
