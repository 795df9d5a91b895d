//! Waiting for Ctrl-C (SIGINT) or SIGTERM in the long-running subcommands (`serve`, a served
//! `run`); `flowloop run`'s batch mode has its own clean-stop handling in `flowloop-run`.

use std::sync::mpsc;

use flowloop_run::RunFailure;

/// A channel that receives one message per Ctrl-C or SIGTERM.
#[derive(Debug)]
pub struct Stop(mpsc::Receiver<()>);

impl Stop {
    /// Installs the process's Ctrl-C/SIGTERM handler.
    ///
    /// # Errors
    /// [`RunFailure::Graph`] when a handler is already installed or the OS refuses.
    pub fn install() -> Result<Stop, RunFailure> {
        let (tx, rx) = mpsc::channel();
        ctrlc::set_handler(move || {
            // The receiver lives until the process exits; a send error only means it is gone.
            let _ = tx.send(());
        })
        .map_err(|e| RunFailure::Graph(format!("cannot install the Ctrl-C/SIGTERM handler: {e}")))?;
        Ok(Stop(rx))
    }

    /// Calls `on_stop` on a new thread at the first Ctrl-C or SIGTERM.
    pub fn spawn_on_stop(self, on_stop: impl FnOnce() + Send + 'static) {
        std::thread::spawn(move || {
            if self.0.recv().is_ok() {
                on_stop();
            }
        });
    }

    /// Blocks until Ctrl-C or SIGTERM.
    pub fn wait(self) {
        // A closed channel cannot happen while `self` holds the receiver and the handler
        // holds the sender; either way the wait is over.
        let _ = self.0.recv();
    }
}

/// Prints `line` as the first line of standard output and flushes it, so a parent process
/// reading the address never waits on a buffer.
pub fn announce(line: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
