//! MESH: NHS England's Message Exchange for Social Care and Health (reference/mesh.md).
//!
//! [`client`] speaks the HTTP API (handshake, inbox paging, chunked download with gzip,
//! acknowledge, and send for tests and tooling); [`pull_mailbox`] lands every inbox
//! message and acknowledges it only after the landed file and its manifest line are
//! durable. A crash between landing and acknowledging leaves the message in the inbox;
//! the next pull recognises its message id and acknowledges it without landing it
//! again, so each message lands exactly once. A message without a `mex-FileName` is
//! named after its id; its content, if landed before, is not landed again. MESH failing
//! transiently through one message's retries and then again at once trips the
//! [`breaker`]: the last message not yet tried is then tried once, out of order. MESH
//! answering it, the failures were those messages' own (they stay in the inbox, named)
//! and the pull goes on; failing too, the pull of the mailbox stops, and the rest of the
//! inbox is left for the next pull, and said. With `deadline_seconds` set, the whole pull
//! of a mailbox ends at it, whatever the server does (a message trickling in a byte at a
//! time never trips `timeout_seconds`): the message under way is abandoned, and it and
//! the rest of the inbox wait for the next pull. Not set by default: a message that
//! cannot download within it would never land and would hold up those behind it.

pub mod auth;
mod breaker;
pub mod client;
pub mod tls;

use std::collections::HashSet;

use super::landing::{Landed, LandingZone, Origin};
use super::report::SourcePull;
use crate::config::fetch::MeshFetch;
use breaker::Breaker;
use client::{MeshClient, MeshError};

/// Pulls one mailbox into `landing/<source>/`.
pub async fn pull_mailbox(source: &str, cfg: &MeshFetch, zone: &LandingZone) -> SourcePull {
    let mut report = SourcePull::new(source, "mesh");
    let client = match MeshClient::from_config(cfg) {
        Ok(c) => c.for_source(source),
        Err(e) => {
            report.fail("mailbox", e.to_string());
            return report;
        }
    };
    // One deadline for the whole mailbox, retries and waits included: `timeout_seconds`
    // bounds silence only, so a server trickling a message (or answering each request
    // just inside it) would otherwise hold the run, and the data directory's lock, for
    // as long as it liked.
    let deadline = Deadline::new(cfg.deadline_seconds);
    match deadline.within(client.handshake()).await {
        Some(Ok(())) => {}
        Some(Err(e)) => {
            report.fail("handshake", e.to_string());
            return report;
        }
        None => {
            report.fail("handshake", deadline.passed("the handshake"));
            return report;
        }
    }
    let ids = match deadline
        .within(client.inbox(cfg.workflow_filter.as_deref()))
        .await
    {
        Some(Ok(ids)) => ids,
        Some(Err(e)) => {
            report.fail("inbox", e.to_string());
            return report;
        }
        None => {
            report.fail("inbox", deadline.passed("listing the inbox"));
            return report;
        }
    };
    report.found = ids.len() as u64;
    // MESH failing transiently through one message's retries, then again at once: the
    // breaker trips. The inbox's order is stable, so two messages that always fail at
    // its head would otherwise stop every pull before the rest: the last message not
    // yet tried is tried once out of order. MESH answering it, the failures were the
    // messages' own: they stay in the inbox, and the pull goes on. Failing too, the rest
    // of the inbox waits for the next pull rather than hold the lock for hours.
    let mut breaker = Breaker::default();
    let mut probed: HashSet<&str> = HashSet::new();
    let mut i = 0;
    while i < ids.len() {
        // This machine cannot land (a full disk): every later message would fail the
        // same way after downloading it. They stay in the inbox for the next pull.
        if report.local.is_some() {
            let left = untried(&ids[i..], &probed);
            if left > 0 {
                report.note(format!(
                    "{left} message(s) left in the inbox for the next pull: landing failed on this machine"
                ));
            }
            break;
        }
        let id = ids[i].as_str();
        i += 1;
        if probed.contains(id) {
            continue;
        }
        let pulled = deadline
            .within(pull_message(
                source,
                &client,
                zone,
                id,
                &mut breaker,
                &mut report,
            ))
            .await;
        let Some(pulled) = pulled else {
            deadline.stopped_at(source, zone, id, &ids[i..], &probed, &mut report);
            break;
        };
        let Some(why) = pulled else {
            continue;
        };
        let probe = ids[i..]
            .iter()
            .map(String::as_str)
            .rev()
            .find(|p| !probed.contains(p));
        let Some(probe) = probe else {
            break;
        };
        probed.insert(probe);
        let pulled = deadline
            .within(pull_message(
                source,
                &client,
                zone,
                probe,
                &mut breaker,
                &mut report,
            ))
            .await;
        let Some(pulled) = pulled else {
            deadline.stopped_at(source, zone, probe, &ids[i..], &probed, &mut report);
            break;
        };
        match pulled {
            None if report.local.is_none() => {
                breaker.succeeded();
                report.note(format!(
                    "{why}, but MESH answered for message {probe}, tried out of order: their failures are their own; they stay in the inbox for the next pull, and the pull went on"
                ));
            }
            None => {}
            Some(_) => {
                report.note(format!(
                    "{why}, and message {probe} further along failed too: {} message(s) left in the inbox for the next pull",
                    untried(&ids[i..], &probed)
                ));
                break;
            }
        }
    }
    report
}

/// The end of a mailbox's pull (`deadline_seconds` from its start), if it has one.
struct Deadline {
    /// `None`: no deadline set, or one too far off to reckon (`u64::MAX` seconds, say).
    at: Option<tokio::time::Instant>,
    seconds: u64,
}

impl Deadline {
    fn new(seconds: Option<u64>) -> Self {
        let now = tokio::time::Instant::now();
        Deadline {
            at: seconds.and_then(|s| now.checked_add(std::time::Duration::from_secs(s))),
            seconds: seconds.unwrap_or(0),
        }
    }

    /// `work`'s outcome, or `None` when the deadline came first (the work is dropped: a
    /// download under way is removed with its landing file, never committed).
    async fn within<T>(&self, work: impl std::future::Future<Output = T>) -> Option<T> {
        match self.at {
            Some(at) => tokio::time::timeout_at(at, work).await.ok(),
            None => Some(work.await),
        }
    }

    /// What was under way when the deadline passed, said.
    fn passed(&self, doing: &str) -> String {
        format!(
            "the pull of the mailbox reached its deadline_seconds ({} s) while {doing}",
            self.seconds
        )
    }

    /// Says that the deadline passed on message `id`: whether it had landed (and is
    /// acknowledged by the next pull) or stays in the inbox, and how many messages after
    /// it (`rest`, less those already `probed`) were left for the next pull.
    fn stopped_at(
        &self,
        source: &str,
        zone: &LandingZone,
        id: &str,
        rest: &[String],
        probed: &HashSet<&str>,
        report: &mut SourcePull,
    ) {
        let state = if zone.has_message(source, id) {
            "landed, not yet acknowledged (the next pull acknowledges it)"
        } else {
            "not landed, not acknowledged: it stays in the inbox and is tried first again by the next pull, so if it is large, raise deadline_seconds above the time it takes to download, or it never lands and holds up the messages behind it"
        };
        report.fail(id, format!("{}: {state}", self.passed("on this message")));
        let left = rest
            .iter()
            .filter(|r| r.as_str() != id && !probed.contains(r.as_str()))
            .count();
        if left > 0 {
            report.note(format!(
                "{left} message(s) left in the inbox for the next pull: the pull reached its deadline_seconds ({} s)",
                self.seconds
            ));
        }
    }
}

/// How many of `ids` are not among `probed`: messages not yet tried.
fn untried(ids: &[String], probed: &HashSet<&str>) -> usize {
    ids.iter()
        .filter(|id| !probed.contains(id.as_str()))
        .count()
}

/// Pulls message `id`: lands and acknowledges it, or says in `report` why not. When
/// the breaker trips (MESH failing transiently again while open), what to say about it.
async fn pull_message(
    source: &str,
    client: &MeshClient,
    zone: &LandingZone,
    id: &str,
    breaker: &mut Breaker,
    report: &mut SourcePull,
) -> Option<String> {
    client.set_probing(breaker.is_open());
    if zone.has_message(source, id) {
        // Landed by an earlier pull that stopped before acknowledging.
        match client.acknowledge(id).await {
            Ok(()) => {
                breaker.succeeded();
                report.already_had += 1;
            }
            Err(e) => {
                let stop = breaker.failed(id, &e);
                report.fail(id, format!("acknowledging: {e}"));
                return stop;
            }
        }
        return None;
    }
    let mut incoming = match zone.incoming(source) {
        Ok(i) => i,
        Err(e) => {
            report.fail_local(id, e);
            return None;
        }
    };
    let meta = match client.download(id, &mut incoming).await {
        Ok(m) => m,
        Err(MeshError::Local(e)) => {
            incoming.discard();
            report.fail_local(id, e);
            return None;
        }
        Err(e) => {
            incoming.discard();
            let stop = breaker.failed(id, &e);
            report.fail(id, format!("downloading: {e}"));
            return stop;
        }
    };
    breaker.succeeded();
    client.set_probing(false);
    // A delivery report is not data: acknowledged (else it stays in the inbox and
    // fails every pull), said, not landed.
    if let Some(what) = &meta.report {
        incoming.discard();
        match client.acknowledge(id).await {
            Ok(()) => report.note(format!(
                "message {id} is a MESH delivery report ({what}), not data: acknowledged, not landed"
            )),
            Err(e) => report.fail(id, format!("a delivery report ({what}); acknowledging it failed: {e}")),
        }
        return None;
    }
    // The sender's MD5, where it set one: a message that does not match it is not
    // landed and not acknowledged (the next pull downloads it again).
    if let Some(want) = declared_md5(meta.checksum.as_deref()) {
        match incoming.md5_hex() {
            Ok(got) if got == want => {}
            Ok(got) => {
                incoming.discard();
                report.fail(
                    id,
                    format!("its MD5 {got} differs from the {want} its sender declared (mex-Content-Checksum): not landed, not acknowledged"),
                );
                return None;
            }
            Err(e) => {
                incoming.discard();
                report.fail_local(id, e);
                return None;
            }
        }
    }
    let origin = Origin::Mesh {
        mailbox: client.mailbox().to_string(),
        message_id: id.to_string(),
        received_at: meta.received_at.clone(),
    };
    let name = meta.filename.unwrap_or_else(|| format!("{id}.dat"));
    match zone.commit(source, incoming, &name, origin) {
        Ok(Landed::New(record)) => {
            report.landed += 1;
            // Landed late (a download that failed last night): a version of its file
            // that MESH received after it stays the one read. Said, as it is unusual.
            if let Ok(Some(newer)) = zone.superseded_by(&record)
                && let Origin::Mesh {
                    message_id: newer_id,
                    received_at: Some(newer_at),
                    ..
                } = &newer.origin
            {
                report.note(format!(
                    "message {id} reached MESH at {}, before message {newer_id} ({newer_at}) sent under the same file name, which has landed already: landed for the record; the later version stays the one read",
                    meta.received_at.as_deref().unwrap_or("?")
                ));
            }
        }
        Ok(Landed::AlreadyHad { .. }) => report.already_had += 1,
        Err(e) => {
            report.fail_local(id, e);
            return None;
        }
    }
    crate::fault::point("mesh_before_ack");
    if let Err(e) = client.acknowledge(id).await {
        let stop = breaker.failed(id, &e);
        report.fail(
            id,
            format!("landed, but acknowledging failed (it will be acknowledged next time): {e}"),
        );
        return stop;
    }
    None
}

/// The MD5 a sender declared in `mex-Content-Checksum` (`md5:<32 hex digits>`, either
/// case), lower-case; `None` for none or another form (not checked).
fn declared_md5(checksum: Option<&str>) -> Option<String> {
    let c = checksum?.trim();
    let hex = c
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("md5:"))
        .map(|_| &c[4..])?;
    (hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}

#[cfg(test)]
mod checksum_tests {
    #[test]
    fn only_an_md5_in_its_declared_form_is_checked() {
        let md5 = "d41d8cd98f00b204e9800998ecf8427e";
        assert_eq!(
            super::declared_md5(Some(&format!("md5:{md5}"))).as_deref(),
            Some(md5)
        );
        assert_eq!(
            super::declared_md5(Some(&format!("MD5:{}", md5.to_uppercase()))).as_deref(),
            Some(md5)
        );
        for other in [
            "",
            "sha256:abc",
            "md5:xyz",
            "d41d8cd98f00b204e9800998ecf8427e",
        ] {
            assert_eq!(super::declared_md5(Some(other)), None, "{other}");
        }
        assert_eq!(super::declared_md5(None), None);
    }
}
