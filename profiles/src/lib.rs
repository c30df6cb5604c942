//! Affinity-domain validation profiles and their value sets.
//!
//! A profile is a list of rules (id, summary, XDS error code; [`xds::validate::Rule`]) and the
//! value sets bound to coded attributes. The IHE structural rules of [`xds::validate`] always
//! apply; a profile adds its own:
//!
//! - `ihe-xds-b` (default): nothing more, or, when configured, an affinity-domain code list in
//!   the NIST XDS Toolkit `codes.xml` format ([`ihe`]).
//! - `fr-dmp`: the French DMP rules of dmp-profile.md §8 that concern metadata, with the ANS
//!   value sets read at start-up from a configured folder ([`dmp`], [`valuesets`]).
//!
//! The registry, the repository and `xds-conformance validate` build their profile with
//! [`load`] from the same [`ProfileConfig`] (`[profile]` in their TOML files).

pub mod dmp;
pub mod ihe;
pub mod valuesets;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use xds::validate::{Profile, Rule};

pub use valuesets::LoadError;

/// The names of the profiles this crate builds.
pub const PROFILES: &[&str] = &[ihe::NAME, dmp::NAME];

/// The `[profile]` section shared by the daemons and the harness.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProfileConfig {
    /// `ihe-xds-b` or `fr-dmp`.
    pub name: String,
    /// `ihe-xds-b`: an affinity-domain code list (NIST `codes.xml` format). None by default.
    pub codes: Option<PathBuf>,
    /// `fr-dmp`: the folder holding the ANS value-set files (FHIR ValueSet/CodeSystem JSON,
    /// JDV XML, the typeCode -> classCode CSV). Required by `fr-dmp`.
    pub valuesets: Option<PathBuf>,
    /// Code-system URLs of FHIR files -> the codingScheme values metadata uses for them
    /// (adds to, or overrides, [`valuesets::SYSTEM_SCHEMES`]).
    pub code_systems: BTreeMap<String, Vec<String>>,
    /// The `fr-dmp` switches.
    pub dmp: dmp::DmpConfig,
}

impl Default for ProfileConfig {
    fn default() -> Self {
        Self {
            name: ihe::NAME.to_owned(),
            codes: None,
            valuesets: None,
            code_systems: BTreeMap::new(),
            dmp: dmp::DmpConfig::default(),
        }
    }
}

/// Why a profile could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// A setting is wrong (unknown name, missing folder, ...).
    #[error("profile: {0}")]
    Config(String),
    /// A value-set or code-list file is missing, unreadable or malformed.
    #[error("profile: {0}")]
    Load(#[from] LoadError),
}

/// Builds the configured profile, reading its files. Every file problem names the file.
pub fn load(config: &ProfileConfig) -> Result<Arc<dyn Profile>, ProfileError> {
    match config.name.as_str() {
        ihe::NAME => Ok(Arc::new(ihe::IheProfile::load(config)?)),
        dmp::NAME => Ok(Arc::new(dmp::DmpProfile::load(config)?)),
        other => Err(ProfileError::Config(format!(
            "unknown profile {other:?}; available: {}",
            PROFILES.join(", ")
        ))),
    }
}

/// The rules a profile applies, structural first (for `xds-conformance rules` and the docs).
pub fn rules(profile: &dyn Profile) -> Vec<Rule> {
    xds::validate::rule::STRUCTURAL
        .iter()
        .chain(profile.rules())
        .copied()
        .collect()
}
