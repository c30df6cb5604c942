//! Backups of a daemon's store and their restore, on the file system.
//!
//! A backup is a folder `BACKUP_DIR/YYYYMMDDHHMMSS-XXXXXXXX` holding the store's RocksDB
//! checkpoint (a consistent point-in-time copy taken while the daemon runs; table files are
//! hard links when the backup folder is on the store's file system) under the store's name,
//! and a `BACKUP` manifest written last: a folder without it is an unfinished backup and is
//! never restored.
//!
//! Restore (daemon stopped) copies the checkpoint into a fresh folder next to the store,
//! moves the current store aside (`NAME.before-restore-STAMP`, never deleted) and renames the
//! copy into place. Immutable table and blob files are hard-linked when possible, so a
//! restore of a large repository takes seconds and leaves the backup unchanged.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::model::Dtm;

/// The manifest file that marks a complete backup.
pub const MANIFEST: &str = "BACKUP";

/// The backup folder in effect: `configured`, or `DATA_DIR/backups` when empty (the same file
/// system as the store, so a checkpoint's table files are hard links until copied elsewhere).
pub fn backup_dir(data_dir: &Path, configured: &Path) -> PathBuf {
    if configured.as_os_str().is_empty() {
        data_dir.join("backups")
    } else {
        configured.to_owned()
    }
}

/// Where a new backup of `store` goes: a fresh folder inside `backup_dir` (created if needed),
/// and the path the checkpoint must be written to (it must not exist yet).
pub fn new_backup(backup_dir: &Path, store: &str) -> io::Result<(PathBuf, PathBuf)> {
    fs::create_dir_all(backup_dir)?;
    let random = super::soap::random_bytes();
    let suffix: String = random[..4]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let folder = backup_dir.join(format!("{}-{suffix}", Dtm::now()));
    fs::create_dir(&folder)?;
    Ok((folder.clone(), folder.join(store)))
}

/// Marks `folder` complete: its manifest names the daemon, the store and the time.
pub fn finish_backup(folder: &Path, daemon: &str, store: &str) -> io::Result<()> {
    let manifest = format!(
        "daemon = \"{daemon}\"\nversion = \"{}\"\nstore = \"{store}\"\ntaken = \"{}\"\n",
        env!("CARGO_PKG_VERSION"),
        Dtm::now()
    );
    let path = folder.join(MANIFEST);
    let temporary = folder.join(format!("{MANIFEST}.partial"));
    fs::write(&temporary, manifest)?;
    fs::File::open(&temporary)?.sync_all()?;
    fs::rename(&temporary, &path)?;
    sync_dir(folder)
}

/// Replaces the store `store` of `data_dir` with the one of the backup `folder` (made by
/// `daemon`). Answers where the previous store was moved (None when there was none).
pub fn restore(
    folder: &Path,
    daemon: &str,
    store: &str,
    data_dir: &Path,
) -> Result<Option<PathBuf>, String> {
    let manifest = fs::read_to_string(folder.join(MANIFEST)).map_err(|error| {
        format!(
            "{} is not a complete backup (no readable {MANIFEST} manifest: {error})",
            folder.display()
        )
    })?;
    let expected = format!("daemon = \"{daemon}\"");
    if !manifest.lines().any(|line| line == expected) {
        return Err(format!(
            "{} is not a backup of {daemon} (manifest: {})",
            folder.display(),
            manifest.lines().next().unwrap_or("")
        ));
    }
    let source = folder.join(store);
    if !source.join("CURRENT").is_file() {
        return Err(format!(
            "{} holds no {store} store checkpoint",
            folder.display()
        ));
    }
    fs::create_dir_all(data_dir)
        .map_err(|error| format!("cannot create {}: {error}", data_dir.display()))?;
    let target = data_dir.join(store);
    let staging = data_dir.join(format!("{store}.restoring"));
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(|error| {
            format!(
                "cannot remove an earlier unfinished restore {}: {error}",
                staging.display()
            )
        })?;
    }
    copy_store(&source, &staging).map_err(|error| {
        format!(
            "cannot copy {} to {}: {error}",
            source.display(),
            staging.display()
        )
    })?;
    let aside = if target.exists() {
        let aside = data_dir.join(format!("{store}.before-restore-{}", Dtm::now()));
        fs::rename(&target, &aside).map_err(|error| {
            format!(
                "cannot move the current store {} aside: {error}",
                target.display()
            )
        })?;
        Some(aside)
    } else {
        None
    };
    fs::rename(&staging, &target)
        .map_err(|error| format!("cannot move the restored store into place: {error}"))?;
    sync_dir(data_dir).map_err(|error| format!("cannot sync {}: {error}", data_dir.display()))?;
    Ok(aside)
}

/// Copies a RocksDB folder: immutable table and blob files as hard links when the file system
/// allows, everything else (MANIFEST, OPTIONS, logs, which RocksDB writes to) as copies.
fn copy_store(source: &Path, target: &Path) -> io::Result<()> {
    fs::create_dir(target)?;
    for entry in fs::read_dir(source)? {
        let entry = entry?;
        let path = entry.path();
        if !entry.file_type()?.is_file() {
            continue;
        }
        let destination = target.join(entry.file_name());
        let immutable = matches!(
            path.extension().and_then(|extension| extension.to_str()),
            Some("sst" | "blob")
        );
        if !(immutable && fs::hard_link(&path, &destination).is_ok()) {
            fs::copy(&path, &destination)?;
            fs::File::open(&destination)?.sync_all()?;
        }
    }
    sync_dir(target)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restore_refuses_unfinished_and_foreign_backups_and_moves_the_store_aside() {
        let root = std::env::temp_dir().join(format!("xds-backup-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let (folder, checkpoint) = new_backup(&root.join("backups"), "metadata").unwrap();
        fs::create_dir(&checkpoint).unwrap();
        fs::write(checkpoint.join("CURRENT"), "MANIFEST-000001\n").unwrap();
        fs::write(checkpoint.join("000010.sst"), "table").unwrap();
        let data = root.join("data");
        let unfinished = restore(&folder, "xds-registry", "metadata", &data).unwrap_err();
        assert!(unfinished.contains("not a complete backup"), "{unfinished}");
        finish_backup(&folder, "xds-registry", "metadata").unwrap();
        let foreign = restore(&folder, "xds-repository", "metadata", &data).unwrap_err();
        assert!(
            foreign.contains("not a backup of xds-repository"),
            "{foreign}"
        );
        fs::create_dir_all(data.join("metadata")).unwrap();
        fs::write(data.join("metadata").join("CURRENT"), "old").unwrap();
        let aside = restore(&folder, "xds-registry", "metadata", &data)
            .unwrap()
            .unwrap();
        assert_eq!(fs::read_to_string(aside.join("CURRENT")).unwrap(), "old");
        assert_eq!(
            fs::read_to_string(data.join("metadata").join("000010.sst")).unwrap(),
            "table"
        );
        assert!(!data.join("metadata.restoring").exists());
        fs::remove_dir_all(&root).unwrap();
    }
}
