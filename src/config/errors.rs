//! Configuration errors, collected rather than returned one at a time.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConfigError {
    /// The file the problem is in.
    pub file: PathBuf,
    /// The TOML key path, e.g. `sources.apc.contract` (empty for whole-file problems).
    pub key: String,
    /// What is wrong, including the valid alternatives where there are any.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}: {}: {}", self.file.display(), self.key, self.message)
        }
    }
}

/// Every configuration problem found in one check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// Records a problem.
    pub fn push(&mut self, file: &Path, key: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigError {
            file: file.to_path_buf(),
            key: key.into(),
            message: message.into(),
        });
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of problems.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Without repeats: the same problem found twice (a mapping two sources share, an
    /// option given twice) is reported once.
    pub(crate) fn deduplicated(mut self) -> Self {
        let mut seen = std::collections::HashSet::new();
        self.0.retain(|e| seen.insert(e.clone()));
        self
    }

    /// Drops the problems after the first `from` that are in `file` under one of the key
    /// paths in `blanked`, or at the table holding one: a value set aside for an error of
    /// its own and then checked as its default would be reported twice, the second time
    /// wrongly (`demo_key = 3` set aside, `[pseudonymisation]` would have no key).
    pub(crate) fn drop_follow_ons(&mut self, from: usize, file: &Path, blanked: &[String]) {
        let under = |key: &str| {
            blanked.iter().any(|b| {
                !b.is_empty()
                    && (key == b
                        || key
                            .strip_prefix(b.as_str())
                            .is_some_and(|r| r.starts_with('.'))
                        || b.rsplit_once('.').is_some_and(|(table, _)| table == key))
            })
        };
        let mut i = 0;
        self.0.retain(|e| {
            i += 1;
            i <= from || e.file != file || !under(&e.key)
        });
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(
            f,
            "{n} configuration error{} found:",
            if n == 1 { "" } else { "s" }
        )?;
        for (i, e) in self.0.iter().enumerate() {
            if i + 1 == n {
                write!(f, "  - {e}")?;
            } else {
                writeln!(f, "  - {e}")?;
            }
        }
        Ok(())
    }
}

/// Formats a list of valid alternatives for an error message.
pub(crate) fn alternatives<I, S>(items: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let v: Vec<String> = items
        .into_iter()
        .map(|s| format!("\"{}\"", s.as_ref()))
        .collect();
    if v.is_empty() {
        "there are none".to_string()
    } else {
        format!("valid values are {}", v.join(", "))
    }
}

/// [`alternatives`] naming the first `at_most` of `items` and counting the rest:
/// `valid values are "A", "B" and 14 more`.
pub(crate) fn first_alternatives<I, S>(items: I, at_most: usize) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let all: Vec<S> = items.into_iter().collect();
    let shown = alternatives(all.iter().take(at_most));
    match all.len().saturating_sub(at_most) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_alternatives_are_named_and_the_rest_counted() {
        assert_eq!(
            first_alternatives(["a", "b", "c"], 2),
            "valid values are \"a\", \"b\" and 1 more"
        );
        assert_eq!(
            first_alternatives(["a", "b"], 2),
            "valid values are \"a\", \"b\""
        );
        assert_eq!(first_alternatives(Vec::<&str>::new(), 2), "there are none");
    }
}
