//! Reading settings and secrets named in the pipeline. Values are never logged: errors
//! name the variable or file, never the content.

use crate::config::fetch::{Secret, Setting};

/// Reads a setting (literal or environment variable).
pub fn setting(s: &Setting) -> Result<String, String> {
    match s {
        Setting::Literal(v) => Ok(v.clone()),
        Setting::Env(var) => std::env::var(var)
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("environment variable {var} is not set")),
    }
}

/// Reads a secret (environment variable or file; a file's trailing newline is dropped).
pub fn secret(s: &Secret) -> Result<String, String> {
    match s {
        Secret::Env(var) => std::env::var(var)
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("environment variable {var} is not set")),
        Secret::File(path) => std::fs::read_to_string(path)
            .map(|v| v.trim_end_matches(['\n', '\r']).to_string())
            .map_err(|e| format!("cannot read secret file {}: {e}", path.display())),
    }
}
