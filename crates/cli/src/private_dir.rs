//! A directory only this user can reach, for the admin socket's default location.
//!
//! Why: a socket in a shared directory under a name anyone can compute can be created first by
//! another local user, and whoever talks to it believes that impostor. A directory is trusted
//! only if it is a real directory (not a symlink someone planted), owned by this user, with no
//! permission for group or others, in a parent where no one else can replace it.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Why a directory is not trusted.
#[derive(Debug, thiserror::Error)]
pub enum PrivateDirError {
    #[error("{} does not exist", .path.display())]
    Missing { path: PathBuf },
    #[error(
        "{} is a symbolic link (whoever planted it chooses where it leads)",
        .path.display()
    )]
    Symlink { path: PathBuf },
    #[error("{} is not a directory", .path.display())]
    NotADirectory { path: PathBuf },
    #[error(
        "{} is owned by uid {owner}, not by this user (uid {me})",
        .path.display()
    )]
    Owner { path: PathBuf, owner: u32, me: u32 },
    #[error(
        "{} has mode {mode:04o}: it must be private to its owner (0700)",
        .path.display()
    )]
    Mode { path: PathBuf, mode: u32 },
    #[error(
        "{} is writable by everyone without the sticky bit: another user could replace {}",
        .parent.display(),
        .path.display()
    )]
    Parent { parent: PathBuf, path: PathBuf },
    #[error("cannot {what} {}", .path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// This process's effective uid.
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Whether a peer running as `uid` is trusted: this user, or root (who can act as anyone).
pub fn trusted_uid(uid: u32) -> bool {
    uid == euid() || uid == 0
}

/// Creates `dir` (mode 0700) unless it exists, then checks it as [`check`] does.
pub fn ensure(dir: &Path) -> Result<(), PrivateDirError> {
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {
            // The umask may have narrowed the mode further; 0700 is what the owner needs.
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(|source| {
                PrivateDirError::Io {
                    what: "restrict",
                    path: dir.to_path_buf(),
                    source,
                }
            })?;
        }
        // Whoever made it, it is checked below before anything is put in it.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(source) => {
            return Err(PrivateDirError::Io {
                what: "create",
                path: dir.to_path_buf(),
                source,
            });
        }
    }
    check(dir)
}

/// Checks that `dir` is private to this user: a directory (not a symlink), owned by this
/// user, mode 0700 or narrower, in a parent no one else can rename it out of.
pub fn check(dir: &Path) -> Result<(), PrivateDirError> {
    let path = || dir.to_path_buf();
    let meta = match fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(PrivateDirError::Missing { path: path() });
        }
        Err(source) => {
            return Err(PrivateDirError::Io {
                what: "inspect",
                path: path(),
                source,
            });
        }
    };
    if meta.file_type().is_symlink() {
        return Err(PrivateDirError::Symlink { path: path() });
    }
    if !meta.is_dir() {
        return Err(PrivateDirError::NotADirectory { path: path() });
    }
    let me = euid();
    if meta.uid() != me {
        return Err(PrivateDirError::Owner {
            path: path(),
            owner: meta.uid(),
            me,
        });
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(PrivateDirError::Mode { path: path(), mode });
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        let pm = fs::metadata(parent).map_err(|source| PrivateDirError::Io {
            what: "inspect",
            path: parent.to_path_buf(),
            source,
        })?;
        // World-writable without the sticky bit (unlike /tmp): anyone may rename entries.
        if pm.mode() & 0o002 != 0 && pm.mode() & 0o1000 == 0 {
            return Err(PrivateDirError::Parent {
                parent: parent.to_path_buf(),
                path: path(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let p = std::env::temp_dir().join(format!(
                "gatehouse-private-dir-{}-{name}",
                std::process::id()
            ));
            let _ = fs::remove_dir_all(&p);
            fs::create_dir(&p).expect("scratch dir");
            fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).expect("chmod");
            Scratch(p)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn creates_a_private_directory_and_accepts_it_again() {
        let s = Scratch::new("create");
        let dir = s.0.join("gatehouse");
        ensure(&dir).expect("created");
        let meta = fs::symlink_metadata(&dir).expect("exists");
        assert_eq!(meta.mode() & 0o777, 0o700);
        ensure(&dir).expect("accepted when it exists");
        check(&dir).expect("checked");
    }

    #[test]
    fn refuses_wide_modes_symlinks_files_and_open_parents() {
        let s = Scratch::new("refuse");
        let wide = s.0.join("wide");
        fs::create_dir(&wide).expect("mkdir");
        fs::set_permissions(&wide, fs::Permissions::from_mode(0o750)).expect("chmod");
        assert!(matches!(
            ensure(&wide),
            Err(PrivateDirError::Mode { mode: 0o750, .. })
        ));

        let target = s.0.join("target");
        ensure(&target).expect("private target");
        let link = s.0.join("link");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        assert!(matches!(
            ensure(&link),
            Err(PrivateDirError::Symlink { .. })
        ));

        let file = s.0.join("file");
        fs::write(&file, "").expect("write");
        assert!(matches!(
            check(&file),
            Err(PrivateDirError::NotADirectory { .. })
        ));
        assert!(matches!(
            check(&s.0.join("absent")),
            Err(PrivateDirError::Missing { .. })
        ));

        let open = s.0.join("open");
        fs::create_dir(&open).expect("mkdir");
        fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).expect("chmod");
        assert!(matches!(
            ensure(&open.join("gatehouse")),
            Err(PrivateDirError::Parent { .. })
        ));
        fs::set_permissions(&open, fs::Permissions::from_mode(0o1777)).expect("chmod");
        ensure(&open.join("gatehouse")).expect("a sticky parent, as /tmp, is fine");
    }
}
