//! Handing memory freed by a finished step back to the system.
//!
//! The allocator keeps freed memory for reuse, which is right within a step but leaves
//! a finished step's memory counted against the rest of the run (the A&E pass's pieces
//! while journeys link, one measure's buffers while the next runs). The binary registers
//! how to release it for the allocator it uses ([`set_release`]); the run calls
//! [`release`] between steps. Without a registration (the library used elsewhere, the
//! tests) it does nothing.

use std::sync::OnceLock;

static RELEASE: OnceLock<fn()> = OnceLock::new();

/// Registers how to release freed memory; only the first registration counts.
pub fn set_release(f: fn()) {
    let _ = RELEASE.set(f);
}

/// Releases memory freed so far, if the binary said how: on this thread and on every
/// thread of polars' pool (the allocator keeps freed memory per thread).
pub fn release() {
    if let Some(f) = RELEASE.get() {
        f();
        polars_core::runtime::THREAD_POOL.broadcast(|_| f());
    }
}
