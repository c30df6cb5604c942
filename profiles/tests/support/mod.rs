//! Shared helpers of the profile tests: where the ANS value sets are (never copied into the
//! project), the DMP sample submission as model metadata, and scratch folders.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use xds::model::Metadata;
use xds::transform::{self, Options};
use xds::validate::{Profile, Receiver, Violation, validate_submission};
use xds::wire::{self, Body, Limits, MemorySink};

/// The shared test-data folder: `$XDS_SHARED_DIR`, else `shared` next to the workspace or a
/// parent.
pub fn shared_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDS_SHARED_DIR") {
        return PathBuf::from(dir);
    }
    let start = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut current = Some(start.as_path());
    while let Some(dir) = current {
        let candidate = dir.join("shared");
        if candidate.join("profiles-data").is_dir() {
            return candidate;
        }
        current = dir.parent();
    }
    panic!(
        "the shared test data was not found: set XDS_SHARED_DIR to the folder holding profiles-data"
    )
}

pub fn valuesets_dir() -> PathBuf {
    shared_dir().join("profiles-data/dmp/valuesets")
}

pub fn sample_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples/dmp-register.xml")
}

/// The metadata of an ITI-42 SubmitObjectsRequest file, as the registry receives it.
pub fn metadata_of(path: &Path) -> Metadata {
    let text = std::fs::read_to_string(path).expect("readable");
    let mut sink = MemorySink::default();
    let body =
        wire::decode_body_xml(text.as_bytes(), &Limits::default(), &mut sink).expect("decodes");
    let Body::SubmitObjects(request) = body else {
        panic!("{} is not a SubmitObjectsRequest", path.display());
    };
    transform::submit_objects_from_wire(&request, Options::REGISTRY).expect("model")
}

pub fn sample() -> Metadata {
    metadata_of(&sample_path())
}

pub fn violations(profile: &dyn Profile, metadata: &Metadata) -> Vec<Violation> {
    validate_submission(metadata, Receiver::Registry, profile)
}

/// A fresh empty folder under the system's temporary folder.
pub fn scratch(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "xds-profiles-{}-{}-{name}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// A writable copy of the value-set folder.
pub fn valuesets_copy(name: &str) -> PathBuf {
    let dir = scratch(name);
    for entry in std::fs::read_dir(valuesets_dir()).expect("value sets") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, dir.join(path.file_name().expect("name"))).expect("copy");
    }
    dir
}
