//! The editor's flow thread: its own event loop, where the edited graph runs (as a batch, or
//! live), so a node that hogs the CPU never stalls the server. The server thread reaches it
//! through a [`LoopHandle`] and gets each answer back on a one-shot channel.
//!
//! Plumbing: a [`FlowRemote::call`] sends a `Send` closure; a task on the flow thread takes
//! closures from a local queue in order and runs the future each one makes as its own task
//! (so a long batch run never holds up a `stop`).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use flowloop::flow::RunBeacon;
use flowloop::sync::AsyncQueue;
use flowloop::{EventLoop, LoopHandle};

use crate::WebError;
use crate::graph_run::GraphRunner;

/// One piece of work for the flow thread.
type Job = Box<dyn FnOnce(Rc<GraphRunner>) -> Pin<Box<dyn Future<Output = ()>>> + Send>;

thread_local! {
    /// The flow thread's job queue (set only on that thread).
    static JOBS: RefCell<Option<AsyncQueue<Job>>> = const { RefCell::new(None) };
}

/// A `Send` handle to the flow thread.
#[derive(Debug, Clone)]
pub(crate) struct FlowRemote {
    handle: LoopHandle,
}

impl FlowRemote {
    /// Runs `f` on the flow thread with its [`GraphRunner`]; resolves to the value of the
    /// future it makes, or `None` if the flow thread is gone.
    pub(crate) fn call<T, F, Fut>(&self, f: F) -> impl Future<Output = Option<T>> + 'static
    where
        F: FnOnce(Rc<GraphRunner>) -> Fut + Send + 'static,
        Fut: Future<Output = T> + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = futures_channel::oneshot::channel();
        self.send(Box::new(move |runner| {
            Box::pin(async move {
                let _ = tx.send(f(runner).await);
            })
        }));
        async move { rx.await.ok() }
    }

    fn send(&self, job: Job) {
        drop(self.handle.spawn(async move {
            JOBS.with(|q| {
                if let Some(q) = q.borrow().as_ref() {
                    let _ = q.try_put(job);
                }
            });
        }));
    }
}

/// The flow thread; dropping it stops whatever runs and joins the thread.
#[derive(Debug)]
pub(crate) struct FlowThread {
    remote: FlowRemote,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FlowThread {
    /// Starts the thread and its loop; runs publish a snapshot every `sample_every`.
    pub(crate) fn start(sample_every: Duration, beacon: Arc<RunBeacon>) -> Result<FlowThread, WebError> {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("flowloop-web-flow".into())
            .spawn(move || flow_thread(sample_every, beacon, tx))
            .map_err(|e| WebError::Start(e.to_string()))?;
        match rx.recv() {
            Ok(Ok(handle)) => Ok(FlowThread {
                remote: FlowRemote { handle },
                thread: Some(thread),
            }),
            Ok(Err(e)) => Err(WebError::Start(format!("the flow thread's loop: {e}"))),
            Err(_) => Err(WebError::Start("the flow thread ended before it started".into())),
        }
    }

    /// A handle for the server thread.
    pub(crate) fn remote(&self) -> FlowRemote {
        self.remote.clone()
    }
}

impl Drop for FlowThread {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            drop(self.remote.handle.spawn(async {
                JOBS.with(|q| {
                    if let Some(q) = q.borrow().as_ref() {
                        q.close();
                    }
                });
            }));
            let _ = t.join();
        }
    }
}

fn flow_thread(
    sample_every: Duration,
    beacon: Arc<RunBeacon>,
    ready: std::sync::mpsc::Sender<std::io::Result<LoopHandle>>,
) {
    let mut lp = match EventLoop::new() {
        Ok(lp) => lp,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    lp.wait_for_spawned(false);
    let queue: AsyncQueue<Job> = AsyncQueue::new();
    JOBS.with(|q| *q.borrow_mut() = Some(queue.clone()));
    if ready.send(Ok(lp.handle())).is_err() {
        return;
    }
    let runner = Rc::new(GraphRunner::new(sample_every, beacon));
    let _ = lp.run_until_complete(async move {
        while let Ok(job) = queue.get().await {
            flowloop::spawn(job(Rc::clone(&runner))).await.detach();
        }
        runner.stop();
    });
    JOBS.with(|q| q.borrow_mut().take());
}
