//! Everything the app-server started, found again when it must end: not only its process group
//! (which a shell that calls `setsid`, a double-forked daemon or a login shell's snapshot leaves),
//! but every process that carries the tree's mark.
//!
//! The mark is a variable in the app-server's environment (`CODEX_SDK_TREE=<token>`, unique to
//! one client). Every process it starts inherits it, whatever session, group or parent it ends up
//! in, so a sweep finds them all among this user's processes: under `/proc` on Linux, through
//! libproc and `sysctl(KERN_PROCARGS2)` on macOS. Why this and not the alternatives (measured in
//! docs/reliability.md): a child subreaper needs a process of its own between Node and the
//! app-server to stay in place after Node exits (a subreaper Node would collect every orphan of the
//! embedder's other children); cgroups are only usable where a manager delegated one. The limit: a
//! process that scrubs its environment before it detaches (`env -i … &`, a daemon that resets its
//! environment) is not found; nor one running as another user.
//!
//! Trees are swept when they end (close(), the app-server exiting or killed), and at process exit
//! (an `atexit` hook): a program that ends without close() leaves nothing either. A sweep asks
//! first (SIGTERM, a short grace for exit traps to run), then kills. On Windows a job
//! object holds the tree instead (process.rs); only the mark is set there.

#[cfg(unix)]
use std::sync::{Mutex, Once};

/// The environment variable that marks a tree.
pub const MARK: &str = "CODEX_SDK_TREE";

/// A tree's mark, unique to this process and this tree.
pub fn new_mark() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{}-{n}-{nanos:x}", std::process::id())
}

/// The trees alive in this process, for the exit hook: (process group, mark).
#[cfg(unix)]
static LIVE: Mutex<Vec<(i32, String)>> = Mutex::new(Vec::new());

/// Registers a tree so that it is swept if the process exits while it lives.
#[cfg(unix)]
pub fn track(group: i32, mark: &str) {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        // SAFETY: registering a plain extern "C" function with the C runtime.
        unsafe {
            libc::atexit(sweep_all_at_exit);
        }
    });
    crate::lock(&LIVE).push((group, mark.to_owned()));
}

#[cfg(unix)]
pub fn untrack(mark: &str) {
    crate::lock(&LIVE).retain(|(_, m)| m != mark);
}

/// At exit (Node's event loop ran dry, or `process.exit()`): ends every tree still alive. A lock
/// another thread holds at that moment is not waited for.
#[cfg(unix)]
extern "C" fn sweep_all_at_exit() {
    let trees = match LIVE.try_lock() {
        Ok(trees) => trees.clone(),
        Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner().clone(),
        Err(std::sync::TryLockError::WouldBlock) => return,
    };
    // A short grace at exit: the process is ending, and its embedder is waiting for it.
    for (group, mark) in &trees {
        signal(Some(*group), mark, libc::SIGTERM);
    }
    let until = std::time::Instant::now() + std::time::Duration::from_millis(300);
    while std::time::Instant::now() < until && trees.iter().any(|(_, m)| !marked(entry(m).as_bytes()).is_empty()) {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    for (group, mark) in trees {
        kill(Some(group), &mark);
    }
}

/// How long what is left of a tree may take to end after SIGTERM before SIGKILL: enough for a
/// shell's exit traps (pyenv's rehash removes its lock file in one; killed outright, it leaves the
/// lock behind and every later login shell waits 60 s for it).
#[cfg(unix)]
pub const GRACE: std::time::Duration = std::time::Duration::from_millis(500);

#[cfg(unix)]
fn entry(mark: &str) -> String {
    format!("{MARK}={mark}")
}

/// Ends a tree once its app-server is gone: SIGTERM to the group and every marked process, up to
/// [`GRACE`] for them to go, then SIGKILL to whatever is left.
#[cfg(unix)]
pub async fn end(group: Option<i32>, mark: &str) {
    let entry = entry(mark);
    if signal(group, mark, libc::SIGTERM) {
        let until = tokio::time::Instant::now() + GRACE;
        while tokio::time::Instant::now() < until && !marked(entry.as_bytes()).is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    kill(group, mark);
}

/// Sends `sig` to the group and to every process that carries `mark`; whether any marked process
/// was found.
#[cfg(unix)]
fn signal(group: Option<i32>, mark: &str, sig: libc::c_int) -> bool {
    if let Some(group) = group.filter(|g| *g > 1) {
        // SAFETY: kill(2) on the group the app-server led (never 0 or 1: our own group, or all).
        unsafe {
            libc::kill(-group, sig);
        }
    }
    let found = marked(entry(mark).as_bytes());
    for pid in &found {
        // SAFETY: kill(2) on a process of this user that carries this tree's mark.
        unsafe {
            libc::kill(*pid, sig);
        }
    }
    !found.is_empty()
}

/// Kills the process group (when there is one), then every process that carries `mark`, until
/// none is left (a process may fork while the sweep runs; a few rounds catch what it started).
#[cfg(unix)]
pub fn kill(group: Option<i32>, mark: &str) {
    for _ in 0..5 {
        if !signal(group, mark, libc::SIGKILL) {
            return;
        }
    }
}

/// The processes of this user whose environment holds `entry` (`NAME=value`), zombies aside.
#[cfg(target_os = "linux")]
pub fn marked(entry: &[u8]) -> Vec<i32> {
    use std::os::unix::fs::MetadataExt;
    let me = std::process::id() as i32;
    // SAFETY: getuid(2) cannot fail.
    let uid = unsafe { libc::getuid() };
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok().map(|pid| (pid, e.path())))
        .filter(|(pid, path)| *pid > 1 && *pid != me && std::fs::metadata(path).is_ok_and(|m| m.uid() == uid))
        .filter(|(_, path)| {
            std::fs::read(path.join("environ")).is_ok_and(|env| env.split(|b| *b == 0).any(|v| v == entry))
        })
        .filter(|(_, path)| !is_zombie(&path.join("stat")))
        .map(|(pid, _)| pid)
        .collect()
}

#[cfg(target_os = "linux")]
fn is_zombie(stat: &std::path::Path) -> bool {
    // The state follows the command name, which ends at the last ')'.
    std::fs::read_to_string(stat).is_ok_and(|s| {
        s.rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
    })
}

/// The processes of this user whose environment holds `entry`, read with sysctl(KERN_PROCARGS2).
#[cfg(target_os = "macos")]
pub fn marked(entry: &[u8]) -> Vec<i32> {
    let me = std::process::id() as i32;
    // SAFETY: getuid(2) cannot fail.
    let uid = unsafe { libc::getuid() };
    pids_of(uid)
        .into_iter()
        .filter(|pid| {
            *pid > 1 && *pid != me && environment(*pid).is_some_and(|env| env.iter().any(|v| v.as_slice() == entry))
        })
        .collect()
}

/// This user's live processes, through libproc: every pid, then each one's owner and state.
#[cfg(target_os = "macos")]
fn pids_of(uid: libc::uid_t) -> Vec<i32> {
    // SAFETY: proc_listallpids(3) fills at most the buffer's size; asked with none, it counts.
    let count = unsafe { libc::proc_listallpids(std::ptr::null_mut(), 0) };
    if count <= 0 {
        return Vec::new();
    }
    let mut pids = vec![0 as libc::pid_t; count as usize + 64];
    let size = (pids.len() * std::mem::size_of::<libc::pid_t>()) as libc::c_int;
    // SAFETY: as above, into a buffer of `size` bytes.
    let n = unsafe { libc::proc_listallpids(pids.as_mut_ptr().cast(), size) };
    pids.truncate(n.max(0) as usize);
    pids.into_iter()
        .filter(|pid| {
            // SAFETY: proc_pidinfo(3) fills one proc_bsdinfo; a zeroed one is a valid value.
            let mut info: libc::proc_bsdinfo = unsafe { std::mem::zeroed() };
            let wanted = std::mem::size_of::<libc::proc_bsdinfo>() as libc::c_int;
            let got = unsafe {
                libc::proc_pidinfo(
                    *pid,
                    libc::PROC_PIDTBSDINFO,
                    0,
                    (&mut info as *mut libc::proc_bsdinfo).cast(),
                    wanted,
                )
            };
            got == wanted && info.pbi_uid == uid && info.pbi_status != libc::SZOMB
        })
        .collect()
}

/// A process's environment from KERN_PROCARGS2: argc, the executable path, NUL padding, argc
/// arguments, then the environment, each NUL-terminated.
#[cfg(target_os = "macos")]
fn environment(pid: i32) -> Option<Vec<Vec<u8>>> {
    let mut mib = [libc::CTL_KERN, libc::KERN_PROCARGS2, pid];
    let mut size: libc::size_t = 0;
    // SAFETY: sysctl(3) asked for the size first, then filled into a buffer of that size.
    let buf = unsafe {
        if libc::sysctl(
            mib.as_mut_ptr(),
            3,
            std::ptr::null_mut(),
            &mut size,
            std::ptr::null_mut(),
            0,
        ) != 0
        {
            return None;
        }
        let mut buf = vec![0u8; size];
        if libc::sysctl(
            mib.as_mut_ptr(),
            3,
            buf.as_mut_ptr().cast(),
            &mut size,
            std::ptr::null_mut(),
            0,
        ) != 0
        {
            return None;
        }
        buf.truncate(size);
        buf
    };
    let argc = i32::from_ne_bytes(buf.get(..4)?.try_into().ok()?);
    let mut rest = buf.get(4..)?;
    let path_end = rest.iter().position(|b| *b == 0)?;
    rest = &rest[path_end..];
    let start = rest.iter().position(|b| *b != 0)?;
    let mut parts = rest[start..].split(|b| *b == 0);
    for _ in 0..argc {
        parts.next()?;
    }
    Some(parts.take_while(|p| !p.is_empty()).map(<[u8]>::to_vec).collect())
}

/// Elsewhere (another unix) the process group is all there is.
#[cfg(all(unix, not(any(target_os = "linux", target_os = "macos"))))]
pub fn marked(_entry: &[u8]) -> Vec<i32> {
    Vec::new()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn a_sweep_finds_a_marked_process_that_left_the_group_and_only_those() {
        let mark = new_mark();
        // `setsid` puts the sleep in a session (and group) of its own, as a login shell's snapshot
        // or a daemon does; the mark comes along in its environment.
        let mut marked_child = Command::new("setsid")
            .args(["sleep", "30"])
            .env(MARK, &mark)
            .spawn()
            .unwrap();
        let mut other = Command::new("sleep")
            .arg("30")
            .env(MARK, "another-tree")
            .spawn()
            .unwrap();
        let entry = format!("{MARK}={mark}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let found = loop {
            let found = marked(entry.as_bytes());
            if !found.is_empty() || std::time::Instant::now() > deadline {
                break found;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        assert_eq!(found, vec![marked_child.id() as i32]);
        kill(None, &mark);
        let status = marked_child.wait().unwrap();
        assert!(!status.success(), "it was killed");
        assert!(marked(entry.as_bytes()).is_empty());
        assert!(
            other.try_wait().unwrap().is_none(),
            "another tree's process is left alone"
        );
        other.kill().unwrap();
        other.wait().unwrap();
    }

    #[test]
    fn marks_are_unique() {
        assert_ne!(new_mark(), new_mark());
    }
}
