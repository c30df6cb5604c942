//! The DMP access policy (dmp-profile.md §4, §8 rules 5, 36-45): who may feed, read or change a
//! patient's record, and which documents each reader sees.
//!
//! - [`DmpRecord`]: the per-patient state the patient and operators manage (open or closed,
//!   oppositions to emergency and regulator access, authorised and blocked professionals, the
//!   médecin traitant DMP).
//! - [`admit`]: the transaction-level decision for one caller, answering a [`Viewer`] or a
//!   [`Denial`] carrying the XDS error code and the `codeContext` token of dmp-profile.md §6.8.
//! - [`Viewer::sees`]: the document-level decision (confidentiality flags, the matrice
//!   d'habilitation, producer-only callers restricted to their own documents). Hidden documents
//!   are left out of answers, never reported.
//!
//! Every UNCONFIRMED rule of the profile is a switch of [`AccessSettings`] with the documented
//! default.

pub mod record;

use serde::{Deserialize, Serialize};
use xds::XdsErrorCode;
use xds::error::RegistryError;
use xds::model::{AccessMode, AuthenticationMode, Caller, CodedValue, DocumentEntry};
use xds::net::tls::{parse_dn, same_dn};

pub use record::{DmpCommand, DmpRecord, DmpStatus};

/// `codeContext` tokens of refusals (dmp-profile.md §6.8).
pub const DMP_NOT_FOUND: &str = "DMP_NOT_FOUND";
pub const DMP_CLOSED: &str = "DMP_CLOSED";
pub const ACCESS_BLOCKED: &str = "ACCESS_BLOCKED";
pub const ACCESS_NOT_AUTHORISED: &str = "ACCESS_NOT_AUTHORISED";
pub const ACCESS_MODE_OPPOSED: &str = "ACCESS_MODE_OPPOSED";
pub const AUTH_MODE_NOT_ALLOWED: &str = "AUTH_MODE_NOT_ALLOWED";
pub const NOT_AUTHOR: &str = "NOT_AUTHOR";

/// The code system of the roles a patient portal asserts; accepted only from a certificate
/// listed in `access.portals`.
pub use xds::model::caller::PORTAL_ROLE_SYSTEM;
/// The portal role of the patient.
pub const PORTAL_PATIENT: &str = "PATIENT";
/// The portal role of a legal representative of a minor patient.
pub const PORTAL_REPRESENTATIVE: &str = "REPRESENTANT_LEGAL";

/// The TRE_A07 visibility flags (dmp-profile.md §4.5).
pub const MASQUE_PS: &str = "MASQUE_PS";
pub const INVISIBLE_PATIENT: &str = "INVISIBLE_PATIENT";
pub const INVISIBLE_REPRESENTANTS_LEGAUX: &str = "INVISIBLE_REPRESENTANTS_LEGAUX";

/// J65 roles that produce documents and never read them (dmp-profile.md §4.9, §8 rule 42).
const PRODUCER_ROLES: [&str; 4] = ["AUTOMATE", "DISPOSITIF", "ALIM_AM", "SNR"];

/// What a transaction does to the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// ITI-41 / ITI-42: adding documents (non-opposition only, §4.3).
    Feed,
    /// ITI-57: masking, visibility, deletion, archiving of existing entries.
    Update,
    /// ITI-18, ITI-43: reading.
    Consult,
    /// setAuthorization and the patient's own settings.
    Manage,
}

/// Which access policy the registry applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyChoice {
    /// The DMP policy when the validation profile is `fr-dmp`, none otherwise.
    Profile,
    /// The DMP policy (every transaction needs a DMP, an assertion, consent).
    Dmp,
    /// No access policy (plain IHE XDS.b registries, development without a PKI); transactions
    /// are still audited.
    Open,
}

/// One row of the matrice d'habilitation: which typeCodes or classCodes a profession reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixRow {
    /// The first VIHF role's code; `*` for every code of `system`.
    pub role: String,
    /// The first role's code system; absent for any.
    #[serde(default)]
    pub system: Option<String>,
    /// A second role (specialty) the row is limited to; absent for any.
    #[serde(default)]
    pub second_role: Option<String>,
    /// typeCode or classCode codes readable; `*` for all.
    pub read: Vec<String>,
    /// Codes excepted from `read`.
    #[serde(default)]
    pub except: Vec<String>,
}

impl MatrixRow {
    fn applies_to(&self, roles: &[CodedValue]) -> bool {
        let Some(first) = roles.first() else {
            return false;
        };
        (self.role == "*" || self.role == first.code)
            && self
                .system
                .as_ref()
                .is_none_or(|system| *system == first.system)
            && self
                .second_role
                .as_ref()
                .is_none_or(|second| roles.iter().skip(1).any(|role| role.code == *second))
    }

    fn allows(&self, codes: &[&str]) -> bool {
        let listed = |list: &[String]| {
            list.iter()
                .any(|item| item == "*" || codes.iter().any(|code| code == item))
        };
        listed(&self.read)
            && !self
                .except
                .iter()
                .any(|item| codes.iter().any(|code| code == item))
    }
}

/// The access settings (`[access]`). Defaults follow dmp-profile.md's recommendations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessSettings {
    /// Whether the DMP policy applies at all (`access.policy`, resolved against the profile).
    pub enforce: bool,
    /// A blocked professional may not feed either (§4.3 UNCONFIRMED; default yes).
    pub block_covers_feeding: bool,
    /// The block also beats bris_de_glace and centre_15 (§4.3 UNCONFIRMED; default yes).
    pub block_covers_emergency: bool,
    /// INDIRECTE callers may consult (§8 rule 42; default no: own documents only).
    pub indirect_may_consult: bool,
    /// MASQUE_PS documents are shown in bris_de_glace / centre_15 (§4.4 UNCONFIRMED; default no).
    pub masked_visible_in_emergency: bool,
    /// ITI-57 confidentiality changes need DIRECTE (§8 rule 31); INDIRECTE_RENFORCEE when added.
    pub update_allows_reinforced: bool,
    /// Subject DNs of patient portals (the only certificates whose assertions may carry the
    /// portal roles).
    pub portals: Vec<String>,
    /// Subject DNs of operator consoles allowed to manage any patient's DMP over SOAP.
    pub operators: Vec<String>,
    /// The matrice d'habilitation; a role no row applies to reads nothing.
    pub matrix: Vec<MatrixRow>,
}

impl AccessSettings {
    /// The default matrix: the health professions (RPPS professions, the same in training,
    /// and the other registered professions) read every document type; social-sector,
    /// secretarial and producer roles read nothing. The real matrix is an order's PDF annex
    /// (dmp-profile.md §4.7, UNCONFIRMED content): operators replace this table.
    pub fn default_matrix() -> Vec<MatrixRow> {
        [
            "1.2.250.1.71.1.2.7",
            "1.2.250.1.71.1.2.8",
            "1.2.250.1.213.1.6.1.109",
        ]
        .into_iter()
        .map(|system| MatrixRow {
            role: "*".to_owned(),
            system: Some(system.to_owned()),
            second_role: None,
            read: vec!["*".to_owned()],
            except: Vec::new(),
        })
        .collect()
    }
}

impl Default for AccessSettings {
    fn default() -> Self {
        Self {
            enforce: true,
            block_covers_feeding: true,
            block_covers_emergency: true,
            indirect_may_consult: false,
            masked_visible_in_emergency: false,
            update_allows_reinforced: false,
            portals: Vec::new(),
            operators: Vec::new(),
            matrix: Self::default_matrix(),
        }
    }
}

/// A refusal: the XDS error code, the stable token and what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub code: XdsErrorCode,
    pub token: &'static str,
    pub message: String,
}

impl Denial {
    fn new(code: XdsErrorCode, token: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            token,
            message: message.into(),
        }
    }

    fn registry(token: &'static str, message: impl Into<String>) -> Self {
        Self::new(XdsErrorCode::RegistryError, token, message)
    }

    /// The RegistryError answering it (`codeContext` starts with the token).
    pub fn to_error(&self) -> RegistryError {
        RegistryError::error(self.code, format!("{}: {}", self.token, self.message))
    }
}

/// Who a professional caller is, for the document-level checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Professional {
    pub name_id: String,
    pub structure_id: String,
    pub authentication: AuthenticationMode,
    pub roles: Vec<CodedValue>,
    pub mode: AccessMode,
    /// The médecin traitant DMP or a professional given the same rights: sees masked documents.
    pub full_rights: bool,
    /// Producer-only roles and (by default) INDIRECTE callers: their own documents only.
    pub own_documents_only: bool,
}

impl Professional {
    /// Whether this caller is an author of `entry`: DIRECTE by authorPerson XCN.1, indirect
    /// modes by authorInstitution XON.10 (dmp-profile.md §8 rule 33).
    pub fn is_author(&self, entry: &DocumentEntry) -> bool {
        entry.authors.iter().any(|author| {
            if self.authentication.is_indirect() {
                author
                    .institutions
                    .iter()
                    .any(|institution| institution.organization_identifier() == self.structure_id)
            } else {
                author
                    .person
                    .as_ref()
                    .is_some_and(|person| person.id() == self.name_id)
            }
        })
    }
}

/// Who is reading, once admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    /// No policy (`access.policy = "open"`): everything not deleted.
    Unrestricted,
    /// A forwarder (repository) acting for itself, without an assertion: identifiers only
    /// (ObjectRef answers), for its own bookkeeping.
    System,
    Professional(Professional),
    /// Through a patient portal: the patient, or a legal representative.
    Patient {
        representative: bool,
    },
}

fn has_flag(entry: &DocumentEntry, flag: &str) -> bool {
    entry
        .confidentiality_codes
        .iter()
        .any(|code| code.code == flag)
}

impl Viewer {
    /// Whether this viewer may see `entry` (its patient is already the admitted one).
    pub fn sees(&self, settings: &AccessSettings, entry: &DocumentEntry) -> bool {
        match self {
            Self::Unrestricted | Self::System => true,
            Self::Patient { representative } => {
                let hidden = has_flag(entry, INVISIBLE_PATIENT)
                    || (*representative && has_flag(entry, INVISIBLE_REPRESENTANTS_LEGAUX));
                !hidden
            }
            Self::Professional(professional) => {
                let author = professional.is_author(entry);
                if author {
                    return true;
                }
                if professional.own_documents_only {
                    return false;
                }
                if has_flag(entry, MASQUE_PS)
                    && !professional.full_rights
                    && !(professional.mode != AccessMode::Normal
                        && settings.masked_visible_in_emergency)
                {
                    return false;
                }
                let codes: Vec<&str> = entry
                    .type_code
                    .iter()
                    .chain(entry.class_code.iter())
                    .map(|code| code.code.as_str())
                    .collect();
                settings
                    .matrix
                    .iter()
                    .filter(|row| row.applies_to(&professional.roles))
                    .any(|row| row.allows(&codes))
            }
        }
    }

    /// The access mode to flag in the audit trail.
    pub fn mode(&self) -> AccessMode {
        match self {
            Self::Professional(professional) => professional.mode,
            _ => AccessMode::Normal,
        }
    }
}

/// ITI-57's rules for one admitted caller, plugged into the update's lifecycle checks
/// ([`crate::service::iti57::LifecyclePolicy`]): a status change of a DocumentEntry (DMP
/// deletion, archiving, unarchiving) only by its author (dmp-profile.md §8 rule 33); a new
/// version (masking, visibility) only in DIRECTE mode, INDIRECTE_RENFORCEE when
/// `update_allows_reinforced` (rule 31), and by its author when the caller acts on its own
/// documents only.
#[derive(Debug)]
pub struct CallerLifecycle {
    pub viewer: Viewer,
    pub settings: std::sync::Arc<AccessSettings>,
}

impl crate::service::iti57::LifecyclePolicy for CallerLifecycle {
    fn check(
        &self,
        change: &crate::service::iti57::LifecycleChange<'_>,
    ) -> Result<(), RegistryError> {
        use crate::service::iti57::LifecycleChange;
        use crate::store::StoredObject;
        let Viewer::Professional(professional) = &self.viewer else {
            return Ok(());
        };
        let not_author = |location: String| {
            RegistryError::error(
                XdsErrorCode::MetadataUpdateError,
                format!("{NOT_AUTHOR}: only the document's author may change it this way"),
            )
            .at(location)
        };
        match change {
            LifecycleChange::Status(status) => match &status.target.object {
                StoredObject::DocumentEntry(entry) if !professional.is_author(entry) => {
                    Err(not_author(entry.entry_uuid.to_string()))
                }
                _ => Ok(()),
            },
            LifecycleChange::Version { previous, .. } => {
                let allowed = match professional.authentication {
                    AuthenticationMode::Direct => true,
                    AuthenticationMode::IndirectReinforced => {
                        self.settings.update_allows_reinforced
                    }
                    AuthenticationMode::Indirect => false,
                };
                if !allowed {
                    return Err(RegistryError::error(
                        XdsErrorCode::MetadataUpdateError,
                        format!(
                            "{AUTH_MODE_NOT_ALLOWED}: a new version (masking, visibility) needs Authentification_Mode DIRECTE, not {}",
                            professional.authentication.as_str()
                        ),
                    ));
                }
                match &previous.object {
                    StoredObject::DocumentEntry(entry)
                        if professional.own_documents_only && !professional.is_author(entry) =>
                    {
                        Err(not_author(entry.entry_uuid.to_string()))
                    }
                    _ => Ok(()),
                }
            }
        }
    }
}

/// The portal role of a caller, when its certificate is a configured portal. `Err` when a
/// portal role comes from any other certificate.
fn portal_role(settings: &AccessSettings, caller: &Caller) -> Result<Option<bool>, Denial> {
    let Some(assertion) = &caller.assertion else {
        return Ok(None);
    };
    let Some(first) = assertion.roles.first() else {
        return Ok(None);
    };
    if first.system != PORTAL_ROLE_SYSTEM {
        return Ok(None);
    }
    let issuer = caller.signer.as_ref().or(caller.certificate.as_ref());
    let is_portal = issuer.is_some_and(|identity| listed(&settings.portals, &identity.subject));
    if !is_portal {
        return Err(Denial::registry(
            ACCESS_NOT_AUTHORISED,
            "a patient-portal role was asserted by a certificate that is not a configured portal",
        ));
    }
    match first.code.as_str() {
        PORTAL_PATIENT => Ok(Some(false)),
        PORTAL_REPRESENTATIVE => Ok(Some(true)),
        other => Err(Denial::registry(
            ACCESS_NOT_AUTHORISED,
            format!("unknown patient-portal role {other:?}"),
        )),
    }
}

/// The refusal of a management command the caller may not give.
pub fn management_denied(what: &str) -> Denial {
    Denial::registry(
        ACCESS_NOT_AUTHORISED,
        format!("this caller may not {what} on this DMP"),
    )
}

/// Whether the caller's certificate is a configured operator console.
pub fn is_operator(settings: &AccessSettings, caller: &Caller) -> bool {
    caller
        .certificate
        .as_ref()
        .is_some_and(|identity| listed(&settings.operators, &identity.subject))
}

/// Whether `subject` is one of the DNs of `list`.
fn listed(list: &[String], subject: &str) -> bool {
    let Some(subject) = parse_dn(subject) else {
        return false;
    };
    list.iter()
        .filter_map(|entry| parse_dn(entry))
        .any(|entry| same_dn(&entry, &subject))
}

/// The transaction-level decision for `caller` on a patient whose DMP is `record` (None: no
/// DMP). Order: DMP exists and is open, then the block (beats everything), then what the
/// operation needs (§4.3, §4.4).
pub fn admit(
    settings: &AccessSettings,
    caller: &Caller,
    record: Option<&DmpRecord>,
    operation: Operation,
) -> Result<Viewer, Denial> {
    if !settings.enforce {
        return Ok(Viewer::Unrestricted);
    }
    let Some(assertion) = &caller.assertion else {
        // Only a certificate: a repository's own bookkeeping (identifiers only).
        if caller.certificate.is_some() && operation == Operation::Consult {
            return Ok(Viewer::System);
        }
        return Err(Denial::registry(
            ACCESS_NOT_AUTHORISED,
            "the DMP needs a VIHF assertion for every access",
        ));
    };
    let portal = portal_role(settings, caller)?;
    let Some(record) = record else {
        return Err(Denial::new(
            XdsErrorCode::UnknownPatientId,
            DMP_NOT_FOUND,
            "this patient has no DMP",
        ));
    };
    if let DmpStatus::Closed { .. } = record.status {
        return Err(Denial::registry(DMP_CLOSED, "this patient's DMP is closed"));
    }
    if let Some(representative) = portal {
        return match operation {
            Operation::Consult | Operation::Manage | Operation::Feed => {
                Ok(Viewer::Patient { representative })
            }
            Operation::Update => Err(Denial::registry(
                ACCESS_NOT_AUTHORISED,
                "a patient portal does not change document metadata through ITI-57",
            )),
        };
    }
    let mode = assertion.access_mode;
    let name_id = assertion.name_id.as_str();
    if record.blocked.contains(name_id) {
        let exempt = (operation == Operation::Feed && !settings.block_covers_feeding)
            || (mode != AccessMode::Normal && !settings.block_covers_emergency);
        if !exempt {
            return Err(Denial::registry(
                ACCESS_BLOCKED,
                "the patient has blocked this professional",
            ));
        }
    }
    let full_rights = record.has_full_rights(name_id);
    let producer_only = !assertion.roles.is_empty()
        && assertion
            .roles
            .iter()
            .all(|role| PRODUCER_ROLES.contains(&role.code.as_str()));
    let indirect_restricted =
        assertion.authentication == AuthenticationMode::Indirect && !settings.indirect_may_consult;
    let professional = Professional {
        name_id: name_id.to_owned(),
        structure_id: assertion.structure_id.clone(),
        authentication: assertion.authentication,
        roles: assertion.roles.clone(),
        mode,
        full_rights,
        own_documents_only: producer_only || indirect_restricted,
    };
    match operation {
        Operation::Feed => Ok(Viewer::Professional(professional)),
        Operation::Manage => {
            if professional.own_documents_only {
                return Err(Denial::registry(
                    ACCESS_NOT_AUTHORISED,
                    "producer software does not declare authorisations",
                ));
            }
            Ok(Viewer::Professional(professional))
        }
        // ITI-57: who may change what is decided per change by [`CallerLifecycle`]. Without
        // the consultation right (Alimentation-profile software), a caller acts on its own
        // documents only; an opposed emergency mode is refused here.
        Operation::Update => {
            if professional.own_documents_only {
                return Ok(Viewer::Professional(professional));
            }
            match consult(record, professional.clone()) {
                Err(denial) if denial.token == ACCESS_NOT_AUTHORISED => {
                    Ok(Viewer::Professional(Professional {
                        own_documents_only: true,
                        ..professional
                    }))
                }
                other => other,
            }
        }
        Operation::Consult => {
            if professional.own_documents_only {
                // Lookups of the caller's own documents stay allowed (TD3.1b): the viewer
                // sees nothing else.
                return Ok(Viewer::Professional(professional));
            }
            consult(record, professional)
        }
    }
}

/// Consultation: a valid authorisation, full rights, or an emergency mode the patient has not
/// opposed (§4.4, §8 rule 36).
fn consult(record: &DmpRecord, professional: Professional) -> Result<Viewer, Denial> {
    if professional.full_rights || record.authorised.contains_key(&professional.name_id) {
        return Ok(Viewer::Professional(professional));
    }
    match professional.mode {
        AccessMode::Normal => Err(Denial::registry(
            ACCESS_NOT_AUTHORISED,
            "no valid authorisation of this professional for this DMP",
        )),
        AccessMode::BreakGlass if record.oppose_emergency => Err(Denial::registry(
            ACCESS_MODE_OPPOSED,
            "the patient has opposed emergency (bris de glace) access",
        )),
        AccessMode::Centre15 if record.oppose_regulator => Err(Denial::registry(
            ACCESS_MODE_OPPOSED,
            "the patient has opposed access by the SAMU regulator (centre 15)",
        )),
        AccessMode::BreakGlass | AccessMode::Centre15 => Ok(Viewer::Professional(professional)),
    }
}

#[cfg(test)]
mod tests;
