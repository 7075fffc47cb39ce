//! Crash-safe file replacement: write a temporary file in the same folder,
//! sync it, rename it over the target, sync the folder.
//!
//! A rename within one file system is atomic, so a reader (or a crash at any
//! instant) sees either the old file or the complete new one, never a mix.
//! Syncing the file before the rename makes sure the new name never points at
//! data still in the page cache; syncing the folder afterwards makes the rename
//! itself durable. A process killed mid-write leaves at most a stray
//! `.<name>.tmp-<pid>-<n>` file next to the target, never a damaged target.
//!
//! # Stale temporary files
//! Such a stray file would stay forever, and a large checkpoint's can fill a
//! disk over a few crashes. So every save first removes the sibling files that
//! are exactly a temporary name this module gives *for the same target*
//! (`.<name>.tmp-<pid>-<n>`, both numbers canonical decimal) and whose writer
//! PID is not a live process (`kill(pid, 0)` fails with `ESRCH`). Files of a
//! live process are kept, this process's included (another thread may be
//! saving to the same target), as are those of other targets, anything that
//! only looks similar, and folders or links. A reused PID only keeps a stale
//! file longer. This is done on Linux with glibc only, where `libc` is
//! available; elsewhere stale files are left alone rather than guessed at.
//! The PID is only meaningful inside one PID namespace: a folder shared with
//! a container or another machine writing to the same target can have a live
//! writer this process sees as dead, so such setups should not share targets.

use crate::{Error, Result};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Atomically replaces the file at `path` with `data`, through a temporary
/// file `.<name>.tmp-<pid>-<n>` in the same folder.
///
/// First, on Linux with glibc, the temporary files that earlier saves to the
/// same target left behind are removed when their writer process no longer
/// exists (`kill(pid, 0)` fails with `ESRCH`); files of live processes
/// (this one included), of other targets, folders, links and names that
/// only resemble the pattern are never touched. Elsewhere nothing is removed.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    write_atomic_via(path, data, |f| Box::new(f))
}

/// [`write_atomic`], with the bytes going through the writer `wrap` builds
/// around the temporary file. This is the seam crash-safety tests use to
/// inject a writer that fails half-way; the file is synced after the writer is
/// dropped. On any error the temporary file is removed and the target is untouched.
pub fn write_atomic_via<F>(path: &Path, data: &[u8], wrap: F) -> Result<()>
where
    F: for<'a> FnOnce(&'a mut File) -> Box<dyn Write + 'a>,
{
    let tmp = temp_path(path)?;
    // Before writing, so that the space stale files hold is free for this save.
    remove_stale_temps(path);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(|e| Error::io(format!("creating the temporary file {}", tmp.display()), e))?;
    let written = {
        let mut w = wrap(&mut file);
        w.write_all(data).and_then(|_| w.flush())
    };
    let synced = written.and_then(|_| file.sync_all());
    drop(file);
    if let Err(e) = synced {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(format!("writing {}", tmp.display()), e));
    }
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(
            format!("renaming {} over {}", tmp.display(), path.display()),
            e,
        ));
    }
    sync_dir(path).map_err(|e| Error::io(format!("syncing the folder of {}", path.display()), e))
}

/// `.<name>.tmp-<pid>-<n>` in the target's folder (same file system, so the rename is atomic).
fn temp_path(path: &Path) -> Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .ok_or_else(|| Error::invalid("checkpoint save", format!("{} does not name a file", path.display())))?;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp_name = format!(".{}.tmp-{}-{n}", name.to_string_lossy(), std::process::id());
    Ok(path.with_file_name(tmp_name))
}

/// The folder `path` is in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Removes the temporary files that saves to `path` by dead processes left
/// behind (see the module docs). Best effort: a folder that cannot be listed
/// or a file that cannot be removed does not fail the save.
fn remove_stale_temps(path: &Path) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // A name that is not UTF-8 is written lossily, so two targets could
        // share a pattern: leave those alone.
        let Some(target) = path.file_name().and_then(|n| n.to_str()) else {
            return;
        };
        let Ok(entries) = fs::read_dir(parent_dir(path)) else {
            return;
        };
        let own = std::process::id();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name.to_str().and_then(|n| temp_writer_pid(n, target)) else {
                continue;
            };
            if pid == own || process_alive(pid) {
                continue;
            }
            // `file_type` does not follow links: only plain files are ours.
            if entry.file_type().is_ok_and(|t| t.is_file()) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        let _ = path;
    }
}

/// The writer's PID when `file` is exactly a name [`temp_path`] gives for the
/// target file name `target`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn temp_writer_pid(file: &str, target: &str) -> Option<u32> {
    let rest = file.strip_prefix('.')?.strip_prefix(target)?.strip_prefix(".tmp-")?;
    let (pid, n) = rest.split_once('-')?;
    canonical_decimal::<u64>(n)?;
    canonical_decimal::<u32>(pid)
}

/// `s` as a number if it is written as `format!("{}")` writes one: ASCII
/// digits, no sign, no leading zero.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn canonical_decimal<T: std::str::FromStr>(s: &str) -> Option<T> {
    let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    s.parse().ok()
}

/// Whether a process with this PID exists. Anything but a clear "no such
/// process" counts as alive, so that a file is only ever removed for certain.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn process_alive(pid: u32) -> bool {
    // 0 and negative values address process groups, not one process.
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return true;
    };
    if pid <= 0 {
        return true;
    }
    // SAFETY: `kill` takes plain integers and touches no memory of ours;
    // signal 0 delivers nothing, it only checks that the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Makes a rename in `path`'s folder durable. Folders cannot be opened for
/// syncing on every platform; where they cannot, the rename stays atomic but
/// its durability is left to the OS.
fn sync_dir(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(parent_dir(path))?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    #[test]
    fn only_exact_temp_names_of_the_target_match() {
        assert_eq!(temp_writer_pid(".m.ckpt.tmp-123-0", "m.ckpt"), Some(123));
        assert_eq!(temp_writer_pid(".m.ckpt.tmp-1-18446744073709551615", "m.ckpt"), Some(1));
        for other in [
            "m.ckpt.tmp-123-0",
            ".m.ckpt.tmp-123",
            ".m.ckpt.tmp-123-",
            ".m.ckpt.tmp--0",
            ".m.ckpt.tmp-0123-0",
            ".m.ckpt.tmp-123-00",
            ".m.ckpt.tmp-+123-0",
            ".m.ckpt.tmp-123-0.bak",
            ".m.ckpt.tmp-123-0-1",
            ".m.ckpt.tmp-99999999999-0",
            ".m.ckpt.tmp-123-99999999999999999999",
            ".xm.ckpt.tmp-123-0",
            ".m.ckpt2.tmp-123-0",
            ".m.ckpt.tmp-1.tmp-5-0",
        ] {
            assert_eq!(temp_writer_pid(other, "m.ckpt"), None, "{other}");
        }
        // A target whose own name contains the pattern.
        assert_eq!(temp_writer_pid(".m.tmp-1.tmp-5-0", "m.tmp-1"), Some(5));
        assert_eq!(temp_writer_pid(".m.tmp-1.tmp-5-0", "m"), None);
    }

    #[test]
    fn this_process_is_alive_and_a_reaped_child_is_not() {
        assert!(process_alive(std::process::id()));
        let mut child = std::process::Command::new("true").spawn().expect("spawn true");
        let pid = child.id();
        child.wait().expect("wait for true");
        assert!(!process_alive(pid));
        assert!(process_alive(0), "0 is no single process: never treated as dead");
        assert!(process_alive(u32::MAX), "not a pid_t: never treated as dead");
    }
}
