//! The queue between the driver task and the application's [`Events`](super::Events).
//!
//! Events cross it in batches: the driver appends everything one wake-up produced under one
//! lock and wakes the application once, and the application takes the whole queue in one swap,
//! then hands events out from its own buffer without touching the lock. At tens of thousands of
//! events a second, a channel send and a wake-up per event were a measurable share of the CPU.
//!
//! It is bounded: while [`HIGH_WATER`] events wait that the application has not taken, the
//! driver stops reading the socket (see [`Sender::poll_room`]), so a consumer that cannot keep
//! up slows the server down (TCP back-pressure) instead of growing memory without limit.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use crate::proto::Event;

/// Events waiting for the application beyond which the driver stops reading the socket. Large
/// enough that a consumer pausing for a while (a database write, a catch-up request) loses
/// nothing and never stalls the socket; small enough to bound memory to a few MiB. The
/// application's own buffer holds at most one more queue's worth (what it took last).
pub(crate) const HIGH_WATER: usize = 8192;

#[derive(Default)]
struct State {
    queue: VecDeque<Event>,
    /// The application, waiting for an event.
    app: Option<Waker>,
    /// The driver, waiting for room.
    driver: Option<Waker>,
    sender_gone: bool,
    receiver_gone: bool,
}

type Shared = Arc<Mutex<State>>;

/// Neither side panics while holding the lock, but a poisoned lock must not take the other
/// side down with it: the state stays consistent between statements.
fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A connected pair.
pub(crate) fn channel() -> (Sender, Receiver) {
    let shared = Shared::default();
    (
        Sender {
            shared: Arc::clone(&shared),
        },
        Receiver {
            shared,
            local: VecDeque::new(),
        },
    )
}

/// The driver's end.
pub(crate) struct Sender {
    shared: Shared,
}

impl Sender {
    /// Appends `batch` (emptied, its capacity kept) and wakes a waiting application once.
    /// Events nobody will read are dropped.
    pub(crate) fn send_batch(&self, batch: &mut Vec<Event>) {
        if batch.is_empty() {
            return;
        }
        let waker = {
            let mut state = lock(&self.shared);
            if state.receiver_gone {
                batch.clear();
                return;
            }
            state.queue.extend(batch.drain(..));
            state.app.take()
        };
        // Woken outside the lock: the application may run right away on another thread.
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Ready while the driver may read more from the socket: fewer than [`HIGH_WATER`] events
    /// wait, or nobody reads them any more. Otherwise the driver is woken when the application
    /// takes the queue.
    pub(crate) fn poll_room(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = lock(&self.shared);
        if state.queue.len() < HIGH_WATER || state.receiver_gone {
            Poll::Ready(())
        } else {
            state.driver = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    /// Whether [`Sender::poll_room`] would be ready now.
    pub(crate) fn has_room(&self) -> bool {
        let state = lock(&self.shared);
        state.queue.len() < HIGH_WATER || state.receiver_gone
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        let waker = {
            let mut state = lock(&self.shared);
            state.sender_gone = true;
            state.app.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// The application's end: its own buffer, refilled from the shared queue in one swap.
pub(crate) struct Receiver {
    shared: Shared,
    local: VecDeque<Event>,
}

impl Receiver {
    /// The next event; `Ready(None)` once the driver is gone and everything was handed out.
    /// Cancel-safe: an event is only taken from the buffers by the call that returns it.
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        if let Some(event) = self.local.pop_front() {
            return Poll::Ready(Some(event));
        }
        match self.refill(Some(cx)) {
            Refill::Event(event) => Poll::Ready(Some(event)),
            Refill::Closed => Poll::Ready(None),
            Refill::Empty => Poll::Pending,
        }
    }

    /// An event if one is queued.
    pub(crate) fn try_recv(&mut self) -> Option<Event> {
        if let Some(event) = self.local.pop_front() {
            return Some(event);
        }
        match self.refill(None) {
            Refill::Event(event) => Some(event),
            Refill::Closed | Refill::Empty => None,
        }
    }

    /// Swaps the shared queue (all of it) with the empty local buffer, so the driver keeps
    /// appending to an allocation that is already the right size. With `cx`, registers to be
    /// woken when the queue is empty.
    fn refill(&mut self, cx: Option<&mut Context<'_>>) -> Refill {
        let driver = {
            let mut state = lock(&self.shared);
            if state.queue.is_empty() {
                if state.sender_gone {
                    return Refill::Closed;
                }
                if let Some(cx) = cx {
                    state.app = Some(cx.waker().clone());
                }
                return Refill::Empty;
            }
            std::mem::swap(&mut self.local, &mut state.queue);
            state.driver.take()
        };
        // The queue is empty now: a driver waiting for room may read again.
        if let Some(waker) = driver {
            waker.wake();
        }
        match self.local.pop_front() {
            Some(event) => Refill::Event(event),
            None => Refill::Empty,
        }
    }
}

enum Refill {
    Event(Event),
    Empty,
    Closed,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let waker = {
            let mut state = lock(&self.shared);
            state.receiver_gone = true;
            state.queue.clear();
            state.driver.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("buffered", &self.local.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    use crate::proto::Event;

    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting() -> (Arc<CountingWaker>, Waker) {
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        (Arc::clone(&counter), Waker::from(counter))
    }

    fn cache_miss(n: usize) -> Event {
        Event::CacheMiss {
            channel: format!("c{n}"),
        }
    }

    #[test]
    fn events_come_out_in_order_across_batches() {
        let (tx, mut rx) = channel();
        tx.send_batch(&mut vec![cache_miss(0), cache_miss(1)]);
        tx.send_batch(&mut vec![cache_miss(2)]);
        let mut seen = Vec::new();
        while let Some(ev) = rx.try_recv() {
            seen.push(ev);
        }
        assert_eq!(seen, vec![cache_miss(0), cache_miss(1), cache_miss(2)]);
    }

    #[test]
    fn a_waiting_application_is_woken_once_per_batch() {
        let (tx, mut rx) = channel();
        let (count, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        assert_eq!(rx.poll_recv(&mut cx), Poll::Pending);
        tx.send_batch(&mut (0..100).map(cache_miss).collect());
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(cache_miss(0))));
    }

    #[test]
    fn a_full_queue_holds_the_driver_until_the_app_takes_it() {
        let (tx, mut rx) = channel();
        tx.send_batch(&mut (0..HIGH_WATER).map(cache_miss).collect());
        let (count, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        assert!(!tx.has_room());
        assert_eq!(tx.poll_room(&mut cx), Poll::Pending);
        assert_eq!(rx.try_recv(), Some(cache_miss(0)));
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert_eq!(tx.poll_room(&mut cx), Poll::Ready(()));
    }

    #[test]
    fn the_stream_ends_after_the_last_event_once_the_driver_is_gone() {
        let (tx, mut rx) = channel();
        let (count, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        assert_eq!(rx.poll_recv(&mut cx), Poll::Pending);
        tx.send_batch(&mut vec![cache_miss(0)]);
        drop(tx);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(cache_miss(0))));
        assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(None));
    }

    #[test]
    fn events_for_a_dropped_receiver_are_discarded_and_never_block_the_driver() {
        let (tx, rx) = channel();
        drop(rx);
        let mut batch: Vec<Event> = (0..HIGH_WATER * 2).map(cache_miss).collect();
        tx.send_batch(&mut batch);
        assert!(batch.is_empty());
        assert!(tx.has_room());
    }
}
