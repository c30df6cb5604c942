//! Wire <-> model transforms.
//!
//! Wire -> model checks every value's form (a CX is a CX, a DTM is a DTM, a code has its
//! coding scheme, single-valued attributes have one value) and collects **every** violation with
//! its location before giving up, because a RegistryResponse carries the whole list. Whether a
//! transaction requires an attribute is the validator's concern, not the transform's.
//!
//! Model -> wire writes everything the model holds, in schema order, with the ids of child
//! Classifications and ExternalIdentifiers derived deterministically from their parent's id, so
//! that a stored object renders identically every time it is returned.

mod messages;
mod metadata;

use std::fmt;

use crate::error::{RegistryError, XdsErrorCode};

pub use messages::*;
pub use metadata::{child_id, metadata_from_wire, metadata_to_wire};

/// One problem found in a message, with the XDS error code it maps to and, for the rules of
/// [`crate::validate`] and the profiles, the id of the rule broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The rule's id (`IHE-REQUIRED`, `DMP-21`); `None` for wire-to-model form problems.
    pub rule: Option<&'static str>,
    pub code: XdsErrorCode,
    pub message: String,
    /// The object and attribute concerned, e.g. `ExtrinsicObject Doc1 / slot creationTime`.
    pub location: String,
}

impl Violation {
    pub fn new(
        code: XdsErrorCode,
        location: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            rule: None,
            code,
            message: message.into(),
            location: location.into(),
        }
    }

    /// As a RegistryError (severity Error); codeContext ends with the rule id, if any.
    pub fn to_registry_error(&self) -> RegistryError {
        let context = match self.rule {
            Some(rule) => format!("{} [{rule}]", self.message),
            None => self.message.clone(),
        };
        RegistryError::error(self.code, context).at(self.location.clone())
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(rule) = self.rule {
            write!(f, "{rule} ")?;
        }
        write!(f, "{} at {}: {}", self.code, self.location, self.message)
    }
}

/// Which metadata error code this side of the exchange reports (TF-3 Table 4.2.4.1-2: the code
/// names the actor that detected the problem).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub metadata_error: XdsErrorCode,
}

impl Options {
    pub const REGISTRY: Options = Options {
        metadata_error: XdsErrorCode::RegistryMetadataError,
    };
    pub const REPOSITORY: Options = Options {
        metadata_error: XdsErrorCode::RepositoryMetadataError,
    };
}

impl Default for Options {
    fn default() -> Self {
        Self::REGISTRY
    }
}
