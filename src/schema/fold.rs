//! Label folding: the comparison NHS and council labels need.
//!
//! Suppliers write the same label with different case, runs of spaces (including
//! non-breaking and narrow no-break spaces), line breaks and dash variants
//! (`NFA - Other`, `NFA- Other`, `NFA – Other`). Folding trims, lower-cases, collapses
//! whitespace to one space, maps every dash to `-` and drops spaces next to a dash.

/// Returns the folded form of `s` used for header and label comparison.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for ch in s.chars() {
        if ch.is_whitespace() || ch == '\u{feff}' || ch == '\u{200b}' {
            pending_space = !out.is_empty();
            continue;
        }
        let ch = if is_dash(ch) { '-' } else { ch };
        if ch == '-' {
            // Spaces before a dash are dropped, and so are spaces after it.
            pending_space = false;
            out.push('-');
            continue;
        }
        if pending_space && !out.ends_with('-') {
            out.push(' ');
        }
        pending_space = false;
        out.extend(ch.to_lowercase());
    }
    out
}

fn is_dash(ch: char) -> bool {
    matches!(
        ch,
        '-' | '\u{2010}'
            | '\u{2011}'
            | '\u{2012}'
            | '\u{2013}'
            | '\u{2014}'
            | '\u{2015}'
            | '\u{2212}'
            | '\u{fe58}'
            | '\u{fe63}'
            | '\u{ff0d}'
    )
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn folds_case_whitespace_and_dashes() {
        assert_eq!(fold("  NFA - Other "), "nfa-other");
        assert_eq!(fold("NFA- Other"), "nfa-other");
        assert_eq!(fold("NFA \u{2013} Deceased"), "nfa-deceased");
        assert_eq!(
            fold("Organisation code  Sender of transaction"),
            "organisation code sender of transaction"
        );
        assert_eq!(
            fold("Discharge\u{00a0}from\u{202f}Hospital"),
            "discharge from hospital"
        );
        assert_eq!(fold("Line\r\nbreak"), "line break");
        assert_eq!(fold("\u{feff}EC_Ident"), "ec_ident");
        assert_eq!(fold(""), "");
    }

    #[test]
    fn keeps_meaningful_differences() {
        assert_ne!(fold("Home Support"), fold("Home Supports"));
        assert_ne!(fold("P3"), fold("P3b"));
    }
}
