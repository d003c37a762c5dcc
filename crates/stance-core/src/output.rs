//! Atomic output: a run that fails or is killed half-way must not leave half-written reports
//! that look like results, and an output folder must never hold files of two runs. The whole
//! result is written into a staging folder beside `--out` and swapped in by one atomic rename
//! (Linux `renameat2(RENAME_EXCHANGE)`; elsewhere two renames, the old result kept until the
//! new one is in place), so every reader sees either the old result or the new one.
//!
//! A staging folder is named `.<out>.stance-staging-<pid>-<random>` and holds a lock (flock)
//! while its run lives; one left by a killed run (its lock free) is removed by the next run
//! into the same `--out`, which says so, and a previous result a killed run had set aside is
//! put back. A result replaces `--out` whole, so `--out` may hold only the entries a result
//! of that kind has.

use crate::{Error, IoContext, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A staging folder for the complete contents of an output folder.
pub struct Staging {
    dir: OwnedDir,
    out: PathBuf,
    /// The entries a result of this kind may hold.
    known: Vec<String>,
    /// Held (locked) while this run lives, so another run never takes its staging folder for
    /// an abandoned one.
    _lock: std::fs::File,
    /// Folders of killed runs into the same `--out`, removed when this one was made.
    pub removed_leftovers: Vec<PathBuf>,
    /// A previous result a killed run had set aside and not put back, restored as `--out`.
    pub restored: Option<PathBuf>,
    /// The staging folder of a killed run taken over by [`Staging::resume`].
    pub resumed: Option<PathBuf>,
}

/// A folder removed when dropped, unless kept.
struct OwnedDir {
    path: PathBuf,
    keep: bool,
}

impl Drop for OwnedDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// The lock file inside a staging folder.
const LOCK: &str = ".stance-lock";

impl Staging {
    /// Prepares to write `out`, whose result holds only entries named in `known`. An existing
    /// `out` must hold nothing else (it is replaced whole at the commit).
    pub fn new(out: &Path, known: &[&str]) -> Result<Self> {
        Self::open(out, known, false)
    }

    /// As [`Staging::new`], but the staging folder of a killed run into the same `out` (the
    /// newest, if several) is taken over with what it holds, for the caller to check and reuse
    /// (`stance run --resume`); [`Staging::resumed`] names it. Without one, a new folder. Unlike
    /// [`Staging::new`]'s, the folder stays when the run fails, for the next resume.
    pub fn resume(out: &Path, known: &[&str]) -> Result<Self> {
        Self::open(out, known, true)
    }

    fn open(out: &Path, known: &[&str], adopt: bool) -> Result<Self> {
        let known: Vec<String> = known.iter().map(|k| k.to_string()).collect();
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).at(&parent, "cannot create folder")?;
        let name = out.file_name().ok_or_else(|| Error::file(out, "--out needs a folder name"))?.to_string_lossy().to_string();
        let Leftovers { removed: removed_leftovers, restored, adopted } = tidy_leftovers(&parent, &name, out, adopt)?;
        check_replaceable(out, &known)?;
        let (path, resumed) = match adopted {
            Some(path) => (path.clone(), Some(path)),
            None => {
                let prefix = format!(".{name}.stance-staging-{}-", std::process::id());
                let dir = tempfile::Builder::new()
                    .prefix(&prefix)
                    .tempdir_in(&parent)
                    .at(parent.join(&prefix), "cannot create a staging folder")?;
                (dir.keep(), None)
            }
        };
        let mut dir = OwnedDir { path, keep: true };
        let lock_path = dir.path.join(LOCK);
        let lock = std::fs::File::create(&lock_path).at(&lock_path, "cannot create a lock file")?;
        lock_exclusive(&lock).at(&lock_path, "cannot lock the staging folder (another run is using it)")?;
        // A run that may be resumed keeps its folder when it fails (a transient error must not
        // throw away hours of labelling); any other run's failure removes it.
        dir.keep = adopt;
        Ok(Self { dir, out: out.to_path_buf(), known, _lock: lock, removed_leftovers, restored, resumed })
    }

    /// Where to write the staged files.
    pub fn path(&self) -> &Path {
        &self.dir.path
    }

    /// Writes one staged file (`name` may hold a sub-folder, created as needed); an error
    /// names the file. The staging folder itself is never re-created: if it is gone, the run
    /// fails rather than commit a partial result.
    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> Result<()> {
        let root = self.dir.path.as_path();
        if !root.join(LOCK).is_file() {
            return Err(Error::file(root, "the staging folder is gone (removed by another process?); nothing was committed"));
        }
        let path = root.join(name);
        if let Some(parent) = path.parent().filter(|p| *p != root) {
            std::fs::create_dir_all(parent).at(parent, "cannot create folder")?;
        }
        std::fs::write(&path, bytes).at(&path, "cannot write")
    }

    /// Swaps the staged folder in for `out` in one rename; the previous result is removed
    /// only once the new one is in place.
    pub fn commit(self) -> Result<()> {
        // Checked again: hours may have passed since the run began.
        check_replaceable(&self.out, &self.known)?;
        let mut this = self;
        this.dir.keep = true;
        let staged = this.dir.path.clone();
        let out = &this.out;
        let result = if !out.exists() {
            std::fs::rename(&staged, out).at(out, "cannot move the result into place")
        } else {
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
        };
        result?;
        let lock = out.join(LOCK);
        std::fs::remove_file(&lock).at(&lock, "cannot remove the lock file")
    }
}

/// An error unless `out` is absent, empty, or holds only entries named in `known`.
fn check_replaceable(out: &Path, known: &[String]) -> Result<()> {
    if !out.exists() {
        return Ok(());
    }
    if !out.is_dir() {
        return Err(Error::file(out, "--out exists and is not a folder"));
    }
    for entry in std::fs::read_dir(out).at(out, "cannot read folder")? {
        let name = entry.at(out, "cannot read folder")?.file_name().to_string_lossy().to_string();
        if !known.contains(&name) && name != LOCK {
            return Err(Error::file(
                out,
                format!("--out holds '{name}', which this tool did not write; a result replaces the folder whole: move it, or choose another --out"),
            ));
        }
    }
    Ok(())
}

#[cfg(unix)]
fn flock(file: &std::fs::File, operation: i32) -> std::io::Result<()> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: a valid open file descriptor for the duration of the call.
    if unsafe { libc::flock(file.as_raw_fd(), operation) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(unix)]
fn lock_exclusive(file: &std::fs::File) -> std::io::Result<()> {
    flock(file, libc::LOCK_EX | libc::LOCK_NB)
}

#[cfg(not(unix))]
fn lock_exclusive(_: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

/// Whether a live process holds the lock of the staging folder `dir`.
fn held_by_a_live_run(dir: &Path) -> bool {
    let Ok(file) = std::fs::File::open(dir.join(LOCK)) else { return false };
    #[cfg(unix)]
    {
        if flock(&file, libc::LOCK_EX | libc::LOCK_NB).is_err() {
            return true;
        }
        let _ = flock(&file, libc::LOCK_UN);
    }
    drop(file);
    false
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

/// What [`tidy_leftovers`] did.
struct Leftovers {
    removed: Vec<PathBuf>,
    restored: Option<PathBuf>,
    adopted: Option<PathBuf>,
}

/// Tidies what killed runs into `parent/name` left: a previous result set aside and not put
/// back is restored as `out` (when `out` is missing); staging folders no live run holds are
/// removed, except (with `adopt`) the newest, which is returned for the caller to take over.
fn tidy_leftovers(parent: &Path, name: &str, out: &Path, adopt: bool) -> Result<Leftovers> {
    let mut done = Leftovers { removed: Vec::new(), restored: None, adopted: None };
    let Ok(entries) = std::fs::read_dir(parent) else { return Ok(done) };
    let mut found: Vec<(bool, PathBuf)> = entries
        .flatten()
        .filter_map(|entry| {
            let file = entry.file_name().to_string_lossy().to_string();
            let old = file.starts_with(&format!(".{name}.stance-old-"));
            (old || file.starts_with(&format!(".{name}.stance-staging-"))).then(|| (old, entry.path()))
        })
        .filter(|(_, path)| path.is_dir())
        .collect();
    found.sort();
    if adopt {
        let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        done.adopted = found
            .iter()
            .filter(|(old, path)| !old && !held_by_a_live_run(path))
            .max_by_key(|(_, path)| (modified(path), path.clone()))
            .map(|(_, path)| path.clone());
    }
    for (old, path) in found {
        if done.adopted.as_ref() == Some(&path) {
            continue;
        }
        if old && !out.exists() {
            std::fs::rename(&path, out).at(&path, "cannot restore the previous result")?;
            done.restored = Some(path);
        } else if old || !held_by_a_live_run(&path) {
            std::fs::remove_dir_all(&path).at(&path, "cannot remove an interrupted run's staging folder")?;
            done.removed.push(path);
        }
    }
    Ok(done)
}

/// `path` as the file system resolves it (links, `..`), also when it does not exist yet (its
/// folder resolved, its name kept).
fn resolved(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match (parent.canonicalize(), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => path.to_path_buf(),
    }
}

/// Refuses an output that would destroy an input: `out` is one of `inputs`, or lies above
/// one (a folder a result replaces whole). Every command that writes where a user points it
/// checks this before reading anything, so `--out` = the gold or a part folder fails at once.
pub fn refuse_to_overwrite_inputs(out: &Path, inputs: &[&Path]) -> Result<()> {
    let target = resolved(out);
    for input in inputs {
        let input_path = resolved(input);
        if input_path == target || input_path.starts_with(&target) {
            return Err(Error::file(
                out,
                format!("is also an input ({}): writing there would destroy it; choose another output", input.display()),
            ));
        }
    }
    Ok(())
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

    const KNOWN: &[&str] = &["a.csv", "run.json", "cleaned"];

    #[test]
    fn an_output_that_is_or_holds_an_input_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let gold = dir.path().join("gold.csv");
        std::fs::write(&gold, "x").unwrap();
        let parts = dir.path().join("parts");
        std::fs::create_dir(&parts).unwrap();
        let inside = parts.join("a.json");
        std::fs::write(&inside, "{}").unwrap();
        let roundabout = dir.path().join("parts/../gold.csv");
        for (out, input) in [(&gold, &gold), (&roundabout, &gold), (&parts, &inside), (&dir.path().to_path_buf(), &gold)] {
            let err = refuse_to_overwrite_inputs(out, &[input]).unwrap_err().to_string();
            assert!(err.contains("is also an input") && err.contains(&input.display().to_string()), "{err}");
        }
        // A new file beside the inputs, or a sibling folder, is fine.
        assert!(refuse_to_overwrite_inputs(&dir.path().join("eval.csv"), &[&gold, &inside]).is_ok());
        assert!(refuse_to_overwrite_inputs(&dir.path().join("merged"), &[&parts]).is_ok());
        #[cfg(unix)]
        {
            let link = dir.path().join("link.csv");
            std::os::unix::fs::symlink(&gold, &link).unwrap();
            assert!(refuse_to_overwrite_inputs(&link, &[&gold]).is_err(), "a link to the input is the input");
        }
    }

    #[test]
    fn nothing_reaches_out_until_commit_and_commit_replaces() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("reports");
        let staging = Staging::new(&out, KNOWN).unwrap();
        std::fs::write(staging.path().join("a.csv"), "1").unwrap();
        std::fs::write(staging.path().join("run.json"), "{}").unwrap();
        std::fs::create_dir(staging.path().join("cleaned")).unwrap();
        std::fs::write(staging.path().join("cleaned/d.txt"), "x").unwrap();
        assert!(!out.exists());
        staging.commit().unwrap();
        assert_eq!(std::fs::read_to_string(out.join("a.csv")).unwrap(), "1");

        let again = Staging::new(&out, KNOWN).unwrap();
        std::fs::write(again.path().join("a.csv"), "2").unwrap();
        std::fs::create_dir(again.path().join("cleaned")).unwrap();
        std::fs::write(again.path().join("cleaned/e.txt"), "y").unwrap();
        again.commit().unwrap();
        assert_eq!(std::fs::read_to_string(out.join("a.csv")).unwrap(), "2");
        assert!(!out.join("cleaned/d.txt").exists() && out.join("cleaned/e.txt").exists());
        let leftovers: Vec<_> = std::fs::read_dir(root.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(leftovers, ["reports"]);
        assert!(!out.join("run.json").exists(), "the whole folder is the new result");
        assert!(!out.join(LOCK).exists(), "the lock stays behind");
        // A file a user added to a result folder is never deleted by the next run.
        std::fs::write(out.join("my-notes.md"), "keep").unwrap();
        let err = Staging::new(&out, KNOWN).err().unwrap().to_string();
        assert!(err.contains("--out holds 'my-notes.md'"), "{err}");
        // ... nor when it appears while a run is under way: the commit checks again.
        std::fs::remove_file(out.join("my-notes.md")).unwrap();
        let late = Staging::new(&out, KNOWN).unwrap();
        std::fs::write(out.join("my-notes.md"), "keep").unwrap();
        assert!(late.commit().is_err());
        assert_eq!(std::fs::read_to_string(out.join("my-notes.md")).unwrap(), "keep");
        std::fs::remove_file(out.join("my-notes.md")).unwrap();

        // A folder of someone else's files is never replaced; an empty one may be.
        let foreign = root.path().join("mine");
        std::fs::create_dir(&foreign).unwrap();
        std::fs::write(foreign.join("notes.txt"), "keep").unwrap();
        let err = Staging::new(&foreign, KNOWN).err().unwrap().to_string();
        assert!(err.contains("mine: --out holds 'notes.txt', which this tool did not write"), "{err}");
        std::fs::remove_file(foreign.join("notes.txt")).unwrap();
        assert!(Staging::new(&foreign, KNOWN).is_ok());
    }

    #[test]
    fn a_live_runs_staging_folder_is_left_alone_and_a_set_aside_result_is_restored() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("reports");
        let first = Staging::new(&out, KNOWN).unwrap();
        first.write("a.csv", "1").unwrap();
        // A second run into the same --out while the first still runs: its folder stays.
        let second = Staging::new(&out, KNOWN).unwrap();
        assert!(second.removed_leftovers.is_empty());
        first.commit().unwrap();
        assert_eq!(std::fs::read_to_string(out.join("a.csv")).unwrap(), "1");
        drop(second);
        // A run killed between "old result aside" and "new result in" (the two-rename path):
        // the next run puts the old result back rather than deleting it.
        let aside = root.path().join(".reports.stance-old-0-xyz");
        std::fs::rename(&out, &aside).unwrap();
        let next = Staging::new(&out, KNOWN).unwrap();
        assert_eq!(next.restored.as_deref(), Some(aside.as_path()));
        assert_eq!(std::fs::read_to_string(out.join("a.csv")).unwrap(), "1");
        // A staging folder that vanishes under a run fails the run instead of being re-made.
        std::fs::remove_dir_all(next.path()).unwrap();
        let err = next.write("a.csv", "2").unwrap_err().to_string();
        assert!(err.contains("the staging folder is gone"), "{err}");
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
        let staging = Staging::new(&out, KNOWN).unwrap();
        assert_eq!(staging.removed_leftovers, std::slice::from_ref(&leftover));
        assert!(!leftover.exists() && other.exists(), "only this --out's leftovers go");
    }

    #[test]
    fn resume_takes_over_the_newest_killed_staging_folder_and_new_removes_it() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("reports");
        let older = root.path().join(".reports.stance-staging-0-aaa");
        let newer = root.path().join(".reports.stance-staging-0-bbb");
        for (dir, part) in [(&older, "old"), (&newer, "new")] {
            std::fs::create_dir_all(dir.join("parts")).unwrap();
            std::fs::write(dir.join("parts/d.json"), part).unwrap();
        }
        let past = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        std::fs::File::options().write(true).open(older.join("parts/d.json")).unwrap().set_modified(past).unwrap();
        let set_dir_time = |d: &Path| {
            let f = std::fs::File::open(d).unwrap();
            f.set_modified(past).unwrap();
        };
        set_dir_time(&older);
        let resumed = Staging::resume(&out, KNOWN).unwrap();
        assert_eq!(resumed.resumed.as_deref(), Some(newer.as_path()));
        assert_eq!(resumed.removed_leftovers, std::slice::from_ref(&older));
        assert_eq!(std::fs::read_to_string(resumed.path().join("parts/d.json")).unwrap(), "new");
        // While it lives, nobody else takes it over or removes it.
        let second = Staging::resume(&out, KNOWN).unwrap();
        assert!(second.resumed.is_none());
        let second_path = second.path().to_path_buf();
        drop(second);
        std::fs::remove_dir_all(second_path).unwrap();
        assert!(newer.exists());
        drop(resumed); // a resumable run that fails keeps its folder for the next --resume
        assert!(newer.exists());
        std::fs::remove_dir_all(&newer).unwrap();
        // Without --resume a killed run's folder is removed, and said so.
        std::fs::create_dir_all(&older).unwrap();
        let fresh = Staging::new(&out, KNOWN).unwrap();
        assert!(fresh.resumed.is_none() && fresh.removed_leftovers == [older.clone()] && !older.exists());
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
            let staging = Staging::new(&out, KNOWN).unwrap();
            std::fs::write(staging.path().join("a.csv"), "1").unwrap();
        }
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0);
    }
}
