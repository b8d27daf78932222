//! What a local folder source makes of one entry of its folder: a file to read, an entry
//! its pattern does not match (passed over), or one it matches but will not read, with
//! why (a run warning names it).
//!
//! Only regular files are read: a FIFO, a device or a symbolic link to one would hang the
//! run or feed it endless bytes, a directory has no rows. A symbolic link is followed
//! only to a file inside the source's folder unless the source says
//! `follow_links_outside = true` (a link planted to `/etc/passwd` failed the whole
//! nightly run; one to `/proc/kmsg` hung it). A link whose target is gone (an unmounted
//! share) is named, and told apart from a file removed ([`Entry::Refused::broken`]).
//!
//! A name that is not UTF-8 is matched and shown as a drop folder's is, with its other
//! bytes as `%XX` and `%` as `%25` ([`super::file_drop::shown_name`]), and read by its
//! real path: it was passed over, said to "match no pattern".

use std::path::{Path, PathBuf};

/// One entry of a source's folder.
#[derive(Debug)]
pub enum Entry {
    /// A regular file the pattern matches: read.
    Read(PathBuf),
    /// A hidden or lock file, or one the pattern does not match.
    Skip,
    /// Matched by the pattern but not read.
    Refused {
        /// The entry as messages show it (NHS numbers withheld, escaped).
        shown: String,
        /// Why it is not read.
        why: String,
        /// A symbolic link not followed (its target cannot be reached, is outside the
        /// folder, or is not a file): a file that was read may be behind it, so its
        /// absence is not a removal.
        broken: bool,
    },
}

/// The kind of a file that is not a regular file, in words.
fn kind(t: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a folder"
    } else {
        "not a regular file"
    }
}

/// Classifies `entry` of the folder whose canonical path is `folder` for a source
/// matching `pattern`.
pub fn classify(
    folder: &Path,
    entry: &std::fs::DirEntry,
    pattern: &str,
    follow_links_outside: bool,
) -> Entry {
    let os_name = entry.file_name();
    let (shown_name, _) = super::file_drop::shown_name(&os_name);
    let matched = super::file_drop::matched_name(&shown_name, &os_name);
    if super::local::is_hidden_or_lock(&matched) || !super::wildcard_match(pattern, &matched) {
        return Entry::Skip;
    }
    let path = entry.path();
    let shown = format!(
        "{}/{}",
        crate::ingest::quarantine::shown_path(folder),
        crate::ingest::quarantine::mask_file_name(&shown_name)
    );
    let refused = |why: String, broken: bool| Entry::Refused {
        shown: shown.clone(),
        why,
        broken,
    };
    let link = entry.file_type().is_ok_and(|t| t.is_symlink());
    if link {
        match std::fs::canonicalize(&path) {
            Err(e) => {
                return refused(
                    format!(
                        "is a symbolic link whose target cannot be reached ({e}; is a share unmounted?)"
                    ),
                    true,
                );
            }
            Ok(target) if !follow_links_outside && !target.starts_with(folder) => {
                return refused(
                    format!(
                        "is a symbolic link to {}, outside the source's folder, which is not followed (set follow_links_outside = true under the source to read it)",
                        crate::ingest::quarantine::shown_path(&target)
                    ),
                    true,
                );
            }
            Ok(_) => {}
        }
    }
    match std::fs::metadata(&path) {
        Ok(m) if m.is_file() => Entry::Read(path),
        Ok(m) => refused(
            format!(
                "is {}{}, not a file",
                if link { "a symbolic link to " } else { "" },
                kind(m.file_type())
            ),
            link,
        ),
        Err(e) => refused(format!("cannot be read: {e}"), link),
    }
}

/// The warning for an entry refused.
pub fn warning(source: &str, shown: &str, why: &str) -> String {
    format!("source {source}: {shown} matches its pattern but {why}: it is not read")
}
