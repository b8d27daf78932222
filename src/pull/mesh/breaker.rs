//! The circuit breaker of a mailbox's pull: MESH down for good stops the pull.
//!
//! Every call is retried on a transient failure (see [`super::client`]), about a minute
//! and a half of retries a message with the defaults: with MESH answering 503 to every
//! download, a 500-message inbox held the data directory's lock for hours. Once a
//! transient failure has lasted through one message's retries, the breaker is open: the
//! next message is tried once, without retries. If that fails transiently too, the
//! breaker trips; if it succeeds, MESH is back and the breaker closes. A tripped
//! breaker is checked by [`super::pull_mailbox`] against one message further along (two
//! messages that fail for good at the head of a stable inbox are not an outage): MESH
//! answering it, the breaker closes and the pull goes on; failing too, the pull of the
//! mailbox stops, the rest left in the inbox for the next pull.

use super::client::MeshError;

/// A mailbox pull's breaker (see the module documentation).
#[derive(Debug, Default)]
pub struct Breaker {
    /// The message whose transient failure lasted through its retries, while open.
    opened_by: Option<String>,
}

impl Breaker {
    /// Whether it is open: the next call is tried once, not retried.
    pub fn is_open(&self) -> bool {
        self.opened_by.is_some()
    }

    /// A call for message `id` failed with `e`. When the pull should stop (a transient
    /// failure again while open), what to say about it.
    pub fn failed(&mut self, id: &str, e: &MeshError) -> Option<String> {
        if !matches!(e, MeshError::GaveUp(_)) {
            return None;
        }
        match &self.opened_by {
            Some(first) => Some(format!(
                "MESH kept failing transiently (message {first} through its retries, then message {id} tried once)"
            )),
            None => {
                self.opened_by = Some(id.to_string());
                None
            }
        }
    }

    /// A call succeeded: MESH is back.
    pub fn succeeded(&mut self) {
        self.opened_by = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transient() -> MeshError {
        MeshError::GaveUp(Box::new(MeshError::Protocol("503".into())))
    }

    #[test]
    fn a_transient_failure_after_one_that_lasted_through_its_retries_stops_the_pull() {
        let mut b = Breaker::default();
        assert_eq!(b.failed("M1", &transient()), None);
        assert!(b.is_open());
        // A failure that is not transient says nothing about MESH being down.
        assert_eq!(b.failed("M2", &MeshError::Protocol("bad".into())), None);
        assert_eq!(
            b.failed("M3", &transient()).as_deref(),
            Some(
                "MESH kept failing transiently (message M1 through its retries, then message M3 tried once)"
            )
        );
        // MESH back: closed again, and a later failure gets its retries.
        b.succeeded();
        assert!(!b.is_open());
        assert_eq!(b.failed("M4", &transient()), None);
    }
}
