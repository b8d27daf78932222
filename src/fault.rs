//! Fault injection for crash tests: `JOINEDUP_FAULT=<point>` makes the process abort at
//! that named point, as a crash or a `kill -9` would, so tests can prove that every
//! point leaves the data directory recoverable.
//!
//! Points are plain strings at the call sites (`grep fault::point src`). In normal runs
//! the variable is unset and a point costs one cached lookup.

use std::sync::OnceLock;

fn armed() -> Option<&'static str> {
    static FAULT: OnceLock<Option<String>> = OnceLock::new();
    FAULT
        .get_or_init(|| {
            std::env::var("JOINEDUP_FAULT")
                .ok()
                .filter(|v| !v.is_empty())
        })
        .as_deref()
}

/// Aborts the process if `JOINEDUP_FAULT` names this point.
pub fn point(name: &str) {
    if armed() == Some(name) {
        eprintln!("joinedup: fault injected at {name}: aborting");
        std::process::abort();
    }
}
