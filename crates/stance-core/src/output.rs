//! Atomic output: a run that fails or is killed half-way must not leave half-written reports
//! that look like results, and an output folder must never hold files of two runs. The whole
//! result is written into a staging folder beside `--out` and swapped in by one atomic rename
//! (Linux `renameat2(RENAME_EXCHANGE)`; elsewhere two renames, the old result kept until the
//! new one is in place), so every reader sees either the old result or the new one.
//!
//! A staging folder is named `.<out>.stance-staging-<pid>-<random>`; one left by a killed run
//! (its process gone) is removed by the next run into the same `--out`, which says so.

use crate::{Error, IoContext, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A staging folder for the complete contents of an output folder.
pub struct Staging {
    dir: tempfile::TempDir,
    out: PathBuf,
    /// Staging folders of killed runs into the same `--out`, removed when this one was made.
    pub removed_leftovers: Vec<PathBuf>,
}

/// The marker files of the tool's own output folders: a folder holding one of them (or
/// nothing) may be replaced as a whole.
const MARKERS: [&str; 2] = ["run.json", "compose.json"];

impl Staging {
    /// Prepares to write `out`. An existing `out` must be a folder this tool wrote (it holds
    /// `run.json` or `compose.json`) or an empty one, since the commit replaces it whole.
    pub fn new(out: &Path) -> Result<Self> {
        if out.exists() {
            if !out.is_dir() {
                return Err(Error::file(out, "--out exists and is not a folder"));
            }
            let mut entries = std::fs::read_dir(out).at(out, "cannot read folder")?;
            let ours = MARKERS.iter().any(|m| out.join(m).is_file());
            if !ours && entries.next().is_some() {
                return Err(Error::file(
                    out,
                    "--out holds files this tool did not write (no run.json); it would be replaced whole: choose a new or empty folder",
                ));
            }
        }
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).at(&parent, "cannot create folder")?;
        let name = out.file_name().ok_or_else(|| Error::file(out, "--out needs a folder name"))?.to_string_lossy().to_string();
        let removed_leftovers = remove_leftovers(&parent, &name)?;
        let prefix = format!(".{name}.stance-staging-{}-", std::process::id());
        let dir =
            tempfile::Builder::new().prefix(&prefix).tempdir_in(&parent).at(parent.join(&prefix), "cannot create a staging folder")?;
        Ok(Self { dir, out: out.to_path_buf(), removed_leftovers })
    }

    /// Where to write the staged files.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes one staged file (`name` may hold a sub-folder, created as needed); an error
    /// names the file.
    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> Result<()> {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).at(parent, "cannot create folder")?;
        }
        std::fs::write(&path, bytes).at(&path, "cannot write")
    }

    /// Swaps the staged folder in for `out` in one rename; the previous result is removed
    /// only once the new one is in place.
    pub fn commit(self) -> Result<()> {
        let staged = self.dir.keep();
        let out = &self.out;
        if !out.exists() {
            return std::fs::rename(&staged, out).at(out, "cannot move the result into place");
        }
        match exchange(&staged, out) {
            // `staged` now holds the previous result.
            Ok(()) => std::fs::remove_dir_all(&staged).at(&staged, "cannot remove the previous result"),
            Err(_) => {
                // No atomic exchange here: move the old result aside, the new one in, and
                // put the old one back if that fails.
                let old = staged.with_file_name(
                    staged.file_name().expect("a staging name").to_string_lossy().replace(".stance-staging-", ".stance-old-"),
                );
                std::fs::rename(out, &old).at(out, "cannot move the previous result aside")?;
                if let Err(e) = std::fs::rename(&staged, out) {
                    let _ = std::fs::rename(&old, out);
                    return Err(e).at(out, "cannot move the result into place");
                }
                std::fs::remove_dir_all(&old).at(&old, "cannot remove the previous result")
            }
        }
    }
}

/// Atomically exchanges two paths (Linux `renameat2` with `RENAME_EXCHANGE`).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let a = CString::new(a.as_os_str().as_bytes())?;
    let b = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both paths are valid NUL-terminated strings for the duration of the call.
    let rc = unsafe { libc::syscall(libc::SYS_renameat2, libc::AT_FDCWD, a.as_ptr(), libc::AT_FDCWD, b.as_ptr(), libc::RENAME_EXCHANGE) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

/// Removes the staging (and set-aside) folders that killed runs into `parent/name` left, and
/// returns them. A folder whose process still runs is left alone.
fn remove_leftovers(parent: &Path, name: &str) -> Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(parent) else { return Ok(removed) };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().to_string();
        let Some(rest) = [".stance-staging-", ".stance-old-"].iter().find_map(|kind| file.strip_prefix(&format!(".{name}{kind}"))) else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|pid| pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists());
        if !alive && entry.path().is_dir() {
            std::fs::remove_dir_all(entry.path()).at(entry.path(), "cannot remove an interrupted run's staging folder")?;
            removed.push(entry.path());
        }
    }
    Ok(removed)
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename. The file
/// keeps the mode of the one it replaces, and a new file gets an ordinary one (0644), not the
/// temporary file's owner-only mode.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(parent).at(path, "cannot write")?;
    tmp.write_all(bytes).at(path, "cannot write")?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map(|m| m.permissions().mode() & 0o7777).unwrap_or(0o644);
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(mode)).at(path, "cannot set the file's mode")?;
    }
    tmp.persist(path).map_err(|e| e.error).at(path, "cannot write")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_reaches_out_until_commit_and_commit_replaces() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("reports");
        let staging = Staging::new(&out).unwrap();
        std::fs::write(staging.path().join("a.csv"), "1").unwrap();
        std::fs::write(staging.path().join("run.json"), "{}").unwrap();
        std::fs::create_dir(staging.path().join("cleaned")).unwrap();
        std::fs::write(staging.path().join("cleaned/d.txt"), "x").unwrap();
        assert!(!out.exists());
        staging.commit().unwrap();
        assert_eq!(std::fs::read_to_string(out.join("a.csv")).unwrap(), "1");

        let again = Staging::new(&out).unwrap();
        std::fs::write(again.path().join("a.csv"), "2").unwrap();
        std::fs::create_dir(again.path().join("cleaned")).unwrap();
        std::fs::write(again.path().join("cleaned/e.txt"), "y").unwrap();
        again.commit().unwrap();
        assert_eq!(std::fs::read_to_string(out.join("a.csv")).unwrap(), "2");
        assert!(!out.join("cleaned/d.txt").exists() && out.join("cleaned/e.txt").exists());
        let leftovers: Vec<_> = std::fs::read_dir(root.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(leftovers, ["reports"]);
        assert!(!out.join("run.json").exists(), "the whole folder is the new result");

        // A folder of someone else's files is never replaced; an empty one may be.
        let foreign = root.path().join("mine");
        std::fs::create_dir(&foreign).unwrap();
        std::fs::write(foreign.join("notes.txt"), "keep").unwrap();
        let err = Staging::new(&foreign).err().unwrap().to_string();
        assert!(err.contains("mine: --out holds files this tool did not write"), "{err}");
        std::fs::remove_file(foreign.join("notes.txt")).unwrap();
        assert!(Staging::new(&foreign).is_ok());
    }

    #[test]
    fn a_killed_runs_staging_folder_is_removed_by_the_next_run() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("reports");
        // pid 0 is never a process of ours: the folder of a run that no longer exists.
        let leftover = root.path().join(".reports.stance-staging-0-abc");
        std::fs::create_dir(&leftover).unwrap();
        let other = root.path().join(".other.stance-staging-0-abc");
        std::fs::create_dir(&other).unwrap();
        let staging = Staging::new(&out).unwrap();
        assert_eq!(staging.removed_leftovers, std::slice::from_ref(&leftover));
        assert!(!leftover.exists() && other.exists(), "only this --out's leftovers go");
    }

    #[cfg(unix)]
    #[test]
    fn atomic_writes_keep_the_mode_or_give_an_ordinary_one() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let fresh = dir.path().join("new.csv");
        write_atomic(&fresh, b"a").unwrap();
        assert_eq!(mode(&fresh), 0o644);
        let kept = dir.path().join("kept.csv");
        std::fs::write(&kept, "x").unwrap();
        std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&kept, b"b").unwrap();
        assert_eq!((mode(&kept), std::fs::read_to_string(&kept).unwrap().as_str()), (0o640, "b"));
    }

    #[test]
    fn a_dropped_staging_leaves_nothing() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("reports");
        {
            let staging = Staging::new(&out).unwrap();
            std::fs::write(staging.path().join("a.csv"), "1").unwrap();
        }
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0);
    }
}
