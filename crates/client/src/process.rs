//! Spawning and reaping the app-server process.

use crate::error::{code, ClientError};
use crate::options::ClientOptions;
use crate::tree;
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
    /// Ends the app-server's whole process tree (the tools it started included) when dropped.
    pub tree: ProcessTree,
    pub pid: Option<u32>,
    pub stdin: ChildStdin,
    pub stdout: ChildStdout,
    pub stderr: ChildStderr,
}

pub fn spawn(options: &ClientOptions, args: &[String]) -> Result<Spawned, ClientError> {
    let mark = tree::new_mark();
    let mut cmd = Command::new(&options.codex_path);
    cmd.args(args)
        .envs(&options.env)
        // Inherited by everything the app-server starts, wherever it goes: see tree.rs.
        .env(tree::MARK, &mark)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // If the client is dropped without close(), the process still goes.
        .kill_on_drop(true);
    // Its own process group, so that signals reach the tools it runs too, and so that a Ctrl-C
    // meant for the embedder's terminal is the embedder's to handle.
    #[cfg(unix)]
    cmd.process_group(0);
    if let Some(cwd) = &options.cwd {
        if !cwd.is_dir() {
            return Err(ClientError::invalid(format!(
                "cwd: {} is not a directory the app-server could start in",
                cwd.display()
            )));
        }
        cmd.current_dir(cwd);
    }
    let mut child = cmd.spawn().map_err(|e| {
        ClientError::new(
            code::SPAWN,
            format!("could not start {}: {e}", options.codex_path.display()),
        )
    })?;
    let pid = child.id();
    let tree = ProcessTree::adopt(&child, mark);
    let (Some(stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(ClientError::new(code::SPAWN, "the app-server's pipes were not created"));
    };
    Ok(Spawned {
        child,
        tree,
        pid,
        stdin,
        stdout,
        stderr,
    })
}

/// Waits for the process to exit, sending its tree the signals asked for meanwhile, and reaps it.
/// Whatever of the tree is left once it exited goes with `tree`.
pub async fn wait(mut child: Child, tree: ProcessTree, mut kill: mpsc::UnboundedReceiver<KillSignal>) -> Exit {
    let status = loop {
        tokio::select! {
            status = child.wait() => break status,
            Some(signal) = kill.recv() => tree.signal(&mut child, signal),
        }
    };
    // What the app-server left: asked to end, then killed (dropping the tree kills what remains).
    #[cfg(unix)]
    tree::end(tree.group, &tree.mark).await;
    drop(tree);
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

/// The app-server and everything it started: its process group and every process that carries
/// the tree's mark on unix (tree.rs), a job object on Windows. Dropping it kills whatever is left.
pub struct ProcessTree {
    #[cfg(unix)]
    group: Option<libc::pid_t>,
    #[cfg(unix)]
    mark: String,
    #[cfg(windows)]
    job: Option<windows::Job>,
}

impl ProcessTree {
    fn adopt(child: &Child, mark: String) -> Self {
        #[cfg(unix)]
        let group = child.id().map(|pid| pid as libc::pid_t);
        #[cfg(unix)]
        if let Some(group) = group {
            tree::track(group, &mark);
        }
        #[cfg(windows)]
        let _ = mark;
        Self {
            #[cfg(unix)]
            group,
            #[cfg(unix)]
            mark,
            #[cfg(windows)]
            job: windows::Job::adopt(child),
        }
    }

    fn signal(&self, child: &mut Child, signal: KillSignal) {
        #[cfg(unix)]
        if let Some(group) = self.group {
            let sig = match signal {
                KillSignal::Term => libc::SIGTERM,
                KillSignal::Kill => libc::SIGKILL,
            };
            // SAFETY: kill(2) on the group our unreaped child leads; the pid is still ours.
            unsafe { libc::kill(-group, sig) };
            return;
        }
        #[cfg(windows)]
        if let (KillSignal::Kill, Some(job)) = (signal, &self.job) {
            job.terminate();
        }
        let _ = child.start_kill();
    }
}

impl Drop for ProcessTree {
    /// Runs right after the app-server was reaped (or as the runtime shuts down), while stragglers
    /// keep the group id in use: the group, then everything else that carries the mark.
    fn drop(&mut self) {
        #[cfg(unix)]
        {
            tree::kill(self.group, &self.mark);
            tree::untrack(&self.mark);
        }
    }
}

#[cfg(windows)]
mod windows {
    use windows_sys::Win32::Foundation::{CloseHandle, HANDLE};
    use windows_sys::Win32::System::JobObjects::{
        AssignProcessToJobObject, CreateJobObjectW, JobObjectExtendedLimitInformation, SetInformationJobObject,
        TerminateJobObject, JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
    };

    /// A job object that kills its processes when its last handle closes.
    pub struct Job(HANDLE);

    // SAFETY: a job handle may be used and closed from any thread.
    unsafe impl Send for Job {}
    unsafe impl Sync for Job {}

    impl Job {
        pub fn adopt(child: &tokio::process::Child) -> Option<Job> {
            let process = child.raw_handle()?;
            // SAFETY: plain Win32 calls on a fresh job handle and our child's live process handle.
            unsafe {
                let job = CreateJobObjectW(std::ptr::null(), std::ptr::null());
                if job.is_null() {
                    return None;
                }
                let mut info: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = std::mem::zeroed();
                info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
                let set = SetInformationJobObject(
                    job,
                    JobObjectExtendedLimitInformation,
                    &info as *const _ as *const _,
                    std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
                );
                if set == 0 || AssignProcessToJobObject(job, process as HANDLE) == 0 {
                    CloseHandle(job);
                    return None;
                }
                Some(Job(job))
            }
        }

        pub fn terminate(&self) {
            // SAFETY: our own job handle, still open.
            unsafe { TerminateJobObject(self.0, 1) };
        }
    }

    impl Drop for Job {
        fn drop(&mut self) {
            // SAFETY: closing our own handle; KILL_ON_JOB_CLOSE ends what is left in the job.
            unsafe { CloseHandle(self.0) };
        }
    }
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
