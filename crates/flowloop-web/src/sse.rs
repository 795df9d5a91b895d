//! Server-Sent Events: one [`Hub`] holds the latest frame; each client task writes the newest
//! frame it has not sent yet. A slow client therefore skips states instead of queueing them:
//! at most one frame per client is in flight, and newer state replaces older.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use flowloop::net::TcpStream;
use flowloop::sync::Event;

use crate::http::write_all;
use crate::server::App;

/// One encoded event.
#[derive(Debug)]
pub(crate) struct Frame {
    pub(crate) seq: u64,
    pub(crate) bytes: Vec<u8>,
    pub(crate) data: String,
}

/// The latest frame and a pulse for waiters.
#[derive(Debug)]
pub(crate) struct Hub {
    latest: RefCell<Rc<Frame>>,
    changed: RefCell<Event>,
    seq: Cell<u64>,
    clients: Cell<usize>,
}

impl Hub {
    pub(crate) fn new(initial: String) -> Hub {
        let hub = Hub {
            latest: RefCell::new(Rc::new(Frame {
                seq: 0,
                bytes: Vec::new(),
                data: String::new(),
            })),
            changed: RefCell::new(Event::new()),
            seq: Cell::new(0),
            clients: Cell::new(0),
        };
        hub.publish(initial);
        hub
    }

    /// Replaces the latest frame with `data` (one JSON line) and wakes every client.
    pub(crate) fn publish(&self, data: String) {
        let seq = self.seq.get() + 1;
        self.seq.set(seq);
        let bytes = format!("id: {seq}\nevent: snapshot\ndata: {data}\n\n").into_bytes();
        *self.latest.borrow_mut() = Rc::new(Frame { seq, bytes, data });
        let old = std::mem::take(&mut *self.changed.borrow_mut());
        old.set();
    }

    /// The newest frame.
    pub(crate) fn latest(&self) -> Rc<Frame> {
        Rc::clone(&self.latest.borrow())
    }

    /// Number of connected event-stream clients.
    pub(crate) fn clients(&self) -> usize {
        self.clients.get()
    }

    fn changed(&self) -> Event {
        self.changed.borrow().clone()
    }
}

/// Counts a connected client while alive.
struct ClientGuard<'a>(&'a Hub);

impl Drop for ClientGuard<'_> {
    fn drop(&mut self) {
        self.0.clients.set(self.0.clients.get() - 1);
    }
}

/// Streams frames to one client until it goes away or stops reading. Every stream starts with
/// the current state, which also answers a reconnect's `Last-Event-ID`: the client gets a fresh
/// snapshot rather than a replay.
pub(crate) async fn stream_events(mut stream: TcpStream, app: &App) {
    let limits = &app.config().limits;
    let hub = app.hub();
    hub.clients.set(hub.clients.get() + 1);
    let _guard = ClientGuard(hub);
    if write_all(&mut stream, crate::http::EVENTS_HEAD, limits.write_timeout)
        .await
        .is_err()
    {
        return;
    }
    let mut sent = 0;
    loop {
        let frame = hub.latest();
        if frame.seq != sent {
            if write_all(&mut stream, &frame.bytes, limits.write_timeout)
                .await
                .is_err()
            {
                return;
            }
            sent = frame.seq;
            continue;
        }
        drop(frame);
        let changed = hub.changed();
        if flowloop::timeout(limits.keepalive, changed.wait()).await.is_err()
            && write_all(&mut stream, b": keepalive\n\n", limits.write_timeout)
                .await
                .is_err()
        {
            return;
        }
    }
}
