//! The run's staging folder and the final switch of outputs into place.
//!
//! A run writes everything under `<out>/.staging/<run_id>/`. [`RunDir::commit`] then
//! switches each finished dataset folder into place with one atomic exchange of the two
//! folders, so a reader sees the previous version or the new one, never a mixture, and
//! files already opened stay readable. If the run fails or panics before commit, the
//! staging folder is removed on drop; if it is killed, the next run removes it.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A run's staging area inside the data directory.
#[derive(Debug)]
pub struct RunDir {
    out: PathBuf,
    run_id: String,
    staging: PathBuf,
    done: bool,
    /// Removes the staging folder if a signal stops the process.
    _interrupt: crate::interrupt::StagingGuard,
}

impl RunDir {
    /// Creates `<out>/.staging/<run_id>/`.
    pub fn create(out: &Path, run_id: &str) -> Result<Self> {
        let staging = out.join(".staging").join(run_id);
        let _created = crate::interrupt::creating();
        std::fs::create_dir_all(staging.join("ingest"))
            .map_err(|e| Error::io("creating", &staging, e))?;
        // Person-level rows are written here before they are switched into place.
        close_to_others(&out.join(".staging"));
        Ok(RunDir {
            out: out.to_path_buf(),
            run_id: run_id.to_string(),
            _interrupt: crate::interrupt::StagingGuard::new(staging.clone()),
            staging,
            done: false,
        })
    }

    /// The run id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The data directory.
    pub fn out(&self) -> &Path {
        &self.out
    }

    /// Scratch folder for ingest's staged rows (never published).
    pub fn ingest_dir(&self) -> PathBuf {
        self.staging.join("ingest")
    }

    /// Where an output folder (`restricted/<name>`, …) is built before commit.
    pub fn staged(&self, rel: &str) -> PathBuf {
        self.staging.join("out").join(rel)
    }

    /// Moves each staged output folder into place, then removes the staging folder. No
    /// folder moves before every staged file is on disk ([`super::durable::wait`]).
    pub fn commit(mut self, rels: &[String]) -> Result<()> {
        super::durable::wait()?;
        // A signal waits for the switches; after one, none starts.
        let switching = crate::interrupt::switching();
        if crate::interrupt::interrupted() {
            drop(switching);
            crate::interrupt::wait_for_exit();
        }
        // What was switched, so a failure part-way puts it back: a run that fails leaves
        // the previous outputs as they were, not some datasets new and some old.
        let mut switched: Vec<(PathBuf, PathBuf, bool)> = Vec::new();
        for rel in rels {
            let from = self.staged(rel);
            let to = self.out.join(rel);
            let step = || -> Result<bool> {
                if let Some(parent) = to.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| Error::io("creating", parent, e))?;
                }
                if to.exists() {
                    // Swap the new version in and the old one out in one atomic step; the
                    // old one, now at `from`, is deleted with the staging folder.
                    exchange(&from, &to).map_err(|e| Error::io("publishing", &to, e))?;
                    Ok(true)
                } else {
                    std::fs::rename(&from, &to).map_err(|e| Error::io("publishing", &to, e))?;
                    Ok(false)
                }
            };
            match step() {
                Ok(exchanged) => switched.push((from, to.clone(), exchanged)),
                Err(e) => return Err(put_back(switched, e)),
            }
            sync_dir(to.parent().unwrap_or(&self.out));
            crate::fault::point(&format!("publish_switched_{}", rel.replace('/', "_")));
        }
        self.done = true;
        remove_staging(&self.staging, &self.out);
        Ok(())
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        if !self.done {
            remove_staging(&self.staging, &self.out);
        }
    }
}

/// Undoes the switches made before `error`, last first: an exchanged dataset is exchanged
/// back, a new one moved back into staging. Logs what was put back, or what could not be
/// (then the next run, finding no saved state for this one, redoes it); returns `error`.
fn put_back(switched: Vec<(PathBuf, PathBuf, bool)>, error: Error) -> Error {
    if switched.is_empty() {
        return error;
    }
    let n = switched.len();
    let mut failed = Vec::new();
    for (from, to, exchanged) in switched.into_iter().rev() {
        let undone = if exchanged {
            exchange(&from, &to)
        } else {
            std::fs::rename(&to, &from)
        };
        match undone {
            Ok(()) => sync_dir(to.parent().unwrap_or(&to)),
            Err(e) => failed.push(format!("{}: {e}", to.display())),
        }
    }
    let note = if failed.is_empty() {
        format!("the {n} dataset(s) switched before it were put back as they were")
    } else {
        format!(
            "putting back the datasets switched before it failed ({}); the next run redoes them",
            failed.join("; ")
        )
    };
    tracing::error!(%error, "{note}");
    error
}

/// Atomically exchanges two paths (Linux `renameat2(RENAME_EXCHANGE)`).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    rustix::fs::renameat_with(
        rustix::fs::CWD,
        a,
        rustix::fs::CWD,
        b,
        rustix::fs::RenameFlags::EXCHANGE,
    )
    .map_err(std::io::Error::from)
}

/// Elsewhere: the old version is moved aside, then the new one renamed in (a reader may
/// briefly find the dataset missing, never half-written).
#[cfg(not(target_os = "linux"))]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    let aside = a.with_extension("previous");
    std::fs::rename(b, &aside)?;
    std::fs::rename(a, b)?;
    std::fs::rename(&aside, a)
}

/// The data directory's folders that hold person-level data or its traces: pseudonymised
/// rows (`restricted/`, the ingest cache `.cache/`), quarantined rows (`quarantine/`), and
/// the saved state (`state/`, which keeps each input's path), a run's staging
/// (`.staging/`, its datasets before they are switched into place), and the runs' records
/// (`runs/`: manifests hold exact, unrounded row counts per month of the restricted
/// datasets and quarantine, one row in a month of a small population being one person's
/// event). Others on the machine may not enter them ([`close_to_others`]); `published/`
/// and `report/` keep the umask's modes.
pub const PRIVATE_FOLDERS: [&str; 6] = [
    "restricted",
    "quarantine",
    "state",
    ".cache",
    ".staging",
    "runs",
];

/// Takes every permission of users other than the owner and the group away from `path`,
/// if it exists (`chmod o-rwx`): with the usual umask (022) a folder is created open to
/// every user of the machine. The group's permissions are left as they are, so a group
/// an administrator gave access keeps it.
pub fn close_to_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode();
        if mode & 0o007 != 0 {
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & !0o007));
        }
    }
}

/// [`close_to_others`] for each of the data directory's [`PRIVATE_FOLDERS`] there is.
pub fn close_private_folders(out: &Path) {
    for name in PRIVATE_FOLDERS {
        close_to_others(&out.join(name));
    }
}

/// Removes what runs that were killed left behind (call with the lock held): staging
/// folders, and half-written ingest cache entries.
pub fn remove_stale(out: &Path) {
    let dir = out.join(".staging");
    if dir.exists() {
        tracing::info!(path = %dir.display(), "removing staging left by an interrupted run");
        let _ = std::fs::remove_dir_all(&dir);
    }
    for source in crate::app::ingest_cache_sources(out) {
        for entry in std::fs::read_dir(&source).into_iter().flatten().flatten() {
            if entry.file_name().to_string_lossy().starts_with(".tmp-") {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

fn remove_staging(staging: &Path, out: &Path) {
    if let Err(e) = std::fs::remove_dir_all(staging) {
        tracing::warn!(path = %staging.display(), error = %e, "could not remove the staging folder");
    }
    // Remove `.staging` itself when no other run is using it.
    let _ = std::fs::remove_dir(out.join(".staging"));
}

/// Makes a rename durable (best effort; not all file systems support it).
fn sync_dir(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

/// Writes `bytes` to `path` via a temporary file, fsync and rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
    // A name of its own: two writers of one file (a run's manifest and a signal's record
    // of it) must not rename each other's temporary file away.
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        uuid::Uuid::new_v4().simple()
    ));
    let mut f = std::fs::File::create(&tmp).map_err(|e| Error::io("creating", &tmp, e))?;
    f.write_all(bytes)
        .map_err(|e| Error::io("writing", &tmp, e))?;
    f.sync_all().map_err(|e| Error::io("syncing", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io("renaming into", path, e))?;
    sync_dir(dir);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_replaces_and_drop_discards() {
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("published/x");
        std::fs::create_dir_all(&target).unwrap();
        std::fs::write(target.join("old.parquet"), "old").unwrap();

        // A run that fails leaves the old version.
        {
            let run = RunDir::create(out.path(), "r1").unwrap();
            std::fs::create_dir_all(run.staged("published/x")).unwrap();
            std::fs::write(run.staged("published/x").join("new.parquet"), "new").unwrap();
        }
        assert!(target.join("old.parquet").exists());
        assert!(!out.path().join(".staging").exists());

        // A run that commits replaces it whole.
        let run = RunDir::create(out.path(), "r2").unwrap();
        std::fs::create_dir_all(run.staged("published/x")).unwrap();
        std::fs::write(run.staged("published/x").join("new.parquet"), "new").unwrap();
        run.commit(&["published/x".to_string()]).unwrap();
        assert!(target.join("new.parquet").exists());
        assert!(!target.join("old.parquet").exists());
        assert!(!out.path().join(".staging").exists());
    }
}
