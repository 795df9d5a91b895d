//! One run served by one worker: the lease, the processor tasks, the clean exit.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::{ShutdownSignal, WorkerOptions, WorkerReport};
use crate::error::RunError;
use crate::flow::Flow;
use crate::processor::{Context, Handler, Provided};
use crate::protocol::{self, Keys};
use crate::resp::{Client, Cmd, Reply};

/// Everything the tasks serving one run share.
#[derive(Debug, Clone)]
pub(crate) struct RunContext {
    pub options: WorkerOptions,
    pub me: String,
    pub keys: Keys,
    pub flow: Flow,
    pub provided: Rc<Provided>,
    pub shutdown: ShutdownSignal,
    pub report: Rc<RefCell<WorkerReport>>,
    /// Partition locks this worker holds (renewed with the lease).
    pub plocks: Rc<RefCell<Vec<String>>>,
    /// Set when the run left the `running` state (finished elsewhere, failed, expired).
    pub over: Rc<Cell<bool>>,
}

impl RunContext {
    pub fn new(
        options: &WorkerOptions,
        me: &str,
        run: &str,
        flow: Flow,
        provided: Rc<Provided>,
        shutdown: ShutdownSignal,
        report: Rc<RefCell<WorkerReport>>,
    ) -> RunContext {
        RunContext {
            options: options.clone(),
            me: me.to_string(),
            keys: Keys::new(run),
            flow,
            provided,
            shutdown,
            report,
            plocks: Rc::new(RefCell::new(Vec::new())),
            over: Rc::new(Cell::new(false)),
        }
    }

    pub fn client(&self) -> Client {
        Client::new(self.options.config.clone())
    }

    pub fn context(&self, processor: &crate::names::ProcessorName) -> Context {
        Context::new(processor.clone(), self.provided.clone())
    }

    /// True when this worker should stop serving the run.
    pub fn leaving(&self) -> bool {
        self.shutdown.is_triggered() || self.over.get()
    }

    /// Serves every processor of the run until each is done (or the worker leaves).
    pub async fn serve(self) -> Result<(), RunError> {
        let mut client = self.client();
        self.renew(&mut client).await?;
        let stop_lease = Rc::new(Cell::new(false));
        drop(flowloop::spawn(self.clone().keep_lease(stop_lease.clone())).await);
        let mut tasks = Vec::new();
        for p in self.flow.processors() {
            let me = self.clone();
            let p = p.clone();
            let job = async move {
                match p.handler.clone() {
                    Some(Handler::Each(f)) => super::consume::Consumer::new(me, &p, f).run().await,
                    Some(Handler::Wait(f)) => super::partition::serve(me, &p, f).await,
                    Some(Handler::Stream(f)) => super::streaming::serve(me, &p, f).await,
                    None => Ok(()),
                }
            };
            tasks.push(flowloop::spawn(job).await);
        }
        let mut first_error = None;
        for t in tasks {
            match t.join().await {
                Ok(Err(e)) => {
                    first_error.get_or_insert(e);
                }
                Err(e) => {
                    first_error.get_or_insert(RunError::Unexpected {
                        what: "a processor task".into(),
                        reply: e.to_string(),
                    });
                }
                Ok(Ok(())) => {}
            }
        }
        stop_lease.set(true);
        self.leave(&mut client).await;
        first_error.map_or(Ok(()), Err)
    }

    async fn renew(&self, client: &mut Client) -> Result<Reply, RunError> {
        let mut keys = vec![self.keys.meta(), self.keys.lease(&self.me)];
        keys.extend(self.plocks.borrow().iter().cloned());
        let args = vec![
            self.me.clone().into_bytes(),
            self.options.lease.as_millis().to_string().into_bytes(),
        ];
        Ok(client.eval(&protocol::RENEW, &keys, &args).await?)
    }

    /// Renews the lease every quarter lease until stopped; also notices when the run is over.
    async fn keep_lease(self, stop: Rc<Cell<bool>>) {
        let mut client = self.client();
        while !stop.get() {
            let _ = self.renew(&mut client).await;
            let state = client.call(&Cmd::new("HGET").arg(self.keys.meta()).arg("state")).await;
            if let Ok(state) = state
                && state.as_str() != Some("running")
            {
                self.over.set(true);
            }
            flowloop::sleep(self.options.lease / 4).await;
        }
    }

    /// Gives up the lease (live workers reclaim anything still pending at once) and deletes
    /// this worker's consumers that have nothing pending.
    async fn leave(&self, client: &mut Client) {
        let _ = client.call(&Cmd::new("DEL").arg(self.keys.lease(&self.me))).await;
        for p in self.flow.processors().iter().filter(|p| p.acks_entries()) {
            for input in p.inputs() {
                let key = self.keys.stream(input.as_str());
                let cmd = Cmd::new("XPENDING")
                    .arg(&key)
                    .arg(p.name().as_str())
                    .arg("-")
                    .arg("+")
                    .arg("1")
                    .arg(&self.me);
                if let Ok(Reply::Array(items)) = client.call(&cmd).await
                    && items.is_empty()
                {
                    let del = Cmd::new("XGROUP")
                        .arg("DELCONSUMER")
                        .arg(&key)
                        .arg(p.name().as_str())
                        .arg(&self.me);
                    let _ = client.call(&del).await;
                }
            }
        }
    }
}

/// A growing pause for polling loops: `start`, doubling up to `max`.
#[derive(Debug)]
pub(crate) struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    pub fn new(start: Duration, max: Duration) -> Backoff {
        Backoff { next: start, max }
    }

    pub async fn wait(&mut self) {
        flowloop::sleep(self.next).await;
        self.next = (self.next * 2).min(self.max);
    }
}

/// A deadline helper for periodic work.
#[derive(Debug)]
pub(crate) struct Every {
    period: Duration,
    last: Option<Instant>,
}

impl Every {
    pub fn new(period: Duration) -> Every {
        Every { period, last: None }
    }

    /// True (and restarts the period) when the period elapsed or on the first call.
    pub fn due(&mut self) -> bool {
        let due = self.last.is_none_or(|l| l.elapsed() >= self.period);
        if due {
            self.last = Some(Instant::now());
        }
        due
    }
}

/// The index (from 1) of output `stream` among `declared` (the handler's outputs were
/// checked against `declared`).
pub(crate) fn output_index(declared: &[crate::names::StreamName], stream: &crate::names::StreamName) -> usize {
    declared
        .iter()
        .position(|o| o == stream)
        .expect("outputs were checked against the declared ones")
        + 1
}

/// Appends `(output index from 1, payload)` pairs for every value of `out` to a script's
/// arguments.
pub(crate) fn push_outputs(declared: &[crate::names::StreamName], out: crate::Outputs, args: &mut Vec<Vec<u8>>) {
    for (stream, payload) in out.items {
        args.push(output_index(declared, &stream).to_string().into_bytes());
        args.push(payload);
    }
}
