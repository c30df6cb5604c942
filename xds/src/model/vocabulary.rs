//! Constants of the XDS metadata vocabulary: classification schemes, identification schemes,
//! classification nodes, object types and slot names (ITI TF-3 4.2, xds-spec-brief.md §3).
//! These are facts of the standard, written once here and referenced everywhere else.

// Object types.
pub const DOCUMENT_ENTRY_STABLE: &str = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1";
pub const DOCUMENT_ENTRY_ON_DEMAND: &str = "urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248";
pub const OBJECT_TYPE_REGISTRY_PACKAGE: &str =
    "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:RegistryPackage";
pub const OBJECT_TYPE_ASSOCIATION: &str =
    "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Association";
pub const OBJECT_TYPE_CLASSIFICATION: &str =
    "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification";
pub const OBJECT_TYPE_EXTERNAL_IDENTIFIER: &str =
    "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:ExternalIdentifier";

// Classification nodes labelling RegistryPackages, and the limitedMetadata flags.
pub const SUBMISSION_SET_NODE: &str = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd";
pub const FOLDER_NODE: &str = "urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2";
pub const DOCUMENT_ENTRY_LIMITED_METADATA: &str = "urn:uuid:ab9b591b-83ab-4d03-8f5d-f93b1fb92e85";
pub const SUBMISSION_SET_LIMITED_METADATA: &str = "urn:uuid:5003a9db-8d8d-49e6-bf0c-990e34ac7707";
pub const FOLDER_LIMITED_METADATA: &str = "urn:uuid:2c144a76-29a9-4b7c-af54-b25409fe7d03";

// DocumentEntry classification schemes.
pub const DE_AUTHOR: &str = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d";
pub const DE_CLASS_CODE: &str = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a";
pub const DE_CONFIDENTIALITY_CODE: &str = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f";
pub const DE_EVENT_CODE: &str = "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4";
pub const DE_FORMAT_CODE: &str = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d";
pub const DE_HEALTHCARE_FACILITY_TYPE_CODE: &str = "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1";
pub const DE_PRACTICE_SETTING_CODE: &str = "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead";
pub const DE_TYPE_CODE: &str = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983";

// DocumentEntry identification schemes.
pub const DE_PATIENT_ID: &str = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427";
pub const DE_UNIQUE_ID: &str = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab";

// SubmissionSet schemes.
pub const SS_AUTHOR: &str = "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d";
pub const SS_CONTENT_TYPE_CODE: &str = "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500";
pub const SS_PATIENT_ID: &str = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446";
pub const SS_SOURCE_ID: &str = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832";
pub const SS_UNIQUE_ID: &str = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8";

// Folder schemes.
pub const FOLDER_CODE_LIST: &str = "urn:uuid:1ba97051-7806-41a8-a48b-8fce7af683c5";
pub const FOLDER_PATIENT_ID: &str = "urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a";
pub const FOLDER_UNIQUE_ID: &str = "urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a";

// Association documentation classification (relationship associations only).
pub const ASSOCIATION_DOCUMENTATION: &str = "urn:uuid:abd807a3-4432-4053-87b4-fd82c643d1f3";

// ExternalIdentifier names (rim:Name of the ExternalIdentifier).
pub const DE_PATIENT_ID_NAME: &str = "XDSDocumentEntry.patientId";
pub const DE_UNIQUE_ID_NAME: &str = "XDSDocumentEntry.uniqueId";
pub const SS_PATIENT_ID_NAME: &str = "XDSSubmissionSet.patientId";
pub const SS_SOURCE_ID_NAME: &str = "XDSSubmissionSet.sourceId";
pub const SS_UNIQUE_ID_NAME: &str = "XDSSubmissionSet.uniqueId";
pub const FOLDER_PATIENT_ID_NAME: &str = "XDSFolder.patientId";
pub const FOLDER_UNIQUE_ID_NAME: &str = "XDSFolder.uniqueId";

// Slot names.
pub const SLOT_CODING_SCHEME: &str = "codingScheme";
pub const SLOT_CREATION_TIME: &str = "creationTime";
pub const SLOT_HASH: &str = "hash";
pub const SLOT_LANGUAGE_CODE: &str = "languageCode";
pub const SLOT_LEGAL_AUTHENTICATOR: &str = "legalAuthenticator";
pub const SLOT_REFERENCE_ID_LIST: &str = "urn:ihe:iti:xds:2013:referenceIdList";
pub const SLOT_REPOSITORY_UNIQUE_ID: &str = "repositoryUniqueId";
pub const SLOT_SERVICE_START_TIME: &str = "serviceStartTime";
pub const SLOT_SERVICE_STOP_TIME: &str = "serviceStopTime";
pub const SLOT_SIZE: &str = "size";
pub const SLOT_SOURCE_PATIENT_ID: &str = "sourcePatientId";
pub const SLOT_SOURCE_PATIENT_INFO: &str = "sourcePatientInfo";
pub const SLOT_URI: &str = "URI";
pub const SLOT_DOCUMENT_AVAILABILITY: &str = "documentAvailability";
pub const SLOT_SUBMISSION_TIME: &str = "submissionTime";
pub const SLOT_INTENDED_RECIPIENT: &str = "intendedRecipient";
pub const SLOT_LAST_UPDATE_TIME: &str = "lastUpdateTime";
pub const SLOT_AUTHOR_PERSON: &str = "authorPerson";
pub const SLOT_AUTHOR_INSTITUTION: &str = "authorInstitution";
pub const SLOT_AUTHOR_ROLE: &str = "authorRole";
pub const SLOT_AUTHOR_SPECIALTY: &str = "authorSpecialty";
pub const SLOT_AUTHOR_TELECOMMUNICATION: &str = "authorTelecommunication";
pub const SLOT_SUBMISSION_SET_STATUS: &str = "SubmissionSetStatus";
pub const SLOT_PREVIOUS_VERSION: &str = "PreviousVersion";
pub const SLOT_ORIGINAL_STATUS: &str = "OriginalStatus";
pub const SLOT_NEW_STATUS: &str = "NewStatus";
pub const SLOT_ASSOCIATION_PROPAGATION: &str = "AssociationPropagation";

// documentAvailability values (Metadata Update).
pub const DOCUMENT_AVAILABILITY_ONLINE: &str = "urn:ihe:iti:2010:DocumentAvailability:Online";
pub const DOCUMENT_AVAILABILITY_OFFLINE: &str = "urn:ihe:iti:2010:DocumentAvailability:Offline";

/// SHA-1 of zero bytes: with size 0, the delayed-assembly placeholder (TF-3 Table 4.2.3.1.7-2).
pub const EMPTY_SHA1: &str = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
