//! Reading the NIST XDS testkit as published (never copied into this project): where it is,
//! which files are request bodies, and how `$placeholder$` symbols are filled.

use std::path::{Path, PathBuf};

/// Environment variable naming the folder that holds `conformance/nist-testkit`,
/// `conformance/schemas`, `docs` and `profiles-data` (the shared test data).
pub const SHARED_DIR_ENV: &str = "XDS_SHARED_DIR";

/// Finds the shared test-data folder: `$XDS_SHARED_DIR`, else a `shared` folder next to the
/// workspace or any of its parents.
pub fn shared_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(SHARED_DIR_ENV) {
        let dir = PathBuf::from(dir);
        return dir.join("conformance").is_dir().then_some(dir);
    }
    let start = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut current: Option<&Path> = Some(start.as_path());
    while let Some(dir) = current {
        let candidate = dir.join("shared");
        if candidate.join("conformance").join("nist-testkit").is_dir() {
            return Some(candidate);
        }
        current = dir.parent();
    }
    None
}

/// The shared folder, or a panic naming how to provide it (for tests: the data is required).
pub fn require_shared_dir() -> PathBuf {
    shared_dir().unwrap_or_else(|| {
        panic!(
            "the shared test data (NIST testkit, schemas, docs) was not found: set {SHARED_DIR_ENV} \
             to the folder holding conformance/nist-testkit, or place it as ../shared next to the workspace"
        )
    })
}

/// What a testkit XML file holds, by its root element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileKind {
    /// `rs:SubmitObjectsRequest` in ebRIM 2.1.
    Submit21,
    /// `lcm:SubmitObjectsRequest` in ebRIM 3.0.
    Submit30,
    AdhocQuery,
    RemoveObjects,
    Retrieve,
    RemoveDocuments,
    ProvideAndRegister,
    TestPlan,
    Other,
}

/// Classifies a file by its root element's local name and namespace markers.
pub fn classify(text: &str) -> FileKind {
    let root = root_local_name(text);
    match root.as_deref() {
        Some("SubmitObjectsRequest") if crate::ebrim21::is_ebrim21(text) => FileKind::Submit21,
        Some("SubmitObjectsRequest") => FileKind::Submit30,
        Some("AdhocQueryRequest") => FileKind::AdhocQuery,
        Some("RemoveObjectsRequest") => FileKind::RemoveObjects,
        Some("RetrieveDocumentSetRequest") => FileKind::Retrieve,
        Some("RemoveDocumentsRequest") => FileKind::RemoveDocuments,
        Some("ProvideAndRegisterDocumentSetRequest") => FileKind::ProvideAndRegister,
        Some("TestPlan") => FileKind::TestPlan,
        _ => FileKind::Other,
    }
}

fn root_local_name(text: &str) -> Option<String> {
    let mut rest = text;
    loop {
        let start = rest.find('<')?;
        rest = &rest[start + 1..];
        if rest.starts_with('?') || rest.starts_with('!') {
            continue;
        }
        let end = rest.find(|character: char| {
            character.is_whitespace() || character == '>' || character == '/'
        })?;
        let qname = &rest[..end];
        return Some(qname.rsplit(':').next().unwrap_or(qname).to_owned());
    }
}

/// Every `.xml` file under `dir`, sorted.
pub fn xml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    collect(dir, &mut out);
    out.sort();
    out
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|extension| extension == "xml") {
            out.push(path);
        }
    }
}

fn fnv1a(text: &str) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The kind of value a placeholder stands for, guessed from its name the way the testkit names
/// them (`$patientid$`, `$Document01_uid$`, `$orig_uuid$`, `$now$`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceholderKind {
    PatientId,
    UniqueId,
    Time,
    Uuid,
}

pub fn placeholder_kind(name: &str) -> PlaceholderKind {
    let lower = name.to_ascii_lowercase();
    if lower == "now" || lower == "lastyear" {
        PlaceholderKind::Time
    } else if lower.contains("patient") || lower.contains("pid") {
        PlaceholderKind::PatientId
    } else if lower.contains("uuid") {
        PlaceholderKind::Uuid
    } else if lower.ends_with("uid")
        || lower.contains("uniqueid")
        || lower.ends_with("uid1")
        || lower.ends_with("uid2")
    {
        PlaceholderKind::UniqueId
    } else {
        PlaceholderKind::Uuid
    }
}

/// A deterministic, well-formed value for a placeholder.
pub fn placeholder_value(name: &str) -> String {
    let hash = fnv1a(name);
    match placeholder_kind(name) {
        PlaceholderKind::PatientId => format!(
            "P{}^^^&1.3.6.1.4.1.21367.2005.3.7&ISO",
            hash % 1_000_000_007
        ),
        PlaceholderKind::UniqueId => format!("1.3.6.1.4.1.21367.2009.99.{}", hash % 1_000_000_007),
        PlaceholderKind::Time => "20240315093000".to_owned(),
        PlaceholderKind::Uuid => {
            let second = fnv1a(&format!("{name}#2"));
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&hash.to_be_bytes());
            bytes[8..].copy_from_slice(&second.to_be_bytes());
            xds::model::Uuid::new_v4(bytes).to_urn()
        }
    }
}

/// Replaces every `$name$` symbol of an XML document with a deterministic, well-formed value
/// (XML-escaped), as a runner does with its run parameters and assigned ids.
pub fn instantiate(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(start) = rest.find('$') {
        let after = &rest[start + 1..];
        let end = after.find('$');
        match end {
            Some(end)
                if end > 0
                    && after[..end].chars().all(|character| {
                        character.is_ascii_alphanumeric() || matches!(character, '_' | '.' | '-')
                    }) =>
            {
                out.push_str(&rest[..start]);
                out.push_str(&crate::xmltree::escape(
                    &placeholder_value(&after[..end]),
                    true,
                ));
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str(&rest[..=start]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The symbols a test plan binds from earlier steps (`UseId/@symbol`, `UseReport/@useAs`),
/// with the kind of value each stands for.
pub fn bound_symbols(testplan: &str) -> Vec<(String, PlaceholderKind)> {
    let Ok(root) = crate::xmltree::parse(testplan) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    collect_symbols(&root, &mut out);
    out.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

fn collect_symbols(element: &crate::xmltree::Element, out: &mut Vec<(String, PlaceholderKind)>) {
    match element.local.as_str() {
        "UseId" => {
            if let Some(symbol) = element.attribute("symbol") {
                let kind = match element.attribute("section") {
                    Some("AssignedUids") => PlaceholderKind::UniqueId,
                    Some("AssignedPatientId") => PlaceholderKind::PatientId,
                    _ => PlaceholderKind::Uuid,
                };
                out.push((symbol.to_owned(), kind));
            }
        }
        "UseReport" => {
            if let Some(symbol) = element.attribute("useAs") {
                let name = element
                    .attribute("reportName")
                    .unwrap_or(symbol)
                    .trim_matches('$');
                out.push((symbol.to_owned(), placeholder_kind(name)));
            }
        }
        _ => {}
    }
    for child in element.elements() {
        collect_symbols(child, out);
    }
}

/// A value of the given kind for a symbol.
pub fn value_of_kind(symbol: &str, kind: PlaceholderKind) -> String {
    let name = symbol.trim_matches('$');
    let value = placeholder_value(name);
    if placeholder_kind(name) == kind {
        return value;
    }
    // Same hash, the kind the test plan says.
    let forced = match kind {
        PlaceholderKind::PatientId => format!("patient-{name}"),
        PlaceholderKind::UniqueId => format!("{name}-uid"),
        PlaceholderKind::Time => "now".to_owned(),
        PlaceholderKind::Uuid => format!("{name}-uuid"),
    };
    placeholder_value(&forced)
}

/// Replaces bound symbols in a request body by values of their kind (XML-escaped), as the
/// runner does with UseId/UseReport bindings.
pub fn substitute_symbols(xml: &str, symbols: &[(String, PlaceholderKind)]) -> String {
    let mut out = xml.to_owned();
    for (symbol, kind) in symbols {
        if symbol.is_empty() {
            continue;
        }
        out = out.replace(
            symbol.as_str(),
            &crate::xmltree::escape(&value_of_kind(symbol, *kind), true),
        );
    }
    out
}

/// The runner's id assignment (FORMAT.md §5.1 steps 6-7): every DocumentEntry, SubmissionSet
/// and Folder uniqueId gets a fresh OID derived from `seed`, and every SubmissionSet sourceId
/// becomes `source_id`. ExternalIdentifiers nested in their object and siblings are both handled.
pub fn assign_unique_ids(objects: &mut [xds::wire::Identifiable], seed: &str, source_id: &str) {
    use xds::model::vocabulary as vocab;
    use xds::wire::Identifiable;
    let mut counter = 0u64;
    let mut fix = |identifier: &mut xds::wire::ExternalIdentifier| match identifier
        .identification_scheme
        .as_deref()
    {
        Some(vocab::DE_UNIQUE_ID | vocab::SS_UNIQUE_ID | vocab::FOLDER_UNIQUE_ID) => {
            counter += 1;
            identifier.value = Some(format!(
                "1.3.6.1.4.1.21367.2009.98.{}.{counter}",
                fnv1a(seed) % 1_000_000_007
            ));
        }
        Some(vocab::SS_SOURCE_ID) => identifier.value = Some(source_id.to_owned()),
        _ => {}
    };
    for object in objects.iter_mut() {
        let registry_object = match object {
            Identifiable::ExtrinsicObject(extrinsic) => &mut extrinsic.object,
            Identifiable::RegistryPackage(package) => &mut package.object,
            Identifiable::ExternalIdentifier(identifier) => {
                fix(identifier);
                continue;
            }
            _ => continue,
        };
        for identifier in &mut registry_object.external_identifiers {
            fix(identifier);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_get_values_of_their_kind() {
        assert_eq!(placeholder_kind("patientid"), PlaceholderKind::PatientId);
        assert_eq!(placeholder_kind("patient_id"), PlaceholderKind::PatientId);
        assert_eq!(
            placeholder_kind("Document01_uid"),
            PlaceholderKind::UniqueId
        );
        assert_eq!(placeholder_kind("repuid"), PlaceholderKind::UniqueId);
        assert_eq!(placeholder_kind("orig_uuid"), PlaceholderKind::Uuid);
        assert_eq!(placeholder_kind("SubmissionSet01"), PlaceholderKind::Uuid);
        assert_eq!(placeholder_kind("now"), PlaceholderKind::Time);
        let filled = instantiate(r#"<a value="$patientid$" id="$lid$">'$uid1$' costs $5 $</a>"#);
        assert!(
            filled.contains("^^^&amp;1.3.6.1.4.1.21367.2005.3.7&amp;ISO"),
            "{filled}"
        );
        assert!(filled.contains("id=\"urn:uuid:"), "{filled}");
        assert!(filled.contains("'1.3.6.1.4.1.21367.2009.99."), "{filled}");
        assert!(filled.ends_with("costs $5 $</a>"), "{filled}");
        assert_eq!(instantiate("$x$"), instantiate("$x$"), "deterministic");
    }

    #[test]
    fn classifies_roots() {
        assert_eq!(
            classify("<?xml version=\"1.0\"?><!-- c --><query:AdhocQueryRequest/>"),
            FileKind::AdhocQuery
        );
        assert_eq!(classify("<TestPlan>"), FileKind::TestPlan);
    }
}
