//! Who is calling: the one [`Caller`] every transaction receives (architecture.md, "Who the
//! caller is"). It is built at the edge from the TLS client certificate and the VIHF assertion
//! (`crate::trust`, feature `net`) and only read afterwards.

use super::hl7::Cx;
use super::metadata::Metadata;
use crate::error::RegistryError;
use crate::error::XdsErrorCode;

/// What the TLS client certificate says about its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateIdentity {
    /// Subject DN as written by the certificate, RFC 4514 order (`CN=..,OU=..,O=..,C=FR`).
    pub subject: String,
    /// Serial number, hexadecimal (audit).
    pub serial: String,
    pub kind: CertificateKind,
    /// idNat_Struct from the subject's OU (structure certificates, dmp-profile.md §2.7).
    pub structure_id: Option<String>,
    /// idNat_PS of a personal card certificate (the configured subject attribute).
    pub professional_id: Option<String>,
}

/// The kind of certificate, from its subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateKind {
    /// A structure's seal ("cachet") certificate: OU holds the structure id.
    Structure,
    /// A professional's card (CPx) certificate: the configured attribute holds the idNat_PS.
    Professional,
    /// Anything else the CA issued (a daemon's own certificate).
    Other,
}

/// VIHF `Authentification_Mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthenticationMode {
    Direct,
    Indirect,
    IndirectReinforced,
}

impl AuthenticationMode {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "DIRECTE" => Some(Self::Direct),
            "INDIRECTE" => Some(Self::Indirect),
            "INDIRECTE_RENFORCEE" => Some(Self::IndirectReinforced),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "DIRECTE",
            Self::Indirect => "INDIRECTE",
            Self::IndirectReinforced => "INDIRECTE_RENFORCEE",
        }
    }

    pub fn is_indirect(self) -> bool {
        !matches!(self, Self::Direct)
    }
}

/// VIHF `purposeofuse` (TRE_R248 access mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessMode {
    Normal,
    /// Break the glass (emergency).
    BreakGlass,
    /// SAMU regulation centre.
    Centre15,
}

impl AccessMode {
    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "normal" => Some(Self::Normal),
            "bris_de_glace" => Some(Self::BreakGlass),
            "centre_15" => Some(Self::Centre15),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::BreakGlass => "bris_de_glace",
            Self::Centre15 => "centre_15",
        }
    }
}

/// A coded value of the assertion (`code`, `codeSystem`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodedValue {
    pub code: String,
    pub system: String,
}

/// A verified VIHF assertion (dmp-profile.md §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    pub id: String,
    pub issuer: String,
    /// `Subject/NameID`: the user's idNat_PS (or a structure-internal id).
    pub name_id: String,
    pub version: String,
    pub authentication: AuthenticationMode,
    /// `Identifiant_Structure` (idNat_Struct).
    pub structure_id: String,
    /// `Secteur_Activite`.
    pub sector: CodedValue,
    /// `subject-id`: the user's name, or the software's.
    pub subject_name: String,
    /// `role` occurrences, profession first.
    pub roles: Vec<CodedValue>,
    pub access_mode: AccessMode,
    /// `resource-id`: the patient the assertion is about.
    pub patient: Option<Cx>,
    /// `confidentiality-code` (connexion secrète).
    pub confidentiality: Option<String>,
    pub software_name: String,
    pub software_homologation: String,
    /// Seconds since the epoch.
    pub issue_instant: i64,
}

/// The caller of one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Caller {
    /// The TLS client certificate (None on an `--insecure` listener).
    pub certificate: Option<CertificateIdentity>,
    /// The verified assertion (None when the transport carried none and none was required).
    pub assertion: Option<Assertion>,
    /// Set when a trusted intermediary (a repository) forwarded someone else's assertion: the
    /// intermediary's certificate is `certificate`, the assertion's signer is this one.
    pub signer: Option<CertificateIdentity>,
    /// DIRECTE mode: a submission must name the assertion's user among its authorPersons
    /// (`trust.direct_author_check`, dmp-profile.md §8 rule 19).
    pub direct_author_check: bool,
}

/// The code system of the roles a patient portal asserts (this project's: the VIHF has no
/// patient role). A registry accepts them only from a configured portal certificate.
pub const PORTAL_ROLE_SYSTEM: &str = "urn:xds:dmp:portal-role";

/// The `codeContext` token of a request whose patient differs from the assertion's.
pub const VIHF_PATIENT_MISMATCH: &str = "VIHF_PATIENT_MISMATCH";
/// The token of a submission none of whose authorInstitutions is the assertion's structure.
pub const VIHF_STRUCTURE_NOT_AUTHOR: &str = "VIHF_STRUCTURE_NOT_AUTHOR";
/// The token of a direct-mode submission none of whose authorPersons is the assertion's user.
pub const VIHF_USER_NOT_AUTHOR: &str = "VIHF_USER_NOT_AUTHOR";

impl Caller {
    /// An unauthenticated caller (insecure listeners, offline commands).
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// Checks that `patient` (the request's patient) is the assertion's patient (dmp-profile.md
    /// §8 rule 16). Without an assertion there is nothing to compare.
    pub fn check_patient(&self, patient: &Cx) -> Result<(), RegistryError> {
        let Some(assertion) = &self.assertion else {
            return Ok(());
        };
        match &assertion.patient {
            Some(asserted) if same_patient(asserted, patient) => Ok(()),
            Some(asserted) => Err(RegistryError::error(
                XdsErrorCode::RegistryError,
                format!(
                    "{VIHF_PATIENT_MISMATCH}: the assertion is about {asserted}, the request about {patient}"
                ),
            )),
            None => Err(RegistryError::error(
                XdsErrorCode::RegistryError,
                format!(
                    "{VIHF_PATIENT_MISMATCH}: the assertion names no patient (resource-id), the request is about {patient}"
                ),
            )),
        }
    }

    /// The checks a submission makes against the assertion (dmp-profile.md §3.3, items 6-8):
    /// the patient, in indirect modes an authorInstitution of the assertion's structure, in
    /// direct mode (when [`Caller::direct_author_check`]) an authorPerson that is the
    /// assertion's user.
    pub fn check_submission(&self, metadata: &Metadata) -> Vec<RegistryError> {
        let Some(assertion) = &self.assertion else {
            return Vec::new();
        };
        let mut errors = Vec::new();
        if let Some(patient) = metadata.patient()
            && let Err(error) = self.check_patient(patient)
        {
            errors.push(error);
        }
        let authors = metadata
            .submission_sets
            .iter()
            .flat_map(|set| set.authors.iter())
            .chain(
                metadata
                    .document_entries
                    .iter()
                    .flat_map(|entry| entry.authors.iter()),
            );
        let (mut institution_matches, mut person_matches, mut any_author) = (false, false, false);
        for author in authors {
            any_author = true;
            institution_matches |= author
                .institutions
                .iter()
                .any(|institution| institution.organization_identifier() == assertion.structure_id);
            person_matches |= author
                .person
                .as_ref()
                .is_some_and(|person| person.id() == assertion.name_id);
        }
        if !any_author {
            return errors;
        }
        if assertion.authentication.is_indirect() && !institution_matches {
            errors.push(RegistryError::error(
                XdsErrorCode::RegistryError,
                format!(
                    "{VIHF_STRUCTURE_NOT_AUTHOR}: no authorInstitution of the submission has the assertion's Identifiant_Structure {}",
                    assertion.structure_id
                ),
            ));
        }
        if !assertion.authentication.is_indirect() && self.direct_author_check && !person_matches {
            errors.push(RegistryError::error(
                XdsErrorCode::RegistryError,
                format!(
                    "{VIHF_USER_NOT_AUTHOR}: no authorPerson of the submission is the assertion's user {}",
                    assertion.name_id
                ),
            ));
        }
        errors
    }
}

/// Same id and assigning authority (the type code and other components do not matter).
fn same_patient(left: &Cx, right: &Cx) -> bool {
    left.id_number() == right.id_number()
        && left
            .assigning_authority()
            .and_then(|authority| authority.iso_oid())
            == right
                .assigning_authority()
                .and_then(|authority| authority.iso_oid())
}
