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

/// Reads a secret (environment variable or file). A final line break is dropped from
/// either, so a secret mounted with one reads the same from both.
pub fn secret(s: &Secret) -> Result<String, String> {
    let value = match s {
        Secret::Env(var) => {
            std::env::var(var).map_err(|_| format!("environment variable {var} is not set"))?
        }
        Secret::File(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read secret file {}: {e}", path.display()))?,
    };
    let value = value.trim_end_matches(['\n', '\r']).to_string();
    if value.is_empty() {
        return Err(match s {
            Secret::Env(var) => format!("environment variable {var} is empty"),
            Secret::File(path) => format!("secret file {} is empty", path.display()),
        });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regression_a_secret_file_and_an_empty_one() {
        // The environment kept a final newline that a file lost; the same rule for both now
        // (the environment is not set in tests: unsafe in this crate).
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("password");
        std::fs::write(&file, "s3cret\r\n").unwrap();
        assert_eq!(secret(&Secret::File(file.clone())).unwrap(), "s3cret");
        std::fs::write(&file, "\n").unwrap();
        assert!(
            secret(&Secret::File(file))
                .unwrap_err()
                .ends_with("password is empty")
        );
        assert_eq!(
            secret(&Secret::Env("JOINEDUP_TEST_NEVER_SET".into())).unwrap_err(),
            "environment variable JOINEDUP_TEST_NEVER_SET is not set"
        );
    }
}
