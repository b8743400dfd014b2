//! Spawning and reaping the app-server process.

use crate::error::{code, ClientError};
use crate::options::ClientOptions;
use std::process::Stdio;
use tokio::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command};
use tokio::sync::mpsc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillSignal {
    Term,
    Kill,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    pub code: Option<i32>,
    pub signal: Option<String>,
}

pub struct Spawned {
    pub child: Child,
    pub pid: Option<u32>,
    pub stdin: ChildStdin,
    pub stdout: ChildStdout,
    pub stderr: ChildStderr,
}

pub fn spawn(options: &ClientOptions, args: &[String]) -> Result<Spawned, ClientError> {
    let mut cmd = Command::new(&options.codex_path);
    cmd.args(args)
        .envs(&options.env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // If the client is dropped without close(), the process still goes.
        .kill_on_drop(true);
    if let Some(cwd) = &options.cwd {
        cmd.current_dir(cwd);
    }
    let mut child = cmd.spawn().map_err(|e| {
        ClientError::new(
            code::SPAWN,
            format!("could not start {}: {e}", options.codex_path.display()),
        )
    })?;
    let pid = child.id();
    let (Some(stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(ClientError::new(code::SPAWN, "the app-server's pipes were not created"));
    };
    Ok(Spawned {
        child,
        pid,
        stdin,
        stdout,
        stderr,
    })
}

/// Waits for the process to exit, sending it the signals asked for meanwhile, and reaps it.
pub async fn wait(mut child: Child, mut kill: mpsc::UnboundedReceiver<KillSignal>) -> Exit {
    let status = loop {
        tokio::select! {
            status = child.wait() => break status,
            Some(signal) = kill.recv() => send_signal(&mut child, signal),
        }
    };
    match status {
        Ok(s) => Exit {
            code: s.code(),
            signal: signal_name(&s),
        },
        Err(_) => Exit {
            code: None,
            signal: None,
        },
    }
}

fn send_signal(child: &mut Child, signal: KillSignal) {
    #[cfg(unix)]
    if let (KillSignal::Term, Some(pid)) = (signal, child.id()) {
        // SAFETY: kill(2) on our own child's pid; the child is not reaped yet, so the pid is ours.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
        return;
    }
    let _ = signal;
    let _ = child.start_kill();
}

#[cfg(unix)]
fn signal_name(status: &std::process::ExitStatus) -> Option<String> {
    use std::os::unix::process::ExitStatusExt;
    status.signal().map(|s| match s {
        libc::SIGTERM => "SIGTERM".to_owned(),
        libc::SIGKILL => "SIGKILL".to_owned(),
        libc::SIGINT => "SIGINT".to_owned(),
        libc::SIGSEGV => "SIGSEGV".to_owned(),
        libc::SIGABRT => "SIGABRT".to_owned(),
        libc::SIGHUP => "SIGHUP".to_owned(),
        libc::SIGPIPE => "SIGPIPE".to_owned(),
        n => format!("signal {n}"),
    })
}

#[cfg(not(unix))]
fn signal_name(_: &std::process::ExitStatus) -> Option<String> {
    None
}
