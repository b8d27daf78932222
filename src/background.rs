//! One thread that works through jobs in the order they are handed over, while the
//! caller goes on: for output that can be written while the next thing is computed.
//!
//! The thread owns a state and a function applied to it for each job. The first error
//! stops it: jobs handed over after that are not run, and the caller learns of the error
//! at its next [`Background::send`] or [`Background::flush`], or at
//! [`Background::finish`], which waits for every job and gives the state back. A panic
//! on the thread becomes an [`Error::Internal`]. Dropped without `finish` (the caller
//! stopped on an error of its own), it runs no further job, waits for the one under way
//! and drops the thread's outcome: the caller's error is the one reported.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Sender, channel};
use std::thread::{Scope, ScopedJoinHandle};

use crate::error::{Error, Result};

/// What the thread is told.
enum Message<J> {
    /// Run a job.
    Run(J),
    /// Say when every job handed over before is done.
    Flush(Sender<()>),
}

/// A thread working through jobs of type `J` on a state `S`.
pub struct Background<'scope, J, S> {
    name: &'static str,
    jobs: Option<Sender<Message<J>>>,
    thread: Option<ScopedJoinHandle<'scope, Result<S>>>,
    /// Set when dropped without [`Background::finish`]: run no further job.
    abandoned: Arc<AtomicBool>,
}

impl<'scope, J: Send + 'scope, S: Send + 'scope> Background<'scope, J, S> {
    /// Starts thread `name` in `scope`; it applies `work` to `state` for each job, in
    /// order. The caller's tracing span is the thread's too.
    pub fn start<'env>(
        scope: &'scope Scope<'scope, 'env>,
        name: &'static str,
        mut state: S,
        mut work: impl FnMut(&mut S, J) -> Result<()> + Send + 'scope,
    ) -> Self {
        let (jobs, queue) = channel::<Message<J>>();
        let span = tracing::Span::current();
        let abandoned = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&abandoned);
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn_scoped(scope, move || {
                let _entered = span.enter();
                for message in queue {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    match message {
                        Message::Run(job) => work(&mut state, job)?,
                        // The asker may have gone (it stopped on an error of its own).
                        Message::Flush(done) => drop(done.send(())),
                    }
                }
                Ok(state)
            });
        match thread {
            Ok(thread) => Background {
                name,
                jobs: Some(jobs),
                thread: Some(thread),
                abandoned,
            },
            Err(e) => {
                tracing::error!(thread = name, error = %e, "could not start a thread");
                Background {
                    name,
                    jobs: None,
                    thread: None,
                    abandoned,
                }
            }
        }
    }

    /// Hands a job over. An error is the thread's: a job before this one failed, or the
    /// thread could not start.
    pub fn send(&mut self, job: J) -> Result<()> {
        if self.tell(Message::Run(job)) {
            return Ok(());
        }
        self.stopped()
    }

    /// Waits until every job handed over so far is done: for a step that must not run
    /// alongside them (it would add their memory to its own).
    pub fn flush(&mut self) -> Result<()> {
        let (done, finished) = channel();
        if self.tell(Message::Flush(done)) && finished.recv().is_ok() {
            return Ok(());
        }
        self.stopped()
    }

    /// Waits for every job and gives the state back.
    pub fn finish(mut self) -> Result<S> {
        self.jobs = None;
        self.join()?
    }

    fn tell(&self, message: Message<J>) -> bool {
        self.jobs.as_ref().is_some_and(|j| j.send(message).is_ok())
    }

    /// The error that stopped the thread.
    fn stopped(&mut self) -> Result<()> {
        self.jobs = None;
        match self.join()? {
            Ok(_) => Err(Error::Internal(format!(
                "thread {} stopped without an error",
                self.name
            ))),
            Err(e) => Err(e),
        }
    }

    fn join(&mut self) -> Result<Result<S>> {
        let thread = self.thread.take().ok_or_else(|| {
            Error::Internal(format!(
                "thread {} could not start or was joined",
                self.name
            ))
        })?;
        thread
            .join()
            .map_err(|_| Error::Internal(format!("thread {} panicked", self.name)))
    }
}

impl<J, S> Drop for Background<'_, J, S> {
    fn drop(&mut self) {
        self.abandoned.store(true, Ordering::Relaxed);
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            // The caller is returning an error of its own; a panic here would hide it
            // (a scope panics on a thread that panicked and was not joined).
            drop(thread.join());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(done: &mut Vec<u32>, job: u32) -> Result<()> {
        if job == 13 {
            return Err(Error::Internal("job 13 failed".into()));
        }
        std::thread::sleep(std::time::Duration::from_millis(u64::from(job % 3)));
        done.push(job);
        Ok(())
    }

    #[test]
    fn jobs_run_in_the_order_handed_over_and_the_state_comes_back() {
        let done = std::thread::scope(|scope| {
            let mut b = Background::start(scope, "test", Vec::new(), record);
            for job in [5, 1, 4, 2, 3] {
                b.send(job).unwrap();
            }
            b.finish().unwrap()
        });
        assert_eq!(done, [5, 1, 4, 2, 3]);
    }

    #[test]
    fn flush_returns_once_every_earlier_job_is_done() {
        let seen = std::sync::Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            let mut b = Background::start(scope, "test", (), |_: &mut (), job: u32| {
                std::thread::sleep(std::time::Duration::from_millis(20));
                seen.lock().unwrap().push(job);
                Ok(())
            });
            b.send(1).unwrap();
            b.send(2).unwrap();
            b.flush().unwrap();
            assert_eq!(*seen.lock().unwrap(), [1, 2]);
            b.send(3).unwrap();
            b.finish().unwrap();
        });
        assert_eq!(seen.into_inner().unwrap(), [1, 2, 3]);
    }

    #[test]
    fn the_first_error_stops_the_thread_and_reaches_the_caller() {
        let (sent, finished) = std::thread::scope(|scope| {
            let mut b = Background::start(scope, "test", Vec::new(), record);
            b.send(1).unwrap();
            b.send(13).unwrap();
            // The thread has stopped by the time a flush is answered, or the flush is not.
            let flushed = b.flush();
            let sent = b.send(2);
            (flushed.and(sent), b.finish())
        });
        let message = |r: Result<()>| r.unwrap_err().to_string();
        assert!(message(sent).contains("job 13 failed"));
        assert!(
            finished.unwrap_err().to_string().contains("was joined"),
            "the error was reported once; finish after it says the thread is gone"
        );
    }

    #[test]
    fn dropped_without_finish_it_runs_no_further_job_and_a_panic_stays_inside() {
        let ran = std::sync::atomic::AtomicUsize::new(0);
        let under_way = std::sync::Barrier::new(2);
        std::thread::scope(|scope| {
            let mut b = Background::start(scope, "test", (), |_: &mut (), job: u32| {
                ran.fetch_add(1, Ordering::Relaxed);
                if job == 0 {
                    under_way.wait();
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                assert_ne!(job, 0, "job 0 panics");
                Ok(())
            });
            for job in [0, 1, 2, 3] {
                b.send(job).unwrap();
            }
            // The caller stops on an error of its own while job 0 runs.
            under_way.wait();
            drop(b);
        });
        assert_eq!(
            ran.load(Ordering::Relaxed),
            1,
            "only the job under way ran, and the scope did not panic"
        );
    }

    #[test]
    fn a_panic_on_the_thread_is_an_internal_error() {
        let r = std::thread::scope(|scope| {
            let mut b = Background::start(scope, "test", (), |_: &mut (), job: u32| {
                assert_ne!(job, 7, "job 7 panics");
                Ok(())
            });
            b.send(7).unwrap();
            b.finish()
        });
        assert!(r.unwrap_err().to_string().contains("thread test panicked"));
    }
}
