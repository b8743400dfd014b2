//! The stdio transport: the app-server as a child process. One task writes queued lines to its
//! stdin, one reads its stdout, one collects its stderr, and a supervisor owns the process, reaps
//! it, and settles everything when it ends.

use crate::error::{code, ClientError};
use crate::options::ClientOptions;
use crate::process::{self, Exit, KillSignal};
use crate::stderr_tail::StderrTail;
use crate::transport::{read_lines, Boxed, Delivery, Link, Outbox, Transport};
use std::sync::Weak;
use std::time::Duration;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, watch};

pub(crate) struct Stdio {
    writer: Outbox,
    pid: Option<u32>,
    stderr: StderrTail,
    kill: mpsc::UnboundedSender<KillSignal>,
    exit: watch::Receiver<Option<Exit>>,
}

/// The parts of a spawned app-server its tasks take over once the client exists.
pub(crate) struct Parts {
    spawned: process::Spawned,
    writer: mpsc::UnboundedReceiver<String>,
    kill: mpsc::UnboundedReceiver<KillSignal>,
    exit: watch::Sender<Option<Exit>>,
}

/// Spawns `codex app-server` with these options.
pub(crate) fn spawn(options: &ClientOptions) -> Result<(Stdio, Parts), ClientError> {
    let args = options.args().map_err(ClientError::invalid)?;
    let spawned = process::spawn(options, &args)?;
    let outbox = Outbox::default();
    let writer = outbox.open();
    let (kill_tx, kill) = mpsc::unbounded_channel();
    let (exit_tx, exit_rx) = watch::channel(None);
    let stdio = Stdio {
        writer: outbox,
        pid: spawned.pid,
        stderr: StderrTail::default(),
        kill: kill_tx,
        exit: exit_rx,
    };
    Ok((
        stdio,
        Parts {
            spawned,
            writer,
            kill,
            exit: exit_tx,
        },
    ))
}

impl Stdio {
    /// Starts the process's I/O tasks, delivering what it writes to `to`.
    pub(crate) fn run(&self, to: Weak<dyn Delivery>, parts: Parts) {
        let Parts {
            spawned,
            writer,
            kill,
            exit,
        } = parts;
        tokio::spawn(self.stderr.clone().collect(spawned.stderr));
        tokio::spawn(write_lines(spawned.stdin, writer));
        let stdout = BufReader::with_capacity(64 * 1024, spawned.stdout);
        let reader = tokio::spawn(read_lines(to.clone(), stdout));
        tokio::spawn(supervise(to, spawned.child, spawned.tree, kill, exit, reader));
    }
}

impl Transport for Stdio {
    fn send(&self, line: String) -> bool {
        self.writer.send(line)
    }

    fn link(&self) -> Option<watch::Receiver<Link>> {
        None
    }

    /// Closes stdin (the app-server exits when it closes), waits, then TERM, then KILL, to the
    /// process's whole group.
    fn close(&self) -> Boxed<'_, ()> {
        Box::pin(async move {
            self.writer.shut();
            let mut exit = self.exit.clone();
            for (signal, grace) in [
                (None, 2_000),
                (Some(KillSignal::Term), 2_000),
                (Some(KillSignal::Kill), 5_000),
            ] {
                if let Some(s) = signal {
                    let _ = self.kill.send(s);
                }
                let waited = tokio::time::timeout(Duration::from_millis(grace), exit.wait_for(Option::is_some)).await;
                if waited.is_ok() {
                    break;
                }
            }
        })
    }

    fn ended(&self, closing: bool) -> ClientError {
        let exit = self.exit.borrow().clone();
        let message = match (&exit, closing) {
            (_, true) => "the client was closed".to_owned(),
            (Some(Exit { code: Some(c), .. }), _) => format!("the app-server exited with code {c}"),
            (Some(Exit { signal: Some(s), .. }), _) => format!("the app-server was killed by {s}"),
            _ => "the app-server closed its output".to_owned(),
        };
        let mut e = ClientError::new(code::TRANSPORT_CLOSED, message);
        if let Some(x) = exit {
            e.details.exit_code = x.code;
            e.details.signal = x.signal;
        }
        // What the process logged explains a death, not a close the caller asked for.
        if !closing {
            e.details.stderr_tail = Some(self.stderr.readable());
        }
        e
    }

    fn pid(&self) -> Option<u32> {
        self.pid
    }

    fn start_failure_detail(&self) -> Option<String> {
        Some(self.stderr.readable())
    }
}

async fn write_lines(mut stdin: tokio::process::ChildStdin, mut rx: mpsc::UnboundedReceiver<String>) {
    while let Some(mut line) = rx.recv().await {
        line.push('\n');
        if stdin.write_all(line.as_bytes()).await.is_err() {
            break;
        }
        // Flush only when nothing else is queued, so bursts go out in one write.
        if rx.is_empty() && stdin.flush().await.is_err() {
            break;
        }
    }
    // Dropping stdin closes the pipe: the app-server exits when its stdin closes.
}

async fn supervise(
    to: Weak<dyn Delivery>,
    child: tokio::process::Child,
    tree: process::ProcessTree,
    kill: mpsc::UnboundedReceiver<KillSignal>,
    exit_tx: watch::Sender<Option<Exit>>,
    reader: tokio::task::JoinHandle<()>,
) {
    let exit = process::wait(child, tree, kill).await;
    exit_tx.send_replace(Some(exit));
    // Let the reader deliver what the process wrote before it died, but not forever: a grandchild
    // could keep the pipe open.
    let _ = tokio::time::timeout(Duration::from_millis(500), reader).await;
    if let Some(to) = to.upgrade() {
        to.ended(None);
    }
}
