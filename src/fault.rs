//! Fault injection for crash and concurrency tests.
//!
//! - `JOINEDUP_FAULT=<point>` aborts the process at that named point, as a crash or a
//!   `kill -9` would, so tests can prove every point leaves the data directory
//!   recoverable.
//! - `JOINEDUP_FAULT=sleep:<point>:<milliseconds>` pauses there instead, so a test can
//!   hold a run at a known place (e.g. to start a second run against the same lock). A
//!   pause is announced on stderr (`joinedup: fault: pausing at <point>`).
//! - `JOINEDUP_FAULT=enospc:<point>` makes an I/O point ([`io`]) fail as a full disk
//!   does (`No space left on device (os error 28)`), so tests can prove a failure of this
//!   machine is reported as one.
//! - `JOINEDUP_FAULT=flag:<name>` turns on a named misbehaviour ([`flag`]), so tests can
//!   prove a check catches what cannot otherwise happen (`rows_in_miscounted`: a row
//!   counted in that is neither accepted nor quarantined).
//! - Several, comma-separated, arm several points.
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

/// Aborts (or pauses) the process if `JOINEDUP_FAULT` names this point.
pub fn point(name: &str) {
    let Some(faults) = armed() else { return };
    for fault in faults.split(',') {
        if fault == name {
            eprintln!("joinedup: fault injected at {name}: aborting");
            std::process::abort();
        }
        if let Some(rest) = fault.strip_prefix("sleep:")
            && let Some((at, ms)) = rest.rsplit_once(':')
            && at == name
        {
            eprintln!("joinedup: fault: pausing at {name}");
            std::thread::sleep(std::time::Duration::from_millis(ms.parse().unwrap_or(0)));
        }
    }
}

/// At an I/O point: the error a full disk gives if `JOINEDUP_FAULT` names
/// `enospc:<name>`, else `Ok`.
pub fn io(name: &str) -> std::io::Result<()> {
    let Some(faults) = armed() else {
        return Ok(());
    };
    if faults
        .split(',')
        .any(|f| f.strip_prefix("enospc:") == Some(name))
    {
        // ENOSPC, as the OS gives it (28 on Linux and macOS).
        return Err(std::io::Error::from_raw_os_error(28));
    }
    Ok(())
}

/// Whether `JOINEDUP_FAULT` turns on the misbehaviour `flag:<name>`.
pub fn flag(name: &str) -> bool {
    armed().is_some_and(|faults| {
        faults
            .split(',')
            .any(|f| f.strip_prefix("flag:") == Some(name))
    })
}
