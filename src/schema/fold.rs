//! Label folding: the comparison NHS and council labels need.
//!
//! Suppliers write the same label with different case, runs of spaces (including
//! non-breaking and narrow no-break spaces), line breaks and dash variants
//! (`NFA - Other`, `NFA- Other`, `NFA – Other`), and space a colon or a slash as they
//! like (`Long Term Support: Community`, `Long Term Support:Community`). Folding trims,
//! lower-cases, collapses whitespace to one space, maps every dash to `-` and drops
//! spaces next to a dash, a colon or a slash.

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
        if is_joiner(ch) {
            // Spaces before a dash, colon or slash are dropped, and so are spaces after it.
            pending_space = false;
            out.push(ch);
            continue;
        }
        if pending_space && !out.ends_with(is_joiner) {
            out.push(' ');
        }
        pending_space = false;
        out.extend(ch.to_lowercase());
    }
    out
}

/// Punctuation that joins the words either side of it, spaced or not.
fn is_joiner(ch: char) -> bool {
    matches!(ch, '-' | ':' | '/')
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

    /// Regression (review): `Long Term Support:Community` was an unknown code in a list
    /// holding `Long Term Support: Community` (spaces were dropped only around dashes).
    #[test]
    fn regression_spaces_around_a_colon_or_a_slash_are_dropped() {
        let listed = fold("Long Term Support: Community");
        assert_eq!(listed, "long term support:community");
        assert_eq!(fold("Long Term Support:Community"), listed);
        assert_eq!(fold("Long Term Support : Community"), listed);
        assert_eq!(
            fold("Physical Support / Personal care"),
            fold("Physical Support/Personal care")
        );
        assert_ne!(fold("Support: Community"), fold("Support Community"));
    }

    #[test]
    fn keeps_meaningful_differences() {
        assert_ne!(fold("Home Support"), fold("Home Supports"));
        assert_ne!(fold("P3"), fold("P3b"));
    }
}
