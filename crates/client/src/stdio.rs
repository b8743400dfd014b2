//! The spawned app-server's stdio: one task writes queued lines to its stdin, one reads its stdout
//! (reader.rs), and a supervisor owns the process, reaps it, and settles everything when it ends.

use crate::client::Inner;
use crate::process::{self, Exit, KillSignal};
use std::sync::Weak;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, watch};

pub(crate) async fn write_lines(mut stdin: tokio::process::ChildStdin, mut rx: mpsc::UnboundedReceiver<String>) {
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

pub(crate) async fn supervise(
    inner: Weak<Inner>,
    child: tokio::process::Child,
    tree: process::ProcessTree,
    kill: mpsc::UnboundedReceiver<KillSignal>,
    exit_tx: watch::Sender<Option<Exit>>,
    reader: tokio::task::JoinHandle<()>,
) {
    let exit = process::wait(child, tree, kill).await;
    exit_tx.send_replace(Some(exit.clone()));
    // Let the reader deliver what the process wrote before it died, but not forever: a grandchild
    // could keep the pipe open.
    let _ = tokio::time::timeout(Duration::from_millis(500), reader).await;
    if let Some(inner) = inner.upgrade() {
        let error = inner.transport_error(Some(exit));
        inner.shutdown(error);
    }
}
