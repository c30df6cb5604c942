//! The one table of transactions we speak (xds-spec-brief.md §1.2): their WS-Addressing
//! actions, body elements, encoding and the actor that serves them.

use std::fmt;

use crate::wire::names::{NS_LCM, NS_QUERY, NS_RMD, NS_RS, NS_XDS};

/// Which daemon serves a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Actor {
    Registry,
    Repository,
}

/// A transaction of the XDS.b, Metadata Update and RMD profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transaction {
    /// Registry Stored Query.
    Iti18,
    /// Provide and Register Document Set-b.
    Iti41,
    /// Register Document Set-b.
    Iti42,
    /// Retrieve Document Set.
    Iti43,
    /// Update Document Set (Metadata Update).
    Iti57,
    /// Remove Metadata (RMD; the action keeps the older "Delete Document Set" name).
    Iti62,
    /// Remove Documents (RMD).
    Iti86,
}

impl Transaction {
    pub const ALL: [Transaction; 7] = [
        Self::Iti18,
        Self::Iti41,
        Self::Iti42,
        Self::Iti43,
        Self::Iti57,
        Self::Iti62,
        Self::Iti86,
    ];

    pub const fn id(self) -> &'static str {
        match self {
            Self::Iti18 => "ITI-18",
            Self::Iti41 => "ITI-41",
            Self::Iti42 => "ITI-42",
            Self::Iti43 => "ITI-43",
            Self::Iti57 => "ITI-57",
            Self::Iti62 => "ITI-62",
            Self::Iti86 => "ITI-86",
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            Self::Iti18 => "Registry Stored Query",
            Self::Iti41 => "Provide and Register Document Set-b",
            Self::Iti42 => "Register Document Set-b",
            Self::Iti43 => "Retrieve Document Set",
            Self::Iti57 => "Update Document Set",
            Self::Iti62 => "Remove Metadata",
            Self::Iti86 => "Remove Documents",
        }
    }

    pub const fn action(self) -> &'static str {
        match self {
            Self::Iti18 => "urn:ihe:iti:2007:RegistryStoredQuery",
            Self::Iti41 => "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b",
            Self::Iti42 => "urn:ihe:iti:2007:RegisterDocumentSet-b",
            Self::Iti43 => "urn:ihe:iti:2007:RetrieveDocumentSet",
            Self::Iti57 => "urn:ihe:iti:2010:UpdateDocumentSet",
            Self::Iti62 => "urn:ihe:iti:2010:DeleteDocumentSet",
            Self::Iti86 => "urn:ihe:iti:2017:RemoveDocuments",
        }
    }

    pub const fn response_action(self) -> &'static str {
        match self {
            Self::Iti18 => "urn:ihe:iti:2007:RegistryStoredQueryResponse",
            Self::Iti41 => "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse",
            Self::Iti42 => "urn:ihe:iti:2007:RegisterDocumentSet-bResponse",
            Self::Iti43 => "urn:ihe:iti:2007:RetrieveDocumentSetResponse",
            Self::Iti57 => "urn:ihe:iti:2010:UpdateDocumentSetResponse",
            Self::Iti62 => "urn:ihe:iti:2010:DeleteDocumentSetResponse",
            Self::Iti86 => "urn:ihe:iti:2017:RemoveDocumentsResponse",
        }
    }

    /// Namespace and local name of the request body element.
    pub const fn request_element(self) -> (&'static str, &'static str) {
        match self {
            Self::Iti18 => (NS_QUERY, "AdhocQueryRequest"),
            Self::Iti41 => (NS_XDS, "ProvideAndRegisterDocumentSetRequest"),
            Self::Iti42 | Self::Iti57 => (NS_LCM, "SubmitObjectsRequest"),
            Self::Iti43 => (NS_XDS, "RetrieveDocumentSetRequest"),
            Self::Iti62 => (NS_LCM, "RemoveObjectsRequest"),
            Self::Iti86 => (NS_RMD, "RemoveDocumentsRequest"),
        }
    }

    /// Namespace and local name of the response body element.
    pub const fn response_element(self) -> (&'static str, &'static str) {
        match self {
            Self::Iti18 => (NS_QUERY, "AdhocQueryResponse"),
            Self::Iti43 => (NS_XDS, "RetrieveDocumentSetResponse"),
            Self::Iti41 | Self::Iti42 | Self::Iti57 | Self::Iti62 | Self::Iti86 => {
                (NS_RS, "RegistryResponse")
            }
        }
    }

    /// ITI-41 and ITI-43 are MTOM/XOP in both directions; the others are Simple SOAP.
    pub const fn uses_mtom(self) -> bool {
        matches!(self, Self::Iti41 | Self::Iti43)
    }

    pub const fn actor(self) -> Actor {
        match self {
            Self::Iti18 | Self::Iti42 | Self::Iti57 | Self::Iti62 => Actor::Registry,
            Self::Iti41 | Self::Iti43 | Self::Iti86 => Actor::Repository,
        }
    }

    /// The transaction a request action names; actions compare exactly (they are URIs).
    pub fn from_action(action: &str) -> Option<Self> {
        let action = action.trim();
        Self::ALL
            .into_iter()
            .find(|transaction| transaction.action() == action)
    }

    /// The transaction whose response action this is.
    pub fn from_response_action(action: &str) -> Option<Self> {
        let action = action.trim();
        Self::ALL
            .into_iter()
            .find(|transaction| transaction.response_action() == action)
    }
}

impl fmt::Display for Transaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_unique_and_resolve_back() {
        for transaction in Transaction::ALL {
            assert_eq!(
                Transaction::from_action(transaction.action()),
                Some(transaction)
            );
            assert_eq!(
                Transaction::from_response_action(transaction.response_action()),
                Some(transaction)
            );
        }
        assert_eq!(Transaction::from_action("urn:ihe:iti:2007:Unknown"), None);
    }

    #[test]
    fn only_provide_and_retrieve_use_mtom() {
        let mtom: Vec<_> = Transaction::ALL
            .into_iter()
            .filter(|t| t.uses_mtom())
            .collect();
        assert_eq!(mtom, vec![Transaction::Iti41, Transaction::Iti43]);
    }
}
