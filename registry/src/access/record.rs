//! The per-patient DMP state (dmp-profile.md §4.2-4.4) and the commands that change it.
//! Stored with the patient (postcard; variant and field order are part of the format).

use std::collections::{BTreeMap, BTreeSet};

/// Whether the DMP is open.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DmpStatus {
    Active,
    /// Closed by the holder or by the operator (death, suspension): no professional access.
    /// Reopening restores the same content.
    Closed {
        /// Seconds since the epoch.
        at: i64,
        reason_code: String,
        reason: String,
    },
}

/// One patient's DMP.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DmpRecord {
    pub status: DmpStatus,
    /// Seconds since the epoch of the (last) opening.
    pub opened_at: i64,
    /// The patient opposes bris_de_glace access.
    pub oppose_emergency: bool,
    /// The patient opposes centre_15 (SAMU regulator) access.
    pub oppose_regulator: bool,
    /// Professionals (VIHF NameID) with a valid authorisation, and since when.
    pub authorised: BTreeMap<String, i64>,
    /// Professionals the patient has blocked.
    pub blocked: BTreeSet<String>,
    /// The médecin traitant DMP (NameID): reads everything, masked documents included.
    pub medecin_traitant: Option<String>,
    /// Professionals the patient gave the médecin traitant's rights.
    pub full_rights: BTreeSet<String>,
}

impl DmpRecord {
    /// A freshly opened DMP.
    pub fn opened(at: i64) -> Self {
        Self {
            status: DmpStatus::Active,
            opened_at: at,
            oppose_emergency: false,
            oppose_regulator: false,
            authorised: BTreeMap::new(),
            blocked: BTreeSet::new(),
            medecin_traitant: None,
            full_rights: BTreeSet::new(),
        }
    }

    /// Whether `name_id` reads masked documents (médecin traitant, or given the same rights).
    pub fn has_full_rights(&self, name_id: &str) -> bool {
        self.medecin_traitant.as_deref() == Some(name_id) || self.full_rights.contains(name_id)
    }

    pub fn is_active(&self) -> bool {
        self.status == DmpStatus::Active
    }
}

/// A change to a patient's DMP (operator CLI, SOAP management, setAuthorization).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DmpCommand {
    /// Opens a DMP, or reopens a closed one (its content and settings are restored).
    Open,
    Close {
        reason_code: String,
        reason: String,
    },
    /// setAuthorization AJOUT: the professional's software declares the patient's consent.
    Authorise {
        name_id: String,
    },
    /// setAuthorization SUPPRESSION, or the patient removing a professional from the list.
    Revoke {
        name_id: String,
    },
    Block {
        name_id: String,
    },
    Unblock {
        name_id: String,
    },
    /// Oppositions to the emergency modes (each flag as given).
    Oppose {
        emergency: bool,
        regulator: bool,
    },
    /// Names the médecin traitant DMP (None: no more).
    MedecinTraitant {
        name_id: Option<String>,
    },
    /// Gives (or takes back) the médecin traitant's rights to another professional.
    FullRights {
        name_id: String,
        granted: bool,
    },
}

/// Why a command does not apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("this patient has no DMP")]
    NoDmp,
    #[error("this patient already has an open DMP")]
    AlreadyOpen,
    #[error("this patient's DMP is closed")]
    Closed,
    #[error("{0}")]
    Invalid(String),
}

impl DmpCommand {
    /// A short name (audit, logs).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Close { .. } => "close",
            Self::Authorise { .. } => "authorise",
            Self::Revoke { .. } => "revoke",
            Self::Block { .. } => "block",
            Self::Unblock { .. } => "unblock",
            Self::Oppose { .. } => "oppose",
            Self::MedecinTraitant { .. } => "medecin-traitant",
            Self::FullRights { .. } => "full-rights",
        }
    }

    /// The record after this command, at `now` (seconds since the epoch).
    pub fn apply(&self, record: Option<&DmpRecord>, now: i64) -> Result<DmpRecord, CommandError> {
        let name_ok = |name: &str| {
            if name.trim().is_empty() || name.len() > 256 {
                Err(CommandError::Invalid(
                    "a professional id (NameID) of 1 to 256 characters is required".to_owned(),
                ))
            } else {
                Ok(name.to_owned())
            }
        };
        if let Self::Open = self {
            return match record {
                None => Ok(DmpRecord::opened(now)),
                Some(record) if record.is_active() => Err(CommandError::AlreadyOpen),
                Some(record) => Ok(DmpRecord {
                    status: DmpStatus::Active,
                    opened_at: now,
                    ..record.clone()
                }),
            };
        }
        let mut record = record.cloned().ok_or(CommandError::NoDmp)?;
        if !record.is_active() {
            return Err(CommandError::Closed);
        }
        match self {
            Self::Open => {}
            Self::Close {
                reason_code,
                reason,
            } => {
                if reason_code.trim().is_empty() {
                    return Err(CommandError::Invalid(
                        "closing a DMP needs a reason code".to_owned(),
                    ));
                }
                record.status = DmpStatus::Closed {
                    at: now,
                    reason_code: reason_code.clone(),
                    reason: reason.clone(),
                };
            }
            Self::Authorise { name_id } => {
                record.authorised.insert(name_ok(name_id)?, now);
            }
            Self::Revoke { name_id } => {
                record.authorised.remove(&name_ok(name_id)?);
            }
            Self::Block { name_id } => {
                let name = name_ok(name_id)?;
                // A blocked professional loses the authorisation too.
                record.authorised.remove(&name);
                record.blocked.insert(name);
            }
            Self::Unblock { name_id } => {
                record.blocked.remove(&name_ok(name_id)?);
            }
            Self::Oppose {
                emergency,
                regulator,
            } => {
                record.oppose_emergency = *emergency;
                record.oppose_regulator = *regulator;
            }
            Self::MedecinTraitant { name_id } => {
                record.medecin_traitant = match name_id {
                    Some(name) => Some(name_ok(name)?),
                    None => None,
                };
            }
            Self::FullRights { name_id, granted } => {
                let name = name_ok(name_id)?;
                if *granted {
                    record.full_rights.insert(name);
                } else {
                    record.full_rights.remove(&name);
                }
            }
        }
        Ok(record)
    }
}
