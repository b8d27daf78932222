//! A `string` column's declared shape (`pattern` in a source contract): a regular
//! expression that must match a whole value.
//!
//! Checked on every accepted value that is not a repeat of the one before (an id on
//! every row), so it is on ingest's hot path: a pattern is compiled to a dense DFA and a
//! value is matched by one table step per byte, without the general engine's search set
//! up (`regex::Regex::is_match` cost ~10 % of ingest's CPU on the synthetic extracts). A
//! pattern whose DFA would be large (wide Unicode classes) is matched by `regex`.

use regex_automata::dfa::{Automaton, dense};
use regex_automata::{Anchored, Input};

/// Largest DFA built for a pattern, in bytes; a larger one is matched by `regex`.
const DFA_BYTES: usize = 1 << 20;

/// A `string` column's declared shape.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// As written in the contract (shown in quarantine details).
    pub text: String,
    /// `^(?:text)$`.
    regex: regex::Regex,
    /// The same, as a DFA, when small enough.
    dfa: Option<dense::DFA<Vec<u32>>>,
}

impl Pattern {
    /// Compiles `text` to match whole values; the error is the regex crate's first line.
    pub fn new(text: &str) -> Result<Self, String> {
        let first_line = |e: regex::Error| {
            e.to_string()
                .lines()
                .rfind(|l| l.starts_with("error:"))
                .map(|l| l.trim_start_matches("error:").trim().to_string())
                .unwrap_or_else(|| e.to_string())
        };
        // A whole expression of its own: `0)|(1` would otherwise close the wrapping
        // group and mean "starts with 0 or ends with 1" (and the DFA another thing).
        regex::Regex::new(text).map_err(first_line)?;
        let whole = format!("^(?:{text})$");
        let regex = regex::Regex::new(&whole).map_err(first_line)?;
        let dfa = dense::Builder::new()
            .configure(
                dense::Config::new()
                    .dfa_size_limit(Some(DFA_BYTES))
                    .determinize_size_limit(Some(DFA_BYTES))
                    .start_kind(regex_automata::dfa::StartKind::Anchored),
            )
            .build(&whole)
            .ok();
        Ok(Pattern {
            text: text.to_string(),
            regex,
            dfa,
        })
    }

    /// Whether the whole of `value` has the shape.
    pub fn matches(&self, value: &str) -> bool {
        let Some(dfa) = &self.dfa else {
            return self.regex.is_match(value);
        };
        let input = Input::new(value).anchored(Anchored::Yes);
        let Ok(mut state) = dfa.start_state_forward(&input) else {
            return self.regex.is_match(value);
        };
        for &b in value.as_bytes() {
            state = dfa.next_state(state, b);
            if dfa.is_dead_state(state) {
                return false;
            }
        }
        dfa.is_match_state(dfa.next_eoi_state(state))
    }

    /// Whether values are matched by the DFA (false: by `regex`).
    #[cfg(test)]
    fn uses_dfa(&self) -> bool {
        self.dfa.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The DFA gives the same answer as the regex it stands for, on the contracts'
    /// patterns and on values around their edges.
    #[test]
    fn the_dfa_answers_as_the_regex_does() {
        let patterns = [
            "[A-Za-z0-9/_.-]*[0-9][A-Za-z0-9/_.-]*",
            "[A-Z0-9]{3,6}",
            "[A-Z0-9]{3,9}",
            "[0-9]",
            "[0-9]{2}",
            "[0-9]{3}",
            "R[0-9]+|X",
            "a|ab",
            "",
        ];
        let values = [
            "",
            "0",
            "00",
            "000",
            "0000",
            "A",
            "AB1",
            "RXX",
            "RX1",
            "RX1AB",
            "RX1ABCD",
            "RX1ABCDEFG",
            "ab",
            "a",
            "abc",
            "X",
            "R",
            "R0",
            "R01X",
            "12/ab_3.x-",
            "abc/_.-",
            "é1",
            "1é",
            " 1",
            "1 ",
            "1\n",
            "\n1",
            "A-1",
            "rx1",
        ];
        for p in patterns {
            let pattern = Pattern::new(p).unwrap();
            assert!(pattern.uses_dfa(), "{p}");
            let regex = regex::Regex::new(&format!("^(?:{p})$")).unwrap();
            for v in values {
                assert_eq!(pattern.matches(v), regex.is_match(v), "{p:?} on {v:?}");
            }
        }
    }

    #[test]
    fn whole_values_only() {
        let p = Pattern::new("[A-Z0-9]{3,6}").unwrap();
        assert!(p.matches("RX1"));
        assert!(p.matches("RX1ABC"));
        assert!(!p.matches("RX"));
        assert!(!p.matches("RX1ABCD"));
        assert!(!p.matches("xRX1"));
        assert!(!p.matches("RX1\n"));
    }

    /// A pattern whose DFA would be too large is matched by the regex, with the same
    /// answers.
    #[test]
    fn a_pattern_too_large_for_a_dfa_is_matched_by_the_regex() {
        let p = Pattern::new(r"\w{200}").unwrap();
        assert!(!p.uses_dfa());
        assert!(p.matches(&"é".repeat(200)));
        assert!(!p.matches(&"é".repeat(199)));
    }

    #[test]
    fn an_invalid_pattern_names_the_error() {
        let e = Pattern::new("[A-Z").unwrap_err();
        assert_eq!(e, "unclosed character class");
    }

    /// Regression (code review): `0)|(1` closed the group the pattern is wrapped in,
    /// so the regex read "starts with 0 or ends with 1" while the DFA refused "01": a
    /// pattern must be a whole expression on its own.
    #[test]
    fn regression_a_pattern_that_breaks_out_of_its_group_is_refused() {
        let e = Pattern::new("0)|(1").unwrap_err();
        assert_eq!(e, "unopened group");
    }
}
