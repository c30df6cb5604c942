//! Patient identity (dmp-profile.md §1, xds-spec-brief.md §8): what the registry knows of a
//! patient beyond the id it files documents under, and which ids it accepts.
//!
//! - [`IdentityPolicy`]: the affinity domain's patient identification domain (XAD-PID: the INS
//!   OIDs a deployment accepts and/or other assigning authorities), the INS checks, and how
//!   PID-3 namespace ids map to OIDs. The feed, the operator commands and ITI-42 use it.
//! - [`PatientRecord`]: the stored identity of one patient: identity traits and status as last
//!   fed, local identifiers of other assigning authorities linked to it, and the merge that
//!   subsumed it, if any.
//! - [`IdentityCommand`]: the changes the writer applies (`service::identity`).
//! - [`feed`]: ITI-8, HL7 v2 ADT messages to commands and acknowledgements.

pub mod feed;

use std::collections::BTreeMap;
use std::fmt;

use xds::model::{Cx, Hd, InsError, InsKind, InsPolicy, Oid};

use crate::store::PatientNum;

/// The identity status of the French identity-vigilance framework (RNIV, dmp-profile.md §1.3),
/// as PID-32 carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum IdentityStatus {
    /// `PROV`: provisional.
    Provisional,
    /// `RECUP`: recovered (taken from a trusted source without a document check).
    Recovered,
    /// `VALI`: validated against an identity document.
    Validated,
    /// `QUAL`: qualified (INS checked through INSi and a high-trust document).
    Qualified,
}

impl IdentityStatus {
    pub const ALL: [IdentityStatus; 4] = [
        Self::Provisional,
        Self::Recovered,
        Self::Validated,
        Self::Qualified,
    ];

    pub const fn code(self) -> &'static str {
        match self {
            Self::Provisional => "PROV",
            Self::Recovered => "RECUP",
            Self::Validated => "VALI",
            Self::Qualified => "QUAL",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.code() == code)
    }

    /// The French name (`provisoire`, `récupérée`, `validée`, `qualifiée`).
    pub const fn label(self) -> &'static str {
        match self {
            Self::Provisional => "provisoire",
            Self::Recovered => "récupérée",
            Self::Validated => "validée",
            Self::Qualified => "qualifiée",
        }
    }
}

/// The five identity traits (dmp-profile.md §1.1), as the feed sent them. Informational:
/// never used to find or match a patient.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Traits {
    /// Nom de naissance (PID-5.1 of the legal name).
    pub birth_name: String,
    /// First given name (PID-5.2).
    pub first_name: String,
    /// Further birth given names (PID-5.3), as sent.
    pub other_first_names: String,
    /// Birth date, `YYYYMMDD` (PID-7).
    pub birth_date: String,
    /// Administrative sex, HL7 table 0001 (PID-8): M, F, U (O, A, N accepted as sent).
    pub sex: String,
    /// Birth place as an INSEE code (PID-11 of type BDL, component 9).
    pub birth_place: String,
}

/// What a feed says of a patient's identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Identity {
    pub traits: Traits,
    pub status: Option<IdentityStatus>,
    /// Other PID-32 attributes (`DOUTE`, `FICTI`, `HOMON`, ...).
    pub attributes: Vec<String>,
}

/// One patient as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PatientRecord {
    /// The affinity-domain id, in the form first registered.
    pub id: Cx,
    pub identity: Option<Identity>,
    /// Identifiers of other assigning authorities (IPP, ...) linked to this patient.
    pub local_ids: Vec<Cx>,
    /// Set when a merge subsumed this id into another.
    pub subsumed_by: Option<PatientNum>,
    /// When it last changed (HL7 DTM, UTC) and what changed it.
    pub updated: String,
    pub source: String,
}

/// A change to the identity store, applied by the single writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityCommand {
    /// Create or update a patient (ITI-8 A01/A04/A05/A08/A28/A31; `patient add`).
    Upsert {
        id: Cx,
        local_ids: Vec<Cx>,
        identity: Option<Identity>,
    },
    /// Merge `subsumed` into `surviving` (ITI-8 A40; `patient merge`).
    Merge { surviving: Cx, subsumed: Cx },
}

/// Where a feed message came from, for idempotent resends: a message with the same key and
/// digest is the same message, answered as before without changing anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageKey {
    pub key: Vec<u8>,
    pub digest: [u8; 20],
}

/// Which identifier of a command a refusal is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// The patient id (Upsert) or the surviving id (Merge): PID-3.
    Patient,
    /// The subsumed id (Merge): MRG-1.
    Subsumed,
    /// The message as a whole (control id reuse).
    Message,
}

/// Why the writer refused a command (nothing changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The id is not an active id the registry knows.
    Unknown(Subject, String),
    /// The id was merged into another one.
    Subsumed(Subject, String),
    /// Both ids of a merge are the same.
    SameIds(String),
    /// The message control id was used before for another message.
    ControlIdReused(String),
}

impl Refusal {
    pub fn subject(&self) -> Subject {
        match self {
            Self::Unknown(subject, _) | Self::Subsumed(subject, _) => *subject,
            Self::SameIds(_) => Subject::Subsumed,
            Self::ControlIdReused(_) => Subject::Message,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown(_, text)
            | Self::Subsumed(_, text)
            | Self::SameIds(text)
            | Self::ControlIdReused(text) => f.write_str(text),
        }
    }
}

/// What an applied command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityOutcome {
    Created(PatientNum),
    Updated(PatientNum),
    /// Nothing new (the same data again).
    Unchanged(PatientNum),
    Merged {
        surviving: PatientNum,
        subsumed: PatientNum,
    },
    /// The same feed message was applied before: nothing done, the same answer.
    Resent,
    Refused(Refusal),
}

impl IdentityOutcome {
    pub fn is_applied(&self) -> bool {
        !matches!(self, Self::Refused(_))
    }
}

/// One entry of `identity.domains`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainRule {
    /// The INS OIDs the INS policy accepts.
    Ins,
    /// Every assigning authority (development).
    Any,
    /// One assigning authority.
    Oid(String),
}

/// Why a set of identifiers does not name one patient of the affinity domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdError {
    /// No identifier of the affinity domain.
    NoDomainId(String),
    /// Several different identifiers of the affinity domain.
    Several(String),
    /// An INS that is malformed or of a refused kind; `index` is the repetition (0-based).
    Ins { index: usize, error: InsError },
    /// An identifier of the affinity domain not in the form XDS needs.
    Form { index: usize, message: String },
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoDomainId(text) | Self::Several(text) => f.write_str(text),
            Self::Ins { error, .. } => write!(f, "{error}"),
            Self::Form { message, .. } => f.write_str(message),
        }
    }
}

/// Which ids the registry accepts as patient ids, and how it reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityPolicy {
    pub domains: Vec<DomainRule>,
    pub ins: InsPolicy,
    /// PID-3.4 namespace ids that come without an OID, and the OID each stands for.
    pub namespaces: BTreeMap<String, String>,
}

impl Default for IdentityPolicy {
    /// A production deployment: the accepted INS (INS-NIR, INS-NIA) only.
    fn default() -> Self {
        Self {
            domains: vec![DomainRule::Ins],
            ins: InsPolicy::production(),
            namespaces: BTreeMap::new(),
        }
    }
}

/// The key a patient id is stored under: the id number and the assigning authority, without
/// the identifier type code (`^NH` or not, `^PI` or not, it is the same patient).
pub fn canonical(id: &Cx) -> Cx {
    let mut key = Cx::default();
    key.0.set(1, vec![id.id_number().to_owned()]);
    key.0.set(4, id.composite().subcomponents(4).to_vec());
    key
}

impl IdentityPolicy {
    /// Development and conformance platforms: every assigning authority, test and demo INS
    /// accepted (keys still checked).
    pub fn development() -> Self {
        Self {
            domains: vec![DomainRule::Any],
            ins: InsPolicy::with_test_patients(),
            namespaces: BTreeMap::new(),
        }
    }

    /// Fills the universal id of a PID-3.4 given by namespace only, from the configured map
    /// (ITI-8: the namespace and `&OID&ISO` forms are equivalent).
    pub fn complete(&self, mut id: Cx) -> Cx {
        if let Some(authority) = id.assigning_authority()
            && authority.universal_id.is_empty()
            && let Some(oid) = self.namespaces.get(&authority.namespace_id)
        {
            id.0.set(
                4,
                vec![
                    authority.namespace_id.clone(),
                    oid.clone(),
                    "ISO".to_owned(),
                ],
            );
        }
        id
    }

    fn in_domain(&self, authority: &str) -> bool {
        self.domains.iter().any(|rule| match rule {
            DomainRule::Any => true,
            DomainRule::Ins => InsKind::from_oid(authority).is_some(),
            DomainRule::Oid(oid) => oid == authority,
        })
    }

    /// A readable list of the domain's authorities.
    pub fn describe_domains(&self) -> String {
        self.domains
            .iter()
            .map(|rule| match rule {
                DomainRule::Any => "any authority".to_owned(),
                DomainRule::Ins => format!(
                    "INS ({})",
                    self.ins
                        .accepted
                        .iter()
                        .map(|kind| kind.oid())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                DomainRule::Oid(oid) => oid.clone(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The form the registry stores a domain id in: `ID^^^&OID&ISO`, with `^NH` for an INS
    /// (dmp-profile.md §1.4).
    fn stored_form(id: &Cx, authority: &str, is_ins: bool) -> Cx {
        let oid = Oid::parse(authority).ok();
        let mut stored = match &oid {
            Some(oid) => Cx::new(id.id_number(), &Hd::iso(oid)),
            None => canonical(id),
        };
        if is_ins {
            stored = stored.with_type_code("NH");
        }
        stored
    }

    /// Checks one id as a patient id of the affinity domain (`patient add`, ITI-42): in the
    /// domain, in XDS form, and a valid, accepted INS when it is one. Returns the stored form.
    pub fn check_patient_id(&self, id: &Cx) -> Result<Cx, IdError> {
        let (domain, _) = self.split(std::slice::from_ref(id))?;
        Ok(domain)
    }

    /// Splits the identifiers of one patient (PID-3 repetitions) into the affinity-domain id
    /// and the local ids of other authorities. When several are of the domain, an INS wins if
    /// it is the only INS; otherwise the ids are ambiguous.
    pub fn split(&self, ids: &[Cx]) -> Result<(Cx, Vec<Cx>), IdError> {
        let mut domain: Vec<(usize, Cx, bool)> = Vec::new();
        let mut locals: Vec<Cx> = Vec::new();
        for (index, id) in ids.iter().enumerate() {
            let id = self.complete(id.clone());
            let authority = id
                .assigning_authority()
                .map(|hd| hd.universal_id)
                .unwrap_or_default();
            if !authority.is_empty() && self.in_domain(&authority) {
                let is_ins = match self.ins.check(&id) {
                    Ok(found) => found.is_some(),
                    Err(error) => return Err(IdError::Ins { index, error }),
                };
                if id.id_number().is_empty() {
                    return Err(IdError::Form {
                        index,
                        message: format!("{}: CX.1 (id number) is empty", id.format()),
                    });
                }
                let stored = Self::stored_form(&id, &authority, is_ins);
                if let Err(message) = stored.check_patient_id_form() {
                    return Err(IdError::Form {
                        index,
                        message: format!("{}: {message}", id.format()),
                    });
                }
                if !domain
                    .iter()
                    .any(|(_, known, _)| canonical(known) == canonical(&stored))
                {
                    domain.push((index, stored, is_ins));
                }
            } else if !id.id_number().is_empty() && id.assigning_authority().is_some() {
                let key = canonical(&id);
                if !locals.iter().any(|known| canonical(known) == key) {
                    locals.push(id);
                }
            }
        }
        let chosen = match domain.len() {
            0 => {
                return Err(IdError::NoDomainId(format!(
                    "no identifier of the affinity domain ({}) among {}",
                    self.describe_domains(),
                    ids.iter().map(Cx::format).collect::<Vec<_>>().join(", ")
                )));
            }
            1 => 0,
            _ => {
                let ins: Vec<usize> = domain
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, _, is_ins))| *is_ins)
                    .map(|(position, _)| position)
                    .collect();
                if ins.len() != 1 {
                    return Err(IdError::Several(format!(
                        "several identifiers of the affinity domain: {}",
                        domain
                            .iter()
                            .map(|(_, id, _)| id.format())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
                ins[0]
            }
        };
        let (_, patient, _) = domain.remove(chosen);
        // The other domain ids (only with "any") are linked like local ids.
        locals.extend(domain.into_iter().map(|(_, id, _)| id));
        Ok((patient, locals))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx(text: &str) -> Cx {
        Cx::parse(text).expect("CX")
    }

    #[test]
    fn the_ins_is_the_patient_id_and_other_ids_are_linked() {
        let policy = IdentityPolicy::default();
        let (patient, locals) = policy
            .split(&[
                cx("IPP42^^^HOSP&1.2.250.1.999.1&ISO^PI"),
                cx("185057800608491^^^&1.2.250.1.213.1.4.8&ISO^INS"),
            ])
            .expect("one INS");
        assert_eq!(
            patient.format(),
            "185057800608491^^^&1.2.250.1.213.1.4.8&ISO^NH"
        );
        assert_eq!(locals, vec![cx("IPP42^^^HOSP&1.2.250.1.999.1&ISO^PI")]);
    }

    #[test]
    fn refused_and_missing_domain_ids_are_named() {
        let policy = IdentityPolicy::default();
        let error = policy
            .split(&[cx("185057800608491^^^&1.2.250.1.213.1.4.10&ISO")])
            .expect_err("test INS in production");
        assert!(matches!(error, IdError::Ins { index: 0, .. }), "{error}");
        assert!(
            error.to_string().contains("1.2.250.1.213.1.4.10"),
            "{error}"
        );
        let error = policy
            .split(&[cx("IPP42^^^&1.2.250.1.999.1&ISO")])
            .expect_err("no INS");
        assert!(matches!(error, IdError::NoDomainId(_)), "{error}");
        let error = policy
            .split(&[
                cx("IPP^^^&1.2.3&ISO"),
                cx("185057800608492^^^&1.2.250.1.213.1.4.8&ISO"),
            ])
            .expect_err("bad key");
        assert!(matches!(error, IdError::Ins { index: 1, .. }), "{error}");
        let error = IdentityPolicy::default()
            .split(&[
                cx("185057800608491^^^&1.2.250.1.213.1.4.8&ISO"),
                cx("292042A00401249^^^&1.2.250.1.213.1.4.8&ISO"),
            ])
            .expect_err("two INS");
        assert!(matches!(error, IdError::Several(_)), "{error}");
    }

    #[test]
    fn namespaces_are_completed_from_configuration() {
        let mut policy = IdentityPolicy {
            domains: vec![DomainRule::Oid("1.3.6.1.4.1.21367.2005.3.7".to_owned())],
            ..IdentityPolicy::default()
        };
        assert!(policy.split(&[cx("NIST1^^^NIST2005")]).is_err());
        policy.namespaces.insert(
            "NIST2005".to_owned(),
            "1.3.6.1.4.1.21367.2005.3.7".to_owned(),
        );
        let (patient, _) = policy.split(&[cx("NIST1^^^NIST2005")]).expect("completed");
        assert_eq!(patient.format(), "NIST1^^^&1.3.6.1.4.1.21367.2005.3.7&ISO");
        assert_eq!(
            policy
                .check_patient_id(&cx("NIST1^^^&1.3.6.1.4.1.21367.2005.3.7&ISO"))
                .expect("domain id"),
            patient
        );
    }

    #[test]
    fn canonical_keys_ignore_the_type_code() {
        assert_eq!(
            canonical(&cx("185057800608491^^^&1.2.250.1.213.1.4.8&ISO^NH")),
            canonical(&cx("185057800608491^^^&1.2.250.1.213.1.4.8&ISO"))
        );
        assert_ne!(
            canonical(&cx("1^^^&1.2.3&ISO")),
            canonical(&cx("1^^^&1.2.4&ISO"))
        );
    }
}
