//! Making written files durable without making their writer wait.
//!
//! Every staged output file must be on disk before the run switches its folder into
//! place. Syncing each file as it is written made the thread that wrote it wait for the
//! disk (about 0.75 ms a file on the benchmark machine, far more on network storage),
//! hundreds of times a run, while it could have been serialising the next month. Files
//! are instead handed to [`sync_later`], synced by a few background threads, and
//! [`wait`] (called by [`super::staging::RunDir::commit`] before the first switch)
//! returns once every handed file is synced, or the first failure.

use std::fs::File;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};

use crate::error::{Error, Result};

/// Syncs in flight at once: a disk queue serves several better than one.
const THREADS: usize = 4;

/// Background sync threads, the files handed to them and not yet synced, and failures.
struct Syncer {
    queue: Mutex<Sender<(File, PathBuf)>>,
    state: Arc<(Mutex<State>, Condvar)>,
}

#[derive(Default)]
struct State {
    pending: usize,
    failures: Vec<(PathBuf, std::io::Error)>,
}

impl Syncer {
    fn new() -> Self {
        let (send, receive) = channel::<(File, PathBuf)>();
        let receive = Arc::new(Mutex::new(receive));
        let state: Arc<(Mutex<State>, Condvar)> = Arc::default();
        for n in 0..THREADS {
            let (receive, state) = (Arc::clone(&receive), Arc::clone(&state));
            let spawned = std::thread::Builder::new()
                .name(format!("joinedup-sync-{n}"))
                .spawn(move || work(&receive, &state));
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "could not start a file-sync thread");
            }
        }
        Syncer {
            queue: Mutex::new(send),
            state,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn sync_later(&self, file: File, path: PathBuf) -> Result<()> {
        self.state().pending += 1;
        let refused = self
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send((file, path));
        let Err(refused) = refused else {
            return Ok(());
        };
        // No sync thread is running: undo the count and sync here.
        self.state().pending -= 1;
        let (file, path) = refused.0;
        file.sync_all().map_err(|e| Error::io("syncing", &path, e))
    }

    fn wait(&self) -> Result<()> {
        let mut state = self.state();
        while state.pending > 0 {
            state = self
                .state
                .1
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        let failures = std::mem::take(&mut state.failures);
        for (path, e) in &failures {
            tracing::error!(path = %path.display(), error = %e, "a written file could not be synced to disk");
        }
        match failures.into_iter().next() {
            Some((path, e)) => Err(Error::io("syncing", &path, e)),
            None => Ok(()),
        }
    }
}

fn work(receive: &Mutex<Receiver<(File, PathBuf)>>, state: &(Mutex<State>, Condvar)) {
    loop {
        let next = receive
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .recv();
        let Ok((file, path)) = next else { return };
        let outcome = file.sync_all();
        drop(file);
        let (lock, done) = state;
        let mut s = lock.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = outcome {
            s.failures.push((path, e));
        }
        s.pending -= 1;
        if s.pending == 0 {
            done.notify_all();
        }
    }
}

/// The process's syncer, started at first use.
fn syncer() -> &'static Syncer {
    static SYNCER: OnceLock<Syncer> = OnceLock::new();
    SYNCER.get_or_init(Syncer::new)
}

/// Syncs `file` (written at `path`) to disk in the background; [`wait`] reports failures.
/// When no background thread can take it, it is synced here and now.
pub fn sync_later(file: File, path: PathBuf) -> Result<()> {
    syncer().sync_later(file, path)
}

/// Waits until every file handed to [`sync_later`] so far is on disk; the first failure
/// (all are logged) is an error naming its file.
pub fn wait() -> Result<()> {
    syncer().wait()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_returns_once_every_handed_file_is_synced() {
        let syncer = Syncer::new();
        let dir = tempfile::tempdir().unwrap();
        for i in 0..20 {
            let path = dir.path().join(format!("{i}.txt"));
            std::fs::write(&path, format!("{i}")).unwrap();
            syncer.sync_later(File::open(&path).unwrap(), path).unwrap();
        }
        syncer.wait().unwrap();
        assert_eq!(syncer.state().pending, 0);
    }

    #[test]
    fn a_file_that_cannot_be_synced_fails_the_wait_naming_it_once() {
        let syncer = Syncer::new();
        // fsync of /dev/null fails (EINVAL or EBADF, by kernel).
        let null = PathBuf::from("/dev/null");
        syncer
            .sync_later(File::open(&null).unwrap(), null.clone())
            .unwrap();
        let err = syncer.wait().unwrap_err().to_string();
        assert!(err.contains("/dev/null"), "{err}");
        // Reported once: the next wait has nothing left to report.
        syncer.wait().unwrap();
    }
}
