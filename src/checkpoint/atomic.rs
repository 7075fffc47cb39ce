//! Crash-safe file replacement: write a temporary file in the same folder,
//! sync it, rename it over the target, sync the folder.
//!
//! A rename within one file system is atomic, so a reader (or a crash at any
//! instant) sees either the old file or the complete new one, never a mix.
//! Syncing the file before the rename makes sure the new name never points at
//! data still in the page cache; syncing the folder afterwards makes the rename
//! itself durable. A process killed mid-write leaves at most a stray
//! `.<name>.tmp-*` file next to the target, never a damaged target.

use crate::{Error, Result};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Atomically replaces the file at `path` with `data`.
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

/// Makes a rename in `path`'s folder durable. Folders cannot be opened for
/// syncing on every platform; where they cannot, the rename stays atomic but
/// its durability is left to the OS.
fn sync_dir(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}
