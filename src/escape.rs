//! Control characters shown as escapes in text output. A file name may hold anything
//! but `/` and NUL: a line break and a forged `INFO run finished exit_code=0` line, an
//! ANSI sequence that clears the terminal, a right-to-left override that reverses what
//! follows. Names are escaped where they are shown ([`crate::ingest::quarantine::mask_file_name`]),
//! and the text log ([`crate::telemetry`]) and standard output (the binary's `write_out`)
//! escape whatever else reaches them, keeping only their own line structure.
//!
//! Escaped: C0 controls (`\n`, `\r`, `\t`, else `\x1b`), DEL (`\x7f`), C1 controls
//! (`\u{85}`), the Unicode line and paragraph separators and the bidirectional
//! formatting characters (`\u{202e}`).

use std::borrow::Cow;
use std::fmt::Write;

/// What [`escape`] leaves as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct Keep {
    /// Line breaks and tabs (a multi-line message or table of the program's own).
    pub layout: bool,
    /// ANSI colour sequences (`ESC [ digits;… m`): a log line's own colours on a terminal.
    pub colours: bool,
}

/// Whether `c` is shown escaped.
pub fn is_escaped(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The length of an ANSI colour sequence (`ESC [ [0-9;]* m`) at the start of `s`.
fn colour_len(s: &str) -> Option<usize> {
    let rest = s.strip_prefix("\u{1b}[")?;
    let body = rest
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b';')
        .count();
    (rest.as_bytes().get(body) == Some(&b'm')).then_some(2 + body + 1)
}

/// `text` with every control, separator and bidirectional formatting character written
/// as an escape, but those `keep` keeps. Borrowed when there is none.
pub fn escape(text: &str, keep: Keep) -> Cow<'_, str> {
    if !text.chars().any(is_escaped) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if keep.colours
            && let Some(n) = colour_len(rest)
        {
            out.push_str(&rest[..n]);
            rest = &rest[n..];
            continue;
        }
        match c {
            '\n' | '\t' if keep.layout => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c <= '\u{7f}' && is_escaped(c) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_escaped(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    Cow::Owned(out)
}

/// A name or value shown on one line: every control character escaped.
pub fn one_line(text: &str) -> Cow<'_, str> {
    escape(text, Keep::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (review F10): a file name holding a forged log line, a JSON event and
    /// ANSI escapes reached the text log and standard output raw.
    #[test]
    fn control_characters_are_shown_as_escapes() {
        let name = "cld_x\n2026-11-28T04:00:00Z  INFO run finished exit_code=0\r{\"a\":1}\u{1b}[2J\u{1b}[31m\u{7f}\u{85}\u{202e}gpj.csv";
        assert_eq!(
            one_line(name),
            "cld_x\\n2026-11-28T04:00:00Z  INFO run finished exit_code=0\\r{\"a\":1}\\x1b[2J\\x1b[31m\\x7f\\u{85}\\u{202e}gpj.csv"
        );
        assert!(matches!(one_line("plain é name.csv"), Cow::Borrowed(_)));
        // The program's own layout and colours kept when asked, an injected clear not.
        let keep = Keep {
            layout: true,
            colours: true,
        };
        assert_eq!(
            escape("\u{1b}[2mtime\u{1b}[0m a\tb\n\u{1b}[2Jx\u{1b}[31", keep),
            "\u{1b}[2mtime\u{1b}[0m a\tb\n\\x1b[2Jx\\x1b[31"
        );
    }
}
