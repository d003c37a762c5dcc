//! Atomic output: a run that fails half-way must not leave half-written reports that look
//! like results. Everything is written into a staging folder beside the destination and moved
//! into place only when complete.

use crate::{Error, IoContext, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A staging folder for the contents of an output folder.
pub struct Staging {
    dir: tempfile::TempDir,
    out: PathBuf,
}

impl Staging {
    /// Prepares to write `out` (created on commit if needed; an existing file there is refused).
    pub fn new(out: &Path) -> Result<Self> {
        if out.exists() && !out.is_dir() {
            return Err(Error::file(out, "--out exists and is not a folder"));
        }
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).at(&parent, "cannot create folder")?;
        let dir = tempfile::Builder::new().prefix(".stance-staging-").tempdir_in(&parent).at(&parent, "cannot create a staging folder")?;
        Ok(Self { dir, out: out.to_path_buf() })
    }

    /// Where to write the staged files.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Moves every staged entry into the output folder, replacing entries of the same name.
    /// Each move is a rename within one file system, so each report appears whole or not at all.
    pub fn commit(self) -> Result<()> {
        std::fs::create_dir_all(&self.out).at(&self.out, "cannot create folder")?;
        let staged = self.dir.path();
        let mut entries: Vec<_> = std::fs::read_dir(staged)
            .and_then(|entries| entries.collect::<std::io::Result<Vec<_>>>())
            .at(staged, "cannot read the staging folder")?;
        entries.sort_by_key(|e| e.file_name());
        let old = tempfile::Builder::new().prefix(".stance-old-").tempdir_in(staged).at(staged, "cannot create a folder")?;
        for entry in entries {
            let target = self.out.join(entry.file_name());
            if target.is_dir() {
                // A folder cannot be renamed over a non-empty one: move the old one aside first.
                std::fs::rename(&target, old.path().join(entry.file_name())).at(&target, "cannot move the old folder aside")?;
            }
            std::fs::rename(entry.path(), &target).at(&target, "cannot move report into place")?;
        }
        Ok(())
    }
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
