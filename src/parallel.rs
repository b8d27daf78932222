//! A small work queue on scoped threads: map a slice on one thread per core, results in
//! input order. Used where rayon's pool (which polars owns and fills) would be the wrong
//! place for blocking I/O or for work that itself calls into polars.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Threads to use: one per core.
pub fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// `f` applied to every item on up to `workers` threads, taking items in `order` (indices
/// into `items`; all of them, e.g. largest first); results come back in item order.
pub fn map_in_order<T: Sync, R: Send>(
    items: &[T],
    order: &[usize],
    workers: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    debug_assert_eq!(order.len(), items.len());
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    // Workers log in the caller's span (a run's events carry its run id).
    let span = tracing::Span::current();
    std::thread::scope(|scope| {
        for _ in 0..workers.clamp(1, items.len().max(1)) {
            scope.spawn(|| {
                let _entered = span.enter();
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = order.get(k) else { break };
                    let r = f(&items[i]);
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(r);
                    }
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|s| {
            s.into_inner()
                .ok()
                .flatten()
                .expect("every item is taken by a worker, and a worker that panics re-raises its panic at the end of the scope")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_item_order_whatever_the_order_of_work() {
        let items: Vec<u64> = (0..100).collect();
        let order: Vec<usize> = (0..100).rev().collect();
        let out = map_in_order(&items, &order, 4, |x| x * 2);
        assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        assert!(map_in_order(&[] as &[u8], &[], 2, |x| *x).is_empty());
    }
}
