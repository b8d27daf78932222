//! Top-level error type and the documented process exit codes.
//!
//! Library code returns [`Error`]; the binary maps it to an [`ExitCode`] once, in `main.rs`.
//! Variants are split by who is at fault: the configuration, an input file, an
//! unavailable source, or joinedup itself (a bug).

use std::path::PathBuf;

use crate::config::ConfigErrors;

/// Documented exit codes (see README "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    /// The run completed; every row was published or quarantined.
    Ok = 0,
    /// The run completed, but a source quarantined more rows than its threshold allows.
    DataQuality = 1,
    /// The pipeline, a contract, mapping or the command line is wrong, or a folder cannot
    /// be written for want of permission; nothing was read.
    Config = 2,
    /// An input file breaks its contract as a whole (missing column, not decodable); nothing was written.
    InputRejected = 3,
    /// A source could not be read (missing file or folder, permission denied).
    SourceUnavailable = 4,
    /// A bug or an environment failure (disk full, writing outputs failed).
    Internal = 5,
    /// Another run holds the data directory's lock; nothing was done.
    Busy = 6,
}

/// An error and every cause under it, as one line (`a: b: c`): library errors such as
/// reqwest's keep the useful part (connection refused, the TLS failure) in their sources.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

/// Where in an input file something went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The input file.
    pub file: PathBuf,
    /// 1-based line number in the file, when known.
    pub line: Option<u64>,
    /// The column (header as found in the file), when known.
    pub column: Option<String>,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // An input named after its patient keeps the number out of the message.
        write!(f, "{}", crate::ingest::quarantine::shown_path(&self.file))?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(column) = &self.column {
            write!(f, " column \"{column}\"")?;
        }
        Ok(())
    }
}

/// Everything that can stop a joinedup command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One or more configuration errors, all reported together.
    #[error("{0}")]
    Config(ConfigErrors),
    /// A command-line value that cannot be used (a data directory that is a file, say).
    #[error("{0}")]
    Usage(String),
    /// An input file cannot be processed at all.
    #[error("{location}: {message}")]
    InputRejected {
        /// Where.
        location: Location,
        /// What is wrong, and what was found instead.
        message: String,
    },
    /// A source is missing or unreadable.
    #[error("source `{source_name}`: {message}")]
    SourceUnavailable {
        /// The source name in the pipeline.
        source_name: String,
        /// What failed.
        message: String,
    },
    /// Several sources are missing or unreadable: every one named, each with its path and
    /// reason ([`Error::SourceUnavailable`] each), so one run or `validate` says all that
    /// needs fixing. Made by [`Error::unavailable`].
    #[error("{} sources are unavailable: {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    SourcesUnavailable(Vec<Error>),
    /// Reading or writing a file failed.
    #[error("{action} {}", path.display())]
    Io {
        /// What joinedup was doing.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The data engine failed.
    #[error("{context}")]
    Engine {
        /// What joinedup was doing.
        context: String,
        /// The underlying polars error.
        #[source]
        source: polars::error::PolarsError,
    },
    /// An invariant did not hold: a bug in joinedup.
    #[error("internal error (a bug, please report it): {0}")]
    Internal(String),
    /// Another joinedup process is running on the same data directory.
    #[error("another joinedup run holds {}; try again when it has finished", lock.display())]
    Busy {
        /// The lock file.
        lock: PathBuf,
    },
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Config(_) | Error::Usage(_) => ExitCode::Config,
            Error::InputRejected { .. } => ExitCode::InputRejected,
            Error::SourceUnavailable { .. } | Error::SourcesUnavailable(_) => {
                ExitCode::SourceUnavailable
            }
            // A folder joinedup may not write (an --out on a read-only share, owned by
            // another user), or a file where it keeps a folder (or the reverse), is the
            // operator's setting to fix, not a fault.
            Error::Io { source, .. }
                if matches!(
                    source.kind(),
                    std::io::ErrorKind::PermissionDenied
                        | std::io::ErrorKind::ReadOnlyFilesystem
                        | std::io::ErrorKind::NotADirectory
                        | std::io::ErrorKind::IsADirectory
                        | std::io::ErrorKind::AlreadyExists
                ) =>
            {
                ExitCode::Config
            }
            Error::Io { .. } | Error::Engine { .. } | Error::Internal(_) => ExitCode::Internal,
            Error::Busy { .. } => ExitCode::Busy,
        }
    }

    /// One error for the sources found unavailable (each an [`Error::SourceUnavailable`],
    /// in the pipeline's order): `None` when there are none, the error itself when there
    /// is one, else [`Error::SourcesUnavailable`] naming them all.
    pub fn unavailable(mut errors: Vec<Error>) -> Option<Error> {
        match errors.len() {
            0 => None,
            1 => errors.pop(),
            _ => Some(Error::SourcesUnavailable(errors)),
        }
    }

    /// Gathers the sources found unavailable while the others are listed
    /// ([`Unavailable`]).
    pub fn gather_unavailable() -> Unavailable {
        Unavailable(Vec::new())
    }

    /// Shorthand for an [`Error::Io`].
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// Shorthand for an [`Error::Engine`].
    pub fn engine(context: impl Into<String>, source: polars::error::PolarsError) -> Self {
        Error::Engine {
            context: context.into(),
            source,
        }
    }
}

/// Sources found unavailable while the others are still listed, so that one error names
/// them all ([`Error::unavailable`]).
pub struct Unavailable(Vec<Error>);

impl Unavailable {
    /// `r`'s value; a source's being unavailable kept for [`Unavailable::check`]
    /// (`None`); any other error returned at once (this machine's, not the source's).
    pub fn keep<T>(&mut self, r: Result<T>) -> Result<Option<T>> {
        match r {
            Ok(v) => Ok(Some(v)),
            Err(e @ Error::SourceUnavailable { .. }) => {
                self.0.push(e);
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Ok when every source was available so far, else one error naming each that was
    /// not (and none kept after).
    pub fn check(&mut self) -> Result<()> {
        match Error::unavailable(std::mem::take(&mut self.0)) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Result alias for the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (review): a pipeline with two unavailable sources named only the first
    /// (exit 4), so an operator fixed one path, ran again and only then learnt of the
    /// other. The sources found unavailable are one error naming each, still exit 4.
    #[test]
    fn regression_every_unavailable_source_is_named_in_one_error() {
        let gone = |name: &str, path: &str| Error::SourceUnavailable {
            source_name: name.to_string(),
            message: format!("cannot open {path}: No such file or directory (os error 2)"),
        };
        assert!(Error::unavailable(Vec::new()).is_none());
        let one = Error::unavailable(vec![gone("apc", "p1/data/apcx")]).unwrap();
        assert!(matches!(one, Error::SourceUnavailable { .. }));
        assert_eq!(
            one.to_string(),
            "source `apc`: cannot open p1/data/apcx: No such file or directory (os error 2)"
        );
        let two = Error::unavailable(vec![
            gone("apc", "p1/data/apcx"),
            gone("cld", "p1/data/cldx"),
        ])
        .unwrap();
        assert_eq!(two.exit_code(), ExitCode::SourceUnavailable);
        assert_eq!(
            two.to_string(),
            "2 sources are unavailable: source `apc`: cannot open p1/data/apcx: No such file or directory (os error 2); source `cld`: cannot open p1/data/cldx: No such file or directory (os error 2)"
        );
    }

    /// Regression (found by a review, as a non-root user): `--out` on a read-only folder
    /// exited 5, "internal error", where a folder that could not be created exited 2.
    #[test]
    fn a_folder_joinedup_may_not_write_is_exit_2_and_other_io_errors_exit_5() {
        let io = |kind| Error::io("opening", "/data/.lock", std::io::Error::from(kind));
        assert_eq!(
            io(std::io::ErrorKind::PermissionDenied).exit_code(),
            ExitCode::Config
        );
        assert_eq!(
            io(std::io::ErrorKind::ReadOnlyFilesystem).exit_code(),
            ExitCode::Config
        );
        assert_eq!(
            io(std::io::ErrorKind::StorageFull).exit_code(),
            ExitCode::Internal
        );
        assert_eq!(
            io(std::io::ErrorKind::Other).exit_code(),
            ExitCode::Internal
        );
    }
}
