//! SIGINT, SIGTERM and SIGHUP: a run stopped by a person (Ctrl-C), a scheduler (a
//! timeout, a systemd stop) or a closed terminal (an SSH session dropped) says so in its
//! log, leaves no staging folder behind and exits 130, 143 or 129, the shell's codes for
//! those signals. SIGHUP is handled only when it was not ignored at start (`nohup`, a
//! service manager): a handler would replace the ignoring, and a run started to outlive
//! its terminal would stop when it closed.
//!
//! A signal thread does the work while the run's threads go on: it marks the process
//! interrupted, waits for any switch of datasets into place to finish (a dataset is never
//! switched half-deleted: [`RunDir::commit`](crate::publish::staging::RunDir::commit)
//! switches under [`switching`] and stops when interrupted), waits for files being
//! created under staging ([`creating`]; none is created after), removes the staging
//! folders registered with [`StagingGuard`] and exits. What was switched stays switched, and
//! the state is not saved, as after a crash at the same place: the next run redoes the
//! work. The run's manifest says which: `failed` before the switch began, and
//! `failed_after_publish`, its outputs listed, from then on (it was written `publishing`
//! before the first switch). A signal after the state was saved ([`finish`]) stops nothing: the run's work is
//! whole, so it goes on to record itself (a second signal stops the process at once).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static SWITCH: Mutex<()> = Mutex::new(());
static STAGING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static CREATING: RwLock<()> = RwLock::new(());
/// True once the run's work is done (its state saved): a signal after that stops
/// nothing, and must not record the run as failed.
static FINISHED: Mutex<bool> = Mutex::new(false);

/// Handles SIGINT, SIGTERM and, unless it is ignored, SIGHUP from now on (call once,
/// from the binary).
pub fn install() -> std::io::Result<()> {
    let mut handled = vec![SIGINT, SIGTERM];
    if !ignored_at_start(SIGHUP) {
        handled.push(SIGHUP);
    }
    let mut signals = signal_hook::iterator::Signals::new(handled)?;
    std::thread::Builder::new()
        .name("joinedup-signals".into())
        .spawn(move || {
            let mut asked = false;
            for signal in signals.forever() {
                if asked {
                    // Asked twice: stop now.
                    std::process::exit(128 + signal);
                }
                asked = true;
                stop(signal);
            }
        })?;
    Ok(())
}

/// Whether `signal` is ignored by this process, as `nohup` leaves SIGHUP: read from the
/// `SigIgn` mask of `/proc/self/status` (bit `signal - 1`). Where that cannot be read
/// (not Linux), taken as ignored, so a handler never replaces an ignoring.
fn ignored_at_start(signal: i32) -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| ignored_in_status(&status, signal))
        .unwrap_or(true)
}

/// Whether the `SigIgn` line of a `/proc/<pid>/status` text has `signal`'s bit set;
/// `None` without a readable line.
fn ignored_in_status(status: &str, signal: i32) -> Option<bool> {
    let mask = status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())?;
    Some((1..=64).contains(&signal) && mask >> (signal - 1) & 1 == 1)
}

/// The signal's name, as logged and recorded.
fn signal_name(signal: i32) -> &'static str {
    match signal {
        SIGINT => "SIGINT",
        SIGHUP => "SIGHUP",
        _ => "SIGTERM",
    }
}

/// Stops the process for `signal` (see the module docs); returns, stopping nothing, when
/// the run has already finished its work ([`finish`]).
fn stop(signal: i32) {
    let name = signal_name(signal);
    // Decided under the lock [`finish`] saves the state under: either the run finished
    // before the signal (its outputs and state are whole: it goes on to record itself),
    // or it never will.
    let finished = FINISHED.lock().unwrap_or_else(|p| p.into_inner());
    if *finished {
        drop(finished);
        let span = crate::app::last_run_id().map(|id| crate::app::run_span(&id));
        let _entered = span.as_ref().map(|s| s.enter());
        tracing::warn!(
            signal = name,
            "{name} after the run finished its work: letting it record its outcome (a second signal stops the process at once)"
        );
        return;
    }
    INTERRUPTED.store(true, Ordering::SeqCst);
    // Wait for a switch in progress; none starts after this.
    let _switching = SWITCH.lock().unwrap_or_else(|p| p.into_inner());
    // Wait for files being created under staging; none is created after this (a writer
    // thread creating one after the folders were removed left them behind).
    let _creating = CREATING.write().unwrap_or_else(|p| p.into_inner());
    let folders: Vec<PathBuf> = STAGING
        .lock()
        .map(|s| s.clone())
        .unwrap_or_else(|p| p.into_inner().clone());
    // Staging folders, and files being downloaded into the landing zone.
    for f in &folders {
        if std::fs::remove_dir_all(f).is_err() {
            let _ = std::fs::remove_file(f);
        }
    }
    crate::fault::point("interrupt_after_removal");
    let span = crate::app::last_run_id().map(|id| crate::app::run_span(&id));
    let _entered = span.as_ref().map(|s| s.enter());
    tracing::warn!(
        signal = name,
        exit_code = 128 + signal,
        "interrupted: nothing half-written is left (datasets not yet switched into place are as before, downloads in progress removed); the next run redoes the work"
    );
    // A manifest with status `failed`, so `status` lists the run, and the run's last
    // event, `run finished`.
    crate::app::record_interrupted((128 + signal) as u8, name);
    std::process::exit(128 + signal);
}

/// Runs `save` (the run's state, its last step of work) unless a signal has stopped the
/// run; once it succeeds, a signal no longer stops the run or records it as failed. A
/// signal that came first makes this wait for the exit: the state is not saved.
pub fn finish<E>(save: impl FnOnce() -> Result<(), E>) -> Result<(), E> {
    let mut finished = FINISHED.lock().unwrap_or_else(|p| p.into_inner());
    if interrupted() {
        drop(finished);
        wait_for_exit();
    }
    save()?;
    *finished = true;
    Ok(())
}

/// True once a signal has asked the process to stop.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Held while datasets are switched into place: a signal waits for it.
pub fn switching() -> MutexGuard<'static, ()> {
    SWITCH.lock().unwrap_or_else(|p| p.into_inner())
}

/// Held while a file or folder is created under a staging folder (or a dataset
/// switched): a signal waits for it before removing the staging folders. Once a signal
/// has arrived the calling thread waits here for the process to exit instead, so
/// nothing is created in a folder being removed, and no error of its own races the
/// signal's exit code.
pub fn creating() -> RwLockReadGuard<'static, ()> {
    let guard = CREATING.read().unwrap_or_else(|p| p.into_inner());
    if interrupted() {
        drop(guard);
        wait_for_exit();
    }
    guard
}

/// Waits for the signal thread to end the process: called by a thread that finds the
/// process interrupted, so that its own error cannot exit first with another code.
pub fn wait_for_exit() -> ! {
    loop {
        std::thread::park();
    }
}

/// A staging folder (or a file being downloaded) removed if a signal stops the process
/// while it exists.
#[derive(Debug)]
pub struct StagingGuard(PathBuf);

impl StagingGuard {
    /// Registers `folder`.
    pub fn new(folder: PathBuf) -> Self {
        if let Ok(mut s) = STAGING.lock() {
            s.push(folder.clone());
        }
        StagingGuard(folder)
    }
}

impl Drop for StagingGuard {
    fn drop(&mut self) {
        if let Ok(mut s) = STAGING.lock() {
            s.retain(|f| f != &self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_staging_folder_is_registered_while_its_guard_lives() {
        let folder = PathBuf::from("/tmp/joinedup-test-staging-guard");
        let registered = || STAGING.lock().unwrap().contains(&folder);
        let guard = StagingGuard::new(folder.clone());
        assert!(registered());
        drop(guard);
        assert!(!registered());
        assert!(!interrupted());
    }

    #[test]
    fn an_ignored_signal_is_read_from_the_sigign_mask() {
        // SIGHUP (1) and SIGPIPE (13) ignored, as under `nohup` with a closed pipe ignored.
        let status = "Name:\tjoinedup\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000001001\nSigCgt:\t0000000000004002\n";
        assert_eq!(ignored_in_status(status, SIGHUP), Some(true));
        assert_eq!(ignored_in_status(status, 13), Some(true));
        assert_eq!(ignored_in_status(status, SIGTERM), Some(false));
        assert_eq!(ignored_in_status("Name:\tjoinedup\n", SIGHUP), None);
        assert_eq!(signal_name(SIGHUP), "SIGHUP");
    }
}
