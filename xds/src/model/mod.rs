//! The strict XDS metadata model: the types services and stores work with.
//!
//! Layout: `ids` (UUID, OID, symbolic ids, uniqueIds), `hl7` (CX, XCN, XON, XTN, CE, HD, DTM),
//! `metadata` (DocumentEntry, SubmissionSet, Folder, Association and their attribute types),
//! `query` (the 14 stored queries with typed parameters), `messages` (transaction bodies),
//! `vocabulary` (the standard's UUIDs, URNs and slot names).
//!
//! Architecture invariant: this module never imports `wire`; the transforms in
//! `crate::transform` are the only bridge between XML and these types.

pub mod caller;
pub mod hl7;
pub mod ids;
pub mod ins;
pub mod messages;
pub mod metadata;
pub mod query;
pub mod vocabulary;

pub use caller::{
    AccessMode, Assertion, AuthenticationMode, Caller, CertificateIdentity, CertificateKind,
    CodedValue,
};
pub use hl7::{Ce, Composite, Cx, Dtm, DtmPrecision, Hd, Hl7Error, Xcn, Xon, Xtn};
pub use ids::{IdError, ObjectId, Oid, UniqueId, Uuid};
pub use ins::{Ins, InsError, InsKind, InsPolicy};
pub use messages::{
    Document, DocumentRequest, ProvideAndRegister, QueryResponse, RemoveMetadata, RetrieveResponse,
    RetrievedDocument,
};
pub use metadata::{
    Association, AssociationType, Author, AvailabilityStatus, Code, DocumentAvailability,
    DocumentEntry, DocumentEntryType, Folder, InternationalString, LocalizedString, Metadata,
    ObjectRef, Sha1Hash, Slot, SubmissionSet, SubmissionSetStatus,
};
pub use query::{
    CodeFilter, CodeParam, ContentFilter, FindDocumentsQuery, FindFoldersQuery,
    FindSubmissionSetsQuery, GetAllQuery, ObjectSelector, RawParameter, ReturnType, StoredQuery,
    StoredQueryId, StoredQueryRequest, TimeRange, like_matches,
};
